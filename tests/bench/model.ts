/**
 * Lower bounds of a scan's Graph time under the throttling model (issue 13): for each service
 * family, the units the workload needs ÷ the family's allowed rate (a token bucket starts full,
 * so the first `limit` units are free), and the latency floor of what must run in sequence
 * (a page chain: pages × latency; a concurrency cap: requests × latency ÷ cap). Families run in
 * parallel, so the bound is the largest family's.
 *
 * The limits come from ONE function, {@link modelLimits}, written against today's
 * DEFAULT_THROTTLE_LIMITS (src/sim/throttle.ts). MERGE NOTE: when `pacing`'s machine-readable
 * throttle model table lands, point modelLimits at it.
 *
 * Ambiguous limits, each computed under both readings:
 * - Outlook 10,000 requests / 10 min and 4 concurrent: per app *per mailbox* (concepts/throttling.md
 *   "Outlook service limits") or, strictly, per app.
 * - users with signInActivity (~10 a minute): a family of its own, or also drawing the identity
 *   reports family (5 per 10 s) as the auditLogs data it reads.
 */
import { DEFAULT_THROTTLE_LIMITS, sharepointRuLimit, OUTLOOK_CONCURRENCY } from '../../src/sim/throttle';
import type { ThrottleFamily, ThrottleLimit } from '../../src/sim/types';

export interface ModelLimits {
  families: Record<ThrottleFamily, ThrottleLimit>;
  outlookConcurrency: number;
}

/** The throttle model's limits for a tenant with `licences` licences (sizes SharePoint's RU). */
export function modelLimits(licences: number): ModelLimits {
  return { families: { ...DEFAULT_THROTTLE_LIMITS, sharepoint: sharepointRuLimit(licences) }, outlookConcurrency: OUTLOOK_CONCURRENCY };
}

/** The shape of a tenant's workload (what a read must fetch). */
export interface WorkloadShape {
  users: number;
  /** enabled users (the registration report's rows) */
  enabledUsers: number;
  mailboxes: number;
  /** sign-ins in the window read */
  signIns: number;
  /** sites incl. OneDrives (getAllSites rows) */
  sites: number;
  libraries: number;
  itemsPerLibrary: number;
  sharedPerLibrary: number;
  /** fraction of the libraries read by this scenario (1 = full read; the weekly sweep reads 1/7 a day) */
  filesFraction: number;
}

/** Page sizes the collectors use (src/collect/*; the simulator's maxima, src/sim/routes.ts). */
export const PAGES = { signInActivity: 500, userRegistrationDetails: 1000, signIns: 1000, sites: 200, delta: 200 } as const;

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
  const sia = Math.ceil(w.users / PAGES.signInActivity);
  const urd = Math.ceil(w.enabledUsers / PAGES.userRegistrationDetails);
  const sig = Math.max(1, Math.ceil(w.signIns / PAGES.signIns));
  const families: Partial<Record<ThrottleFamily, FamilyBound>> = {};
  families.signInActivity = family(sia, sia, L.signInActivity, sia * lat);
  const reports = urd + sig + (reading.signInActivity === 'alsoIdentityReports' ? sia : 0);
  // The registration report and the sign-in windows are page chains of their own.
  families.identityReports = family(reports, reports, L.identityReports, Math.max(urd, sig) * lat);
  const identityOnly = family(urd + (reading.signInActivity === 'alsoIdentityReports' ? sia : 0), urd, L.identityReports, urd * lat);
  // Outlook: one request per mailbox. Per mailbox, the bucket never empties; per app, it does,
  // and only 4 requests are in flight at once.
  const perApp = reading.outlook === 'perApp';
  const outlook = perApp
    ? family(w.mailboxes, w.mailboxes, L.outlook, (w.mailboxes * lat) / limits.outlookConcurrency)
    : family(w.mailboxes, w.mailboxes, L.global, w.mailboxes > 0 ? lat : 0);
  families.outlook = outlook;
  // SharePoint resource units: getAllSites pages (2), drives per site (2), delta per library
  // (2 for the first page, 1 with a token), permissions per shared item (5).
  const libs = Math.ceil(w.libraries * w.filesFraction);
  const sitesRead = Math.ceil(w.sites * w.filesFraction);
  const deltaPages = Math.max(1, Math.ceil(w.itemsPerLibrary / PAGES.delta));
  const siteListPages = Math.ceil(w.sites / PAGES.sites);
  const ru = siteListPages * 2 + sitesRead * 2 + libs * (2 + (deltaPages - 1)) + libs * w.sharedPerLibrary * 5;
  const spRequests = siteListPages + sitesRead + libs * deltaPages + libs * w.sharedPerLibrary;
  families.sharepoint = family(ru, spRequests, L.sharepoint, (siteListPages + deltaPages + 1) * lat);
  const total = sia + reports - (reading.signInActivity === 'alsoIdentityReports' ? sia : 0) + w.mailboxes + spRequests;
  families.global = family(total, total, L.global, lat);
  const seconds = Math.max(...Object.values(families).map((f) => f.seconds));
  const identitySeconds = Math.max(families.signInActivity.seconds, identityOnly.seconds);
  return { reading, families, seconds, identitySeconds, mailSeconds: outlook.seconds };
}

/** The bench tenant's shape for `users` (issue 13: sites = users / 20, a OneDrive per user, 200 items a library, 2% shared, 10 sign-ins a user a day). */
export function benchShape(users: number, filesFraction = 1): WorkloadShape {
  const sites = Math.floor(users / 20) + users;
  return {
    users,
    enabledUsers: users,
    mailboxes: users,
    signIns: users * 10,
    sites,
    libraries: sites,
    itemsPerLibrary: 200,
    sharedPerLibrary: Math.round(200 * 0.02),
    filesFraction,
  };
}
