/**
 * SharePoint and OneDrive sharing (FILE-01…05). Endpoints (graph.md; Sites.Read.All, and
 * Sites.FullControl.All for incremental sharing changes; SharePointTenantSettings.Read.All):
 *   GET /sites/getAllSites → GET /sites/{id}/drives (in $batch) → GET /drives/{id}/root/delta with
 *   `Prefer: hierarchicalsharing, deltashowsharingchanges, deltashowremovedasdeleted,
 *   deltatraversepermissiongaps, deltaExcludeParent` and `deltaExcludeParent: true` →
 *   GET /drives/{id}/items/{id}/permissions (in $batch) for items carrying the `shared` facet;
 *   GET /admin/sharepoint/settings.
 *
 * Only what the standard cares about is read, and on later scans only what changed:
 * - Each drive keeps an inventory (a state blob, handed back as the slice's pending state and stored
 *   by the pipeline only after the ledger write: collect/pending.ts): its `@odata.deltaLink`, the items at the root
 *   of a sharing hierarchy with their last permissions and parents, every folder's parent, and
 *   when the drive was last enumerated in full. A later scan starts from the deltaLink, applies
 *   the changes and re-reads permissions only for changed shared items, yet knows every shared
 *   item that exists now. The tracked ancestors of every item read are read in the same run: the
 *   item's list holds their entries as they are now, and only a list of theirs taken at the same
 *   moment tells those entries from the item's own (without FullControl a link added to a folder
 *   is not reported). The tracked items below an item are read only when its list of ids changed
 *   (they still list what it had), or when a folder above them moved or went — not when a shared
 *   folder comes back merely as the parent of an edited item (delta returns a changed item's
 *   parents unless asked not to; the collector asks, in both documented forms, but does not rely
 *   on it: see EXCLUDE_PARENT).
 * - Sharing-only changes (a link added to an unchanged file) appear in delta only for an app
 *   holding Sites.FullControl.All ("driveItem: delta"; SharePoint blog "How to retrieve complete
 *   set of permission changes while using delta"). The app's roles are read from its access
 *   token; without FullControl each drive is enumerated in full every `files.fullEnumerationDays`
 *   and an incremental run in between reports *partial* coverage saying what it cannot see.
 *   The inventory records whether every delta read since its last full enumeration was made with
 *   FullControl and the sharing Prefer values: a read without them moved the deltaLink past
 *   changes it could not see, which no later read reports, so the first run with FullControl
 *   after such a read enumerates the drive in full before it calls itself complete.
 * - SharePoint lists an ancestor's permissions on the items below under the same ids and never
 *   sends `inheritedFrom` ("Permission resource type"): each item carries its tracked ancestors
 *   (`ancestorIds`) and the rules decide inheritance from them.
 * - `shared` is unreliable (open docs issues: missing for specific-people links): a tracked item
 *   that comes back without it is re-read, never dropped unread.
 *   Known limit, not reported in coverage: an item that was never tracked and that SharePoint
 *   serves without `shared` although it carries a specific-people link (microsoft-graph-docs#17418
 *   "Shared facet not set when sharing links with specific people in SharePoint";
 *   onedrive-api-docs#1101) is not seen by a full enumeration, with or without FullControl — only
 *   a permission read of every item of the drive would find it. With FullControl an incremental
 *   read still reads it when delta marks the change `@microsoft.graph.sharedChanged` (which
 *   msgraph-sdk-java#2548 reports only on files, never on folders).
 * - Requests are paced in SharePoint resource units by the tenant's licence band ("Avoid getting
 *   throttled or blocked in SharePoint Online"; budget.ts), honouring RateLimit-* and Retry-After.
 * - A deltaLink that expired (410 `resync…`) makes that drive enumerate again from scratch.
 * - A drive that fails after the retry cap, or whose next page fails, makes the slice partial; its
 *   last good inventory is reported as is (marked `asOf`), its deltaLink is kept, so nothing of it
 *   is resolved or lost. A site whose libraries' next page fails costs only that site.
 *
 * OneDrive sweep (issue 13). The budget at 50,000 users, from budget.ts ("Avoid getting throttled
 * or blocked in SharePoint Online"): the 50k+ band allows 6,000 RU/minute per app. Such a tenant
 * holds ≥ 50,000 OneDrives and 2,500 sites (users / 20) with their libraries. A no-change rescan
 * costs per drive one delta with a token (1 RU); listing drives is one /sites/{id}/drives per site
 * (2 RU, sent 20 to a $batch — the envelope is not a SharePoint request), 52,500 × 2 = 105,000 RU;
 * getAllSites pages (999 a page, 2 RU) ≈ 106 RU. A permission read is 5 RU: at 200 items per
 * library and 2% shared, 4 shared items per drive, so a full enumeration of one drive costs
 * 2 RU (delta without token) + its further pages (1 RU each, 200 items ≈ 1 page) + 20 RU = ~22 RU.
 * Reading everything every day: 105,000 (listing) + 52,500 (deltas) = 157,500 RU ≈ 26 minutes at
 * 6,000 RU/min for a no-change day, and a full enumeration of every drive (without FullControl,
 * every files.fullEnumerationDays) 105,000 + 52,500 × 22 ≈ 1.26 M RU ≈ 3.5 hours — more than a
 * Functions run (30 min timeout). With the sweep (OneDrives over files.oneDriveSweepDays = 7
 * days): 2,500 site libraries + ~7,143 OneDrives a day: deltas ≈ 9,643 RU, full enumerations of
 * a day's bucket ≈ 9,643 × 22 ≈ 212,000 RU ≈ 35 min. Listing every site's drives every day
 * would be 105,000 RU ≈ 17.5 min, the largest cost left; so a personal site is listed only on its
 * OneDrive's day (storedDriveLists): 2,500 team sites + ~7,143 personal sites ≈ 19,300 RU, a
 * no-change day ≈ 29,000 RU ≈ 5 min (the bench measures it). The site list (getAllSites) is still
 * read in full every scan, so a new OneDrive is listed and read the day it appears.
 *
 * How OneDrives are found: /sites/getAllSites as every other site. Its page ("sites: getAllSites",
 * "Best practices for discovering files and detecting changes at scale") does not say whether
 * personal sites are included; the simulator serves them (the demo's /personal/ site). A drive is
 * a OneDrive when its `driveType` is `business` or its site is a `/personal/` site on a `-my`
 * host. No cheaper change signal is relied on: `drive.lastModifiedDateTime` / site
 * `lastModifiedDateTime` are not documented to move on a sharing-only change (a link added to an
 * unchanged file), so skipping a drive because they did not move would hide exactly the changes
 * the FILE rules look for; the sweep bounds how late such a change is seen instead (≤ the period).
 *
 * Which drives are read on a scan: every SharePoint library; a OneDrive when it has no stored
 * inventory yet (a new drive is read on the day it appears), when its inventory is as old as the
 * sweep period or older (a missed bucket day is caught up), or when today is its bucket (a stable
 * hash of the drive id modulo the period, against UTC days since the epoch). A OneDrive not due is
 * reported from its stored inventory, every item marked `asOf` its read; the slice `holds` its
 * `driveId/` prefix so the ledger resolves none of its findings (nothing read today can show them
 * fixed), and it raises nothing it did not read then. Coverage: the sweep alone keeps the area
 * complete — every drive was read within the sweep period and every drive due today was read —
 * and the detail says how many drives were read today, how many are as of an earlier read, and
 * the oldest read. A drive due today that fails still makes the area partial.
 */
import { z } from 'zod';
import { GraphError } from '../errors';
import { sharepointBudget } from '../graph/budget';
import type { BatchResult } from '../graph/graph';
import type { Collector, CollectContext, ShardCheckpoint } from './context';
import type { PendingState } from './pending';
import { graphDate, optionalString, parseRecords, summariseProblems } from './parse';
import type { Grantee, ItemPermission, SharedItem, Sharing, Site, Slice } from './snapshot';

/**
 * Drives read at once. The SharePoint pacer (src/graph/pacing.ts, 16 in flight) and the resource-
 * unit budget decide the real rate; at 4 a daily scan of token deltas (1 RU, one 100 ms request
 * each) was latency-bound at 40 RU/s, under the 100 RU/s of the 50k+ band (issue 13 bench).
 */
const DRIVE_CONCURRENCY = 16;

export const siteSchema = z
  .looseObject({ id: z.string().min(1), webUrl: z.string().min(1), name: optionalString, displayName: optionalString })
  .transform((s): Site => ({ id: s.id, webUrl: s.webUrl.replace(/\/+$/, ''), name: s.displayName ?? s.name ?? s.webUrl }));

const driveSchema = z.looseObject({ id: z.string().min(1), name: optionalString, webUrl: optionalString, driveType: optionalString });

const identity = z.looseObject({ displayName: optionalString, email: optionalString, loginName: optionalString, userPrincipalName: optionalString }).nullish();
const identitySet = z.looseObject({ user: identity, siteUser: identity, group: identity, siteGroup: identity }).nullish();

function granteesOf(set: z.output<typeof identitySet>, via: Grantee['via']): Grantee[] {
  if (!set) return [];
  // Groups (M365 groups, SharePoint groups) are internal containers: their members are not read.
  return [set.user, set.siteUser]
    .filter((i): i is NonNullable<typeof i> => Boolean(i))
    .map((i) => ({ displayName: i.displayName, email: i.email ?? i.userPrincipalName, loginName: i.loginName, via }))
    .filter((g) => g.email || g.loginName);
}

export const permissionSchema = z
  .looseObject({
    id: z.string().min(1),
    roles: z.array(z.string()).nullish(),
    link: z.looseObject({ type: optionalString, scope: optionalString, webUrl: optionalString }).nullish(),
    expirationDateTime: graphDate,
    inheritedFrom: z.unknown().optional(),
    grantedToV2: identitySet,
    grantedToIdentitiesV2: z.array(identitySet).nullish(),
    invitation: z.looseObject({ email: optionalString }).nullish(),
  })
  .transform(
    (p): ItemPermission => ({
      id: p.id,
      roles: p.roles ?? [],
      link: p.link ? { type: p.link.type, scope: p.link.scope, webUrl: p.link.webUrl } : null,
      expirationDateTime: p.expirationDateTime,
      inherited: p.inheritedFrom !== undefined && p.inheritedFrom !== null,
      grantees: [
        ...granteesOf(p.grantedToV2, 'grantedToV2'),
        ...(p.grantedToIdentitiesV2 ?? []).flatMap((s) => granteesOf(s, 'grantedToIdentitiesV2')),
        ...(p.invitation?.email ? [{ displayName: null, email: p.invitation.email, loginName: null, via: 'invitation' as const }] : []),
      ],
    }),
  );

const deltaItemSchema = z.looseObject({
  id: z.string().min(1),
  name: optionalString,
  webUrl: optionalString,
  folder: z.unknown().optional(),
  shared: z.unknown().optional(),
  deleted: z.unknown().optional(),
  root: z.unknown().optional(),
  parentReference: z.looseObject({ id: optionalString }).nullish(),
  // "True" in the docs' text; read loosely (a boolean true is as good).
  '@microsoft.graph.sharedChanged': z.unknown().optional(),
});

/** A tracked item of a drive's inventory (a SharedItem without what the drive gives). */
type TrackedItem = Omit<SharedItem, 'driveId' | 'itemId' | 'siteId' | 'siteUrl' | 'asOf' | 'ancestorIds'> & {
  /** `parentReference.id`: with `folders`, the item's ancestry. */
  parentId?: string | undefined;
};

/**
 * A drive's stored inventory. Version 2 adds each tracked item's parent and the parent of every
 * folder (inheritance is decided from the hierarchy: "Permission resource type" says OneDrive for
 * Business and SharePoint don't return `inheritedFrom`) and when the drive was last enumerated in
 * full. A version-1 inventory is still read for its items, but its drive is enumerated in full.
 */
interface DriveInventory {
  version: 2;
  deltaLink: string;
  items: Record<string, TrackedItem>;
  /** Folder id → parent folder id, for every folder seen (the root has none). */
  folders: Record<string, string>;
  readAt: string;
  /** When the drive was last enumerated from scratch; undefined: never (a version-1 inventory). */
  fullReadAt: string | undefined;
  /**
   * Every delta read since (and including) the last from-scratch read was made with
   * Sites.FullControl.All and the sharing Prefer values, so SharePoint reported every sharing-only
   * change to the deltaLink. False or missing (an inventory written before this field): a read
   * without them advanced the deltaLink past changes it could not see, which no later incremental
   * read shows again — the drive must be enumerated in full before a run with FullControl may
   * call itself complete.
   */
  sharingChangesSeen?: boolean;
  /**
   * The Graph root (origin) the deltaLink belongs to. A delta token is only good at the root
   * that issued it: one from another root (the demo's simulator, long gone) is never followed.
   * Missing (written before this field): the deltaLink's own origin stands for it.
   */
  graphRoot?: string;
}

/**
 * The stored inventory if it belongs to the Graph root being scanned; otherwise undefined (the
 * drive is enumerated from scratch) and the foreign root is noted. Unknown current root: kept.
 */
function fromThisRoot(ctx: CollectContext, inv: DriveInventory | undefined, foreign: Set<string>): DriveInventory | undefined {
  if (!inv || !ctx.graph.root) return inv;
  let root = inv.graphRoot;
  if (root === undefined) {
    try {
      root = new URL(inv.deltaLink).origin;
    } catch {
      // A relative deltaLink names no root: nothing to compare with.
      return inv;
    }
  }
  if (root.toLowerCase() === ctx.graph.root.toLowerCase()) return inv;
  foreign.add(root);
  return undefined;
}

interface DriveRef {
  driveId: string;
  site: Site;
  /** A OneDrive (driveType `business`, or a `/personal/` site on a `-my` host): read in the sweep. */
  oneDrive: boolean;
}

/** Whether a drive is a OneDrive ("drive resource type": driveType `business`; the personal-site URL). */
function isOneDrive(driveType: string | null | undefined, site: Site): boolean {
  if (driveType?.toLowerCase() === 'business') return true;
  try {
    const u = new URL(site.webUrl);
    return /-my\.sharepoint\./i.test(u.hostname) && u.pathname.toLowerCase().startsWith('/personal/');
  } catch {
    return false;
  }
}

/** The drive's sweep bucket: a stable hash (FNV-1a) of its id modulo the period. */
export function sweepBucket(driveId: string, days: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < driveId.length; i++) h = Math.imul(h ^ driveId.charCodeAt(i), 0x01000193) >>> 0;
  return h % days;
}

/** Today's bucket: UTC days since the epoch modulo the period. */
export function todaysBucket(now: Date, days: number): number {
  return Math.floor(now.getTime() / 86_400_000) % days;
}

/**
 * Whether a drive is read this scan: every library; a OneDrive without a usable inventory, with
 * one as old as the period, or on its bucket's day.
 */
function dueToday(ref: DriveRef, stored: DriveInventory | undefined, now: Date, days: number): boolean {
  if (!ref.oneDrive || days <= 1 || !stored) return true;
  const readAt = Date.parse(stored.readAt);
  if (!Number.isFinite(readAt) || now.getTime() - readAt >= days * 86_400_000) return true;
  return sweepBucket(ref.driveId, days) === todaysBucket(now, days);
}

const inventoryKey = (driveId: string): string => `files-drive-${driveId}`;

/**
 * The Prefer values of every delta call ("driveItem: delta", scanning permissions hierarchies):
 * `shared` only on the roots of sharing hierarchies, and sharing-only changes reported (marked
 * `@microsoft.graph.sharedChanged`) — the latter only to an app holding Sites.FullControl.All.
 */
export const DELTA_PREFER = 'hierarchicalsharing, deltashowsharingchanges, deltashowremovedasdeleted, deltatraversepermissiongaps';

/**
 * Asks delta for the changed items without their parent folders. "driveItem: delta" lists it as a
 * request header of its own; clients send it as a Prefer value (microsoft-graph-explorer-v4#4052,
 * which reports parents coming back anyway): both are sent, and nothing depends on it being
 * honoured — a parent that comes back costs one permission read, and the items below it are read
 * only when its list changed. A folder that moves, is renamed or is deleted is itself a changed
 * item, so it still comes back.
 */
export const EXCLUDE_PARENT = 'deltaExcludeParent';

/** The permission that lets SharePoint report sharing-only changes in delta. */
export const FULL_CONTROL = 'Sites.FullControl.All';

export const collectSites: Collector<'sites'> = async ({ graph }) => {
  const sites: Site[] = [];
  const problems: string[] = [];
  let offset = 0;
  // getAllSites pages continue under `sites/oneDrive.getAllSites?$skiptoken=…`: followed verbatim.
  for await (const page of graph.pages('/sites/getAllSites?$select=id,name,displayName,webUrl&$top=999')) {
    const parsed = parseRecords(siteSchema, page.value, 'GET /sites/getAllSites', offset);
    offset += page.value.length;
    sites.push(...parsed.records);
    problems.push(...parsed.problems);
  }
  return problems.length
    ? { status: 'partial', data: sites, items: sites.length, detail: `skipped ${problems.length} unreadable site(s): ${summariseProblems(problems)}` }
    : { status: 'complete', data: sites, items: sites.length };
};

export const collectSharepointSettings: Collector<'sharepointSettings'> = async ({ graph }) => {
  const body = (await graph.get('/admin/sharepoint/settings')) as Record<string, unknown> | undefined;
  // The docs' example wraps the object in `value`; the service returns it bare. Accept both.
  const settings = body && typeof body.value === 'object' && body.value !== null && !Array.isArray(body.value) ? (body.value as Record<string, unknown>) : body;
  const capability = settings?.sharingCapability;
  if (typeof capability !== 'string') {
    return { status: 'failed', items: 0, detail: 'GET /admin/sharepoint/settings: the answer has no sharingCapability string' };
  }
  return { status: 'complete', data: { sharingCapability: capability }, items: 1 };
};

/**
 * A OneDrive site's libraries as last listed (state blob `files-site-drives-<siteId>`), so that
 * the daily scan lists a personal site only on the day its OneDrive is due in the sweep (issue
 * 13: listing every site's drives was 105,000 of a 50,000-user tenant's 115,000 daily RU).
 */
interface SiteDrives {
  version: 1;
  listedAt: string;
  graphRoot?: string;
  drives: Array<{ driveId: string; oneDrive: boolean }>;
}
const siteDrivesKey = (siteId: string): string => `files-site-drives-${siteId}`;

/**
 * Splits the sites into those whose libraries must be listed now and the drives of the others, as
 * last listed. Only a personal site (a OneDrive) is ever taken from its stored list, and only
 * when: the sweep spreads OneDrives over more than one day; the list is younger than the sweep
 * period (a personal site is listed again at least once a period, on its OneDrive's day); it was
 * listed at this Graph root; and every drive on it is a OneDrive not due today. Any doubt lists
 * the site. What this gives up: a library added to a personal site is found on the site's next
 * listing, at most `files.oneDriveSweepDays` later (a OneDrive has one library; the site list
 * itself is read in full every scan, so a new OneDrive is listed the day it appears).
 */
async function storedDriveLists(ctx: CollectContext, sites: readonly Site[], sweepDays: number): Promise<{ toList: Site[]; stored: DriveRef[] }> {
  const store = ctx.store;
  if (!store || ctx.options.freshState || sweepDays <= 1) return { toList: [...sites], stored: [] };
  const today = todaysBucket(ctx.now, sweepDays);
  const toList: Site[] = [];
  const stored: DriveRef[] = [];
  let cursor = 0;
  const usable = (text: string | undefined): SiteDrives | undefined => {
    if (!text) return undefined;
    let doc: Partial<SiteDrives>;
    try {
      doc = JSON.parse(text) as Partial<SiteDrives>;
    } catch {
      return undefined;
    }
    const listedAt = typeof doc.listedAt === 'string' ? Date.parse(doc.listedAt) : NaN;
    if (doc.version !== 1 || !Array.isArray(doc.drives) || doc.drives.length === 0 || !Number.isFinite(listedAt)) return undefined;
    if (ctx.now.getTime() - listedAt >= sweepDays * 86_400_000 || listedAt > ctx.now.getTime()) return undefined;
    if (ctx.graph.root && (typeof doc.graphRoot !== 'string' || doc.graphRoot.toLowerCase() !== ctx.graph.root.toLowerCase())) return undefined;
    const ok = doc.drives.every((d) => d && typeof d.driveId === 'string' && d.driveId !== '' && d.oneDrive === true && sweepBucket(d.driveId, sweepDays) !== today);
    return ok ? (doc as SiteDrives) : undefined;
  };
  const worker = async (): Promise<void> => {
    while (cursor < sites.length) {
      const site = sites[cursor++] as Site;
      if (!isOneDrive(undefined, site)) {
        toList.push(site);
        continue;
      }
      const doc = usable(await store.getStateBlob(ctx.tenantId, siteDrivesKey(site.id)));
      if (!doc) toList.push(site);
      else for (const d of doc.drives) stored.push({ driveId: d.driveId, site, oneDrive: true });
    }
  };
  await Promise.all(Array.from({ length: Math.min(DRIVE_CONCURRENCY, sites.length) }, worker));
  return { toList, stored };
}

/**
 * Lists each site's document libraries through $batch (20 sites a call). A personal site listed in
 * full gets its list handed back as pending state (stored after the ledger write, like the
 * inventories) for {@link storedDriveLists}.
 */
async function listDrives(ctx: CollectContext, sites: readonly Site[], failures: string[], pending?: PendingState[]): Promise<DriveRef[]> {
  const drives: DriveRef[] = [];
  await ctx.graph.batchEach(
    sites.map((s, i) => ({ id: String(i), method: 'GET', url: `/sites/${s.id}/drives?$select=id,name,webUrl,driveType` })),
    async (r: BatchResult) => {
      const site = sites[Number(r.id)] as Site;
      if (r.status !== 200 || !Array.isArray((r.body as { value?: unknown })?.value)) {
        failures.push(`${site.webUrl}: its libraries could not be listed (${r.status})`);
        return;
      }
      const body = r.body as { value: unknown[]; '@odata.nextLink'?: unknown };
      let values = body.value;
      let whole = true;
      if (typeof body['@odata.nextLink'] === 'string') {
        // A next page that fails costs this site only (the drives of its first page still count).
        try {
          values = [...values, ...(await ctx.graph.all(body['@odata.nextLink']))];
        } catch (err) {
          whole = false;
          failures.push(`${site.webUrl}: the next page of its libraries could not be read (${(err as Error).message})`);
        }
      }
      const parsed = parseRecords(driveSchema, values, `drives of ${site.webUrl}`);
      const refs = parsed.records.map((d) => ({ driveId: d.id, site, oneDrive: isOneDrive(d.driveType, site) }));
      drives.push(...refs);
      // Only a whole, clean list of a personal site is kept (anything else is listed again next time).
      if (pending && whole && parsed.records.length === values.length && refs.length > 0 && isOneDrive(undefined, site)) {
        const doc: SiteDrives = { version: 1, listedAt: ctx.now.toISOString(), ...(ctx.graph.root ? { graphRoot: ctx.graph.root } : {}), drives: refs.map((d) => ({ driveId: d.driveId, oneDrive: d.oneDrive })) };
        pending.push({ key: siteDrivesKey(site.id), value: JSON.stringify(doc) });
      }
    },
  );
  return drives;
}

/** Reads the permissions of `itemIds` in $batch; 404 → the item is gone (undefined). */
async function readPermissions(ctx: CollectContext, driveId: string, itemIds: readonly string[]): Promise<Map<string, ItemPermission[] | undefined>> {
  const out = new Map<string, ItemPermission[] | undefined>();
  const failures: string[] = [];
  await ctx.graph.batchEach(
    itemIds.map((id, i) => ({ id: String(i), method: 'GET', url: `/drives/${driveId}/items/${id}/permissions` })),
    async (r) => {
      const itemId = itemIds[Number(r.id)] as string;
      if (r.status === 404) {
        out.set(itemId, undefined);
        return;
      }
      const body = r.body as { value?: unknown; '@odata.nextLink'?: unknown } | undefined;
      if (r.status !== 200 || !body || !Array.isArray(body.value)) {
        failures.push(`${itemId} (${r.status})`);
        return;
      }
      let values = body.value;
      if (typeof body['@odata.nextLink'] === 'string') {
        // Caught here so that the other items of the batch are still read; the drive fails below.
        try {
          values = [...values, ...(await ctx.graph.all(body['@odata.nextLink']))];
        } catch (err) {
          failures.push(`${itemId}: the next page of its permissions (${(err as Error).message})`);
          return;
        }
      }
      const parsed = parseRecords(permissionSchema, values, `permissions of ${itemId}`);
      if (parsed.problems.length) failures.push(summariseProblems(parsed.problems, 2));
      else out.set(itemId, parsed.records);
    },
  );
  if (failures.length) throw new Error(`permissions could not be read for ${failures.length} item(s): ${summariseProblems(failures)}`);
  return out;
}

interface DriveResult {
  items: SharedItem[];
  resynced: boolean;
  /** Enumerated from scratch this time (every shared item's permissions read again). */
  full: boolean;
  /** The drive's new inventory, stored after the ledger write (with a store). */
  pending?: PendingState;
}

/**
 * Brings one drive's inventory up to date and returns its shared items. `full`: enumerate the
 * drive from scratch (no deltaLink) and read every shared item's permissions again — the only
 * way to see a sharing-only change without Sites.FullControl.All.
 */
async function syncDrive(ctx: CollectContext, ref: DriveRef, stored: DriveInventory | undefined, full: boolean, fullControl: boolean): Promise<DriveResult> {
  const headers = { Prefer: `${DELTA_PREFER}, ${EXCLUDE_PARENT}`, [EXCLUDE_PARENT]: 'true' };
  const fresh = `/drives/${ref.driveId}/root/delta`;
  let base = full ? undefined : stored;
  let resynced = false;
  let changes: Array<z.output<typeof deltaItemSchema>> = [];
  let deltaLink: string | undefined;
  const read = async (url: string): Promise<void> => {
    changes = [];
    deltaLink = undefined;
    for await (const page of ctx.graph.pages(url, headers)) {
      const parsed = parseRecords(deltaItemSchema, page.value, `delta of ${ref.site.webUrl}`);
      if (parsed.problems.length) throw new Error(summariseProblems(parsed.problems));
      changes.push(...parsed.records);
      if (page.deltaLink) deltaLink = page.deltaLink;
    }
    if (!deltaLink) throw new Error(`delta of drive ${ref.driveId} ended without an @odata.deltaLink`);
  };
  try {
    await read(base?.deltaLink ?? fresh);
  } catch (err) {
    // An expired delta token: Graph answers 410 with a resync… code. Start the drive over.
    if (!(err instanceof GraphError && err.status === 410 && base)) throw err;
    base = undefined;
    resynced = true;
    await read(fresh);
  }
  const fromScratch = base === undefined;
  const items: DriveInventory['items'] = base ? { ...base.items } : {};
  const folders: DriveInventory['folders'] = base ? { ...base.folders } : {};
  // What was tracked before a from-scratch read: such an item that comes back without `shared`
  // is re-read, not dropped (see below).
  const previous = stored?.items ?? {};
  const toRead = new Set<string>();
  let orphanedDeletion = false;
  const meta = new Map<string, { name: string; webUrl: string; isFolder: boolean; parentId: string | undefined }>();
  const moved = new Set<string>();
  for (const change of changes) {
    const parentId = change.parentReference?.id ?? undefined;
    if (change.deleted !== undefined) {
      const tracked = items[change.id];
      if (tracked) delete items[change.id];
      delete folders[change.id];
      // A deleted folder may have held shared items, and Graph need not report each child:
      // verify the remaining ones below (a 404 drops them). An untracked stub may be a folder.
      if (base && (!tracked || tracked.isFolder)) orphanedDeletion = true;
      toRead.delete(change.id);
      meta.delete(change.id);
      continue;
    }
    if (change.folder !== undefined) {
      // A folder that moved takes its tracked items away from (or under) other shared ancestors.
      if (folders[change.id] !== undefined && folders[change.id] !== parentId) moved.add(change.id);
      if (parentId && change.root === undefined) folders[change.id] = parentId;
      else delete folders[change.id];
    }
    const info = { name: change.name ?? change.id, webUrl: change.webUrl ?? '', isFolder: change.folder !== undefined, parentId };
    // SharePoint omits `shared` at times (microsoft-graph-docs#17418 "Shared facet not set when
    // sharing links with specific people in SharePoint"; onedrive-api-docs#1101 "Shared key
    // missing in the Delta API response"), so a tracked
    // item that comes back without it is re-read rather than dropped: dropping it would resolve a
    // finding whose link may still exist. A sharing-only change is read whatever its facets say.
    const sharedChanged = change['@microsoft.graph.sharedChanged'] !== undefined && change['@microsoft.graph.sharedChanged'] !== false;
    if (change.shared !== undefined || sharedChanged || items[change.id] || previous[change.id]) {
      toRead.add(change.id);
      meta.set(change.id, info);
    }
  }
  if (orphanedDeletion) for (const id of Object.keys(items)) toRead.add(id);
  const parentOf = (id: string): string | undefined => meta.get(id)?.parentId ?? items[id]?.parentId;
  /** Tracked items not read yet that lie below any of `roots` (whose lists hold what they inherit). */
  const below = (roots: ReadonlySet<string>, read: ReadonlyMap<string, unknown>): string[] =>
    Object.keys(items).filter((id) => {
      if (read.has(id)) return false;
      const seen = new Set<string>([id]);
      for (let p = parentOf(id); p !== undefined && !seen.has(p); p = folders[p]) {
        if (roots.has(p)) return true;
        seen.add(p);
      }
      return false;
    });
  const fetched = new Map<string, ItemPermission[] | undefined>();
  // A folder that moved or went takes its tracked items away from (or under) other shared
  // ancestors: what they inherit changed, so they are read whatever the lists above say.
  let pending = new Set([...toRead, ...below(new Set([...moved, ...changes.filter((c) => c.deleted !== undefined).map((c) => c.id)]), fetched)]);
  while (pending.size) {
    // An item's fresh list holds its ancestors' entries as they are now; compared with an
    // ancestor's stored list, an entry the ancestor gained by a change this app was not told of
    // (a sharing-only change, without FullControl) would pass for the item's own. Reading the
    // tracked ancestors in the same run compares lists taken at the same moment.
    for (const id of [...pending]) for (const a of trackedAncestors(id, parentOf(id), items, folders)) if (!fetched.has(a)) pending.add(a);
    const batch = [...pending].filter((id) => !fetched.has(id));
    if (!batch.length) break;
    const permissions = await readPermissions(ctx, ref.driveId, batch);
    for (const id of batch) fetched.set(id, permissions.get(id));
    // An item whose list changed (ids gained or lost, unshared, gone): the tracked items below it
    // still list what it had, so they are read next. One whose list is as stored (say a shared
    // folder that came back only as the parent of an edited file) costs them nothing.
    const changedLists = new Set(batch.filter((id) => !sameIds(items[id]?.permissions ?? [], permissions.get(id) ?? [])));
    pending = new Set(changedLists.size ? below(changedLists, fetched) : []);
  }
  for (const [id, perms] of fetched) {
    // Gone (404), or nothing shared any more: no longer tracked.
    if (perms === undefined || perms.length === 0) {
      delete items[id];
      continue;
    }
    const known = meta.get(id) ?? items[id];
    items[id] = { name: known?.name ?? id, webUrl: known?.webUrl ?? '', isFolder: known?.isFolder ?? false, parentId: known?.parentId, permissions: perms };
  }
  const fullReadAt = fromScratch ? ctx.now.toISOString() : base?.fullReadAt;
  // Whether SharePoint could report sharing-only changes to this read ("driveItem: delta"):
  // FullControl and every sharing Prefer value. One read without them breaks the chain.
  const seenNow = fullControl && sendsSharingPrefers(headers.Prefer);
  const sharingChangesSeen = seenNow && (fromScratch || base?.sharingChangesSeen === true);
  const next: DriveInventory = { version: 2, deltaLink: deltaLink as string, items, folders, readAt: ctx.now.toISOString(), fullReadAt, sharingChangesSeen, ...(ctx.graph.root ? { graphRoot: ctx.graph.root } : {}) };
  const inventory: PendingState | undefined = ctx.store ? { key: inventoryKey(ref.driveId), value: JSON.stringify(next) } : undefined;
  return { items: toShared(ref, next), resynced, full: fromScratch, ...(inventory ? { pending: inventory } : {}) };
}

/** Whether two permission lists hold the same ids (what tells an ancestor's entries from an item's own). */
function sameIds(a: readonly ItemPermission[], b: readonly ItemPermission[]): boolean {
  const ids = new Set(a.map((p) => p.id));
  return ids.size === new Set(b.map((p) => p.id)).size && b.every((p) => ids.has(p.id));
}

/** The tracked items above `itemId` (nearest first), from its parent `parentId` up through `folders`. */
function trackedAncestors(itemId: string, parentId: string | undefined, items: DriveInventory['items'], folders: DriveInventory['folders']): string[] {
  const out: string[] = [];
  const seen = new Set<string>([itemId]);
  for (let p = parentId; p !== undefined && !seen.has(p); p = folders[p]) {
    seen.add(p);
    if (items[p]) out.push(p);
  }
  return out;
}

/**
 * The inventory's items as SharedItems, each with its tracked ancestors (nearest first), so that
 * the rules can tell a permission an item shares with an ancestor (same id) from its own.
 */
function toShared(ref: DriveRef, inv: Pick<DriveInventory, 'items'> & { folders?: DriveInventory['folders'] }, asOf?: string): SharedItem[] {
  const folders = inv.folders ?? {};
  return Object.entries(inv.items).map(([itemId, i]) => {
    const { parentId, ...item } = i;
    const ancestorIds = trackedAncestors(itemId, parentId, inv.items, folders);
    return {
      driveId: ref.driveId,
      itemId,
      siteId: ref.site.id,
      siteUrl: ref.site.webUrl,
      ...item,
      ancestorIds,
      ...(asOf ? { asOf } : {}),
    };
  });
}

async function loadInventory(ctx: CollectContext, driveId: string): Promise<DriveInventory | undefined> {
  if (!ctx.store || ctx.options.freshState) return undefined;
  const text = await ctx.store.getStateBlob(ctx.tenantId, inventoryKey(driveId));
  if (!text) return undefined;
  let inv: Partial<Omit<DriveInventory, 'version'>> & { version?: unknown };
  try {
    inv = JSON.parse(text) as typeof inv;
  } catch {
    return undefined;
  }
  if (typeof inv.deltaLink !== 'string' || !inv.items || typeof inv.items !== 'object') return undefined;
  // Version 1 had no ancestry and no full-read time: keep its items (a shared item missing its
  // facet is then re-read, not dropped) but enumerate the drive in full (fullReadAt undefined).
  if (inv.version === 1) return { version: 2, deltaLink: inv.deltaLink, items: inv.items, folders: {}, readAt: String(inv.readAt ?? ''), fullReadAt: undefined };
  // Anything else unreadable is dropped: the drive is simply enumerated again in full.
  return inv.version === 2 && inv.folders && typeof inv.folders === 'object' ? (inv as DriveInventory) : undefined;
}

/** The Prefer values without which SharePoint hides sharing-only changes ("driveItem: delta"). */
const SHARING_PREFERS = ['deltashowsharingchanges', 'deltashowremovedasdeleted', 'deltatraversepermissiongaps'];

function sendsSharingPrefers(prefer: string): boolean {
  const sent = prefer.toLowerCase().split(',').map((p) => p.trim());
  return SHARING_PREFERS.every((p) => sent.includes(p));
}

/**
 * Whether a drive must be enumerated from scratch this run. With FullControl an incremental read
 * is complete only when every read since the last full one saw sharing-only changes too (a
 * deltaLink advanced by a read without FullControl has skipped them for good).
 */
function needsFullRead(stored: DriveInventory | undefined, fullControl: boolean, now: Date, days: number): boolean {
  if (!stored?.fullReadAt) return true;
  if (fullControl) return stored.sharingChangesSeen !== true;
  const last = Date.parse(stored.fullReadAt);
  return !Number.isFinite(last) || now.getTime() - last >= days * 86_400_000;
}

/**
 * Sizes the SharePoint resource-unit budget to the tenant's licence band ("Avoid getting
 * throttled or blocked in SharePoint Online"): M365_AUDIT_LICENCE_COUNT, else the number of
 * enabled members of the directory (when it can be read), else the lowest band.
 */
async function paceSharePoint(ctx: CollectContext): Promise<number> {
  let licences = ctx.graph.licenceCount;
  if (licences === undefined) {
    const directory = await ctx.slice('directory');
    if (directory.status !== 'failed') licences = directory.data.filter((u) => u.accountEnabled && u.userType.toLowerCase() === 'member').length;
  }
  const budget = sharepointBudget(licences);
  ctx.graph.setBudget('sharepoint', budget);
  return budget.limit;
}

export const collectSharing: Collector<'sharing'> = async (ctx) => {
  const sites = await ctx.slice('sites');
  if (sites.status === 'failed') return { status: 'failed', items: 0, detail: `the site list could not be read: ${sites.detail}` };
  return readSharing(ctx, sites.data, sites.status === 'partial' ? (sites.detail ?? 'some sites unreadable') : undefined);
};

/** A drive finished by a shard, as its checkpoint keeps it (`drive-<driveId>`). */
interface DriveDone {
  result: DriveResult;
  /** The stored inventory's last full read, for the next-full-enumeration date of the coverage. */
  storedFullReadAt?: string | undefined;
}

/** The drives a shard listed (`drives`): kept so that a redelivered shard does not list them again. */
interface DriveList {
  drives: DriveRef[];
  failures: string[];
}

const DRIVES_CHECKPOINT = 'drives';
const driveCheckpoint = (driveId: string): string => `drive-${driveId}`;

/**
 * The checkpoint keys a files shard wrote (for the shard's cleanup) and the drive ids it listed;
 * `drives` undefined: it never finished listing, or some site's libraries could not be listed (the
 * drives of those sites are unknown).
 */
export async function sharingCheckpoint(cp: ShardCheckpoint): Promise<{ keys: string[]; drives: string[] | undefined }> {
  const text = await cp.get(DRIVES_CHECKPOINT);
  if (!text) return { keys: [], drives: undefined };
  try {
    const list = JSON.parse(text) as DriveList;
    const ids = list.drives.map((d) => d.driveId);
    return { keys: [DRIVES_CHECKPOINT, ...ids.map(driveCheckpoint)], drives: list.failures.length ? undefined : ids };
  } catch {
    return { keys: [DRIVES_CHECKPOINT], drives: undefined };
  }
}

/**
 * The sharing of `sites` (every site of the tenant, or one range of them in a sharded scan:
 * src/jobs/shards.ts). `sitesPartial`: why the site list they come from was partial.
 *
 * With a shard checkpoint (ctx.checkpoint) the drive list and every finished drive (its shared
 * items and its new inventory, still pending) are kept as they finish, so that a shard the queue
 * redelivers after its worker died lists nothing again and reads only the drives it had not
 * finished. A drive that failed is not kept: the next attempt reads it again. A checkpoint write
 * that fails stops the shard (the drives in flight finish first, so what they read is kept).
 */
export async function readSharing(ctx: CollectContext, siteList: readonly Site[], sitesPartial?: string): Promise<Slice<Sharing>> {
  const cp = ctx.checkpoint;
  await paceSharePoint(ctx);
  const roles = await ctx.graph.grantedRoles();
  const fullControl = (roles ?? []).some((r) => r.toLowerCase() === FULL_CONTROL.toLowerCase());
  const days = ctx.policy.files.fullEnumerationDays;
  let failures: string[] = [];
  let drives: DriveRef[];
  /** Personal sites' drive lists read this scan (pending state), and how many sites were not listed. */
  const siteLists: PendingState[] = [];
  let notListed = 0;
  const listed = cp ? await cp.get(DRIVES_CHECKPOINT) : undefined;
  let resumed = false;
  let list: DriveList | undefined;
  try {
    list = listed ? (JSON.parse(listed) as DriveList) : undefined;
  } catch {
    // An unreadable checkpoint is no checkpoint: the drives are listed (and read) again.
  }
  if (list && Array.isArray(list.drives) && Array.isArray(list.failures)) {
    drives = list.drives;
    failures = [...list.failures];
    resumed = true;
  } else {
    // Personal sites whose OneDrive is not due today are not listed again (storedDriveLists).
    const { toList, stored } = await storedDriveLists(ctx, siteList, ctx.policy.files.oneDriveSweepDays);
    notListed = siteList.length - toList.length;
    drives = [...stored, ...(await listDrives(ctx, toList, failures, siteLists))];
    if (cp) await cp.put(DRIVES_CHECKPOINT, JSON.stringify({ drives, failures } satisfies DriveList));
  }
  const items: SharedItem[] = [];
  const pending: PendingState[] = [...siteLists];
  let resynced = 0;
  const incremental: string[] = [];
  let nextFull: number | undefined;
  let cursor = 0;
  const foreignRoots = new Set<string>();
  const sweepDays = ctx.policy.files.oneDriveSweepDays;
  const holds: string[] = [];
  let oldestEarlier: string | undefined;
  let stop: unknown;
  const account = (ref: DriveRef, done: DriveDone): void => {
    const { result } = done;
    items.push(...result.items);
    if (result.pending) pending.push(result.pending);
    if (result.resynced) resynced++;
    if (!result.full && !fullControl) {
      incremental.push(ref.driveId);
      const due = Date.parse(done.storedFullReadAt ?? '') + days * 86_400_000;
      if (Number.isFinite(due)) nextFull = Math.min(nextFull ?? due, due);
    }
  };
  const worker = async (): Promise<void> => {
    while (cursor < drives.length && stop === undefined) {
      const ref = drives[cursor++] as DriveRef;
      // Finished by an earlier attempt of this shard: its result stands, nothing is read again.
      const kept = resumed && cp ? await cp.get(driveCheckpoint(ref.driveId)) : undefined;
      let finished: DriveDone | undefined;
      try {
        finished = kept ? (JSON.parse(kept) as DriveDone) : undefined;
      } catch {
        // Unreadable: the drive is read again.
      }
      if (finished?.result) {
        account(ref, finished);
        continue;
      }
      const stored = fromThisRoot(ctx, await loadInventory(ctx, ref.driveId), foreignRoots);
      if (stored && !dueToday(ref, stored, ctx.now, sweepDays)) {
        // Not due in today's sweep: as of its last read; none of its findings resolves (holds).
        items.push(...toShared(ref, stored, stored.readAt));
        holds.push(`${ref.driveId}/`);
        if (oldestEarlier === undefined || stored.readAt < oldestEarlier) oldestEarlier = stored.readAt;
        continue;
      }
      let done: DriveDone;
      try {
        done = { result: await syncDrive(ctx, ref, stored, needsFullRead(stored, fullControl, ctx.now, days), fullControl), storedFullReadAt: stored?.fullReadAt };
      } catch (err) {
        failures.push(`${ref.site.webUrl} drive ${ref.driveId}: ${(err as Error).message}`);
        // Nothing of this drive is resolved: its last good inventory stands, marked as such.
        if (stored) items.push(...toShared(ref, stored, stored.readAt));
        continue;
      }
      if (cp) {
        try {
          await cp.put(driveCheckpoint(ref.driveId), JSON.stringify(done));
        } catch (err) {
          stop ??= err;
          return;
        }
      }
      account(ref, done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(DRIVE_CONCURRENCY, drives.length) }, worker));
  if (stop !== undefined) throw stop;
  const details: string[] = [];
  if (sitesPartial !== undefined) details.push(`site list partial: ${sitesPartial}`);
  if (failures.length) details.push(`${failures.length} drive(s) or site(s) could not be read: ${summariseProblems(failures, 5)}`);
  if (incremental.length) {
    // SharePoint reports sharing-only changes in delta only to Sites.FullControl.All ("driveItem:
    // delta"): an incremental read without it cannot show a link added to an unchanged file.
    const why = roles === undefined ? `the app's roles could not be read from its access token, so ${FULL_CONTROL} is not assumed` : `the app does not hold ${FULL_CONTROL}`;
    details.push(
      `${incremental.length} drive(s) read incrementally while ${why}: SharePoint does not report sharing-only changes to it, so a sharing link or grant added to an otherwise unchanged file is not visible until the drive's next full enumeration (every files.fullEnumerationDays = ${days} day(s)${nextFull !== undefined ? `, next due ${new Date(nextFull).toISOString()}` : ''}); grant ${FULL_CONTROL} to see them on every scan`,
    );
  }
  // A note, not a gap: the drives were read in full at this root instead.
  const notes = foreignRoots.size
    ? [`stored drive inventories of another Graph root (${[...foreignRoots].join(', ')}) were discarded, not followed; those drives were enumerated in full at ${ctx.graph.root ?? 'this root'}`]
    : [];
  if (holds.length) {
    notes.push(
      `OneDrive sweep (files.oneDriveSweepDays = ${sweepDays}): ${drives.length - holds.length} drive(s) read today, ${holds.length} reported as of an earlier read (oldest ${oldestEarlier ?? '?'}); their findings are kept as of then and none of them resolves${notListed ? `; ${notListed} personal site(s) not due today were not listed again (their libraries as last listed, within the last ${sweepDays} day(s))` : ''}`,
    );
  }
  return {
    status: details.length ? 'partial' : 'complete',
    data: { items, drives: drives.length, resynced, ...(holds.length ? { fromEarlierRead: { drives: holds.length, oldestReadAt: oldestEarlier ?? '' } } : {}) },
    ...(holds.length ? { holds } : {}),
    items: items.length,
    ...(ctx.store ? { pending } : {}),
    ...(details.length || notes.length ? { detail: [...details, ...notes].join('; ') } : {}),
  };
};
