/**
 * A ledger, scan records, a snapshot and a policy built by hand for the digest tests: November
 * 2026 in Tokyo ([2026-10-31T15:00Z, 2026-11-30T15:00Z)), with events on both sides of the turn
 * of the month, an exception expiring inside the month, an overdue ticket and a Global
 * Administrator role held through a group.
 */
import { validatePolicy, type Policy } from '../../src/config/policy';
import type { Snapshot } from '../../src/collect/snapshot';
import type { HistoryEntry, LedgerEntry, LedgerStatus, TicketRecord } from '../../src/findings/ledger';
import type { Area, RuleId, Severity } from '../../src/rules/ids';
import { RULES } from '../../src/rules/index';
import type { ScanRecord } from '../../src/store/store';

export const TENANT = 'tenant-digest-test';
export const GA = '62e90394-69f5-4237-9190-012177145e10';
export const SHAREPOINT_ADMIN = 'f28a1f50-f6e7-4571-818b-6a12f2af6b6c';

export function policy(): Policy {
  return validatePolicy({
    organization: {
      name: '西置賜行政組合',
      ciso: 'ciso@example.lg.jp',
      systemAdministrators: ['admin@example.lg.jp'],
      departments: [{ name: '総務課', owner: 'soumu-kacho@example.lg.jp' }],
    },
    files: {
      assets: [
        { name: '人事', owner: 'jinji@example.lg.jp', location: 'https://contoso.sharepoint.com/sites/jinji', class: 'I' },
        { name: '財務', owner: 'zaimu@example.lg.jp', location: 'https://contoso.sharepoint.com/sites/zaimu', class: 'II' },
        { name: '広報', owner: 'koho@example.lg.jp', location: 'https://contoso.sharepoint.com/sites/koho', class: 'III' },
      ],
    },
    exceptions: [
      // Expires inside November (end of 11-15 JST).
      { ruleId: 'ACCT-01', subject: 'shared-reception@example.lg.jp', reason: '窓口の共用端末', approvedBy: 'CISO', compensatingControl: '利用簿', approvedOn: '2025-11-20', expiresOn: '2026-11-15' },
      // Expires within 30 days after the month's end.
      { ruleId: 'ACCT-01', subject: 'shared-gikai@example.lg.jp', reason: '議会事務局の共用', approvedBy: 'CISO', compensatingControl: '操作ログ', approvedOn: '2026-01-10', expiresOn: '2026-12-20' },
      // In force well past the month.
      { ruleId: 'MFA-02', subject: 'kiosk@example.lg.jp', reason: 'キオスク端末', approvedBy: 'CISO', compensatingControl: '場所で制限', approvedOn: '2026-06-01', expiresOn: '2027-05-31' },
      // Approved after the month: not part of November.
      { ruleId: 'FILE-05', subject: '*', reason: '移行中', approvedBy: 'CISO', compensatingControl: '-', approvedOn: '2026-12-10', expiresOn: '2027-03-31' },
    ],
  }, 'test policy');
}

function h(at: string, status: LedgerStatus, note: string): HistoryEntry {
  return { at, status, note };
}

function ticket(id: string, openedAt: string, dueDateTime: string, assignees: string[], routed = true, state: 'open' | 'closed' = 'open'): TicketRecord {
  return { id: `T-${id.slice(0, 12)}`, title: id, assignees, routed, dueDate: dueDateTime.slice(0, 10), dueDateTime, state, transitions: 0, openedAt, closedAt: null, sinks: {} };
}

function entry(o: {
  id: string; ruleId: RuleId; area: Area; severity: Severity; subject: string; kind?: 'state' | 'event'; subjectKind?: LedgerEntry['subject']['kind']; subjectId?: string;
  history: HistoryEntry[]; ticket?: TicketRecord | null; evidence?: Record<string, unknown>;
}): LedgerEntry {
  const last = o.history[o.history.length - 1] as HistoryEntry;
  const first = o.history[0] as HistoryEntry;
  return {
    id: o.id,
    ruleId: o.ruleId,
    kind: o.kind ?? 'state',
    area: o.area,
    severity: o.severity,
    clauses: ['5-1-3'],
    title: RULES.find((r) => r.id === o.ruleId)?.title ?? { ja: o.ruleId, en: o.ruleId },
    subject: { kind: o.subjectKind ?? 'user', id: o.subjectId ?? `id-${o.subject}`, name: o.subject },
    status: last.status,
    firstSeen: first.at,
    lastSeen: last.at,
    resolvedAt: last.status === 'resolved' ? last.at : null,
    reopenCount: o.history.filter((x) => x.note === 'seen again after being resolved').length,
    evidence: o.evidence ?? {},
    history: o.history,
    ticket: o.ticket ?? null,
  };
}

/** The ledger of the test: the comment on each entry says what it proves. */
export function ledger(): LedgerEntry[] {
  return [
    // Seen at 00:30 JST on 1 November: opened in November (not October); its ticket was due on
    // 2 November 17:15 JST and is still open at the month's end: overdue, with its owner.
    entry({
      id: 'a-mfa01-november', ruleId: 'MFA-01', area: 'mfa', severity: 'critical', subject: 'tanaka@example.lg.jp',
      history: [h('2026-10-31T15:30:00.000Z', 'open', 'new')],
      ticket: ticket('a-mfa01-november', '2026-10-31T15:30:00.000Z', '2026-11-02T08:15:00.000Z', ['soumu-kacho@example.lg.jp']),
    }),
    // Seen at 23:30 JST on 31 October: October's; resolved on 10 November.
    entry({
      id: 'b-acct01-october', ruleId: 'ACCT-01', area: 'accounts', severity: 'medium', subject: 'shared-old@example.lg.jp',
      history: [h('2026-10-31T14:30:00.000Z', 'open', 'new'), h('2026-11-10T01:00:00.000Z', 'resolved', 'not seen by a complete scan of its area')],
      ticket: ticket('b-acct01-october', '2026-10-31T14:30:00.000Z', '2026-11-14T08:15:00.000Z', ['soumu-kacho@example.lg.jp'], true, 'closed'),
    }),
    // Resolved in October, reopened on 20 November; its ticket is unrouted (no owner matched).
    entry({
      id: 'c-file02-reopened', ruleId: 'FILE-02', area: 'files', severity: 'high', subject: '/sites/zaimu/Shared Documents/予算.xlsx', subjectKind: 'driveItem', subjectId: 'b!z/i2',
      history: [h('2026-09-03T01:00:00.000Z', 'open', 'new'), h('2026-10-05T01:00:00.000Z', 'resolved', 'not seen by a complete scan of its area'), h('2026-11-20T01:00:00.000Z', 'open', 'seen again after being resolved')],
      ticket: ticket('c-file02-reopened', '2026-09-03T01:00:00.000Z', '2026-09-08T08:15:00.000Z', ['admin@example.lg.jp'], false),
    }),
    // Resolved only in December: still open at the end of November.
    entry({
      id: 'd-acct02-december', ruleId: 'ACCT-02', area: 'accounts', severity: 'medium', subject: 'sato@example.lg.jp',
      history: [h('2026-08-01T01:00:00.000Z', 'open', 'new'), h('2026-12-05T01:00:00.000Z', 'resolved', 'not seen by a complete scan of its area')],
      ticket: ticket('d-acct02-december', '2026-08-01T01:00:00.000Z', '2026-12-25T08:15:00.000Z', ['soumu-kacho@example.lg.jp'], true, 'closed'),
    }),
    // First seen in December: not in November's digest at all.
    entry({ id: 'e-mfa02-later', ruleId: 'MFA-02', area: 'mfa', severity: 'high', subject: 'suzuki@example.lg.jp', history: [h('2026-12-02T01:00:00.000Z', 'open', 'new')] }),
    // Excepted since it was found.
    entry({ id: 'f-acct01-excepted', ruleId: 'ACCT-01', area: 'accounts', severity: 'medium', subject: 'shared-gikai@example.lg.jp', history: [h('2026-03-01T01:00:00.000Z', 'excepted', 'new, covered by an exception')] }),
    // Sign-ins: one occurrence on each side of the turn of the month; the person closed it on 3 November.
    entry({
      id: 'g-sign01', ruleId: 'SIGN-01', area: 'signins', severity: 'high', subject: 'ito@example.lg.jp', kind: 'event',
      history: [h('2026-10-31T16:00:00.000Z', 'open', 'new'), h('2026-11-03T02:00:00.000Z', 'resolved', 'closed by a person: password reset')],
      evidence: {
        occurrences: [
          { windowStart: '2026-10-31T14:50:00.000Z', windowEnd: '2026-10-31T14:59:00.000Z', failures: 11, successes: 0, addresses: ['192.0.2.9'], countries: ['CN'] },
          { windowStart: '2026-10-31T15:10:00.000Z', windowEnd: '2026-10-31T15:40:00.000Z', failures: 12, successes: 0, addresses: ['203.0.113.5'], countries: ['US'] },
        ],
      },
    }),
    entry({
      id: 'h-sign02', ruleId: 'SIGN-02', area: 'signins', severity: 'high', subject: '203.0.113.5', kind: 'event', subjectKind: 'ip',
      history: [h('2026-11-12T03:00:00.000Z', 'open', 'new')],
      evidence: {
        occurrences: [{ windowStart: '2026-11-12T02:00:00.000Z', windowEnd: '2026-11-12T02:30:00.000Z', failures: 30, successes: 0, addresses: ['203.0.113.5', '203.0.113.5'], countries: ['US', 'NL'] }],
      },
    }),
  ];
}

const ALL_AREAS: Area[] = ['accounts', 'mfa', 'roles', 'mail', 'signins', 'files', 'apps'];

function scan(id: string, startedAt: string, counts: Record<Severity, number>, over: Partial<ScanRecord> = {}): ScanRecord {
  const complete = Object.fromEntries(ALL_AREAS.map((a) => [a, { status: 'complete', items: 10 }])) as ScanRecord['coverage'];
  return { tenantId: TENANT, scanId: id, startedAt, finishedAt: startedAt, areas: ALL_AREAS, coverage: complete, counts, excepted: 0, exitCode: 0, ...over };
}

const c = (critical: number, high: number, medium: number, low: number): Record<Severity, number> => ({ critical, high, medium, low });

/** Scan records: no full scan in August; November's last full scan was partial in files; a later sign-in watch. */
export function scans(): ScanRecord[] {
  return [
    scan('s-06', '2026-06-10T01:00:00.000Z', c(3, 5, 8, 2)),
    scan('s-07', '2026-07-10T01:00:00.000Z', c(2, 5, 7, 2)),
    // An October scan at 23:59 JST on 31 October (14:59Z) — October's, not November's.
    scan('s-09', '2026-09-10T01:00:00.000Z', c(2, 4, 6, 1)),
    scan('s-10a', '2026-10-10T01:00:00.000Z', c(2, 3, 6, 1)),
    scan('s-10b', '2026-10-31T14:59:00.000Z', c(1, 3, 5, 1)),
    scan('s-11a', '2026-11-05T01:00:00.000Z', c(1, 2, 4, 1)),
    scan('s-11b', '2026-11-28T01:00:00.000Z', c(1, 1, 3, 0), {
      exitCode: 2,
      coverage: { ...Object.fromEntries(ALL_AREAS.map((a) => [a, { status: 'complete', items: 10 }])), files: { status: 'partial', items: 8, detail: 'drive b!x: 503 after 5 attempts' } } as ScanRecord['coverage'],
    }),
    // The sign-in watch: one area only, so never a trend point, but part of the month's coverage.
    scan('s-11w', '2026-11-29T01:00:00.000Z', c(0, 0, 0, 0), { areas: ['signins'], coverage: { signins: { status: 'complete', items: 40 } } }),
    // December: after the month.
    scan('s-12', '2026-12-01T01:00:00.000Z', c(0, 9, 9, 9)),
  ];
}

/** A snapshot with a group-held Global Administrator, guests, shares and shared accounts. */
export function snapshot(): Snapshot {
  const user = (id: string, upn: string, over: Record<string, unknown> = {}) => ({
    id, displayName: upn.split('@')[0] as string, userPrincipalName: upn, mail: upn, userType: 'Member', accountEnabled: true, createdDateTime: '2025-01-01T00:00:00Z',
    department: '総務課', employeeId: null, employeeLeaveDateTime: null, passwordPolicies: null, externalUserState: null,
    lastSignInDateTime: null, lastSuccessfulSignInDateTime: null, lastNonInteractiveSignInDateTime: null, ...over,
  });
  const users = [
    user('u-admin', 'yamada@example.lg.jp'),
    user('u-direct', 'kato@example.lg.jp'),
    user('u-guest', 'partner_vendor.example#EXT#@contoso.onmicrosoft.com', { userType: 'Guest', mail: 'partner@vendor.example', externalUserState: 'Accepted', displayName: '委託先 担当' }),
    user('u-guest2', 'old_other.example#EXT#@contoso.onmicrosoft.com', { userType: 'Guest', accountEnabled: false, externalUserState: 'PendingAcceptance' }),
    user('u-shared', 'shared-reception@example.lg.jp', { displayName: '受付 共用' }),
    user('u-shared2', 'shared-gikai@example.lg.jp'),
  ];
  const activity = users.map((u) => (u.id === 'u-admin' ? { ...u, lastSuccessfulSignInDateTime: '2026-11-27T23:00:00Z' } : u.id === 'u-guest' ? { ...u, lastSignInDateTime: '2026-10-01T03:00:00Z' } : u));
  const perm = (id: string, over: Record<string, unknown>) => ({ id, roles: ['read'], link: null, expirationDateTime: null, inherited: false, grantees: [], ...over });
  return {
    tenantId: TENANT,
    takenAt: new Date('2026-11-28T01:00:00.000Z'),
    slices: {
      domains: { status: 'complete', items: 1, data: [{ id: 'example.lg.jp', isVerified: true }] },
      users: { status: 'complete', items: users.length, data: users },
      signInActivity: { status: 'complete', items: users.length, data: activity },
      mfaRegistration: {
        status: 'complete', items: 2,
        data: [
          { id: 'u-admin', userPrincipalName: 'yamada@example.lg.jp', isMfaRegistered: false, userType: 'member' },
          { id: 'u-direct', userPrincipalName: 'kato@example.lg.jp', isMfaRegistered: true, userType: 'member' },
        ],
      },
      roles: {
        status: 'partial', items: 2, detail: 'roleEligibilitySchedules: 403 (needs Entra ID P2)',
        data: {
          assignments: [
            { id: 'ra1', principalId: 'g-admins', roleDefinitionId: GA, directoryScopeId: '/', principalType: 'group', principalName: 'Tenant Admins', principalUserType: null },
            { id: 'ra2', principalId: 'u-direct', roleDefinitionId: SHAREPOINT_ADMIN, directoryScopeId: '/', principalType: 'user', principalName: 'kato@example.lg.jp', principalUserType: 'Member' },
          ],
          eligibility: null,
          groups: [{ id: 'g-admins', displayName: 'Tenant Admins', members: [{ id: 'u-admin', userPrincipalName: 'yamada@example.lg.jp', userType: 'Member', accountEnabled: true }] }],
        },
      },
      sites: { status: 'complete', items: 3, data: [] },
      sharing: {
        status: 'complete', items: 4,
        data: {
          drives: 3, resynced: 0,
          items: [
            {
              driveId: 'b!j', itemId: 'i1', siteId: 's1', siteUrl: 'https://contoso.sharepoint.com/sites/jinji', name: '人事評価.xlsx', webUrl: 'https://contoso.sharepoint.com/sites/jinji/Shared%20Documents/%E4%BA%BA%E4%BA%8B%E8%A9%95%E4%BE%A1.xlsx', isFolder: false,
              permissions: [
                perm('p-anon', { link: { type: 'view', scope: 'anonymous', webUrl: 'https://x' } }),
                // Expired: grants nothing, not listed.
                perm('p-anon-old', { link: { type: 'view', scope: 'anonymous', webUrl: 'https://y' }, expirationDateTime: '2026-01-01T00:00:00Z' }),
                // Internal: not listed.
                perm('p-int', { grantees: [{ displayName: 'kato', email: 'kato@example.lg.jp', loginName: null, via: 'grantedToV2' }] }),
              ],
            },
            {
              driveId: 'b!z', itemId: 'i2', siteId: 's2', siteUrl: 'https://contoso.sharepoint.com/sites/zaimu', name: '予算.xlsx', webUrl: 'https://contoso.sharepoint.com/sites/zaimu/Shared%20Documents/%E4%BA%88%E7%AE%97.xlsx', isFolder: false,
              permissions: [perm('p-ext', { roles: ['write'], expirationDateTime: '2027-03-31T15:00:00Z', grantees: [{ displayName: 'partner', email: 'partner@vendor.example', loginName: null, via: 'grantedToIdentitiesV2' }] })],
            },
            {
              // Class III: the access review covers class I and II only.
              driveId: 'b!k', itemId: 'i3', siteId: 's3', siteUrl: 'https://contoso.sharepoint.com/sites/koho', name: 'press.docx', webUrl: 'https://contoso.sharepoint.com/sites/koho/press.docx', isFolder: false,
              permissions: [perm('p-anon3', { link: { type: 'view', scope: 'anonymous', webUrl: 'https://z' } })],
            },
          ],
        },
      },
    },
  } as Snapshot;
}
