/**
 * Test helpers: a simulator over the demo tenant, and a Graph client that trusts its certificate
 * and retries quickly (real Retry-After values are honoured; only our own back-off is shortened).
 */
import { defaultPolicy } from '../../src/config/policy';
import { loadSettings } from '../../src/config/settings';
import { DEFAULT_COLLECT_OPTIONS, type CollectContext } from '../../src/collect/context';
import { commitPending } from '../../src/collect/pending';
import type { Slice } from '../../src/collect/snapshot';
import { sliceRunner } from '../../src/pipeline';
import { createGraphClient } from '../../src/graph/client';
import { Graph, type GraphOptions } from '../../src/graph/graph';
import { generateDemoTenant } from '../../src/sim/demo-tenant';
import { startSimulator, type SimOptions, type SimServer } from '../../src/sim/server';
import type { DemoTenant, TenantData } from '../../src/sim/tenant';

export interface TestSim {
  sim: SimServer;
  /** A Graph client; `roles` are what its placeholder token claims (default: every permission the README lists). */
  /** `timeoutMs`: the client's per-request timeout; `extraCaPem`: another certificate to trust (a second server's). */
  graph(options?: GraphOptions & { roles?: readonly string[]; timeoutMs?: number; extraCaPem?: string }): Graph;
  close(): Promise<void>;
}

/** Starts a simulator (the demo tenant unless `tenant` is given) and returns Graph factories for it. */
export async function startTestSim(options: Partial<SimOptions> & { tenant?: TenantData } = {}): Promise<TestSim> {
  const tenant = options.tenant ?? generateDemoTenant({ seed: 7, users: 60 }).data;
  const sim = await startSimulator({ ...options, tenant });
  const handles: Array<{ close(): Promise<void> }> = [];
  return {
    sim,
    graph: ({ roles, timeoutMs, extraCaPem, ...graphOptions }: GraphOptions & { roles?: readonly string[]; timeoutMs?: number; extraCaPem?: string } = {}) => {
      const handle = createGraphClient({ graphUrl: sim.url, settings: loadSettings({}), caPem: extraCaPem ? `${sim.caPem}\n${extraCaPem}` : sim.caPem, ...(roles ? { simulatorRoles: roles } : {}), ...(timeoutMs ? { timeoutMs } : {}) });
      handles.push(handle);
      // baseUrl (not root): MAIL-02 asks this simulator's DNS; stored state stays untied to its port.
      return new Graph(handle.client, { baseBackoffMs: 20, grantedRoles: handle.grantedRoles, baseUrl: sim.url, ...graphOptions });
    },
    close: async () => {
      await Promise.all(handles.map((h) => h.close()));
      await sim.close();
    },
  };
}

/** A collector context for tests (default policy, no store unless given), as the pipeline builds it. */
export function testContext(graph: Graph, over: Partial<Omit<CollectContext, 'slice'>> = {}): CollectContext {
  return sliceRunner({ graph, now: new Date(), policy: defaultPolicy(), tenantId: 'test-tenant', options: { ...DEFAULT_COLLECT_OPTIONS }, ...over }).ctx;
}

/**
 * Runs `fn` against a simulator serving a copy of the demo tenant of `seed` (30 users, no
 * throttling), closed afterwards. Tests that use the store pass seeds of their own: the tenant id
 * follows the seed, and the ledger is per tenant.
 */
export async function withSim<T>(seed: number, fn: (t: TestSim, demo: DemoTenant) => Promise<T>): Promise<T> {
  const demo = generateDemoTenant({ seed, users: 30 });
  const t = await startTestSim({ tenant: JSON.parse(JSON.stringify(demo.data)), throttle: false });
  try {
    return await fn(t, demo);
  } finally {
    await t.close();
  }
}

/** Runs a collector and stores its pending state (inventories, watermarks) as the pipeline does after the ledger write. */
export async function collectAndCommit<S extends Slice<unknown>>(collector: (ctx: CollectContext) => Promise<S>, ctx: CollectContext): Promise<S> {
  const slice = await collector(ctx);
  if (slice.status !== 'failed' && slice.pending && ctx.store) await commitPending(ctx.store, ctx.tenantId, slice.pending);
  return slice;
}
