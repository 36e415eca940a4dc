/**
 * The harness of the shard tests (tests/functions/shards.test.ts, shard-ranges.test.ts): scan deps
 * on the test Azurite's store, a store whose writes fail on cue, a sharded scan run through real
 * Azure Storage queues by the worker loops of src/jobs/shard-queue.ts, an unsharded scan to compare
 * with, and the shard and findings records a run leaves.
 */
import type { SliceName } from '../../src/collect/snapshot';
import { openShardQueues, runShardWorkers, sendShards } from '../../src/jobs/shard-queue';
import type { RangeSizes } from '../../src/jobs/shards';
import { validatePolicy } from '../../src/config/policy';
import { runScan } from '../../src/pipeline';
import type { Area } from '../../src/rules/ids';
import { shardAndLog, startShardsAndLog, type ScanDeps } from '../../src/runtime';
import type { DemoTenant } from '../../src/sim/tenant';
import type { Store } from '../../src/store/store';
import { context } from './functions';
import { withSim, type TestSim } from './sim';

export const T0 = Date.parse('2026-12-01T18:00:00.000Z');
export const clock = (): Date => new Date(T0);
/** The test Azurite (tests/support/global-setup.ts). */
export const CONNECTION = process.env.AZURE_STORAGE_CONNECTION_STRING ?? '';

export const uuid = (n: number): string => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

/** Store writes (put or conditional create) that fail when `fail(key, value)` is true: the shard's worker dies there. */
export function failing(inner: Store, fail: (key: string, value: string) => boolean): Store {
  return new Proxy(inner, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (prop === 'putStateBlob' || prop === 'createStateBlob') {
        return async (tenantId: string, key: string, text: string) => {
          if (fail(key, text)) throw new Error(`storage refused the write of ${key} (test)`);
          return prop === 'putStateBlob' ? target.putStateBlob(tenantId, key, text) : target.createStateBlob(tenantId, key, text);
        };
      }
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** Deps of a scan of the simulator's demo tenant on `store`; range sizes only when given (else the defaults). */
export function depsFor(t: TestSim, demo: DemoTenant, o: { store: Store; ranges?: Partial<RangeSizes> }): ScanDeps {
  return {
    policy: validatePolicy(demo.policy),
    tenantId: demo.data.tenantId,
    store: o.store,
    clock,
    ...(o.ranges ? { shardRanges: o.ranges } : {}),
    graph: () => ({ graph: t.graph({ root: t.sim.url }), close: async () => undefined }),
  };
}

export type FindingsDoc = { findings: string[]; coverage: Record<string, { status: string; items: number; detail?: string }> };
export const findingKey = (f: { ruleId: string; subject: { id: string }; status: string }): string => `${f.ruleId} ${f.subject.id} ${f.status}`;

/** One unsharded scan of the same demo tenant (another simulator, no store): its findings, coverage and requests. */
export async function unsharded(seed: number, areas?: readonly Area[]): Promise<FindingsDoc & { counts: Record<string, number> }> {
  return withSim(seed, async (t, demo) => {
    const r = await runScan({ graph: t.graph(), policy: validatePolicy(demo.policy), tenantId: demo.data.tenantId, clock, ...(areas ? { areas } : {}) });
    return { findings: r.findings.map(findingKey).sort(), coverage: r.coverage as FindingsDoc['coverage'], counts: t.sim.counts() };
  });
}

/** The findings.json the final step kept in blob storage. */
export async function storedFindings(store: Store, tenantId: string, scanId: string): Promise<FindingsDoc> {
  const doc = JSON.parse((await store.getReport(tenantId, scanId, 'findings.json')).toString('utf8')) as { findings: Array<{ ruleId: string; subject: { id: string }; status: string }>; coverage: FindingsDoc['coverage'] };
  return { findings: doc.findings.map(findingKey).sort(), coverage: doc.coverage };
}

/** Runs a sharded scan through the queues (`queueName`, deleted after) with `workers` loops; returns the log lines of every step. */
export async function shardedThroughQueues(d: ScanDeps, scanId: string, queueName: string, workers: number, o: { maxDequeueCount?: number; confirmResolutions?: boolean; areas?: Area[] } = {}): Promise<string[]> {
  const queues = await openShardQueues(CONNECTION, queueName);
  const { ctx, lines } = context('scanShard');
  let finished = false;
  try {
    await sendShards(queues.queue, await startShardsAndLog(ctx, d, { kind: 'run', scanId, ...(o.confirmResolutions ? { confirmResolutions: true } : {}), ...(o.areas ? { areas: o.areas } : {}) }));
    await runShardWorkers({
      queues,
      workers,
      maxDequeueCount: o.maxDequeueCount ?? 3,
      retryDelaySeconds: 0,
      pollMs: 50,
      idleTimeoutMs: 30_000,
      handle: async (m) => {
        const r = await shardAndLog(ctx, d, m);
        if (r.run) finished = true;
        return r.step.enqueue;
      },
      poisoned: async (m) => {
        const r = await shardAndLog(ctx, d, m, true);
        if (r.run) finished = true;
        return r.step.enqueue;
      },
      finished: () => finished,
    });
  } finally {
    await queues.queue.deleteIfExists();
    await queues.poison.deleteIfExists();
  }
  return lines;
}

/** A shard step's log line (`m365-audit.shard`); `range` for a range shard. */
export type ShardLine = { shard: SliceName; range?: number; outcome: string };
export const shardLines = (lines: readonly string[]): ShardLine[] => lines.filter((l) => l.includes('"event":"m365-audit.shard"')).map((l) => JSON.parse(l.slice(l.indexOf('{'))) as ShardLine);
