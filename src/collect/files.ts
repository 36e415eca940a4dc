/**
 * SharePoint and OneDrive sharing (FILE-01…05). Endpoints (graph.md; Sites.Read.All,
 * SharePointTenantSettings.Read.All):
 *   GET /sites/getAllSites → GET /sites/{id}/drives (in $batch) → GET /drives/{id}/root/delta with
 *   `Prefer: hierarchicalsharing` → GET /drives/{id}/items/{id}/permissions (in $batch) for items
 *   carrying the `shared` facet; GET /admin/sharepoint/settings.
 *
 * Only what the standard cares about is read, and on later scans only what changed:
 * - Each drive keeps an inventory (a state blob): its `@odata.deltaLink` and the items at the
 *   root of a sharing hierarchy with their last permissions. A later scan starts from the
 *   deltaLink, applies the changes (deleted, unshared, newly shared or re-shared items) and
 *   re-reads permissions only for changed shared items, yet knows every shared item that exists
 *   now — what state-finding resolution needs.
 * - With `Prefer: hierarchicalsharing` only roots of sharing hierarchies carry `shared`; items
 *   below inherit, and inherited entries (`inheritedFrom`) are not findings of their own.
 * - A deltaLink that expired (410 `resync…`) makes that drive enumerate again from scratch.
 * - A drive that fails after the retry cap makes the slice partial; its last good inventory is
 *   reported as is (marked `asOf`), its deltaLink is kept, so nothing of it is resolved or lost.
 */
import { z } from 'zod';
import { GraphError } from '../errors';
import type { BatchResult } from '../graph/graph';
import type { Collector, CollectContext } from './context';
import { graphDate, optionalString, parseRecords, summariseProblems } from './parse';
import type { Grantee, ItemPermission, SharedItem, Site } from './snapshot';

const DRIVE_CONCURRENCY = 4;

export const siteSchema = z
  .looseObject({ id: z.string().min(1), webUrl: z.string().min(1), name: optionalString, displayName: optionalString })
  .transform((s): Site => ({ id: s.id, webUrl: s.webUrl.replace(/\/+$/, ''), name: s.displayName ?? s.name ?? s.webUrl }));

const driveSchema = z.looseObject({ id: z.string().min(1), name: optionalString, webUrl: optionalString });

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
});

/** A drive's stored inventory. */
interface DriveInventory {
  version: 1;
  deltaLink: string;
  items: Record<string, Omit<SharedItem, 'driveId' | 'itemId' | 'siteId' | 'siteUrl' | 'asOf'>>;
  readAt: string;
}

interface DriveRef {
  driveId: string;
  site: Site;
}

const inventoryKey = (driveId: string): string => `files-drive-${driveId}`;

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

/** Lists each site's document libraries through $batch (20 sites a call). */
async function listDrives(ctx: CollectContext, sites: readonly Site[], failures: string[]): Promise<DriveRef[]> {
  const drives: DriveRef[] = [];
  await ctx.graph.batchEach(
    sites.map((s, i) => ({ id: String(i), method: 'GET', url: `/sites/${s.id}/drives?$select=id,name,webUrl` })),
    async (r: BatchResult) => {
      const site = sites[Number(r.id)] as Site;
      if (r.status !== 200 || !Array.isArray((r.body as { value?: unknown })?.value)) {
        failures.push(`${site.webUrl}: its libraries could not be listed (${r.status})`);
        return;
      }
      const body = r.body as { value: unknown[]; '@odata.nextLink'?: unknown };
      let values = body.value;
      if (typeof body['@odata.nextLink'] === 'string') values = [...values, ...(await ctx.graph.all(body['@odata.nextLink']))];
      for (const d of parseRecords(driveSchema, values, `drives of ${site.webUrl}`).records) drives.push({ driveId: d.id, site });
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
      if (typeof body['@odata.nextLink'] === 'string') values = [...values, ...(await ctx.graph.all(body['@odata.nextLink']))];
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
}

/** Brings one drive's inventory up to date from its delta and returns its shared items. */
async function syncDrive(ctx: CollectContext, ref: DriveRef, stored: DriveInventory | undefined): Promise<DriveResult> {
  const headers = { Prefer: 'hierarchicalsharing' };
  const fresh = `/drives/${ref.driveId}/root/delta`;
  let inventory = stored;
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
    await read(inventory?.deltaLink ?? fresh);
  } catch (err) {
    // An expired delta token: Graph answers 410 with a resync… code. Start the drive over.
    if (!(err instanceof GraphError && err.status === 410 && inventory)) throw err;
    inventory = undefined;
    resynced = true;
    await read(fresh);
  }
  const items: DriveInventory['items'] = inventory ? { ...inventory.items } : {};
  const toRead = new Set<string>();
  let orphanedDeletion = false;
  const meta = new Map<string, { name: string; webUrl: string; isFolder: boolean }>();
  for (const change of changes) {
    if (change.deleted !== undefined) {
      const tracked = items[change.id];
      if (tracked) delete items[change.id];
      // A deleted folder may have held shared items, and Graph need not report each child:
      // verify the remaining ones below (a 404 drops them). An untracked stub may be a folder.
      if (inventory && (!tracked || tracked.isFolder)) orphanedDeletion = true;
      toRead.delete(change.id);
      continue;
    }
    if (change.shared !== undefined) {
      toRead.add(change.id);
      meta.set(change.id, { name: change.name ?? change.id, webUrl: change.webUrl ?? '', isFolder: change.folder !== undefined });
    } else {
      // Not (or no longer) the root of a sharing hierarchy: its links and grants were removed.
      delete items[change.id];
      toRead.delete(change.id);
    }
  }
  if (orphanedDeletion) for (const id of Object.keys(items)) toRead.add(id);
  const permissions = await readPermissions(ctx, ref.driveId, [...toRead]);
  for (const id of toRead) {
    const perms = permissions.get(id);
    if (perms === undefined) {
      delete items[id];
      continue;
    }
    const known = meta.get(id) ?? items[id];
    items[id] = { name: known?.name ?? id, webUrl: known?.webUrl ?? '', isFolder: known?.isFolder ?? false, permissions: perms };
  }
  if (ctx.store) {
    const next: DriveInventory = { version: 1, deltaLink: deltaLink as string, items, readAt: ctx.now.toISOString() };
    await ctx.store.putStateBlob(ctx.tenantId, inventoryKey(ref.driveId), JSON.stringify(next));
  }
  return { items: toShared(ref, items), resynced };
}

function toShared(ref: DriveRef, items: DriveInventory['items'], asOf?: string): SharedItem[] {
  return Object.entries(items).map(([itemId, i]) => ({
    driveId: ref.driveId,
    itemId,
    siteId: ref.site.id,
    siteUrl: ref.site.webUrl,
    ...i,
    ...(asOf ? { asOf } : {}),
  }));
}

async function loadInventory(ctx: CollectContext, driveId: string): Promise<DriveInventory | undefined> {
  if (!ctx.store || ctx.options.freshState) return undefined;
  const text = await ctx.store.getStateBlob(ctx.tenantId, inventoryKey(driveId));
  if (!text) return undefined;
  const inv = JSON.parse(text) as Partial<DriveInventory>;
  // An unreadable inventory is dropped: the drive is simply enumerated again in full.
  return inv.version === 1 && typeof inv.deltaLink === 'string' && inv.items ? (inv as DriveInventory) : undefined;
}

export const collectSharing: Collector<'sharing'> = async (ctx) => {
  const sites = await ctx.slice('sites');
  if (sites.status === 'failed') return { status: 'failed', items: 0, detail: `the site list could not be read: ${sites.detail}` };
  const failures: string[] = [];
  const drives = await listDrives(ctx, sites.data, failures);
  const items: SharedItem[] = [];
  let resynced = 0;
  let cursor = 0;
  const worker = async (): Promise<void> => {
    while (cursor < drives.length) {
      const ref = drives[cursor++] as DriveRef;
      const stored = await loadInventory(ctx, ref.driveId);
      try {
        const result = await syncDrive(ctx, ref, stored);
        items.push(...result.items);
        if (result.resynced) resynced++;
      } catch (err) {
        failures.push(`${ref.site.webUrl} drive ${ref.driveId}: ${(err as Error).message}`);
        // Nothing of this drive is resolved: its last good inventory stands, marked as such.
        if (stored) items.push(...toShared(ref, stored.items, stored.readAt));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(DRIVE_CONCURRENCY, drives.length) }, worker));
  const details: string[] = [];
  if (sites.status === 'partial') details.push(`site list partial: ${sites.detail}`);
  if (failures.length) details.push(`${failures.length} drive(s) or site(s) could not be read: ${summariseProblems(failures, 5)}`);
  return {
    status: details.length ? 'partial' : 'complete',
    data: { items, drives: drives.length, resynced },
    items: items.length,
    ...(details.length ? { detail: details.join('; ') } : {}),
  };
};
