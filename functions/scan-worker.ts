/**
 * scanWorker: runs the scans scanNow queued, with the scan id scanNow answered. A message that is
 * not one of ours, or a scan that throws, is retried by the platform and moved to the poison
 * queue (`m365-audit-scan-requests-poison`) after its retry cap. A scan that reaches its deadline
 * (src/runtime.ts COLLECT_MINUTES) writes its continuation (same scan id) to the same queue; the
 * next invocation resumes its saved progress and reads only the slices not yet done.
 */
import { app, type InvocationContext } from '@azure/functions';
import { parseScanMessage, SCAN_QUEUE, scanQueue } from '../src/jobs/scan-request';
import { shardQueue } from '../src/jobs/shard-queue';
import { depsFromSettings, scanAndLog, scanRecorded, startShardsAndLog, type ScanDeps } from '../src/runtime';
import { loadProgress } from '../src/collect/progress';

/** Builds the handler around its dependencies (tests pass the simulator's and the test Azurite). */
export function scanWorkerHandler(deps: () => Promise<ScanDeps>) {
  return async (item: unknown, context: InvocationContext): Promise<void> => {
    const message = parseScanMessage(item);
    const d = await deps();
    // At-least-once delivery: a message seen again after its scan was recorded is not run twice.
    if (await scanRecorded(d.store, d.tenantId, message.scanId)) {
      context.log(JSON.stringify({ event: 'm365-audit.scan', scanId: message.scanId, outcome: 'already-recorded' }));
      return;
    }
    // M365_AUDIT_SCAN_SHARDS=on: the request becomes shards (README "Shards"); a redelivery of a
    // request already planned (its progress exists) is not planned twice.
    if (d.scanShards) {
      if (await loadProgress(d.store, d.tenantId, message.scanId)) return;
      context.extraOutputs.set(shardQueue, await startShardsAndLog(context, d, { kind: 'run', scanId: message.scanId, ...(message.areas ? { areas: message.areas } : {}), ...(message.confirmResolutions ? { confirmResolutions: true } : {}) }));
      return;
    }
    // A continuation (a scan stopped at its deadline) carries the scan's id: its progress is resumed.
    const run = await scanAndLog(context, d, { kind: 'run', deadline: true, scanId: message.scanId, ...(message.areas ? { areas: message.areas } : {}), ...(message.confirmResolutions ? { confirmResolutions: true } : {}) });
    if (run.kind === 'suspended') context.extraOutputs.set(scanQueue, run.continuation);
  };
}

app.storageQueue('scanWorker', { queueName: SCAN_QUEUE, connection: 'AzureWebJobsStorage', extraOutputs: [scanQueue, shardQueue], handler: scanWorkerHandler(() => depsFromSettings()) });
