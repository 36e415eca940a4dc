/**
 * The findings ledger: one entry per finding id (the stable fingerprint), holding its status
 * history and its ticket. Reconciling a scan with the ledger is pure: {@link reconcile} takes the
 * current entries and a scan's findings and coverage and returns the entries to write and what
 * happened; the store does the I/O under a lease.
 *
 * Rules (issue "Findings ledger and remediation tickets", controls.md "Kinds of finding"):
 * - new → open (or excepted); seen again → lastSeen moves; an open/excepted finding follows its
 *   exception (added → excepted; expired → open again, and its ticket opens).
 * - a *state* finding not seen by a scan whose coverage of its area was *complete*, or whose rule
 *   ran on complete inputs (`completeRules`), → resolved; nothing else resolves in an area that was
 *   partial, failed or not scanned, and a rule that did not run never resolves its findings.
 * - seen again after being resolved → reopened: same entry, same ticket, reopen count + 1.
 * - *event* findings never resolve by themselves; a new occurrence appends to the open entry's
 *   evidence; a person closes them (`ledger close`), and a later occurrence reopens them.
 * - Reconciling the same scan twice changes nothing but lastSeen.
 * - An area where the scan would resolve more than `guard.maxShare` of its open findings at once
 *   resolves nothing (`held`), unless the operator confirmed (plausibility.ts, issue 9).
 */
import type { Coverage } from '../collect/snapshot';
import type { Area, RuleId, Severity } from '../rules/ids';
import type { Finding, LocalText, Subject } from './finding';

export type LedgerStatus = 'open' | 'excepted' | 'resolved';

export interface HistoryEntry {
  at: string;
  status: LedgerStatus;
  /** Why: 'new', 'seen again', 'not seen by a complete scan', 'exception …', a person's note. */
  note: string;
}

/** Delivery state of one ticket in one sink. */
export interface SinkState {
  /** The sink's own reference (Planner task id, webhook delivery id…). */
  ref?: string;
  /** The ticket state the sink last accepted. */
  delivered: 'open' | 'closed' | null;
  attempts: number;
  lastError?: string;
  /** Created, but its text could not be written yet: finished on a later run. */
  incomplete?: boolean;
  /**
   * A delivery that was started and whose outcome is not on record yet: written before the call,
   * cleared when the sink accepts it. A run that finds one resolves it first (the same event,
   * the same idempotency key) before anything else is sent to that sink.
   */
  pending?: SinkDelivery;
}

/** One delivery to a sink: the event and its idempotency key (stable across retries), and when it was started. */
export interface SinkDelivery {
  event: 'ticket.opened' | 'ticket.closed' | 'ticket.reopened';
  key: string;
  at: string;
}

export interface TicketRecord {
  /** `T-` + the first 12 characters of the finding id: short enough to quote on the phone. */
  id: string;
  title: string;
  /** Addresses of who it is routed to (department owner, asset owner, system administrators). */
  assignees: string[];
  /** False when no owner matched and it fell back to the system administrators. */
  routed: boolean;
  dueDate: string;
  dueDateTime: string;
  state: 'open' | 'closed';
  /** State changes since it opened (close, reopen…): part of each sink event's idempotency key. */
  transitions: number;
  openedAt: string;
  closedAt: string | null;
  /** Delivery per sink name. */
  sinks: Record<string, SinkState>;
}

/**
 * What an alert sink last told people about an entry (src/alerts/deliver.ts): the news key (what
 * happened: opened, reopened, a new occurrence) and the alert that carried it. An entry whose news
 * key differs from its mark has news not delivered yet: it goes on the next card.
 */
export interface AlertMark {
  key: string;
  alertId: string;
  at: string;
}

export interface LedgerEntry {
  id: string;
  ruleId: RuleId;
  kind: 'state' | 'event';
  area: Area;
  severity: Severity;
  clauses: readonly string[];
  title: LocalText;
  subject: Subject;
  status: LedgerStatus;
  firstSeen: string;
  lastSeen: string;
  resolvedAt: string | null;
  reopenCount: number;
  evidence: Record<string, unknown>;
  history: HistoryEntry[];
  ticket: TicketRecord | null;
  /** Alert marks per alert sink (`teams`, `file`); absent: never alerted. */
  alerted?: Record<string, AlertMark>;
}

/** History kept per entry: the latest changes (older ones are dropped, the count is not). */
export const HISTORY_LIMIT = 50;
/** Occurrences kept in an event finding's evidence (the newest). */
export const OCCURRENCE_LIMIT = 50;

export interface ScanOutcome {
  findings: readonly Finding[];
  coverage: Partial<Record<Area, Coverage>>;
  /** Areas the scan read (an area not read resolves nothing). */
  areas: readonly Area[];
  /**
   * Rules that ran on complete inputs (every slice they read was complete). Their state findings
   * resolve when not seen even in a partial area: without Entra ID P1 the accounts area is partial
   * for good (ACCT-02/06 cannot run), yet a fixed ACCT-01 violation must not stay open forever.
   * A rule that did not run, or ran on partial inputs, never resolves anything.
   */
  completeRules?: readonly RuleId[];
  /**
   * Subject-id prefixes the scan reported from an earlier read (a OneDrive not due in today's
   * sweep: `driveId/`), or whole subject ids (the mailboxes of a failed shard range, whose user id
   * is the finding's subject: src/jobs/shards.ts): a finding under one is kept as of that read and
   * never resolves here, even in a complete area — what was not read cannot show that it is fixed.
   */
  holds?: readonly string[];
  at: string;
  /**
   * The mass-resolution guard (`plausibility.maxResolvedShare`): when a scan would resolve more
   * than `maxShare` of an area's open state findings at once (and the area has at least `minOpen`),
   * nothing resolves in that area unless `confirmed` (the operator's `--confirm-resolutions`).
   */
  guard?: { maxShare: number; minOpen: number; confirmed: boolean };
}

/** An area where the guard held its resolutions back. */
export interface HeldArea {
  area: Area;
  /** How many findings would have been resolved, out of how many open ones. */
  wouldResolve: number;
  open: number;
}

export interface Reconciliation {
  /** Entries that changed (to be written). */
  changed: LedgerEntry[];
  /** Finding ids by what happened to them. */
  opened: string[];
  reopened: string[];
  resolved: string[];
  excepted: string[];
  unexcepted: string[];
  appended: string[];
  /** Areas where the mass-resolution guard resolved nothing (absent: none). */
  held?: HeldArea[];
  /** Every entry after reconciliation, for the findings' firstSeen/lastSeen. */
  entries: Map<string, LedgerEntry>;
}

function push(entry: LedgerEntry, h: HistoryEntry): void {
  entry.history = [...entry.history, h].slice(-HISTORY_LIMIT);
}

type Occurrence = { windowStart?: unknown; signInIds?: unknown; signInIdsTruncated?: unknown };

/**
 * Merges event occurrences, de-duplicated by window start and sign-in ids, newest kept. An
 * occurrence whose sign-ins (its full list: not truncated) are all recorded already is the same
 * event read again under another window start — the watch's overlap re-reading a window that slid,
 * or a regenerated tenant — and is not added: only a sign-in not seen before makes news.
 */
export function mergeOccurrences(existing: unknown, incoming: unknown): { merged: unknown[]; added: number } {
  const keyOf = (o: Occurrence): string => `${String(o.windowStart)}|${JSON.stringify(o.signInIds ?? [])}`;
  const list = Array.isArray(existing) ? [...(existing as Occurrence[])] : [];
  const seen = new Set(list.map(keyOf));
  const signIns = new Set(list.flatMap((o) => (Array.isArray(o.signInIds) ? o.signInIds.map(String) : [])));
  let added = 0;
  for (const o of Array.isArray(incoming) ? (incoming as Occurrence[]) : []) {
    const k = keyOf(o);
    if (seen.has(k)) continue;
    const ids = Array.isArray(o.signInIds) ? o.signInIds.map(String) : [];
    if (ids.length > 0 && !(Number(o.signInIdsTruncated) > 0) && ids.every((id) => signIns.has(id))) continue;
    seen.add(k);
    for (const id of ids) signIns.add(id);
    list.push(o);
    added++;
  }
  return { merged: list.slice(-OCCURRENCE_LIMIT), added };
}

function newEntry(f: Finding, at: string): LedgerEntry {
  return {
    id: f.id,
    ruleId: f.ruleId,
    kind: f.kind,
    area: f.area,
    severity: f.severity,
    clauses: f.clauses,
    title: f.title,
    subject: f.subject,
    status: f.status,
    firstSeen: at,
    lastSeen: at,
    resolvedAt: null,
    reopenCount: 0,
    evidence: f.evidence,
    history: [{ at, status: f.status, note: f.status === 'excepted' ? 'new, covered by an exception' : 'new' }],
    ticket: null,
  };
}

/** Reconciles a scan's findings with the ledger entries. Pure: nothing is written here. */
export function reconcile(current: ReadonlyMap<string, LedgerEntry>, scan: ScanOutcome): Reconciliation {
  const entries = new Map<string, LedgerEntry>();
  for (const [id, e] of current) entries.set(id, e);
  const out: Reconciliation = { changed: [], opened: [], reopened: [], resolved: [], excepted: [], unexcepted: [], appended: [], entries };
  const changed = new Set<string>();
  const seen = new Set<string>();

  for (const f of scan.findings) {
    seen.add(f.id);
    const before = entries.get(f.id);
    if (!before) {
      entries.set(f.id, newEntry(f, scan.at));
      changed.add(f.id);
      (f.status === 'excepted' ? out.excepted : out.opened).push(f.id);
      continue;
    }
    const e: LedgerEntry = { ...before, history: [...before.history] };
    let material = false;
    if (f.kind === 'event') {
      const { merged, added } = mergeOccurrences(e.evidence.occurrences, f.evidence.occurrences);
      if (added > 0) {
        // Totals over every occurrence kept, not only this scan's.
        const sum = (k: 'failures' | 'successes'): number => merged.reduce<number>((n, o) => n + (Number((o as Record<string, unknown>)[k]) || 0), 0);
        e.evidence = { ...f.evidence, occurrences: merged, failures: sum('failures'), successes: sum('successes') };
        material = true;
        if (e.status !== 'resolved') out.appended.push(f.id);
      }
      // A closed event finding reopens only on a new occurrence, not on re-reading an old one.
      if (e.status === 'resolved' && added === 0) {
        continue;
      }
    } else if (JSON.stringify(e.evidence) !== JSON.stringify(f.evidence) || e.severity !== f.severity) {
      e.evidence = f.evidence;
      material = true;
    }
    e.severity = f.severity;
    e.subject = f.subject;
    e.title = f.title;
    if (e.status === 'resolved') {
      e.status = f.status;
      e.resolvedAt = null;
      e.reopenCount += 1;
      push(e, { at: scan.at, status: f.status, note: 'seen again after being resolved' });
      out.reopened.push(f.id);
      material = true;
    } else if (e.status !== f.status) {
      push(e, { at: scan.at, status: f.status, note: f.status === 'excepted' ? 'covered by an exception' : 'exception expired or removed' });
      (f.status === 'excepted' ? out.excepted : out.unexcepted).push(f.id);
      e.status = f.status;
      material = true;
    }
    if (material || e.lastSeen !== scan.at) {
      e.lastSeen = scan.at;
      entries.set(f.id, e);
      changed.add(f.id);
    }
  }

  const candidates: LedgerEntry[] = [];
  const holds = new Set(scan.holds ?? []);
  const held = (subjectId: string): boolean => {
    // A whole subject id (a mailbox of a failed shard range), or a prefix ending in `/` (a drive).
    if (holds.has(subjectId)) return true;
    for (let i = subjectId.indexOf('/'); i >= 0; i = subjectId.indexOf('/', i + 1)) if (holds.has(subjectId.slice(0, i + 1))) return true;
    return false;
  };
  for (const [id, before] of current) {
    if (seen.has(id) || before.status === 'resolved' || before.kind === 'event') continue;
    if (holds.size && held(before.subject.id)) continue;
    if (!scan.areas.includes(before.area)) continue;
    const areaComplete = scan.coverage[before.area]?.status === 'complete';
    if (!areaComplete && !scan.completeRules?.includes(before.ruleId)) continue;
    candidates.push(before);
  }
  const heldBack = heldAreas(current, candidates, scan.guard);
  if (heldBack.length) out.held = heldBack;
  for (const before of candidates) {
    if (heldBack.some((h) => h.area === before.area)) continue;
    const id = before.id;
    const areaComplete = scan.coverage[before.area]?.status === 'complete';
    const e: LedgerEntry = { ...before, status: 'resolved', resolvedAt: scan.at, history: [...before.history] };
    push(e, { at: scan.at, status: 'resolved', note: areaComplete ? 'not seen by a complete scan of its area' : 'not seen by its rule, run on complete inputs' });
    entries.set(id, e);
    changed.add(id);
    out.resolved.push(id);
  }
  out.changed = [...changed].map((id) => entries.get(id) as LedgerEntry);
  return out;
}

/** The areas whose share of open state findings about to resolve exceeds the guard's. */
function heldAreas(current: ReadonlyMap<string, LedgerEntry>, candidates: readonly LedgerEntry[], guard: ScanOutcome['guard']): HeldArea[] {
  if (!guard || guard.confirmed) return [];
  const held: HeldArea[] = [];
  for (const area of new Set(candidates.map((e) => e.area))) {
    let open = 0;
    for (const e of current.values()) if (e.area === area && e.kind === 'state' && e.status !== 'resolved') open++;
    const wouldResolve = candidates.filter((e) => e.area === area).length;
    if (open >= guard.minOpen && wouldResolve > open * guard.maxShare) held.push({ area, wouldResolve, open });
  }
  return held;
}

/** A person closes an event finding (5-3-3: cause checked and contained); the note is kept. */
export function closeByPerson(entry: LedgerEntry, note: string, at: string): LedgerEntry {
  const e: LedgerEntry = { ...entry, status: 'resolved', resolvedAt: at, history: [...entry.history] };
  push(e, { at, status: 'resolved', note: `closed by a person: ${note}` });
  return e;
}
