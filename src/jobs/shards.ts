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
 * - Ranges ({@link RANGED}): the inbox rules (one request per mailbox: latency-bound) and the
 *   sharing of files (per site and drive) are split further once the slice they read is done —
 *   the mailbox candidates of the user directory in ranges of `rangeSizes.mailboxes` (default
 *   {@link DEFAULT_RANGE_SIZES}), the site list in ranges of `rangeSizes.sites` — one message per
 *   range (`range`: its index). A slice no larger than one range is one shard, as before. Each
 *   range keeps its part (`…-<slice>#<i>-part`, a conditional create: a range delivered twice
 *   keeps one part) and its outcome (`…-<slice>#<i>`); the range that finds every outcome there
 *   merges the parts into the slice's progress blob and creates the slice's outcome, after which
 *   the scan goes on as with one shard per slice (one reconciliation, one ledger write).
 * - A failed range (its every attempt threw: the poison step) makes the merged slice partial, its
 *   coverage naming the range ("mailboxes 2001–3000 of 5000 failed: …"), and holds its subjects:
 *   the mailboxes' user ids, the `driveId/` of every drive its sites listed (kept in the range's
 *   checkpoint). Nothing under those holds resolves; with every other range complete the slice
 *   is `gapsHeld`, so the findings of the other ranges still resolve (rules/engine.ts,
 *   findings/ledger.ts). A range partial for its own reasons (a mailbox that kept failing), or a
 *   failed files range whose drives are unknown, leaves the slice partial without `gapsHeld`:
 *   nothing of it resolves, as in an unsharded scan.
 * - Inside a files shard each finished drive is checkpointed (`…-<shard>-cp-drive-<id>`, with
 *   the drive list `…-cp-drives`; collect/files.ts readSharing): a redelivered shard lists nothing
 *   again and reads only the drives it had not finished. The checkpoint holds each drive's new
 *   inventory as pending state, committed with the slice after the ledger write like any other.
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
import { DEFAULT_COLLECT_OPTIONS, ShardCheckpointError, type CollectContext, type CollectOptions, type ShardCheckpoint } from '../collect/context';
import { readSharing, sharingCheckpoint } from '../collect/files';
import { mailboxCandidates, readMailRules } from '../collect/mail';
import type { DirectoryEntry, MailRules, Sharing, Site } from '../collect/snapshot';
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

/** One shard message: the scan and the slice to collect (and, for a ranged slice, which range). */
export interface ShardMessage {
  scanId: string;
  tenantId: string;
  shard: SliceName;
  /** The range's index (0-based) when the slice was split into ranges ({@link RANGED}). */
  range?: number;
}

/** A shard's name in logs: the slice, and `#<range>` for a range. */
export const shardName = (m: Pick<ShardMessage, 'shard' | 'range'>): string => (m.range === undefined ? m.shard : `${m.shard}#${m.range}`);

/**
 * How many records one range shard reads (README "Shards"): mailboxes of the inbox rules, sites
 * (with every drive of theirs) of the files sharing. A slice no larger is not split.
 */
export interface RangeSizes {
  mailboxes: number;
  sites: number;
}

/**
 * Defaults: 1,000 mailboxes (one `$batch` of 20 per ~latency: a few minutes per range, well
 * inside one invocation) and 200 sites (a OneDrive is a site of its own: ~200-400 drives, a
 * full enumeration of 200 drives ≈ 4,400 resource units, under a minute of the 50k band's 6,000
 * RU/min — files budget.ts).
 */
export const DEFAULT_RANGE_SIZES: RangeSizes = { mailboxes: 1000, sites: 200 };

type RangedSlice = 'mailRules' | 'sharing';

/** How a ranged slice is split, collected per range and merged. */
interface RangeSpec {
  /** The slice whose records are split (done before the ranges are planned: SLICE_NEEDS). */
  source: SliceName;
  /** What a record is, in coverage ("mailboxes 1–1000 of 5000"). */
  unit: string;
  size: keyof RangeSizes;
  records(source: Extract<Slice<unknown>, { status: 'complete' | 'partial' }>): unknown[];
  collect(ctx: CollectContext, records: unknown[], source: Slice<unknown>): Promise<Slice<unknown>>;
  merge(parts: unknown[]): unknown;
  /** The holds of a failed range (its subjects), or undefined when they cannot be known. */
  failedHolds(records: unknown[], cp: ShardCheckpoint): Promise<string[] | undefined>;
}

export const RANGED: Record<RangedSlice, RangeSpec> = {
  mailRules: {
    source: 'directory',
    unit: 'mailboxes',
    size: 'mailboxes',
    records: (s) => mailboxCandidates(s.data as DirectoryEntry[]),
    collect: (ctx, records, source) => readMailRules(ctx, records as DirectoryEntry[], source.status === 'partial'),
    merge: (parts) => {
      const all = parts as MailRules[];
      return { mailboxes: all.flatMap((p) => p.mailboxes), withoutMailbox: all.reduce((n, p) => n + p.withoutMailbox, 0) } satisfies MailRules;
    },
    // MAIL-01's subject is the mailbox's user id (rules/mail.ts).
    failedHolds: async (records) => (records as DirectoryEntry[]).map((u) => u.id),
  },
  sharing: {
    source: 'sites',
    unit: 'sites',
    size: 'sites',
    records: (s) => s.data as Site[],
    collect: (ctx, records, source) => readSharing(ctx, records as Site[], source.status === 'partial' ? (source.detail ?? 'some sites unreadable') : undefined),
    merge: (parts) => {
      const all = parts as Sharing[];
      const earlier = all.flatMap((p) => (p.fromEarlierRead ? [p.fromEarlierRead] : []));
      return {
        items: all.flatMap((p) => p.items),
        drives: all.reduce((n, p) => n + p.drives, 0),
        resynced: all.reduce((n, p) => n + p.resynced, 0),
        ...(earlier.length ? { fromEarlierRead: { drives: earlier.reduce((n, e) => n + e.drives, 0), oldestReadAt: earlier.map((e) => e.oldestReadAt).sort()[0] ?? '' } } : {}),
      } satisfies Sharing;
    },
    // FILE-01…03's subjects are `driveId/itemId` (rules/files.ts): the drives its sites listed.
    failedHolds: async (_records, cp) => (await sharingCheckpoint(cp)).drives?.map((id) => `${id}/`),
  },
};

const isRanged = (slice: SliceName): slice is RangedSlice => slice in RANGED;

/** The ranges of a ranged slice, fixed once planned. */
interface RangeDoc {
  total: number;
  size: number;
  count: number;
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
  /** Range sizes of the ranged slices of this scan (absent: a plan of before ranges; not split). */
  ranges?: Partial<Record<RangedSlice, number>>;
  /**
   * The scan's collect options (freshState, fullSignInActivityRead, signInBackfillHours, the
   * overlap…): every shard collects with them, whichever worker or instance takes it, as the
   * one invocation of an unsharded scan would. Absent: a plan of before; the worker's own.
   */
  collectOptions?: Partial<CollectOptions>;
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
/** `shard`: a slice, or `<slice>#<range>` ({@link shardName}). */
const errorKey = (scanId: string, shard: string): string => `${PLAN}-${scanId}-${shard}-error`;
const rangesKey = (scanId: string, slice: SliceName): string => `${PLAN}-${scanId}-${slice}-ranges`;
export const rangeOutcomeKey = (scanId: string, slice: SliceName, range: number): string => `${PLAN}-${scanId}-${slice}#${range}`;
const partKey = (scanId: string, slice: SliceName, range: number): string => `${PLAN}-${scanId}-${slice}#${range}-part`;
/** A shard's checkpoint blob `key` (collect/context.ts ShardCheckpoint). */
export const checkpointKey = (scanId: string, shard: string, key: string): string => `${PLAN}-${scanId}-${shard}-cp-${key}`;

function checkpointOf(store: StatePort, tenantId: string, scanId: string, shard: string): ShardCheckpoint {
  const wrap = async <T>(key: string, op: () => Promise<T>): Promise<T> => {
    try {
      return await op();
    } catch (err) {
      throw new ShardCheckpointError(key, err);
    }
  };
  return {
    get: (key) => wrap(checkpointKey(scanId, shard, key), () => store.getStateBlob(tenantId, checkpointKey(scanId, shard, key))),
    put: (key, value) => wrap(checkpointKey(scanId, shard, key), () => store.putStateBlob(tenantId, checkpointKey(scanId, shard, key), value)),
  };
}
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
  /** Range sizes (default {@link DEFAULT_RANGE_SIZES}; settings M365_AUDIT_SHARD_MAILBOXES, M365_AUDIT_SHARD_SITES). */
  rangeSizes?: Partial<RangeSizes> | undefined;
  /** The scan's collect options, kept in the plan for every shard ({@link ShardPlan.collectOptions}). */
  collectOptions?: Partial<CollectOptions> | undefined;
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
  const sizes = { ...DEFAULT_RANGE_SIZES, ...o.rangeSizes };
  for (const [k, v] of Object.entries(sizes)) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`shard range size ${k} must be a whole number of 1 or more (got ${String(v)}): fix M365_AUDIT_SHARD_${k.toUpperCase()}`);
  }
  const ranges: Partial<Record<RangedSlice, number>> = {};
  for (const [slice, spec] of Object.entries(RANGED) as Array<[RangedSlice, RangeSpec]>) if (wanted.includes(slice)) ranges[slice] = sizes[spec.size];
  const plan: ShardPlan = { version: 1, scanId: o.scanId, tenantId: o.tenantId, areas, ...(o.confirmResolutions ? { confirmResolutions: true } : {}), kind: o.kind ?? 'run', shards, ranges, ...(o.collectOptions && Object.keys(o.collectOptions).length ? { collectOptions: { ...o.collectOptions } } : {}), createdAt: o.now.toISOString() };
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
  if (m.range !== undefined && !(typeof m.range === 'number' && Number.isInteger(m.range) && m.range >= 0)) throw new Error(`queue ${SHARD_QUEUE}: the message's "range" must be a whole number of 0 or more`);
  return { scanId: m.scanId, tenantId: m.tenantId, shard: m.shard as SliceName, ...(typeof m.range === 'number' ? { range: m.range } : {}) };
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
  /** The worker's defaults (its settings); the plan's options, the scan's, win over them. */
  collectOptions?: Partial<CollectOptions>;
  clock?: () => Date;
}

/**
 * Processes one shard message: collects its slice (unless its outcome exists), writes the slice's
 * progress blob and then its outcome, and says what comes next. A range message collects its
 * range into the range's part instead, and the range that completes the set merges them. Throws
 * when the slice could not be written or the credential was refused: the queue retries it.
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
  const name = shardName(message);
  let outcome: ShardStep['outcome'] = 'duplicate';
  const doneKey = message.range === undefined ? outcomeKey(scanId, shard) : rangeOutcomeKey(scanId, shard, message.range);
  // A range whose slice is merged already (every range settled) has nothing left to do either.
  const settled = (await store.getStateBlob(tenantId, doneKey)) || (message.range !== undefined && (await store.getStateBlob(tenantId, outcomeKey(scanId, shard))));
  let ranges: RangeDoc | undefined;
  if (message.range !== undefined) {
    ranges = await readJson<RangeDoc>(store, tenantId, rangesKey(scanId, shard));
    if (!isRanged(shard) || !ranges || message.range >= ranges.count) throw new Error(`scan ${scanId} has no range ${message.range} of shard ${shard}`);
  }
  if (!settled) {
    try {
      // The slices it waits for, from their blobs (a failed one is handed over failed, as in one invocation).
      const done = new Map<SliceName, Slice<unknown>>();
      for (const dep of entry.after) {
        const s = await readJson<Slice<unknown>>(store, tenantId, sliceKey(scanId, dep));
        if (s) done.set(dep, s);
      }
      const runner = sliceRunner(
        { graph: d.graph, now: new Date(progress.startedAt), policy: d.policy, tenantId, store, options: { ...DEFAULT_COLLECT_OPTIONS, ...d.collectOptions, ...plan.collectOptions }, checkpoint: checkpointOf(store, tenantId, scanId, name) },
        undefined,
        { done },
      );
      if (message.range === undefined) {
        const slice = await runner.run(shard);
        if (d.graph.fatal) throw d.graph.fatal;
        await store.putStateBlob(tenantId, sliceKey(scanId, shard), JSON.stringify(slice));
        const result: ShardOutcome = { status: 'done', at: now.toISOString(), slice: slice.status, ...(slice.detail ? { detail: slice.detail } : {}) };
        outcome = (await store.createStateBlob(tenantId, outcomeKey(scanId, shard), JSON.stringify(result))) ? 'collected' : 'duplicate';
      } else {
        const spec = RANGED[shard as RangedSlice];
        const doc = ranges as RangeDoc;
        const source = done.get(spec.source);
        if (!source || source.status === 'failed') throw new Error(`range ${name}: the ${spec.source} slice it splits is gone`);
        const all = spec.records(source);
        if (all.length !== doc.total) throw new Error(`range ${name}: the ${spec.source} slice holds ${all.length} ${spec.unit}, the plan ${doc.total}`);
        let part: Slice<unknown>;
        try {
          part = await spec.collect(runner.ctx, all.slice(message.range * doc.size, (message.range + 1) * doc.size), source);
        } catch (err) {
          // As sliceRunner does: a collector's own failure is the range's result, a failed part.
          if (err instanceof CredentialError || err instanceof ShardCheckpointError) throw err;
          part = { status: 'failed', items: 0, detail: (err as Error).message };
        }
        if (d.graph.fatal) throw d.graph.fatal;
        // The first part kept is the range's (a copy delivered at once keeps the same one).
        await store.createStateBlob(tenantId, partKey(scanId, shard, message.range), JSON.stringify(part));
        const result: ShardOutcome = { status: 'done', at: now.toISOString(), slice: part.status, ...(part.detail ? { detail: part.detail } : {}) };
        outcome = (await store.createStateBlob(tenantId, doneKey, JSON.stringify(result))) ? 'collected' : 'duplicate';
      }
    } catch (err) {
      // Kept for the poison step's coverage detail; the queue retries the message.
      const text = err instanceof CredentialError ? `the credential was refused: ${err.message}` : (err as Error).message;
      await store.putStateBlob(tenantId, errorKey(scanId, name), JSON.stringify({ at: now.toISOString(), message: text })).catch(() => undefined);
      throw err;
    }
  }
  if (message.range !== undefined) return { outcome, ...(await settleRanges(store, plan, shard as RangedSlice, ranges as RangeDoc, name, now)) };
  return { outcome, ...(await advance(store, plan, name)) };
}

/**
 * The poison step: a shard whose every attempt threw is recorded as failed — its slice a failed
 * slice naming why, so its areas are failed or partial coverage and resolve nothing — and the scan
 * goes on. A failed range is recorded as the range's outcome; the merge names it. Never throws
 * for a scan that is gone.
 */
export async function failShard(d: Pick<ShardDeps, 'store' | 'clock'>, message: ShardMessage, attempts?: number): Promise<ShardStep> {
  const store = conditional(d.store);
  const now = (d.clock ?? (() => new Date()))();
  const { scanId, tenantId, shard } = message;
  const plan = await readJson<ShardPlan>(store, tenantId, planKey(scanId));
  if (!plan || !(await loadProgress(store, tenantId, scanId))) return { outcome: 'unknown', enqueue: [], reconcile: false };
  const name = shardName(message);
  let outcome: ShardStep['outcome'] = 'duplicate';
  const last = async (): Promise<string> => {
    const e = await readJson<{ message?: string }>(store, tenantId, errorKey(scanId, name));
    return `shard ${name} failed${attempts ? ` after ${attempts} attempts` : ''} and went to the poison queue ${SHARD_POISON_QUEUE}${e?.message ? `: ${e.message}` : ''}`;
  };
  if (message.range !== undefined) {
    const ranges = await readJson<RangeDoc>(store, tenantId, rangesKey(scanId, shard));
    if (!isRanged(shard) || !ranges || message.range >= ranges.count) return { outcome: 'unknown', enqueue: [], reconcile: false };
    const key = rangeOutcomeKey(scanId, shard, message.range);
    if (!(await store.getStateBlob(tenantId, key)) && !(await store.getStateBlob(tenantId, outcomeKey(scanId, shard)))) {
      // An attempt that kept its part and died before its outcome: the part stands.
      const kept = await readJson<Slice<unknown>>(store, tenantId, partKey(scanId, shard, message.range));
      const result: ShardOutcome = kept ? { status: 'done', at: now.toISOString(), slice: kept.status } : { status: 'failed', at: now.toISOString(), detail: await last() };
      if (await store.createStateBlob(tenantId, key, JSON.stringify(result))) outcome = kept ? 'duplicate' : 'failed';
    }
    return { outcome, ...(await settleRanges(store, plan, shard, ranges, name, now)) };
  }
  if (!(await store.getStateBlob(tenantId, outcomeKey(scanId, shard)))) {
    const detail = await last();
    const slice: Slice<unknown> = { status: 'failed', items: 0, detail };
    await store.putStateBlob(tenantId, sliceKey(scanId, shard), JSON.stringify(slice));
    const result: ShardOutcome = { status: 'failed', at: now.toISOString(), detail };
    if (await store.createStateBlob(tenantId, outcomeKey(scanId, shard), JSON.stringify(result))) outcome = 'failed';
  }
  return { outcome, ...(await advance(store, plan, name)) };
}

/**
 * The messages of a waiting slice that may start now: one, or for a ranged slice larger than one
 * range, one per range (the ranges fixed by a conditional create, so every caller sends the same).
 */
async function messagesOf(store: ShardStore, plan: ShardPlan, slice: SliceName): Promise<ShardMessage[]> {
  const { scanId, tenantId } = plan;
  const one = [{ scanId, tenantId, shard: slice }];
  const size = isRanged(slice) ? plan.ranges?.[slice] : undefined;
  if (!size || !isRanged(slice)) return one;
  const spec = RANGED[slice];
  const source = await readJson<Slice<unknown>>(store, tenantId, sliceKey(scanId, spec.source));
  // A failed or missing input: one shard, whose collector reports it as in one invocation.
  if (!source || source.status === 'failed') return one;
  const total = spec.records(source).length;
  if (total <= size) return one;
  const planned: RangeDoc = { total, size, count: Math.ceil(total / size) };
  const doc = (await store.createStateBlob(tenantId, rangesKey(scanId, slice), JSON.stringify(planned))) ? planned : ((await readJson<RangeDoc>(store, tenantId, rangesKey(scanId, slice))) ?? planned);
  return Array.from({ length: doc.count }, (_, range) => ({ scanId, tenantId, shard: slice, range }));
}

/** "mailboxes 2001–3000 of 5000": a range in coverage. */
function rangeLabel(spec: RangeSpec, doc: RangeDoc, range: number): string {
  return `${spec.unit} ${range * doc.size + 1}–${Math.min(doc.total, (range + 1) * doc.size)} of ${doc.total}`;
}

/**
 * After a range's outcome: once every range of the slice has one, merges their parts into the
 * slice's progress blob and creates the slice's outcome (a merge done twice writes the same
 * slice: parts and outcomes no longer change), then goes on as after any shard.
 */
async function settleRanges(store: ShardStore, plan: ShardPlan, slice: RangedSlice, doc: RangeDoc, by: string, now: Date): Promise<Pick<ShardStep, 'enqueue' | 'reconcile'>> {
  const { scanId, tenantId } = plan;
  if (!(await store.getStateBlob(tenantId, outcomeKey(scanId, slice)))) {
    const outcomes: ShardOutcome[] = [];
    // From the last range down: the one still missing is likelier among the later ones.
    for (let i = doc.count - 1; i >= 0; i--) {
      const o = await readJson<ShardOutcome>(store, tenantId, rangeOutcomeKey(scanId, slice, i));
      if (!o) return { enqueue: [], reconcile: false };
      outcomes[i] = o;
    }
    const merged = await mergeRanges(store, plan, slice, doc, outcomes);
    await store.putStateBlob(tenantId, sliceKey(scanId, slice), JSON.stringify(merged));
    const result: ShardOutcome = { status: merged.status === 'failed' && outcomes.every((o) => o.status === 'failed') ? 'failed' : 'done', at: now.toISOString(), slice: merged.status, ...(merged.detail ? { detail: merged.detail } : {}) };
    await store.createStateBlob(tenantId, outcomeKey(scanId, slice), JSON.stringify(result));
  }
  return advance(store, plan, by);
}

/** One slice from the parts of its ranges (see the module's decisions on failed ranges). */
async function mergeRanges(store: ShardStore, plan: ShardPlan, slice: RangedSlice, doc: RangeDoc, outcomes: readonly ShardOutcome[]): Promise<Slice<unknown>> {
  const { scanId, tenantId } = plan;
  const spec = RANGED[slice];
  const source = await readJson<Slice<unknown>>(store, tenantId, sliceKey(scanId, spec.source));
  const records = source && source.status !== 'failed' ? spec.records(source) : [];
  const parts: Array<Extract<Slice<unknown>, { status: 'complete' | 'partial' }>> = [];
  const details: string[] = [];
  const notes: string[] = [];
  const holds: string[] = [];
  let failed = 0;
  let heldGaps = true;
  for (let i = 0; i < doc.count; i++) {
    const label = rangeLabel(spec, doc, i);
    const outcome = outcomes[i] as ShardOutcome;
    const part = outcome.status === 'done' ? await readJson<Slice<unknown>>(store, tenantId, partKey(scanId, slice, i)) : undefined;
    if (!part || part.status === 'failed') {
      failed++;
      details.push(`${label} failed: ${part?.detail ?? outcome.detail ?? 'its part is missing'}`);
      const held = await spec.failedHolds(records.slice(i * doc.size, (i + 1) * doc.size), checkpointOf(store, tenantId, scanId, `${slice}#${i}`));
      if (held) holds.push(...held);
      else heldGaps = false;
      continue;
    }
    parts.push(part);
    holds.push(...(part.holds ?? []));
    if (part.status === 'partial') {
      heldGaps = false;
      details.push(`${label}: ${part.detail ?? 'partial'}`);
    } else if (part.detail) {
      notes.push(`${label}: ${part.detail}`);
    }
  }
  if (!parts.length) return { status: 'failed', items: 0, detail: details.join('; ') };
  const pending = parts.flatMap((p) => p.pending ?? []);
  const detail = [...details, ...notes].join('; ');
  const status = details.length ? 'partial' : 'complete';
  return {
    status,
    data: spec.merge(parts.map((p) => p.data)),
    items: parts.reduce((n, p) => n + p.items, 0),
    ...(detail ? { detail } : {}),
    ...(parts.some((p) => p.pending) ? { pending } : {}),
    ...(holds.length ? { holds } : {}),
    // Partial only because whole ranges failed, and every subject of theirs is held.
    ...(status === 'partial' && failed > 0 && heldGaps ? { gapsHeld: true } : {}),
  };
}

/** After `by`'s outcome: queues the waiting shards whose inputs are all settled, and claims the reconciliation once all are. */
async function advance(store: ShardStore, plan: ShardPlan, by: string): Promise<Pick<ShardStep, 'enqueue' | 'reconcile'>> {
  const { scanId, tenantId } = plan;
  const settled = new Set<SliceName>();
  for (const s of plan.shards) if (await store.getStateBlob(tenantId, outcomeKey(scanId, s.slice))) settled.add(s.slice);
  const enqueue: ShardMessage[] = [];
  for (const s of plan.shards) {
    if (settled.has(s.slice) || s.after.length === 0 || !s.after.every((n) => settled.has(n))) continue;
    // Queued once; again only by the same shard (its own retry, after it crashed before the message left).
    const mark = JSON.stringify({ by });
    if ((await store.createStateBlob(tenantId, queuedKey(scanId, s.slice), mark)) || (await store.getStateBlob(tenantId, queuedKey(scanId, s.slice))) === mark) {
      enqueue.push(...(await messagesOf(store, plan, s.slice)));
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

/** The checkpoint keys a shard wrote (only files shards keep any). */
async function checkpointKeys(store: StatePort, tenantId: string, scanId: string, slice: SliceName, shard: string): Promise<string[]> {
  if (slice !== 'sharing') return [];
  return (await sharingCheckpoint(checkpointOf(store, tenantId, scanId, shard))).keys.map((k) => checkpointKey(scanId, shard, k));
}

/** After the final step: the plan and the shards' bookkeeping go (the progress is the pipeline's to clear). */
export async function clearShards(store: StatePort, tenantId: string, plan: ShardPlan): Promise<void> {
  if (!store.deleteStateBlob) return;
  for (const s of plan.shards) {
    const keys = [outcomeKey(plan.scanId, s.slice), queuedKey(plan.scanId, s.slice), errorKey(plan.scanId, s.slice), ...(await checkpointKeys(store, tenantId, plan.scanId, s.slice, s.slice))];
    const ranges = isRanged(s.slice) ? await readJson<RangeDoc>(store, tenantId, rangesKey(plan.scanId, s.slice)) : undefined;
    for (let i = 0; i < (ranges?.count ?? 0); i++) {
      const name = `${s.slice}#${i}`;
      keys.push(rangeOutcomeKey(plan.scanId, s.slice, i), partKey(plan.scanId, s.slice, i), errorKey(plan.scanId, name), ...(await checkpointKeys(store, tenantId, plan.scanId, s.slice, name)));
    }
    if (ranges) keys.push(rangesKey(plan.scanId, s.slice));
    for (const key of keys) await store.deleteStateBlob(tenantId, key);
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
