/**
 * tests/bench/results.json as runs add to it (`npm run bench -- … --merge`): unsharded entries
 * under `results`, sharded ones (`--workers`) under `workers.runs`; a run replaces the entries
 * of the same measurement and keeps every other.
 */

/** An entry's identity: the same size, settings and workers is the same measurement (a rerun replaces it). */
const entryKey = (e: Record<string, unknown>): string => JSON.stringify([e.users, e.workers ?? null, e.graph ?? null, e.settings ?? null]);

/**
 * The file after this run: without `existing`, this run alone (unsharded entries under `results`,
 * sharded ones under `workers`); with it, everything it held, this run's entries replacing those
 * of the same key and the others appended, the section's date and machine this run's.
 */
export function mergeResults(existing: Record<string, unknown> | undefined, run: Record<string, unknown>, entries: Array<Record<string, unknown>>, sharded: boolean): Record<string, unknown> {
  const merged = (old: unknown): Array<Record<string, unknown>> => {
    const keep = (Array.isArray(old) ? (old as Array<Record<string, unknown>>) : []).filter((e) => !entries.some((n) => entryKey(n) === entryKey(e)));
    return [...keep, ...entries];
  };
  if (sharded) {
    const section = (existing?.workers ?? {}) as Record<string, unknown>;
    const workers = { ...section, ...run, note: section.note ?? WORKERS_NOTE, runs: merged(section.runs) };
    return existing ? { ...existing, workers } : { ...run, workers };
  }
  return existing ? { ...existing, ...run, results: merged(existing.results) } : { ...run, results: entries };
}

const WORKERS_NOTE =
  'Sharded scans (issue 14): runShardedScanLocally with N worker loops in the bench process, queues and store in an Azurite the bench starts, ' +
  'weeklyFull then daily on that store. Today one shard per slice. collectModelSeconds: until the last shard was done; reconcileWallSeconds: the final step ' +
  '(rules, ledger and state writes to Azurite). bounds: the tenant bound (Graph per-tenant limits, which workers share); shardedBounds: also the client ' +
  'latency floors with min(N, shards of a family) clients in flight and the N workers\' shared busy time (model.ts shardedBound).';
