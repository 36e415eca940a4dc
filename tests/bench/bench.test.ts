/** Bench smoke test: the bound computation on a hand-computed case, and the simulator child starting and stopping. No timing assertions. */
import { benchShape, lowerBound, modelLimits, READINGS } from './model';
import { startSimChild } from './harness';
import { join } from 'node:path';

describe('bench lower bound', () => {
  const shape = { users: 1000, enabledUsers: 1000, mailboxes: 1000, signIns: 10000, sites: 1050, libraries: 1050, itemsPerLibrary: 200, sharedPerLibrary: 4, filesFraction: 1 };
  test('per mailbox, signInActivity its own family', () => {
    const b = lowerBound(shape, READINGS[0]!, modelLimits(1000), 100);
    expect(b.families.identityReports?.seconds).toBeCloseTo(12); // (11 pages − 5 burst) ÷ 0.5/s
    expect(b.families.sharepoint?.units).toBe(25212); // 6×2 + 1050×2 + 1050×2 + 1050×4×5
    expect(b.families.sharepoint?.seconds).toBeCloseTo(570.3); // (25212 − 2400) ÷ 40/s
    expect(b.mailSeconds).toBeCloseTo(0.1);
    expect(b.identitySeconds).toBeCloseTo(0.2);
    expect(b.seconds).toBeCloseTo(570.3);
  });
  test('strict: per app Outlook, signInActivity draws identity reports', () => {
    const b = lowerBound(shape, READINGS[1]!, modelLimits(1000), 100);
    expect(b.families.identityReports?.seconds).toBeCloseTo(16);
    expect(b.mailSeconds).toBeCloseTo(25); // 1000 × 0.1 s ÷ 4 in flight
  });
  test('bench shape of 50,000 users', () => {
    expect(benchShape(50000)).toMatchObject({ sites: 52500, libraries: 52500, sharedPerLibrary: 4, signIns: 500000 });
  });
});

describe('bench simulator process', () => {
  test('starts, counts and stops cleanly', async () => {
    // The compiled child (npm test builds first).
    const sim = await startSimChild({ seed: 470, users: 200, latencyMs: 0 }, join(__dirname, '..', '..', 'dist', 'tests', 'bench'));
    expect(sim.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const counts = await sim.request('counts');
    expect(counts.total).toBe(0);
    expect(await sim.close()).toBe(0);
  });
});
