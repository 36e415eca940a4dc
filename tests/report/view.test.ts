/**
 * What the reports list (src/report/view.ts): the open entries of the ledger, not only what this
 * scan saw, each with the ticket syncTickets opens for it — the same id, assignees and due date,
 * because both come from plannedTicket.
 */
import { validatePolicy } from '../../src/config/policy';
import { fingerprint, type Finding } from '../../src/findings/finding';
import { closeByPerson, reconcile, type LedgerEntry } from '../../src/findings/ledger';
import type { ScanResult } from '../../src/pipeline';
import { reportView, type ReportLedger } from '../../src/report/view';
import { syncTickets } from '../../src/tickets/tickets';

const policy = validatePolicy({
  organization: {
    systemAdministrators: ['sysadmin@example.lg.jp'],
    departments: [{ name: '総務課', owner: 'soumu-kacho@example.lg.jp' }],
  },
});
const DAY1 = new Date('2026-11-26T01:00:00Z');
const DAY2 = new Date('2026-12-10T01:00:00Z');
const departments = new Map([['u-1', '総務課'], ['u-2', '消防署']]);
const departmentOf = (id: string): string | undefined => departments.get(id);

function mfa02(userId: string): Finding {
  const subject = { kind: 'user' as const, id: userId, name: `${userId}@example.lg.jp` };
  return {
    id: fingerprint('MFA-02', subject), ruleId: 'MFA-02', clauses: ['5-1-3'], kind: 'state', severity: 'high', area: 'mfa', subject,
    title: { ja: '多要素認証が未登録の職員', en: 'Member without MFA registered' }, evidence: { isMfaRegistered: false, department: departments.get(userId) ?? null },
    status: 'open', firstSeen: '', lastSeen: '',
  };
}

function sign01(userId: string, at: string): Finding {
  const subject = { kind: 'user' as const, id: userId, name: `${userId}@example.lg.jp` };
  return {
    id: fingerprint('SIGN-01', subject), ruleId: 'SIGN-01', clauses: ['5-3-3'], kind: 'event', severity: 'high', area: 'signins', subject,
    title: { ja: '認証失敗の多発（利用者）', en: 'Burst of failed sign-ins for one user' },
    evidence: { occurrences: [{ windowStart: at, windowEnd: at, failures: 11, successes: 0, users: [subject.name], addresses: ['192.0.2.150'], countries: ['US'], signInIds: ['s1'] }], failures: 11, successes: 0 },
    status: 'open', firstSeen: '', lastSeen: '',
  };
}

function result(findings: Finding[], at: Date, areas: ScanResult['areas'] = ['mfa', 'signins']): ScanResult {
  return {
    schemaVersion: 1, tenantId: 't', scanId: `scan-${at.toISOString()}`, startedAt: at.toISOString(), finishedAt: at.toISOString(), areas,
    coverage: Object.fromEntries(areas.map((a) => [a, { status: 'complete', items: 1 }])), exitCode: 0, findings, skipped: [],
    graph: { requests: 1, batchCalls: 0, batchItems: 0, retries: 0, throttled: 0, units: {} },
  };
}

function ledgerOf(current: Map<string, LedgerEntry>, findings: Finding[], at: Date, areas: ScanResult['areas'] = ['mfa', 'signins']): { view: ReportLedger; entries: Map<string, LedgerEntry> } {
  const rec = reconcile(current, { findings, coverage: Object.fromEntries(areas.map((a) => [a, { status: 'complete' as const, items: 1 }])), areas, at: at.toISOString() });
  return {
    entries: rec.entries,
    view: { entries: [...rec.entries.values()], opened: rec.opened, reopened: rec.reopened, resolved: rec.resolved, departmentOf, policy, now: at },
  };
}

describe('reportView', () => {
  it('gives every open entry the ticket syncTickets then opens: same id, assignees, routing and due date', async () => {
    const findings = [mfa02('u-1'), mfa02('u-2'), sign01('u-1', '2026-11-25T22:00:00.000Z')];
    const { view, entries } = ledgerOf(new Map(), findings, DAY1);
    const rows = reportView(result(findings, DAY1), view).rows;
    expect(rows).toHaveLength(3);
    const sync = await syncTickets(entries.values(), { policy, now: DAY1, sinks: [], departmentOf });
    expect(sync.changed).toHaveLength(3);
    for (const e of sync.changed) {
      const row = rows.find((r) => r.id === e.id);
      expect(row?.ticket).toEqual({
        id: e.ticket?.id, assignees: e.ticket?.assignees, routed: e.ticket?.routed, dueDate: e.ticket?.dueDate, dueDateTime: e.ticket?.dueDateTime, planned: true, overdue: false,
      });
    }
    // u-2's department has no owner: the system administrators have it, unrouted.
    expect(rows.find((r) => r.subject.id === 'u-2')?.ticket).toMatchObject({ assignees: ['sysadmin@example.lg.jp'], routed: false });
    expect(rows.find((r) => r.subject.id === 'u-1' && r.ruleId === 'MFA-02')?.ticket).toMatchObject({ assignees: ['soumu-kacho@example.lg.jp'], routed: true });
    expect(rows.every((r) => r.change === 'new' && r.seenThisScan)).toBe(true);
  });

  it('keeps an open event finding from an earlier scan listed, marked as not seen now, until a person closes it', async () => {
    const first = [mfa02('u-1'), sign01('u-1', '2026-11-25T22:00:00.000Z')];
    const one = ledgerOf(new Map(), first, DAY1);
    const synced = await syncTickets(one.entries.values(), { policy, now: DAY1, sinks: [], departmentOf });
    for (const e of synced.changed) one.entries.set(e.id, e);
    // Two weeks later: the MFA finding is seen again, the sign-in burst is not (its window has passed).
    const second = [mfa02('u-1')];
    const two = ledgerOf(one.entries, second, DAY2);
    const view = reportView(result(second, DAY2), two.view);
    const sign = view.rows.find((r) => r.ruleId === 'SIGN-01');
    expect(sign).toMatchObject({ seenThisScan: false, status: 'open', lastSeen: DAY1.toISOString() });
    // Its ticket is the one on record, dated from the first scan, and overdue now.
    const recorded = one.entries.get(sign?.id ?? '')?.ticket;
    expect(sign?.ticket).toMatchObject({ id: recorded?.id, dueDate: recorded?.dueDate, planned: false, overdue: true });
    expect(view.rows.find((r) => r.ruleId === 'MFA-02')).toMatchObject({ seenThisScan: true });
    expect(view.rows.every((r) => r.change === undefined)).toBe(true);

    // Closed by a person: no longer listed.
    const closed = new Map(two.entries);
    closed.set(sign?.id ?? '', closeByPerson(two.entries.get(sign?.id ?? '') as LedgerEntry, 'user confirmed: typo', DAY2.toISOString()));
    const three = ledgerOf(closed, second, DAY2);
    expect(reportView(result(second, DAY2), three.view).rows.map((r) => r.ruleId)).toEqual(['MFA-02']);
  });

  it('a scan of other areas (the sign-in watch) still lists open findings of areas it did not read, marked as such', () => {
    const one = ledgerOf(new Map(), [mfa02('u-1')], DAY1);
    const two = ledgerOf(one.entries, [], DAY2, ['signins']);
    const rows = reportView(result([], DAY2, ['signins']), two.view).rows;
    expect(rows).toEqual([expect.objectContaining({ ruleId: 'MFA-02', status: 'open', seenThisScan: false, areaRead: false })]);
    expect(two.view.resolved).toEqual([]);
  });

  it('lists what this scan resolved, and without a ledger only the scan\'s own findings with no ticket', () => {
    const one = ledgerOf(new Map(), [mfa02('u-1'), mfa02('u-2')], DAY1);
    const two = ledgerOf(one.entries, [mfa02('u-1')], DAY2);
    const view = reportView(result([mfa02('u-1')], DAY2), two.view);
    expect(view.resolved.map((r) => r.subject.id)).toEqual(['u-2']);
    expect(view.rows.map((r) => r.subject.id)).toEqual(['u-1']);

    const alone = reportView(result([mfa02('u-1')], DAY2));
    expect(alone.fromLedger).toBe(false);
    expect(alone.rows).toHaveLength(1);
    expect(alone.rows[0]?.ticket).toBeUndefined();
  });
});
