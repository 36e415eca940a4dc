/**
 * The shard queues: the Functions output binding (scanShard, tenantScan and scanWorker write shard
 * messages through it), and for the CLI (`m365-audit scan --workers N`) the same queues on
 * Azurite or a storage account through @azure/storage-queue, with worker loops that behave as the
 * Functions host's queue trigger does (README "Shards"):
 * - a message is received with a visibility timeout (host.json `visibilityTimeout` is the retry
 *   delay after a failure; the lease on a message being processed is the host's own, renewed);
 * - on success the message is deleted and the messages the step asked for are sent;
 * - on failure it becomes visible again after the retry delay, and once it has been dequeued
 *   maxDequeueCount times (host.json, 3 here) it is moved to `<queue>-poison`, which a second loop
 *   reads as the scanShardPoison function does.
 * Messages are base64-encoded JSON: the host's default `messageEncoding` (Azure Functions "Azure
 * Queue storage trigger": host.json extensions.queues.messageEncoding, default base64), so a
 * message the CLI writes is one the Functions read and the other way round.
 */
import { output } from '@azure/functions';
import { QueueClient, QueueServiceClient } from '@azure/storage-queue';
import { randomUUID } from 'node:crypto';
import type { RangeSizes, ShardMessage } from './shards';
import { SHARD_POISON_QUEUE, SHARD_QUEUE, parseShardMessage } from './shards';
import { runScanJob, type ScanJobOptions, type ScanJobResult } from './scan';
import { shardAndLog, startShardsAndLog, type JobLogger, type ScanDeps, type ScanRequest, type ScanRun } from '../runtime';

/** The shard queue's output binding (identity-based through AzureWebJobsStorage__accountName in Azure). */
export const shardQueue = output.storageQueue({ queueName: SHARD_QUEUE, connection: 'AzureWebJobsStorage' });

const encode = (m: ShardMessage): string => Buffer.from(JSON.stringify(m), 'utf8').toString('base64');

/** A message's text: base64 JSON as the host writes it, or plain JSON. */
export function decodeShardMessage(text: string): ShardMessage {
  const trimmed = text.trim();
  return parseShardMessage(trimmed.startsWith('{') ? trimmed : Buffer.from(trimmed, 'base64').toString('utf8'));
}

export interface ShardQueues {
  queue: QueueClient;
  poison: QueueClient;
}

/** The shard queue and its poison queue of an account (created when missing); `name` overrides the queue's name. */
export async function openShardQueues(connectionString: string, name = SHARD_QUEUE): Promise<ShardQueues> {
  const service = QueueServiceClient.fromConnectionString(connectionString);
  const queue = service.getQueueClient(name);
  const poison = service.getQueueClient(name === SHARD_QUEUE ? SHARD_POISON_QUEUE : `${name}-poison`);
  await queue.createIfNotExists();
  await poison.createIfNotExists();
  return { queue, poison };
}

/** Sends shard messages. */
export async function sendShards(queue: QueueClient, messages: readonly ShardMessage[]): Promise<void> {
  for (const m of messages) await queue.sendMessage(encode(m));
}

export interface WorkerLoopOptions {
  queues: ShardQueues;
  /** Concurrent worker loops (each takes one message at a time). */
  workers: number;
  /** Processes a shard; returns the messages to send next. A throw is a failed attempt. */
  handle(message: ShardMessage): Promise<readonly ShardMessage[]>;
  /** Processes a shard from the poison queue (records it failed); returns the messages to send next. */
  poisoned(message: ShardMessage): Promise<readonly ShardMessage[]>;
  /** True once the work is over (the scan is reconciled): the loops stop. */
  finished(): boolean;
  /** host.json maxDequeueCount (default 3). */
  maxDequeueCount?: number;
  /** How long a received message stays invisible while it is processed (default 300 s). */
  visibilityTimeoutSeconds?: number;
  /** Delay before a failed message is visible again (default 1 s; the host uses host.json visibilityTimeout). */
  retryDelaySeconds?: number;
  /** Idle poll interval (default 200 ms). */
  pollMs?: number;
  /** Stops the loops when nothing can finish the work (default: 10 minutes without any message). */
  idleTimeoutMs?: number;
  /** Hears each failed attempt (the CLI prints it). */
  onFailure?(message: ShardMessage | undefined, attempt: number, error: Error): void;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `workers` loops over the shard queue and its poison queue until `finished()`. Rejects when
 * a poison message itself keeps failing (its step cannot be done: storage is gone), or when no
 * message arrived for `idleTimeoutMs` while the work is not finished.
 */
export async function runShardWorkers(o: WorkerLoopOptions): Promise<void> {
  const max = o.maxDequeueCount ?? 3;
  const visibility = o.visibilityTimeoutSeconds ?? 300;
  const retry = o.retryDelaySeconds ?? 1;
  const poll = o.pollMs ?? 200;
  const idle = o.idleTimeoutMs ?? 600_000;
  let lastActivity = Date.now();
  let fatal: Error | undefined;
  const take = async (queue: QueueClient, poisonQueue: boolean): Promise<boolean> => {
    const got = await queue.receiveMessages({ numberOfMessages: 1, visibilityTimeout: visibility });
    const item = got.receivedMessageItems[0];
    if (!item) return false;
    lastActivity = Date.now();
    let message: ShardMessage | undefined;
    try {
      message = decodeShardMessage(item.messageText);
      const next = poisonQueue ? await o.poisoned(message) : await o.handle(message);
      await sendShards(o.queues.queue, next);
      await queue.deleteMessage(item.messageId, item.popReceipt);
    } catch (err) {
      o.onFailure?.(message, item.dequeueCount, err as Error);
      if (item.dequeueCount >= max) {
        if (poisonQueue) {
          fatal ??= new Error(`the poison step of shard ${message?.shard ?? '(unreadable)'} failed ${item.dequeueCount} times: ${(err as Error).message}`);
        } else {
          // As the host does: the message moves to the poison queue after its last attempt.
          await o.queues.poison.sendMessage(item.messageText);
          await queue.deleteMessage(item.messageId, item.popReceipt);
        }
      } else {
        await queue.updateMessage(item.messageId, item.popReceipt, undefined, retry).catch(() => undefined);
      }
    }
    return true;
  };
  const loop = async (): Promise<void> => {
    while (!o.finished() && !fatal) {
      if ((await take(o.queues.queue, false)) || (await take(o.queues.poison, true))) continue;
      if (Date.now() - lastActivity > idle) {
        fatal ??= new Error(`no shard message arrived for ${Math.round(idle / 1000)} s and the scan is not finished`);
        break;
      }
      await sleep(poll);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, o.workers) }, loop));
  if (fatal) throw fatal;
}

export interface LocalShardedScan {
  /** The storage account (or Azurite) whose queue service carries the shards. */
  connectionString: string;
  workers: number;
  /** Policy, tenant, store and Graph of every shard (one Graph shared: its budgets are the tenant's). */
  deps: ScanDeps;
  /** The final step's scan job (its reports, sinks, alerts): run with the scan id, resuming every shard's slice. */
  job: ScanJobOptions;
  /** Hears the shard and scan log lines. */
  logger: JobLogger;
  scanId?: string;
  /** Range sizes of the inbox-rules and files shards (default: deps.shardRanges, then jobs/shards.ts DEFAULT_RANGE_SIZES). */
  rangeSizes?: Partial<RangeSizes>;
  /** Default `m365-audit-scan-shards-cli-<scan>`: this run's own queues, deleted at the end. */
  queueName?: string;
  worker?: Partial<Pick<WorkerLoopOptions, 'maxDequeueCount' | 'visibilityTimeoutSeconds' | 'retryDelaySeconds' | 'pollMs' | 'idleTimeoutMs' | 'onFailure'>>;
}

/**
 * A sharded scan in this process (the CLI's `scan --workers N`; the benchmark can call it the
 * same way): plans it, queues its first shards on queues of its own (so a Function app on the
 * same account never takes them), runs N worker loops until the final step has run, deletes the
 * queues. Returns the final step's job, as runScanJob does without shards.
 */
export async function runShardedScanLocally(o: LocalShardedScan): Promise<ScanJobResult & { scanId: string }> {
  const scanId = o.scanId ?? randomUUID();
  const queues = await openShardQueues(o.connectionString, o.queueName ?? `${SHARD_QUEUE}-cli-${scanId.slice(0, 8)}`);
  let finished: ScanJobResult | undefined;
  const deps: ScanDeps = o.rangeSizes ? { ...o.deps, shardRanges: { ...o.deps.shardRanges, ...o.rangeSizes } } : o.deps;
  const finalStep = async (request: ScanRequest): Promise<ScanRun> => {
    finished = await runScanJob({ ...o.job, scanId, resume: true, requireProgress: true, ...(request.areas ? { areas: request.areas } : {}) });
    return { kind: 'finished', job: finished };
  };
  try {
    const first = await startShardsAndLog(o.logger, deps, { kind: 'run', scanId, ...(o.job.areas ? { areas: o.job.areas } : {}), ...(o.job.confirmResolutions ? { confirmResolutions: true } : {}) });
    await sendShards(queues.queue, first);
    await runShardWorkers({
      queues,
      workers: o.workers,
      ...o.worker,
      handle: async (m) => (await shardAndLog(o.logger, deps, m, false, finalStep)).step.enqueue,
      poisoned: async (m) => (await shardAndLog(o.logger, deps, m, true, finalStep)).step.enqueue,
      finished: () => finished !== undefined,
    });
  } finally {
    await queues.queue.deleteIfExists().catch(() => undefined);
    await queues.poison.deleteIfExists().catch(() => undefined);
  }
  if (!finished) throw new Error(`scan ${scanId}: the shards finished without a reconciliation`);
  return { ...(finished as ScanJobResult), scanId };
}
