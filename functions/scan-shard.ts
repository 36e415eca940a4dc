/**
 * scanShard: one shard of a sharded scan (M365_AUDIT_SCAN_SHARDS=on; src/jobs/shards.ts): reads
 * its slice into the scan's progress and queues the shards that waited for it; the shard that
 * settles the last one runs the scan's one reconciliation (ledger, tickets, alerts, reports). A
 * shard that throws is retried by the host (host.json extensions.queues: maxDequeueCount 3,
 * visibilityTimeout 1 min between attempts) and then moved to `m365-audit-scan-shards-poison`,
 * which scanShardPoison reads. batchSize 1 per instance: the host scales shards out across
 * instances, and one instance's Graph budget serves one shard at a time.
 */
import { app, type InvocationContext } from '@azure/functions';
import { parseShardMessage, SHARD_QUEUE } from '../src/jobs/shards';
import { shardQueue } from '../src/jobs/shard-queue';
import { depsFromSettings, shardAndLog, type ScanDeps } from '../src/runtime';

/** Builds the handler around its dependencies (tests pass the simulator's and the test Azurite). */
export function scanShardHandler(deps: () => Promise<ScanDeps>) {
  return async (item: unknown, context: InvocationContext): Promise<void> => {
    const message = parseShardMessage(item);
    const { step } = await shardAndLog(context, await deps(), message);
    if (step.enqueue.length) context.extraOutputs.set(shardQueue, step.enqueue);
  };
}

app.storageQueue('scanShard', { queueName: SHARD_QUEUE, connection: 'AzureWebJobsStorage', extraOutputs: [shardQueue], handler: scanShardHandler(() => depsFromSettings()) });
