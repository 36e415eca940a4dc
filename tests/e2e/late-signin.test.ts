/**
 * Late-arriving sign-ins end to end: the demo tenant plants a 10th credential failure that reaches
 * the log only 10 minutes after `now` ("Microsoft Entra monitoring and health FAQ": sign-in data
 * "might take up to two hours to fully aggregate"). The real pipeline with the store on Azurite
 * scans at `now` (a near miss: 9 visible failures), then, with the simulator's clock and the scan
 * clock moved past the arrival, from the stored watermark: the 2-hour overlap re-reads the gap and
 * completes SIGN-01 once; a 30-minute overlap misses it for good.
 */
import { validatePolicy } from '../../src/config/policy';
import { runScan, type ScanResult } from '../../src/pipeline';
import { RULES } from '../../src/rules/index';
import { generateDemoTenant } from '../../src/sim/demo-tenant';
import { signInAvailable, type DemoTenant } from '../../src/sim/tenant';
import { Store } from '../../src/store/store';
import { startTestSim, type TestSim } from '../support/sim';

const implemented = new Set<string>(RULES.map((r) => r.id));
const key = (ruleId: string, subjectId: string) => `${ruleId} ${subjectId}`;
const MIN = 60_000;

const expected = (demo: DemoTenant): string[] =>
  demo.groundTruth.filter((g) => implemented.has(g.ruleId)).map((g) => key(g.ruleId, g.subjectId)).sort();
const found = (r: ScanResult): string[] => r.findings.map((f) => key(f.ruleId, f.subject.id)).sort();
const stateIds = (r: ScanResult): string[] => r.findings.filter((f) => f.kind === 'state').map((f) => f.id).sort();

let store: Store;
beforeAll(async () => {
  store = await Store.connect(process.env.AZURE_STORAGE_CONNECTION_STRING ?? '');
});

/**
 * A demo tenant behind a simulator whose clock the test moves, and a scan at a given time from
 * the store (never `freshState` after the first run, so the second reads from the watermark).
 */
async function withLateDemo(seed: number, fn: (ctx: { demo: DemoTenant; t: TestSim; scanAt: (at: number, overlapMinutes?: number) => Promise<ScanResult> }) => Promise<void>): Promise<void> {
  const demo = generateDemoTenant({ seed, users: 60 });
  let simNow = Date.parse(demo.now);
  const t = await startTestSim({ tenant: JSON.parse(JSON.stringify(demo.data)), throttle: false, clock: () => new Date(simNow) });
  const graph = t.graph({ budgets: { identityReports: { limit: 1000, perSeconds: 1 }, signInActivity: { limit: 1000, perSeconds: 1 }, conditionalAccess: { limit: 1000, perSeconds: 1 } } });
  let first = true;
  const scanAt = (at: number, overlapMinutes?: number): Promise<ScanResult> => {
    simNow = at;
    const freshState = first;
    first = false;
    return runScan({
      graph,
      policy: validatePolicy(demo.policy, 'demo policy'),
      tenantId: demo.data.tenantId,
      store,
      clock: () => new Date(at),
      collectOptions: { freshState, ...(overlapMinutes === undefined ? {} : { signInOverlapMinutes: overlapMinutes }) },
    });
  };
  try {
    await fn({ demo, t, scanAt });
  } finally {
    await t.close();
  }
}

describe('late-arriving sign-ins', () => {
  it('a scan at now sees the near miss; the next scan after the arrival, from the watermark, adds exactly the late SIGN-01, counting nothing twice', async () => {
    await withLateDemo(71, async ({ demo, scanAt }) => {
      const now = Date.parse(demo.now);
      const [late] = demo.late.groundTruth;
      if (!late) throw new Error('the demo tenant plants no late arrival');
      expect(demo.late.groundTruth).toEqual([expect.objectContaining({ ruleId: 'SIGN-01' })]);
      const lateIds = Object.keys(demo.data.signInAvailableAt ?? {});
      expect(lateIds).toHaveLength(1);
      expect(Date.parse(demo.late.availableAt)).toBe(now + 10 * MIN);

      const first = await scanAt(now);
      expect(found(first)).toEqual(expected(demo));
      expect(found(first)).not.toContain(key('SIGN-01', late.subjectId));
      expect(first.coverage.signins).toEqual({ status: 'complete', items: demo.data.signIns.filter((s) => signInAvailable(demo.data, s, new Date(now))).length });
      expect(first.coverage.signins?.items).toBe(demo.data.signIns.length - 1);

      const second = await scanAt(Date.parse(demo.late.availableAt) + 10 * MIN);
      expect(second.exitCode).toBe(0);
      // The state findings are the same ones; the only new finding is the late SIGN-01.
      expect(stateIds(second)).toEqual(stateIds(first));
      const events = second.findings.filter((f) => f.kind === 'event');
      expect(events.map((f) => key(f.ruleId, f.subject.id))).toEqual([key('SIGN-01', late.subjectId)]);
      expect(found(second)).toEqual([...found(first).filter((k) => first.findings.some((f) => f.kind === 'state' && key(f.ruleId, f.subject.id) === k)), key('SIGN-01', late.subjectId)].sort());
      // Read from the watermark minus 2 h: the nine failures again (known, not counted) and the late one.
      expect(second.coverage.signins).toEqual({ status: 'complete', items: 1 });
      const evidence = events[0]?.evidence as { failures: number; occurrences: Array<{ failures: number; signInIds: string[] }> };
      expect(evidence.failures).toBe(10);
      expect(evidence.occurrences).toHaveLength(1);
      const ids = evidence.occurrences[0]?.signInIds ?? [];
      expect(ids).toHaveLength(10);
      expect(new Set(ids).size).toBe(10);
      expect(ids).toContain(lateIds[0]);
      const ledger = await store.getLedger(demo.data.tenantId);
      expect(ledger.get(events[0]?.id ?? '')?.evidence).toMatchObject({ failures: 10 });
    });
  });

  it('with a 30-minute overlap the same second scan misses the late sign-in', async () => {
    // Another demo tenant (another tenant id): its own watermark and ledger.
    await withLateDemo(72, async ({ demo, scanAt }) => {
      const now = Date.parse(demo.now);
      const [late] = demo.late.groundTruth;
      if (!late) throw new Error('the demo tenant plants no late arrival');
      const first = await scanAt(now);
      expect(found(first)).toEqual(expected(demo));
      const second = await scanAt(Date.parse(demo.late.availableAt) + 10 * MIN, 30);
      expect(second.coverage.signins).toEqual({ status: 'complete', items: 0 });
      expect(found(second)).not.toContain(key('SIGN-01', late.subjectId));
      expect(second.findings.filter((f) => f.kind === 'event')).toEqual([]);
      expect(stateIds(second)).toEqual(stateIds(first));
    });
  });
});
