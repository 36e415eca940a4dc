/**
 * The shard queues: the Functions output binding (scanShard, tenantScan and scanWorker write shard
 * messages through it), and for the CLI (`m365-audit scan --workers N`) the same queues on
 * Azurite or a storage account through @azure/storage-queue, with worker loops that behave as the
 * Functions host's queue trigger does (README "Shards"):
 * - a message is received with a visibility timeout (host.json `visibilityTimeout` is the retry
 *   delay after a failure) and, while its shard runs, kept invisible by renewing that timeout
 *   every third of it (updateMessage with the latest pop receipt), as the host renews the lease of
 *   a message it is processing: a long shard is not delivered to a second worker meanwhile;
 * - a message whose lease was lost all the same (a renewal too late, a worker paused: the delete
 *   or update answers 404 MessageNotFound or 400 PopReceiptMismatch) is another worker's now: the
 *   loop notes it and goes on; the shard's own idempotency (create-only outcome blobs,
 *   jobs/shards.ts) keeps its result single;
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
import { SHARD_POISON_QUEUE, SHARD_QUEUE, parseShardMessage, shardName } from './shards';
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
  /** Hears a message whose lease was lost (another worker has it now); the loop goes on. */
  onLeaseLost?(message: ShardMessage | undefined, operation: 'renew' | 'delete' | 'retry', error: Error): void;
}

/**
 * A pop receipt that no longer holds the message: Azurite and Azure answer 404 MessageNotFound
 * ("The specified message does not exist") once the message was received again or deleted, and
 * Azure 400 PopReceiptMismatch for a receipt a later receive replaced (Queue service error codes).
 */
export function isLeaseLost(err: unknown): boolean {
  const e = err as { statusCode?: number; code?: string; details?: { errorCode?: string } };
  const code = e?.code ?? e?.details?.errorCode;
  return e?.statusCode === 404 || code === 'MessageNotFound' || code === 'PopReceiptMismatch';
}

/**
 * Keeps a received message invisible while its shard runs: every `everyMs` its visibility is set
 * to `visibilitySeconds` again with the latest pop receipt (each update returns a new one).
 * Renewals run one after another; `stop` waits for the one in flight and returns the receipt to
 * delete with, or undefined when the lease was lost (404/PopReceiptMismatch).
 */
function keepLeased(queue: QueueClient, messageId: string, popReceipt: string, visibilitySeconds: number, everyMs: number, lost: (err: Error) => void): { stop(): Promise<string | undefined>; receipt(): string | undefined } {
  let receipt: string | undefined = popReceipt;
  let chain: Promise<void> = Promise.resolve();
  const renew = async (): Promise<void> => {
    if (receipt === undefined) return;
    try {
      const r = await queue.updateMessage(messageId, receipt, undefined, visibilitySeconds);
      if (r.popReceipt) receipt = r.popReceipt;
    } catch (err) {
      if (isLeaseLost(err)) {
        receipt = undefined;
        clearInterval(timer);
        lost(err as Error);
      }
      // Any other error (storage briefly unreachable): the next renewal tries again.
    }
  };
  const timer = setInterval(() => {
    chain = chain.then(renew);
  }, everyMs);
  return {
    receipt: () => receipt,
    stop: async () => {
      clearInterval(timer);
      await chain;
      return receipt;
    },
  };
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
  // A third of the visibility timeout: two renewals may fail (storage briefly away) before the message shows again.
  const renewMs = Math.max(100, Math.floor((visibility * 1000) / 3));
  const take = async (queue: QueueClient, poisonQueue: boolean): Promise<boolean> => {
    const got = await queue.receiveMessages({ numberOfMessages: 1, visibilityTimeout: visibility });
    const item = got.receivedMessageItems[0];
    if (!item) return false;
    lastActivity = Date.now();
    let message: ShardMessage | undefined;
    const lease = keepLeased(queue, item.messageId, item.popReceipt, visibility, renewMs, (err) => o.onLeaseLost?.(message, 'renew', err));
    /** Deletes or updates the message with the lease's receipt; a lost lease is noted, not thrown. */
    const settle = async (operation: 'delete' | 'retry', op: (receipt: string) => Promise<unknown>): Promise<void> => {
      const receipt = await lease.stop();
      if (receipt === undefined) return;
      try {
        await op(receipt);
      } catch (err) {
        if (!isLeaseLost(err)) throw err;
        o.onLeaseLost?.(message, operation, err as Error);
      }
    };
    try {
      try {
        message = decodeShardMessage(item.messageText);
        const next = poisonQueue ? await o.poisoned(message) : await o.handle(message);
        await sendShards(o.queues.queue, next);
        await settle('delete', (receipt) => queue.deleteMessage(item.messageId, receipt));
      } catch (err) {
        o.onFailure?.(message, item.dequeueCount, err as Error);
        if (item.dequeueCount >= max) {
          if (poisonQueue) {
            fatal ??= new Error(`the poison step of shard ${message?.shard ?? '(unreadable)'} failed ${item.dequeueCount} times: ${(err as Error).message}`);
          } else {
            // As the host does: the message moves to the poison queue after its last attempt (a
            // copy there twice, should another worker hold it too, is one failShard: create-only outcomes).
            await o.queues.poison.sendMessage(item.messageText);
            await settle('delete', (receipt) => queue.deleteMessage(item.messageId, receipt));
          }
        } else {
          await settle('retry', (receipt) => queue.updateMessage(item.messageId, receipt, undefined, retry)).catch(() => undefined);
        }
      }
    } finally {
      await lease.stop();
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
  worker?: Partial<Pick<WorkerLoopOptions, 'maxDequeueCount' | 'visibilityTimeoutSeconds' | 'retryDelaySeconds' | 'pollMs' | 'idleTimeoutMs' | 'onFailure' | 'onLeaseLost'>>;
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
    const first = await startShardsAndLog(o.logger, deps, { kind: 'run', scanId, ...(o.job.areas ? { areas: o.job.areas } : {}), ...(o.job.confirmResolutions ? { confirmResolutions: true } : {}), ...(o.job.collectOptions ? { collectOptions: o.job.collectOptions } : {}) });
    await sendShards(queues.queue, first);
    await runShardWorkers({
      queues,
      workers: o.workers,
      onLeaseLost: (m, operation, err) =>
        o.logger.warn(JSON.stringify({ event: 'm365-audit.shard-lease', scanId, ...(m ? { shard: shardName(m) } : {}), operation, outcome: 'lost', detail: `another worker holds the message now: ${err.message}` })),
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
