/**
 * Test helpers: a simulator over the demo tenant, and a Graph client that trusts its certificate
 * and retries quickly (real Retry-After values are honoured; only our own back-off is shortened).
 */
import { defaultPolicy } from '../../src/config/policy';
import { loadSettings } from '../../src/config/settings';
import { DEFAULT_COLLECT_OPTIONS, type CollectContext } from '../../src/collect/context';
import { sliceRunner } from '../../src/pipeline';
import { createGraphClient } from '../../src/graph/client';
import { Graph, type GraphOptions } from '../../src/graph/graph';
import { generateDemoTenant } from '../../src/sim/demo-tenant';
import { startSimulator, type SimOptions, type SimServer } from '../../src/sim/server';
import type { TenantData } from '../../src/sim/tenant';

export interface TestSim {
  sim: SimServer;
  /** A Graph client; `roles` are what its placeholder token claims (default: every permission the README lists). */
  graph(options?: GraphOptions & { roles?: readonly string[] }): Graph;
  close(): Promise<void>;
}

/** Starts a simulator (the demo tenant unless `tenant` is given) and returns Graph factories for it. */
export async function startTestSim(options: Partial<SimOptions> & { tenant?: TenantData } = {}): Promise<TestSim> {
  const tenant = options.tenant ?? generateDemoTenant({ seed: 7, users: 60 }).data;
  const sim = await startSimulator({ ...options, tenant });
  const handles: Array<{ close(): Promise<void> }> = [];
  return {
    sim,
    graph: ({ roles, ...graphOptions }: GraphOptions & { roles?: readonly string[] } = {}) => {
      const handle = createGraphClient({ graphUrl: sim.url, settings: loadSettings({}), caPem: sim.caPem, ...(roles ? { simulatorRoles: roles } : {}) });
      handles.push(handle);
      return new Graph(handle.client, { baseBackoffMs: 20, grantedRoles: handle.grantedRoles, ...graphOptions });
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
