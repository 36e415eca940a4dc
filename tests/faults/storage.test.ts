/**
 * The fault suite (issue 14), storage side: the table service going away in the middle of a run
 * (after N ledger writes), and a queue message delivered twice at once.
 */
import { validatePolicy } from '../../src/config/policy';
import { StoreError } from '../../src/errors';
import { runScan } from '../../src/pipeline';
import { DEFAULT_PLANNER_BUCKET_ID, DEFAULT_PLANNER_PLAN_ID } from '../../src/sim/server';
import type { DemoTenant } from '../../src/sim/tenant';
import { Store } from '../../src/store/store';
import { PlannerSink } from '../../src/tickets/planner';
import { withSim, type TestSim } from '../support/sim';

let store: Store;
beforeAll(async () => {
  store = await Store.connect(process.env.AZURE_STORAGE_CONNECTION_STRING ?? '');
});

/** The store, but its ledger writes fail with a StoreError from the (n+1)th on, as an outage would. */
function failingAfter(n: number): { store: Store; writes: () => number } {
  let writes = 0;
  const proxy = new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'putLedgerEntries') {
        return async (...args: Parameters<Store['putLedgerEntries']>) => {
          writes++;
          if (writes > n) throw new StoreError('ledger table: 503 ServerBusy (the storage account is unavailable) — run again once storage answers');
          return target.putLedgerEntries(...args);
        };
      }
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { store: proxy, writes: () => writes };
}

function scan(t: TestSim, demo: DemoTenant, s: Store) {
  const graph = t.graph({ budgets: { identityReports: { limit: 1000, perSeconds: 1 }, signInActivity: { limit: 1000, perSeconds: 1 }, conditionalAccess: { limit: 1000, perSeconds: 1 } } });
  return runScan({
    graph,
    policy: validatePolicy(demo.policy),
    tenantId: demo.data.tenantId,
    store: s,
    areas: ['accounts', 'mfa'],
    sinks: (directory) => [new PlannerSink(graph, { planId: DEFAULT_PLANNER_PLAN_ID, bucketId: DEFAULT_PLANNER_BUCKET_ID, userIdOf: (a) => directory.userIdOf(a) })],
  });
}

describe('storage unavailable in the middle of a run', () => {
  it('stops with the StoreError, sends no ticket whose intent is not recorded, and the rerun completes without duplicates', async () => {
    await withSim(491, async (t, demo) => {
      // The reconciliation's write succeeds; the first ticket intent's write fails.
      const failing = failingAfter(1);
      const err = await scan(t, demo, failing.store).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect((err as Error).message).toMatch(/ledger table: 503 ServerBusy/);
      expect(failing.writes()).toBe(2);
      // Findings are on record; no task was created without its intent in the ledger.
      const ledger = await store.getLedger(demo.data.tenantId);
      expect(ledger.size).toBeGreaterThan(0);
      const intents = [...ledger.values()].filter((e) => e.ticket?.sinks?.planner !== undefined).length;
      expect(t.sim.plannerTasks().length).toBeLessThanOrEqual(intents);
      expect(t.sim.plannerTasks()).toHaveLength(0);

      const rerun = await scan(t, demo, store);
      const open = rerun.findings.filter((f) => f.status === 'open').length;
      expect(open).toBeGreaterThan(0);
      expect(rerun.coverage.accounts?.status).toBe('complete');
      expect(t.sim.plannerTasks()).toHaveLength(open);
      const again = await scan(t, demo, store);
      expect(again.tickets?.opened).toEqual([]);
      expect(t.sim.plannerTasks()).toHaveLength(open);
      expect((await store.getLedger(demo.data.tenantId)).size).toBe(rerun.findings.length);
    });
  });
});
