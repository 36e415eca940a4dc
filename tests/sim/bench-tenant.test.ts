/**
 * The bench tenant's lazy parts (src/sim/bench-tenant.ts, issue 13) served over HTTPS: the
 * lazy sign-ins merge with the demo's newest first, every record once, under the collectors'
 * `createdDateTime ge/le` windows and paging; the lazy libraries hold 200 items, 4 of them
 * shared, and the ground truth names the planted ones.
 */
import { generateBenchTenant, BENCH_ITEMS_PER_LIBRARY } from '../../src/sim/bench-tenant';
import { signInAvailable } from '../../src/sim/tenant';
import { startTestSim } from '../support/sim';

describe('bench tenant', () => {
  const bench = generateBenchTenant({ seed: 530, users: 120 });

  test('shape: users / 20 team sites and a OneDrive per user, 200 items a library, 4 shared', () => {
    expect(bench.shape).toMatchObject({ teamSites: 6, oneDrives: bench.data.users.length, lazySignIns: 1200 });
    expect(bench.data.sites.length).toBe(bench.shape.demoSites + 6 + bench.data.users.length);
    const lazy = bench.data.sites[bench.shape.demoSites]!.drives[0]!;
    expect(lazy.items).toHaveLength(BENCH_ITEMS_PER_LIBRARY);
    expect(lazy.items.filter((i) => i.shared !== undefined)).toHaveLength(4);
    expect(Object.keys(lazy.permissions)).toHaveLength(4);
    // Library 0 is a team site (class II) and a multiple of 10: a FILE-02 and a FILE-01.
    const planted = bench.groundTruth.filter((g) => g.subjectId.startsWith(`${String(lazy.drive.id)}/`)).map((g) => g.ruleId).sort();
    expect(planted).toEqual(['FILE-01', 'FILE-02']);
  });

  test('sign-ins: a window pages through demo and lazy records newest first, each once', async () => {
    const t = await startTestSim({ tenant: bench.data, throttle: false, maxPageSize: { signIns: 97 } });
    try {
      const graph = t.graph();
      const to = Date.parse(bench.now);
      const from = to - 12 * 3600_000;
      const iso = (ms: number): string => new Date(ms).toISOString();
      const filter = encodeURIComponent(`createdDateTime ge ${iso(from)} and createdDateTime le ${iso(to)}`);
      const seen: Array<{ id: string; at: number }> = [];
      for await (const page of graph.pages(`/auditLogs/signIns?$filter=${filter}&$top=97`)) {
        for (const s of page.value as Array<{ id: string; createdDateTime: string }>) seen.push({ id: s.id, at: Date.parse(s.createdDateTime) });
      }
      const inWindow = (ms: number): boolean => ms >= from && ms <= to;
      const lazy = bench.data.lazySignIns!;
      let lazyIn = 0;
      for (let i = 0; i < lazy.count; i++) if (inWindow(lazy.timeOf(i))) lazyIn++;
      // The demo's late arrival (signInAvailableAt, now + 10 min) is not in the log yet.
      const demoIn = bench.data.signIns.filter((s) => inWindow(Date.parse(String(s.createdDateTime))) && signInAvailable(bench.data, s, new Date())).length;
      expect(lazyIn).toBeGreaterThan(500);
      expect(seen).toHaveLength(lazyIn + demoIn);
      expect(new Set(seen.map((s) => s.id)).size).toBe(seen.length);
      for (let i = 1; i < seen.length; i++) expect(seen[i]!.at).toBeLessThanOrEqual(seen[i - 1]!.at);
    } finally {
      await t.close();
    }
  }, 60_000);
});
