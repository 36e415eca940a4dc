/**
 * The CISO monthly digest's content (outputs.md "CISO digest"), computed purely from the ledger,
 * the scan records, the month's access inventory and the policy. Nothing here reads a clock: the
 * month's boundaries are midnight in the organisation's time zone, everything is stated "as of"
 * the month's end (or `now`, while the month is still running), so the same month computed twice
 * from the same data is the same model, and a past month does not change with the day it is
 * generated.
 *
 * Status "as of" an instant comes from each entry's history (the last change before it), not
 * from its current status, so that a finding resolved in December still counts as open at the
 * end of November. Where the history is cut (the ledger keeps the latest 50 changes), a finding
 * whose state at that time is unknown counts as open: silence is never read as resolved.
 */
import { DateTime } from 'luxon';
import type { Policy, PolicyException } from '../config/policy';
import type { CoverageStatus } from '../collect/snapshot';
import { covers, exceptionRecord } from '../findings/exceptions';
import type { Finding, LocalText } from '../findings/finding';
import type { LedgerEntry, LedgerStatus } from '../findings/ledger';
import { AREAS, SEVERITIES, type Area, type RuleId, type Severity } from '../rules/ids';
import { RULES } from '../rules/index';
import { manualClauses } from '../standard/catalogue';
import type { ScanRecord } from '../store/store';
import type { AccessInventory, InventorySection, PrivilegedRow, GuestRow, SharedAccountRow, ShareRow } from './inventory';

/** How many months the trend shows, the digest's month included. */
export const TREND_MONTHS = 6;
/** An exception expiring within this many days after the as-of time is "expiring". */
export const EXPIRING_DAYS = 30;
/** Top source addresses and countries shown. */
export const TOP_N = 10;

export interface DigestInput {
  /** `YYYY-MM`, in the organisation's time zone. */
  month: string;
  tenantId: string;
  entries: Iterable<LedgerEntry>;
  /** The tenant's scan records (any order; only those up to the as-of time are used). */
  scans: readonly ScanRecord[];
  /** The month's access inventory (inventory.ts), if a scan of the month recorded one. */
  inventory?: AccessInventory;
  policy: Policy;
  /** Only decides whether the month is over; a past month's content does not depend on it. */
  now: Date;
  /**
   * The evidence chain's head of the month (store/evidence.ts monthHead: its last record), so that
   * the CISO's copy anchors the trail outside the store (5-3-2); absent: none, or not read.
   */
  evidenceHead?: EvidenceHead;
}

/** The last evidence record of a month: what `m365-audit evidence verify` must still find. */
export interface EvidenceHead {
  sequence: number;
  hash: string;
  scanId: string;
  startedAt: string;
}

/** A finding as the digest lists it. */
export interface DigestItem {
  id: string;
  ruleId: RuleId;
  severity: Severity;
  area: Area;
  subject: string;
  title: LocalText;
  /** When it happened (the change's time, ISO). */
  at: string;
  /** For resolutions: closed by a person (event findings) rather than by a scan. */
  byPerson?: boolean;
}

export interface TicketRow {
  ticketId: string;
  findingId: string;
  ruleId: RuleId;
  severity: Severity;
  subject: string;
  title: LocalText;
  assignees: string[];
  routed: boolean;
  dueDate: string;
  /** Whole days past the due time at the as-of time (0 when not overdue). */
  daysOverdue: number;
}

export interface ExceptionRow {
  ruleId: string;
  subject: string;
  reason: string;
  approvedBy: string;
  compensatingControl: string;
  approvedOn: string;
  expiresOn: string;
  /** Ledger entries the exception covers (excepted at the as-of time). */
  covering: number;
  /** For expired exceptions: it expired inside the digest's month. */
  expiredInMonth?: boolean;
}

export interface SignInRuleCount {
  ruleId: RuleId;
  title: LocalText;
  /** Occurrences whose window started in the month. */
  occurrences: number;
  /** Distinct subjects (users or addresses) with such an occurrence. */
  subjects: number;
  failures: number;
  successes: number;
}

export interface TrendPoint {
  month: string;
  /** Open findings per severity at the month's last full scan; null: no full scan that month. */
  counts: Record<Severity, number> | null;
  /** That scan was partial (its counts may be short of the truth). */
  partial: boolean;
  scanId?: string;
}

export interface AreaCoverage {
  area: Area;
  /** Scans of the month that read the area, by status. */
  complete: number;
  partial: number;
  failed: number;
  /** The status of the month's last scan of the area; null when no scan of the month read it. */
  last: CoverageStatus | null;
  /** The last non-complete status's detail, if any. */
  detail?: string;
}

/** The inventory as the digest shows it: shares carry when their finding was first seen. */
export interface DigestInventory {
  scanId: string;
  takenAt: string;
  privileged: InventorySection<PrivilegedRow>;
  guests: InventorySection<GuestRow>;
  shares: InventorySection<ShareRow & { firstSeen: string | null }>;
  sharedAccounts: InventorySection<SharedAccountRow>;
}

export interface DigestModel {
  month: string;
  tenantId: string;
  organization: string;
  timeZone: string;
  /** The month's boundaries (ISO, UTC): [start, end). */
  start: string;
  end: string;
  /** min(now, end): what "as of" means throughout. */
  asOf: string;
  /** The month had not ended at `now`. */
  inProgress: boolean;
  open: {
    total: number;
    bySeverity: Record<Severity, number>;
    byArea: Record<Area, Record<Severity, number>>;
    excepted: number;
  };
  changes: { opened: DigestItem[]; resolved: DigestItem[]; reopened: DigestItem[] };
  overdue: TicketRow[];
  unrouted: TicketRow[];
  /** null: no scan of the month recorded an inventory. */
  inventory: DigestInventory | null;
  exceptions: { active: ExceptionRow[]; expiring: ExceptionRow[]; expired: ExceptionRow[] };
  signIns: {
    byRule: SignInRuleCount[];
    topAddresses: Array<{ address: string; occurrences: number }>;
    topCountries: Array<{ country: string; occurrences: number }>;
    /** The sign-ins area was not read completely by every scan of the month. */
    coverage: CoverageStatus | null;
  };
  trend: TrendPoint[];
  coverage: { scans: number; areas: AreaCoverage[] };
  manualClauses: Array<{ id: string; title: LocalText }>;
  /** The month's evidence chain head; null when no record of the month was found. */
  evidenceHead: EvidenceHead | null;
}

const emptyCounts = (): Record<Severity, number> => Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;

/** The areas that have rules in this release (what a full scan reads). */
const FULL_AREAS: readonly Area[] = AREAS.filter((a) => RULES.some((r) => r.area === a));

const t = (iso: string): number => Date.parse(iso);

/** Month boundaries of `YYYY-MM` in `timeZone`, as UTC ISO strings. */
export function monthBounds(month: string, timeZone: string): { start: string; end: string } {
  const start = DateTime.fromFormat(month, 'yyyy-MM', { zone: timeZone });
  if (!/^\d{4}-\d{2}$/.test(month) || !start.isValid) throw new Error(`month ${month} is not a month written YYYY-MM`);
  return { start: start.toUTC().toISO() as string, end: start.plus({ months: 1 }).toUTC().toISO() as string };
}

/** The month before `month` (or `n` months before). */
export function previousMonth(month: string, n = 1): string {
  return DateTime.fromFormat(month, 'yyyy-MM', { zone: 'utc' }).minus({ months: n }).toFormat('yyyy-MM');
}

/** The last month that has ended at `now` in `timeZone` (the CLI's default). */
export function lastFullMonth(now: Date, timeZone: string): string {
  return DateTime.fromJSDate(now, { zone: timeZone }).startOf('month').minus({ months: 1 }).toFormat('yyyy-MM');
}

/** An entry's status at instant `at` (ms) from its history; undefined when it did not exist yet. */
export function statusAt(e: LedgerEntry, at: number): LedgerStatus | undefined {
  if (t(e.firstSeen) >= at) return undefined;
  let status: LedgerStatus | undefined;
  for (const h of e.history) if (t(h.at) < at) status = h.status;
  // Existed, but the kept history starts later: unknown, and unknown is never "resolved".
  return status ?? 'open';
}

function item(e: LedgerEntry, at: string, extra: Partial<DigestItem> = {}): DigestItem {
  return { id: e.id, ruleId: e.ruleId, severity: e.severity, area: e.area, subject: e.subject.name, title: e.title, at, ...extra };
}

const bySeverityThen = <T extends { severity: Severity }>(key: (x: T) => string) => (a: T, b: T): number =>
  SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity) || (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);

function exceptionRow(e: PolicyException, covering: number, extra: Partial<ExceptionRow> = {}): ExceptionRow {
  return { ruleId: e.ruleId, ...exceptionRecord(e), covering, ...extra };
}

/** Counts how often each value appears across lists (once per list), most frequent first, top `n`. */
function top(lists: ReadonlyArray<readonly string[]>, n: number): Array<{ value: string; count: number }> {
  const counts = new Map<string, number>();
  for (const l of lists) for (const v of new Set(l)) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts]
    .map(([value, count]) => ({ value, count }))
    .sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0))
    .slice(0, n);
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** The digest of one month. Pure. */
export function digestModel(input: DigestInput): DigestModel {
  const { policy, month } = input;
  const timeZone = policy.organization.timeZone;
  const { start, end } = monthBounds(month, timeZone);
  const startMs = t(start);
  const endMs = t(end);
  const asOfMs = Math.min(input.now.getTime(), endMs);
  const asOf = new Date(asOfMs).toISOString();
  const entries = [...input.entries].sort((a, b) => (a.id < b.id ? -1 : 1));
  const inMonth = (iso: string): boolean => t(iso) >= startMs && t(iso) < endMs && t(iso) < asOfMs;

  // Open findings as of the month's end, by severity and by area.
  const bySeverity = emptyCounts();
  const byArea = Object.fromEntries(AREAS.map((a) => [a, emptyCounts()])) as Record<Area, Record<Severity, number>>;
  let excepted = 0;
  const statusOf = new Map<string, LedgerStatus | undefined>();
  for (const e of entries) {
    const s = statusAt(e, asOfMs);
    statusOf.set(e.id, s);
    if (s === 'open') {
      bySeverity[e.severity]++;
      byArea[e.area][e.severity]++;
    } else if (s === 'excepted') excepted++;
  }

  // What changed in the month, from each entry's history.
  const opened: DigestItem[] = [];
  const resolved: DigestItem[] = [];
  const reopened: DigestItem[] = [];
  for (const e of entries) {
    const first = e.history[0];
    if (inMonth(e.firstSeen) && !(first && first.at === e.firstSeen && first.status === 'excepted')) opened.push(item(e, e.firstSeen));
    for (const h of e.history) {
      if (!inMonth(h.at)) continue;
      if (h.status === 'resolved') resolved.push(item(e, h.at, h.note.startsWith('closed by a person') ? { byPerson: true } : {}));
      else if (h.note === 'seen again after being resolved') reopened.push(item(e, h.at));
    }
  }
  const byAt = (a: DigestItem, b: DigestItem): number => bySeverityThen<DigestItem>((x) => `${x.at}|${x.subject}|${x.id}`)(a, b);
  opened.sort(byAt);
  resolved.sort(byAt);
  reopened.sort(byAt);

  // Tickets open at the as-of time: overdue ones, and those no owner matched.
  const overdue: TicketRow[] = [];
  const unrouted: TicketRow[] = [];
  for (const e of entries) {
    const tk = e.ticket;
    if (!tk || statusOf.get(e.id) !== 'open' || t(tk.openedAt) >= asOfMs) continue;
    const late = asOfMs - t(tk.dueDateTime);
    const row: TicketRow = {
      ticketId: tk.id,
      findingId: e.id,
      ruleId: e.ruleId,
      severity: e.severity,
      subject: e.subject.name,
      title: e.title,
      assignees: [...tk.assignees],
      routed: tk.routed,
      dueDate: tk.dueDate,
      daysOverdue: late > 0 ? Math.ceil(late / 86_400_000) : 0,
    };
    if (late > 0) overdue.push(row);
    if (!tk.routed) unrouted.push(row);
  }
  overdue.sort((a, b) => b.daysOverdue - a.daysOverdue || bySeverityThen<TicketRow>((x) => x.ticketId)(a, b));
  unrouted.sort(bySeverityThen<TicketRow>((x) => x.ticketId));

  // Exceptions: in force at the as-of time (and those ending within 30 days), and expired.
  const dayStart = (d: string): number => DateTime.fromISO(d, { zone: timeZone }).startOf('day').toMillis();
  const dayEnd = (d: string): number => DateTime.fromISO(d, { zone: timeZone }).endOf('day').toMillis();
  const coveringCount = (x: PolicyException): number =>
    entries.filter((e) => statusOf.get(e.id) === 'excepted' && covers(x, { ruleId: e.ruleId, subject: e.subject } as Finding)).length;
  const active: ExceptionRow[] = [];
  const expiring: ExceptionRow[] = [];
  const expired: ExceptionRow[] = [];
  for (const x of policy.exceptions) {
    if (dayStart(x.approvedOn) > asOfMs) continue; // approved after the month: not yet part of it
    const ends = dayEnd(x.expiresOn);
    if (ends < asOfMs) expired.push(exceptionRow(x, 0, { expiredInMonth: ends >= startMs }));
    else if (ends < asOfMs + EXPIRING_DAYS * 86_400_000) expiring.push(exceptionRow(x, coveringCount(x)));
    else active.push(exceptionRow(x, coveringCount(x)));
  }
  const byExpiry = (a: ExceptionRow, b: ExceptionRow): number => (a.expiresOn < b.expiresOn ? -1 : a.expiresOn > b.expiresOn ? 1 : a.ruleId < b.ruleId ? -1 : a.ruleId > b.ruleId ? 1 : a.subject < b.subject ? -1 : 1);
  active.sort(byExpiry);
  expiring.sort(byExpiry);
  expired.sort((a, b) => -byExpiry(a, b));

  // The month's sign-in detections: occurrences whose window started in the month.
  const signRules = RULES.filter((r) => r.kind === 'event');
  const occurrencesOf = (e: LedgerEntry): Array<Record<string, unknown>> =>
    (Array.isArray(e.evidence.occurrences) ? (e.evidence.occurrences as Array<Record<string, unknown>>) : []).filter(
      (o) => typeof o.windowStart === 'string' && inMonth(o.windowStart),
    );
  const monthOccurrences: Array<Record<string, unknown>> = [];
  const byRule: SignInRuleCount[] = signRules.map((r) => {
    let occurrences = 0;
    let subjects = 0;
    let failures = 0;
    let successes = 0;
    for (const e of entries) {
      if (e.ruleId !== r.id) continue;
      const os = occurrencesOf(e);
      if (!os.length) continue;
      subjects++;
      occurrences += os.length;
      for (const o of os) {
        failures += Number(o.failures) || 0;
        successes += Number(o.successes) || 0;
        monthOccurrences.push(o);
      }
    }
    return { ruleId: r.id, title: r.title, occurrences, subjects, failures, successes };
  });

  // The month's scans: coverage per area, and the six-month trend from full scans' counts.
  const scans = input.scans.filter((s) => t(s.startedAt) < asOfMs).sort((a, b) => t(a.startedAt) - t(b.startedAt) || (a.scanId < b.scanId ? -1 : 1));
  const monthScans = scans.filter((s) => inMonth(s.startedAt));
  const areas: AreaCoverage[] = FULL_AREAS.map((area) => {
    const c: AreaCoverage = { area, complete: 0, partial: 0, failed: 0, last: null };
    for (const s of monthScans) {
      const cov = s.coverage[area];
      if (!cov) continue;
      c[cov.status]++;
      c.last = cov.status;
      if (cov.status !== 'complete' && cov.detail) c.detail = cov.detail;
    }
    return c;
  });
  const trend: TrendPoint[] = [];
  for (let i = TREND_MONTHS - 1; i >= 0; i--) {
    const m = previousMonth(month, i);
    const b = monthBounds(m, timeZone);
    const full = scans.filter((s) => t(s.startedAt) >= t(b.start) && t(s.startedAt) < t(b.end) && FULL_AREAS.every((a) => s.areas.includes(a)));
    const last = full[full.length - 1];
    trend.push(last ? { month: m, counts: { ...emptyCounts(), ...last.counts }, partial: last.exitCode !== 0, scanId: last.scanId } : { month: m, counts: null, partial: false });
  }
  const signCoverage = areas.find((a) => a.area === 'signins');

  // The inventory, with when each share's finding was first seen (the ledger knows; a scan does not).
  let inventory: DigestInventory | null = null;
  if (input.inventory) {
    const firstSeen = new Map<string, string>();
    for (const e of entries) {
      if ((e.ruleId === 'FILE-01' || e.ruleId === 'FILE-02') && e.subject.kind === 'driveItem') {
        const prev = firstSeen.get(e.subject.id);
        if (!prev || e.firstSeen < prev) firstSeen.set(e.subject.id, e.firstSeen);
      }
    }
    const inv = input.inventory;
    inventory = {
      scanId: inv.scanId,
      takenAt: inv.takenAt,
      privileged: inv.privileged,
      guests: inv.guests,
      shares: { ...inv.shares, rows: inv.shares.rows.map((r) => ({ ...r, firstSeen: firstSeen.get(r.subjectId) ?? null })) },
      sharedAccounts: inv.sharedAccounts,
    };
  }

  return {
    month,
    tenantId: input.tenantId,
    organization: policy.organization.name,
    timeZone,
    start,
    end,
    asOf,
    inProgress: input.now.getTime() < endMs,
    open: { total: SEVERITIES.reduce((n, s) => n + bySeverity[s], 0), bySeverity, byArea, excepted },
    changes: { opened, resolved, reopened },
    overdue,
    unrouted,
    inventory,
    exceptions: { active, expiring, expired },
    signIns: {
      byRule,
      topAddresses: top(monthOccurrences.map((o) => strings(o.addresses)), TOP_N).map((x) => ({ address: x.value, occurrences: x.count })),
      topCountries: top(monthOccurrences.map((o) => strings(o.countries)), TOP_N).map((x) => ({ country: x.value, occurrences: x.count })),
      coverage: !signCoverage || signCoverage.last === null ? null : signCoverage.failed ? 'failed' : signCoverage.partial ? 'partial' : 'complete',
    },
    trend,
    coverage: { scans: monthScans.length, areas },
    manualClauses: manualClauses().map((c) => ({ id: c.id, title: { ja: c.title.ja, en: c.title.en } })),
    evidenceHead: input.evidenceHead ? { ...input.evidenceHead } : null,
  };
}
