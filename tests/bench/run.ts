/**
 * Benchmark (issue 13): generated tenants behind the simulator (its own process), Graph's
 * throttling model, the scan's real budgets; prints a table and writes tests/bench/results.json.
 *
 *   npm run bench                              # 1,000 and 10,000 users
 *   npm run bench -- 1000 10000 50000 --latency 100 --time-scale 50
 *   npm run bench -- 1000 --time-scale 10 --out /tmp/scale10.json --areas accounts,mfa
 *   npm run bench -- 50000 --workers 1,4 --areas accounts,mfa,roles,mail --time-scale 20 --merge
 *
 * `--workers N[,M…]`: for each N, the scan runs sharded (src/jobs/shards.ts) through
 * runShardedScanLocally with N worker loops in this process, on queues and a store in an Azurite
 * the bench starts (harness.ts); `--graph shared` gives every shard one Graph client as the CLI
 * does (default `perShard`: a client each, as separate Function instances). Those runs go under
 * the file's `workers` key; `--workers 0` is the unsharded scan (one runScan, MemoryStore) recorded
 * beside them for comparison. `--merge`: read the output file first and add this run's entries
 * (replacing those of the same size, settings and workers), keeping everything else.
 *
 * Each size runs the weekly full read, then the daily scan from the state it committed (harness.ts
 * SCENARIOS). Times are reported in model seconds (wall × time scale, src/graph/clock.ts).
 *
 * Not part of `npm test` (a smoke test is: tests/bench/bench.test.ts).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import type { Area } from '../../src/rules/ids';
import { benchSize } from './harness';
import { mergeResults } from './results-file';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const option = (name: string): string | undefined => {
    const at = args.indexOf(name);
    return at >= 0 ? args.splice(at, 2)[1] : undefined;
  };
  const flag = (name: string): boolean => {
    const at = args.indexOf(name);
    if (at >= 0) args.splice(at, 1);
    return at >= 0;
  };
  const areas = option('--areas')?.split(',') as Area[] | undefined;
  const latencyMs = Number(option('--latency') ?? 100);
  const timeScale = Number(option('--time-scale') ?? 1);
  const outFile = option('--out') ?? join(__dirname, '..', '..', '..', 'tests', 'bench', 'results.json');
  const workersArg = option('--workers');
  const graphArg = option('--graph') ?? 'perShard';
  const merge = flag('--merge');
  if (graphArg !== 'perShard' && graphArg !== 'shared') throw new Error(`--graph must be perShard or shared, not ${graphArg}`);
  const workerCounts = workersArg?.split(',').map((w) => Number(w.trim()));
  if (workerCounts && (workerCounts.length === 0 || workerCounts.some((w) => !Number.isInteger(w) || w < 0 || w > 64))) {
    throw new Error(`--workers must be a list of whole numbers from 0 to 64 (e.g. --workers 1,4; 0 is the unsharded scan, for comparison), not ${workersArg}`);
  }
  const sizes = args.map(Number).filter((n) => Number.isInteger(n) && n > 0);
  const settings = { latencyMs, timeScale, areas: areas ?? 'all', seed: 1 };
  const results: Array<Record<string, unknown>> = [];
  for (const users of sizes.length ? sizes : [1000, 10000]) {
    for (const workers of workerCounts ?? [undefined]) {
      const r = await benchSize({ users, latencyMs, timeScale, ...(areas ? { areas } : {}), ...(workers !== undefined ? { workers, graph: graphArg } : {}) });
      // The finding lists (kept for the smoke test) would only bloat the file: their counts stay.
      for (const v of Object.values(r)) {
        if (v && typeof v === 'object') {
          delete (v as Record<string, unknown>).findingKeys;
          delete (v as Record<string, unknown>).plantedKeys;
        }
      }
      const entry = { ...r, settings };
      process.stdout.write(`${JSON.stringify(entry)}\n`);
      results.push(entry);
    }
  }
  const run = {
    date: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGB: Math.round(totalmem() / 2 ** 30) },
    node: process.version,
  };
  const existing = merge && existsSync(outFile) ? (JSON.parse(readFileSync(outFile, 'utf8')) as Record<string, unknown>) : undefined;
  writeFileSync(outFile, `${JSON.stringify(mergeResults(existing, run, results, workerCounts !== undefined), null, 2)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
