/**
 * Request budgets per Graph service family, so a scan paces itself under Graph's documented
 * limits instead of provoking 429 storms (and, for Conditional Access, 429s that carry no
 * Retry-After at all).
 *
 * Each family is a sliding window: at most `limit` units started in any `perSeconds` span. A
 * request costs one unit unless {@link costOf} says otherwise: SharePoint counts resource units
 * per request ("Avoid getting throttled or blocked in SharePoint Online"), so its family's budget
 * is in resource units and a permission read spends five of them.
 */

/**
 * Graph service families with limits that matter to the collectors (graph.md). `directory` is
 * Entra ID's resource-unit family; `global` is everything that has no family of its own (role
 * management, Planner, the `$batch` envelope), paced only under Graph's global limit.
 */
export type Family = 'identityReports' | 'signInActivity' | 'conditionalAccess' | 'outlook' | 'directory' | 'sharepoint' | 'global';

export interface Budget {
  limit: number;
  perSeconds: number;
}

/**
 * Graph's documented limits ("Microsoft Graph service-specific throttling limits"). Where the
 * size of the tenant decides (directory, SharePoint), the smallest band: the stricter reading,
 * until the tenant's size is known ({@link directoryBudget}, {@link sharepointBudget}).
 */
export const GRAPH_BUDGETS: Readonly<Record<Family, Budget>> = {
  identityReports: { limit: 5, perSeconds: 10 },
  signInActivity: { limit: 10, perSeconds: 60 },
  conditionalAccess: { limit: 1, perSeconds: 1 },
  // Outlook's 10,000 per 10 minutes applies per app *per mailbox*; a scan sends one request per
  // mailbox, so the rate to pace under here is Graph's global one (its 4-at-once concurrency
  // is the pacer's: src/graph/pacing.ts).
  outlook: { limit: 2_000, perSeconds: 1 },
  // Entra ID resource units per app per tenant per 10 s, band S (under 50 users): "Identity and
  // access service limits" (includes/throttling-identity-and-access.md).
  directory: { limit: 3_500, perSeconds: 10 },
  // Resource units a minute of the smallest tenants; the files collector sizes it to the tenant
  // (sharepointBudget) before its first request.
  sharepoint: { limit: 1_200, perSeconds: 60 },
  // Graph's global limit per app: 2,000 requests a second in the older revision of the doc,
  // 130,000 per 10 s in the current one; the stricter.
  global: { limit: 2_000, perSeconds: 1 },
};

/**
 * Entra ID's resource units per app per tenant per 10 s by the tenant's size ("Identity and
 * access service limits"): S under 50 users 3,500, M between 50 and 500 users 5,000, L above 500
 * users 8,000.
 */
export const DIRECTORY_RU_BANDS: ReadonlyArray<{ maxUsers: number; ruPer10s: number }> = [
  { maxUsers: 49, ruPer10s: 3_500 },
  { maxUsers: 500, ruPer10s: 5_000 },
  { maxUsers: Number.POSITIVE_INFINITY, ruPer10s: 8_000 },
];

/** The directory RU budget of a tenant with `users` users (unknown: band S, the strictest). */
export function directoryBudget(users: number | undefined): Budget {
  const n = users !== undefined && Number.isFinite(users) && users >= 0 ? users : 0;
  const band = DIRECTORY_RU_BANDS.find((b) => n <= b.maxUsers) ?? DIRECTORY_RU_BANDS[0];
  return { limit: band?.ruPer10s ?? 3_500, perSeconds: 10 };
}

/**
 * SharePoint's resource units per app per tenant per minute, by licence count ("Avoid getting
 * throttled or blocked in SharePoint Online", application throttling table): 0–1k, 1k–5k,
 * 5k–15k, 15k–50k, 50k+.
 */
export const SHAREPOINT_RU_BANDS: ReadonlyArray<{ belowLicences: number; ruPerMinute: number }> = [
  { belowLicences: 1_000, ruPerMinute: 1_200 },
  { belowLicences: 5_000, ruPerMinute: 2_400 },
  { belowLicences: 15_000, ruPerMinute: 3_600 },
  { belowLicences: 50_000, ruPerMinute: 4_800 },
  { belowLicences: Number.POSITIVE_INFINITY, ruPerMinute: 6_000 },
];

/** The SharePoint RU budget of a tenant with `licences` licences (unknown: the lowest band). */
export function sharepointBudget(licences: number | undefined): Budget {
  const n = licences !== undefined && Number.isFinite(licences) && licences >= 0 ? licences : 0;
  const band = SHAREPOINT_RU_BANDS.find((b) => n < b.belowLicences) ?? SHAREPOINT_RU_BANDS[0];
  return { limit: band?.ruPerMinute ?? 1_200, perSeconds: 60 };
}

/**
 * What one request costs against its family's budget. SharePoint resource units ("Avoid getting
 * throttled or blocked in SharePoint Online", resource units table): 5 for any permission
 * operation, 2 for a multi-item query or a delta without a token, 1 for a delta with a token or
 * a single item. Directory resource units: {@link directoryCost}. Every other family counts
 * requests (1). Items of a `$batch` are costed one by one (the envelope itself is not a
 * SharePoint or directory request).
 */
export function costOf(path: string, method = 'GET'): number {
  const p = path.toLowerCase();
  const family = familyOf(p);
  if (family === 'directory') return directoryCost(p, method);
  if (family !== 'sharepoint') return 1;
  const bare = p.split('?')[0] ?? p;
  if (/\/permissions(\/|$)/.test(bare) || p.includes('expand=permissions')) return 5;
  if (/\/delta(\(|$)/.test(bare)) return /[?&(]token=|delta\(token/.test(p) ? 1 : 2;
  if (/\/(drives|getallsites|children|items)$/.test(bare) || bare.endsWith('.getallsites')) return 2;
  return 1;
}

/** A path relative to the version root, lower-cased, without origin, version or leading slash. */
function bareOf(path: string): { bare: string; query: string } {
  const p = path.toLowerCase().replace(/^https:\/\/[^/]+\/(v1\.0|beta)/, '').replace(/^\/+/, '');
  const q = p.indexOf('?');
  return { bare: q < 0 ? p : p.slice(0, q), query: q < 0 ? '' : p.slice(q + 1) };
}

/**
 * Base resource-unit costs of the directory ("Identity and access service limits", base request
 * costs; any request not listed costs 1). `me/…` costs apply to `users/{id}/…` as well.
 */
const DIRECTORY_BASE_COSTS: ReadonlyArray<[method: string, path: RegExp, cost: number]> = [
  ['GET', /^applications$/, 2],
  ['GET', /^applications\/[^/]+\/extensionproperties$/, 2],
  ['GET', /^contracts$/, 3],
  ['POST', /^directoryobjects\/getbyids$/, 5],
  ['GET', /^domains\/[^/]+\/domainnamereferences$/, 4],
  ['POST', /^getobjectsbyid$/, 5],
  ['GET', /^groups\/[^/]+\/members(\/|$)/, 3],
  ['GET', /^groups\/[^/]+\/transitivemembers(\/|$)/, 5],
  ['POST', /ismemberof$/, 4],
  ['POST', /^(me|users\/[^/]+)\/checkmember(groups|objects)$/, 4],
  ['POST', /^(me|users\/[^/]+)\/getmember(groups|objects)$/, 2],
  ['GET', /^(me|users\/[^/]+)\/(licensedetails|memberof|ownedobjects|transitivememberof)(\/|$)/, 2],
  ['GET', /^oauth2permissiongrants(\/[^/]+)?$/, 2],
  ['GET', /^serviceprincipals\/[^/]+\/approleassignments$/, 2],
  ['GET', /^subscribedskus$/, 3],
  ['GET', /^users$/, 2],
];

/**
 * The resource units one directory request costs: its base cost, 1 less with `$select`, 1 more
 * with `$expand`, 1 less with a `$top` below 20, never below 1 ("Identity and access service
 * limits", "Other factors that affect a request cost").
 */
export function directoryCost(path: string, method = 'GET'): number {
  const { bare, query } = bareOf(path);
  const m = method.toUpperCase();
  let cost = DIRECTORY_BASE_COSTS.find(([verb, re]) => verb === m && re.test(bare))?.[2] ?? 1;
  // getByIds / getObjectsById with $select: 2 ("Using $select for directoryObjects/getByIds …").
  if (m === 'POST' && /^(directoryobjects\/getbyids|getobjectsbyid)$/.test(bare)) return /(^|&)(\$|%24)select=/.test(query) ? 2 : cost;
  const has = (name: string): boolean => new RegExp(`(^|&)(\\$|%24)${name}=`).test(query);
  if (has('select')) cost -= 1;
  if (has('expand')) cost += 1;
  const top = /(^|&)(\$|%24)top=(\d+)/.exec(query);
  if (top && Number(top[3]) < 20) cost -= 1;
  return Math.max(1, cost);
}

/**
 * Entra ID (directory) resources per "Identity and access service limits" (the resources it
 * lists: application, contract, device, directoryObject, directoryRole(Template), domain,
 * extensionProperty, group, groupSetting(Template), licenseDetails, oauth2PermissionGrant,
 * organization, orgContact, policyBase, servicePrincipal, subscribedSku, user). Under
 * `/policies`, only the types that derive from policyBase (v1.0 metadata). Not on the list:
 * `/roleManagement` (unifiedRoleAssignment, unifiedRoleEligibilitySchedule), so role reads are
 * paced under the global limit only.
 */
const DIRECTORY_ROOTS = /^(users|me|groups|domains|applications|serviceprincipals|devices|directoryobjects|directoryroles|directoryroletemplates|organization|subscribedskus|contacts|oauth2permissiongrants|groupsettings|groupsettingtemplates|contracts|getobjectsbyid)(\/|\(|$)/;
const DIRECTORY_POLICIES = /^policies\/(activitybasedtimeoutpolicies|appmanagementpolicies|authorizationpolicy|claimsmappingpolicies|crosstenantaccesspolicy|defaultappmanagementpolicy|homerealmdiscoverypolicies|identitysecuritydefaultsenforcementpolicy|permissiongrantpolicies|tokenissuancepolicies|tokenlifetimepolicies)(\/|$)/;

/** The service family a request path belongs to (path relative to the version root, query included). */
export function familyOf(path: string): Family {
  const p = path.toLowerCase();
  if (p.includes('/auditlogs/') || p.startsWith('auditlogs/') || p.includes('reports/')) return 'identityReports';
  if (p.includes('identity/conditionalaccess')) return 'conditionalAccess';
  if (p.includes('/messagerules') || p.includes('/mailfolders') || p.includes('/sendmail')) return 'outlook';
  if (/(^|\/)users(\?|$)/.test(p.split('#')[0] ?? '') && p.includes('signinactivity')) return 'signInActivity';
  if (p.includes('sites/') || p.includes('drives/') || p.includes('admin/sharepoint')) return 'sharepoint';
  const { bare } = bareOf(p);
  if (DIRECTORY_ROOTS.test(bare) || DIRECTORY_POLICIES.test(bare)) return 'directory';
  return 'global';
}

/**
 * Every budget a request draws from, with its cost in each: its family's, plus the directory's
 * resource units for a `signInActivity` page (it is a `GET users` as well).
 */
export function drawsOf(path: string, method = 'GET'): Array<{ family: Family; cost: number }> {
  const family = familyOf(path);
  const draws = [{ family, cost: costOf(path, method) }];
  if (family === 'signInActivity') draws.push({ family: 'directory', cost: directoryCost(path, method) });
  return draws;
}

/** Sliding-window pacing for each family. Time and sleep are injected so tests stay fast. */
export class RequestBudgets {
  private readonly starts = new Map<Family, Array<{ at: number; cost: number }>>();
  /** Serialises waiters per family so that a burst queues instead of all waking at once. */
  private readonly queues = new Map<Family, Promise<void>>();
  /** Throttling answers: no request of the family starts before this time. */
  private readonly notBefore = new Map<Family, number>();
  /** What the service said is left (RateLimit-Remaining) until when (RateLimit-Reset). */
  private readonly allowance = new Map<Family, { remaining: number; untilMs: number }>();
  private readonly budgets: Record<Family, Budget>;

  constructor(
    budgets: Readonly<Record<Family, Budget>>,
    private readonly clock: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {
    this.budgets = { ...budgets };
  }

  /** Replaces a family's budget (e.g. SharePoint's, once the tenant's size is known). */
  setBudget(family: Family, budget: Budget): void {
    this.budgets[family] = budget;
  }

  /** The family's current budget. */
  budgetOf(family: Family): Budget {
    return this.budgets[family];
  }

  /**
   * Waits until one more request of `family` costing `cost` units fits its budget, then records
   * it. A cost above the whole budget is capped to it, so such a request still runs (alone).
   * `headroom`: units of each window this caller leaves unused for others (a scan leaves some of
   * the identity reports' 5 per 10 s to a sign-in watch in another process).
   */
  acquire(family: Family, cost = 1, headroom = 0): Promise<void> {
    const previous = this.queues.get(family) ?? Promise.resolve();
    const next = previous.then(() => this.take(family, cost, headroom));
    this.queues.set(family, next.catch(() => undefined));
    return next;
  }

  /** Records that Graph throttled this family: nothing may start before `untilMs`. */
  penalise(family: Family, untilMs: number): void {
    // A "not before" on top of the window: the window's own history still counts afterwards.
    this.notBefore.set(family, Math.max(this.notBefore.get(family) ?? 0, untilMs));
  }

  /**
   * Records the service's own count (the draft `RateLimit-Remaining` / `RateLimit-Reset` headers
   * SharePoint sends near its limit): until `untilMs` at most `remaining` more units start, and
   * none when it is 0.
   */
  observe(family: Family, remaining: number, untilMs: number): void {
    if (!Number.isFinite(remaining) || !Number.isFinite(untilMs)) return;
    if (remaining <= 0) this.penalise(family, untilMs);
    else this.allowance.set(family, { remaining, untilMs });
  }

  private async take(family: Family, requested: number, headroom: number): Promise<void> {
    for (;;) {
      // Read each round: setBudget may have changed it while this request waited.
      const full = this.budgets[family];
      const budget = { ...full, limit: Math.max(1, full.limit - Math.max(0, headroom)) };
      const window = budget.perSeconds * 1000;
      const cost = Math.max(0, Math.min(requested, budget.limit));
      const now = this.clock();
      const blockedUntil = this.notBefore.get(family) ?? 0;
      if (now < blockedUntil) {
        await this.sleep(blockedUntil - now);
        continue;
      }
      const allowance = this.allowance.get(family);
      if (allowance && now >= allowance.untilMs) this.allowance.delete(family);
      else if (allowance && allowance.remaining < cost) {
        await this.sleep(Math.max(1, allowance.untilMs - now));
        continue;
      }
      const starts = (this.starts.get(family) ?? []).filter((s) => s.at > now - window);
      const used = starts.reduce((n, s) => n + s.cost, 0);
      if (used + cost <= budget.limit) {
        starts.push({ at: now, cost });
        this.starts.set(family, starts);
        if (allowance && now < allowance.untilMs) allowance.remaining -= cost;
        return;
      }
      this.starts.set(family, starts);
      // Wait until enough of the oldest starts leave the window.
      let freed = budget.limit - used;
      let until = now + 1;
      for (const s of starts) {
        freed += s.cost;
        until = s.at + window;
        if (freed >= cost) break;
      }
      await this.sleep(Math.max(1, until - now));
    }
  }
}
