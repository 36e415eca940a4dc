/**
 * Throttling model: one token bucket per service family (per mailbox for Outlook), refilled
 * continuously at `limit / perSeconds` tokens a second and holding at most `limit`. A request
 * needs a token from every bucket that applies to it; a refused request takes none, and its
 * Retry-After is the time until the emptiest bucket holds a whole token again.
 */
import type { ThrottleFamily, ThrottleLimit } from './types';

/**
 * Graph's published limits (graph.md, concepts/throttling.md): identity reports 5 per 10 s,
 * users with signInActivity ~10 a minute, Conditional Access ~1 a second, Outlook 10,000 per
 * 10 minutes per mailbox, and the global 2,000 a second per app.
 */
export const DEFAULT_THROTTLE_LIMITS: Readonly<Record<ThrottleFamily, ThrottleLimit>> = {
  identityReports: { limit: 5, perSeconds: 10 },
  signInActivity: { limit: 10, perSeconds: 60 },
  conditionalAccess: { limit: 1, perSeconds: 1 },
  outlook: { limit: 10_000, perSeconds: 600 },
  global: { limit: 2_000, perSeconds: 1 },
  // Resource units per app per tenant a minute, smallest licence band ("Avoid getting throttled
  // or blocked in SharePoint Online"); requests draw their RU cost (see sharepointCost in routes).
  sharepoint: { limit: 1_200, perSeconds: 60 },
  // Entra ID resource units per app per tenant per 10 s, smallest tenant band (S, under 50 users):
  // "Microsoft Graph service-specific throttling limits", "Identity and access service limits"
  // (includes/throttling-identity-and-access.md). `resolveLimits` sizes it to the tenant.
  directory: { limit: 3_500, perSeconds: 10 },
};

/**
 * Entra ID (directory) resource units per app per tenant per 10 s by the tenant's user count
 * ("Identity and access service limits": S under 50 users 3,500; M between 50 and 500 users
 * 5,000; L above 500 users 8,000). The per-app limit across all tenants (150,000 per 20 s) and
 * the write quota (3,000 per 2 min 30 s) are not modelled: a scan of one tenant reads only.
 */
export function directoryRuLimit(userCount: number): ThrottleLimit {
  const limit = userCount < 50 ? 3_500 : userCount <= 500 ? 5_000 : 8_000;
  return { limit, perSeconds: 10 };
}

/**
 * Outlook: at most 4 concurrent requests. Doc revisions disagree on the scope: throttling.md's
 * older revision (tests/reference/graph/09-batch.json) says "4 concurrent requests per app per
 * mailbox"; throttling-limits.md ("Outlook service limits", "Limits per app ID") says the app can
 * run 4 "regardless of whether the requests all access the same mailbox, or access different
 * mailboxes". The simulator plays either ({@link ThrottleReadings}).
 */
export const OUTLOOK_CONCURRENCY = 4;

/** Where Microsoft's doc revisions disagree, which reading the simulator plays. */
export interface ThrottleReadings {
  /**
   * 'perMailbox' (default here: the older reading, which the existing workloads were written
   * against) or 'perApp' (throttling-limits.md's current text, the stricter one).
   */
  outlookConcurrency?: 'perMailbox' | 'perApp';
  /**
   * Whether a `GET /users` page with signInActivity draws from the identity reports' bucket (5 per
   * 10 s per app per tenant) as well as from its own (~10 a minute). 'ownFamily' (default): its
   * own bucket only. 'alsoIdentityReports': one token from each, refused when either is empty.
   *
   * Why both: the "Identity and access reports service limits" include
   * (microsoft-graph-docs-contrib includes/throttling-entra-logs-reports.md) reads differently by
   * revision. One (161a8fe) has one row, "Any: Five requests per 10 seconds" per app per tenant,
   * over a resource list without signInActivity. A newer one (293254b) adds a row "GET
   * signInActivity: 10 requests per minute" and also puts signInActivity in the list of resources
   * that "the preceding limits apply to", i.e. under the 5 per 10 s row too; and issue #8653 of
   * that repository (2023) reports that listing users with signInActivity "will also hit this
   * normal AAD Reporting API throttling limit". Whether the two limits add up is not said.
   */
  signInActivity?: 'ownFamily' | 'alsoIdentityReports';
}

/** One family's limit in machine-readable form (for the bench's lower bounds). */
export interface FamilyModel {
  /** Units refilled a second. */
  unitsPerSecond: number;
  /** Most units usable at once (the bucket's size). */
  burst: number;
  /** Requests in flight at once, where the family limits it. */
  concurrency?: number;
  /** What the concurrency / bucket is keyed by. */
  scope: 'app' | 'appTenant' | 'tenant' | 'appMailbox';
  /** Scope of the concurrency limit, where different from `scope`. */
  concurrencyScope?: 'app' | 'appMailbox';
  /** What a unit is: a request, or a resource unit (SharePoint's, Entra ID's) costed per request. */
  unit: 'requests' | 'resourceUnits';
  /** Other families each request of this one also draws a unit from (same key), on this reading. */
  alsoDraws?: ThrottleFamily[];
}

/**
 * The simulator's throttling model as a table, per family, for a reading and a tenant's licence
 * count: the same limits `startSimulator` enforces with the same options (`throttle` overrides
 * included). Costs per request: 1, except SharePoint's resource units (`sharepointCost` in
 * routes.ts: 5 for permissions, 2 for multi-item queries and token-less deltas, 1 otherwise).
 */
export function throttleModel(
  readings: ThrottleReadings = {},
  licenceCount?: number,
  throttle?: Partial<Record<ThrottleFamily, ThrottleLimit>>,
  userCount?: number,
): Record<ThrottleFamily, FamilyModel> {
  const limits = resolveLimits(throttle ?? {}, licenceCount, userCount) as Record<ThrottleFamily, ThrottleLimit>;
  const scopes: Record<ThrottleFamily, FamilyModel['scope']> = {
    identityReports: 'appTenant',
    signInActivity: 'appTenant',
    conditionalAccess: 'tenant',
    outlook: 'appMailbox',
    global: 'app',
    sharepoint: 'appTenant',
    directory: 'appTenant',
  };
  const out = {} as Record<ThrottleFamily, FamilyModel>;
  for (const family of Object.keys(limits) as ThrottleFamily[]) {
    const l = limits[family];
    const unit = family === 'sharepoint' || family === 'directory' ? 'resourceUnits' : 'requests';
    out[family] = { unitsPerSecond: l.limit / l.perSeconds, burst: l.limit, scope: scopes[family], unit };
  }
  out.outlook.concurrency = OUTLOOK_CONCURRENCY;
  out.outlook.concurrencyScope = readings.outlookConcurrency === 'perApp' ? 'app' : 'appMailbox';
  if (readings.signInActivity === 'alsoIdentityReports') out.signInActivity.alsoDraws = ['identityReports'];
  return out;
}

/** A bucket a request draws from: its family, and a key within it (the mailbox for Outlook). */
export interface BucketKey {
  family: ThrottleFamily;
  key: string;
  /** Units the request draws (default 1; SharePoint's resource units). */
  cost?: number;
}

/** A bucket's state, for SharePoint's RateLimit-* headers. */
export interface BucketState {
  limit: number;
  /** Units left now. */
  tokens: number;
  /** Seconds until the bucket is full again. */
  secondsToFull: number;
}

/**
 * SharePoint's draft RateLimit headers ("Avoid getting throttled or blocked in SharePoint
 * Online"): sent once an app has used 80% of its minute's resource units, and on the refusal.
 */
export function rateLimitHeaders(state: BucketState | undefined, refused: boolean): Record<string, string> {
  if (!state || (!refused && state.tokens > state.limit * 0.2)) return {};
  return {
    'RateLimit-Limit': String(state.limit),
    'RateLimit-Remaining': String(Math.max(0, Math.floor(state.tokens))),
    'RateLimit-Reset': String(Math.max(1, Math.ceil(state.secondsToFull))),
  };
}

/**
 * Entra ID's resource-unit headers ("Identity and access service limits", "Other headers"):
 * `x-ms-resource-unit` (the request's cost) on every answer, `x-ms-throttle-limit-percentage`
 * once more than 0.8 of the limit is used (0.8 to 1.8; the simulator's refusals say 1.0), and on
 * a refusal `x-ms-throttle-scope` (`<Scope>/<Limit>/<ApplicationId>/<TenantId>`) and
 * `x-ms-throttle-information`.
 */
export function directoryHeaders(
  state: BucketState | undefined,
  cost: number,
  refused: { appId: string; tenantId: string } | undefined,
): Record<string, string> {
  if (!state) return {};
  const out: Record<string, string> = { 'x-ms-resource-unit': String(cost) };
  const used = refused ? 1 : (state.limit - state.tokens) / state.limit;
  if (used > 0.8) out['x-ms-throttle-limit-percentage'] = used.toFixed(2);
  if (refused) {
    out['x-ms-throttle-scope'] = `Tenant_Application/Read/${refused.appId}/${refused.tenantId}`;
    out['x-ms-throttle-information'] = 'ResourceUnitLimitExceeded';
  }
  return out;
}

export interface ThrottleVerdict {
  family: ThrottleFamily;
  /** Seconds until the request would be admitted. */
  retryAfterSeconds: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Formats a Retry-After in seconds rounded up to the millisecond, e.g. "2.128" (Graph sends
 * fractional values); never below 0.001 so a client never reads "retry now".
 */
export function formatRetryAfter(seconds: number): string {
  const ms = Math.max(1, Math.ceil(Math.round(seconds * 1e6) / 1e3));
  return String(ms / 1000);
}

/** Token buckets per family and key, plus the Outlook per-mailbox concurrency counter. */
export class Throttler {
  private readonly buckets = new Map<string, Bucket>();
  private readonly inFlight = new Map<string, number>();

  /** `limits` false disables all throttling (buckets and concurrency). */
  constructor(
    private readonly limits: Record<ThrottleFamily, ThrottleLimit> | false,
    private readonly now: () => number = () => Date.now(),
    private readonly readings: ThrottleReadings = {},
  ) {}

  /** The concurrency slot a mailbox's request claims: its own, or the app's one pool. */
  private slotOf(mailbox: string): string {
    return this.readings.outlookConcurrency === 'perApp' ? '' : mailbox;
  }

  /** Takes a token from every bucket in `keys`, or none and says which family refused. */
  take(keys: readonly BucketKey[]): ThrottleVerdict | undefined {
    if (!this.limits) return undefined;
    const t = this.now();
    const drawn: Array<[Bucket, number]> = [];
    let refused: ThrottleVerdict | undefined;
    for (const k of keys) {
      const limit = this.limits[k.family];
      const rate = limit.limit / (limit.perSeconds * 1000); // tokens per ms
      const id = `${k.family}\n${k.key}`;
      let b = this.buckets.get(id);
      if (!b) {
        b = { tokens: limit.limit, at: t };
        this.buckets.set(id, b);
      }
      b.tokens = Math.min(limit.limit, b.tokens + (t - b.at) * rate);
      b.at = t;
      const cost = Math.min(limit.limit, Math.max(0, k.cost ?? 1));
      if (b.tokens >= cost) drawn.push([b, cost]);
      else {
        const wait = (cost - b.tokens) / rate / 1000;
        if (!refused || wait > refused.retryAfterSeconds) refused = { family: k.family, retryAfterSeconds: wait };
      }
    }
    if (refused) return refused;
    for (const [b, cost] of drawn) b.tokens -= cost;
    return undefined;
  }

  /** The state of a family's bucket for `key` (undefined when throttling is off). */
  state(family: ThrottleFamily, key = ''): BucketState | undefined {
    if (!this.limits) return undefined;
    const limit = this.limits[family];
    const b = this.buckets.get(`${family}\n${key}`);
    const rate = limit.limit / (limit.perSeconds * 1000);
    const tokens = b ? Math.min(limit.limit, b.tokens + (this.now() - b.at) * rate) : limit.limit;
    return { limit: limit.limit, tokens, secondsToFull: (limit.limit - tokens) / rate / 1000 };
  }

  /** Claims one of a mailbox's concurrent slots (the app's, on the 'perApp' reading); false when all are in use. */
  acquireMailbox(mailbox: string): boolean {
    if (!this.limits) return true;
    const slot = this.slotOf(mailbox);
    const n = this.inFlight.get(slot) ?? 0;
    if (n >= OUTLOOK_CONCURRENCY) return false;
    this.inFlight.set(slot, n + 1);
    return true;
  }

  /** Frees a slot claimed by {@link acquireMailbox}. */
  releaseMailbox(mailbox: string): void {
    if (!this.limits) return;
    const slot = this.slotOf(mailbox);
    const n = (this.inFlight.get(slot) ?? 1) - 1;
    if (n <= 0) this.inFlight.delete(slot);
    else this.inFlight.set(slot, n);
  }

  /** Refills every bucket (in-flight requests are left alone). */
  reset(): void {
    this.buckets.clear();
  }
}

/**
 * SharePoint's resource units a minute for a tenant's licence count: 1,200 / 2,400 / 3,600 /
 * 4,800 / 6,000 for 0–1k / 1k–5k / 5k–15k / 15k–50k / 50k+ ("Avoid getting throttled or blocked
 * in SharePoint Online"). Kept here, apart from the product's copy, so the simulator models the
 * service rather than the client.
 */
export function sharepointRuLimit(licenceCount: number): ThrottleLimit {
  const bands: Array<[number, number]> = [[1_000, 1_200], [5_000, 2_400], [15_000, 3_600], [50_000, 4_800]];
  const band = bands.find(([below]) => licenceCount < below);
  return { limit: band ? band[1] : 6_000, perSeconds: 60 };
}

/** Merges user overrides into the defaults; `false` stays false. */
export function resolveLimits(
  throttle: Partial<Record<ThrottleFamily, ThrottleLimit>> | false | undefined,
  licenceCount?: number,
  userCount?: number,
): Record<ThrottleFamily, ThrottleLimit> | false {
  if (throttle === false) return false;
  const limits = { ...DEFAULT_THROTTLE_LIMITS };
  // The tenant's user count sets the directory's resource units (S / M / L).
  if (userCount !== undefined) limits.directory = directoryRuLimit(userCount);
  // The tenant's licence band sets SharePoint's resource units; an explicit limit still wins.
  if (licenceCount !== undefined) limits.sharepoint = sharepointRuLimit(licenceCount);
  // Skip explicit `undefined`s, which a plain spread would copy over the defaults.
  for (const [family, limit] of Object.entries(throttle ?? {}) as Array<[ThrottleFamily, ThrottleLimit | undefined]>) {
    if (limit) limits[family] = limit;
  }
  return limits;
}
