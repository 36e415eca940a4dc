/**
 * `GET /drives/{id}/root/delta`: a full enumeration in hierarchy order, then, from a deltaLink,
 * only what changed since. Each drive keeps a change sequence: `applyDriveChange` bumps it and
 * stamps the items it touched, deletions leave tombstones, and `expireDeltaTokens` moves the
 * drive to a new epoch so every older token answers 410.
 *
 * Sharing-only changes (new permissions, no upsert) are kept apart: SharePoint reports them, with
 * `@microsoft.graph.sharedChanged: "True"`, only to an app-only caller holding
 * Sites.FullControl.All that sends `Prefer: deltashowsharingchanges` (with
 * deltashowremovedasdeleted and deltatraversepermissiongaps, which it requires) — "driveItem:
 * delta" (scanning permission hierarchies) and the SharePoint blog "How to retrieve complete set
 * of permission changes while using delta". Any other caller does not see them at all.
 *
 * An incremental round also returns every ancestor of a changed item (its parent folders up to
 * the root, as they are now, without the annotation), as SharePoint does (msgraph-sdk-java#2548
 * "@microsoft.graph.sharedChanged annotation not set on folders in delta query with
 * deltashowsharingchanges": root, folder, sub-folder and the file come back for one share), unless
 * the caller asks to leave them out: "driveItem: delta" lists a request header
 * `deltaExcludeParent` ("the response includes the items that have changed, and not the parent
 * items in the hierarchy"), while clients send it as `Prefer: deltaExcludeParent`
 * (microsoft-graph-explorer-v4#4052, which also reports parents coming back anyway).
 * `SimOptions.deltaExcludeParent` picks which form is honoured, or neither.
 */
import type { Json, JsonObject, SimDrive } from './tenant';
import type { DriveChange, SimRequest, SimResponse } from './types';
import { encodePathSegment, pageSize, type PageSpec, type QueryParam, type TokenSealer } from './paging';
import { graphError, jsonOk } from './responses';
import { rolesOfToken } from '../graph/token';

interface DriveLog {
  /** Last change sequence number handed out. */
  seq: number;
  /** Bumped by expireDeltaTokens; tokens of another epoch are stale. */
  epoch: number;
  /** Item id → sequence of its last change (live items only). */
  changed: Map<string, number>;
  /** Item id → sequence of its last sharing-only change (permissions without an upsert). */
  sharing: Map<string, number>;
  /** Deleted item id → sequence of the deletion and its stub. */
  tombstones: Map<string, { seq: number; item: JsonObject }>;
}

/** What a delta token carries: epoch, mode, `since` (changes after it), snapshot, offset, page size. */
interface DeltaState {
  e: number;
  m: 'enum' | 'changes';
  s: number;
  n: number;
  o: number;
  p?: number;
}

function itemId(item: JsonObject): string | undefined {
  return typeof item.id === 'string' ? item.id : undefined;
}

/** The id of an item's parent folder (`parentReference.id`), if it has one. */
export function parentId(item: JsonObject): string | undefined {
  const ref = item.parentReference;
  if (ref && typeof ref === 'object' && !Array.isArray(ref) && typeof ref.id === 'string') return ref.id;
  return undefined;
}

/** The `shared.scope` for a permission list: its widest link scope, else `users`. */
function sharedScope(permissions: readonly JsonObject[]): string {
  const scopes = permissions.map((p) => (p.link && typeof p.link === 'object' && !Array.isArray(p.link) ? p.link.scope : undefined));
  return scopes.includes('anonymous') ? 'anonymous' : scopes.includes('organization') ? 'organization' : 'users';
}

/** Change sequences of every drive the simulator has touched. */
export class DeltaLog {
  private readonly logs = new Map<string, DriveLog>();

  /** The drive's log, created at sequence 0 on first use. */
  log(driveId: string): DriveLog {
    let log = this.logs.get(driveId);
    if (!log) {
      log = { seq: 0, epoch: 0, changed: new Map(), sharing: new Map(), tombstones: new Map() };
      this.logs.set(driveId, log);
    }
    return log;
  }

  /** Applies `change` to the drive's items and permissions and records it under a new sequence. */
  apply(driveId: string, drive: SimDrive, change: DriveChange): void {
    const log = this.log(driveId);
    const seq = ++log.seq;
    if (change.upsert) {
      const id = itemId(change.upsert);
      if (id === undefined) throw new Error(`applyDriveChange(${driveId}): upsert needs a string id`);
      const at = drive.items.findIndex((i) => itemId(i) === id);
      if (at >= 0) drive.items[at] = change.upsert;
      else drive.items.push(change.upsert);
      log.changed.set(id, seq);
      log.tombstones.delete(id);
    }
    if (change.permissions !== undefined) {
      const id = change.upsert ? itemId(change.upsert) : change.itemId;
      if (id === undefined || !drive.items.some((i) => itemId(i) === id)) {
        throw new Error(`applyDriveChange(${driveId}): permissions need an existing item (upsert or itemId), got ${String(id)}`);
      }
      if (change.permissions === null) delete drive.permissions[id];
      else drive.permissions[id] = change.permissions;
      // A sharing change with an upsert is an item change; without one it is sharing-only, which
      // SharePoint shows only to Sites.FullControl.All callers (see the header).
      if (change.upsert) log.changed.set(id, seq);
      else {
        log.sharing.set(id, seq);
        // The item's `shared` facet follows its sharing state (it is what a full enumeration
        // shows), even though the change itself is not reported to every caller.
        const at = drive.items.findIndex((i) => itemId(i) === id);
        const item = drive.items[at];
        if (item) {
          const { shared: _old, ...rest } = item;
          drive.items[at] = change.permissions && change.permissions.length ? { ...rest, shared: item.shared ?? { scope: sharedScope(change.permissions) } } : rest;
        }
      }
    }
    if (change.deleteItemId !== undefined) {
      const doomed = new Set([change.deleteItemId]);
      if (!drive.items.some((i) => itemId(i) === change.deleteItemId)) {
        throw new Error(`applyDriveChange(${driveId}): no item ${change.deleteItemId} to delete`);
      }
      // Items are in hierarchy order, so one pass finds every descendant.
      for (const item of drive.items) {
        const p = parentId(item);
        const id = itemId(item);
        if (p !== undefined && id !== undefined && doomed.has(p)) doomed.add(id);
      }
      const kept: JsonObject[] = [];
      for (const item of drive.items) {
        const id = itemId(item);
        if (id === undefined || !doomed.has(id)) {
          kept.push(item);
          continue;
        }
        const stub: JsonObject = { id };
        if (item.name !== undefined) stub.name = item.name;
        if (item.parentReference !== undefined) stub.parentReference = item.parentReference as Json;
        stub.deleted = {};
        log.tombstones.set(id, { seq, item: stub });
        log.changed.delete(id);
        log.sharing.delete(id);
        delete drive.permissions[id];
      }
      drive.items.splice(0, drive.items.length, ...kept);
    }
  }

  /** Makes every token issued so far for the drive stale (410 resyncRequired). */
  expire(driveId: string): void {
    this.log(driveId).epoch += 1;
  }
}

export interface DeltaArgs {
  req: SimRequest;
  driveId: string;
  drive: SimDrive;
  /** The `token` parameter (query or `delta(token='…')`), undefined for a fresh enumeration. */
  token: string | undefined;
  query: readonly QueryParam[];
  log: DeltaLog;
  sealer: TokenSealer;
  origin: string;
  spec: PageSpec;
  /** Roles of the caller's token (the `roles` claim). */
  appRoles: readonly string[];
  /** Items served without their `shared` facet (SimOptions.omitSharedFacet). */
  omitShared: ReadonlySet<string>;
  /** Which form of the exclude-parent request is honoured (SimOptions.deltaExcludeParent; default 'either'). */
  excludeParent?: 'header' | 'prefer' | 'either' | 'ignored';
}

/** The `roles` claim of a bearer token that is a JWT (undefined for an opaque token). */
export function rolesOfBearer(authorization: string): string[] | undefined {
  return rolesOfToken(authorization.replace(/^Bearer\s+/i, '').trim());
}

/** The Prefer values SharePoint needs to report sharing-only changes ("driveItem: delta"). */
const SHARING_PREFERS = ['deltashowsharingchanges', 'deltashowremovedasdeleted', 'deltatraversepermissiongaps'];

/** The Prefer preference names sent (a value after `=` dropped), lower-cased. */
function preferences(a: DeltaArgs): string[] {
  return (a.req.headers.prefer ?? '').toLowerCase().split(',').map((p) => (p.split('=')[0] ?? '').trim());
}

/** Whether the caller asked for the changed items without their parents (see the header). */
function excludesParents(a: DeltaArgs): boolean {
  const mode = a.excludeParent ?? 'either';
  const byHeader = a.req.headers.deltaexcludeparent !== undefined;
  const byPrefer = preferences(a).includes('deltaexcludeparent');
  return mode === 'header' ? byHeader : mode === 'prefer' ? byPrefer : mode === 'either' ? byHeader || byPrefer : false;
}

function showsSharingChanges(a: DeltaArgs): boolean {
  const prefer = preferences(a);
  const roles = a.appRoles.map((r) => r.toLowerCase());
  return roles.includes('sites.fullcontrol.all') && SHARING_PREFERS.every((p) => prefer.includes(p));
}

/** An item as served: without `shared` when the options say SharePoint leaves it out. */
function served(a: DeltaArgs, item: JsonObject): JsonObject {
  const id = itemId(item);
  if (id === undefined || item.shared === undefined || !a.omitShared.has(id)) return item;
  const { shared: _omitted, ...rest } = item;
  return rest;
}

function scopeOf(driveId: string): string {
  return `delta|${driveId}`;
}

function linkFor(a: DeltaArgs, state: DeltaState): string {
  const token = a.sealer.seal(scopeOf(a.driveId), JSON.stringify(state));
  return `${a.origin}/v1.0/drives/${encodePathSegment(a.driveId)}/root/delta?token=${token}`;
}

function openToken(a: DeltaArgs, token: string): DeltaState | undefined {
  const payload = a.sealer.open(scopeOf(a.driveId), token);
  if (payload === undefined) return undefined;
  try {
    const s = JSON.parse(payload) as DeltaState;
    return typeof s.e === 'number' && typeof s.s === 'number' && typeof s.o === 'number' ? s : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Items changed after `since`, live ones in hierarchy order, then deletion stubs in deletion
 * order. Sharing-only changes count only when `sharing` (FullControl and the Prefer values), and
 * carry `@microsoft.graph.sharedChanged`. With `parents`, the live ancestors of every changed or
 * deleted item come too, in their hierarchy place, as they are now (see the header).
 */
function changesSince(drive: SimDrive, log: DriveLog, since: number, sharing: boolean, parents: boolean): JsonObject[] {
  const annotated = new Set<string>();
  const included = new Set<string>();
  for (const i of drive.items) {
    const id = itemId(i);
    if (id === undefined) continue;
    if (sharing && (log.sharing.get(id) ?? 0) > since) {
      annotated.add(id);
      included.add(id);
    } else if ((log.changed.get(id) ?? 0) > since) included.add(id);
  }
  const gone = [...log.tombstones.values()].filter((t) => t.seq > since).sort((x, y) => x.seq - y.seq).map((t) => t.item);
  if (parents) {
    const byId = new Map(drive.items.map((i) => [itemId(i), i] as const));
    const starts = [...[...included].map((id) => parentId(byId.get(id) ?? {})), ...gone.map(parentId)];
    for (const start of starts) {
      const seen = new Set<string>();
      for (let p = start; p !== undefined && !seen.has(p) && byId.has(p); p = parentId(byId.get(p) ?? {})) {
        seen.add(p);
        included.add(p);
      }
    }
  }
  const live: JsonObject[] = [];
  for (const i of drive.items) {
    const id = itemId(i);
    if (id === undefined || !included.has(id)) continue;
    live.push(annotated.has(id) ? { ...i, '@microsoft.graph.sharedChanged': 'True' } : i);
  }
  return [...live, ...gone];
}

/**
 * Answers one delta call. Pages carry `@odata.nextLink`, the last one `@odata.deltaLink`, both
 * AFTER `value` and without `@odata.context` (13-driveitem-delta.json). The snapshot a deltaLink
 * continues from is taken when a round starts (offset 0), so a change made while a client is
 * paging shows up again in the next round: Graph likewise may repeat an item, and the client
 * keeps the last occurrence.
 */
export function deltaResponse(a: DeltaArgs): SimResponse {
  const log = a.log.log(a.driveId);
  const size = pageSize(a.query, a.spec);
  if ('error' in size) return graphError(a.req, 400, 'invalidRequest', size.error);
  const explicitTop = a.query.some((p) => p.name === 'top');

  if (a.token !== undefined && a.token.toLowerCase() === 'latest') {
    // token=latest: no items, just a deltaLink at the current state (docs example 3).
    return jsonOk({ value: [], '@odata.deltaLink': linkFor(a, { e: log.epoch, m: 'changes', s: log.seq, n: log.seq, o: 0 }) });
  }

  let state: DeltaState;
  if (a.token === undefined || a.token === '') {
    state = { e: log.epoch, m: 'enum', s: 0, n: log.seq, o: 0 };
  } else {
    const opened = openToken(a, a.token);
    // Timestamp tokens (ODB only) are not modelled: any token we did not issue is invalid.
    if (!opened) return graphError(a.req, 400, 'invalidRequest', 'Invalid delta token.');
    if (opened.e !== log.epoch) {
      const fresh = linkFor(a, { e: log.epoch, m: 'enum', s: 0, n: log.seq, o: 0 });
      return graphError(
        a.req,
        410,
        'resyncRequired',
        "Resync required. Replace any local items with the server's version (including deletes) if you're sure that the service was up to date with your local changes when you last sync'd. Upload any local changes that the server doesn't know about.",
        { Location: fresh },
      );
    }
    state = opened;
  }
  // A round starts at offset 0: its snapshot is the sequence now.
  if (state.o === 0) state = { ...state, n: log.seq };
  // The page size chosen with $top on the first call sticks to the links, as Graph's links carry
  // no query of their own; an explicit $top on a later call wins.
  const per = explicitTop || state.p === undefined ? size.size : Math.min(state.p, a.spec.maxSize);

  const all = state.m === 'enum' ? enumeration(a) : changesSince(a.drive, log, state.s, showsSharingChanges(a), !excludesParents(a));
  const end = state.o + per;
  const value = all.slice(state.o, end).map((i) => served(a, i));
  if (end < all.length) {
    return jsonOk({ value, '@odata.nextLink': linkFor(a, { ...state, o: end, p: per }) });
  }
  return jsonOk({ value, '@odata.deltaLink': linkFor(a, { e: log.epoch, m: 'changes', s: state.n, n: state.n, o: 0, p: per }) });
}

/**
 * The full enumeration: every item as the tenant data gives it. With `Prefer: hierarchicalsharing`
 * Graph keeps the `shared` facet only on the roots of sharing hierarchies; the tenant data is
 * already written that way, so the items are served unchanged whatever the header says.
 */
function enumeration(a: DeltaArgs): JsonObject[] {
  return a.drive.items;
}
