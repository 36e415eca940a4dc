/**
 * Scan shards (issue 14 "Shards"): a scan too large for one invocation is split into one shard
 * per slice, each carried by a message on its own Azure Storage queue ({@link SHARD_QUEUE}) and
 * collected by a queue-triggered function (functions/scan-shard.ts), so that the Functions host
 * scales the slices out across instances. Locally the CLI runs the same steps with Azurite queues
 * and N worker loops (src/jobs/shard-queue.ts, `m365-audit scan --workers N`).
 *
 * Built on the scan progress of collect/progress.ts, not beside it: a shard's result is that
 * slice's progress blob (`scan-progress-<scanId>-<slice>`), and the final step is an ordinary
 * `runScan` of the same scan id that resumes every slice from its blob and collects nothing
 * (`requireProgress`): rules, ledger, plausibility, tickets, alerts and reports exactly as an
 * unsharded scan, pending state committed only after the ledger write.
 *
 * State blobs of a sharded scan (per tenant, beside its progress):
 * - `scan-shards-<scanId>`: the plan — the scan's areas and options, every shard with the shards
 *   it waits for. Written once by whoever starts the scan.
 * - `scan-shards-<scanId>-<slice>`: the shard's outcome (`done`, or `failed` after the poison
 *   queue), created only if absent (a conditional create, StatePort.createStateBlob): a message
 *   processed twice, even at once, leaves one outcome; the second run sees it and collects nothing.
 * - `scan-shards-<scanId>-<slice>-queued`: that a waiting shard was queued, and by which shard
 *   (conditional create: one message per waiting shard, however many shards finish at once).
 * - `scan-shards-<scanId>-<slice>-error`: the last error of a shard attempt (for the poison step's
 *   coverage detail; never a secret: error messages of this code carry none).
 * - `scan-shards-<scanId>-reconcile`: which shard reconciles (conditional create).
 *
 * Decisions (the specs are silent):
 * - One shard per slice. Slices that read another slice (inbox rules and sharing need the user
 *   directory, sharing the site list, users their sign-in activity: {@link SLICE_NEEDS}) wait for
 *   it and are queued once it is done or failed, so nothing is read twice; a slice that does read
 *   a missing one anyway (the table is a hint, not a contract) reads it itself, unsaved.
 *   TODO(lead): user ranges for inbox rules and site/drive ranges for files (issue 14) are the
 *   next split; the plan's shard entries are where a range would go.
 * - A collector's own failure (403, throttling it gave up on) is the shard's *result*, a failed
 *   slice, exactly as in an unsharded scan: it is not retried. A shard retried by the queue is one
 *   whose invocation threw or died (storage, a credential refused, the host killed). After the
 *   queue's retry cap (host.json maxDequeueCount) the poison step records the slice as failed:
 *   its areas are failed or partial coverage and resolve nothing (rules/engine.ts, ledger.ts).
 * - "Last shard finishes → reconcile" without a race: each shard creates its outcome, then reads
 *   every outcome. Of two shards finishing together at least one sees the other's (each reads
 *   after its own write), and the reconcile claim is a conditional create, so exactly one claims.
 *   The claimer's own retry (same shard, a redelivery after a crash) may reconcile again; the
 *   pipeline makes that safe (under the ledger lease a reconciled or cleared progress stops the
 *   run: ScanAlreadyDone).
 */
import type { Policy } from '../config/policy';
import { docKey, loadProgress, saveProgress, sliceKey, type ScanProgress, policyHash, DEFAULT_HOLD_MS } from '../collect/progress';
import type { Slice, SliceName } from '../collect/snapshot';
import { CredentialError } from '../errors';
import type { Graph } from '../graph/graph';
import { IMPLEMENTED_AREAS, sliceRunner } from '../pipeline';
import { DEFAULT_COLLECT_OPTIONS, type CollectOptions } from '../collect/context';
import { slicesFor } from '../rules/engine';
import type { Area } from '../rules/ids';
import { RULES } from '../rules/index';
import type { StatePort } from '../store/ports';

/** The queue of shard messages (Functions: the scanShard trigger). */
export const SHARD_QUEUE = 'm365-audit-scan-shards';
/** Where the Functions host moves a shard message after maxDequeueCount failed attempts. */
export const SHARD_POISON_QUEUE = `${SHARD_QUEUE}-poison`;

/** Which slices a slice's collector reads first (ctx.slice in collect/identity.ts, mail.ts, files.ts). */
export const SLICE_NEEDS: Partial<Record<SliceName, readonly SliceName[]>> = {
  users: ['signInActivity'],
  mailRules: ['directory'],
  mailAuthentication: ['domains'],
  sharing: ['directory', 'sites'],
};

/** One shard message: the scan and the slice to collect. */
export interface ShardMessage {
  scanId: string;
  tenantId: string;
  shard: SliceName;
}

export interface ShardPlan {
  version: 1;
  scanId: string;
  tenantId: string;
  areas: Area[];
  confirmResolutions?: boolean;
  /** Run or sign-in card for the alerts of the final step. */
  kind: 'run' | 'signin';
  shards: Array<{ slice: SliceName; after: SliceName[] }>;
  createdAt: string;
}

export interface ShardOutcome {
  status: 'done' | 'failed';
  at: string;
  /** The slice's status (done) or why the shard failed. */
  slice?: Slice<unknown>['status'];
  detail?: string;
}

const PLAN = 'scan-shards';
export const planKey = (scanId: string): string => `${PLAN}-${scanId}`;
export const outcomeKey = (scanId: string, slice: SliceName): string => `${PLAN}-${scanId}-${slice}`;
const queuedKey = (scanId: string, slice: SliceName): string => `${PLAN}-${scanId}-${slice}-queued`;
const errorKey = (scanId: string, slice: SliceName): string => `${PLAN}-${scanId}-${slice}-error`;
const claimKey = (scanId: string): string => `${PLAN}-${scanId}-reconcile`;

type ShardStore = StatePort & Required<Pick<StatePort, 'createStateBlob'>>;

function conditional(store: StatePort): ShardStore {
  if (!store.createStateBlob) throw new Error('scan shards need a store with conditional writes (createStateBlob): the Azure store or the MemoryStore');
  return store as ShardStore;
}

async function readJson<T>(store: StatePort, tenantId: string, key: string): Promise<T | undefined> {
  const text = await store.getStateBlob(tenantId, key);
  if (!text) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

export interface StartShardsOptions {
  store: StatePort;
  tenantId: string;
  scanId: string;
  policy: Policy;
  /** The Graph root the shards will read (the progress remembers it: collect/progress.ts). */
  graphRoot?: string | undefined;
  areas?: readonly Area[];
  confirmResolutions?: boolean;
  kind?: 'run' | 'signin';
  now: Date;
}

/**
 * Plans a sharded scan: its progress document (no slice done), its plan, and the messages of the
 * shards that wait for nothing — the caller sends them to {@link SHARD_QUEUE}. The shards are
 * the slices an unsharded scan with a store reads (the rules' slices and the user directory).
 */
export async function startShardedScan(o: StartShardsOptions): Promise<{ plan: ShardPlan; messages: ShardMessage[] }> {
  const areas = [...(o.areas ?? IMPLEMENTED_AREAS)];
  const wanted = slicesFor(RULES, areas);
  if (!wanted.includes('directory')) wanted.push('directory');
  // A dependency outside the scan's slices is read by its dependant itself (as in one invocation).
  const shards = wanted.map((slice) => ({ slice, after: (SLICE_NEEDS[slice] ?? []).filter((n) => wanted.includes(n)) }));
  const plan: ShardPlan = { version: 1, scanId: o.scanId, tenantId: o.tenantId, areas, ...(o.confirmResolutions ? { confirmResolutions: true } : {}), kind: o.kind ?? 'run', shards, createdAt: o.now.toISOString() };
  const progress: ScanProgress = {
    version: 1,
    scanId: o.scanId,
    startedAt: o.now.toISOString(),
    graphRoot: o.graphRoot,
    areas,
    policyHash: policyHash(o.policy),
    done: [],
    savedAt: o.now.toISOString(),
    heldUntil: new Date(o.now.getTime() + DEFAULT_HOLD_MS).toISOString(),
  };
  await saveProgress(o.store, o.tenantId, progress);
  await o.store.putStateBlob(o.tenantId, planKey(o.scanId), JSON.stringify(plan));
  const first = shards.filter((s) => s.after.length === 0).map((s) => s.slice);
  // Marked queued by the plan itself, so that no finishing shard queues them again.
  for (const slice of first) await conditional(o.store).createStateBlob(o.tenantId, queuedKey(o.scanId, slice), JSON.stringify({ by: 'plan' }));
  return { plan, messages: first.map((shard) => ({ scanId: o.scanId, tenantId: o.tenantId, shard })) };
}

/** Checks a shard message (JSON, as an object or text; base64 is the host's to decode). A message that is not one throws: retried, then poison. */
export function parseShardMessage(item: unknown): ShardMessage {
  let value = item;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      throw new Error(`queue ${SHARD_QUEUE}: the message is not JSON; it must be {"scanId","tenantId","shard"}`);
    }
  }
  const m = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  if (typeof m.scanId !== 'string' || typeof m.tenantId !== 'string' || typeof m.shard !== 'string') throw new Error(`queue ${SHARD_QUEUE}: the message must be {"scanId","tenantId","shard"}`);
  return { scanId: m.scanId, tenantId: m.tenantId, shard: m.shard as SliceName };
}

/** What the step after a shard found: shards to queue now, and whether this run must reconcile. */
export interface ShardStep {
  /** `collected`: this run read the slice; `duplicate`: its outcome existed (a redelivery); `unknown`: no such scan (finished and cleared, or never planned). */
  outcome: 'collected' | 'duplicate' | 'failed' | 'unknown';
  enqueue: ShardMessage[];
  reconcile: boolean;
}

export interface ShardDeps {
  store: StatePort;
  policy: Policy;
  graph: Graph;
  collectOptions?: Partial<CollectOptions>;
  clock?: () => Date;
}

/**
 * Processes one shard message: collects its slice (unless its outcome exists), writes the slice's
 * progress blob and then its outcome, and says what comes next. Throws when the slice could not be
 * written or the credential was refused: the queue retries it.
 */
export async function processShard(d: ShardDeps, message: ShardMessage): Promise<ShardStep> {
  const store = conditional(d.store);
  const now = (d.clock ?? (() => new Date()))();
  const { scanId, tenantId, shard } = message;
  const plan = await readJson<ShardPlan>(store, tenantId, planKey(scanId));
  const progress = await loadProgress(store, tenantId, scanId);
  if (!plan || !progress) return { outcome: 'unknown', enqueue: [], reconcile: false };
  const entry = plan.shards.find((s) => s.slice === shard);
  if (!entry) throw new Error(`scan ${scanId} has no shard ${shard}`);
  let outcome: ShardStep['outcome'] = 'duplicate';
  if (!(await store.getStateBlob(tenantId, outcomeKey(scanId, shard)))) {
    try {
      // The slices it waits for, from their blobs (a failed one is handed over failed, as in one invocation).
      const done = new Map<SliceName, Slice<unknown>>();
      for (const dep of entry.after) {
        const s = await readJson<Slice<unknown>>(store, tenantId, sliceKey(scanId, dep));
        if (s) done.set(dep, s);
      }
      const runner = sliceRunner(
        { graph: d.graph, now: new Date(progress.startedAt), policy: d.policy, tenantId, store, options: { ...DEFAULT_COLLECT_OPTIONS, ...d.collectOptions } },
        undefined,
        { done },
      );
      const slice = await runner.run(shard);
      if (d.graph.fatal) throw d.graph.fatal;
      await store.putStateBlob(tenantId, sliceKey(scanId, shard), JSON.stringify(slice));
      const result: ShardOutcome = { status: 'done', at: now.toISOString(), slice: slice.status, ...(slice.detail ? { detail: slice.detail } : {}) };
      outcome = (await store.createStateBlob(tenantId, outcomeKey(scanId, shard), JSON.stringify(result))) ? 'collected' : 'duplicate';
    } catch (err) {
      // Kept for the poison step's coverage detail; the queue retries the message.
      const text = err instanceof CredentialError ? `the credential was refused: ${err.message}` : (err as Error).message;
      await store.putStateBlob(tenantId, errorKey(scanId, shard), JSON.stringify({ at: now.toISOString(), message: text })).catch(() => undefined);
      throw err;
    }
  }
  return { outcome, ...(await advance(store, plan, shard)) };
}

/**
 * The poison step: a shard whose every attempt threw is recorded as failed — its slice a failed
 * slice naming why, so its areas are failed or partial coverage and resolve nothing — and the scan
 * goes on. Never throws for a scan that is gone.
 */
export async function failShard(d: Pick<ShardDeps, 'store' | 'clock'>, message: ShardMessage, attempts?: number): Promise<ShardStep> {
  const store = conditional(d.store);
  const now = (d.clock ?? (() => new Date()))();
  const { scanId, tenantId, shard } = message;
  const plan = await readJson<ShardPlan>(store, tenantId, planKey(scanId));
  if (!plan || !(await loadProgress(store, tenantId, scanId))) return { outcome: 'unknown', enqueue: [], reconcile: false };
  let outcome: ShardStep['outcome'] = 'duplicate';
  if (!(await store.getStateBlob(tenantId, outcomeKey(scanId, shard)))) {
    const last = await readJson<{ message?: string }>(store, tenantId, errorKey(scanId, shard));
    const detail = `shard ${shard} failed${attempts ? ` after ${attempts} attempts` : ''} and went to the poison queue ${SHARD_POISON_QUEUE}${last?.message ? `: ${last.message}` : ''}`;
    const slice: Slice<unknown> = { status: 'failed', items: 0, detail };
    await store.putStateBlob(tenantId, sliceKey(scanId, shard), JSON.stringify(slice));
    const result: ShardOutcome = { status: 'failed', at: now.toISOString(), detail };
    if (await store.createStateBlob(tenantId, outcomeKey(scanId, shard), JSON.stringify(result))) outcome = 'failed';
  }
  return { outcome, ...(await advance(store, plan, shard)) };
}

/** After `by`'s outcome: queues the waiting shards whose inputs are all settled, and claims the reconciliation once all are. */
async function advance(store: ShardStore, plan: ShardPlan, by: SliceName): Promise<Pick<ShardStep, 'enqueue' | 'reconcile'>> {
  const { scanId, tenantId } = plan;
  const settled = new Set<SliceName>();
  for (const s of plan.shards) if (await store.getStateBlob(tenantId, outcomeKey(scanId, s.slice))) settled.add(s.slice);
  const enqueue: ShardMessage[] = [];
  for (const s of plan.shards) {
    if (settled.has(s.slice) || s.after.length === 0 || !s.after.every((n) => settled.has(n))) continue;
    // Queued once; again only by the same shard (its own retry, after it crashed before the message left).
    const mark = JSON.stringify({ by });
    if ((await store.createStateBlob(tenantId, queuedKey(scanId, s.slice), mark)) || (await store.getStateBlob(tenantId, queuedKey(scanId, s.slice))) === mark) {
      enqueue.push({ scanId, tenantId, shard: s.slice });
    }
  }
  if (settled.size < plan.shards.length) return { enqueue, reconcile: false };
  const claim = JSON.stringify({ by });
  const reconcile = (await store.createStateBlob(tenantId, claimKey(scanId), claim)) || (await store.getStateBlob(tenantId, claimKey(scanId))) === claim;
  return { enqueue, reconcile };
}

/**
 * Before the final step: the scan's progress names every shard's slice as done (each has its
 * blob), so that `runScan` with `requireProgress` resumes them all and reads nothing. Returns the
 * plan (its areas and options are the final run's).
 */
export async function prepareReconcile(store: StatePort, tenantId: string, scanId: string): Promise<ShardPlan | undefined> {
  const plan = await readJson<ShardPlan>(store, tenantId, planKey(scanId));
  const progress = await loadProgress(store, tenantId, scanId);
  if (!plan || !progress || progress.reconciled) return undefined;
  await saveProgress(store, tenantId, { ...progress, done: plan.shards.map((s) => s.slice) });
  return plan;
}

/** After the final step: the plan and the shards' bookkeeping go (the progress is the pipeline's to clear). */
export async function clearShards(store: StatePort, tenantId: string, plan: ShardPlan): Promise<void> {
  if (!store.deleteStateBlob) return;
  for (const s of plan.shards) {
    for (const key of [outcomeKey(plan.scanId, s.slice), queuedKey(plan.scanId, s.slice), errorKey(plan.scanId, s.slice)]) await store.deleteStateBlob(tenantId, key);
  }
  await store.deleteStateBlob(tenantId, claimKey(plan.scanId));
  await store.deleteStateBlob(tenantId, planKey(plan.scanId));
}

/** The outcomes of a scan's shards so far (tests, the CLI's progress lines). */
export async function shardOutcomes(store: StatePort, tenantId: string, scanId: string): Promise<Partial<Record<SliceName, ShardOutcome>>> {
  const plan = await readJson<ShardPlan>(store, tenantId, planKey(scanId));
  const out: Partial<Record<SliceName, ShardOutcome>> = {};
  for (const s of plan?.shards ?? []) {
    const o = await readJson<ShardOutcome>(store, tenantId, outcomeKey(scanId, s.slice));
    if (o) out[s.slice] = o;
  }
  return out;
}

export { docKey };
