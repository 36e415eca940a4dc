/**
 * scanShardPoison: a shard whose every attempt failed (the host moved it to the poison queue)
 * is recorded as failed — its areas are failed or partial coverage naming the shard, and nothing
 * in them is resolved — and the scan goes on; the shard that settles the last one reconciles.
 */
import { app, type InvocationContext } from '@azure/functions';
import { parseShardMessage, SHARD_POISON_QUEUE } from '../src/jobs/shards';
import { shardQueue } from '../src/jobs/shard-queue';
import { depsFromSettings, shardAndLog, type ScanDeps } from '../src/runtime';

/** Builds the handler around its dependencies (tests pass the simulator's and the test Azurite). */
export function scanShardPoisonHandler(deps: () => Promise<ScanDeps>) {
  return async (item: unknown, context: InvocationContext): Promise<void> => {
    const { step } = await shardAndLog(context, await deps(), parseShardMessage(item), true);
    if (step.enqueue.length) context.extraOutputs.set(shardQueue, step.enqueue);
  };
}

app.storageQueue('scanShardPoison', { queueName: SHARD_POISON_QUEUE, connection: 'AzureWebJobsStorage', extraOutputs: [shardQueue], handler: scanShardPoisonHandler(() => depsFromSettings()) });
