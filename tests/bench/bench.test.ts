/**
 * Bench smoke test (issue 13): the bound computation on hand-computed cases, the compressed
 * clock, and one small bench run end to end (simulator in its own process, weekly full read then
 * the daily scan on the same store) whose findings must equal the bench tenant's ground truth and
 * whose requests must reach what the model says each scenario needs at least.
 */
import { join } from 'node:path';
import { modelClock } from '../../src/graph/clock';
import { benchSize } from './harness';
import { benchShape, lowerBound, modelLimits, READINGS, shardedBound, type WorkloadShape } from './model';
import { mergeResults } from './results-file';

const DIST = join(__dirname, '..', '..', 'dist', 'tests', 'bench');

describe('bench lower bound', () => {
  const weekly = benchShape(1000, 'weeklyFull');
  test('weekly full read, per mailbox, signInActivity its own family', () => {
    const b = lowerBound(weekly, READINGS[0]!, modelLimits(1000), 100);
    expect(b.families.identityReports?.seconds).toBeCloseTo(12); // (1 + 10 pages − 5 burst) ÷ 0.5/s
    expect(b.families.sharepoint?.units).toBe(25204); // 2×2 + 1050×2 + 1050×2 + 1050×4×5
    expect(b.families.sharepoint?.seconds).toBeCloseTo(570.1); // (25204 − 2400) ÷ 40/s
    expect(b.mailSeconds).toBeCloseTo(0.1);
    expect(b.identitySeconds).toBeCloseTo(0.2);
    expect(b.seconds).toBeCloseTo(570.1);
  });
  test('strict: per app Outlook, signInActivity draws identity reports', () => {
    const b = lowerBound(weekly, READINGS[1]!, modelLimits(1000), 100);
    expect(b.families.identityReports?.seconds).toBeCloseTo(16);
    expect(b.mailSeconds).toBeCloseTo(25); // 1000 × 0.1 s ÷ 4 in flight
  });
  test('daily: team sites and the personal sites due listed, token deltas for the libraries and the OneDrives due, no permission read', () => {
    const daily: WorkloadShape = benchShape(1000, 'daily', { sites: 1050, libraries: 1050, oneDrives: 1000, oneDrivesDueToday: 150, sharedItems: 4200 });
    expect(daily).toMatchObject({ drivesListed: 200, librariesRead: 200, tokenDeltas: true, permissionReads: 0 });
    const b = lowerBound(daily, READINGS[0]!, modelLimits(1000), 100);
    expect(b.families.sharepoint?.units).toBe(2 * 2 + 200 * 2 + 200);
    expect(b.families.sharepoint?.rateSeconds).toBe(0); // within the first minute's 2,400 RU
    expect(b.families.sharepoint?.seconds).toBeCloseTo(0.4); // the latency floor: 2 getAllSites pages, a delta, a drive listing
  });
  test('bench shape of 50,000 users', () => {
    expect(benchShape(50000, 'weeklyFull')).toMatchObject({ sites: 52500, librariesRead: 52500, permissionReads: 210000, signIns: 500000 });
  });
});

describe('sharded lower bound (issue 14)', () => {
  const weekly = benchShape(1000, 'weeklyFull');
  const limits = modelLimits(1000);
  test('one worker runs the slices one after another: the families add up', () => {
    const b = shardedBound(weekly, READINGS[0]!, limits, 100, { workers: 1 });
    // signInActivity 2 pages in a chain (0.2 s), identity reports 12 s, Outlook 1000 × 0.1 s ÷ 16 in flight, SharePoint 570.1 s of RU
    expect(b.clientLatencySeconds.outlook).toBeCloseTo(6.25);
    expect(b.workerSeconds).toBeCloseTo(0.2 + 12 + 6.25 + 570.1);
    expect(b.seconds).toBeCloseTo(588.55);
    expect(b.tenantSeconds).toBeCloseTo(570.1);
  });
  test('four workers: the per-tenant SharePoint limit binds, as without shards', () => {
    const b = shardedBound(weekly, READINGS[0]!, limits, 100, { workers: 4 });
    expect(b.seconds).toBeCloseTo(570.1);
    expect(b.seconds).toBeCloseTo(lowerBound(weekly, READINGS[0]!, limits, 100).seconds);
  });
  const mailOnly: WorkloadShape = { ...weekly, signInActivityUsers: 0, enabledUsers: 0, signIns: 0, sites: 0, librariesRead: 0, permissionReads: 0 };
  test('mail, per mailbox: latency binds; one shard per slice keeps one client, range shards divide it', () => {
    expect(shardedBound(mailOnly, READINGS[0]!, limits, 100, { workers: 4 }).seconds).toBeCloseTo(6.25);
    const ranged = shardedBound(mailOnly, READINGS[0]!, limits, 100, { workers: 4, shards: { outlook: 4 } });
    expect(ranged.clientLatencySeconds.outlook).toBeCloseTo(1.5625);
    expect(ranged.seconds).toBeCloseTo((6.25 + 0.1) / 4); // the workers' shared busy time (Outlook plus the one sign-in page)
    expect(shardedBound(mailOnly, READINGS[0]!, limits, 100, { workers: 2, shards: { outlook: 4 } }).clientLatencySeconds.outlook).toBeCloseTo(3.125);
  });
  test('mail, per app: Graph holds 4 in flight for the tenant, no number of workers beats it', () => {
    // 1000 × 0.1 s ÷ 4 in flight (the tenant's); one worker also reads the one sign-in page after it.
    expect(shardedBound(mailOnly, READINGS[1]!, limits, 100, { workers: 1, shards: { outlook: 16 } }).seconds).toBeCloseTo(25.1);
    for (const workers of [4, 16]) expect(shardedBound(mailOnly, READINGS[1]!, limits, 100, { workers, shards: { outlook: 16 } }).seconds).toBeCloseTo(25);
  });
});

describe('results file (--merge)', () => {
  const run = { date: 'now', node: 'v', machine: { cores: 2 } };
  const existing = { date: 'then', note: 'kept', results: [{ users: 1000, settings: { timeScale: 20 }, weeklyFull: {} }] };
  test('a sharded run adds its section and keeps the unsharded results', () => {
    const a = mergeResults(existing, run, [{ users: 50000, workers: 1, graph: 'perShard', settings: { timeScale: 10 } }], true);
    expect(a.results).toEqual(existing.results);
    expect(a.note).toBe('kept');
    expect(a.date).toBe('then');
    const b = mergeResults(a, run, [{ users: 50000, workers: 4, graph: 'perShard', settings: { timeScale: 10 } }, { users: 50000, workers: 1, graph: 'perShard', settings: { timeScale: 10 }, rerun: true }], true);
    const runs = (b.workers as { runs: Array<Record<string, unknown>> }).runs;
    expect(runs.map((r) => [r.workers, r.rerun ?? false])).toEqual([[4, false], [1, true]]);
    expect(b.results).toEqual(existing.results);
  });
  test('an unsharded run replaces its own entry only, and leaves the workers section alone', () => {
    const withWorkers = { ...existing, workers: { runs: [{ users: 50000, workers: 4 }] } };
    const c = mergeResults(withWorkers, run, [{ users: 1000, settings: { timeScale: 20 }, again: true }, { users: 10000, settings: { timeScale: 20 } }], false);
    expect((c.results as Array<Record<string, unknown>>).map((r) => [r.users, r.again ?? false])).toEqual([[1000, true], [10000, false]]);
    expect(c.workers).toEqual(withWorkers.workers);
  });
  test('without --merge: this run alone', () => {
    expect(mergeResults(undefined, run, [{ users: 1 }], false)).toEqual({ ...run, results: [{ users: 1 }] });
    expect(Object.keys(mergeResults(undefined, run, [{ users: 1, workers: 2 }], true))).toEqual(['date', 'node', 'machine', 'workers']);
  });
});

describe('compressed clock', () => {
  test('model time runs timeScale times faster, sleeps are divided by it', async () => {
    const c = modelClock(20);
    const t0 = c.now();
    const real0 = performance.now();
    await c.sleep(2000);
    const real = performance.now() - real0;
    expect(real).toBeLessThan(1000);
    expect(c.now() - t0).toBeGreaterThanOrEqual(1900);
  });
});

describe('bench end to end (200 users)', () => {
  test('weekly full read then daily: findings equal the ground truth, requests reach the model minimum', async () => {
    // The strict reading (per-app Outlook concurrency, signInActivity drawing the identity
    // reports), the daily scan at its own time scale.
    const r = (await benchSize({ users: 200, latencyMs: 20, timeScale: 50, scenarioTimeScale: { daily: 10 }, reading: READINGS[1], dir: DIST })) as Record<string, any>;
    expect(r.simExit).toBe(0);
    expect(r.reading).toEqual(READINGS[1]);
    expect([r.weeklyFull.timeScale, r.daily.timeScale]).toEqual([50, 10]);
    // The ratio that counts is to the bound of the reading the simulator played.
    for (const s of [r.weeklyFull, r.daily]) expect(s.ratio.total).toBe(s.ratios[1].total);
    // The client's signInActivity pacing is reported (where its probe left it) as is Outlook's concurrency.
    expect(['strict', 'probing', 'strictConfirmed', 'lenient']).toContain(r.weeklyFull.signInActivityReading.reading);
    expect(r.weeklyFull.outlookConcurrency.cap).toBe(64);
    expect((r.weeklyFull.plantedKeys as string[]).filter((k) => k.startsWith('FILE-01 b!')).length).toBeGreaterThan(0);
    expect((r.weeklyFull.plantedKeys as string[]).some((k) => k.startsWith('SIGN-'))).toBe(true);
    for (const name of ['weeklyFull', 'daily']) {
      const s = r[name];
      expect(Object.values(s.coverage).every((c) => c === 'complete')).toBe(true);
      // daily: the state findings (the sign-in events were raised by the weekly scan that read them)
      expect(s.findingKeys).toEqual(s.plantedKeys);
      expect(s.findingsMatchPlanted).toBe(true);
    }
    const w = r.weeklyFull;
    const d = r.daily;
    expect(w.perEndpoint.delta).toBeGreaterThanOrEqual(w.shape.librariesRead);
    expect(w.perEndpoint.permissions).toBeGreaterThanOrEqual(w.shape.permissionReads);
    expect(w.perEndpoint.signIns * 1000).toBeGreaterThanOrEqual(w.shape.signIns);
    // The sweep: the daily scan reads only the libraries and today's OneDrives, with tokens.
    expect(d.perEndpoint.delta).toBeGreaterThanOrEqual(d.shape.librariesRead);
    expect(d.perEndpoint.delta).toBeLessThan(w.perEndpoint.delta);
    expect(d.perEndpoint.permissions ?? 0).toBeLessThan(w.perEndpoint.permissions);
    // The daily scan lists the team sites and the personal sites due today only.
    expect(w.perEndpoint.drives).toBeGreaterThanOrEqual(w.shape.sites);
    expect(d.perEndpoint.drives).toBeGreaterThanOrEqual(d.shape.drivesListed);
    expect(d.perEndpoint.drives).toBeLessThan(w.perEndpoint.drives);
    for (const s of [w, d]) {
      expect(s.modelSeconds).toBeGreaterThan(0);
      // The scenario's own peak (sampled while it ran) is at most the process's lifetime one.
      expect(s.scenarioPeakRssMB).toBeGreaterThan(0);
      expect(s.scenarioPeakRssMB).toBeLessThanOrEqual(s.peakRssMB);
    }
  }, 120_000);
});

describe('bench end to end, sharded (--workers 2, 60 users)', () => {
  test('weekly full read then daily through queue shards on the bench\'s Azurite: findings equal the ground truth, the daily scan starts from the committed state', async () => {
    const r = (await benchSize({ users: 60, latencyMs: 10, timeScale: 50, areas: ['accounts', 'mail', 'signins'], workers: 2, dir: DIST })) as Record<string, any>;
    expect(r.simExit).toBe(0);
    expect(r.workers).toBe(2);
    for (const name of ['weeklyFull', 'daily']) {
      const s = r[name];
      expect(s.coverage).toEqual({ accounts: 'complete', mail: 'complete', signins: 'complete' });
      expect(s.findingKeys).toEqual(s.plantedKeys);
      expect(s.findingsMatchPlanted).toBe(true);
      // One shard per slice: the directory, sign-in activity, users, inbox rules and sign-ins at least.
      expect(s.shards).toBeGreaterThanOrEqual(5);
      expect(Object.keys(s.sliceFinishedModelSeconds)).toEqual(expect.arrayContaining(['directory', 'signInActivity', 'users', 'mailRules', 'signIns']));
      expect(s.collectModelSeconds).toBeGreaterThan(0);
      expect(s.collectModelSeconds).toBeLessThanOrEqual(s.modelSeconds);
      expect(s.reconcileWallSeconds).toBeGreaterThanOrEqual(0);
      for (const [i, b] of (s.shardedBounds as Array<{ seconds: number; tenantSeconds: number; workers: number }>).entries()) {
        expect(b.workers).toBe(2);
        expect(b.tenantSeconds).toBeCloseTo(s.bounds[i].seconds);
        expect(b.seconds).toBeGreaterThanOrEqual(b.tenantSeconds);
        // The sharded bound is at least the tenant's, so the ratio to it is at most the ratio to the tenant's.
        expect(s.shardedRatios[i].total).toBeGreaterThan(0);
        expect(s.shardedRatios[i].total).toBeLessThanOrEqual(s.ratios[i].total);
      }
    }
    // The weekly's sign-in events were raised once: the daily read from the watermark the sharded weekly committed.
    expect((r.weeklyFull.plantedKeys as string[]).some((k) => k.startsWith('SIGN-'))).toBe(true);
    expect((r.daily.findingKeys as string[]).some((k) => k.startsWith('SIGN-'))).toBe(false);
    expect(r.daily.perEndpoint.signIns).toBeLessThanOrEqual(r.weeklyFull.perEndpoint.signIns);
  }, 60_000);
});
