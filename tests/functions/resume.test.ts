/**
 * A scan that resumes from its checkpoint (issue 12, issue 14): the Functions handlers called as
 * the host calls them (`new InvocationContext(...)`), the simulator over HTTPS and the test
 * Azurite. The deadline is passed deterministically: the test clock jumps past it once the
 * simulator has served the first drive delta request (the files slice is then mid-way), so no
 * test depends on timing. Seeds 441-449 are this file's.
 */
import type { Timer } from '@azure/functions';
import { scanWorkerHandler } from '../../functions/scan-worker';
import { tenantScanHandler } from '../../functions/tenant-scan';
import { validatePolicy } from '../../src/config/policy';
import { loadSettings } from '../../src/config/settings';
import { docKey, loadProgress, type ScanProgress } from '../../src/collect/progress';
import { scanQueue, type ScanRequestMessage } from '../../src/jobs/scan-request';
import { runScan } from '../../src/pipeline';
import type { ScanDeps } from '../../src/runtime';
import { DEFAULT_PLANNER_BUCKET_ID, DEFAULT_PLANNER_PLAN_ID } from '../../src/sim/planner';
import type { DemoTenant } from '../../src/sim/tenant';
import { Store } from '../../src/store/store';
import { sinksFromSettings } from '../../src/tickets/sinks';
import { withSim, type TestSim } from '../support/sim';
import { context, scanLines } from '../support/functions';

const TIMER = { isPastDue: false, scheduleStatus: { last: '', next: '', lastUpdated: '' } } as Timer;
const T0 = Date.parse('2026-12-01T18:00:00.000Z');
/** The collection deadline every run of these tests gets: a minute after it was invoked. */
const BUDGET_MS = 60_000;

let store: Store;
beforeAll(async () => {
  store = await Store.connect(process.env.AZURE_STORAGE_CONNECTION_STRING ?? '');
});

/**
 * A clock for the tests: `at` (ms since T0), jumped past the deadline once the trip is set and sprung.
 * Collection checks it before every Graph request.
 */
interface TestClock {
  now(): Date;
  /** Moves the clock on (ms since T0). */
  set(ms: number): void;
  /** From now on the clock jumps past the deadline as soon as the simulator has served a drive delta request. */
  stopAtFirstDelta(t: TestSim): void;
  /** The clock no longer jumps. */
  steady(): void;
}

function testClock(): TestClock {
  let at = 0;
  let trip: (() => boolean) | undefined;
  return {
    now: () => new Date(T0 + at + (trip?.() ? 10 * BUDGET_MS : 0)),
    set: (ms) => {
      at = ms;
    },
    stopAtFirstDelta: (t) => {
      const before = t.sim.counts().delta ?? 0;
      trip = () => (t.sim.counts().delta ?? 0) > before;
    },
    steady: () => {
      trip = undefined;
    },
  };
}

function depsFor(t: TestSim, demo: DemoTenant, clock: TestClock, over: { store?: Store } = {}): () => Promise<ScanDeps> {
  const policy = validatePolicy(demo.policy);
  const settings = loadSettings({ M365_AUDIT_PLANNER_PLAN_ID: DEFAULT_PLANNER_PLAN_ID, M365_AUDIT_PLANNER_BUCKET_ID: DEFAULT_PLANNER_BUCKET_ID });
  return async () => ({
    policy,
    tenantId: demo.data.tenantId,
    store: over.store ?? store,
    clock: clock.now,
    deadline: (invokedAt) => new Date(invokedAt.getTime() + BUDGET_MS),
    graph: () => {
      // The root as production's graphOptionsFor gives it (progress remembers it).
      const graph = t.graph({ root: t.sim.url });
      return { graph, close: async () => undefined, sinks: sinksFromSettings(settings, graph) };
    },
  });
}

const AREAS = ['accounts', 'files'] as const;

function request(scanId: string): ScanRequestMessage {
  return { scanId, areas: [...AREAS], requestedAt: new Date(T0).toISOString() };
}

/** Runs the scan worker until its deadline: returns the continuation it queued and the saved progress. */
async function suspend(t: TestSim, demo: DemoTenant, clock: TestClock, scanId: string): Promise<{ continuation: ScanRequestMessage; progress: ScanProgress }> {
  clock.stopAtFirstDelta(t);
  const first = context('scanWorker');
  await scanWorkerHandler(depsFor(t, demo, clock))(request(scanId), first.ctx);
  clock.steady();
  expect(scanLines(first.lines)[0]).toMatchObject({ scanId, outcome: 'continued' });
  const continuation = first.ctx.extraOutputs.get(scanQueue) as ScanRequestMessage;
  expect(continuation).toMatchObject({ scanId, areas: [...AREAS] });
  // Nothing was reconciled or recorded.
  expect(await store.listScans(demo.data.tenantId, 5)).toHaveLength(0);
  expect((await store.getLedger(demo.data.tenantId)).size).toBe(0);
  expect(t.sim.plannerTasks()).toHaveLength(0);
  const progress = await loadProgress(store, demo.data.tenantId, scanId);
  if (!progress) throw new Error('no progress saved');
  return { continuation, progress };
}

/** The findings of one uninterrupted scan of the same demo tenant (another simulator, no store). */
async function uninterrupted(seed: number, clock: TestClock): Promise<string[]> {
  return withSim(seed, async (t, demo) => {
    const r = await runScan({ graph: t.graph(), policy: validatePolicy(demo.policy), tenantId: demo.data.tenantId, areas: AREAS, clock: clock.now });
    return r.findings.map((f) => `${f.ruleId} ${f.subject.id} ${f.status}`).sort();
  });
}

const uuid = (n: number): string => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

describe('a scan that reaches its deadline', () => {
  it('stops, saves its slices, queues its continuation; the scan worker resumes it without re-reading a done slice and reconciles once', async () => {
    const clock = testClock();
    const expected = await uninterrupted(441, clock);
    await withSim(441, async (t, demo) => {
      const scanId = uuid(441);
      const { continuation, progress } = await suspend(t, demo, clock, scanId);
      // The files slice was cut short; the site list it needed first is done.
      expect(progress.done).toContain('sites');
      expect(progress.done).not.toContain('sharing');
      const before = t.sim.counts();
      clock.set(5 * 60_000);
      const second = context('scanWorker');
      await scanWorkerHandler(depsFor(t, demo, clock))(continuation, second.ctx);
      const after = t.sim.counts();
      const read = (e: string): number => (after[e] ?? 0) - (before[e] ?? 0);
      // Done slices are not read again; the one cut short is.
      expect(read('sites')).toBe(0);
      if (progress.done.includes('sharepointSettings')) expect(read('sharepointSettings')).toBe(0);
      if (progress.done.includes('domains')) expect(read('domains')).toBe(0);
      expect(read('delta')).toBeGreaterThan(0);
      expect(second.ctx.extraOutputs.get(scanQueue)).toBeUndefined();
      const [line] = scanLines(second.lines);
      expect(line).toMatchObject({ scanId, outcome: expect.stringMatching(/^(complete|partial)$/) });
      // One scan, its findings those of an uninterrupted scan, the ledger reconciled once.
      const records = await store.listScans(demo.data.tenantId, 5);
      expect(records.map((r) => r.scanId)).toEqual([scanId]);
      // The scan keeps the first run's start time.
      expect(records[0]?.startedAt).toBe(new Date(T0).toISOString());
      const doc = JSON.parse((await store.getReport(demo.data.tenantId, scanId, 'findings.json')).toString('utf8')) as { findings: Array<{ ruleId: string; subject: { id: string }; status: string }> };
      expect(doc.findings.map((f) => `${f.ruleId} ${f.subject.id} ${f.status}`).sort()).toEqual(expected);
      expect(line?.ledger).toMatchObject({ opened: expected.filter((f) => f.endsWith(' open')).length });
      expect(t.sim.plannerTasks()).toHaveLength(expected.filter((f) => f.endsWith(' open')).length);
      // The checkpoint is gone once the scan is on record.
      expect(await store.getStateBlob(demo.data.tenantId, docKey(scanId))).toBeUndefined();
    });
  });

  it('a continuation delivered twice (at once, then again) makes one scan record and each ticket once', async () => {
    const clock = testClock();
    await withSim(443, async (t, demo) => {
      const scanId = uuid(443);
      const { continuation } = await suspend(t, demo, clock, scanId);
      clock.set(5 * 60_000);
      const a = context('scanWorker');
      const b = context('scanWorker');
      const deps = depsFor(t, demo, clock);
      await Promise.all([scanWorkerHandler(deps)(continuation, a.ctx), scanWorkerHandler(deps)(JSON.stringify(continuation), b.ctx)]);
      const outcomes = [...scanLines(a.lines), ...scanLines(b.lines)].map((l) => l.outcome).sort();
      expect(outcomes.filter((o) => o === 'already-recorded')).toHaveLength(1);
      expect(outcomes.filter((o) => o === 'complete' || o === 'partial')).toHaveLength(1);
      const again = context('scanWorker');
      await scanWorkerHandler(deps)(continuation, again.ctx);
      expect(scanLines(again.lines)[0]).toMatchObject({ scanId, outcome: 'already-recorded' });
      expect((await store.listScans(demo.data.tenantId, 5)).map((r) => r.scanId)).toEqual([scanId]);
      const ledger = [...(await store.getLedger(demo.data.tenantId)).values()];
      const open = ledger.filter((e) => e.status === 'open');
      expect(open.length).toBeGreaterThan(0);
      expect(t.sim.plannerTasks()).toHaveLength(open.length);
      const ids = ledger.flatMap((e) => (e.ticket ? [e.ticket.id] : []));
      expect(new Set(ids).size).toBe(ids.length);
    });
  });

  it('discards progress that is too old or of another Graph root, with a note, and reads everything afresh', async () => {
    const clock = testClock();
    await withSim(444, async (t, demo) => {
      // Too old: resumed 7 hours later.
      const stale = uuid(4441);
      const { continuation } = await suspend(t, demo, clock, stale);
      clock.set(7 * 3_600_000);
      const before = t.sim.counts();
      const late = context('scanWorker');
      await scanWorkerHandler(depsFor(t, demo, clock))(continuation, late.ctx);
      expect((t.sim.counts().sites ?? 0) - (before.sites ?? 0)).toBeGreaterThan(0);
      const [line] = scanLines(late.lines);
      expect(line).toMatchObject({ scanId: stale, outcome: expect.stringMatching(/^(complete|partial)$/) });
      expect(String(line?.notes)).toMatch(/saved progress of scan .* was discarded \(it was started at .*more than 6 h ago\)/);
      // Its record carries this run's start, not the discarded one's.
      expect((await store.listScans(demo.data.tenantId, 5))[0]?.startedAt).toBe(new Date(T0 + 7 * 3_600_000).toISOString());

      // Another Graph root (the progress of a demo run, say).
      clock.set(8 * 3_600_000);
      const foreign = uuid(4442);
      clock.stopAtFirstDelta(t);
      await scanWorkerHandler(depsFor(t, demo, clock))(request(foreign), context('scanWorker').ctx);
      clock.steady();
      const saved = (await loadProgress(store, demo.data.tenantId, foreign)) as ScanProgress;
      expect(saved.done).toContain('sites');
      await store.putStateBlob(demo.data.tenantId, docKey(foreign), JSON.stringify({ ...saved, graphRoot: 'https://graph.other.example' }));
      const mid = t.sim.counts();
      const other = context('scanWorker');
      await scanWorkerHandler(depsFor(t, demo, clock))(request(foreign), other.ctx);
      expect((t.sim.counts().sites ?? 0) - (mid.sites ?? 0)).toBeGreaterThan(0);
      expect(String(scanLines(other.lines)[0]?.notes)).toMatch(/discarded \(it was read at another Graph root \(https:\/\/graph\.other\.example\)\)/);
      expect((await store.listScans(demo.data.tenantId, 5)).map((r) => r.scanId).sort()).toEqual([foreign, stale].sort());
    });
  });

  it('a run that crashes after collecting leaves progress the next timer resumes without reading Graph again', async () => {
    const clock = testClock();
    await withSim(442, async (t, demo) => {
      const failing = new Proxy(store, {
        get(target, prop, receiver) {
          if (prop === 'putLedgerEntries') return async () => { throw new Error('table service unavailable'); };
          const value = Reflect.get(target, prop, receiver) as unknown;
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      });
      await expect(tenantScanHandler(depsFor(t, demo, clock, { store: failing }))(TIMER, context('tenantScan').ctx)).rejects.toThrow(/table service unavailable/);
      expect(await store.listScans(demo.data.tenantId, 5)).toHaveLength(0);
      const before = t.sim.counts();
      // The next delivery, once the crashed run must be gone (its host's time limit has passed).
      clock.set(40 * 60_000);
      const next = context('tenantScan');
      await tenantScanHandler(depsFor(t, demo, clock))({ ...TIMER, isPastDue: true }, next.ctx);
      const after = t.sim.counts();
      for (const e of ['users', 'userRegistrationDetails', 'roleAssignments', 'signIns', 'sites', 'delta', 'permissions', 'messageRules', 'domains']) {
        expect(`${e}: ${(after[e] ?? 0) - (before[e] ?? 0)}`).toBe(`${e}: 0`);
      }
      const [record] = await store.listScans(demo.data.tenantId, 5);
      expect(record?.startedAt).toBe(new Date(T0).toISOString());
      expect(scanLines(next.lines)[0]).toMatchObject({ scanId: record?.scanId });
      expect(t.sim.plannerTasks().length).toBeGreaterThan(0);
    });
  });
});
