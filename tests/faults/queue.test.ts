/**
 * The fault suite (issue 14): a scan-requests queue message delivered twice (at-least-once
 * delivery), one after the other and both at once: one scan, one set of tickets. And the shard
 * queue's local worker loop (src/jobs/shard-queue.ts) under a short visibility timeout: a shard
 * longer than it stays leased (renewed) and is processed once; a pop receipt gone stale (the
 * message redelivered while its first worker still ran) is noted, not fatal. Seeds 620-621 are
 * this part's.
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
import type { QueueClient } from '@azure/storage-queue';
import { sliceKey } from '../../src/collect/progress';
import { openShardQueues, runShardWorkers, runShardedScanLocally, sendShards } from '../../src/jobs/shard-queue';
import type { ShardMessage } from '../../src/jobs/shards';
import type { JobLogger } from '../../src/runtime';

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

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The store, with the write of one key held back `ms` first (the shard writing it runs that much longer). */
function slowWrite(inner: Store, slow: (key: string) => boolean, ms: number): Store {
  return new Proxy(inner, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (prop === 'putStateBlob') {
        return async (tenantId: string, key: string, text: string) => {
          if (slow(key)) await sleep(ms);
          return target.putStateBlob(tenantId, key, text);
        };
      }
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

describe('the shard worker loop and its message lease', () => {
  it('a shard running past the visibility timeout is kept leased: processed once by one worker, and the run finishes', async () => {
    await withSim(620, async (t, demo) => {
      const scanId = '5b0e7a52-1c1a-4c3e-9d55-000000000620';
      // The directory shard runs ~10 s (its slice write held back), the visibility timeout is 4 s
      // (renewed every 1.3 s: margins wide enough for a loaded CI machine's Azurite).
      const slow = slowWrite(store, (key) => key === sliceKey(scanId, 'directory'), 10_000);
      const lines: string[] = [];
      const logger: JobLogger = { log: (l: unknown) => lines.push(String(l)), warn: (l: unknown) => lines.push(String(l)), error: (l: unknown) => lines.push(String(l)) };
      const failures: string[] = [];
      const policy = validatePolicy(demo.policy);
      const { result } = await runShardedScanLocally({
        connectionString: process.env.AZURE_STORAGE_CONNECTION_STRING ?? '',
        workers: 3,
        scanId,
        deps: { policy, tenantId: demo.data.tenantId, store: slow, graph: () => ({ graph: t.graph({ root: t.sim.url }), close: async () => undefined }) },
        job: { graph: t.graph({ root: t.sim.url }), policy, tenantId: demo.data.tenantId, store: slow, areas: ['accounts', 'mfa'], reports: async () => undefined },
        logger,
        worker: { visibilityTimeoutSeconds: 4, pollMs: 50, retryDelaySeconds: 0, idleTimeoutMs: 30_000, onFailure: (m, attempt, err) => failures.push(`${m?.shard ?? '?'} #${attempt}: ${err.message}`) },
      });
      expect(failures).toEqual([]);
      const shards = lines.filter((l) => l.includes('"event":"m365-audit.shard"')).map((l) => JSON.parse(l) as { shard: string; outcome: string });
      // Without the renewal the directory message shows again after 4 s, a second worker reads the
      // slice at the same time (outcome duplicate) and the first one's delete answers 404.
      expect(shards.filter((s) => s.shard === 'directory')).toEqual([expect.objectContaining({ outcome: 'collected' })]);
      expect(shards.every((s) => s.outcome === 'collected')).toBe(true);
      expect(new Set(shards.map((s) => s.shard)).size).toBe(shards.length);
      expect(lines.filter((l) => l.includes('m365-audit.shard-lease'))).toEqual([]);
      expect(result.coverage.accounts?.status).toBe('complete');
      expect((await store.listScans(demo.data.tenantId, 10)).filter((s) => s.scanId === scanId)).toHaveLength(1);
    });
  }, 60_000);

  it('a pop receipt gone stale (the message updated by another client before the delete) does not stop the loop, on the poison branch either', async () => {
    const queues = await openShardQueues(process.env.AZURE_STORAGE_CONNECTION_STRING ?? '', 'm365-audit-scan-shards-test-lease-621');
    // Just before the worker's first delete, another client updates the message (as a second
    // worker's receive would): Azurite gives it a new pop receipt and makes it visible again, so the
    // worker's delete with the old receipt is refused for real (PopReceiptMismatch / 404). Deterministic:
    // no timing window between workers (an earlier version relied on one and could livelock).
    let staled = 0;
    const staling = new Proxy(queues.queue, {
      get(target, prop) {
        if (prop === 'deleteMessage') {
          return async (id: string, receipt: string) => {
            if (staled++ === 0) await target.updateMessage(id, receipt, undefined, 0);
            return target.deleteMessage(id, receipt);
          };
        }
        const value = Reflect.get(target, prop, target) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    }) as QueueClient;
    const message: ShardMessage = { scanId: '5b0e7a52-1c1a-4c3e-9d55-000000000621', tenantId: 'test-tenant', shard: 'directory' };
    const lost: string[] = [];
    const failures: Error[] = [];
    let handled = 0;
    let poisoned = 0;
    try {
      await sendShards(queues.queue, [message]);
      await runShardWorkers({
        queues: { queue: staling, poison: queues.poison },
        workers: 1,
        maxDequeueCount: 1,
        visibilityTimeoutSeconds: 30,
        retryDelaySeconds: 0,
        pollMs: 50,
        idleTimeoutMs: 30_000,
        // Every attempt fails and is the last: the message goes to the poison queue and is deleted,
        // the first time with the stale receipt.
        handle: async () => {
          handled++;
          throw new Error('the shard failed (test)');
        },
        poisoned: async () => {
          poisoned++;
          return [];
        },
        finished: () => poisoned > 0,
        onFailure: (_m, _attempt, err) => failures.push(err),
        onLeaseLost: (_m, operation) => lost.push(operation),
      });
    } finally {
      await queues.queue.deleteIfExists();
      await queues.poison.deleteIfExists();
    }
    // The stale delete was noted, not thrown; the message came back, failed again, and its second
    // delete went through; the poison step ran.
    expect(lost).toEqual(['delete']);
    expect(handled).toBe(2);
    expect(failures.map((e) => e.message)).toEqual(['the shard failed (test)', 'the shard failed (test)']);
    expect(poisoned).toBeGreaterThanOrEqual(1);
  }, 60_000);
});
