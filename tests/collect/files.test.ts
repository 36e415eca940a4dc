/**
 * Sharing collection against the simulator over HTTPS with the store on Azurite: multi-page
 * delta, permissions in $batch, a rescan that reads only the delta yet resolves a removed link and
 * finds an added one, a 410 resync, a failing drive, both shapes of the settings answer.
 */
import { randomUUID } from 'node:crypto';
import { collectSharepointSettings, collectSharing, collectSites } from '../../src/collect/files';
import type { SharedItem } from '../../src/collect/snapshot';
import { validatePolicy } from '../../src/config/policy';
import { ownPermissions } from '../../src/rules/files';
import { generateDemoTenant } from '../../src/sim/demo-tenant';
import type { JsonObject, SimDrive } from '../../src/sim/tenant';
import { Store } from '../../src/store/store';
import { startTestSim, testContext, type TestSim, collectAndCommit } from '../support/sim';

const demo = generateDemoTenant({ seed: 9, users: 40 });
// Every drive read on every scan (the OneDrive sweep has its own tests: files-sweep.test.ts).
const policy = validatePolicy({ ...demo.policy, files: { ...(demo.policy as { files?: object }).files, oneDriveSweepDays: 1 } });
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
  const slice = await collectAndCommit(collectSharing, testContext(t.graph(), { policy, tenantId, store }));
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
    const slice = await collectAndCommit(collectSharing, testContext(t.graph({ maxAttempts: 2 }), { policy, tenantId, store }));
    expect(slice.status).toBe('partial');
    if (slice.status === 'failed') return;
    expect(slice.detail).toContain(`drive ${driveId}`);
    const stale = slice.data.items.filter((i) => i.driveId === driveId);
    expect(stale.length).toBeGreaterThan(0);
    for (const i of stale) expect(i.asOf).toEqual(expect.any(String));
    expect(slice.data.items.filter((i) => i.driveId !== driveId && i.asOf)).toEqual([]);
  });
});

const byName = (drive: SimDrive, name: string): JsonObject => {
  const item = drive.items.find((i) => i.name === name);
  if (!item) throw new Error(`demo tenant lacks ${name}`);
  return item;
};
const newLink = (scope: string) => ({ id: randomUUID(), roles: ['read'], link: { type: 'view', scope, webUrl: `https://example.sharepoint.com/:x:/s/jinji/${scope}` }, expirationDateTime: '0001-01-01T00:00:00Z' });

describe('inheritance from the hierarchy (SharePoint returns no inheritedFrom)', () => {
  it('lists the folder\'s permissions on a shared child under the same ids, without inheritedFrom, and records the child\'s tracked ancestors', async () => {
    const slice = await sharing(randomUUID());
    const drive = jinjiDrive(t.sim.tenant);
    const folder = byName(drive, '給与');
    const child = byName(drive, '賞与計算.xlsx');
    const got = (id: unknown) => slice.data.items.find((i) => i.itemId === id);
    const f = got(folder.id);
    const c = got(child.id);
    expect(f && c).toBeTruthy();
    expect(c?.ancestorIds).toEqual([folder.id]);
    expect(f?.ancestorIds).toEqual([]);
    // The child's list holds every entry of the folder (same ids) plus its own.
    const childIds = new Set(c?.permissions.map((p) => p.id));
    for (const p of f?.permissions ?? []) expect(childIds.has(p.id)).toBe(true);
    expect(c?.permissions.length).toBeGreaterThan(f?.permissions.length ?? 0);
    // Nothing carries inheritedFrom (a business drive), so nothing can be trusted to be marked.
    expect(slice.data.items.flatMap((i) => i.permissions).some((p) => p.inherited)).toBe(false);
  });

  it('a change to a shared folder re-reads the shared items below it, whose lists then lose what the folder lost', async () => {
    const tenantId = randomUUID();
    await sharing(tenantId);
    const drive = jinjiDrive(t.sim.tenant);
    const folder = byName(drive, '給与');
    const child = byName(drive, '賞与計算.xlsx');
    const anonId = (drive.permissions[folder.id as string] ?? []).find((p) => (p.link as JsonObject | undefined)?.scope === 'anonymous')?.id;
    expect(anonId).toEqual(expect.any(String));
    // The folder's anonymous link is removed (a sharing-only change, seen with FullControl).
    t.sim.applyDriveChange(drive.drive.id as string, { itemId: folder.id as string, permissions: (drive.permissions[folder.id as string] ?? []).filter((p) => p.id !== anonId) });
    t.sim.resetCounts();
    const after = await sharing(tenantId);
    expect(t.sim.counts().permissions).toBe(2);
    expect(after.data.items.find((i) => i.itemId === child.id)?.permissions.map((p) => p.id)).not.toContain(anonId);
  });
});

describe('inheritance when only a child is re-read', () => {
  it('without FullControl, a link added to a shared folder is not taken for the re-read child\'s own: the folder is re-read with it', async () => {
    const tenantId = randomUUID();
    const day0 = new Date();
    const run = (now: Date) => collectAndCommit(collectSharing, testContext(t.graph({ roles: ['Sites.Read.All'] }), { policy, tenantId, store, now }));
    await run(day0);
    const drive = jinjiDrive(t.sim.tenant);
    const folder = byName(drive, '給与');
    const child = byName(drive, '賞与計算.xlsx');
    // A sharing-only change on the folder (not reported to this app), and an ordinary edit of the
    // child: the child's fresh list holds the folder's new link under its id.
    const link = newLink('organization');
    t.sim.applyDriveChange(drive.drive.id as string, { itemId: folder.id as string, permissions: [...(drive.permissions[folder.id as string] ?? []), link] });
    t.sim.applyDriveChange(drive.drive.id as string, { upsert: { ...child, lastModifiedDateTime: new Date().toISOString() } });
    t.sim.resetCounts();
    const slice = await run(new Date(day0.getTime() + 86_400_000));
    if (slice.status === 'failed') throw new Error(slice.detail);
    const own = ownPermissions(slice.data, new Date());
    expect(own.find((o) => o.item.itemId === child.id)?.permissions.map((p) => p.id)).not.toContain(link.id);
    // Both lists were taken in this run: the link is the folder's.
    expect(own.find((o) => o.item.itemId === folder.id)?.permissions.map((p) => p.id)).toContain(link.id);
    expect(t.sim.counts().permissions).toBe(2);
  });
});

describe('an edit inside a shared folder with many tracked items below it', () => {
  it.each([
    ['leaves the parents out (deltaExcludeParent honoured)', 'either'],
    ['returns the parents anyway', 'ignored'],
  ] as const)('delta that %s: only the edited item and its tracked ancestor are read', async (_, mode) => {
    await t.close();
    t = await startTestSim({ tenant: JSON.parse(JSON.stringify(demo.data)), throttle: false, deltaExcludeParent: mode });
    const tenantId = randomUUID();
    const drive = jinjiDrive(t.sim.tenant);
    const driveId = drive.drive.id as string;
    const folder = byName(drive, '給与');
    // Four more files in 給与, each shared on its own (so each is tracked).
    const files = [1, 2, 3, 4].map((n): JsonObject => ({ id: `extra-${n}`, name: `明細${n}.xlsx`, file: {}, shared: { scope: 'users' }, parentReference: { driveId, driveType: 'documentLibrary', id: folder.id as string } }));
    for (const f of files) t.sim.applyDriveChange(driveId, { upsert: f, permissions: [newLink('users')] });
    const first = await sharing(tenantId);
    const tracked = first.data.items.filter((i) => i.ancestorIds?.includes(folder.id as string));
    expect(tracked.length).toBeGreaterThanOrEqual(files.length + 1);
    // One of them is edited: delta brings it (and, unless excluded, 給与 and the root as parents).
    t.sim.applyDriveChange(driveId, { upsert: { ...files[0], size: 2048 } });
    t.sim.resetCounts();
    const after = await sharing(tenantId);
    expect(after.status).toBe('complete');
    // The edited file, and 給与 (its tracked ancestor, whose list is unchanged): nothing below it.
    expect(t.sim.counts().permissions).toBe(2);
    expect(after.data.items.map(key).sort()).toEqual(first.data.items.map(key).sort());
  });

  it.each([
    ['honours the deltaExcludeParent header', 'header', 0],
    ['honours Prefer: deltaExcludeParent', 'prefer', 0],
    ['returns the parents anyway', 'ignored', 1],
  ] as const)('delta that %s: an edited unshared file in a shared folder costs at most the folder\'s read', async (_, mode, reads) => {
    await t.close();
    t = await startTestSim({ tenant: JSON.parse(JSON.stringify(demo.data)), throttle: false, deltaExcludeParent: mode });
    const tenantId = randomUUID();
    const drive = jinjiDrive(t.sim.tenant);
    const driveId = drive.drive.id as string;
    const folder = byName(drive, '給与');
    const plain: JsonObject = { id: 'plain-file', name: 'メモ.txt', file: {}, parentReference: { driveId, driveType: 'documentLibrary', id: folder.id as string } };
    t.sim.applyDriveChange(driveId, { upsert: plain });
    const first = await sharing(tenantId);
    t.sim.applyDriveChange(driveId, { upsert: { ...plain, size: 10 } });
    t.sim.resetCounts();
    const after = await sharing(tenantId);
    // The collector asks for no parents in both forms; a 給与 that comes back anyway is read once
    // (its list is unchanged, so nothing below it is).
    expect(t.sim.counts().permissions ?? 0).toBe(reads);
    expect(after.data.items.map(key).sort()).toEqual(first.data.items.map(key).sort());
  });
});

describe('inheritance when a folder moves', () => {
  it('a folder moved out from under a shared folder re-reads the shared items inside it', async () => {
    const tenantId = randomUUID();
    const drive = jinjiDrive(t.sim.tenant);
    const driveId = drive.drive.id as string;
    const folder = byName(drive, '給与');
    const root = drive.items.find((i) => i.root !== undefined) as JsonObject;
    const ref = (parent: JsonObject) => ({ driveId, driveType: 'documentLibrary', id: parent.id as string });
    // 給与/移動用 (a plain folder) holding a file shared on its own.
    const sub: JsonObject = { id: 'moving-folder', name: '移動用', folder: { childCount: 1 }, parentReference: ref(folder) };
    const file: JsonObject = { id: 'moving-file', name: 'メモ.docx', file: {}, shared: { scope: 'users' }, parentReference: ref(sub) };
    t.sim.applyDriveChange(driveId, { upsert: sub });
    t.sim.applyDriveChange(driveId, { upsert: file, permissions: [newLink('users')] });
    const anonId = (drive.permissions[folder.id as string] ?? []).find((p) => (p.link as JsonObject | undefined)?.scope === 'anonymous')?.id;
    const before = (await sharing(tenantId)).data.items.find((i) => i.itemId === 'moving-file');
    expect(before?.ancestorIds).toEqual([folder.id]);
    expect(before?.permissions.map((p) => p.id)).toContain(anonId);
    // The folder moves to the top of the library: only the folder comes back in delta.
    t.sim.applyDriveChange(driveId, { upsert: { ...sub, parentReference: ref(root) } });
    t.sim.resetCounts();
    const after = (await sharing(tenantId)).data.items.find((i) => i.itemId === 'moving-file');
    expect(after?.ancestorIds).toEqual([]);
    expect(after?.permissions.map((p) => p.id)).not.toContain(anonId);
    expect(t.sim.counts().permissions).toBe(1);
  });
});

describe('sharing changes and the app\'s roles', () => {
  it('sends the sharing Prefer values and, with Sites.FullControl.All, sees a link added to an unchanged file incrementally', async () => {
    const tenantId = randomUUID();
    await sharing(tenantId);
    const drive = jinjiDrive(t.sim.tenant);
    const file = byName(drive, '給与規程.pdf');
    // Sharing only: the file itself does not change. The simulator reports it only to a
    // FullControl token that sends all the sharing Prefer values (the default test token has it).
    t.sim.applyDriveChange(drive.drive.id as string, { itemId: file.id as string, permissions: [newLink('anonymous')] });
    t.sim.resetCounts();
    const after = await sharing(tenantId);
    expect(after.status).toBe('complete');
    expect(after.data.items.find((i) => i.itemId === file.id)?.permissions[0]?.link?.scope).toBe('anonymous');
    expect(t.sim.counts().permissions).toBe(1);
  });

  it('without Sites.FullControl.All: full first read, then incremental reads are partial and say what they cannot see, until the scheduled full enumeration finds the link', async () => {
    const tenantId = randomUUID();
    const readOnly = ['Sites.Read.All'];
    const run = (now: Date) => collectAndCommit(collectSharing, testContext(t.graph({ roles: readOnly }), { policy, tenantId, store, now }));
    const day0 = new Date();
    const first = await run(day0);
    // No previous full read: a full enumeration, which sees everything.
    expect(first.status).toBe('complete');
    const drive = jinjiDrive(t.sim.tenant);
    const file = byName(drive, '給与規程.pdf');
    t.sim.applyDriveChange(drive.drive.id as string, { itemId: file.id as string, permissions: [newLink('anonymous')] });
    const second = await run(new Date(day0.getTime() + 86_400_000));
    expect(second.status).toBe('partial');
    if (second.status === 'failed') return;
    expect(second.detail).toContain('Sites.FullControl.All');
    expect(second.detail).toMatch(/added to an otherwise unchanged file/);
    expect(second.detail).toContain('files.fullEnumerationDays = 7');
    // SharePoint did not report the sharing-only change to this app: the link is not seen yet.
    expect(second.data.items.some((i) => i.itemId === file.id)).toBe(false);
    t.sim.resetCounts();
    const weekLater = await run(new Date(day0.getTime() + 7 * 86_400_000));
    expect(weekLater.status).toBe('complete');
    if (weekLater.status === 'failed') return;
    expect(weekLater.data.items.find((i) => i.itemId === file.id)?.permissions[0]?.link?.scope).toBe('anonymous');
    // A full enumeration re-reads every shared item's permissions.
    expect(t.sim.counts().permissions).toBe(sharedCount(t.sim.tenant));
  });

  it('FullControl granted after incremental runs without it: the first run with it enumerates in full and finds the link the earlier runs could not see', async () => {
    const tenantId = randomUUID();
    const day0 = new Date();
    const run = (roles: string[] | undefined, now: Date) => collectAndCommit(collectSharing, testContext(t.graph(roles ? { roles } : {}), { policy, tenantId, store, now }));
    expect((await run(['Sites.Read.All'], day0)).status).toBe('complete');
    const drive = jinjiDrive(t.sim.tenant);
    const file = byName(drive, '給与規程.pdf');
    // Sharing only: invisible to the incremental read without FullControl, which still moves
    // the drive's deltaLink past it.
    t.sim.applyDriveChange(drive.drive.id as string, { itemId: file.id as string, permissions: [newLink('anonymous')] });
    const day1 = await run(['Sites.Read.All'], new Date(day0.getTime() + 86_400_000));
    expect(day1.status).toBe('partial');
    // The admin grants Sites.FullControl.All (the default simulator token holds it). The stored
    // deltaLink cannot show what it moved past: the drive is enumerated again, once.
    t.sim.resetCounts();
    const day2 = await run(undefined, new Date(day0.getTime() + 2 * 86_400_000));
    expect(day2.status).toBe('complete');
    if (day2.status === 'failed') return;
    expect(day2.data.items.find((i) => i.itemId === file.id)?.permissions[0]?.link?.scope).toBe('anonymous');
    expect(t.sim.counts().permissions).toBe(sharedCount(t.sim.tenant));
    // From then on every read was made with FullControl: incremental again, nothing to read.
    t.sim.resetCounts();
    const day3 = await run(undefined, new Date(day0.getTime() + 3 * 86_400_000));
    expect(day3.status).toBe('complete');
    expect(t.sim.counts().permissions ?? 0).toBe(0);
  });

  it('an inventory read without FullControl is enumerated in full on the first run with it, even right after a full read', async () => {
    const tenantId = randomUUID();
    const day0 = new Date();
    await collectAndCommit(collectSharing, testContext(t.graph({ roles: ['Sites.Read.All'] }), { policy, tenantId, store, now: day0 }));
    const driveId = jinjiDrive(t.sim.tenant).drive.id as string;
    const stored = JSON.parse((await store.getStateBlob(tenantId, `files-drive-${driveId}`)) ?? '{}') as { sharingChangesSeen?: unknown };
    expect(stored.sharingChangesSeen).toBe(false);
    t.sim.resetCounts();
    const next = await collectAndCommit(collectSharing, testContext(t.graph(), { policy, tenantId, store, now: new Date(day0.getTime() + 60_000) }));
    expect(next.status).toBe('complete');
    expect(t.sim.counts().permissions).toBe(sharedCount(t.sim.tenant));
    const after = JSON.parse((await store.getStateBlob(tenantId, `files-drive-${driveId}`)) ?? '{}') as { sharingChangesSeen?: unknown };
    expect(after.sharingChangesSeen).toBe(true);
  });

  it('reads the roles from the token: the simulator token is a JWT whose roles claim the collector sees', async () => {
    expect(await t.graph({ roles: ['Sites.Read.All'] }).grantedRoles()).toEqual(['Sites.Read.All']);
    expect(await t.graph().grantedRoles()).toContain('Sites.FullControl.All');
  });

  it('drops a version-1 inventory cleanly to a full enumeration and stores version 2', async () => {
    const tenantId = randomUUID();
    const driveId = jinjiDrive(t.sim.tenant).drive.id as string;
    // A v1 inventory whose deltaLink would fail if it were followed.
    await store.putStateBlob(tenantId, `files-drive-${driveId}`, JSON.stringify({ version: 1, deltaLink: `${t.sim.url}/v1.0/drives/${driveId}/root/delta?token=stale-v1`, items: {}, readAt: new Date().toISOString() }));
    const slice = await sharing(tenantId);
    expect(slice.status).toBe('complete');
    expect(slice.items).toBe(sharedCount(t.sim.tenant));
    const stored = JSON.parse((await store.getStateBlob(tenantId, `files-drive-${driveId}`)) ?? '{}') as { version?: number; fullReadAt?: string; folders?: object };
    expect(stored.version).toBe(2);
    expect(stored.fullReadAt).toEqual(expect.any(String));
    expect(Object.keys(stored.folders ?? {}).length).toBeGreaterThan(0);
  });
});

describe('the unreliable shared facet', () => {
  it('a tracked shared item that comes back in delta without `shared` is re-read and kept, not dropped', async () => {
    const omit: string[] = [];
    await t.close();
    t = await startTestSim({ tenant: JSON.parse(JSON.stringify(demo.data)), throttle: false, omitSharedFacet: omit });
    const tenantId = randomUUID();
    await sharing(tenantId);
    const drive = jinjiDrive(t.sim.tenant);
    const file = byName(drive, '職員名簿.xlsx');
    // The file is edited (it comes back in delta), and SharePoint leaves its `shared` facet out.
    omit.push(file.id as string);
    t.sim.applyDriveChange(drive.drive.id as string, { upsert: { ...file, lastModifiedDateTime: new Date().toISOString() } });
    t.sim.resetCounts();
    const after = await sharing(tenantId);
    expect(after.status).toBe('complete');
    const kept = after.data.items.find((i) => i.itemId === file.id);
    expect(kept?.permissions.some((p) => p.link?.scope === 'users')).toBe(true);
    expect(t.sim.counts().permissions).toBe(1);
  });
});

describe('a failing next page costs only its site or drive', () => {
  it('a libraries nextLink that fails makes only that site partial', async () => {
    await t.close();
    t = await startTestSim({ tenant: JSON.parse(JSON.stringify(demo.data)), throttle: false, maxPageSize: { drives: 1 } });
    const soumu = t.sim.tenant.sites.find((s) => (s.site.webUrl as string).endsWith('/sites/soumu'));
    expect(soumu?.drives.length).toBeGreaterThan(1);
    t.sim.setFaults([{ endpoint: 'drives', match: /skiptoken/i, status: 500 }]);
    const slice = await collectAndCommit(collectSharing, testContext(t.graph({ maxAttempts: 2 }), { policy, tenantId: randomUUID(), store }));
    expect(slice.status).toBe('partial');
    if (slice.status === 'failed') return;
    expect(slice.detail).toContain('/sites/soumu: the next page of its libraries could not be read');
    // The other sites' shared items stand.
    expect(slice.data.items.filter((i) => i.siteUrl.endsWith('/sites/jinji')).length).toBe(jinjiDrive(t.sim.tenant).items.filter((i) => i.shared !== undefined).length);
  });

  it('a permissions nextLink that fails makes only that drive partial; the others are read afresh', async () => {
    await t.close();
    t = await startTestSim({ tenant: JSON.parse(JSON.stringify(demo.data)), throttle: false, maxPageSize: { permissions: 1 } });
    const drive = jinjiDrive(t.sim.tenant);
    const driveId = drive.drive.id as string;
    const folder = byName(drive, '給与');
    t.sim.setFaults([{ endpoint: 'permissions', match: new RegExp(`items/${folder.id as string}/permissions.*skiptoken`, 'i'), status: 500 }]);
    const slice = await collectAndCommit(collectSharing, testContext(t.graph({ maxAttempts: 2 }), { policy, tenantId: randomUUID(), store }));
    expect(slice.status).toBe('partial');
    if (slice.status === 'failed') return;
    expect(slice.detail).toContain(`drive ${driveId}`);
    expect(slice.detail).toContain(`${folder.id as string}: the next page of its permissions`);
    const others = slice.data.items.filter((i) => i.driveId !== driveId);
    expect(others.length).toBe(sharedCount(t.sim.tenant) - drive.items.filter((i) => i.shared !== undefined).length);
    expect(others.filter((i) => i.asOf)).toEqual([]);
  });
});
