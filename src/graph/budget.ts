/**
 * Request budgets per Graph service family, so a scan paces itself under Graph's documented
 * limits instead of provoking 429 storms (and, for Conditional Access, 429s that carry no
 * Retry-After at all).
 *
 * Each family is a sliding window: at most `limit` requests started in any `perSeconds` span.
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
  sharepoint: { limit: 1_000, perSeconds: 1 },
};

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
  private readonly starts = new Map<Family, number[]>();
  /** Serialises waiters per family so that a burst queues instead of all waking at once. */
  private readonly queues = new Map<Family, Promise<void>>();
  /** Throttling answers: no request of the family starts before this time. */
  private readonly notBefore = new Map<Family, number>();

  constructor(
    private readonly budgets: Readonly<Record<Family, Budget>>,
    private readonly clock: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  /** Waits until one more request of `family` fits its budget, then records it. */
  acquire(family: Family): Promise<void> {
    const previous = this.queues.get(family) ?? Promise.resolve();
    const next = previous.then(() => this.take(family));
    this.queues.set(family, next.catch(() => undefined));
    return next;
  }

  /** Records that Graph throttled this family: nothing may start before `untilMs`. */
  penalise(family: Family, untilMs: number): void {
    // A "not before" on top of the window: the window's own history still counts afterwards.
    this.notBefore.set(family, Math.max(this.notBefore.get(family) ?? 0, untilMs));
  }

  private async take(family: Family): Promise<void> {
    const budget = this.budgets[family];
    const window = budget.perSeconds * 1000;
    for (;;) {
      const now = this.clock();
      const blockedUntil = this.notBefore.get(family) ?? 0;
      if (now < blockedUntil) {
        await this.sleep(blockedUntil - now);
        continue;
      }
      const starts = (this.starts.get(family) ?? []).filter((t) => t > now - window);
      if (starts.length < budget.limit) {
        starts.push(now);
        this.starts.set(family, starts);
        return;
      }
      this.starts.set(family, starts);
      const oldest = Math.min(...starts);
      await this.sleep(Math.max(1, oldest + window - now));
    }
  }
}
