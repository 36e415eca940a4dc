/**
 * Bench smoke test (issue 13): the bound computation on hand-computed cases, the compressed
 * clock, and one small bench run end to end (simulator in its own process, weekly full read then
 * the daily scan on the same store) whose findings must equal the bench tenant's ground truth and
 * whose requests must reach what the model says each scenario needs at least.
 */
import { join } from 'node:path';
import { modelClock } from '../../src/graph/clock';
import { benchSize } from './harness';
import { benchShape, lowerBound, modelLimits, READINGS, type WorkloadShape } from './model';

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
  test('daily: every site listed, token deltas for the libraries and the OneDrives due, no permission read', () => {
    const daily: WorkloadShape = benchShape(1000, 'daily', { sites: 1050, libraries: 1050, oneDrives: 1000, oneDrivesDueToday: 150, sharedItems: 4200 });
    expect(daily).toMatchObject({ librariesRead: 200, tokenDeltas: true, permissionReads: 0 });
    const b = lowerBound(daily, READINGS[0]!, modelLimits(1000), 100);
    expect(b.families.sharepoint?.units).toBe(2 * 2 + 1050 * 2 + 200);
    expect(b.families.sharepoint?.rateSeconds).toBe(0); // within the first minute's 2,400 RU
    expect(b.families.sharepoint?.seconds).toBeCloseTo(0.4); // the latency floor: 2 getAllSites pages, a delta, a drive listing
  });
  test('bench shape of 50,000 users', () => {
    expect(benchShape(50000, 'weeklyFull')).toMatchObject({ sites: 52500, librariesRead: 52500, permissionReads: 210000, signIns: 500000 });
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
    const r = (await benchSize({ users: 200, latencyMs: 20, timeScale: 50, dir: DIST })) as Record<string, any>;
    expect(r.simExit).toBe(0);
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
    for (const s of [w, d]) {
      expect(s.perEndpoint.drives).toBeGreaterThanOrEqual(s.shape.sites);
      expect(s.modelSeconds).toBeGreaterThan(0);
    }
  }, 120_000);
});
