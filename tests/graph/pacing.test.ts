/**
 * Adaptive pacing (src/graph/pacing.ts): the AIMD controller itself, inbox rules of a few
 * hundred mailboxes under both Outlook readings with 429s ≤ 1% of requests (measured on the
 * simulator's own counts), and budgets shared by (root, tenant, app) between a scan and a
 * sign-in watch in one process.
 */
import { GRAPH_BUDGETS, RequestBudgets } from '../../src/graph/budget';
import { Aimd, clearSharedPacing, MAX_SUCCESS_WINDOW, SUCCESS_WINDOW } from '../../src/graph/pacing';
import { SCAN_HEADROOM } from '../../src/runtime';
import { generateDemoTenant } from '../../src/sim/demo-tenant';
import { startTestSim } from '../support/sim';

jest.setTimeout(180_000);

describe('Aimd', () => {
  test('starts at start, adds one after a window of successes, halves on a 429, never above the cap', async () => {
    const a = new Aimd({ start: 4, cap: 6 });
    expect(a.allowed).toBe(4);
    const s1 = await a.acquire(4);
    a.release(s1, { throttled: 0, succeeded: SUCCESS_WINDOW - 1 });
    expect(a.allowed).toBe(4);
    const s2 = await a.acquire(1);
    a.release(s2, { throttled: 0, succeeded: 1 });
    expect(a.allowed).toBe(5);
    for (let i = 0; i < 5; i++) a.release(await a.acquire(1), { throttled: 0, succeeded: SUCCESS_WINDOW });
    expect(a.allowed).toBe(6);
    // Two claims in flight when the 429s come back: one halving, not two.
    const x = await a.acquire(1);
    const y = await a.acquire(1);
    a.release(x, { throttled: 1, succeeded: 0 });
    a.release(y, { throttled: 1, succeeded: 0 });
    expect(a.allowed).toBe(3);
    expect(a.decreases).toBe(1);
    // After a 429 the window doubles: one window's successes no longer add one.
    a.release(await a.acquire(1), { throttled: 0, succeeded: SUCCESS_WINDOW });
    expect(a.allowed).toBe(3);
    a.release(await a.acquire(1), { throttled: 0, succeeded: SUCCESS_WINDOW });
    expect(a.allowed).toBe(4);
    expect(MAX_SUCCESS_WINDOW).toBeGreaterThan(SUCCESS_WINDOW);
  });

  test('above 7 in flight each window adds a quarter (4 to 64 in 15 windows), never past the cap', async () => {
    const a = new Aimd({ start: 4, cap: 64, window: 10 });
    const seen: number[] = [a.allowed];
    while (a.allowed < 64) {
      a.release(await a.acquire(1), { throttled: 0, succeeded: 10 });
      seen.push(a.allowed);
    }
    expect(seen).toEqual([4, 5, 6, 7, 8, 10, 12, 15, 18, 22, 27, 33, 41, 51, 63, 64]);
    a.release(await a.acquire(1), { throttled: 0, succeeded: 10 });
    expect(a.allowed).toBe(64);
  });

  test('a claim waits while the allowance is used, and one larger than the allowance runs alone', async () => {
    const a = new Aimd({ start: 2, cap: 2 });
    const first = await a.acquire(2);
    let second = false;
    const pending = a.acquire(4).then((s) => {
      second = true;
      return s;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(second).toBe(false);
    a.release(first, { throttled: 0, succeeded: 1 });
    const s = await pending;
    expect(second).toBe(true);
    expect(a.inFlight).toBe(4);
    a.release(s, { throttled: 0, succeeded: 1 });
    expect(a.inFlight).toBe(0);
  });
});

describe.each(['perApp', 'perMailbox'] as const)('inbox rules of a few hundred mailboxes, %s reading', (reading) => {
  const demo = generateDemoTenant({ seed: 540, users: 600 });
  const mailboxes = Object.keys(demo.data.messageRules);
  const requests = mailboxes.map((id, i) => ({ id: String(i), method: 'GET' as const, url: `/users/${id}/mailFolders/inbox/messageRules` }));

  test('every mailbox answers, with 429s at most 1% of the requests the simulator received', async () => {
    expect(mailboxes.length).toBeGreaterThanOrEqual(450); // past the first probe (300 successes)
    const t = await startTestSim({ tenant: demo.data, latencyMs: 40, throttleReadings: { outlookConcurrency: reading } });
    try {
      const results = await t.graph({ batchConcurrency: 4 }).batch(requests);
      expect(results.filter((r) => r.status !== 200)).toEqual([]);
      const counts = t.sim.counts();
      const sent = counts.messageRules ?? 0;
      const throttled = counts.throttled ?? 0;
      expect(sent).toBe(mailboxes.length + throttled); // each 429 was retried once it could be
      expect(throttled).toBeLessThanOrEqual(sent * 0.01);
      if (reading === 'perMailbox') expect(throttled).toBe(0);
    } finally {
      await t.close();
    }
  });
});

describe('budgets shared per (root, tenant, app)', () => {
  afterEach(() => clearSharedPacing());

  /**
   * A scan reading the registration report and a watch reading sign-ins at the same time, both
   * identity reports (5 requests per 10 s per app per tenant; here 5 per 2 s on both sides, to
   * keep the test short). Returns the 429s the simulator sent.
   */
  async function scanAndWatch(share: boolean): Promise<{ throttled: number; pages: number }> {
    const demo = generateDemoTenant({ seed: 541, users: 40 });
    const t = await startTestSim({
      tenant: demo.data,
      throttle: { identityReports: { limit: 5, perSeconds: 2 } },
      maxPageSize: { userRegistrationDetails: 5, signIns: 5 },
    });
    try {
      const options = {
        budgets: { identityReports: { limit: 5, perSeconds: 2 } },
        root: t.sim.url,
        ...(share ? { share: { tenantId: demo.data.tenantId, appId: 'app-1' } } : {}),
      };
      const scan = t.graph(options);
      const watch = t.graph(options);
      const [a, b] = await Promise.all([
        scan.all('/reports/authenticationMethods/userRegistrationDetails?$top=5'),
        watch.all('/auditLogs/signIns?$top=5'),
      ]);
      expect(a.length).toBe(demo.data.userRegistrationDetails.length);
      expect(b.length).toBeGreaterThan(0);
      return { throttled: t.sim.counts().throttled ?? 0, pages: (t.sim.counts().userRegistrationDetails ?? 0) + (t.sim.counts().signIns ?? 0) };
    } finally {
      await t.close();
    }
  }

  test('one budget for a scan and a watch: no 429s, where separate budgets collide', async () => {
    const separate = await scanAndWatch(false);
    const shared = await scanAndWatch(true);
    expect(separate.pages).toBeGreaterThan(10); // more than one window's worth, so pacing matters
    expect(separate.throttled).toBeGreaterThan(0);
    expect(shared.throttled).toBe(0);
  });
});

describe('headroom across processes', () => {
  test("a scan leaves one of the identity reports' 5 per 10 s unused; a caller without headroom gets it at once", async () => {
    expect(SCAN_HEADROOM.identityReports).toBe(1);
    let now = 1_000_000;
    const slept: number[] = [];
    const budgets = new RequestBudgets(GRAPH_BUDGETS, () => now, async (ms) => {
      slept.push(ms);
      now += ms;
    });
    for (let i = 0; i < 4; i++) await budgets.acquire('identityReports', 1, SCAN_HEADROOM.identityReports);
    expect(slept).toEqual([]);
    // The watch (no headroom) takes the fifth without waiting.
    await budgets.acquire('identityReports', 1);
    expect(slept).toEqual([]);
    // The scan's next one waits for the window to move on.
    await budgets.acquire('identityReports', 1, SCAN_HEADROOM.identityReports);
    expect(slept.reduce((a, b) => a + b, 0)).toBe(10_000);
  });
});
