/**
 * Benchmark (issue 13): generated tenants behind the simulator (its own process), Graph's
 * throttling model, the scan's real budgets; prints a table and writes tests/bench/results.json.
 *
 *   npm run bench                              # 1,000 and 10,000 users
 *   npm run bench -- 1000 10000 50000 --latency 100 --time-scale 50
 *   npm run bench -- 1000 --time-scale 10 --out /tmp/scale10.json --areas accounts,mfa
 *
 * Each size runs the weekly full read, then the daily scan from the state it committed (harness.ts
 * SCENARIOS). Times are reported in model seconds (wall × time scale, src/graph/clock.ts).
 *
 * Not part of `npm test` (a smoke test is: tests/bench/bench.test.ts).
 */
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import type { Area } from '../../src/rules/ids';
import { benchSize } from './harness';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const option = (name: string): string | undefined => {
    const at = args.indexOf(name);
    return at >= 0 ? args.splice(at, 2)[1] : undefined;
  };
  const areas = option('--areas')?.split(',') as Area[] | undefined;
  const latencyMs = Number(option('--latency') ?? 100);
  const timeScale = Number(option('--time-scale') ?? 1);
  const outFile = option('--out');
  const sizes = args.map(Number).filter((n) => Number.isInteger(n) && n > 0);
  const results = [];
  for (const users of sizes.length ? sizes : [1000, 10000]) {
    const r = await benchSize({ users, latencyMs, timeScale, ...(areas ? { areas } : {}) });
    // The finding lists (kept for the smoke test) would only bloat the file: their counts stay.
    for (const v of Object.values(r)) {
      if (v && typeof v === 'object') {
        delete (v as Record<string, unknown>).findingKeys;
        delete (v as Record<string, unknown>).plantedKeys;
      }
    }
    process.stdout.write(`${JSON.stringify(r)}\n`);
    results.push(r);
  }
  const file = {
    date: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGB: Math.round(totalmem() / 2 ** 30) },
    node: process.version,
    settings: { latencyMs, timeScale, areas: areas ?? 'all', seed: 1 },
    results,
  };
  writeFileSync(outFile ?? join(__dirname, '..', '..', '..', 'tests', 'bench', 'results.json'), `${JSON.stringify(file, null, 2)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
