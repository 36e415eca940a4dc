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
 * One budget a request draws from, with its cost. `shared`: a signInActivity page's draw on the
 * identity reports' shared accounting, charged only while the strict reading holds
 * ({@link RequestBudgets}, "The signInActivity reading").
 */
export interface Draw {
  family: Family;
  cost: number;
  shared?: true;
}

/**
 * Every budget a request draws from, with its cost in each: its family's, plus for a
 * `signInActivity` page the directory's resource units (it is a `GET users` as well) and, last,
 * one unit of the identity reports' shared accounting (the strict reading: the page is auditLogs
 * data; see {@link RequestBudgets}). Own families come first, so the shared draw is the one that
 * can find them with room and wait only for itself (the probe's condition).
 */
export function drawsOf(path: string, method = 'GET'): Draw[] {
  const family = familyOf(path);
  const draws: Draw[] = [{ family, cost: costOf(path, method) }];
  if (family === 'signInActivity') {
    draws.push({ family: 'directory', cost: directoryCost(path, method) });
    draws.push({ family: 'identityReports', cost: 1, shared: true });
  }
  return draws;
}

/**
 * Where the signInActivity question stands for one set of budgets: 'strict' (pages charged to the
 * identity reports, no probe yet), 'probing' (one in flight), 'lenient' (a probe was accepted:
 * pages no longer charged), 'strictConfirmed' (a probe was refused: charged for good, no more probes).
 */
export type SignInActivityReading = 'strict' | 'probing' | 'lenient' | 'strictConfirmed';

/** The request sent as the probe of the signInActivity reading: say once what came of it. */
export interface ReadingProbe {
  /** 2xx 'accepted', 429 'throttled', anything else (no answer, 5xx, 403) 'inconclusive'. */
  settle(outcome: 'accepted' | 'throttled' | 'inconclusive'): void;
}

/** Settles a probe (if any) by the HTTP status its request got (0: no answer). */
export function settleProbe(probe: ReadingProbe | undefined, status: number): void {
  probe?.settle(status >= 200 && status < 300 ? 'accepted' : status === 429 ? 'throttled' : 'inconclusive');
}

/**
 * A probe's 2xx proves the lenient reading only if, when it left, the shared accounting read as
 * Graph's token bucket (full at `limit`, refilled at limit / perSeconds) held less than this many
 * units: on the strict reading Graph would have had no whole unit for it, with half a unit (1 s
 * of the reports' refill) to spare for the time a request takes to reach Graph. The simulator and
 * the "Identity and access service limits" ("Throttling is based on a token bucket algorithm")
 * model limits so. A 429 needs no such condition: a probe's own families had room.
 */
export const PROBE_BELOW_UNITS = 0.5;
/**
 * Once the strict reading is confirmed, the shared accounting's window is this much longer (a
 * share of `perSeconds`): two families then run Graph's one bucket at its edge, and a burst let
 * out the moment the window moves on must not reach Graph before its bucket has refilled, though
 * the requests of the window before reached it later than they left (their transit times vary).
 */
export const CONFIRMED_STRICT_MARGIN = 0.05;
/** While a probe is in flight, waiters of the shared accounting look again this often (ms). */
const PROBE_POLL_MS = 250;

interface Start {
  at: number;
  cost: number;
}

interface Taken {
  /** The starts recorded, so that {@link RequestBudgets.acquireDraws} can date them to the send. */
  records: Start[];
  probe?: ReadingProbe;
}

/** How long until `cost` more units fit a window of `windowMs` holding `starts` (0: they fit now). */
function waitFor(starts: readonly Start[], limit: number, cost: number, windowMs: number, now: number): number {
  const used = starts.reduce((n, s) => n + s.cost, 0);
  if (used + cost <= limit) return 0;
  // Starts are in time order, except the few re-dated by acquireDraws.
  const ordered = starts.every((s, i) => i === 0 || (starts[i - 1] as Start).at <= s.at) ? starts : [...starts].sort((a, b) => a.at - b.at);
  // Wait until enough of the oldest starts leave the window.
  let freed = limit - used;
  let until = now + 1;
  for (const s of ordered) {
    freed += s.cost;
    until = s.at + windowMs;
    if (freed >= cost) break;
  }
  return Math.max(1, until - now);
}

/**
 * Sliding-window pacing for each family. Time and sleep are injected so tests stay fast.
 *
 * ## The signInActivity reading
 * Microsoft's docs do not say whether a `GET /users` page with signInActivity (its own limit,
 * about 10 a minute) also spends the identity reports' 5 per 10 s per app per tenant (auditLogs,
 * reports/authenticationMethods/userRegistrationDetails): the "Identity and access reports
 * service limits" include (microsoft-graph-docs-contrib includes/throttling-entra-logs-reports.md)
 * lists signInActivity, in its newer revision, both with a row of its own ("GET signInActivity:
 * 10 requests per minute") and among the resources the 5 per 10 s row applies to; its older
 * revision does not list it at all; issue #8653 of that repository reports that listing users
 * with signInActivity also hits "this normal AAD Reporting API throttling limit".
 *
 * So the budgets keep two accountings of the identity reports family: reports-only (the family's
 * own window) and shared (reports plus signInActivity pages), and start from the STRICT reading:
 * a report must fit both, a signInActivity page must fit its own family, the directory's and the
 * shared accounting ({@link drawsOf}'s `shared` draw). Then they adapt, once:
 * - Probe: when a request would wait ONLY for the shared accounting (its own families have room),
 *   it is sent at once as the probe. At most one probe is in flight.
 * - Accepted (2xx) while the strict reading said Graph's bucket was empty ({@link PROBE_BELOW_UNITS}):
 *   the lenient reading holds. signInActivity pages are no longer charged to the identity reports
 *   for the rest of these budgets' life (a process's registry, src/graph/pacing.ts: the scan, the
 *   watch and the digest of one app and tenant learn it together).
 * - Accepted while the bucket may still have held a unit: nothing learnt yet. The probe is
 *   counted in the shared accounting like any start, so each such probe brings the bucket a unit
 *   nearer empty, and the next request that waits only for the shared accounting probes again:
 *   a sliding window never empties the bucket by itself (see below), so without these a client
 *   paced by it would never get a probe that proves anything. They are the only starts beyond
 *   the shared window, a few once per registry, and a scan that leaves headroom (a watch in
 *   another process) may spend it on them.
 * - Refused (429): the strict reading holds. It stays, and no probe is sent again; the Graph
 *   client honours the Retry-After as for any 429. The shared window is then a little longer
 *   ({@link CONFIRMED_STRICT_MARGIN}).
 * - Anything else (no answer, 5xx): nothing learnt; a later request may probe.
 * A sliding window of `limit` per `perSeconds` never admits a request that a token bucket of the
 * same size and rate has no unit for, whatever came before (probes included): so on the lenient
 * reading the reports-only window keeps the reports clear of 429s, on the strict one the shared
 * window does, and the probing costs at most one 429, the one that settles it.
 */
export class RequestBudgets {
  private readonly starts = new Map<Family, Start[]>();
  /** Serialises waiters per family (and the shared accounting) so that a burst queues instead of all waking at once. */
  private readonly queues = new Map<string, Promise<unknown>>();
  /** Throttling answers: no request of the family starts before this time. */
  private readonly notBefore = new Map<Family, number>();
  /** What the service said is left (RateLimit-Remaining) until when (RateLimit-Reset). */
  private readonly allowance = new Map<Family, { remaining: number; untilMs: number }>();
  private readonly budgets: Record<Family, Budget>;
  /** The identity reports' shared accounting: reports and, on the strict reading, signInActivity pages. */
  private sharedStarts: Start[] = [];
  private lenient = false;
  private strictConfirmed = false;
  private probeInFlight = false;
  /** Probes sent so far (the last settled the reading; those before it proved nothing). */
  probesSent = 0;

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

  /** Where the signInActivity reading stands (see the class comment). */
  get signInActivityReading(): SignInActivityReading {
    if (this.lenient) return 'lenient';
    if (this.strictConfirmed) return 'strictConfirmed';
    return this.probeInFlight ? 'probing' : 'strict';
  }

  /**
   * Waits until one more request of `family` costing `cost` units fits its budget, then records
   * it. A cost above the whole budget is capped to it, so such a request still runs (alone).
   * `headroom`: units of each window this caller leaves unused for others (a scan leaves some of
   * the identity reports' 5 per 10 s to a sign-in watch in another process). An identity reports
   * request fits the shared accounting too while the strict reading holds; when it is sent as
   * the reading's probe, the probe comes back and must be settled.
   */
  acquire(family: Family, cost = 1, headroom = 0): Promise<ReadingProbe | undefined> {
    return this.enqueue(family, cost, headroom, false, true).then((t) => t.probe);
  }

  /**
   * Waits for every draw of one request ({@link drawsOf}) in order, then dates them all to the
   * moment the last was had (when the request goes out), so that a draw had early and held while
   * a later one waited does not leave its window before the request was sent. Returns the probe
   * when this request is the signInActivity reading's: settle it with the answer. `mayProbe`
   * false: never a probe (a `$batch` item, which goes out only once the whole batch has its
   * budget: by then Graph's bucket may have refilled, and the probe would prove nothing).
   */
  async acquireDraws(draws: readonly Draw[], headroom: Partial<Record<Family, number>> = {}, options: { mayProbe?: boolean } = {}): Promise<ReadingProbe | undefined> {
    const records: Start[] = [];
    let probe: ReadingProbe | undefined;
    for (const d of draws) {
      const taken = await this.enqueue(d.family, d.cost, headroom[d.family] ?? 0, d.shared === true, options.mayProbe !== false);
      records.push(...taken.records);
      probe ??= taken.probe;
    }
    if (draws.length > 1) {
      const now = this.clock();
      for (const r of records) r.at = Math.max(r.at, now);
    }
    return probe;
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

  private enqueue(family: Family, cost: number, headroom: number, shared: boolean, mayProbe: boolean): Promise<Taken> {
    // Once the lenient reading holds, a page's shared draw is free: not queued behind anything.
    if (shared && this.lenient) return Promise.resolve({ records: [] });
    // Shared draws queue apart from the reports, so a page never waits behind the reports-only window.
    const key = shared ? `${family}#shared` : family;
    const previous = this.queues.get(key) ?? Promise.resolve();
    const next = previous.then(() => this.take(family, cost, headroom, shared, mayProbe));
    this.queues.set(key, next.catch(() => undefined));
    return next;
  }

  /**
   * What the shared accounting leaves of Graph's bucket at most, read as a token bucket of the
   * identity reports' full size (no headroom): for each recorded start s, the bucket was at most
   * full just before it, so now it holds at most limit + refill since s − units spent since s.
   */
  private sharedUnitsLeft(now: number): number {
    const full = this.budgets.identityReports;
    const perMs = full.limit / (full.perSeconds * 1000);
    const ordered = [...this.sharedStarts].sort((a, b) => a.at - b.at);
    let left = full.limit;
    let since = 0;
    for (let i = ordered.length - 1; i >= 0; i--) {
      const s = ordered[i] as Start;
      since += s.cost;
      left = Math.min(left, full.limit + perMs * Math.max(0, now - s.at) - since);
    }
    return left;
  }

  /** `proves`: a 2xx of this probe proves the lenient reading (Graph's bucket was empty on the strict one). */
  private openProbe(proves: boolean): ReadingProbe {
    this.probeInFlight = true;
    this.probesSent++;
    let open = true;
    return {
      settle: (outcome) => {
        if (!open) return;
        open = false;
        this.probeInFlight = false;
        if (outcome === 'accepted' && proves) {
          this.lenient = true;
          this.sharedStarts = [];
        } else if (outcome === 'throttled') this.strictConfirmed = true;
      },
    };
  }

  private async take(family: Family, requested: number, headroom: number, shared: boolean, mayProbe: boolean): Promise<Taken> {
    for (;;) {
      if (shared && this.lenient) return { records: [] };
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
      const allowance = shared ? undefined : this.allowance.get(family);
      if (allowance && now >= allowance.untilMs) this.allowance.delete(family);
      else if (allowance && allowance.remaining < cost) {
        await this.sleep(Math.max(1, allowance.untilMs - now));
        continue;
      }
      // The family's own window; a shared draw's own families were drawn before it (drawsOf).
      let starts: Start[] = [];
      let ownWait = 0;
      if (!shared) {
        starts = (this.starts.get(family) ?? []).filter((s) => s.at > now - window);
        this.starts.set(family, starts);
        ownWait = waitFor(starts, budget.limit, cost, window, now);
      }
      // The identity reports' shared accounting, while the strict reading holds.
      const strict = family === 'identityReports' && !this.lenient;
      let sharedWait = 0;
      if (strict) {
        const sharedWindow = this.strictConfirmed ? window * (1 + CONFIRMED_STRICT_MARGIN) : window;
        this.sharedStarts = this.sharedStarts.filter((s) => s.at > now - sharedWindow);
        sharedWait = waitFor(this.sharedStarts, budget.limit, cost, sharedWindow, now);
      }
      const probe = mayProbe && ownWait === 0 && sharedWait > 0 && !this.strictConfirmed && !this.probeInFlight
        ? this.openProbe(this.sharedUnitsLeft(now) < PROBE_BELOW_UNITS)
        : undefined;
      if (ownWait === 0 && (sharedWait === 0 || probe)) {
        const records: Start[] = [];
        if (!shared) {
          const r = { at: now, cost };
          starts.push(r);
          records.push(r);
          if (allowance && now < allowance.untilMs) allowance.remaining -= cost;
        }
        if (strict) {
          const r = { at: now, cost };
          this.sharedStarts.push(r);
          records.push(r);
        }
        return probe ? { records, probe } : { records };
      }
      // Waiting only for the shared accounting while a probe is out: look again soon, as an
      // accepted probe frees this request at once.
      const wait = ownWait === 0 && this.probeInFlight ? Math.min(sharedWait, PROBE_POLL_MS) : Math.max(ownWait, sharedWait);
      await this.sleep(Math.max(1, wait));
    }
  }
}
