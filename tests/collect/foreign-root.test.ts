/**
 * Stored state from another Graph root is discarded, not followed (issue 9): after `npm start`
 * (the demo's simulator, gone when it ends) a scan of `m365-audit sim` — the same tenant id, another
 * root — must not follow the demo's dead delta links or trust its sign-in watermark. Two
 * simulators over real HTTPS, the store on Azurite.
 */
import { randomUUID } from 'node:crypto';
import { collectSharing } from '../../src/collect/files';
import { collectSignIns, commitWatchState } from '../../src/collect/signins';
import { validatePolicy } from '../../src/config/policy';
import { generateDemoTenant } from '../../src/sim/demo-tenant';
import { Store } from '../../src/store/store';
import { startTestSim, testContext, type TestSim, collectAndCommit } from '../support/sim';

const demo = generateDemoTenant({ seed: 11, users: 30 });
// Every drive read on every scan (the OneDrive sweep has its own tests: files-sweep.test.ts).
const policy = validatePolicy({ ...demo.policy, files: { ...(demo.policy as { files?: object }).files, oneDriveSweepDays: 1 } });
const driveCount = demo.data.sites.reduce((n, s) => n + s.drives.length, 0);
const fast = { budgets: { identityReports: { limit: 1000, perSeconds: 1 } } };

let store: Store;
beforeAll(async () => {
  store = await Store.connect(process.env.AZURE_STORAGE_CONNECTION_STRING ?? '');
});

const start = (): Promise<TestSim> => startTestSim({ tenant: JSON.parse(JSON.stringify(demo.data)), throttle: false });

describe('drive inventories', () => {
  it('from another Graph root are discarded with a note, the drives read in full at this root; the next run continues incrementally', async () => {
    const tenantId = randomUUID();
    const first = await start();
    const firstRoot = first.sim.url;
    try {
      const slice = await collectAndCommit(collectSharing, testContext(first.graph({ root: firstRoot }), { policy, tenantId, store }));
      expect(slice.status).toBe('complete');
    } finally {
      // The demo's simulator is gone: its delta links point at a closed port.
      await first.close();
    }
    const second = await start();
    try {
      const slice = await collectAndCommit(collectSharing, testContext(second.graph({ root: second.sim.url, maxAttempts: 2 }), { policy, tenantId, store }));
      expect(slice.status).toBe('complete');
      expect(slice.detail).toBe(
        `stored drive inventories of another Graph root (${firstRoot}) were discarded, not followed; those drives were enumerated in full at ${second.sim.url}`,
      );
      expect(second.sim.counts().delta).toBeGreaterThanOrEqual(driveCount);

      const again = await collectAndCommit(collectSharing, testContext(second.graph({ root: second.sim.url }), { policy, tenantId, store }));
      expect(again).toMatchObject({ status: 'complete' });
      expect(again.detail).toBeUndefined();
    } finally {
      await second.close();
    }
  }, 60_000);
});

describe('the sign-in watermark', () => {
  it('of another Graph root is discarded with a note: the watch starts afresh here and its state is stored', async () => {
    const tenantId = randomUUID();
    const now = new Date(demo.now);
    const first = await start();
    const firstRoot = first.sim.url;
    try {
      const ctx = testContext(first.graph({ ...fast, root: firstRoot }), { policy, tenantId, store, now });
      const slice = await collectSignIns(ctx);
      const next = slice.status === 'failed' ? undefined : slice.pending?.[0];
      if (!next) throw new Error('the first watch failed');
      await commitWatchState(store, tenantId, next);
    } finally {
      await first.close();
    }
    const second = await start();
    try {
      // An hour earlier than the other root's watermark: that watermark must not hold this one back.
      const earlier = new Date(now.getTime() - 3_600_000);
      const ctx = testContext(second.graph({ ...fast, root: second.sim.url }), { policy, tenantId, store, now: earlier });
      const slice = await collectSignIns(ctx);
      const next = slice.status === 'failed' ? undefined : slice.pending?.[0];
      if (slice.status === 'failed' || !next) throw new Error(`the second watch failed: ${slice.status === 'failed' ? slice.detail : ''}`);
      expect(slice.status).toBe('complete');
      expect(slice.detail).toBe(`the stored sign-in watermark of another Graph root (${firstRoot}) was discarded, not followed; the watch started afresh here (backfill 24 h)`);
      expect(slice.data.from).toBe(new Date(earlier.getTime() - 24 * 3_600_000).toISOString());
      expect(await commitWatchState(store, tenantId, next)).toBe(true);
      const stored = JSON.parse((await store.getStateBlob(tenantId, next.key)) ?? '{}') as { graphRoot?: string; watermark?: string };
      expect(stored).toMatchObject({ graphRoot: second.sim.url, watermark: earlier.toISOString() });
    } finally {
      await second.close();
    }
  }, 60_000);
});
