import { validatePolicy } from '../src/config/policy';
import { runScan } from '../src/pipeline';
import { runShardedScanLocally } from '../src/jobs/shard-queue';
import { generateDemoTenant } from '../src/sim/demo-tenant';
import { Store } from '../src/store/store';
import { startTestSim } from './support/sim';
jest.setTimeout(600_000);
it('measure', async () => {
  const store = await Store.connect(process.env.AZURE_STORAGE_CONNECTION_STRING ?? '');
  for (const [seed, mode] of [[612, 'unsharded'], [613, 'w1'], [614, 'w4']] as const) {
    const demo = generateDemoTenant({ seed, users: 400 });
    const t = await startTestSim({ tenant: JSON.parse(JSON.stringify(demo.data)), throttle: false, latencyMs: 100 });
    const policy = validatePolicy(demo.policy);
    const start = Date.now();
    if (mode === 'unsharded') await runScan({ graph: t.graph({ root: t.sim.url }), policy, tenantId: demo.data.tenantId, areas: ['mail'] });
    else await runShardedScanLocally({
      connectionString: process.env.AZURE_STORAGE_CONNECTION_STRING ?? '', workers: mode === 'w1' ? 1 : 4, rangeSizes: { mailboxes: 100 },
      deps: { policy, tenantId: demo.data.tenantId, store, graph: () => ({ graph: t.graph({ root: t.sim.url }), close: async () => undefined }) },
      job: { graph: t.graph({ root: t.sim.url }), policy, tenantId: demo.data.tenantId, store, areas: ['mail'], reports: async () => undefined },
      logger: { log: () => undefined, warn: () => undefined, error: () => undefined },
      worker: { pollMs: 20 },
    });
    process.stdout.write(`MEASURE ${mode}: ${Date.now() - start} ms, messageRules ${t.sim.counts().messageRules}, batch ${t.sim.counts().batch}\n`);
    await t.close();
  }
});
