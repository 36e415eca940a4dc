/**
 * Adaptive concurrency per Graph service family (AIMD), and the registry that lets every Graph
 * client of one app in one tenant share its budgets and pacers.
 *
 * Why adaptive: where Microsoft's docs disagree, the client cannot know the real limit. Outlook
 * runs at most 4 requests at once, either per app per mailbox (throttling.md, older revision) or
 * per app whatever the mailbox ("Microsoft Graph service-specific throttling limits", "Outlook
 * service limits": "regardless of whether the requests all access the same mailbox, or access
 * different mailboxes"). So each family starts from the stricter reading, adds a quarter of its
 * allowance (at least one request) in flight after a window of successes without a 429, and halves on a 429 (whose Retry-After the
 * Graph client honours), never above the family's cap. Each 429 also doubles the window, so a
 * limit that is really there is probed less and less often: a few hundred Outlook requests cost
 * two or three probing 429s on the strict reading, not one per batch.
 *
 * No clock here: the controller moves on answers only (the Graph client's clock and sleep do the
 * waiting).
 */
import type { Family, RequestBudgets } from './budget';

/** Where a family's concurrency starts and the most it may reach. */
export interface ConcurrencyLimit {
  start: number;
  cap: number;
  /** Successes without a 429 before one more may be in flight (default {@link SUCCESS_WINDOW}). */
  window?: number;
}

/**
 * A `$batch` runs at most 4 of its items at once ("Outlook service limits for JSON batching" in
 * the throttling-limits doc; the simulator runs every batch so), so a batch in flight holds
 * min(items, 4) of its family's slots.
 */
export const BATCH_ITEMS_AT_ONCE = 4;

/**
 * Concurrency per family. Outlook: 4 (the per-app reading, the stricter), up to 16 here, raised
 * to batchConcurrency × 4 by the Graph client (64 by default: 16 batches of 4 items at once; the
 * per-mailbox reading sets no app-wide ceiling), probing above
 * 4 only after 300 successes (15 batches). A probe the per-app reading refuses costs up to three
 * 429s (the probing item, an item of the batch beside it, a retry), so with 300 successes before
 * the first probe and the window doubling after each, 429s stay at or under 1% of requests at
 * any size (tests/graph/pacing.test.ts measures it on the simulator). The other
 * families have no documented concurrency limit, only rates (paced by {@link RequestBudgets}):
 * they start at the same ceiling and only a 429 brings them down.
 */
export const FAMILY_CONCURRENCY: Readonly<Record<Family, ConcurrencyLimit>> = {
  outlook: { start: 4, cap: 16, window: 300 },
  identityReports: { start: 16, cap: 16 },
  signInActivity: { start: 16, cap: 16 },
  conditionalAccess: { start: 16, cap: 16 },
  directory: { start: 16, cap: 16 },
  sharepoint: { start: 16, cap: 16 },
  global: { start: 16, cap: 16 },
};

/** Successes without a 429 before one more request may be in flight (one batch's items). */
export const SUCCESS_WINDOW = 20;
/** The window after repeated 429s stops growing here. */
export const MAX_SUCCESS_WINDOW = 1_280;

/** A claim on slots, to be given back with {@link Aimd.release}. */
export interface Slot {
  readonly slots: number;
  /** The controller's epoch when the claim was made: 429s of older claims do not halve again. */
  readonly epoch: number;
}

/** Additive-increase / multiplicative-decrease concurrency for one family. */
export class Aimd {
  private allowedNow: number;
  private inFlightNow = 0;
  private successes = 0;
  private window: number;
  private epoch = 0;
  private readonly waiting: Array<() => void> = [];
  /** How often a 429 halved the allowance (for tests and the bench). */
  decreases = 0;

  constructor(readonly limit: ConcurrencyLimit) {
    this.allowedNow = Math.max(1, Math.min(limit.start, limit.cap));
    this.window = Math.max(1, limit.window ?? SUCCESS_WINDOW);
  }

  /** Requests allowed in flight now. */
  get allowed(): number {
    return this.allowedNow;
  }

  /** Slots in use now. */
  get inFlight(): number {
    return this.inFlightNow;
  }

  /** Slots free now (0 or less: none). */
  free(): number {
    return this.allowedNow - this.inFlightNow;
  }

  /** Resolves once a slot is free (or nothing is in flight). */
  async room(): Promise<void> {
    while (this.inFlightNow > 0 && this.free() < 1) await new Promise<void>((r) => this.waiting.push(r));
  }

  /**
   * Claims `slots` (capped to the allowance): waits until they are free. A claim larger than the
   * whole allowance runs when nothing else is in flight, so one request or batch always can.
   */
  async acquire(slots = 1): Promise<Slot> {
    const n = Math.max(1, slots);
    while (this.inFlightNow > 0 && this.inFlightNow + n > this.allowedNow) await new Promise<void>((r) => this.waiting.push(r));
    this.inFlightNow += n;
    return { slots: n, epoch: this.epoch };
  }

  /**
   * Gives a claim back with what came of it: `throttled` answers that were 429, `succeeded`
   * answers that were not. One halving per epoch: the 429s of requests sent before the last
   * halving tell nothing new.
   */
  release(slot: Slot, outcome: { throttled: number; succeeded: number }): void {
    this.inFlightNow = Math.max(0, this.inFlightNow - slot.slots);
    if (outcome.throttled > 0) {
      if (slot.epoch === this.epoch) {
        this.allowedNow = Math.max(1, Math.floor(this.allowedNow / 2));
        this.window = Math.min(MAX_SUCCESS_WINDOW, this.window * 2);
        this.successes = 0;
        this.epoch++;
        this.decreases++;
      }
    } else if (slot.epoch === this.epoch) {
      this.successes += outcome.succeeded;
      if (this.successes >= this.window && this.allowedNow < this.limit.cap) {
        // A quarter more (at least one): 1 a step up to 7, so a limit of 4 (the strict Outlook
        // reading) is probed one request at a time as before; 4 to 64 in 15 windows where no
        // limit is met (at +1, 60: the per-mailbox reading's 50,000 mailboxes took over 5 minutes).
        this.allowedNow = Math.min(this.limit.cap, this.allowedNow + Math.max(1, Math.floor(this.allowedNow / 4)));
        this.successes = 0;
      }
    }
    for (const wake of this.waiting.splice(0)) wake();
  }
}

/** The budgets and pacers one app uses in one tenant through one Graph root. */
export interface Pacing {
  budgets: RequestBudgets;
  pacer(family: Family): Aimd;
}

/** A new, unshared {@link Pacing}. */
export function newPacing(budgets: RequestBudgets, concurrency: Readonly<Record<Family, ConcurrencyLimit>> = FAMILY_CONCURRENCY): Pacing {
  const pacers = new Map<Family, Aimd>();
  return {
    budgets,
    pacer(family) {
      let p = pacers.get(family);
      if (!p) {
        p = new Aimd(concurrency[family]);
        pacers.set(family, p);
      }
      return p;
    },
  };
}

/** Who shares a budget: Graph's limits are per app per tenant (and the root: the simulator is not Graph). */
export interface ShareKey {
  root: string;
  tenantId: string;
  appId: string;
}

const shared = new Map<string, Pacing>();

/**
 * The one {@link Pacing} of (Graph root, tenant, app) in this process: a scan, the 15-minute
 * sign-in watch and the digest running in one Functions host draw from the same per-family
 * budgets and pacers, as Graph counts them. The first client of a key sets the budgets; later
 * clients share them (a `setBudget` of one, e.g. SharePoint's band, holds for all), and so what
 * a probe taught the budgets of the signInActivity reading (budget.ts, RequestBudgets): learnt
 * once per key for the life of the process (or until {@link clearSharedPacing}).
 *
 * Across processes (separate Function instances) nothing can be shared in memory: there the scan
 * leaves a headroom of the identity reports family to the watch (GraphOptions.headroom) and
 * Retry-After settles the rest.
 */
export function sharedPacing(key: ShareKey, budgets: () => RequestBudgets, concurrency: Readonly<Record<Family, ConcurrencyLimit>> = FAMILY_CONCURRENCY): Pacing {
  const id = `${key.root.toLowerCase()}\n${key.tenantId.toLowerCase()}\n${key.appId.toLowerCase()}`;
  let p = shared.get(id);
  if (!p) {
    p = newPacing(budgets(), concurrency);
    shared.set(id, p);
  }
  return p;
}

/** Forgets every shared pacing (tests; a host that changes credentials). */
export function clearSharedPacing(): void {
  shared.clear();
}
