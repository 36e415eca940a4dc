/**
 * Lower bounds of a scan's Graph time under the throttling model (issue 13): for each service
 * family, the units the workload needs ÷ the family's allowed rate (a token bucket starts full,
 * so the first `limit` units are free), and the latency floor of what must run in sequence
 * (a page chain: pages × latency; a concurrency cap: requests × latency ÷ cap). Families run in
 * parallel, so the bound is the largest family's.
 *
 * The limits come from ONE function, {@link modelLimits}: the simulator's own throttle model
 * (src/sim/throttle.ts resolveLimits / throttleModel), so the bound and what the simulator enforces
 * cannot drift apart. The directory family (Entra resource units) is in the table; the bound leaves
 * it out because a scan's directory reads (a few hundred list pages at 1–2 units each) are far
 * below 8,000 units per 10 s.
 *
 * Ambiguous limits, each computed under both readings:
 * - Outlook's 4 concurrent: per app *per mailbox* (concepts/throttling.md "Outlook service
 *   limits") or, strictly, per app whatever the mailbox (throttling-limits.md). Its 10,000
 *   requests / 10 min are per app per mailbox in both (the simulator keys that bucket so).
 * - users with signInActivity (~10 a minute): a family of its own, or also drawing the identity
 *   reports family (5 per 10 s) as the auditLogs data it reads.
 */
import { REGISTRATION_PAGE, registrationReadCost } from '../../src/collect/identity';
import { FAMILY_CONCURRENCY } from '../../src/graph/pacing';
import { resolveLimits, throttleModel } from '../../src/sim/throttle';
import type { ThrottleFamily, ThrottleLimit } from '../../src/sim/types';

export interface ModelLimits {
  families: Record<ThrottleFamily, ThrottleLimit>;
  outlookConcurrency: number;
}

/** The throttle model's limits for a tenant with `licences` licences (sizes SharePoint's RU). */
export function modelLimits(licences: number, users = licences): ModelLimits {
  const families = resolveLimits({}, licences, users);
  if (!families) throw new Error('the throttle model is switched off');
  return { families, outlookConcurrency: throttleModel({}, licences, undefined, users).outlook.concurrency ?? 4 };
}

/** The shape of a tenant's workload (what one scan must fetch). */
export interface WorkloadShape {
  users: number;
  /** enabled users (the registration report's rows) */
  enabledUsers: number;
  /** users whose signInActivity is read (all of them on a full read) */
  signInActivityUsers: number;
  mailboxes: number;
  /** sign-ins in the window read */
  signIns: number;
  /** sites incl. OneDrives: getAllSites rows */
  sites: number;
  /**
   * sites whose libraries are listed (one /drives request each): every site on a full read; on
   * the daily scan the team sites and the personal sites whose OneDrive is due today (the others'
   * lists are stored: collect/files.ts storedDriveLists). Default: `sites`.
   */
  drivesListed?: number;
  /** libraries whose delta is read this scan */
  librariesRead: number;
  /** with a stored deltaLink (1 RU, one page when nothing changed) or enumerated in full (2 RU first page) */
  tokenDeltas: boolean;
  itemsPerLibrary: number;
  /** permission reads (shared items of the libraries enumerated; 0 on a no-change incremental read) */
  permissionReads: number;
}

/** Page sizes the collectors use (src/collect/*; the simulator's maxima, src/sim/routes.ts). */
export const PAGES = { signInActivity: 500, userRegistrationDetails: REGISTRATION_PAGE, signIns: 1000, sites: 999, delta: 200 } as const;

export interface Reading {
  outlook: 'perMailbox' | 'perApp';
  signInActivity: 'ownFamily' | 'alsoIdentityReports';
}
export const READINGS: Reading[] = [
  { outlook: 'perMailbox', signInActivity: 'ownFamily' },
  { outlook: 'perApp', signInActivity: 'alsoIdentityReports' },
];

export interface FamilyBound {
  units: number;
  requests: number;
  rateSeconds: number;
  latencySeconds: number;
  seconds: number;
}
export interface Bound {
  reading: Reading;
  families: Partial<Record<ThrottleFamily, FamilyBound>>;
  /** max over families (they run in parallel) */
  seconds: number;
  /** the identity areas' bound (users, MFA, roles): signInActivity + registration report */
  identitySeconds: number;
  /** inbox rules alone */
  mailSeconds: number;
}

function family(units: number, requests: number, limit: ThrottleLimit, latencySeconds: number): FamilyBound {
  const rate = limit.limit / limit.perSeconds;
  const rateSeconds = Math.max(0, units - limit.limit) / rate;
  return { units, requests, rateSeconds, latencySeconds, seconds: Math.max(rateSeconds, latencySeconds) };
}

/** The lower bound of a workload under one reading, with `latencyMs` per request. */
export function lowerBound(w: WorkloadShape, reading: Reading, limits: ModelLimits, latencyMs: number): Bound {
  const lat = latencyMs / 1000;
  const L = limits.families;
  const sia = Math.ceil(w.signInActivityUsers / PAGES.signInActivity);
  const urd = Math.ceil(w.enabledUsers / PAGES.userRegistrationDetails);
  const sig = Math.max(1, Math.ceil(w.signIns / PAGES.signIns));
  const families: Partial<Record<ThrottleFamily, FamilyBound>> = {};
  families.signInActivity = family(sia, sia, L.signInActivity, sia * lat);
  const reports = urd + sig + (reading.signInActivity === 'alsoIdentityReports' ? sia : 0);
  // The registration report and the sign-in windows are page chains of their own.
  families.identityReports = family(reports, reports, L.identityReports, Math.max(urd, sig) * lat);
  const identityOnly = family(urd + (reading.signInActivity === 'alsoIdentityReports' ? sia : 0), urd, L.identityReports, urd * lat);
  // Outlook: one request per mailbox, so its 10,000 per 10 minutes per app *per mailbox* never
  // binds (every revision of the docs scopes the rate so; only the 4-at-once concurrency's scope
  // is disputed): the rate is Graph's global one. Per app, only 4 requests are in flight at once
  // for the whole tenant, a latency floor of mailboxes × latency ÷ 4; per mailbox, one request's.
  const perApp = reading.outlook === 'perApp';
  const outlook = family(w.mailboxes, w.mailboxes, L.global, w.mailboxes === 0 ? 0 : perApp ? (w.mailboxes * lat) / limits.outlookConcurrency : lat);
  families.outlook = outlook;
  // SharePoint resource units: getAllSites pages (2), drives per site (2), delta per library
  // (2 for the first page without a token, 1 a page with one), permissions per shared item (5).
  const deltaPages = w.tokenDeltas ? 1 : Math.max(1, Math.ceil(w.itemsPerLibrary / PAGES.delta));
  const siteListPages = Math.ceil(w.sites / PAGES.sites);
  const libs = w.librariesRead;
  const listed = w.drivesListed ?? w.sites;
  const ru = siteListPages * 2 + listed * 2 + libs * (w.tokenDeltas ? 1 : 2 + (deltaPages - 1)) + w.permissionReads * 5;
  const spRequests = siteListPages + listed + libs * deltaPages + w.permissionReads;
  families.sharepoint = family(ru, spRequests, L.sharepoint, (siteListPages + deltaPages + 1) * lat);
  const total = sia + reports - (reading.signInActivity === 'alsoIdentityReports' ? sia : 0) + w.mailboxes + spRequests;
  families.global = family(total, total, L.global, lat);
  const seconds = Math.max(...Object.values(families).map((f) => f.seconds));
  const identitySeconds = Math.max(families.signInActivity.seconds, identityOnly.seconds);
  return { reading, families, seconds, identitySeconds, mailSeconds: outlook.seconds };
}

/** The families a sharded run's bound splits by shard (the others are a few requests). */
export const SHARDED_FAMILIES = ['signInActivity', 'identityReports', 'outlook', 'sharepoint'] as const;
export type ShardedFamily = (typeof SHARDED_FAMILIES)[number];

/** How a sharded run (src/jobs/shards.ts, `--workers N`) is laid out. */
export interface Sharding {
  /** worker loops (each runs one shard at a time) */
  workers: number;
  /**
   * Shards reading each family: one per slice today (mailRules reads Outlook, sharing SharePoint,
   * mfaRegistration and signIns the identity reports); range shards (mail by mailbox range, files
   * by drive range) raise outlook and sharepoint. Default 1.
   */
  shards?: Partial<Record<ShardedFamily, number>>;
  /** in-flight requests one shard's Graph client holds per family (src/graph/pacing.ts FAMILY_CONCURRENCY caps; default those) */
  clientConcurrency?: Partial<Record<ShardedFamily, number>>;
}

export interface ShardedBound extends Bound {
  workers: number;
  /** the tenant's bound ({@link lowerBound}): Graph's per-tenant limits, which no number of workers raises */
  tenantSeconds: number;
  /** per family: the client's latency floor with min(workers, shards) shards in flight, each with its own client */
  clientLatencySeconds: Partial<Record<ShardedFamily, number>>;
  /** Σ over families of max(its tenant bound, requests × latency ÷ one client's concurrency), ÷ workers: the busy time the workers share */
  workerSeconds: number;
}

/**
 * The lower bound of a sharded run. Graph's limits are per tenant (and app): every worker draws
 * from the same buckets, so each family's rate term is {@link lowerBound}'s, whatever N. What
 * workers can cut is latency: one shard's client holds at most `cap` requests of a family in
 * flight (FAMILY_CONCURRENCY, 16), so a family read by k shards at once has a latency floor of
 * requests × latency ÷ (cap × k), with k = min(workers, shards of the family); and N workers
 * running one shard each at a time cannot finish before Σ_f max(bound_f, requests_f × latency ÷
 * cap) ÷ N (a list-scheduling bound: one worker runs the slices one after another, and a family's
 * bucket cannot bank time while its shard waits beyond its burst, already counted). The
 * bound is the largest of the tenant's bound, each family's client floor, and that shared busy
 * time. With one shard per slice, k is 1 for every family: N buys parallel slices (which one
 * unsharded run has already) and nothing more on any one family.
 */
export function shardedBound(w: WorkloadShape, reading: Reading, limits: ModelLimits, latencyMs: number, s: Sharding): ShardedBound {
  const base = lowerBound(w, reading, limits, latencyMs);
  const lat = latencyMs / 1000;
  const workers = Math.max(1, s.workers);
  const clientLatencySeconds: Partial<Record<ShardedFamily, number>> = {};
  let busy = 0;
  let seconds = base.seconds;
  for (const f of SHARDED_FAMILIES) {
    const requests = base.families[f]?.requests ?? 0;
    if (requests === 0) continue;
    const cap = s.clientConcurrency?.[f] ?? FAMILY_CONCURRENCY[f].cap;
    const k = Math.min(workers, Math.max(1, s.shards?.[f] ?? 1));
    const floor = (requests * lat) / (cap * k);
    clientLatencySeconds[f] = floor;
    // A family's own time on the worker(s) reading it: its tenant bound (rate, page chains) or its latency with one client.
    busy += Math.max(base.families[f]?.seconds ?? 0, (requests * lat) / cap);
    seconds = Math.max(seconds, floor, base.families[f]?.seconds ?? 0);
  }
  const workerSeconds = busy / workers;
  return { ...base, workers, tenantSeconds: base.seconds, clientLatencySeconds, workerSeconds, seconds: Math.max(seconds, workerSeconds) };
}

export type ScenarioName = 'weeklyFull' | 'daily';

/** What the bench tenant holds beyond `users` (the simulator process reports it: sim/bench-tenant.ts). */
export interface TenantCounts {
  /** sites incl. OneDrives */
  sites: number;
  libraries: number;
  oneDrives: number;
  /** OneDrives whose sweep bucket is today (files.oneDriveSweepDays) */
  oneDrivesDueToday: number;
  sharedItems: number;
  /** users whose lastSuccessfulSignInDateTime / lastSignInDateTime is at or before the cut-off (the two candidate queries) */
  staleBySuccess?: number;
  staleByAny?: number;
  /** users with no sign-in recorded (re-read by id on an incremental read) */
  neverSignedIn?: number;
  /** users holding a role, directly or through a group (their last sign-ins are re-read by id) */
  roleHolders?: number;
  /** the holders whose registration record the filtered MFA read does not return (read by id); default roleHolders */
  registrationsToRead?: number;
  /** users the registration report lists as not registered */
  unregistered?: number;
  /** enabled users (the registration report's rows; the MFA cost guard counts them) */
  enabledUsers?: number;
}

/**
 * The bench tenant's workload per scenario (issue 13: sites = users / 20 plus a OneDrive per
 * user, 200 items a library, 2% shared, 10 sign-ins a user a day):
 * - weeklyFull: everything in full — every user's signInActivity, the day of sign-ins, every
 *   library enumerated (no stored deltaLink) and every shared item's permissions read.
 * - daily (after weeklyFull committed its state, nothing changed): the drives of every team site
 *   and of the personal sites whose OneDrive is due today listed, a token delta for every
 *   SharePoint library and for the OneDrives due today, no permission read, and the sign-ins since the watermark plus the watch overlap (`overlapMinutes`).
 * Accounts (collect/identity.ts): weeklyFull reads every user's signInActivity; daily reads the
 * two candidate queries' users plus, by id (15 a request), the never-signed-in and the role
 * holders (nothing is new in a rescan). As a page count that is one page per 500 candidates per
 * query plus one per 15 ids, expressed here in users so `lowerBound`'s pages come out right.
 * MFA in both: the unregistered users (1,000 a page) plus each role holder's record (one request
 * each), or the whole report where the collector's cost guard (registrationReadCost) says it is
 * cheaper.
 */
export function benchShape(users: number, scenario: ScenarioName = 'weeklyFull', counts?: TenantCounts, overlapMinutes = 120): WorkloadShape {
  const sites = counts?.sites ?? Math.floor(users / 20) + users;
  const libraries = counts?.libraries ?? sites;
  const shared = counts?.sharedItems ?? libraries * Math.round(200 * 0.02);
  const holders = counts?.roleHolders ?? 0;
  const holderReads = counts?.registrationsToRead ?? holders;
  // The registration report's pages, as the rows of an unfiltered read would come out (lowerBound divides by the page).
  // The collector's own cost guard (registrationReadCost) decides, on the same figures.
  const enabled = counts?.enabledUsers ?? users;
  const wholeReport = Math.max(1, Math.ceil(enabled / PAGES.userRegistrationDetails));
  // Up front: one page is read unfiltered. Otherwise the filtered pages, then the holders one by
  // one or, where that costs more, the whole report after all.
  const filteredPages = Math.max(1, Math.ceil((counts?.unregistered ?? 0) / PAGES.userRegistrationDetails));
  const mfaRequests = counts?.unregistered === undefined || registrationReadCost({ enabledUsers: enabled, holdersToRead: null }).choice === 'unfiltered'
    ? wholeReport
    : filteredPages + (registrationReadCost({ enabledUsers: enabled, holdersToRead: holderReads }).choice === 'filtered' ? holderReads : wholeReport);
  const base = { users, enabledUsers: mfaRequests * PAGES.userRegistrationDetails, signInActivityUsers: users, mailboxes: users, sites, itemsPerLibrary: 200 };
  if (scenario === 'weeklyFull') return { ...base, signIns: users * 10, librariesRead: libraries, tokenDeltas: false, permissionReads: shared };
  const oneDrives = counts?.oneDrives ?? users;
  const due = counts?.oneDrivesDueToday ?? Math.ceil(oneDrives / 7);
  const incremental = counts?.staleBySuccess !== undefined
    ? (Math.max(1, Math.ceil(counts.staleBySuccess / PAGES.signInActivity)) + Math.max(1, Math.ceil((counts.staleByAny ?? 0) / PAGES.signInActivity)) + Math.ceil(((counts.neverSignedIn ?? 0) + holders) / 15)) * PAGES.signInActivity
    : users;
  // A OneDrive per personal site: the personal sites listed today are those whose OneDrive is due.
  return { ...base, signInActivityUsers: Math.min(users, incremental), signIns: Math.ceil((users * 10 * overlapMinutes) / (23 * 60)), drivesListed: sites - oneDrives + due, librariesRead: libraries - oneDrives + due, tokenDeltas: true, permissionReads: 0 };
}
