/**
 * The bench tenant (issue 13): the demo tenant of `users` users (its users, mailboxes with their
 * inbox rules, MFA registration, roles, CA policies and planted violations, unchanged), plus the
 * bulk a real tenant of that size holds, generated LAZILY in the simulator process so that 50,000
 * users fit in memory:
 * - SharePoint: users / 20 team sites (`/teams/bench-NNNNN`, one document library each) and a
 *   OneDrive per user (`-my` host, `/personal/…`), 200 items per library (the root, 9 folders, 190
 *   files), 2% of them shared: 4 files directly under the root, each with its permissions. Site and
 *   drive objects are held (≈ 2 KB a library); items and permissions are functions of (seed,
 *   library index, item index), built when a request reads them and kept in a small cache.
 * - Sign-ins: a day at 10 per user (500,000 at 50,000 users), benign successes (JP, browser,
 *   modern auth: no SIGN rule fires), spread evenly over the 23 hours before `now`, served by
 *   routes.ts from `TenantData.lazySignIns` page by page without ever holding the day.
 *
 * Ground truth is the demo's plus what the lazy libraries plant, computable from the indices:
 * - shared file #2 of every team-site library: a direct grant to an external guest → FILE-02
 *   (team sites are class II through the asset `https://example.sharepoint.com/teams` this module
 *   adds to the policy; OneDrives are class III through the demo's `/personal/` asset, where a
 *   grant is no finding);
 * - shared file #3 of every library whose index is a multiple of 10: an anonymous link → FILE-01
 *   (high on a team site, medium on a OneDrive); the other libraries carry an organization link
 *   there (class II/III: no finding).
 * Shared files #0 (organization link) and #1 (`users` link to an internal person) are no finding.
 */
import { generateDemoTenant, type DemoTenantOptions } from './demo-tenant';
import type { DemoTenant, GroundTruth, JsonObject, LazySignIns, SimDrive, SimSite } from './tenant';

const SP_HOST = 'example.sharepoint.com';
const MY_HOST = 'example-my.sharepoint.com';
const NEVER = '0001-01-01T00:00:00Z';
/** Items per library, the root included (issue 13's bench shape). */
export const BENCH_ITEMS_PER_LIBRARY = 200;
const FOLDERS = 9;
/** Shared files per library: 2% of 200. */
export const BENCH_SHARED_PER_LIBRARY = 4;
export const BENCH_SIGN_INS_PER_USER = 10;
const DAY_SPAN_MS = 23 * 3600_000;
const GUEST_EMAIL = 'bench.partner@vendor-it.example.jp';

export interface BenchTenant extends DemoTenant {
  /** What the bench tenant holds, for the bench's lower bounds and assertions. */
  shape: { users: number; teamSites: number; oneDrives: number; lazyLibraries: number; lazySignIns: number; demoSites: number; demoSignIns: number };
}

/** A deterministic GUID-like string from two numbers and the seed. */
function guidOf(seed: number, kind: number, index: number): string {
  const h = (n: number, w: number): string => (n >>> 0).toString(16).padStart(w, '0').slice(-w);
  return `${h(seed, 8)}-${h(kind, 4)}-4${h(index >>> 20, 3)}-8${h(index >>> 8, 3)}-${h(index, 4)}${h(kind * 7919 + index, 8)}`;
}

function guidBytes(g: string): number[] {
  const hex = g.replace(/-/g, '');
  return Array.from({ length: 16 }, (_, i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16));
}

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
function base32(n: number, width: number): string {
  let out = '';
  let v = Math.floor(n);
  for (let i = 0; i < width; i++) {
    out = (B32[v % 32] ?? 'A') + out;
    v = Math.floor(v / 32);
  }
  return out;
}

/** A drive item id of the `01…` form (34 characters), unique per (library, item). */
export function benchItemId(library: number, item: number): string {
  return `01BENCH${base32(library, 8)}${base32(item, 4)}${'A'.repeat(15)}`;
}

/** Which shared files (by item index) a library holds: the last 4 of its 200 items, under the root. */
export const SHARED_ITEM_INDICES: readonly number[] = Array.from({ length: BENCH_SHARED_PER_LIBRARY }, (_, k) => BENCH_ITEMS_PER_LIBRARY - BENCH_SHARED_PER_LIBRARY + k);

interface LibrarySpec {
  index: number;
  team: boolean;
  driveId: string;
  driveUrl: string;
  owner: { id: string; upn: string; displayName: string };
}

const isoMs = (ms: number): string => new Date(ms).toISOString();

/** The items and permissions of one lazy library (deterministic; nothing random). */
function buildLibrary(spec: LibrarySpec, nowMs: number): { items: JsonObject[]; permissions: Record<string, JsonObject[]> } {
  const driveType = spec.team ? 'documentLibrary' : 'business';
  const created = nowMs - (400 + (spec.index % 1500)) * 86_400_000;
  const rootId = benchItemId(spec.index, 0);
  const items: JsonObject[] = [];
  const permissions: Record<string, JsonObject[]> = {};
  const ref = (parentId: string, path: string): JsonObject => ({ driveType, driveId: spec.driveId, id: parentId, path: `/drives/${spec.driveId}/root:${path}` });
  items.push({
    id: rootId, name: 'root', createdDateTime: isoMs(created), lastModifiedDateTime: isoMs(created), webUrl: spec.driveUrl,
    size: 0, parentReference: { driveType, driveId: spec.driveId }, folder: { childCount: FOLDERS + BENCH_SHARED_PER_LIBRARY }, root: {},
  });
  const files = BENCH_ITEMS_PER_LIBRARY - 1 - FOLDERS - BENCH_SHARED_PER_LIBRARY;
  for (let f = 1; f <= FOLDERS; f++) {
    items.push({
      id: benchItemId(spec.index, f), name: `フォルダー${f}`, createdDateTime: isoMs(created + f * 3600_000), lastModifiedDateTime: isoMs(created + f * 3600_000),
      webUrl: `${spec.driveUrl}/${encodeURIComponent(`フォルダー${f}`)}`, size: 0, parentReference: ref(rootId, ''), folder: { childCount: Math.ceil(files / FOLDERS) },
    });
  }
  const file = (i: number, name: string, parent: string, parentPath: string): JsonObject => ({
    id: benchItemId(spec.index, i), name, createdDateTime: isoMs(created + i * 7_200_000), lastModifiedDateTime: isoMs(nowMs - ((i * 37 + spec.index) % 300) * 86_400_000 - 3600_000),
    webUrl: `${spec.driveUrl}${parentPath}/${encodeURIComponent(name)}`, size: 18_000 + ((i * 7919 + spec.index) % 400_000),
    parentReference: ref(parent, parentPath), file: { mimeType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document' },
  });
  for (let i = 1 + FOLDERS; i < SHARED_ITEM_INDICES[0]!; i++) {
    const folder = ((i - 1 - FOLDERS) % FOLDERS) + 1;
    items.push(file(i, `文書${i}.docx`, benchItemId(spec.index, folder), `/${encodeURIComponent(`フォルダー${folder}`)}`));
  }
  const login = (upn: string): string => `i:0#.f|membership|${upn.toLowerCase()}`;
  const owner: JsonObject = {
    id: Buffer.from(login(spec.owner.upn)).toString('base64'), roles: ['owner'], expirationDateTime: NEVER,
    grantedToV2: { user: { id: spec.owner.id, displayName: spec.owner.displayName, email: spec.owner.upn }, siteUser: { id: '6', displayName: spec.owner.displayName, email: spec.owner.upn, loginName: login(spec.owner.upn) } },
  };
  const link = (k: number, scope: 'anonymous' | 'organization' | 'users', type: 'view' | 'edit'): JsonObject => ({
    id: guidOf(spec.index, 100 + k, spec.index), roles: [type === 'edit' ? 'write' : 'read'], expirationDateTime: NEVER,
    link: { type, scope, webUrl: `https://${spec.team ? SP_HOST : MY_HOST}/:w:/s/bench/E${base32(spec.index, 8)}${k}`, preventsDownload: false },
  });
  SHARED_ITEM_INDICES.forEach((i, k) => {
    const item = file(i, `共有${k}.docx`, rootId, '');
    let perms: JsonObject[];
    let scope: string;
    if (k === 0) [perms, scope] = [[owner, link(k, 'organization', 'view')], 'organization'];
    else if (k === 1) {
      const l = link(k, 'users', 'view');
      l.grantedToIdentitiesV2 = [owner.grantedToV2 as JsonObject];
      [perms, scope] = [[owner, l], 'users'];
    } else if (k === 2) {
      const loginName = `i:0#.f|membership|urn:spo:guest#${GUEST_EMAIL}`;
      const guest: JsonObject = {
        id: Buffer.from(loginName).toString('base64'), roles: ['read'], expirationDateTime: NEVER,
        grantedToV2: { user: { displayName: '委託先 担当者', email: GUEST_EMAIL }, siteUser: { id: '7', displayName: '委託先 担当者', email: GUEST_EMAIL, loginName } },
      };
      [perms, scope] = [[owner, guest], 'users'];
    } else if (spec.index % 10 === 0) [perms, scope] = [[owner, link(k, 'anonymous', 'view')], 'anonymous'];
    else [perms, scope] = [[owner, link(k, 'organization', 'edit')], 'organization'];
    item.shared = { scope };
    permissions[item.id as string] = perms;
    items.push(item);
  });
  return { items, permissions };
}

/** A small LRU of built libraries: delta and the permission reads of one drive come close together. */
class LibraryCache {
  private readonly map = new Map<number, { items: JsonObject[]; permissions: Record<string, JsonObject[]> }>();
  constructor(private readonly size: number) {}
  get(spec: LibrarySpec, nowMs: number): { items: JsonObject[]; permissions: Record<string, JsonObject[]> } {
    let lib = this.map.get(spec.index);
    if (lib) {
      this.map.delete(spec.index);
    } else {
      lib = buildLibrary(spec, nowMs);
      if (this.map.size >= this.size) this.map.delete(this.map.keys().next().value as number);
    }
    this.map.set(spec.index, lib);
    return lib;
  }
}

/**
 * The bench tenant of `users` users (see the module comment). Deterministic in (seed, users, now).
 */
export function generateBenchTenant(options: DemoTenantOptions & { users: number }): BenchTenant {
  const demo = generateDemoTenant(options);
  const seed = options.seed ?? 1;
  const nowMs = Date.parse(demo.now);
  const members = demo.data.users.filter((u) => u.userType === 'Member' && typeof u.userPrincipalName === 'string' && !String(u.userPrincipalName).includes('#EXT#'));
  const teamOwner = members[0];
  if (!teamOwner) throw new Error('bench tenant: no member user');
  const person = (u: JsonObject): LibrarySpec['owner'] => ({ id: String(u.id), upn: String(u.userPrincipalName), displayName: String(u.displayName ?? u.userPrincipalName) });
  const teamSites = Math.floor(options.users / 20);
  const allUsers = demo.data.users;
  const cache = new LibraryCache(256);
  const truth: GroundTruth[] = [];
  const sites: SimSite[] = [];
  const libraries = teamSites + allUsers.length;
  for (let index = 0; index < libraries; index++) {
    const team = index < teamSites;
    const user = team ? teamOwner : allUsers[index - teamSites]!;
    const collectionId = guidOf(seed, 1, index);
    const webId = guidOf(seed, 2, index);
    const listId = guidOf(seed, 3, index);
    const host = team ? SP_HOST : MY_HOST;
    const path = team ? `/teams/bench-${String(index).padStart(5, '0')}` : `/personal/${String(user.userPrincipalName).toLowerCase().replace(/[^a-z0-9]/g, '_')}`;
    const webUrl = `https://${host}${path}`;
    const driveId = `b!${Buffer.from([...guidBytes(collectionId), ...guidBytes(webId), ...guidBytes(listId)]).toString('base64url')}`;
    const driveUrl = team ? `${webUrl}/Shared%20Documents` : `${webUrl}/Documents`;
    const spec: LibrarySpec = { index, team, driveId, driveUrl, owner: person(team ? teamOwner : user) };
    const ownerRef = { user: { email: spec.owner.upn, id: spec.owner.id, displayName: spec.owner.displayName } };
    const drive: SimDrive = {
      drive: {
        createdDateTime: isoMs(nowMs - 400 * 86_400_000), description: '', id: driveId, lastModifiedDateTime: isoMs(nowMs - 86_400_000),
        name: team ? 'ドキュメント' : 'OneDrive', webUrl: driveUrl, driveType: team ? 'documentLibrary' : 'business',
        createdBy: { user: { displayName: 'System Account' } }, lastModifiedBy: ownerRef, owner: team ? { user: { displayName: 'System Account' } } : ownerRef,
        quota: { deleted: 0, remaining: 1099511627776, state: 'normal', total: 1099511627776, used: 0 },
      },
      // Lazy: built on access (routes.ts and delta.ts read `items` / `permissions` of the drive a request names).
      get items() {
        return cache.get(spec, nowMs).items;
      },
      get permissions() {
        return cache.get(spec, nowMs).permissions;
      },
    };
    sites.push({ site: { id: `${host},${collectionId},${webId}`, name: team ? `ベンチ チームサイト ${index}` : spec.owner.displayName, root: {}, siteCollection: { hostname: host }, webUrl }, drives: [drive] });
    const subject = (k: number): string => `${driveId}/${benchItemId(index, SHARED_ITEM_INDICES[k]!)}`;
    if (team) truth.push({ ruleId: 'FILE-02', subjectId: subject(2), note: `bench: external guest grant on class II team site ${webUrl}` });
    if (index % 10 === 0) truth.push({ ruleId: 'FILE-01', subjectId: subject(3), note: `bench: anonymous link on ${webUrl}` });
  }
  const policy = structuredClone(demo.policy);
  const files = policy.files as JsonObject;
  const assets = files.assets as JsonObject[];
  assets.push({ name: 'ベンチ チームサイト', owner: String(assets[0]?.owner ?? teamOwner.userPrincipalName), location: `https://${SP_HOST}/teams`, class: 'II' });

  const lazySignIns = benchSignIns(demo, options.users * BENCH_SIGN_INS_PER_USER, nowMs);
  const groundTruth = [...demo.groundTruth, ...truth];
  return {
    ...demo,
    data: { ...demo.data, sites: [...demo.data.sites, ...sites], lazySignIns },
    groundTruth,
    policy,
    shape: {
      users: allUsers.length, teamSites, oneDrives: allUsers.length, lazyLibraries: libraries, lazySignIns: lazySignIns.count,
      demoSites: demo.data.sites.length, demoSignIns: demo.data.signIns.length,
    },
  };
}

/**
 * A day of benign sign-ins, newest first by index: index i happened at `now − 30 s − i × step`
 * (step = 23 h / count, whole milliseconds), by the enabled member user i mod n, successfully,
 * from Japan in a browser: the demo's first such sign-in with the ids, user, time and address
 * replaced. No SIGN rule fires on them (SIGN-01…03 need failures, SIGN-04 a foreign country,
 * SIGN-05 a legacy client).
 */
function benchSignIns(demo: DemoTenant, count: number, nowMs: number): LazySignIns {
  const template = demo.data.signIns.find((s) => {
    const st = s.status as JsonObject | undefined;
    const loc = s.location as JsonObject | undefined;
    return st?.errorCode === 0 && loc?.countryOrRegion === 'JP' && s.clientAppUsed === 'Browser';
  });
  if (!template) throw new Error('bench tenant: the demo has no JP browser success to copy');
  // Only users the demo's own log never mentions: a success after a planted run of failures
  // would turn SIGN-01 into SIGN-03 and change the ground truth.
  const inLog = new Set(demo.data.signIns.map((s) => String(s.userId)));
  const people = demo.data.users.filter((u) => u.accountEnabled === true && u.userType === 'Member' && !inLog.has(String(u.id)));
  if (!people.length) throw new Error('bench tenant: no user outside the demo log to sign in');
  const step = Math.max(1, Math.floor(DAY_SPAN_MS / Math.max(1, count)));
  const newest = nowMs - 30_000;
  return {
    count,
    timeOf: (i) => newest - i * step,
    at: (i) => {
      const u = people[i % people.length]!;
      return {
        ...template,
        id: guidOf(0x5196, 9, i),
        correlationId: guidOf(0x5197, 9, i),
        createdDateTime: new Date(newest - i * step).toISOString(),
        userDisplayName: u.displayName ?? null,
        userPrincipalName: u.userPrincipalName ?? null,
        userId: u.id ?? null,
        ipAddress: `203.0.113.${(i % people.length) % 250}`,
      };
    },
  };
}
