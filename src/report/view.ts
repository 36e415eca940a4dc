/**
 * What the reports list: the open (and excepted) entries of the ledger after this scan's
 * reconciliation — not only what this scan saw, so that an open event finding (SIGN-*) stays
 * listed until a person closes it — each with its ticket: the one on record, or for an entry
 * whose ticket opens after the reports are written, the ticket syncTickets will open
 * ({@link plannedTicket}, the same pure function), so the report and the ticket never disagree.
 * Pure: no I/O.
 */
import type { Policy } from '../config/policy';
import type { LocalText, Subject } from '../findings/finding';
import type { LedgerEntry } from '../findings/ledger';
import type { ScanResult } from '../pipeline';
import { SEVERITIES, type Area, type RuleId, type Severity } from '../rules/ids';
import { plannedTicket } from '../tickets/tickets';

/** The reconciled ledger as the pipeline hands it to the reports (runScan's `beforeCommit`). */
export interface ReportLedger {
  /** Every entry after this scan's reconciliation (before its tickets are synced). */
  entries: readonly LedgerEntry[];
  /** Finding ids this scan opened, reopened and resolved. */
  opened: readonly string[];
  reopened: readonly string[];
  resolved: readonly string[];
  /** user object id → department, as routing reads it. */
  departmentOf: (userId: string) => string | null | undefined;
  /** A person's display name by object id, UPN or mail (when the scan read the users). */
  displayNameOf?: (idOrAddress: string) => string | undefined;
  policy: Policy;
  /** The scan's start: tickets this run opens are dated from it, and overdue is judged at it. */
  now: Date;
}

/** A ticket as the report shows it. */
export interface RowTicket {
  id: string;
  assignees: string[];
  /** False: no owner matched and the system administrators got it (担当未割当). */
  routed: boolean;
  dueDate: string;
  dueDateTime: string;
  /** Opened by this run, after the reports were written. */
  planned: boolean;
  /** Open and past its due instant at the scan's start. */
  overdue: boolean;
}

/** One finding as the reports list it. */
export interface ReportRow {
  id: string;
  ruleId: RuleId;
  kind: 'state' | 'event';
  severity: Severity;
  area: Area;
  clauses: readonly string[];
  title: LocalText;
  subject: Subject;
  status: 'open' | 'excepted';
  firstSeen: string;
  lastSeen: string;
  evidence: Record<string, unknown>;
  /** This scan saw it (false: still open in the ledger from an earlier scan). */
  seenThisScan: boolean;
  /** This scan read the finding's area (false: e.g. a sign-in watch run listing an open file finding). */
  areaRead: boolean;
  /** What this scan did to it. */
  change?: 'new' | 'reopened';
  ticket?: RowTicket;
}

/** A finding this scan resolved, for "what changed". */
export interface ResolvedRow {
  id: string;
  ruleId: RuleId;
  severity: Severity;
  title: LocalText;
  subject: Subject;
  ticketId?: string;
}

/** Everything the report and the CSV show about findings. */
export interface ReportView {
  rows: ReportRow[];
  resolved: ResolvedRow[];
  /** False without a store: the rows are this scan's findings only, with no tickets. */
  fromLedger: boolean;
  displayNameOf: (idOrAddress: string) => string | undefined;
}

function compareRows(a: ReportRow, b: ReportRow): number {
  return (
    SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity) ||
    (a.status === b.status ? 0 : a.status === 'open' ? -1 : 1) ||
    a.ruleId.localeCompare(b.ruleId) ||
    a.subject.name.localeCompare(b.subject.name) ||
    a.id.localeCompare(b.id)
  );
}

/** The rows of a scan's reports: from the ledger when there is one, else from the scan's findings. */
export function reportView(result: ScanResult, ledger?: ReportLedger): ReportView {
  const seen = new Set(result.findings.map((f) => f.id));
  if (!ledger) {
    const rows: ReportRow[] = result.findings.map((f) => ({ ...f, seenThisScan: true, areaRead: true }));
    return { rows: rows.sort(compareRows), resolved: [], fromLedger: false, displayNameOf: () => undefined };
  }
  const opened = new Set(ledger.opened);
  const reopened = new Set(ledger.reopened);
  const rows: ReportRow[] = [];
  for (const e of ledger.entries) {
    if (e.status === 'resolved') continue;
    let ticket: RowTicket | undefined;
    if (e.status === 'open') {
      // A ticket on record keeps its routing and due date (a reopened ticket is the same ticket).
      const t = e.ticket ?? plannedTicket(e, ledger.policy, ledger.departmentOf, ledger.now);
      ticket = {
        id: t.id,
        assignees: [...t.assignees],
        routed: t.routed,
        dueDate: t.dueDate,
        dueDateTime: t.dueDateTime,
        planned: !e.ticket,
        overdue: Date.parse(t.dueDateTime) < ledger.now.getTime(),
      };
    }
    rows.push({
      id: e.id,
      ruleId: e.ruleId,
      kind: e.kind,
      severity: e.severity,
      area: e.area,
      clauses: e.clauses,
      title: e.title,
      subject: e.subject,
      status: e.status,
      firstSeen: e.firstSeen,
      lastSeen: e.lastSeen,
      evidence: e.evidence,
      seenThisScan: seen.has(e.id),
      areaRead: result.areas.includes(e.area),
      ...(opened.has(e.id) ? { change: 'new' as const } : reopened.has(e.id) ? { change: 'reopened' as const } : {}),
      ...(ticket ? { ticket } : {}),
    });
  }
  const byId = new Map(ledger.entries.map((e) => [e.id, e]));
  const resolved = ledger.resolved.flatMap((id) => {
    const e = byId.get(id);
    return e ? [{ id, ruleId: e.ruleId, severity: e.severity, title: e.title, subject: e.subject, ...(e.ticket ? { ticketId: e.ticket.id } : {}) }] : [];
  });
  return { rows: rows.sort(compareRows), resolved, fromLedger: true, displayNameOf: ledger.displayNameOf ?? (() => undefined) };
}
