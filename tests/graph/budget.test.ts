/**
 * Budgets with a cost per request (SharePoint's resource units, "Avoid getting throttled or
 * blocked in SharePoint Online"): the costs, the licence bands, the pacing on an injected clock,
 * the draft RateLimit-* headers, and the files collector sizing its budget and spending exactly
 * what the simulator charges.
 */
import { collectSharing } from '../../src/collect/files';
import { costOf, GRAPH_BUDGETS, RequestBudgets, sharepointBudget } from '../../src/graph/budget';
import { rolesOfToken, SIMULATOR_DEFAULT_ROLES, simulatorToken } from '../../src/graph/client';
import { generateDemoTenant } from '../../src/sim/demo-tenant';
import { startTestSim, testContext, type TestSim } from '../support/sim';
import { virtualTime } from '../support/virtual-time';


describe('costs and bands', () => {
  it('costs SharePoint requests in resource units and everything else 1', () => {
    expect(costOf('/drives/b!x/items/01AB/permissions')).toBe(5);
    expect(costOf('https://graph.microsoft.com/v1.0/drives/b!x/items/01AB/permissions?$skiptoken=x')).toBe(5);
    expect(costOf('/drives/b!x/root/delta')).toBe(2);
    expect(costOf('https://graph.microsoft.com/v1.0/drives/b!x/root/delta?token=abc')).toBe(1);
    expect(costOf("/drives/b!x/root/delta(token='abc')")).toBe(1);
    expect(costOf('/sites/s1/drives?$select=id,name,webUrl')).toBe(2);
    expect(costOf('/sites/getAllSites?$top=999')).toBe(2);
    expect(costOf('https://graph.microsoft.com/v1.0/sites/oneDrive.getAllSites?$skiptoken=x')).toBe(2);
    expect(costOf('/admin/sharepoint/settings')).toBe(1);
    expect(costOf('/users?$select=id')).toBe(1);
    expect(costOf('/$batch')).toBe(1);
  });

  it('sizes the SharePoint budget by licence band, the lowest when unknown', () => {
    expect(sharepointBudget(undefined)).toEqual({ limit: 1_200, perSeconds: 60 });
    expect(sharepointBudget(999).limit).toBe(1_200);
    expect(sharepointBudget(1_000).limit).toBe(2_400);
    expect(sharepointBudget(5_000).limit).toBe(3_600);
    expect(sharepointBudget(15_000).limit).toBe(4_800);
    expect(sharepointBudget(50_000).limit).toBe(6_000);
    expect(GRAPH_BUDGETS.sharepoint).toEqual(sharepointBudget(undefined));
  });
});

describe('granted roles from the access token', () => {
  it('reads the roles claim of a JWT payload; an opaque or malformed token has none', () => {
    const token = simulatorToken(['Sites.Read.All', 'User.Read.All']);
    expect(token.split('.')).toHaveLength(3);
    expect(rolesOfToken(token)).toEqual(['Sites.Read.All', 'User.Read.All']);
    expect(rolesOfToken(simulatorToken(SIMULATOR_DEFAULT_ROLES))).toContain('Sites.FullControl.All');
    expect(rolesOfToken('simulator-placeholder-token')).toBeUndefined();
    expect(rolesOfToken('a.bm90IGpzb24.c')).toBeUndefined();
    expect(rolesOfToken(`x.${Buffer.from('{"scp":"Files.Read"}').toString('base64url')}.y`)).toBeUndefined();
  });
});

describe('costed pacing', () => {
  it('counts units, not requests: two 5-unit reads fill a 10-unit minute, the third waits for the window', async () => {
    const v = virtualTime();
    const budgets = new RequestBudgets({ ...GRAPH_BUDGETS, sharepoint: { limit: 10, perSeconds: 60 } }, v.clock, v.sleep);
    const start = v.now();
    await budgets.acquire('sharepoint', 5);
    await budgets.acquire('sharepoint', 5);
    expect(v.slept).toEqual([]);
    await budgets.acquire('sharepoint', 5);
    expect(v.now() - start).toBe(60_000);
    // Ten 1-unit requests fit the next window.
    for (let i = 0; i < 5; i++) await budgets.acquire('sharepoint', 1);
    expect(v.now() - start).toBe(60_000);
  });

  it('a new budget applies to requests still waiting', async () => {
    const v = virtualTime();
    const budgets = new RequestBudgets({ ...GRAPH_BUDGETS, sharepoint: { limit: 5, perSeconds: 60 } }, v.clock, v.sleep);
    await budgets.acquire('sharepoint', 5);
    budgets.setBudget('sharepoint', { limit: 10, perSeconds: 60 });
    await budgets.acquire('sharepoint', 5);
    expect(v.slept).toEqual([]);
  });

  it('honours RateLimit-Remaining / RateLimit-Reset: nothing at 0 until the reset, then no more than what is left', async () => {
    const v = virtualTime();
    const budgets = new RequestBudgets(GRAPH_BUDGETS, v.clock, v.sleep);
    const start = v.now();
    budgets.observe('sharepoint', 0, start + 30_000);
    await budgets.acquire('sharepoint', 1);
    expect(v.now() - start).toBe(30_000);
    budgets.observe('sharepoint', 6, v.now() + 20_000);
    await budgets.acquire('sharepoint', 5);
    expect(v.now() - start).toBe(30_000);
    // 1 unit left before the reset: a 5-unit read waits for it.
    await budgets.acquire('sharepoint', 5);
    expect(v.now() - start).toBe(50_000);
  });
});

describe('against the simulator', () => {
  let t: TestSim;
  afterEach(async () => {
    await t.close();
  });

  it('the Graph client spends exactly the resource units the simulator charges, and the collector sizes its budget from M365_AUDIT_LICENCE_COUNT', async () => {
    t = await startTestSim({ throttle: false, maxPageSize: { delta: 2 } });
    const graph = t.graph({ licenceCount: 20_000 });
    const slice = await collectSharing(testContext(graph));
    expect(slice.status).toBe('complete');
    expect(graph.budget('sharepoint')).toEqual({ limit: 4_800, perSeconds: 60 });
    expect(t.sim.counts().resourceUnits).toBeGreaterThan(0);
    expect(graph.stats.units.sharepoint).toBe(t.sim.counts().resourceUnits);
  });

  it('without a licence count, estimates the band from the enabled members of the directory', async () => {
    const demo = generateDemoTenant({ seed: 5, users: 1_300 });
    const members = demo.data.users.filter((u) => u.accountEnabled === true && u.userType === 'Member').length;
    expect(members).toBeGreaterThanOrEqual(1_000);
    t = await startTestSim({ tenant: demo.data, throttle: false });
    const graph = t.graph();
    expect(graph.licenceCount).toBeUndefined();
    await collectSharing(testContext(graph));
    expect(graph.budget('sharepoint').limit).toBe(2_400);
  });

  it('paces by the simulator\'s RateLimit-* headers: after RateLimit-Remaining 0 nothing is sent before RateLimit-Reset', async () => {
    t = await startTestSim({ throttle: { sharepoint: { limit: 10, perSeconds: 600 } } });
    const v = virtualTime();
    const graph = t.graph({ clock: v.clock, sleep: v.sleep });
    const url = (await collectFirstShared(t)).url;
    await graph.get(url); // 5 of 10 left
    await graph.get(url); // 0 left: RateLimit-Remaining 0, RateLimit-Reset ~600 s
    expect(v.slept).toEqual([]);
    t.sim.resetThrottling();
    await graph.get(url);
    expect(Math.max(...v.slept)).toBeGreaterThanOrEqual(590_000);
    expect(t.sim.counts().throttled ?? 0).toBe(0);
  });

  it('a resource-unit 429 inside $batch is retried after its Retry-After and the read completes', async () => {
    // 20 RU a second: a batch of permission reads overruns it, and the items are retried.
    t = await startTestSim({ throttle: { sharepoint: { limit: 20, perSeconds: 1 } } });
    const graph = t.graph({ budgets: { sharepoint: { limit: 100_000, perSeconds: 1 } } });
    const first = await collectFirstShared(t);
    const results = await graph.batch(Array.from({ length: 8 }, (_, i) => ({ id: String(i), method: 'GET' as const, url: first.url })));
    expect(results.map((r) => r.status)).toEqual(Array(8).fill(200));
    expect(t.sim.counts().throttled).toBeGreaterThan(0);
  });
});

/** The permissions URL of the first shared item of the simulator's tenant. */
async function collectFirstShared(t: TestSim): Promise<{ url: string }> {
  for (const site of t.sim.tenant.sites) {
    for (const d of site.drives) {
      const item = d.items.find((i) => i.shared !== undefined);
      if (item) return { url: `/drives/${d.drive.id as string}/items/${item.id as string}/permissions` };
    }
  }
  throw new Error('no shared item in the tenant');
}
