/**
 * The scan pipeline: collectors (concurrently, within Graph's budgets) → Snapshot (+ coverage)
 * → rules → exceptions → scan record. No console output and no process exit here: the CLI and
 * the Functions handlers both call it and decide how to report.
 */
import { randomUUID } from 'node:crypto';
import type { Policy } from './config/policy';
import { DEFAULT_COLLECT_OPTIONS, ShardCheckpointError, type CollectContext, type CollectOptions, type SignInStreamBatch } from './collect/context';
import { COLLECTORS } from './collect/index';
import { commitPending, type PendingState } from './collect/pending';
import { clearProgress, DEFAULT_HOLD_MS, latestScanId, loadProgress, loadSlices, pointAt, policyHash, saveProgress, saveSlice, unusable, type ScanProgress } from './collect/progress';
import type { Slice, SliceName, Snapshot } from './collect/snapshot';
import { CredentialError } from './errors';
import { applyExceptions } from './findings/exceptions';
import type { Finding } from './findings/finding';
import type { Graph, GraphStats } from './graph/graph';
import { evaluate, slicesFor } from './rules/engine';
import { AREAS, SEVERITIES, type Area, type Severity } from './rules/ids';
import { RULES } from './rules/index';
import type { AnyRule } from './rules/rule';
import type { EvidencePort, LedgerPort, ScanPort, StatePort } from './store/ports';
import { appendEvidence, evidenceDraft, stateHeadHint } from './store/evidence';
import type { ScanRecord } from './store/store';
import { reconcile, type HeldArea, type LedgerEntry } from './findings/ledger';
import { baselinesFrom, checkPlausibility, markSuspects, plausibleCounts } from './findings/plausibility';
import { syncTickets, type TicketSummary } from './tickets/tickets';
import type { TicketSink } from './tickets/sink';
import { accessInventory, recordInventory } from './digest/inventory';
import { deliverAlerts, type AlertOptions, type AlertSummary } from './alerts/deliver';
import type { ReportLedger } from './report/view';

/** What sinks may look up in the scan's user directory (Planner assigns by object id). */
export interface DirectoryLookup {
  userIdOf(address: string): string | undefined;
}

/** Areas whose collectors and rules exist in this release. */
export const IMPLEMENTED_AREAS: readonly Area[] = AREAS.filter((a) => RULES.some((r) => r.area === a));

export interface ScanOptions {
  graph: Graph;
  policy: Policy;
  tenantId: string;
  /** Areas to read (default: every implemented area). */
  areas?: readonly Area[];
  rules?: readonly AnyRule[];
  /** Ledger, state, scan records (the Azure store, or a MemoryStore in tests). */
  store?: LedgerPort & StatePort & ScanPort & Partial<EvidencePort>;
  clock?: () => Date;
  /**
   * External ticket sinks (Planner, webhook). The ledger is the built-in one: with a store, every
   * scan is reconciled with the ledger and tickets are kept there whatever sinks are configured.
   */
  sinks?: (directory: DirectoryLookup) => readonly TicketSink[];
  /** Collector options (sign-in backfill, overlap, chunking). */
  collectOptions?: Partial<CollectOptions>;
  /** Sign-ins from a stream (an Event Hub batch) for the `signins` area, instead of Graph's sign-in log. */
  signInStream?: SignInStreamBatch;
  /** DNS servers for MAIL-02, overriding `mail.dnsServers` (the demo passes its simulator's; collect/dns.ts). */
  dnsServers?: readonly string[];
  /**
   * Teams alerts (src/alerts/deliver.ts): with a store, this run's news goes on one card per sink
   * after the tickets (their Planner links are on it), recorded in the ledger so it goes once.
   */
  alerts?: AlertOptions;
  /**
   * The operator checked that the tenant really changed (`--confirm-resolutions`): a drop below
   * `plausibility.minFractionOfLast` is accepted and an area may resolve more than
   * `plausibility.maxResolvedShare` of its open findings at once. A zero count is never accepted.
   */
  confirmResolutions?: boolean;
  /**
   * The scan's id (default: a new UUID). The HTTP trigger answers with it before the queue worker
   * runs the scan, so the caller can find the scan's record and reports by it.
   */
  scanId?: string;
  /**
   * Writes the scan's reports before anything is committed: called once with the result as the
   * ledger will hold it (findings with their ledger dates, coverage after the mass-resolution
   * guard), under the ledger lease after the reconciliation is computed and before its first
   * write; without a store, once the result is known. A throw stops the run with nothing written
   * to the ledger and no ticket sent, so a failure can never leave tickets without a report.
   * The result it gets is the one returned, but for `ledger`, `tickets` and `graph` (counted later).
   * With a store it also gets the reconciled ledger (every entry, what changed, departments), so
   * that the reports show what is open in the ledger, not only what this scan saw.
   */
  beforeCommit?: (result: ScanResult, ledger?: ReportLedger) => Promise<unknown>;
  /**
   * When collection must stop (the Functions host's timeout less a margin: src/runtime.ts). Once
   * it has passed no new Graph request is made; the slices finished so far are in the scan's
   * progress (collect/progress.ts), the ledger is not touched, and the run throws
   * {@link ScanSuspended}: the caller continues the scan with the same `scanId`.
   */
  deadline?: Date;
  /**
   * Without a `scanId`: continue the tenant's latest unfinished scan if its run must be gone and
   * its progress is usable (the timers; collect/progress.ts). With a `scanId` its progress is
   * always resumed when usable.
   */
  resume?: boolean;
  /**
   * The scan's slices were collected elsewhere, into its progress (the shards of a sharded scan:
   * src/jobs/shards.ts), and this run only reconciles them: with `scanId` and `resume`. No stored
   * progress means another run reconciled it and cleared it ({@link ScanAlreadyDone}); progress
   * this run may not use (another policy since) stops it with an error instead of reading
   * everything again in one invocation.
   */
  requireProgress?: boolean;
  /** Progress per slice (the CLI prints it on stderr). */
  onProgress?: (event: { slice: SliceName; status: Slice<unknown>['status']; items: number; detail?: string }) => void;
}

/** A scan's outcome: its record's fields plus the findings themselves. */
export interface ScanResult extends Pick<ScanRecord, 'tenantId' | 'scanId' | 'startedAt' | 'finishedAt' | 'areas' | 'coverage' | 'exitCode'> {
  schemaVersion: 1;
  findings: Finding[];
  skipped: Array<{ ruleId: string; reason: string }>;
  graph: GraphStats;
  /** What the ledger reconciliation did (absent without a store). */
  ledger?: { opened: number; reopened: number; resolved: number; excepted: number; unexcepted: number; appended: number };
  tickets?: TicketSummary;
  /** What the alert sinks were sent (absent without a store or alert options). */
  alerts?: AlertSummary;
  /** Notes on the run itself (saved progress discarded); absent when none. */
  notes?: string[];
}

/**
 * A scan stopped at its deadline: the finished slices are saved, nothing was reconciled. Run the
 * scan again with `scanId` (a queue continuation) to finish it.
 */
export class ScanSuspended extends Error {
  constructor(
    readonly scanId: string,
    readonly done: readonly SliceName[],
    readonly remaining: readonly SliceName[],
  ) {
    super(`scan ${scanId} stopped at its deadline with ${done.length} slice(s) collected (${remaining.join(', ') || 'none'} still to read); nothing was reconciled — it continues with the same scan id`);
    this.name = 'ScanSuspended';
  }
}

/** Another run of the same scan id reconciled it already: this one stopped without writing (at-least-once delivery). */
export class ScanAlreadyDone extends Error {
  constructor(readonly scanId: string) {
    super(`scan ${scanId} was already reconciled by another run; this run stopped without writing`);
    this.name = 'ScanAlreadyDone';
  }
}

/** Thrown by every Graph call of a collector once the deadline has passed. */
class DeadlinePassed extends Error {
  constructor() {
    super('the scan reached its deadline');
    this.name = 'DeadlinePassed';
  }
}

/**
 * The scan's Graph as its collectors see it: every method call (and every next page of an
 * iteration) throws {@link DeadlinePassed} once `stopped()` says so, so collection stops at the next
 * request instead of being cut off by the host. Properties (stats, root, fatal) pass through.
 */
function stoppable(graph: Graph, stopped: () => boolean): Graph {
  const check = (): void => {
    if (stopped()) throw new DeadlinePassed();
  };
  return new Proxy(graph, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        check();
        const out = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (out && typeof out === 'object' && Symbol.asyncIterator in out) {
          const it = (out as AsyncIterable<unknown>)[Symbol.asyncIterator]();
          return {
            [Symbol.asyncIterator]() {
              return this;
            },
            async next() {
              check();
              return it.next();
            },
            async return(v?: unknown) {
              return it.return ? it.return(v) : { done: true, value: v };
            },
          };
        }
        return out;
      };
    },
  });
}

/** Checkpoint hooks of {@link sliceRunner}: slices already done, and where a finished slice goes. */
export interface SliceCheckpoint {
  done?: ReadonlyMap<SliceName, Slice<unknown>>;
  /** Called (awaited) as each slice finishes, unless `discard()` says the run has stopped. */
  save?: (name: SliceName, slice: Slice<unknown>) => Promise<void>;
  discard?: () => boolean;
}

/**
 * A collector context whose `slice()` runs each collector at most once per scan and turns a
 * collector that throws into a failed slice. `slices()` returns what has been collected so far.
 */
export function sliceRunner(base: Omit<CollectContext, 'slice'>, onProgress?: ScanOptions['onProgress'], checkpoint: SliceCheckpoint = {}) {
  const running = new Map<SliceName, Promise<Slice<unknown>>>();
  const run = (name: SliceName): Promise<Slice<unknown>> => {
    let p = running.get(name);
    if (!p) {
      p = (async () => {
        let slice: Slice<unknown>;
        // Read by an earlier run of this scan (its checkpoint): not read again.
        const saved = checkpoint.done?.get(name);
        if (saved) return saved;
        try {
          slice = await (COLLECTORS[name] as (c: CollectContext) => Promise<Slice<unknown>>)(ctx);
        } catch (err) {
          // No token: the run stops (exit 1), it is not an area that failed. Nor is a shard's
          // checkpoint that storage refused: the shard's attempt fails, the queue retries it.
          if (err instanceof CredentialError || err instanceof ShardCheckpointError) throw err;
          slice = { status: 'failed', items: 0, detail: (err as Error).message };
        }
        // A slice cut short by the deadline is not done: it is neither reported nor saved.
        if (checkpoint.discard?.()) return slice;
        await checkpoint.save?.(name, slice);
        onProgress?.({ slice: name, status: slice.status, items: slice.items, ...(slice.detail ? { detail: slice.detail } : {}) });
        return slice;
      })();
      running.set(name, p);
    }
    return p;
  };
  const ctx: CollectContext = { ...base, slice: (name) => run(name) as never };
  const slices = async (): Promise<Snapshot['slices']> => {
    const out: Snapshot['slices'] = {};
    for (const [name, p] of running) (out as Record<string, Slice<unknown>>)[name] = await p;
    return out;
  };
  return { ctx, run, slices };
}

/**
 * Collects the slices `names` concurrently (plus any slice a collector asks for, e.g. the user
 * list for inbox rules, collected once and shared).
 */
export async function collect(
  names: readonly SliceName[],
  base: Omit<CollectContext, 'slice'>,
  onProgress?: ScanOptions['onProgress'],
  checkpoint?: SliceCheckpoint,
): Promise<Snapshot['slices']> {
  const runner = sliceRunner(base, onProgress, checkpoint);
  await Promise.all(names.map(runner.run));
  return runner.slices();
}

/** Runs one tenant scan and, when a store is given, records it. */
export async function runScan(options: ScanOptions): Promise<ScanResult> {
  const clock = options.clock ?? (() => new Date());
  const rules = options.rules ?? RULES;
  const areas = [...(options.areas ?? IMPLEMENTED_AREAS)];
  const unknown = areas.filter((a) => !IMPLEMENTED_AREAS.includes(a));
  if (unknown.length) throw new Error(`areas not implemented yet: ${unknown.join(', ')}`);
  const invoked = clock();
  let started = invoked;
  let scanId = options.scanId ?? randomUUID();
  // With a store the ledger is reconciled and tickets routed: routing needs departments, which the
  // light directory listing gives cheaply whatever areas are scanned.
  const wanted = slicesFor(rules, areas);
  if (options.store && !wanted.includes('directory')) wanted.push('directory');
  // Scan progress (collect/progress.ts): resume this scan's checkpoint, or start one. Only a run
  // that can be continued keeps one (a deadline, or a timer that resumes): the CLI, the sign-in
  // watch and an Event Hub batch run to the end, so a checkpoint of theirs would be I/O for nothing.
  const store = options.store;
  let progress: ScanProgress | undefined;
  let done = new Map<SliceName, Slice<unknown>>();
  const notes: string[] = [];
  if (store && (options.deadline !== undefined || options.resume === true)) {
    const candidate = options.scanId ?? (options.resume ? await latestScanId(store, options.tenantId, areas) : undefined);
    const stored = candidate ? await loadProgress(store, options.tenantId, candidate) : undefined;
    // A timer leaves a run that may still be alive alone (it is another scan then).
    const alive = stored !== undefined && options.scanId === undefined && Date.parse(stored.heldUntil) > invoked.getTime();
    // A scan id already reconciled (its record not yet saved, or a redelivery): stop; a timer starts a new scan.
    if (stored?.reconciled && options.scanId !== undefined) throw new ScanAlreadyDone(stored.scanId);
    if (options.requireProgress) {
      if (!stored || !options.scanId) throw new ScanAlreadyDone(options.scanId ?? '(none)');
      const why = unusable(stored, { now: invoked, graphRoot: options.graph.root, areas, policy: options.policy });
      if (why) throw new Error(`scan ${stored.scanId}: its shards' results cannot be reconciled (${why}); start a new scan`);
    }
    if (stored && !alive && !stored.reconciled) {
      const why = unusable(stored, { now: invoked, graphRoot: options.graph.root, areas, policy: options.policy });
      if (why) {
        notes.push(`the saved progress of scan ${stored.scanId} was discarded (${why}); every slice was read afresh`);
        await clearProgress(store, options.tenantId, stored);
      } else {
        progress = stored;
        scanId = stored.scanId;
        started = new Date(stored.startedAt);
        done = await loadSlices(store, options.tenantId, stored);
      }
    }
    const holdUntil = new Date(options.deadline ? options.deadline.getTime() + 60_000 : invoked.getTime() + DEFAULT_HOLD_MS).toISOString();
    progress = progress
      ? { ...progress, done: [...done.keys()], heldUntil: holdUntil }
      : { version: 1, scanId, startedAt: started.toISOString(), graphRoot: options.graph.root, areas, policyHash: policyHash(options.policy), done: [], savedAt: invoked.toISOString(), heldUntil: holdUntil };
    await saveProgress(store, options.tenantId, progress);
    await pointAt(store, options.tenantId, areas, scanId);
  }
  const deadline = options.deadline;
  let stopped = false;
  const pastDeadline = (): boolean => (stopped ||= deadline !== undefined && clock().getTime() >= deadline.getTime());
  // Slice saves one at a time (each rewrites the progress document).
  let saving: Promise<void> = Promise.resolve();
  const checkpoint: SliceCheckpoint = {
    done,
    discard: () => stopped,
    ...(store && progress
      ? {
          save: (name: SliceName, slice: Slice<unknown>) => {
            const p = progress as ScanProgress;
            saving = saving.then(() => saveSlice(store, options.tenantId, p, name, slice, clock()));
            return saving;
          },
        }
      : {}),
  };
  const collected = await collect(
    wanted,
    {
      graph: deadline ? stoppable(options.graph, pastDeadline) : options.graph,
      now: started,
      policy: options.policy,
      tenantId: options.tenantId,
      store: options.store,
      options: { ...DEFAULT_COLLECT_OPTIONS, ...options.collectOptions },
      ...(options.signInStream ? { signInStream: options.signInStream } : {}),
      ...(options.dnsServers ? { dnsServers: options.dnsServers } : {}),
    },
    options.onProgress,
    checkpoint,
  );
  await saving;
  if (stopped) {
    const finished = progress?.done ?? [];
    throw new ScanSuspended(scanId, finished, wanted.filter((n) => !finished.includes(n)));
  }
  // A collector that caught the credential failure per item (a drive, a mailbox) still stops the run.
  if (options.graph.fatal) throw options.graph.fatal;
  // Plausibility before resolution: a well-formed but implausible answer (no users, no sites, far
  // fewer than the last complete scan saw) is partial, so nothing it feeds resolves (plausibility.ts).
  const confirmed = options.confirmResolutions === true;
  const baselines = options.store ? baselinesFrom(await options.store.listScans(options.tenantId, 20)) : {};
  const slices = markSuspects(collected, checkPlausibility(collected, baselines, options.policy.plausibility, confirmed));
  const snapshot: Snapshot = { tenantId: options.tenantId, takenAt: started, slices };
  const evaluation = evaluate(snapshot, rules, options.policy, areas);
  let findings = applyExceptions(evaluation.findings, options.policy, started).sort(compareFindings);
  let ledger: ScanResult['ledger'];
  let tickets: TicketSummary | undefined;
  let alertSummary: AlertSummary | undefined;
  // The result as reported: built once everything it says is known (with a store, after the
  // reconciliation is computed and before it is written, see `beforeCommit`).
  let reported: ScanResult | undefined;
  const report = async (ledgerView?: ReportLedger): Promise<void> => {
    const exitCode = Object.values(evaluation.coverage).every((c) => c?.status === 'complete') ? 0 : 2;
    reported = {
      schemaVersion: 1,
      tenantId: options.tenantId,
      scanId,
      startedAt: started.toISOString(),
      finishedAt: clock().toISOString(),
      areas,
      coverage: evaluation.coverage,
      findings,
      skipped: evaluation.skipped,
      graph: { ...options.graph.stats },
      exitCode,
    };
    await options.beforeCommit?.(reported, ledgerView);
  };
  if (store) {
    const directory = slices.directory?.status === 'failed' ? [] : (slices.directory?.data ?? []);
    // Lookups over the whole directory (50,000 users: 150,000 map entries) are built on first use
    // only: most scans ask the department of a few findings' subjects, and a scan with no Planner
    // sink or no report never asks for an id or a display name (issue 13, scanner memory).
    const departments = lazy(() => new Map(directory.map((u) => [u.id, u.department])));
    const ids = lazy(() => {
      const m = new Map<string, string>();
      for (const u of directory) {
        m.set(u.userPrincipalName.toLowerCase(), u.id);
        if (u.mail) m.set(u.mail.toLowerCase(), u.id);
      }
      return m;
    });
    const departmentOf = (id: string): string | null | undefined => departments().get(id);
    const sinks = options.sinks?.({ userIdOf: (address) => ids().get(address.toLowerCase()) }) ?? [];
    const outcome = await store.withLedgerLease(options.tenantId, async (assertHeld) => {
      // Another run of this scan id (a redelivered message) may have reconciled it while this one
      // collected: its progress is then gone or marked, and this run writes nothing.
      if (progress) {
        const now = await loadProgress(store, options.tenantId, scanId);
        if (!now || now.reconciled) throw new ScanAlreadyDone(scanId);
      }
      const write = async (entries: LedgerEntry[]): Promise<void> => {
        assertHeld();
        await store.putLedgerEntries(options.tenantId, entries);
      };
      const current = await store.getLedger(options.tenantId);
      const guard = { maxShare: options.policy.plausibility.maxResolvedShare, minOpen: options.policy.plausibility.minOpenForShare, confirmed };
      const rec = reconcile(current, { findings, coverage: evaluation.coverage, areas, completeRules: evaluation.completeRules, holds: evaluation.holds, at: started.toISOString(), guard });
      // Everything the reports say is known now (ticket delivery changes no finding): they are
      // written before the first ledger write, so no ticket is ever committed without a report.
      for (const h of rec.held ?? []) holdCoverage(evaluation.coverage, h, options.policy.plausibility.maxResolvedShare);
      findings = findings.map((f) => {
        const e = rec.entries.get(f.id);
        return e ? { ...f, firstSeen: e.firstSeen, lastSeen: e.lastSeen, ...(f.kind === 'event' ? { evidence: e.evidence } : {}) } : f;
      });
      // Names of people for the report (the users slice has them when the accounts area was read).
      const users = slices.users && slices.users.status !== 'failed' ? slices.users.data : [];
      const names = lazy(() => {
        const m = new Map<string, string>();
        for (const u of users) {
          for (const k of [u.id, u.userPrincipalName, u.mail]) if (k && u.displayName) m.set(k.toLowerCase(), u.displayName);
        }
        return m;
      });
      await report({
        entries: [...rec.entries.values()],
        opened: rec.opened,
        reopened: rec.reopened,
        resolved: rec.resolved,
        departmentOf,
        displayNameOf: (key) => names().get(key.toLowerCase()),
        policy: options.policy,
        now: started,
      });
      // The reconciliation is on record before any ticket leaves; each delivery's intent is written
      // before its call and its outcome right after (tickets.ts), so a run stopped anywhere resumes.
      await write(rec.changed);
      // …on disk, not only in the embedded Azurite's memory (it saves every 5 s).
      if (rec.changed.length) await store.ensureSaved(options.tenantId);
      const sync = await syncTickets(rec.entries.values(), {
        policy: options.policy,
        now: started,
        sinks,
        departmentOf,
        persist: write,
      });
      for (const e of sync.changed) rec.entries.set(e.id, e);
      // One card for this run's news (and what earlier runs could not deliver), recorded in the ledger.
      const alerts = options.alerts
        ? await deliverAlerts(rec.entries, { ...options.alerts, now: started, store, persist: write, ensureSaved: () => store.ensureSaved(options.tenantId) })
        : undefined;
      // Only now that the findings are in the ledger may watermarks, delta links and inventories
      // move on (collect/pending.ts). Not those of a slice the plausibility check doubted: what
      // looked wrong is read again from where the last good read stopped.
      await commitPending(store, options.tenantId, pendingOf(collected, slices), assertHeld);
      if (progress) {
        assertHeld();
        await saveProgress(store, options.tenantId, { ...progress, reconciled: true });
      }
      return { rec, sync, alerts };
    });
    const { rec, sync, alerts } = outcome;
    if (alerts) alertSummary = alerts;
    ledger = {
      opened: rec.opened.length,
      reopened: rec.reopened.length,
      resolved: rec.resolved.length,
      excepted: rec.excepted.length,
      unexcepted: rec.unexcepted.length,
      appended: rec.appended.length,
    };
    tickets = sync.summary;
  } else {
    await report();
  }
  if (!reported) throw new Error('unreachable: the scan was not reported');
  const result: ScanResult = {
    ...reported,
    graph: { ...options.graph.stats },
    ...(ledger ? { ledger } : {}),
    ...(tickets ? { tickets } : {}),
    ...(alertSummary ? { alerts: alertSummary } : {}),
    ...(notes.length ? { notes } : {}),
  };
  // The evidence trail (store/evidence.ts, 5-3-2) before the scan record: a recorded scan always
  // has its evidence; a crash between the two leaves evidence without a scan record, which
  // `evidence verify` reports. A store without the evidence port (a test double) keeps none.
  if (options.store?.createEvidence && options.store.listEvidence && options.store.getEvidence) {
    const port: EvidencePort = {
      createEvidence: options.store.createEvidence.bind(options.store),
      listEvidence: options.store.listEvidence.bind(options.store),
      getEvidence: options.store.getEvidence.bind(options.store),
      ...(options.store.evidenceExists ? { evidenceExists: options.store.evidenceExists.bind(options.store) } : {}),
    };
    // The head hint in the state table: an append checks it with two HEAD requests (store/evidence.ts).
    await appendEvidence(port, evidenceDraft({ ...result, slices }), { now: clock, hint: stateHeadHint(options.store) });
  }
  if (options.store) await options.store.saveScan(scanRecord(result, plausibleCounts(slices)));
  // The access inventory (棚卸) as this scan saw it, kept as its month's for the CISO digest.
  if (options.store) await recordInventory(options.store, accessInventory(snapshot, options.policy, scanId), options.policy.organization.timeZone);
  // The scan is on record: its checkpoint is no longer needed.
  if (store && progress) await clearProgress(store, options.tenantId, progress);
  return result;
}

/** `build()` on the first call, its value afterwards. */
function lazy<T>(build: () => T): () => T {
  let value: { v: T } | undefined;
  return () => (value ??= { v: build() }).v;
}

/** The pending state of every slice read, but of those failed or marked suspect by the plausibility check. */
export function pendingOf(collected: Snapshot['slices'], checked: Snapshot['slices']): PendingState[] {
  const out: PendingState[] = [];
  for (const [name, slice] of Object.entries(collected) as Array<[SliceName, Slice<unknown> | undefined]>) {
    if (!slice || slice.status === 'failed' || !slice.pending) continue;
    if (checked[name] !== slice) continue;
    out.push(...slice.pending);
  }
  return out;
}

/** Open findings by severity, excepted ones counted apart. */
export function countBySeverity(findings: readonly Finding[]): Record<Severity, number> {
  const counts = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  for (const f of findings) if (f.status === 'open') counts[f.severity]++;
  return counts;
}

/** Marks an area whose resolutions the mass-resolution guard held back as partial, saying why. */
function holdCoverage(coverage: ScanResult['coverage'], h: HeldArea, maxShare: number): void {
  const c = coverage[h.area];
  if (!c) return;
  const reason = `suspect: this scan would resolve ${h.wouldResolve} of the area's ${h.open} open findings at once (more than ${Math.round(maxShare * 100)}%, plausibility.maxResolvedShare); nothing was resolved in this area — check the collection, and if the fixes are real run again with --confirm-resolutions`;
  coverage[h.area] = { ...c, status: c.status === 'failed' ? 'failed' : 'partial', detail: c.detail ? `${c.detail}; ${reason}` : reason };
}

/** The scan's record; `slices`: the complete, plausible slice counts, the next scans' baselines. */
export function scanRecord(result: ScanResult, slices?: ScanRecord['slices']): ScanRecord {
  return {
    tenantId: result.tenantId,
    scanId: result.scanId,
    startedAt: result.startedAt,
    finishedAt: result.finishedAt,
    areas: result.areas,
    coverage: result.coverage,
    counts: countBySeverity(result.findings),
    excepted: result.findings.filter((f) => f.status === 'excepted').length,
    exitCode: result.exitCode,
    ...(slices ? { slices } : {}),
  };
}

/** Most severe first, then by rule id and subject name, so reports read the same every run. */
export function compareFindings(a: Finding, b: Finding): number {
  return (
    SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity) ||
    a.ruleId.localeCompare(b.ruleId) ||
    a.subject.name.localeCompare(b.subject.name) ||
    a.id.localeCompare(b.id)
  );
}
