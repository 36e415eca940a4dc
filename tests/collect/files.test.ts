/**
 * Sharing collection against the simulator over HTTPS with the store on Azurite: multi-page
 * delta, permissions in $batch, a rescan that reads only the delta yet resolves a removed link and
 * finds an added one, a 410 resync, a failing drive, both shapes of the settings answer.
 */
import { randomUUID } from 'node:crypto';
import { collectSharepointSettings, collectSharing, collectSites } from '../../src/collect/files';
import type { SharedItem } from '../../src/collect/snapshot';
import { validatePolicy } from '../../src/config/policy';
import { generateDemoTenant } from '../../src/sim/demo-tenant';
import type { JsonObject, SimDrive } from '../../src/sim/tenant';
import { Store } from '../../src/store/store';
import { startTestSim, testContext, type TestSim } from '../support/sim';

const demo = generateDemoTenant({ seed: 9, users: 40 });
const policy = validatePolicy(demo.policy);
const sharedCount = (data: typeof demo.data) => data.sites.flatMap((s) => s.drives.flatMap((d) => d.items.filter((i) => i.shared !== undefined))).length;
const driveCount = demo.data.sites.reduce((n, s) => n + s.drives.length, 0);

let t: TestSim;
let store: Store;
beforeAll(async () => {
  store = await Store.connect(process.env.AZURE_STORAGE_CONNECTION_STRING ?? '');
});
beforeEach(async () => {
  t = await startTestSim({ tenant: JSON.parse(JSON.stringify(demo.data)), throttle: false, maxPageSize: { delta: 2, sites: 3 } });
});
afterEach(async () => {
  await t.close();
});

async function sharing(tenantId: string) {
  const slice = await collectSharing(testContext(t.graph(), { policy, tenantId, store }));
  if (slice.status === 'failed') throw new Error(slice.detail);
  return slice;
}
const key = (i: SharedItem) => `${i.driveId}/${i.itemId}`;

function jinjiDrive(data: typeof demo.data): SimDrive {
  const site = data.sites.find((s) => (s.site.webUrl as string).endsWith('/sites/jinji'));
  if (!site?.drives[0]) throw new Error('demo tenant lacks the jinji library');
  return site.drives[0];
}

describe('sites and settings', () => {
  it('follows getAllSites pages under their oneDrive.getAllSites nextLink', async () => {
    const slice = await collectSites(testContext(t.graph()));
    expect(slice).toMatchObject({ status: 'complete', items: demo.data.sites.length });
    expect(t.sim.counts().sites).toBe(Math.ceil(demo.data.sites.length / 3));
  });

  it('reads sharingCapability bare or wrapped in value (as the docs show it)', async () => {
    expect(await collectSharepointSettings(testContext(t.graph()))).toMatchObject({ data: { sharingCapability: 'externalUserAndGuestSharing' } });
    await t.close();
    t = await startTestSim({ tenant: demo.data, throttle: false, wrapSharepointSettings: true });
    expect(await collectSharepointSettings(testContext(t.graph()))).toMatchObject({ status: 'complete', data: { sharingCapability: 'externalUserAndGuestSharing' } });
  });
});

describe('sharing inventory', () => {
  it('enumerates every drive over multi-page delta and reads permissions only for shared items, in $batch', async () => {
    const slice = await sharing(randomUUID());
    expect(slice.status).toBe('complete');
    expect(slice.data.drives).toBe(driveCount);
    expect(slice.items).toBe(sharedCount(demo.data));
    expect(t.sim.counts().permissions).toBe(sharedCount(demo.data));
    expect(t.sim.counts().delta).toBeGreaterThan(driveCount);
    // Inherited entries are marked, and only roots of sharing hierarchies are items.
    for (const item of slice.data.items) expect(item.permissions.length).toBeGreaterThan(0);
  });

  it('rescans from the stored deltaLinks: no permission read without a change; a removed link is gone, an added one found', async () => {
    const tenantId = randomUUID();
    const first = await sharing(tenantId);
    t.sim.resetCounts();
    const unchanged = await sharing(tenantId);
    expect(unchanged.data.items.map(key).sort()).toEqual(first.data.items.map(key).sort());
    expect(t.sim.counts().permissions ?? 0).toBe(0);
    expect(t.sim.counts().delta).toBe(driveCount);

    const drive = jinjiDrive(t.sim.tenant);
    const driveId = drive.drive.id as string;
    const shared = drive.items.find((i) => (i.shared as JsonObject | undefined)?.scope === 'anonymous') as JsonObject;
    // A file at the top of the library: nothing above it is shared.
    const rootId = drive.items.find((i) => i.root !== undefined)?.id;
    const plain = drive.items.find((i) => i.file !== undefined && i.shared === undefined && (i.parentReference as JsonObject | undefined)?.id === rootId) as JsonObject;
    expect(shared && plain).toBeTruthy();
    // Unshare the anonymous folder; share a plain file with an anonymous link.
    const { shared: _drop, ...unshared } = shared;
    t.sim.applyDriveChange(driveId, { upsert: unshared, permissions: null });
    const link = { id: randomUUID(), roles: ['read'], link: { type: 'view', scope: 'anonymous', webUrl: 'https://example.sharepoint.com/:b:/s/jinji/new' }, expirationDateTime: '0001-01-01T00:00:00Z' };
    t.sim.applyDriveChange(driveId, { upsert: { ...plain, shared: { scope: 'anonymous' } }, permissions: [link] });
    t.sim.resetCounts();
    const after = await sharing(tenantId);
    const keys = after.data.items.map(key);
    expect(keys).not.toContain(`${driveId}/${shared.id as string}`);
    expect(keys).toContain(`${driveId}/${plain.id as string}`);
    expect(after.data.items.find((i) => i.itemId === plain.id)?.permissions[0]?.link?.scope).toBe('anonymous');
    // Read: the unshared folder (SharePoint's `shared` facet is unreliable: re-read, not dropped
    // unread), the shared file inside it (its list held the folder's entries), the new file.
    expect(t.sim.counts().permissions).toBe(3);
  });

  it('enumerates a drive again in full when its deltaLink expired (410 resyncRequired)', async () => {
    const tenantId = randomUUID();
    const first = await sharing(tenantId);
    const driveId = jinjiDrive(t.sim.tenant).drive.id as string;
    t.sim.expireDeltaTokens(driveId);
    t.sim.resetCounts();
    const again = await sharing(tenantId);
    expect(again.status).toBe('complete');
    expect(again.data.resynced).toBe(1);
    expect(again.data.items.map(key).sort()).toEqual(first.data.items.map(key).sort());
    const jinjiShared = jinjiDrive(t.sim.tenant).items.filter((i) => i.shared !== undefined).length;
    expect(t.sim.counts().permissions).toBe(jinjiShared);
  });

  it('a drive that keeps failing makes sharing partial and keeps its last inventory, marked as of then', async () => {
    const tenantId = randomUUID();
    await sharing(tenantId);
    const driveId = jinjiDrive(t.sim.tenant).drive.id as string;
    t.sim.setFaults([{ endpoint: 'delta', match: new RegExp(driveId.replace(/[!]/g, '\\!')), status: 500 }]);
    const slice = await collectSharing(testContext(t.graph({ maxAttempts: 2 }), { policy, tenantId, store }));
    expect(slice.status).toBe('partial');
    if (slice.status === 'failed') return;
    expect(slice.detail).toContain(`drive ${driveId}`);
    const stale = slice.data.items.filter((i) => i.driveId === driveId);
    expect(stale.length).toBeGreaterThan(0);
    for (const i of stale) expect(i.asOf).toEqual(expect.any(String));
    expect(slice.data.items.filter((i) => i.driveId !== driveId && i.asOf)).toEqual([]);
  });
});
