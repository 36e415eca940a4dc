/**
 * Benchmark (issue 13): generated tenants behind the simulator (its own process), Graph's
 * throttling model, the scan's real budgets; prints a table and writes tests/bench/results.json.
 *
 *   npm run bench                              # 1,000 and 10,000 users
 *   npm run bench -- 1000 10000 50000 --latency 100 --time-scale 50
 *   npm run bench -- 1000 --time-scale 10 --out /tmp/scale10.json --areas accounts,mfa
 *   npm run bench -- 50000 --workers 1,4 --areas accounts,mfa,roles,mail --time-scale 20 --merge
 *   npm run bench -- 50000 --areas accounts,mfa,roles --time-scale 3 --daily-time-scale 1 --readings lenient,strict --merge
 *
 * `--daily-time-scale N`: the daily scan at its own time scale (the weekly's state carries over;
 * the simulator's clock changes rate, model time stays continuous). `--readings`: see READING_BY_NAME.
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
import { READINGS } from './model';
import { mergeResults } from './results-file';

/**
 * `--readings lenient,strict`: the simulator plays each reading in turn (model.ts READINGS):
 * lenient = Outlook's 4 at once per mailbox, signInActivity its own family; strict = 4 at once
 * per app, signInActivity pages also drawing the identity reports' 5 per 10 s.
 */
const READING_BY_NAME = { lenient: READINGS[0], strict: READINGS[1] } as const;

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
  const dailyArg = option('--daily-time-scale');
  const dailyTimeScale = dailyArg === undefined ? undefined : Number(dailyArg);
  if (dailyTimeScale !== undefined && !(dailyTimeScale > 0)) throw new Error(`--daily-time-scale must be a positive number (1: the daily scan uncompressed), not ${dailyArg}`);
  const readingsArg = option('--readings');
  const readingNames = readingsArg?.split(',').map((r) => r.trim());
  for (const r of readingNames ?? []) {
    if (!(r in READING_BY_NAME)) throw new Error(`--readings must list lenient and/or strict (e.g. --readings lenient,strict), not ${r}`);
  }
  if (graphArg !== 'perShard' && graphArg !== 'shared') throw new Error(`--graph must be perShard or shared, not ${graphArg}`);
  const workerCounts = workersArg?.split(',').map((w) => Number(w.trim()));
  if (workerCounts && (workerCounts.length === 0 || workerCounts.some((w) => !Number.isInteger(w) || w < 0 || w > 64))) {
    throw new Error(`--workers must be a list of whole numbers from 0 to 64 (e.g. --workers 1,4; 0 is the unsharded scan, for comparison), not ${workersArg}`);
  }
  const sizes = args.map(Number).filter((n) => Number.isInteger(n) && n > 0);
  const results: Array<Record<string, unknown>> = [];
  for (const users of sizes.length ? sizes : [1000, 10000]) {
    for (const workers of workerCounts ?? [undefined]) {
      for (const readingName of readingNames ?? [undefined]) {
        const reading = readingName ? READING_BY_NAME[readingName as keyof typeof READING_BY_NAME] : undefined;
        const settings = { latencyMs, timeScale, ...(dailyTimeScale !== undefined ? { dailyTimeScale } : {}), areas: areas ?? 'all', seed: 1, ...(readingName ? { reading: readingName } : {}) };
        const startedAt = new Date().toISOString();
        const r = await benchSize({
          users,
          latencyMs,
          timeScale,
          ...(dailyTimeScale !== undefined ? { scenarioTimeScale: { daily: dailyTimeScale } } : {}),
          ...(reading ? { reading } : {}),
          ...(areas ? { areas } : {}),
          ...(workers !== undefined ? { workers, graph: graphArg } : {}),
        });
        // The finding lists (kept for the smoke test) would only bloat the file: their counts stay.
        for (const v of Object.values(r)) {
          if (v && typeof v === 'object') {
            delete (v as Record<string, unknown>).findingKeys;
            delete (v as Record<string, unknown>).plantedKeys;
          }
        }
        const entry = { ...r, settings, ranAt: { start: startedAt, end: new Date().toISOString() } };
        process.stdout.write(`${JSON.stringify(entry)}\n`);
        results.push(entry);
      }
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
