/**
 * signInStream: sign-ins at volume, from Entra diagnostic settings streamed to an Event Hub
 * (category SignInLogs), for tenants whose sign-ins outgrow Graph's identity-reports limit
 * (README "Sign-ins at volume"). Registered only with M365_AUDIT_SIGNIN_SOURCE=eventhub; the
 * 15-minute signInWatch then stands aside, and the daily scan leaves the `signins` area to it.
 *
 * Each batch (cardinality many) runs the `signins` area with the batch as its source: the same
 * detector, state, ledger, tickets and sign-in card as the Graph watch (src/runtime.ts,
 * signins/diagnostic.ts for the record shape). Unreadable records are skipped and reported as
 * partial coverage, never retried forever. A batch whose run fails (storage, the ledger lease)
 * throws, and the retry policy runs it again before the trigger checkpoints past it: the Event
 * Hubs trigger checkpoints a batch once its invocation ends, whatever the outcome ("Azure
 * Functions error handling and retries": Event Hubs retries are the function-level retry
 * policy). Retries are unbounded (-1) with a back-off up to 15 minutes, so an outage holds the
 * partition rather than losing sign-ins; the hub's retention (7 days in infra/) bounds it.
 * One partition (infra/main.bicep): batches of one hub are processed in order, one at a time,
 * so the detector state is never updated by two batches at once. host.json gathers up to 100
 * messages (each an Azure Monitor envelope of many records) for up to a minute per invocation,
 * so a run — one directory read and one ledger reconciliation — serves a minute of sign-ins.
 * Connection: the app setting prefix M365_AUDIT_EVENTHUB (identity:
 * M365_AUDIT_EVENTHUB__fullyQualifiedNamespace), hub and consumer group from app settings.
 */
import { app, type InvocationContext } from '@azure/functions';
import { depsFromSettings, streamAndLog, type ScanDeps } from '../src/runtime';

/** Builds the handler around its dependencies (tests pass the simulator's and the test Azurite). */
export function signInStreamHandler(deps: () => Promise<ScanDeps>, source = 'Event Hub') {
  return async (messages: unknown, context: InvocationContext): Promise<void> => {
    const batch = Array.isArray(messages) ? messages : [messages];
    await streamAndLog(context, await deps(), batch, source);
  };
}

if (process.env.M365_AUDIT_SIGNIN_SOURCE === 'eventhub') {
  app.eventHub('signInStream', {
    connection: 'M365_AUDIT_EVENTHUB',
    eventHubName: '%M365_AUDIT_EVENTHUB_NAME%',
    consumerGroup: '%M365_AUDIT_EVENTHUB_CONSUMER_GROUP%',
    cardinality: 'many',
    retry: { strategy: 'exponentialBackoff', maxRetryCount: -1, minimumInterval: 10_000, maximumInterval: 15 * 60_000 },
    handler: signInStreamHandler(() => depsFromSettings(), `Event Hub ${process.env.M365_AUDIT_EVENTHUB_NAME ?? ''}`.trim()),
  });
}
