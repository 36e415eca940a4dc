/**
 * The fault suite (issue 14): a scan-requests queue message delivered twice (at-least-once
 * delivery), one after the other and both at once: one scan, one set of tickets.
 */
import { InvocationContext } from '@azure/functions';
import { scanWorkerHandler } from '../../functions/scan-worker';
import { validatePolicy } from '../../src/config/policy';
import { loadSettings } from '../../src/config/settings';
import type { ScanRequestMessage } from '../../src/jobs/scan-request';
import type { ScanDeps } from '../../src/runtime';
import { DEFAULT_PLANNER_BUCKET_ID, DEFAULT_PLANNER_PLAN_ID } from '../../src/sim/server';
import type { DemoTenant } from '../../src/sim/tenant';
import { Store } from '../../src/store/store';
import { sinksFromSettings } from '../../src/tickets/sinks';
import { withSim, type TestSim } from '../support/sim';

let store: Store;
beforeAll(async () => {
  store = await Store.connect(process.env.AZURE_STORAGE_CONNECTION_STRING ?? '');
});

const ctx = (): InvocationContext => new InvocationContext({ functionName: 'scanWorker', invocationId: 'test', logHandler: () => undefined });

function depsFor(t: TestSim, demo: DemoTenant): () => Promise<ScanDeps> {
  const settings = loadSettings({ M365_AUDIT_PLANNER_PLAN_ID: DEFAULT_PLANNER_PLAN_ID, M365_AUDIT_PLANNER_BUCKET_ID: DEFAULT_PLANNER_BUCKET_ID });
  return async () => ({
    policy: validatePolicy(demo.policy),
    tenantId: demo.data.tenantId,
    store,
    graph: () => {
      const graph = t.graph();
      return { graph, close: async () => undefined, sinks: sinksFromSettings(settings, graph) };
    },
  });
}

describe('a queue message delivered twice', () => {
  it('delivered again after its scan: one scan record, one task per open finding', async () => {
    await withSim(492, async (t, demo) => {
      const message: ScanRequestMessage = { scanId: '5b0e7a52-1c1a-4c3e-9d55-000000000492', areas: ['accounts', 'mfa'], requestedAt: new Date().toISOString() };
      const handler = scanWorkerHandler(depsFor(t, demo));
      await handler(message, ctx());
      const tasks = t.sim.plannerTasks().length;
      expect(tasks).toBeGreaterThan(0);
      await handler(JSON.stringify(message), ctx());
      expect((await store.listScans(demo.data.tenantId, 10)).filter((s) => s.scanId === message.scanId)).toHaveLength(1);
      expect(t.sim.plannerTasks()).toHaveLength(tasks);
    });
  });

  it('delivered twice at once: one scan record and no ticket twice (the second run finds the scan reconciled under the lease)', async () => {
    await withSim(493, async (t, demo) => {
      const message: ScanRequestMessage = { scanId: '5b0e7a52-1c1a-4c3e-9d55-000000000493', areas: ['accounts', 'mfa'], requestedAt: new Date().toISOString() };
      const handler = scanWorkerHandler(depsFor(t, demo));
      await Promise.all([handler(message, ctx()), handler(message, ctx())]);
      const ledger = await store.getLedger(demo.data.tenantId);
      const open = [...ledger.values()].filter((e) => e.status === 'open').length;
      expect(open).toBeGreaterThan(0);
      expect(t.sim.plannerTasks()).toHaveLength(open);
      const records = (await store.listScans(demo.data.tenantId, 10)).filter((s) => s.scanId === message.scanId);
      // Both deliveries pass the "already recorded" check before either records; under the ledger
      // lease the second finds the scan's progress reconciled (collect/progress.ts) and writes nothing.
      expect(records).toHaveLength(1);
    });
  });
});
