/**
 * The simulator's routes: which path is which endpoint, which throttling buckets it draws from,
 * and the handlers that turn `TenantData` into Graph v1.0 payloads shaped like the docs'
 * examples (shared/reference/graph/*.json).
 */
import type { Json, JsonObject, SimDrive, SimSite, TenantData } from './tenant';
import { DEFAULT_AUTHORIZATION_POLICY, signInAvailable } from './tenant';
import type { EndpointName, SimOptions, SimRequest, SimResponse } from './types';
import type { BucketKey } from './throttle';
import { deltaResponse, parentId, type DeltaLog } from './delta';
import { compileFilter, usersFilterRefusal, USER_REGISTRATION_FILTERABLE, type FilterableProperties } from './filter';
import { lazySignInsResponse } from './lazy-signins';
import { encodePathSegment, paginate, param, type PageSpec, type QueryParam, type TokenSealer } from './paging';
import type { PlannerStore } from './planner';
import { graphError, jsonOk } from './responses';

/** What a handler may use: the live tenant and the server's shared state. */
export interface RouteContext {
  /** `https://127.0.0.1:PORT`, the base of every absolute link we hand out. */
  origin: string;
  tenant: TenantData;
  options: SimOptions;
  sealer: TokenSealer;
  deltaLog: DeltaLog;
  recordMail(sender: string, message: unknown): void;
  planner: PlannerStore;
}

/** The HTTP methods routes answer (anything else is a 405 on a known path). */
export type SimMethod = 'GET' | 'POST' | 'PATCH';

export interface RouteMatch {
  endpoint: EndpointName;
  /** The methods the path accepts. */
  methods: readonly SimMethod[];
  /** Decoded path parameters (userId, siteId, driveId, itemId, token, taskId, planId). */
  params: Record<string, string>;
}

export type RouteResult = { match: RouteMatch } | { status: number; code: string; message: string };

/**
 * Route table, matched case-insensitively on literal segments (Graph paths are case-insensitive,
 * which is how the lower-case `signins` nextLink of the docs works). `~delta` is the delta
 * segment, plain or in function form `delta(token='…')` as the docs' example 2 requests it.
 */
const ROUTES: ReadonlyArray<{ pattern: readonly string[]; endpoint: EndpointName; methods: readonly SimMethod[] }> = [
  { pattern: ['domains'], endpoint: 'domains', methods: ['GET'] },
  { pattern: ['users'], endpoint: 'users', methods: ['GET'] },
  { pattern: ['users', ':userId', 'mailfolders', 'inbox', 'messagerules'], endpoint: 'messageRules', methods: ['GET'] },
  { pattern: ['users', ':userId', 'sendmail'], endpoint: 'sendMail', methods: ['POST'] },
  { pattern: ['reports', 'authenticationmethods', 'userregistrationdetails'], endpoint: 'userRegistrationDetails', methods: ['GET'] },
  { pattern: ['reports', 'authenticationmethods', 'userregistrationdetails', ':userId'], endpoint: 'userRegistrationDetail', methods: ['GET'] },
  { pattern: ['rolemanagement', 'directory', 'roleassignments'], endpoint: 'roleAssignments', methods: ['GET'] },
  { pattern: ['rolemanagement', 'directory', 'roleeligibilityschedules'], endpoint: 'roleEligibilitySchedules', methods: ['GET'] },
  { pattern: ['rolemanagement', 'directory', 'roleassignmentscheduleinstances'], endpoint: 'roleAssignmentScheduleInstances', methods: ['GET'] },
  { pattern: ['policies', 'identitysecuritydefaultsenforcementpolicy'], endpoint: 'securityDefaults', methods: ['GET'] },
  { pattern: ['policies', 'authorizationpolicy'], endpoint: 'authorizationPolicy', methods: ['GET'] },
  { pattern: ['serviceprincipals'], endpoint: 'servicePrincipals', methods: ['GET'] },
  { pattern: ['serviceprincipals', ':spId', 'approleassignments'], endpoint: 'servicePrincipalAppRoleAssignments', methods: ['GET'] },
  { pattern: ['oauth2permissiongrants'], endpoint: 'oauth2PermissionGrants', methods: ['GET'] },
  { pattern: ['identity', 'conditionalaccess', 'policies'], endpoint: 'conditionalAccess', methods: ['GET'] },
  { pattern: ['auditlogs', 'signins'], endpoint: 'signIns', methods: ['GET'] },
  { pattern: ['sites', 'getallsites'], endpoint: 'sites', methods: ['GET'] },
  // The getAllSites nextLink continues under the namespace-qualified name (11-sites-getallsites.json).
  { pattern: ['sites', 'onedrive.getallsites'], endpoint: 'sites', methods: ['GET'] },
  { pattern: ['sites', 'microsoft.graph.getallsites'], endpoint: 'sites', methods: ['GET'] },
  { pattern: ['sites', ':siteId', 'drives'], endpoint: 'drives', methods: ['GET'] },
  { pattern: ['drives', ':driveId', 'root', '~delta'], endpoint: 'delta', methods: ['GET'] },
  { pattern: ['drives', ':driveId', 'items', ':itemId', 'permissions'], endpoint: 'permissions', methods: ['GET'] },
  { pattern: ['admin', 'sharepoint', 'settings'], endpoint: 'sharepointSettings', methods: ['GET'] },
  { pattern: ['planner', 'tasks'], endpoint: 'plannerTasks', methods: ['POST'] },
  { pattern: ['planner', 'tasks', ':taskId'], endpoint: 'plannerTask', methods: ['GET', 'PATCH'] },
  { pattern: ['planner', 'tasks', ':taskId', 'details'], endpoint: 'plannerTaskDetails', methods: ['GET', 'PATCH'] },
  { pattern: ['planner', 'plans', ':planId', 'buckets'], endpoint: 'plannerBuckets', methods: ['GET'] },
  { pattern: ['planner', 'plans', ':planId', 'tasks'], endpoint: 'plannerPlanTasks', methods: ['GET'] },
  { pattern: ['groups', ':groupId'], endpoint: 'group', methods: ['GET'] },
  { pattern: ['groups', ':groupId', 'transitivemembers'], endpoint: 'groupTransitiveMembers', methods: ['GET'] },
  { pattern: ['groups', ':groupId', 'transitivemembers', ':cast'], endpoint: 'groupTransitiveMembers', methods: ['GET'] },
  { pattern: ['$batch'], endpoint: 'batch', methods: ['POST'] },
];

const DELTA_SEGMENT = /^delta(?:\((?:token=)?'?([^')]*)'?\))?$/i;

/** Resolves a request path (`/v1.0/…`, still percent-encoded) to an endpoint, or a 400/404 answer. */
export function matchRoute(path: string): RouteResult {
  let segs: string[];
  try {
    segs = path.split('/').filter((s) => s !== '').map((s) => decodeURIComponent(s));
  } catch {
    return { status: 400, code: 'BadRequest', message: `Invalid request URL '${path}'.` };
  }
  const rest = segs[0] === 'v1.0' ? segs.slice(1) : undefined;
  if (rest) {
    for (const r of ROUTES) {
      if (r.pattern.length !== rest.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < r.pattern.length && ok; i++) {
        const p = r.pattern[i] ?? '';
        const s = rest[i] ?? '';
        if (p === '~delta') {
          const m = DELTA_SEGMENT.exec(s);
          if (!m) ok = false;
          else if (m[1] !== undefined) params.token = m[1];
        } else if (p.startsWith(':')) params[p.slice(1)] = s;
        else if (p !== s.toLowerCase()) ok = false;
      }
      if (ok) return { match: { endpoint: r.endpoint, methods: r.methods, params } };
    }
  }
  // SharePoint/OneDrive paths answer itemNotFound, directory paths Request_ResourceNotFound.
  const first = rest?.[0]?.toLowerCase();
  if (first === 'sites' || first === 'drives') return { status: 404, code: 'itemNotFound', message: 'The resource could not be found.' };
  const what = (rest ?? segs).join('/');
  return {
    status: 404,
    code: 'Request_ResourceNotFound',
    message: `Resource '${what}' does not exist or one of its queried reference-property objects are not present.`,
  };
}

// ---------------------------------------------------------------------------------------------
// Page sizes

/**
 * Default and maximum page size per endpoint. From the docs: users 100/999 (500 with
 * signInActivity), signIns 1000/1000, delta pages of at most 200 (as the brief models it).
 * Guesses where the docs are silent: userRegistrationDetails 1000/1000 like the other
 * reports; directory collections (role assignments/eligibility, CA policies) 100/999 like users;
 * SharePoint lists (sites, drives) 200/999; single-page lists in Graph (domains, messageRules,
 * permissions) 1000/1000 so that they fit in one page unless a test lowers `maxPageSize`.
 */
const PAGE_SPECS: Record<EndpointName, PageSpec> = {
  domains: { defaultSize: 1000, maxSize: 1000 },
  users: { defaultSize: 100, maxSize: 999 },
  userRegistrationDetails: { defaultSize: 1000, maxSize: 1000 },
  userRegistrationDetail: { defaultSize: 1, maxSize: 1 },
  roleAssignments: { defaultSize: 100, maxSize: 999 },
  roleEligibilitySchedules: { defaultSize: 100, maxSize: 999 },
  roleAssignmentScheduleInstances: { defaultSize: 100, maxSize: 999 },
  securityDefaults: { defaultSize: 1, maxSize: 1 },
  authorizationPolicy: { defaultSize: 1, maxSize: 1 },
  // Directory collections: 100 by default, $top up to 999 ("List servicePrincipals"; the same
  // guess as the other directory lists for appRoleAssignments and oauth2PermissionGrants).
  servicePrincipals: { defaultSize: 100, maxSize: 999 },
  servicePrincipalAppRoleAssignments: { defaultSize: 100, maxSize: 999 },
  oauth2PermissionGrants: { defaultSize: 100, maxSize: 999 },
  conditionalAccess: { defaultSize: 100, maxSize: 999 },
  messageRules: { defaultSize: 1000, maxSize: 1000 },
  signIns: { defaultSize: 1000, maxSize: 1000 },
  sites: { defaultSize: 200, maxSize: 999 },
  drives: { defaultSize: 200, maxSize: 999 },
  delta: { defaultSize: 200, maxSize: 200 },
  permissions: { defaultSize: 1000, maxSize: 1000 },
  sharepointSettings: { defaultSize: 1, maxSize: 1 },
  sendMail: { defaultSize: 1, maxSize: 1 },
  plannerTasks: { defaultSize: 1, maxSize: 1 },
  plannerTask: { defaultSize: 1, maxSize: 1 },
  plannerTaskDetails: { defaultSize: 1, maxSize: 1 },
  // A plan holds at most 200 buckets, so in practice one page.
  plannerBuckets: { defaultSize: 200, maxSize: 200 },
  // Planner pages at a fixed size it chooses ("IIRC ~400", a Planner engineer in
  // microsoft-graph-docs#6438) and ignores $top (python-o365#858; microsoft-graph-docs#5099).
  plannerPlanTasks: { defaultSize: 400, maxSize: 400 },
  group: { defaultSize: 1, maxSize: 1 },
  // "List group transitive members": 100 by default, $top up to 999 (newer revision).
  groupTransitiveMembers: { defaultSize: 100, maxSize: 999 },
  batch: { defaultSize: 20, maxSize: 20 },
};

/** users with signInActivity selected or filtered on: at most 500 a page (user-list.md, newer revision). */
const SIGN_IN_ACTIVITY_MAX_PAGE = 500;

function specFor(ctx: RouteContext, endpoint: EndpointName): PageSpec {
  const base = PAGE_SPECS[endpoint];
  const override = ctx.options.maxPageSize?.[endpoint];
  if (override === undefined) return { ...base };
  return { defaultSize: Math.min(base.defaultSize, override), maxSize: override };
}

// ---------------------------------------------------------------------------------------------
// Lookups

/** A user by object id or userPrincipalName, both case-insensitive as in the directory. */
/**
 * Users by lower-case id and UPN. Built once per users array (rebuilt when tests add or remove
 * users), so a tenant-wide inbox-rule read stays linear instead of scanning the list per request.
 */
const userIndexes = new WeakMap<JsonObject[], { length: number; byKey: Map<string, JsonObject> }>();

function findUser(tenant: TenantData, idOrUpn: string): JsonObject | undefined {
  let index = userIndexes.get(tenant.users);
  if (!index || index.length !== tenant.users.length) {
    const byKey = new Map<string, JsonObject>();
    for (const u of tenant.users) {
      if (typeof u.id === 'string') byKey.set(u.id.toLowerCase(), u);
      if (typeof u.userPrincipalName === 'string') byKey.set(u.userPrincipalName.toLowerCase(), u);
    }
    index = { length: tenant.users.length, byKey };
    userIndexes.set(tenant.users, index);
  }
  return index.byKey.get(idOrUpn.toLowerCase());
}

/** The drive with this id, wherever its site is. */
export function findDrive(tenant: TenantData, driveId: string): SimDrive | undefined {
  const hit = indexed(tenant) ? siteIndex(tenant).drives.get(driveId) : undefined;
  if (hit && hit.drive.id === driveId) return hit;
  // A drive added since the index was built (tests push drives into a site): the plain scan.
  for (const site of tenant.sites) {
    for (const d of site.drives) if (d.drive.id === driveId) return d;
  }
  return undefined;
}

/**
 * Only a tenant of more than this many sites is served from the index: the demo tenant and the
 * tests that edit its sites in place keep the plain scans they were written against.
 */
const INDEX_FROM_SITES = 1000;
const indexed = (tenant: TenantData): boolean => tenant.sites.length > INDEX_FROM_SITES;

/** getAllSites' order (by id): the index's for a large tenant, else sorted per request. */
function sitesById(tenant: TenantData): JsonObject[] {
  return indexed(tenant) ? siteIndex(tenant).sorted : byId(tenant.sites.map((s) => s.site));
}

/**
 * Sites by lower-case id, drives by id, and the sites sorted by id: built once per sites array
 * (rebuilt when its length changes), so that the bench tenant's 52,500 libraries are not scanned
 * or sorted per request (issue 13). Lookups verify what they find and fall back to a scan.
 */
const siteIndexes = new WeakMap<SimSite[], { length: number; sites: Map<string, SimSite>; drives: Map<string, SimDrive>; sorted: JsonObject[] }>();

function siteIndex(tenant: TenantData): { sites: Map<string, SimSite>; drives: Map<string, SimDrive>; sorted: JsonObject[] } {
  let index = siteIndexes.get(tenant.sites);
  if (!index || index.length !== tenant.sites.length) {
    const sites = new Map<string, SimSite>();
    const drives = new Map<string, SimDrive>();
    for (const s of tenant.sites) {
      if (typeof s.site.id === 'string') sites.set(s.site.id.toLowerCase(), s);
      for (const d of s.drives) if (typeof d.drive.id === 'string') drives.set(d.drive.id, d);
    }
    index = { length: tenant.sites.length, sites, drives, sorted: byId(tenant.sites.map((s) => s.site)) };
    siteIndexes.set(tenant.sites, index);
  }
  return index;
}

function findSite(tenant: TenantData, siteId: string): SimSite | undefined {
  const key = siteId.toLowerCase();
  const hit = indexed(tenant) ? siteIndex(tenant).sites.get(key) : undefined;
  if (hit && typeof hit.site.id === 'string' && hit.site.id.toLowerCase() === key) return hit;
  return tenant.sites.find((s) => typeof s.site.id === 'string' && s.site.id.toLowerCase() === key);
}

function idOf(o: JsonObject): string {
  return typeof o.id === 'string' ? o.id : String(o.id ?? '');
}

/** Sorted by id, so page N and page N+1 never overlap or skip while the data stands still. */
/**
 * The last order of each list, kept while the list is unchanged: every `/users` page (and every
 * `$count`) used to sort all the users again, which at 50,000 users made the simulator, not the
 * scanner, the bench's bottleneck (issue 13). Valid while the same objects with the same ids are
 * in the same places (an O(n) check, against the sort's O(n log n) string comparisons); tests
 * that push, remove or re-id users get a fresh sort.
 */
const sortedLists = new WeakMap<readonly JsonObject[], { items: JsonObject[]; ids: unknown[]; sorted: JsonObject[] }>();

function byId(items: readonly JsonObject[]): JsonObject[] {
  const cached = sortedLists.get(items);
  if (cached && cached.items.length === items.length && items.every((x, i) => x === cached.items[i] && idOf(x) === cached.ids[i])) return [...cached.sorted];
  const sorted = [...items].sort((a, b) => (idOf(a) < idOf(b) ? -1 : idOf(a) > idOf(b) ? 1 : 0));
  sortedLists.set(items, { items: [...items], ids: items.map(idOf), sorted });
  return [...sorted];
}

function usesSignInActivity(query: readonly QueryParam[]): boolean {
  const select = param(query, 'select') ?? '';
  const filter = param(query, 'filter') ?? '';
  return select.split(',').some((s) => s.trim().toLowerCase() === 'signinactivity') || /signinactivity/i.test(filter);
}

/** The mailbox an Outlook request targets (user id when known), for the per-mailbox buckets. */
export function mailboxOf(ctx: RouteContext, match: RouteMatch): string | undefined {
  if (match.endpoint !== 'messageRules' && match.endpoint !== 'sendMail') return undefined;
  const raw = match.params.userId ?? '';
  const user = findUser(ctx.tenant, raw);
  return (user ? idOf(user) : raw).toLowerCase();
}

/** The throttling buckets a request draws from: always `global`, plus its family's. */
export function throttleKeys(ctx: RouteContext, match: RouteMatch, query: readonly QueryParam[]): BucketKey[] {
  const keys: BucketKey[] = [{ family: 'global', key: '' }];
  switch (match.endpoint) {
    case 'userRegistrationDetails':
    case 'userRegistrationDetail':
    case 'signIns':
      keys.push({ family: 'identityReports', key: '' });
      break;
    case 'users':
      if (usesSignInActivity(query)) {
        keys.push({ family: 'signInActivity', key: '' });
        // The stricter reading of the identity reports' limits (ThrottleReadings.signInActivity):
        // the page is auditLogs data too, so it also spends one of the reports' 5 per 10 s (same
        // app-and-tenant bucket as userRegistrationDetails and signIns).
        if (ctx.options.throttleReadings?.signInActivity === 'alsoIdentityReports') keys.push({ family: 'identityReports', key: '' });
      }
      break;
    case 'conditionalAccess':
      keys.push({ family: 'conditionalAccess', key: '' });
      break;
    case 'messageRules':
    case 'sendMail':
      keys.push({ family: 'outlook', key: mailboxOf(ctx, match) ?? '' });
      break;
    default:
      break;
  }
  const ru = sharepointCost(match, query);
  if (ru !== undefined) keys.push({ family: 'sharepoint', key: '', cost: ru });
  const dir = directoryCost(match, query);
  if (dir !== undefined) keys.push({ family: 'directory', key: '', cost: dir });
  return keys;
}

/**
 * Entra ID resource units of a directory read ("Microsoft Graph service-specific throttling
 * limits", "Identity and access service limits"; includes/throttling-identity-and-access.md):
 * base cost `GET users` 2, `GET groups/{id}/transitiveMembers` 5, any other identity path 1;
 * `$select` takes 1 off, `$expand` adds 1, `$top` below 20 takes 1 off; never below 1.
 *
 * Which requests count: those on the resources the doc lists (user, group, domain, policyBase,
 * directoryRole, servicePrincipal, organization, subscribedSku, …). `signInActivity` pages are
 * `GET users` too, so they draw here as well as from their own family. Role management
 * (`/roleManagement/directory/*`: unifiedRoleAssignment, unifiedRoleEligibilitySchedule) is not
 * on the list, and neither are the reports, Conditional Access, Outlook or SharePoint: those
 * draw from their own families (and the global one) only. Undefined: not a directory request.
 */
export function directoryCost(match: RouteMatch, query: readonly QueryParam[]): number | undefined {
  let base: number;
  switch (match.endpoint) {
    case 'users':
      base = 2;
      break;
    case 'groupTransitiveMembers':
      base = 5;
      break;
    case 'domains':
    case 'group':
    // identitySecurityDefaultsEnforcementPolicy derives from policyBase (v1.0 metadata).
    case 'securityDefaults':
      base = 1;
      break;
    default:
      return undefined;
  }
  const top = Number(param(query, 'top'));
  let cost = base;
  if (param(query, 'select') !== undefined) cost -= 1;
  if (param(query, 'expand') !== undefined) cost += 1;
  if (Number.isFinite(top) && param(query, 'top') !== undefined && top < 20) cost -= 1;
  return Math.max(1, cost);
}

/**
 * SharePoint's resource-unit cost of a request ("Avoid getting throttled or blocked in
 * SharePoint Online", resource units table): 5 for any permission operation, 2 for a multi-item
 * query or a delta without a token, 1 for a delta with a token or a single item. Undefined for
 * requests SharePoint does not serve. `$batch` items come here one by one, as SharePoint counts them.
 */
export function sharepointCost(match: RouteMatch, query: readonly QueryParam[]): number | undefined {
  switch (match.endpoint) {
    case 'permissions':
      return 5;
    case 'delta':
      return match.params.token !== undefined || param(query, 'token') !== undefined ? 1 : 2;
    case 'sites':
    case 'drives':
      return 2;
    case 'sharepointSettings':
      return 1;
    default:
      return undefined;
  }
}

/**
 * An item's permission list as SharePoint returns it: its own entries, then those of its
 * ancestors, under the same ids ("Permission resource type": OneDrive for Business and
 * SharePoint document libraries don't return `inheritedFrom`). Only a personal (consumer)
 * drive marks the inherited ones with `inheritedFrom`.
 */
export function effectivePermissions(drive: SimDrive, itemId: string): JsonObject[] {
  const byId = new Map(drive.items.map((i) => [idOf(i), i] as const));
  const personal = drive.drive.driveType === 'personal';
  const out: JsonObject[] = [];
  const seen = new Set<string>();
  let current = byId.get(itemId);
  let own = true;
  for (let depth = 0; current && depth < 64; depth++) {
    const id = idOf(current);
    for (const p of drive.permissions[id] ?? []) {
      const { inheritedFrom: _drop, ...bare } = p;
      if (seen.has(idOf(bare))) continue;
      seen.add(idOf(bare));
      out.push(own ? p : personal ? { ...bare, inheritedFrom: { driveId: drive.drive.id as Json, id } } : bare);
    }
    own = false;
    const parent = parentId(current);
    current = parent === undefined ? undefined : byId.get(parent);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Collections

/** Graph's 400 code for a bad query option differs by service. */
function badRequestCode(endpoint: EndpointName): string {
  switch (endpoint) {
    case 'sites':
    case 'drives':
    case 'delta':
    case 'permissions':
    case 'sharepointSettings':
      return 'invalidRequest';
    case 'messageRules':
    case 'sendMail':
      return 'ErrorInvalidUrlQuery';
    default:
      return 'Request_BadRequest';
  }
}

interface ListOptions {
  endpoint: EndpointName;
  /** Path the nextLink points at, from `/v1.0`. */
  linkPath: string;
  /** What follows `$metadata#` in `@odata.context`; none when the docs' example has none. */
  context?: string;
  /** nextLink after `value` (SharePoint style) instead of before it (directory style). */
  linksAfterValue?: boolean;
  /** Binds skiptokens to one resource (site, drive item, mailbox). */
  resourceKey?: string;
  spec: PageSpec;
  shape?: (item: JsonObject) => JsonObject;
  count?: boolean;
  /** The properties the endpoint documents as filterable; others are refused with 400. */
  filterable?: FilterableProperties;
}

function list(ctx: RouteContext, req: SimRequest, query: readonly QueryParam[], items: readonly JsonObject[], o: ListOptions): SimResponse {
  const filterText = param(query, 'filter');
  let all = items;
  if (filterText !== undefined && filterText.trim() !== '') {
    const f = compileFilter(filterText, o.filterable);
    if (typeof f !== 'function') {
      return graphError(req, 400, o.endpoint === 'users' || o.endpoint === 'signIns' ? 'Request_UnsupportedQuery' : badRequestCode(o.endpoint), f.error);
    }
    all = all.filter(f);
  }
  const paged = paginate(all, {
    query,
    sealer: ctx.sealer,
    scope: `${o.endpoint}|${o.resourceKey ?? ''}|${filterText ?? ''}`,
    origin: ctx.origin,
    linkPath: o.linkPath,
    spec: o.spec,
  });
  if ('error' in paged) return graphError(req, 400, badRequestCode(o.endpoint), paged.error);
  const value = o.shape ? paged.items.map(o.shape) : paged.items;
  const body: Record<string, unknown> = {};
  if (o.context !== undefined) body['@odata.context'] = `${ctx.origin}/v1.0/$metadata#${o.context}`;
  if (o.count) body['@odata.count'] = all.length;
  if (paged.nextLink && !o.linksAfterValue) body['@odata.nextLink'] = paged.nextLink;
  body.value = value;
  if (paged.nextLink && o.linksAfterValue) body['@odata.nextLink'] = paged.nextLink;
  return jsonOk(body);
}

/**
 * A list whose `$select` projects each object (`id` always comes back, as directory objects do);
 * a name no object of the list carries is refused with 400, as Graph refuses an unknown property.
 */
function listSelected(ctx: RouteContext, req: SimRequest, query: readonly QueryParam[], items: readonly JsonObject[], typeName: string, o: ListOptions): SimResponse {
  const select = param(query, 'select');
  if (select === undefined || select.trim() === '') return list(ctx, req, query, items, o);
  const known = new Map<string, string>();
  for (const item of items) for (const k of Object.keys(item)) known.set(k.toLowerCase(), k);
  const fields: string[] = [];
  for (const raw of select.split(',')) {
    const name = raw.trim();
    if (!name) continue;
    const canonical = known.get(name.toLowerCase());
    if (!canonical && items.length) return graphError(req, 400, 'Request_BadRequest', `Could not find a property named '${name}' on type 'microsoft.graph.${typeName}'.`);
    fields.push(canonical ?? name);
  }
  const shape = (item: JsonObject): JsonObject => {
    const out: JsonObject = { id: item.id ?? null };
    for (const f of fields) out[f] = item[f] ?? null;
    return out;
  };
  return list(ctx, req, query, items, { ...o, shape });
}

// ---------------------------------------------------------------------------------------------
// Users

/** user properties $select may name (besides whatever keys the tenant data carries). */
const USER_PROPERTIES = [
  'id', 'accountEnabled', 'ageGroup', 'assignedLicenses', 'assignedPlans', 'businessPhones', 'city', 'companyName',
  'country', 'createdDateTime', 'creationType', 'department', 'displayName', 'employeeHireDate', 'employeeId',
  'employeeLeaveDateTime', 'employeeType', 'externalUserState', 'externalUserStateChangeDateTime', 'givenName',
  'identities', 'imAddresses', 'jobTitle', 'lastPasswordChangeDateTime', 'mail', 'mailNickname', 'mobilePhone',
  'officeLocation', 'onPremisesImmutableId', 'onPremisesLastSyncDateTime', 'onPremisesSyncEnabled', 'otherMails',
  'passwordPolicies', 'postalCode', 'preferredLanguage', 'proxyAddresses', 'signInActivity', 'state',
  'streetAddress', 'surname', 'usageLocation', 'userPrincipalName', 'userType',
];

/** The default property set of `GET /users` (user-list.md example 1); signInActivity is never in it. */
const USER_DEFAULT_PROPERTIES = ['businessPhones', 'displayName', 'givenName', 'jobTitle', 'mail', 'mobilePhone', 'officeLocation', 'preferredLanguage', 'surname', 'userPrincipalName', 'id'];

function listUsers(ctx: RouteContext, req: SimRequest, query: readonly QueryParam[]): SimResponse {
  const select = param(query, 'select');
  let fields: string[] | undefined;
  let echo: string[] = [];
  if (select !== undefined && select.trim() !== '') {
    const known = new Map<string, string>(USER_PROPERTIES.map((p) => [p.toLowerCase(), p]));
    for (const u of ctx.tenant.users) for (const k of Object.keys(u)) if (!known.has(k.toLowerCase())) known.set(k.toLowerCase(), k);
    fields = [];
    for (const raw of select.split(',')) {
      const name = raw.trim();
      if (!name) continue;
      const canonical = known.get(name.toLowerCase());
      if (!canonical) return graphError(req, 400, 'Request_BadRequest', `Could not find a property named '${name}' on type 'microsoft.graph.user'.`);
      echo.push(name);
      if (!fields.includes(canonical)) fields.push(canonical);
    }
  }
  const filterText = param(query, 'filter');
  const refusal = filterText ? usersFilterRefusal(filterText) : undefined;
  if (refusal) return graphError(req, 400, 'Request_UnsupportedQuery', refusal);
  const spec = specFor(ctx, 'users');
  if (usesSignInActivity(query)) {
    if (ctx.options.licence === 'free') return nonPremium(req);
    const paging = ctx.options.signInActivityPaging ?? {};
    const max = paging.maxSize ?? SIGN_IN_ACTIVITY_MAX_PAGE;
    const top = param(query, 'top');
    // A Microsoft engineer (msgraph-sdk-powershell issue 1898): an oversize $top with
    // signInActivity is refused rather than capped. The code is not documented; 400 is.
    if ((paging.oversize ?? 'refuse') === 'refuse' && top !== undefined && /^\s*\d+\s*$/.test(top) && Number(top) > max) {
      return graphError(req, 400, 'Request_UnsupportedQuery', `Cannot query data for more than ${max} users at a time.`);
    }
    spec.maxSize = Math.min(spec.maxSize, max);
  }
  const chosen = fields;
  const shape = (u: JsonObject): JsonObject => {
    const out: JsonObject = {};
    if (!chosen) {
      for (const p of USER_DEFAULT_PROPERTIES) out[p] = u[p] ?? (p === 'businessPhones' ? [] : null);
      return out;
    }
    // id comes back even when not selected (user-list.md example 11).
    if (!chosen.includes('id')) out.id = u.id ?? null;
    for (const f of chosen) out[f] = u[f] ?? null;
    return out;
  };
  const countParam = param(query, 'count');
  return list(ctx, req, query, byId(ctx.tenant.users), {
    endpoint: 'users',
    linkPath: '/v1.0/users',
    context: fields ? `users(${echo.join(',')})` : 'users',
    spec,
    shape,
    count: countParam?.toLowerCase() === 'true',
  });
}

/**
 * The 403 of a tenant without Entra ID P1 on signInActivity, the registration report and sign-ins
 * (microsoft-graph-docs issues 12772 "signInActivity property requires Azure AD Premium License"
 * and 7276; "Neither tenant is B2C or tenant doesn't have premium license" in the reporting API
 * prerequisites' "Common errors").
 */
function nonPremium(req: SimRequest): SimResponse {
  return graphError(req, 403, 'Authentication_RequestFromNonPremiumTenantOrB2CTenant', "Neither tenant is B2C or tenant doesn't have premium license");
}

// ---------------------------------------------------------------------------------------------
// Roles

/**
 * The expanded principal, trimmed like the docs' example: `@odata.type`, id, accountEnabled,
 * displayName, imAddresses, mail, mailNickname, userType; unset values are left out (the example's
 * guests have no mail). mailNickname, when the tenant data lacks it, is the UPN's local part,
 * which is what Entra derives it from.
 */
function principalOf(user: JsonObject): JsonObject {
  const out: JsonObject = { '@odata.type': '#microsoft.graph.user', id: user.id ?? null };
  const put = (k: string, v: Json | undefined): void => {
    if (v !== undefined && v !== null) out[k] = v;
  };
  put('accountEnabled', user.accountEnabled);
  put('displayName', user.displayName);
  out.imAddresses = user.imAddresses ?? [];
  put('mail', user.mail);
  const upn = typeof user.userPrincipalName === 'string' ? user.userPrincipalName : undefined;
  put('mailNickname', user.mailNickname ?? (upn ? upn.split('@')[0] : undefined));
  put('userType', user.userType);
  return out;
}

/** A group of the tenant data by id (case-insensitive). */
function findGroup(tenant: TenantData, id: string): JsonObject | undefined {
  const key = id.toLowerCase();
  return (tenant.groups ?? []).find((g) => typeof g.id === 'string' && g.id.toLowerCase() === key);
}

/**
 * An expanded group principal: `@odata.type` `#microsoft.graph.group` and the group's properties
 * as the tenant data holds them (v1.0 metadata, EntityType `group`: displayName, groupTypes,
 * isAssignableToRole, mail, mailEnabled, mailNickname, securityEnabled, …).
 */
function groupPrincipalOf(group: JsonObject): JsonObject {
  return { '@odata.type': '#microsoft.graph.group', ...group };
}

/** The expanded principal of a role assignment or schedule: a user or a group; undefined for others. */
function expandPrincipal(ctx: RouteContext, principalId: string): JsonObject | undefined {
  const user = findUser(ctx.tenant, principalId);
  if (user) return principalOf(user);
  const group = findGroup(ctx.tenant, principalId);
  return group ? groupPrincipalOf(group) : undefined;
}

function listRoleEligibility(ctx: RouteContext, req: SimRequest, query: readonly QueryParam[]): SimResponse {
  const expand = param(query, 'expand')?.trim();
  const asked = expand !== undefined && expand !== '';
  const mode = ctx.options.eligibilityExpand ?? 'served';
  if (asked && (mode === 'rejected' || expand.toLowerCase() !== 'principal')) {
    return graphError(req, 400, 'BadRequest', `Could not find a property named '${expand}' on type 'microsoft.graph.unifiedRoleEligibilitySchedule'.`);
  }
  return listWithPrincipals(ctx, req, query, 'roleEligibilitySchedules', ctx.tenant.roleEligibilitySchedules, asked && mode === 'served');
}

// ---------------------------------------------------------------------------------------------
// Groups

/** Every user and group below `groupId` (nested groups followed, cycles cut), in discovery order. */
function transitiveMembers(tenant: TenantData, groupId: string): { users: JsonObject[]; groups: JsonObject[] } {
  const members = tenant.groupMembers ?? {};
  const seen = new Set<string>([groupId.toLowerCase()]);
  const users: JsonObject[] = [];
  const groups: JsonObject[] = [];
  const queue = [groupId];
  while (queue.length) {
    const gid = queue.shift() ?? '';
    const direct = Object.entries(members).find(([k]) => k.toLowerCase() === gid.toLowerCase())?.[1] ?? [];
    for (const id of direct) {
      if (seen.has(id.toLowerCase())) continue;
      seen.add(id.toLowerCase());
      const user = findUser(tenant, id);
      if (user) {
        users.push(user);
        continue;
      }
      const group = findGroup(tenant, id);
      if (group) {
        groups.push(group);
        queue.push(id);
      }
    }
  }
  return { users, groups };
}

/** OData casts the member list supports; anything else is 400 Request_UnsupportedQuery (newer revision). */
const MEMBER_CASTS: Record<string, string> = {
  'microsoft.graph.user': 'user',
  'microsoft.graph.group': 'group',
  'microsoft.graph.device': 'device',
  'microsoft.graph.orgcontact': 'orgContact',
  'microsoft.graph.serviceprincipal': 'servicePrincipal',
};

/**
 * `GET /groups/{id}/transitiveMembers[/microsoft.graph.user]` ("List group transitive members",
 * v1.0): a flat list of all nested members. With the user cast the items are users (`$select`
 * applies, `@odata.context` `users(…)` as example 4 shows); without it they are directoryObjects
 * carrying `@odata.type`. Under `castNeedsAdvancedQuery` (the older revision) a cast without
 * `ConsistencyLevel: eventual` and `$count=true` is refused.
 */
function listGroupMembers(ctx: RouteContext, req: SimRequest, query: readonly QueryParam[], groupId: string, cast: string | undefined): SimResponse {
  const group = findGroup(ctx.tenant, groupId);
  if (!group) {
    return graphError(req, 404, 'Request_ResourceNotFound', `Resource '${groupId}' does not exist or one of its queried reference-property objects are not present.`);
  }
  const type = cast === undefined ? undefined : MEMBER_CASTS[cast.toLowerCase()];
  if (cast !== undefined && type === undefined) return graphError(req, 400, 'Request_UnsupportedQuery', `The OData cast '${cast}' is not a supported member type.`);
  const count = param(query, 'count')?.toLowerCase() === 'true';
  if (cast !== undefined && ctx.options.castNeedsAdvancedQuery && (req.headers.consistencylevel?.toLowerCase() !== 'eventual' || !count)) {
    return graphError(req, 400, 'Request_UnsupportedQuery', "OData cast requires the 'ConsistencyLevel: eventual' header and '$count=true'.");
  }
  const { users, groups } = transitiveMembers(ctx.tenant, idOf(group));
  const items = type === undefined ? [...users, ...groups] : type === 'user' ? users : type === 'group' ? groups : [];
  const select = param(query, 'select');
  const fields = select?.split(',').map((f) => f.trim()).filter((f) => f !== '');
  const isUser = (o: JsonObject): boolean => users.includes(o);
  const shape = (o: JsonObject): JsonObject => {
    const out: JsonObject = type === undefined ? { '@odata.type': isUser(o) ? '#microsoft.graph.user' : '#microsoft.graph.group' } : {};
    if (!fields?.length) {
      const keep = isUser(o) ? USER_DEFAULT_PROPERTIES : Object.keys(o);
      // Collections are never null in OData (an unset one is []), as /users serves businessPhones.
      for (const k of keep) out[k] = o[k] ?? (k === 'businessPhones' ? [] : null);
      return out;
    }
    if (!fields.includes('id')) out.id = o.id ?? null;
    for (const f of fields) out[f] = o[f] ?? null;
    return out;
  };
  const context = type === undefined ? 'directoryObjects' : fields?.length ? `${type}s(${fields.join(',')})` : `${type}s`;
  return list(ctx, req, query, byId(items), {
    endpoint: 'groupTransitiveMembers',
    linkPath: `/v1.0/groups/${encodePathSegment(idOf(group))}/transitiveMembers${cast === undefined ? '' : `/${cast}`}`,
    context,
    resourceKey: `${idOf(group)}|${cast ?? ''}`,
    spec: specFor(ctx, 'groupTransitiveMembers'),
    shape,
    count,
  });
}

function getGroup(ctx: RouteContext, req: SimRequest, query: readonly QueryParam[], groupId: string): SimResponse {
  const group = findGroup(ctx.tenant, groupId);
  if (!group) {
    return graphError(req, 404, 'Request_ResourceNotFound', `Resource '${groupId}' does not exist or one of its queried reference-property objects are not present.`);
  }
  const fields = param(query, 'select')?.split(',').map((f) => f.trim()).filter((f) => f !== '');
  const out: JsonObject = {};
  if (fields?.length) {
    out.id = group.id ?? null;
    for (const f of fields) out[f] = group[f] ?? null;
  } else Object.assign(out, group);
  return jsonOk({ '@odata.context': `${ctx.origin}/v1.0/$metadata#groups/$entity`, ...out });
}

function listRoleAssignments(ctx: RouteContext, req: SimRequest, query: readonly QueryParam[]): SimResponse {
  const expand = param(query, 'expand')?.trim();
  const withPrincipal = expand !== undefined && expand !== '';
  if (withPrincipal && expand.toLowerCase() !== 'principal') {
    return graphError(req, 400, 'Request_BadRequest', `Could not find a property named '${expand}' on type 'microsoft.graph.unifiedRoleAssignment'.`);
  }
  return listWithPrincipals(ctx, req, query, 'roleAssignments', ctx.tenant.roleAssignments, withPrincipal);
}

/**
 * The tenant's active assignment instances: as the tenant data gives them, else one per role
 * assignment, permanent and `Assigned` (the docs' example: `startDateTime` and `endDateTime` null,
 * `memberType` `Direct`, `roleAssignmentOriginId` and `roleAssignmentScheduleId` the assignment id).
 */
export function roleAssignmentInstancesOf(tenant: TenantData): JsonObject[] {
  return tenant.roleAssignmentScheduleInstances ?? tenant.roleAssignments.map((a): JsonObject => ({
    id: a.id ?? null,
    principalId: a.principalId ?? null,
    roleDefinitionId: a.roleDefinitionId ?? null,
    directoryScopeId: a.directoryScopeId ?? '/',
    appScopeId: null,
    startDateTime: null,
    endDateTime: null,
    assignmentType: 'Assigned',
    memberType: 'Direct',
    roleAssignmentOriginId: a.id ?? null,
    roleAssignmentScheduleId: a.id ?? null,
  }));
}

/**
 * "List roleAssignmentScheduleInstances" (v1.0): `$select`, `$filter` and `$expand` supported;
 * `principal` is a navigation property of unifiedRoleScheduleInstanceBase (metadata), expanded as
 * on the other role lists. Another expansion is refused (400) as Graph refuses unknown properties.
 */
function listRoleAssignmentInstances(ctx: RouteContext, req: SimRequest, query: readonly QueryParam[]): SimResponse {
  const expand = param(query, 'expand')?.trim();
  const withPrincipal = expand !== undefined && expand !== '';
  if (withPrincipal && expand.toLowerCase() !== 'principal') {
    return graphError(req, 400, 'BadRequest', `Could not find a property named '${expand}' on type 'microsoft.graph.unifiedRoleAssignmentScheduleInstance'.`);
  }
  return listWithPrincipals(ctx, req, query, 'roleAssignmentScheduleInstances', roleAssignmentInstancesOf(ctx.tenant), withPrincipal);
}

/**
 * A role assignment or eligibility list, with `principal` expanded when asked. A principal that
 * is neither a user nor a group of the tenant data (a service principal, a deleted user) is left
 * unexpanded: we have nothing to embed, and Graph drops what it cannot resolve.
 */
function listWithPrincipals(
  ctx: RouteContext,
  req: SimRequest,
  query: readonly QueryParam[],
  endpoint: 'roleAssignments' | 'roleEligibilitySchedules' | 'roleAssignmentScheduleInstances',
  items: readonly JsonObject[],
  withPrincipal: boolean,
): SimResponse {
  const shape = (a: JsonObject): JsonObject => {
    if (!withPrincipal) return a;
    const principal = expandPrincipal(ctx, typeof a.principalId === 'string' ? a.principalId : '');
    return principal ? { ...a, principal } : { ...a };
  };
  const path = `roleManagement/directory/${endpoint}`;
  return list(ctx, req, query, byId(items), {
    endpoint,
    linkPath: `/v1.0/${path}`,
    context: withPrincipal ? `${path}(principal())` : path,
    spec: specFor(ctx, endpoint),
    shape,
  });
}

// ---------------------------------------------------------------------------------------------
// Sign-ins

/**
 * The sign-ins already in the log at the simulator's clock: a late-arriving one
 * (`TenantData.signInAvailableAt`) is not served before its time, whatever its createdDateTime
 * ("Microsoft Entra monitoring and health FAQ": up to two hours to fully aggregate).
 */
function availableSignIns(ctx: RouteContext): readonly JsonObject[] {
  if (!ctx.tenant.signInAvailableAt) return ctx.tenant.signIns;
  const now = (ctx.options.clock ?? (() => new Date()))();
  return ctx.tenant.signIns.filter((s) => signInAvailable(ctx.tenant, s, now));
}

/** Newest first; equal timestamps by id, so pages are stable. */
function newestFirst(items: readonly JsonObject[]): JsonObject[] {
  const at = (o: JsonObject): number => {
    const ms = typeof o.createdDateTime === 'string' ? Date.parse(o.createdDateTime) : NaN;
    return Number.isNaN(ms) ? -Infinity : ms;
  };
  return [...items].sort((a, b) => {
    const d = at(b) - at(a);
    if (d !== 0 && !Number.isNaN(d)) return d;
    // Same millisecond: the 7-digit fraction as text, then id.
    const ta = String(a.createdDateTime ?? '');
    const tb = String(b.createdDateTime ?? '');
    if (ta !== tb) return ta < tb ? 1 : -1;
    return idOf(a) < idOf(b) ? -1 : idOf(a) > idOf(b) ? 1 : 0;
  });
}

// ---------------------------------------------------------------------------------------------
// Mail

function mailboxError(req: SimRequest, ctx: RouteContext, userId: string): { user: JsonObject; rules: JsonObject[] } | SimResponse {
  const user = findUser(ctx.tenant, userId);
  if (!user) return graphError(req, 404, 'ErrorInvalidUser', `The requested user '${userId}' is invalid.`);
  const rules = ctx.tenant.messageRules[idOf(user)];
  if (!rules) return graphError(req, 404, 'MailboxNotEnabledForRESTAPI', 'The mailbox is either inactive, soft-deleted, or is hosted on-premise.');
  return { user, rules };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// ---------------------------------------------------------------------------------------------
// Dispatch

/** Runs the handler of a matched route (method, auth, faults and throttling already checked). */
export function handleRoute(ctx: RouteContext, req: SimRequest, match: RouteMatch, query: readonly QueryParam[]): SimResponse {
  const t = ctx.tenant;
  const p = match.params;
  switch (match.endpoint) {
    case 'domains':
      // The docs' example has no @odata.context.
      return list(ctx, req, query, byId(t.domains), { endpoint: 'domains', linkPath: '/v1.0/domains', spec: specFor(ctx, 'domains') });
    case 'users':
      return listUsers(ctx, req, query);
    case 'userRegistrationDetails':
      if (ctx.options.licence === 'free') return nonPremium(req);
      return list(ctx, req, query, byId(t.userRegistrationDetails), {
        endpoint: 'userRegistrationDetails',
        linkPath: '/v1.0/reports/authenticationMethods/userRegistrationDetails',
        context: 'reports/authenticationMethods/userRegistrationDetails',
        spec: specFor(ctx, 'userRegistrationDetails'),
        filterable: USER_REGISTRATION_FILTERABLE,
      });
    case 'userRegistrationDetail': {
      // "Get userRegistrationDetails" (v1.0): `GET …/userRegistrationDetails/{userId}`, no query
      // parameters. The report leaves out disabled users ("This method doesn't work for disabled
      // users", List userRegistrationDetails), so they, like unknown ids, answer 404.
      if (ctx.options.licence === 'free') return nonPremium(req);
      const id = (p.userId ?? '').toLowerCase();
      const record = t.userRegistrationDetails.find((r) => idOf(r).toLowerCase() === id);
      if (!record) return graphError(req, 404, 'Request_ResourceNotFound', `Resource '${p.userId ?? ''}' does not exist or one of its queried reference-property objects are not present.`);
      return jsonOk({ '@odata.context': `${ctx.origin}/v1.0/$metadata#reports/authenticationMethods/userRegistrationDetails/$entity`, ...record });
    }
    case 'roleAssignments':
      return listRoleAssignments(ctx, req, query);
    case 'roleEligibilitySchedules':
      return listRoleEligibility(ctx, req, query);
    case 'roleAssignmentScheduleInstances':
      return listRoleAssignmentInstances(ctx, req, query);
    case 'group':
      return getGroup(ctx, req, query, p.groupId ?? '');
    case 'groupTransitiveMembers':
      return listGroupMembers(ctx, req, query, p.groupId ?? '', p.cast);
    case 'securityDefaults':
      // A singleton: the object itself, no `value` wrapper.
      return jsonOk({ '@odata.context': `${ctx.origin}/v1.0/$metadata#policies/identitySecurityDefaultsEnforcementPolicy`, ...t.securityDefaults });
    case 'authorizationPolicy':
      // "Get authorizationPolicy" (v1.0): the single object, context `policies/authorizationPolicy/$entity`.
      // `wrapAuthorizationPolicy` serves it as older doc revisions show it (a `value` of one).
    {
      const policy = t.authorizationPolicy ?? DEFAULT_AUTHORIZATION_POLICY;
      if (ctx.options.wrapAuthorizationPolicy) return jsonOk({ '@odata.context': `${ctx.origin}/v1.0/$metadata#policies/authorizationPolicy`, value: [policy] });
      return jsonOk({ '@odata.context': `${ctx.origin}/v1.0/$metadata#policies/authorizationPolicy/$entity`, ...policy });
    }
    case 'servicePrincipals':
      return listSelected(ctx, req, query, byId(t.servicePrincipals ?? []), 'servicePrincipal', {
        endpoint: 'servicePrincipals', linkPath: '/v1.0/servicePrincipals', context: 'servicePrincipals', spec: specFor(ctx, 'servicePrincipals'),
      });
    case 'servicePrincipalAppRoleAssignments': {
      const spId = p.spId ?? '';
      const sp = (t.servicePrincipals ?? []).find((s) => idOf(s).toLowerCase() === spId.toLowerCase());
      if (!sp) return graphError(req, 404, 'Request_ResourceNotFound', `Resource '${spId}' does not exist or one of its queried reference-property objects are not present.`);
      const mine = (t.appRoleAssignments ?? []).filter((a) => String(a.principalId ?? '').toLowerCase() === idOf(sp).toLowerCase());
      return listSelected(ctx, req, query, byId(mine), 'appRoleAssignment', {
        endpoint: 'servicePrincipalAppRoleAssignments',
        linkPath: `/v1.0/servicePrincipals/${encodePathSegment(idOf(sp))}/appRoleAssignments`,
        context: `servicePrincipals('${idOf(sp)}')/appRoleAssignments`,
        resourceKey: idOf(sp),
        spec: specFor(ctx, 'servicePrincipalAppRoleAssignments'),
      });
    }
    case 'oauth2PermissionGrants':
      return listSelected(ctx, req, query, byId(t.oauth2PermissionGrants ?? []), 'oAuth2PermissionGrant', {
        endpoint: 'oauth2PermissionGrants', linkPath: '/v1.0/oauth2PermissionGrants', context: 'oauth2PermissionGrants', spec: specFor(ctx, 'oauth2PermissionGrants'),
      });
    case 'conditionalAccess':
      // The docs' context drops the `identity/` segment of the request path.
      return list(ctx, req, query, byId(t.conditionalAccessPolicies), {
        endpoint: 'conditionalAccess',
        linkPath: '/v1.0/identity/conditionalAccess/policies',
        context: 'conditionalAccess/policies',
        spec: specFor(ctx, 'conditionalAccess'),
      });
    case 'messageRules': {
      const userId = p.userId ?? '';
      const mb = mailboxError(req, ctx, userId);
      if ('status' in mb) return mb;
      // Rules stay in their `sequence` order, as Exchange evaluates them.
      return list(ctx, req, query, mb.rules, {
        endpoint: 'messageRules',
        linkPath: `/v1.0/users/${encodePathSegment(userId)}/mailFolders/inbox/messageRules`,
        context: `users('${userId}')/mailFolders('inbox')/messageRules`,
        resourceKey: idOf(mb.user),
        spec: specFor(ctx, 'messageRules'),
      });
    }
    case 'sendMail': {
      const userId = p.userId ?? '';
      const mb = mailboxError(req, ctx, userId);
      if ('status' in mb) return mb;
      const body = req.body;
      if (!isObject(body) || !isObject(body.message)) {
        return graphError(req, 400, 'ErrorInvalidRequest', "The request body must contain a 'message' object.");
      }
      ctx.recordMail(userId, body.message);
      // 202 Accepted with no body (user-sendmail.md): accepted, not delivered.
      return { status: 202, headers: { 'Cache-Control': 'no-cache' } };
    }
    case 'signIns':
      if (ctx.options.licence === 'free') return nonPremium(req);
      if (t.lazySignIns) {
        return lazySignInsResponse({ req, query, eager: newestFirst(availableSignIns(ctx)), lazy: t.lazySignIns, sealer: ctx.sealer, origin: ctx.origin, spec: specFor(ctx, 'signIns') });
      }
      return list(ctx, req, query, newestFirst(availableSignIns(ctx)), {
        endpoint: 'signIns',
        // Lower-case `signins`, as in the docs' example 2 nextLink.
        linkPath: '/v1.0/auditLogs/signins',
        context: 'auditLogs/signIns',
        spec: specFor(ctx, 'signIns'),
      });
    case 'sites':
      // No @odata.context, nextLink after value and under `oneDrive.getAllSites` (docs example).
      return list(ctx, req, query, sitesById(t), {
        endpoint: 'sites',
        linkPath: '/v1.0/sites/oneDrive.getAllSites',
        linksAfterValue: true,
        spec: specFor(ctx, 'sites'),
      });
    case 'drives': {
      const siteId = p.siteId ?? '';
      const site = findSite(t, siteId);
      if (!site) return graphError(req, 404, 'itemNotFound', 'Requested site could not be found');
      return list(ctx, req, query, byId(site.drives.map((d) => d.drive)), {
        endpoint: 'drives',
        linkPath: `/v1.0/sites/${encodePathSegment(siteId)}/drives`,
        context: 'drives',
        resourceKey: siteId.toLowerCase(),
        spec: specFor(ctx, 'drives'),
      });
    }
    case 'delta': {
      const driveId = p.driveId ?? '';
      const drive = findDrive(t, driveId);
      if (!drive) return graphError(req, 404, 'itemNotFound', 'The resource could not be found.');
      return deltaResponse({
        req,
        driveId,
        drive,
        token: p.token ?? param(query, 'token'),
        query,
        log: ctx.deltaLog,
        sealer: ctx.sealer,
        origin: ctx.origin,
        spec: specFor(ctx, 'delta'),
        appRoles: req.appRoles ?? [],
        omitShared: new Set(ctx.options.omitSharedFacet ?? []),
        ...(ctx.options.deltaExcludeParent ? { excludeParent: ctx.options.deltaExcludeParent } : {}),
      });
    }
    case 'permissions': {
      const driveId = p.driveId ?? '';
      const itemId = p.itemId ?? '';
      const drive = findDrive(t, driveId);
      if (!drive || !drive.items.some((i) => idOf(i) === itemId)) return graphError(req, 404, 'itemNotFound', 'The resource could not be found.');
      // The docs' list example has no @odata.context. Ancestors' entries are listed too.
      return list(ctx, req, query, effectivePermissions(drive, itemId), {
        endpoint: 'permissions',
        linkPath: `/v1.0/drives/${encodePathSegment(driveId)}/items/${encodePathSegment(itemId)}/permissions`,
        linksAfterValue: true,
        resourceKey: `${driveId}/${itemId}`,
        spec: specFor(ctx, 'permissions'),
      });
    }
    case 'sharepointSettings':
      if (ctx.options.wrapSharepointSettings) return jsonOk({ value: t.sharepointSettings });
      // Bare singleton; the context is what Graph puts on singleton entities (docs silent).
      return jsonOk({ '@odata.context': `${ctx.origin}/v1.0/$metadata#admin/sharepoint/settings/$entity`, ...t.sharepointSettings });
    case 'plannerTasks':
    case 'plannerTask':
    case 'plannerTaskDetails':
      return ctx.planner.handle(req, match.endpoint, p);
    case 'plannerBuckets': {
      const planId = p.planId ?? '';
      const buckets = ctx.planner.bucketsOf(planId);
      if (!buckets) return graphError(req, 404, 'itemNotFound', 'The requested item is not found.');
      // The docs' example: no @odata.context, buckets in the plan's order (not by id).
      return list(ctx, req, query, buckets, {
        endpoint: 'plannerBuckets',
        linkPath: `/v1.0/planner/plans/${encodePathSegment(planId)}/buckets`,
        resourceKey: planId,
        spec: specFor(ctx, 'plannerBuckets'),
      });
    }
    case 'plannerPlanTasks': {
      // "List tasks" (plannerplan-list-tasks): 200 with a collection of plannerTask, no
      // @odata.context in the docs' example; 404 for an unknown plan. Each task carries its
      // @odata.etag as a GET of it would. Server-driven pages; $top is not honoured (see PAGE_SPECS).
      const planId = p.planId ?? '';
      const tasks = ctx.planner.tasksOf(planId);
      if (!tasks) return graphError(req, 404, 'itemNotFound', 'The requested item is not found.');
      return list(ctx, req, query.filter((q) => q.name !== 'top'), tasks, {
        endpoint: 'plannerPlanTasks',
        linkPath: `/v1.0/planner/plans/${encodePathSegment(planId)}/tasks`,
        resourceKey: planId,
        spec: specFor(ctx, 'plannerPlanTasks'),
      });
    }
    case 'batch':
      // The server runs $batch itself; reaching here is a wiring bug.
      return graphError(req, 500, 'generalException', 'Batch requests are handled by the server.');
  }
}
