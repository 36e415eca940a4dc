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

/** Graph service families with limits that matter to the collectors (graph.md). */
export type Family = 'identityReports' | 'signInActivity' | 'conditionalAccess' | 'outlook' | 'directory' | 'sharepoint';

export interface Budget {
  limit: number;
  perSeconds: number;
}

/**
 * Graph's documented limits. Directory and SharePoint have no small fixed limit worth pacing
 * against (their throttling is resource-unit based); they still get a generous window so that a
 * run never exceeds Graph's global 2,000 requests/s per app.
 */
export const GRAPH_BUDGETS: Readonly<Record<Family, Budget>> = {
  identityReports: { limit: 5, perSeconds: 10 },
  signInActivity: { limit: 10, perSeconds: 60 },
  conditionalAccess: { limit: 1, perSeconds: 1 },
  // Outlook's 10,000 per 10 minutes applies per app *per mailbox*; a scan sends one request per
  // mailbox, so the only limit to pace under here is Graph's global one.
  outlook: { limit: 2_000, perSeconds: 1 },
  directory: { limit: 1_000, perSeconds: 1 },
  // Resource units a minute of the smallest tenants; the files collector sizes it to the tenant
  // (sharepointBudget) before its first request.
  sharepoint: { limit: 1_200, perSeconds: 60 },
};

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
 * a single item. Every other family counts requests (1). Items of a `$batch` are costed one by
 * one (the envelope itself is not a SharePoint request).
 */
export function costOf(path: string): number {
  const p = path.toLowerCase();
  if (familyOf(p) !== 'sharepoint') return 1;
  const bare = p.split('?')[0] ?? p;
  if (/\/permissions(\/|$)/.test(bare) || p.includes('expand=permissions')) return 5;
  if (/\/delta(\(|$)/.test(bare)) return /[?&(]token=|delta\(token/.test(p) ? 1 : 2;
  if (/\/(drives|getallsites|children|items)$/.test(bare) || bare.endsWith('.getallsites')) return 2;
  return 1;
}

/** The service family a request path belongs to (path relative to the version root, query included). */
export function familyOf(path: string): Family {
  const p = path.toLowerCase();
  if (p.includes('/auditlogs/') || p.startsWith('auditlogs/') || p.includes('reports/')) return 'identityReports';
  if (p.includes('identity/conditionalaccess')) return 'conditionalAccess';
  if (p.includes('/messagerules') || p.includes('/mailfolders') || p.includes('/sendmail')) return 'outlook';
  if (/(^|\/)users(\?|$)/.test(p.split('#')[0] ?? '') && p.includes('signinactivity')) return 'signInActivity';
  if (p.includes('sites/') || p.includes('drives/') || p.includes('admin/sharepoint')) return 'sharepoint';
  return 'directory';
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
   */
  acquire(family: Family, cost = 1): Promise<void> {
    const previous = this.queues.get(family) ?? Promise.resolve();
    const next = previous.then(() => this.take(family, cost));
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

  private async take(family: Family, requested: number): Promise<void> {
    for (;;) {
      // Read each round: setBudget may have changed it while this request waited.
      const budget = this.budgets[family];
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
