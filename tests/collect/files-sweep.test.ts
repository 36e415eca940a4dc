/**
 * The OneDrive sweep (issue 13) against the simulator over HTTPS, store on Azurite, over a
 * simulated week (injected `now`): every OneDrive is read once per sweep period, a day reads about
 * 1/period of them, a sharing change on a drive not read today shows on its bucket's day, a new
 * drive is read on the day it appears, findings of unread drives are held (never resolved), and
 * after a week the items equal a read-everything scan's.
 */
import { randomUUID } from 'node:crypto';
import { collectSharing, sweepBucket, todaysBucket } from '../../src/collect/files';
import type { SharedItem } from '../../src/collect/snapshot';
import { validatePolicy } from '../../src/config/policy';
import { reconcile, type LedgerEntry } from '../../src/findings/ledger';
import { generateDemoTenant } from '../../src/sim/demo-tenant';
import type { JsonObject, SimSite, TenantData } from '../../src/sim/tenant';
import { Store } from '../../src/store/store';
import { startTestSim, testContext, type TestSim, collectAndCommit } from '../support/sim';

const DAYS = 7;
const ONEDRIVES = 21;
const demo = generateDemoTenant({ seed: 480, users: 30 });
const policy = validatePolicy({ ...demo.policy, files: { ...(demo.policy as { files?: object }).files, oneDriveSweepDays: DAYS } });
const everyDay = validatePolicy({ ...demo.policy, files: { ...(demo.policy as { files?: object }).files, oneDriveSweepDays: 1 } });

/** The demo tenant with ONEDRIVES copies of its one OneDrive (new site and drive ids). */
function withOneDrives(n: number): TenantData {
  const data = JSON.parse(JSON.stringify(demo.data)) as TenantData;
  const personal = data.sites.find((s) => String(s.site.webUrl).includes('/personal/')) as SimSite;
  for (let i = 0; i < n; i++) data.sites.push(cloneOneDrive(personal, `sweep${i}`));
  return data;
}

function cloneOneDrive(site: SimSite, tag: string): SimSite {
  const copy = JSON.parse(JSON.stringify(site)) as SimSite;
  const webUrl = `${String(site.site.webUrl)}_${tag}`;
  copy.site = { ...copy.site, id: `${String(site.site.id)}-${tag}`, webUrl, name: tag };
  for (const d of copy.drives) {
    const old = String(d.drive.id);
    const id = `${old}-${tag}`;
    d.drive = JSON.parse(JSON.stringify(d.drive).split(old).join(id)) as JsonObject;
    d.items = JSON.parse(JSON.stringify(d.items).split(old).join(id)) as JsonObject[];
  }
  return copy;
}

const personalSites = (data: TenantData): SimSite[] => data.sites.filter((s) => String(s.site.webUrl).includes('/personal/'));
const teamSiteCount = (data: TenantData): number => data.sites.length - personalSites(data).length;
/** Personal sites whose every drive is due on day d (listed again that day). */
const dueSites = (data: TenantData, d: number): SimSite[] => personalSites(data).filter((s) => s.drives.some((x) => sweepBucket(String(x.drive.id), DAYS) === todaysBucket(day(d), DAYS)));
const oneDriveIds = (data: TenantData): string[] => data.sites.filter((s) => String(s.site.webUrl).includes('/personal/')).flatMap((s) => s.drives.map((d) => String(d.drive.id)));
const libraryCount = (data: TenantData): number => data.sites.filter((s) => !String(s.site.webUrl).includes('/personal/')).reduce((n, s) => n + s.drives.length, 0);
const key = (i: SharedItem) => `${i.driveId}/${i.itemId}`;
const strip = (i: SharedItem) => ({ ...i, asOf: undefined });

// A Monday 03:00 UTC; day d of the week is START + d days.
const START = Date.UTC(2026, 10, 2, 3, 0, 0);
const day = (d: number): Date => new Date(START + d * 86_400_000);

let t: TestSim;
let store: Store;
beforeAll(async () => {
  store = await Store.connect(process.env.AZURE_STORAGE_CONNECTION_STRING ?? '');
});
beforeEach(async () => {
  t = await startTestSim({ tenant: withOneDrives(ONEDRIVES), throttle: false });
});
afterEach(async () => {
  await t.close();
});

async function scan(tenantId: string, now: Date, p = policy) {
  // At a known Graph root, as the product runs (stored state names the root it was read at).
  const slice = await collectAndCommit(collectSharing, testContext(t.graph({ root: t.sim.url }), { policy: p, tenantId, store, now }));
  if (slice.status === 'failed') throw new Error(slice.detail);
  return slice;
}

describe('OneDrive sweep', () => {
  it('reads every OneDrive once per period, about 1/period a day, libraries every day; the rest as of their read', async () => {
    const tenantId = randomUUID();
    const ids = oneDriveIds(t.sim.tenant);
    expect(ids.length).toBe(ONEDRIVES + 1);
    // Day 0: no inventory yet, so every drive is read whatever its bucket.
    const first = await scan(tenantId, day(0));
    expect(first.holds).toBeUndefined();
    const reads = new Map<string, number>();
    for (let d = 1; d <= DAYS; d++) {
      t.sim.resetCounts();
      const slice = await scan(tenantId, day(d));
      expect(slice.status).toBe('complete');
      const held = new Set((slice.holds ?? []).map((h) => h.slice(0, -1)));
      const read = ids.filter((id) => !held.has(id));
      // Exactly the drives of today's bucket, and one delta per drive read.
      expect(read.sort()).toEqual(ids.filter((id) => sweepBucket(id, DAYS) === todaysBucket(day(d), DAYS)).sort());
      expect(t.sim.counts().delta).toBe(libraryCount(t.sim.tenant) + read.length);
      // Libraries are listed on every team site, on a personal site only on its OneDrive's day.
      expect(t.sim.counts().drives).toBe(teamSiteCount(t.sim.tenant) + dueSites(t.sim.tenant, d).length);
      if (d < DAYS) expect(dueSites(t.sim.tenant, d).length).toBeLessThan(personalSites(t.sim.tenant).length);
      for (const id of read) reads.set(id, (reads.get(id) ?? 0) + 1);
      for (const i of slice.data.items) if (held.has(i.driveId)) expect(Date.parse(i.asOf ?? '')).toBeLessThan(day(d).getTime());
      if (held.size) {
        expect(slice.data.fromEarlierRead?.drives).toBe(held.size);
        expect(slice.detail).toContain(`${held.size} reported as of an earlier read`);
      }
    }
    // Over the week each OneDrive was read exactly once.
    expect(ids.map((id) => reads.get(id) ?? 0)).toEqual(ids.map(() => 1));
    // Buckets spread: no day read more than half of them (21 drives over 7 buckets).
    expect(Math.max(...[...Array(DAYS).keys()].map((b) => ids.filter((id) => sweepBucket(id, DAYS) === b).length))).toBeLessThan(ids.length / 2);
  });

  it('a sharing change on a drive not read today shows on its bucket day; a new drive is read the day it appears; a week equals a read-everything scan', async () => {
    const tenantId = randomUUID();
    await scan(tenantId, day(0));
    const ids = oneDriveIds(t.sim.tenant);
    const target = ids.find((id) => sweepBucket(id, DAYS) !== todaysBucket(day(1), DAYS)) as string;
    const bucketDay = [...Array(DAYS).keys()].map((i) => i + 1).find((d) => todaysBucket(day(d), DAYS) === sweepBucket(target, DAYS)) as number;
    const drive = t.sim.tenant.sites.flatMap((s) => s.drives).find((d) => d.drive.id === target);
    const file = drive?.items.find((i) => i.file !== undefined && i.shared === undefined) as JsonObject;
    expect(file).toBeTruthy();
    const link = { id: randomUUID(), roles: ['read'], link: { type: 'view', scope: 'anonymous', webUrl: 'https://example-my.sharepoint.com/:b:/g/new' }, expirationDateTime: '0001-01-01T00:00:00Z' };
    t.sim.applyDriveChange(target, { upsert: { ...file, shared: { scope: 'anonymous' } }, permissions: [link] });
    // A new OneDrive appears on day 1.
    const personal = t.sim.tenant.sites.find((s) => String(s.site.webUrl).includes('/personal/')) as SimSite;
    const added = cloneOneDrive(personal, 'newcomer');
    t.sim.tenant.sites.push(added);
    const addedId = String(added.drives[0]?.drive.id);
    for (let d = 1; d <= DAYS; d++) {
      const slice = await scan(tenantId, day(d));
      const has = slice.data.items.some((i) => i.driveId === target && i.itemId === file.id);
      expect(has).toBe(d >= bucketDay);
      if (d === 1) expect((slice.holds ?? []).includes(`${addedId}/`)).toBe(false);
      if (d === DAYS) {
        const everything = await collectSharing(testContext(t.graph(), { policy: everyDay, tenantId: randomUUID(), now: day(d) }));
        if (everything.status === 'failed') throw new Error(everything.detail);
        const sort = (xs: SharedItem[]) => xs.map(strip).sort((a, b) => key(a).localeCompare(key(b)));
        expect(sort(slice.data.items)).toEqual(sort(everything.data.items));
      }
    }
  });

  it('a personal site is listed again when its stored list is unreadable, of another Graph root, as old as the period, or absent; with a sweep of 1 day, always', async () => {
    const tenantId = randomUUID();
    t.sim.resetCounts();
    await scan(tenantId, day(0));
    // Day 0 lists every site and stores each personal site's list (after the commit).
    expect(t.sim.counts().drives).toBe(t.sim.tenant.sites.length);
    const notDue = personalSites(t.sim.tenant).filter((s) => !dueSites(t.sim.tenant, 1).includes(s));
    expect(notDue.length).toBeGreaterThanOrEqual(4);
    const [bad, foreign, old, gone] = notDue.map((s) => String(s.site.id)) as [string, string, string, string];
    const stored = JSON.parse((await store.getStateBlob(tenantId, `files-site-drives-${foreign}`)) ?? '{}') as { listedAt: string; graphRoot: string; drives: unknown[] };
    expect(stored.graphRoot.toLowerCase()).toBe(t.sim.url.toLowerCase());
    expect(stored.drives).toHaveLength(1);
    await store.putStateBlob(tenantId, `files-site-drives-${bad}`, '{not json');
    await store.putStateBlob(tenantId, `files-site-drives-${foreign}`, JSON.stringify({ ...stored, graphRoot: 'https://graph.other.example' }));
    const oldDoc = JSON.parse((await store.getStateBlob(tenantId, `files-site-drives-${old}`)) ?? '{}') as Record<string, unknown>;
    await store.putStateBlob(tenantId, `files-site-drives-${old}`, JSON.stringify({ ...oldDoc, listedAt: new Date(day(1).getTime() - DAYS * 86_400_000).toISOString() }));
    await store.deleteStateBlob(tenantId, `files-site-drives-${gone}`);
    t.sim.resetCounts();
    const slice = await scan(tenantId, day(1));
    expect(slice.status).toBe('complete');
    expect(t.sim.counts().drives).toBe(teamSiteCount(t.sim.tenant) + dueSites(t.sim.tenant, 1).length + 4);
    expect(slice.detail).toMatch(/personal site\(s\) not due today were not listed again/);
    // Listed again on day 1, so stored again: day 2 leaves them unlisted unless due.
    t.sim.resetCounts();
    await scan(tenantId, day(2));
    expect(t.sim.counts().drives).toBe(teamSiteCount(t.sim.tenant) + dueSites(t.sim.tenant, 2).length);
    // A sweep of one day reads every OneDrive every day, so every site is listed.
    t.sim.resetCounts();
    await scan(tenantId, day(3), everyDay);
    expect(t.sim.counts().drives).toBe(t.sim.tenant.sites.length);
  });

  it('the ledger keeps the findings of a held drive, even absent, in a complete area', () => {
    const entry = (id: string, subjectId: string): LedgerEntry => ({
      id, ruleId: 'FILE-01', kind: 'state', area: 'files', severity: 'medium', clauses: [], title: { ja: '', en: '' },
      subject: { kind: 'driveItem', id: subjectId, name: subjectId }, status: 'open', firstSeen: day(0).toISOString(), lastSeen: day(0).toISOString(),
      resolvedAt: null, reopenCount: 0, evidence: {}, history: [], ticket: null,
    });
    const current = new Map([['a', entry('a', 'b!held/item1')], ['b', entry('b', 'b!read/item2')]]);
    const rec = reconcile(current, { findings: [], coverage: { files: { status: 'complete', items: 0 } }, areas: ['files'], holds: ['b!held/'], at: day(1).toISOString() });
    expect(rec.resolved).toEqual(['b']);
  });
});
