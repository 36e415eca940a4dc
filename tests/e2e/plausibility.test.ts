/**
 * Plausibility before resolution (issue 9), end to end: the real pipeline against the simulator
 * with the ledger on Azurite. Graph answering 200 with an empty user or site list, or with far
 * fewer than the last complete scan saw, must leave the area partial (saying why), resolve
 * nothing and exit 2; so must a scan that would resolve most of an area's open findings at once,
 * unless the operator confirms.
 */
import { validatePolicy, type Policy } from '../../src/config/policy';
import { runScan, type ScanResult } from '../../src/pipeline';
import { DEFAULT_PLANNER_BUCKET_ID, DEFAULT_PLANNER_PLAN_ID } from '../../src/sim/server';
import type { DemoTenant, JsonObject } from '../../src/sim/tenant';
import { Store } from '../../src/store/store';
import { PlannerSink } from '../../src/tickets/planner';
import { withSim, type TestSim } from '../support/sim';

let store: Store;
beforeAll(async () => {
  store = await Store.connect(process.env.AZURE_STORAGE_CONNECTION_STRING ?? '');
});


function scan(t: TestSim, demo: DemoTenant, over: { policy?: Policy; fresh?: boolean; confirm?: boolean } = {}): Promise<ScanResult> {
  const graph = t.graph({ budgets: { identityReports: { limit: 1000, perSeconds: 1 }, signInActivity: { limit: 1000, perSeconds: 1 }, conditionalAccess: { limit: 1000, perSeconds: 1 } } });
  return runScan({
    graph,
    policy: over.policy ?? validatePolicy(demo.policy),
    tenantId: demo.data.tenantId,
    store,
    sinks: (directory) => [new PlannerSink(graph, { planId: DEFAULT_PLANNER_PLAN_ID, bucketId: DEFAULT_PLANNER_BUCKET_ID, userIdOf: (a) => directory.userIdOf(a) })],
    collectOptions: { freshState: over.fresh ?? false },
    ...(over.confirm ? { confirmResolutions: true } : {}),
  });
}

/** The tenant's unresolved state findings in the ledger, by area. */
async function openByArea(demo: DemoTenant): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const e of (await store.getLedger(demo.data.tenantId)).values()) if (e.kind === 'state' && e.status !== 'resolved') out[e.area] = (out[e.area] ?? 0) + 1;
  return out;
}

describe('plausibility before resolution', () => {
  it('an empty user list (200, value []) resolves nothing, closes no ticket, exits 2 and says why', async () => {
    await withSim(901, async (t, demo) => {
      const first = await scan(t, demo, { fresh: true });
      expect(first.exitCode).toBe(0);
      const users = first.coverage.accounts?.items ?? 0;
      expect(users).toBeGreaterThan(0);
      const before = await openByArea(demo);
      const tasksBefore = t.sim.plannerTasks().filter((x) => x.task.percentComplete === 100).length;

      t.sim.tenant.users = [];
      const empty = await scan(t, demo);
      expect(empty.exitCode).toBe(2);
      expect(empty.ledger?.resolved).toBe(0);
      expect(empty.tickets?.closed).toEqual([]);
      expect(empty.coverage.accounts?.status).toBe('partial');
      expect(empty.coverage.accounts?.detail).toContain(`GET /users answered with 0 users; the last complete scan (${first.startedAt}, ${first.scanId}) saw ${users}`);
      // Everything the user list feeds is partial too: MFA and role rules read it, mail reads the directory.
      expect(empty.coverage.mfa?.status).toBe('partial');
      expect(empty.coverage.roles?.status).toBe('partial');
      expect(empty.coverage.mail?.status).toBe('partial');
      expect(await openByArea(demo)).toEqual(before);
      expect(t.sim.plannerTasks().filter((x) => x.task.percentComplete === 100).length).toBe(tasksBefore);
      // The suspect scan is no baseline: the record keeps no user count from it.
      const [record] = await store.listScans(demo.data.tenantId, 1);
      expect(record).toMatchObject({ scanId: empty.scanId, exitCode: 2 });
      expect(record?.slices?.users).toBeUndefined();
      expect(record?.slices?.sites).toBeGreaterThan(0);
    });
  }, 120_000);

  it('a first scan ever with zero users is suspect too (a tenant always has its administrator)', async () => {
    await withSim(902, async (t, demo) => {
      t.sim.tenant.users = [];
      const r = await scan(t, demo, { fresh: true });
      expect(r.exitCode).toBe(2);
      expect(r.coverage.accounts).toMatchObject({ status: 'partial', items: 0 });
      expect(r.coverage.accounts?.detail).toContain('GET /users answered with 0 users, and a tenant always has at least its administrator');
    });
  }, 120_000);

  it('an empty site list (200, value []) resolves no file finding, exits 2 and says why', async () => {
    await withSim(903, async (t, demo) => {
      const first = await scan(t, demo, { fresh: true });
      expect(first.exitCode).toBe(0);
      const before = await openByArea(demo);
      expect(before.files).toBeGreaterThan(0);

      t.sim.tenant.sites = [];
      const empty = await scan(t, demo);
      expect(empty.exitCode).toBe(2);
      expect(empty.ledger?.resolved).toBe(0);
      expect(empty.tickets?.closed).toEqual([]);
      expect(empty.coverage.files?.status).toBe('partial');
      expect(empty.coverage.files?.detail).toMatch(/sites: suspect: GET \/sites\/getAllSites answered with 0 sites; the last complete scan \(.*\) saw 9/);
      expect(empty.coverage.files?.detail).toContain('sharing: suspect: read from the sites slice, which is suspect');
      expect(await openByArea(demo)).toEqual(before);
      // The other areas are untouched: a complete accounts read is still complete.
      expect(empty.coverage.accounts?.status).toBe('complete');
    });
  }, 120_000);

  it('a drop below plausibility.minFractionOfLast is suspect; confirmed, it resolves and becomes the baseline', async () => {
    await withSim(904, async (t, demo) => {
      const first = await scan(t, demo, { fresh: true });
      expect(first.exitCode).toBe(0);
      const users = first.coverage.accounts?.items ?? 0;
      const before = await openByArea(demo);
      // A third of the users answered: well-formed, but fewer than half of what was seen.
      const kept = Math.floor(users / 3);
      t.sim.tenant.users = t.sim.tenant.users.slice(0, kept);
      const dropped = await scan(t, demo);
      expect(dropped.exitCode).toBe(2);
      expect(dropped.ledger?.resolved).toBe(0);
      expect(dropped.coverage.accounts?.status).toBe('partial');
      expect(dropped.coverage.accounts?.detail).toContain(`GET /users answered with ${kept} users, fewer than 50% (plausibility.minFractionOfLast) of the ${users} the last complete scan saw (${first.startedAt}, ${first.scanId})`);
      expect(dropped.coverage.accounts?.detail).toContain('--confirm-resolutions');
      expect(await openByArea(demo)).toEqual(before);

      // The operator confirms: the findings of the users gone resolve, and the new count is the baseline.
      const confirmed = await scan(t, demo, { confirm: true });
      expect(confirmed.coverage.accounts?.status).toBe('complete');
      expect(confirmed.ledger?.resolved).toBeGreaterThan(0);
      const again = await scan(t, demo);
      expect(again.coverage.accounts?.status).toBe('complete');
      expect(again.exitCode).toBe(0);
    });
  }, 180_000);

  it('resolving more than plausibility.maxResolvedShare of an area at once needs --confirm-resolutions', async () => {
    await withSim(905, async (t, demo) => {
      const first = await scan(t, demo, { fresh: true });
      expect(first.exitCode).toBe(0);
      const open = (await openByArea(demo)).mfa ?? 0;
      expect(open).toBeGreaterThanOrEqual(5);
      // Everyone registers a FIDO2 key at once: MFA-01, MFA-02 and MFA-05 go, most of the area's findings.
      for (const r of t.sim.tenant.userRegistrationDetails as JsonObject[]) {
        r.isMfaRegistered = true;
        r.methodsRegistered = [...((r.methodsRegistered as string[] | undefined) ?? []), 'fido2SecurityKey'];
      }
      const held = await scan(t, demo);
      expect(held.exitCode).toBe(2);
      expect(held.ledger?.resolved).toBe(0);
      expect(held.tickets?.closed).toEqual([]);
      expect(held.coverage.mfa?.status).toBe('partial');
      expect(held.coverage.mfa?.detail).toMatch(new RegExp(`would resolve (\\d+) of the area's ${open} open findings at once \\(more than 50%, plausibility\\.maxResolvedShare\\); nothing was resolved in this area .*--confirm-resolutions`));
      expect((await openByArea(demo)).mfa).toBe(open);
      // Other areas resolve as usual; only the guarded area waits.
      expect(held.coverage.accounts?.status).toBe('complete');

      const confirmed = await scan(t, demo, { confirm: true });
      const would = Number(/would resolve (\d+)/.exec(held.coverage.mfa?.detail ?? '')?.[1]);
      expect(confirmed.ledger?.resolved).toBe(would);
      expect(confirmed.tickets?.closed).toHaveLength(would);
      expect(confirmed.coverage.mfa?.status).toBe('complete');
      expect(confirmed.exitCode).toBe(0);
      expect((await openByArea(demo)).mfa).toBe(open - would);
    });
  }, 180_000);
});

