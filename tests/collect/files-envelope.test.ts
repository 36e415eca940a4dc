/**
 * A refused `$batch` envelope must never read as answers of its items: a proxy's 404 to the
 * permissions batch once dropped every tracked shared item of the batch as "gone", and the files
 * slice stayed complete, so FILE-01…03 resolved findings whose links still existed.
 */
import { randomUUID } from 'node:crypto';
import { collectSharing } from '../../src/collect/files';
import { validatePolicy } from '../../src/config/policy';
import type { Graph } from '../../src/graph/graph';
import { generateDemoTenant } from '../../src/sim/demo-tenant';
import type { SimDrive } from '../../src/sim/tenant';
import { Store } from '../../src/store/store';
import { startTestSim, testContext, type TestSim, collectAndCommit } from '../support/sim';

const demo = generateDemoTenant({ seed: 9, users: 40 });
// Every drive read on every scan (the OneDrive sweep has its own tests: files-sweep.test.ts).
const policy = validatePolicy({ ...demo.policy, files: { ...(demo.policy as { files?: object }).files, oneDriveSweepDays: 1 } });
let t: TestSim;
let store: Store;
beforeAll(async () => {
  store = await Store.connect(process.env.AZURE_STORAGE_CONNECTION_STRING ?? '');
});
beforeEach(async () => {
  t = await startTestSim({ tenant: structuredClone(demo.data), throttle: false });
});
afterEach(async () => {
  await t.close();
});

/** A Graph whose `$batch` envelopes carrying permission reads are answered 404 by "a proxy". */
function behindBrokenProxy(graph: Graph): Graph {
  const send = graph.send.bind(graph);
  graph.send = async (method, url, options) =>
    url === '/$batch' && JSON.stringify(options?.body ?? '').includes('/permissions')
      ? { status: 404, headers: {}, body: { error: { code: 'NotFound', message: 'proxy' } } }
      : send(method, url, options);
  return graph;
}

it('a 404 to the permissions batch keeps the tracked items and makes files partial', async () => {
  const tenantId = randomUUID();
  const first = await collectAndCommit(collectSharing, testContext(t.graph(), { policy, tenantId, store }));
  if (first.status === 'failed') throw new Error(first.detail);
  const drive = t.sim.tenant.sites.find((s) => String(s.site.webUrl).endsWith('/sites/jinji'))?.drives[0] as SimDrive;
  const tracked = first.data.items.filter((i) => i.driveId === drive.drive.id);
  expect(tracked.length).toBeGreaterThan(0);
  // An ordinary content edit of a tracked item: its permissions are re-read, through the proxy.
  const target = drive.items.find((i) => i.id === tracked[0]?.itemId);
  if (!target) throw new Error('demo tenant shape changed');
  t.sim.applyDriveChange(String(drive.drive.id), { upsert: { ...target } });
  const second = await collectAndCommit(collectSharing, testContext(behindBrokenProxy(t.graph()), { policy, tenantId, store }));
  if (second.status === 'failed') throw new Error(second.detail);
  expect(second.status).toBe('partial');
  expect(second.detail).toMatch(/permissions could not be read for \d+ item\(s\)/);
  // Every item of that library is still reported, as of its last good read.
  const kept = second.data.items.filter((i) => i.driveId === drive.drive.id);
  expect(kept.map((i) => i.itemId).sort()).toEqual(tracked.map((i) => i.itemId).sort());
  expect(kept.every((i) => i.asOf !== undefined)).toBe(true);
});
