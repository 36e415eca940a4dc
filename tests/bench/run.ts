/**
 * Benchmark: a full identity scan of generated tenants behind the simulator, with Graph's real
 * throttling model and the scan's real budgets. Reports wall time, requests per endpoint, 429s
 * received, retries and heap — the figures that matter against Graph's limits.
 *
 *   npm run bench                          # 1,000 and 10,000 users, every area
 *   npm run bench -- 1000 50000            # any sizes
 *   npm run bench -- 10000 --areas mail    # one area (accounts, mfa, roles, mail, signins)
 *   npm run bench -- 10000 --latency 200   # simulated Graph latency per request (per group of 4 batch items)
 *
 * Not part of `npm test`: performance is measured here, not asserted in timed tests.
 */
import { validatePolicy } from '../../src/config/policy';
import { loadSettings } from '../../src/config/settings';
import { createGraphClient } from '../../src/graph/client';
import { Graph } from '../../src/graph/graph';
import { runScan } from '../../src/pipeline';
import type { Area } from '../../src/rules/ids';
import { generateDemoTenant } from '../../src/sim/demo-tenant';
import { startSimulator } from '../../src/sim/server';

async function benchOne(users: number, areas: Area[] | undefined, latencyMs: number): Promise<Record<string, unknown>> {
  const demo = generateDemoTenant({ seed: 1, users });
  const sim = await startSimulator({ tenant: demo.data, latencyMs });
  const handle = createGraphClient({ graphUrl: sim.url, settings: loadSettings({}), caPem: sim.caPem });
  try {
    const graph = new Graph(handle.client);
    // With --expose-gc (npm run bench sets it) the heap figures exclude collectable garbage.
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const started = process.hrtime.bigint();
    const result = await runScan({ graph, policy: validatePolicy(demo.policy), tenantId: demo.data.tenantId, ...(areas ? { areas } : {}) });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    gc?.();
    const counts = sim.counts();
    return {
      users,
      seconds: Number(seconds.toFixed(2)),
      requests: graph.stats.requests,
      perEndpoint: Object.fromEntries(Object.entries(counts).filter(([k, v]) => v > 0 && !['total', 'throttled'].includes(k))),
      throttledBySimulator: counts.throttled ?? 0,
      retries: graph.stats.retries,
      findings: result.findings.length,
      coverage: Object.fromEntries(Object.entries(result.coverage).map(([a, c]) => [a, c?.status])),
      heapDeltaMB: Number(((process.memoryUsage().heapUsed - heapBefore) / 1048576).toFixed(1)),
    };
  } finally {
    await handle.close();
    await sim.close();
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const option = (name: string): string | undefined => {
    const at = args.indexOf(name);
    return at >= 0 ? args.splice(at, 2)[1] : undefined;
  };
  const areas = option('--areas')?.split(',') as Area[] | undefined;
  const latencyMs = Number(option('--latency') ?? 0);
  const sizes = args.map(Number).filter((n) => Number.isInteger(n) && n > 0);
  for (const users of sizes.length ? sizes : [1000, 10000]) {
    process.stdout.write(`${JSON.stringify({ ...(await benchOne(users, areas, latencyMs)), areas: areas ?? 'all', latencyMs })}\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
