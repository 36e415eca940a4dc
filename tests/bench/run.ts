/**
 * Benchmark: a full identity scan of generated tenants behind the simulator, with Graph's real
 * throttling model and the scan's real budgets. Reports wall time, requests per endpoint, 429s
 * received, retries and heap — the figures that matter against Graph's limits.
 *
 *   npm run bench                          # 1,000 and 10,000 users, every area
 *   npm run bench -- 1000 50000            # any sizes
 *   npm run bench -- 10000 --areas mail    # one area (accounts, mfa, roles, mail, signins)
 *   npm run bench -- 10000 --latency 200   # simulated Graph latency per request (per group of 4 batch items)
 *   npm run bench -- 60 --areas files --rescan --files-per-drive 5000
 *                                          # full scan, then a no-change rescan from the stored delta links
 *
 * Not part of `npm test`: performance is measured here, not asserted in timed tests.
 */
import { validatePolicy } from '../../src/config/policy';
import { loadSettings } from '../../src/config/settings';
import { createGraphClient, type GraphClientHandle } from '../../src/graph/client';
import { Graph } from '../../src/graph/graph';
import { runScan } from '../../src/pipeline';
import type { Area } from '../../src/rules/ids';
import { generateDemoTenant } from '../../src/sim/demo-tenant';
import { startSimulator, type SimServer } from '../../src/sim/server';
import type { DemoTenant } from '../../src/sim/tenant';
import { startAzurite } from '../../src/store/azurite';
import { Store } from '../../src/store/store';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

async function benchOne(users: number, areas: Area[] | undefined, latencyMs: number, store: Store | undefined, rescan: boolean, filesPerDrive: number): Promise<Record<string, unknown>> {
  const generateStarted = performance.now();
  const demo = generateDemoTenant({ seed: 1, users });
  const generateMs = Math.round(performance.now() - generateStarted);
  padDrives(demo, filesPerDrive);
  const sim = await startSimulator({ tenant: demo.data, latencyMs });
  const handle = createGraphClient({ graphUrl: sim.url, settings: loadSettings({}), caPem: sim.caPem });
  try {
    const first = await scanOnce(sim, handle, demo, areas, store, true);
    if (!rescan) return { users, generateMs, ...first };
    sim.resetThrottling();
    const second = await scanOnce(sim, handle, demo, areas, store, false);
    return { users, generateMs, firstScan: first, noChangeRescan: second };
  } finally {
    await handle.close();
    await sim.close();
  }
}

/** Adds `n` plain (unshared) files under each library's root: the bulk a real library has. */
function padDrives(demo: DemoTenant, n: number): void {
  for (const site of demo.data.sites) {
    for (const d of site.drives) {
      const root = d.items[0];
      if (!root) continue;
      for (let i = 0; i < n; i++) {
        d.items.push({
          id: `PAD${String(i).padStart(8, '0')}${String(d.drive.id).slice(-6)}`,
          name: `file-${i}.docx`,
          webUrl: `${String(root.webUrl)}/file-${i}.docx`,
          size: 1024,
          parentReference: { driveId: d.drive.id as string, id: root.id as string },
          file: { mimeType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document' },
        });
      }
    }
  }
}

async function scanOnce(
  sim: SimServer,
  handle: GraphClientHandle,
  demo: DemoTenant,
  areas: Area[] | undefined,
  store: Store | undefined,
  freshState: boolean,
): Promise<Record<string, unknown>> {
  sim.resetCounts();
  {
    const graph = new Graph(handle.client, { grantedRoles: handle.grantedRoles });
    // With --expose-gc (npm run bench sets it) the heap figures exclude collectable garbage.
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const started = process.hrtime.bigint();
    const result = await runScan({
      graph,
      policy: validatePolicy(demo.policy),
      tenantId: demo.data.tenantId,
      ...(areas ? { areas } : {}),
      ...(store ? { store } : {}),
      collectOptions: { freshState },
    });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    gc?.();
    const counts = sim.counts();
    return {
      seconds: Number(seconds.toFixed(2)),
      requests: graph.stats.requests,
      perEndpoint: Object.fromEntries(Object.entries(counts).filter(([k, v]) => v > 0 && !['total', 'throttled'].includes(k))),
      throttledBySimulator: counts.throttled ?? 0,
      retries: graph.stats.retries,
      findings: result.findings.length,
      coverage: Object.fromEntries(Object.entries(result.coverage).map(([a, c]) => [a, c?.status])),
      heapDeltaMB: Number(((process.memoryUsage().heapUsed - heapBefore) / 1048576).toFixed(1)),
    };
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
  const filesPerDrive = Number(option('--files-per-drive') ?? 0);
  const rescanAt = args.indexOf('--rescan');
  const rescan = rescanAt >= 0;
  if (rescan) args.splice(rescanAt, 1);
  const sizes = args.map(Number).filter((n) => Number.isInteger(n) && n > 0);
  // A rescan needs the stored delta links and watermarks: an embedded Azurite in a temp dir.
  const azurite = rescan ? await startAzurite(mkdtempSync(join(tmpdir(), 'm365-audit-bench-'))) : undefined;
  try {
    const store = azurite ? await Store.connect(azurite.connectionString) : undefined;
    for (const users of sizes.length ? sizes : [1000, 10000]) {
      process.stdout.write(`${JSON.stringify({ ...(await benchOne(users, areas, latencyMs, store, rescan, filesPerDrive)), areas: areas ?? 'all', latencyMs, filesPerDrive })}\n`);
    }
  } finally {
    await azurite?.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
