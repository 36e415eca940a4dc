/**
 * Literal ledger entries for the alert preview test and the screenshot generator: demo-like
 * findings (the demo tenant's organisation and domain), built by hand so that the cards come from
 * the real builders without a scan.
 */
import type { AlertInput, AlertPolicy } from '../../src/alerts/cards';
import type { LedgerEntry, TicketRecord } from '../../src/findings/ledger';
import type { RuleId, Severity } from '../../src/rules/ids';

export const ORGANIZATION = '西置賜行政組合';
export const TENANT_ID = '6f0c2a51-8d3e-4b7a-9c21-0e5d4f3a2b19';

export const policyJa: AlertPolicy = { organization: { locale: 'ja' }, alerts: { minSeverity: 'high' } };
export const policyEn: AlertPolicy = { organization: { locale: 'en' }, alerts: { minSeverity: 'high' } };

/** A ticket record as the ticket sink leaves it on an entry. */
export function ticket(due: string, assignees: string[]): TicketRecord {
  return {
    id: 'T-000000000001',
    title: 't',
    assignees,
    routed: true,
    dueDate: due,
    dueDateTime: `${due}T08:00:00Z`,
    state: 'open',
    transitions: 0,
    openedAt: '2026-12-01T00:00:00Z',
    closedAt: null,
    sinks: {},
  };
}

/** One open ledger entry; `over` replaces any field. */
export function entry(
  n: number,
  ruleId: RuleId,
  severity: Severity,
  title: { ja: string; en: string },
  subject: string,
  clauses: string[],
  over: Partial<LedgerEntry> = {},
): LedgerEntry {
  return {
    id: `f${String(n).padStart(31, '0')}`,
    ruleId,
    kind: ruleId.startsWith('SIGN-') ? 'event' : 'state',
    area: ruleId.startsWith('FILE') ? 'files' : ruleId.startsWith('MAIL') ? 'mail' : ruleId.startsWith('SIGN') ? 'signins' : ruleId.startsWith('MFA') ? 'mfa' : 'accounts',
    severity,
    clauses,
    title,
    subject: { kind: 'user', id: `u${n}`, name: subject },
    status: 'open',
    firstSeen: '2026-12-01T00:00:00Z',
    lastSeen: '2026-12-01T00:00:00Z',
    resolvedAt: null,
    reopenCount: 0,
    evidence: {},
    history: [],
    ticket: null,
    ...over,
  };
}

const admins = ['hiroshi.takahashi@example.lg.jp', 'makoto.sato@example.lg.jp'];

/** A run's news like the demo tenant's: MFA of a Global Administrator, forwarding outside, anonymous links, a reopened one. */
export function demoRunInput(): AlertInput {
  const mfa = entry(1, 'MFA-01', 'critical', { ja: '特権 ID に多要素認証が未登録', en: 'Privileged user without MFA registered' }, 'breakglass01@example.lg.jp（全体管理者）', ['5-1-3'], {
    ticket: ticket('2026-12-08', admins),
  });
  return {
    organization: ORGANIZATION,
    tenantId: TENANT_ID,
    opened: [
      mfa,
      entry(2, 'MAIL-01', 'high', { ja: '外部宛ての自動転送ルール', en: 'Inbox rule forwards mail outside the organisation' }, 'koji.sakamoto@example.lg.jp → nishiokitama.example.jp', ['5-7-4', '5-7-1'], {
        ticket: ticket('2026-12-15', ['naoki.watanabe@example.lg.jp']),
      }),
      entry(3, 'FILE-04', 'high', { ja: 'テナントで匿名リンク（誰でも）の共有が許可されている', en: 'Tenant allows Anyone links' }, 'SharePoint テナント設定', ['5-9-1']),
      entry(4, 'FILE-02', 'high', { ja: '外部の利用者へのアクセス権付与（分類 I・II）', en: 'External person has access to class I/II content' }, '/sites/jinji/人事評価/2026年度.xlsx', ['5-9-1'], {
        ticket: ticket('2026-12-15', ['miho.sugawara@example.lg.jp']),
      }),
      entry(5, 'ACCT-01', 'medium', { ja: '共用アカウントの使用', en: 'Shared account in use' }, 'soumu-kyoyo@example.lg.jp', ['5-1-1']),
    ],
    reopened: [
      entry(6, 'MFA-04', 'high', { ja: 'レガシー認証がブロックされていない', en: 'Legacy authentication is not blocked' }, '条件付きアクセス', ['5-4-4'], { reopenCount: 1 }),
    ],
    reportUrl: 'https://reports.example.lg.jp/m365-audit/latest.html',
    taskUrls: { [mfa.id]: 'https://tasks.office.com/example.lg.jp/Home/Task/demo-mfa-01' },
  };
}

/** A sign-in watch's detections. */
export function signInInput(): AlertInput {
  return {
    organization: ORGANIZATION,
    tenantId: TENANT_ID,
    opened: [
      entry(11, 'SIGN-03', 'critical', { ja: '認証失敗の多発後にサインイン成功', en: 'Successful sign-in after repeated failures' }, 'kenta.sato@example.lg.jp', ['5-3-3']),
      entry(12, 'SIGN-02', 'high', { ja: 'パスワードスプレー攻撃の兆候（送信元 IP）', en: 'Password spray from one IP address' }, '203.0.113.45', ['5-3-3']),
    ],
  };
}

/** `n` high findings: more than a card shows, so it caps and says "… N more". */
export function manyInput(n: number): AlertInput {
  const opened: LedgerEntry[] = [];
  for (let i = 0; i < n; i++) {
    opened.push(
      entry(100 + i, 'FILE-02', 'high', { ja: '外部の利用者へのアクセス権付与（分類 I・II）', en: 'External person has access to class I/II content' }, `/sites/soumu/共有資料/文書${String(i).padStart(3, '0')}.docx`, ['5-9-1'], {
        ticket: ticket('2026-12-15', ['naoki.watanabe@example.lg.jp']),
      }),
    );
  }
  return { organization: ORGANIZATION, tenantId: TENANT_ID, opened, reportUrl: 'https://reports.example.lg.jp/m365-audit/latest.html' };
}
