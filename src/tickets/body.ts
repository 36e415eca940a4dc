/**
 * Ticket text. The body follows the record headings of standard 7-3-1 — 発生日時, 影響範囲, 原因,
 * 対応内容, 再発防止策 — filled from the finding, its rule's remediation and its clauses.
 * Japanese by default, English with `organization.locale: en`.
 */
import { DateTime } from 'luxon';
import type { Policy } from '../config/policy';
import type { LedgerEntry, TicketRecord } from '../findings/ledger';
import type { Area } from '../rules/ids';
import { evidenceText } from '../report/evidence';
import { remediationFor } from '../report/remediation';
import { ruleById } from '../rules/index';
import { clause } from '../standard/catalogue';

type Lang = 'ja' | 'en';

const HEADINGS = {
  ja: { when: '発生日時', scope: '影響範囲', cause: '原因', action: '対応内容', prevention: '再発防止策', due: '対応期限', owner: '担当', status: '状態', firstSeen: '初回検出', lastSeen: '最終確認' },
  en: { when: 'When', scope: 'Scope', cause: 'Cause', action: 'Action', prevention: 'Prevention', due: 'Due', owner: 'Assigned to', status: 'Status', firstSeen: 'First seen', lastSeen: 'Last seen' },
} as const;

const PREVENTION: Record<Area, Record<Lang, string>> = {
  accounts: {
    ja: '異動・退職・委託終了の手続にアカウントの無効化・削除を組み込み、情報システム管理者が月次でアカウントを棚卸する（4-1-2、5-2-2）。',
    en: 'Build account disabling into transfer, departure and contract-end procedures, and have the system administrators review accounts monthly (4-1-2, 5-2-2).',
  },
  roles: {
    ja: '特権ロールの付与は申請・承認制とし、付与・変更・削除を記録する。可能であれば PIM による期限付き付与とする（5-1-4）。',
    en: 'Grant privileged roles only on approved requests, record every change, and prefer time-bound PIM eligibility (5-1-4).',
  },
  mfa: {
    ja: '条件付きアクセスで全利用者に多要素認証を必須とし、新規アカウントには利用開始前に登録させる（5-1-3）。',
    en: 'Require MFA for everyone with Conditional Access and have new accounts register before first use (5-1-3).',
  },
  mail: {
    ja: '外部への自動転送を送信ポリシーで既定で禁止し、例外は最高情報セキュリティ責任者の承認を得て登録する（5-7-4）。',
    en: 'Block automatic external forwarding by default in the outbound policy; register exceptions with the CISO\'s approval (5-7-4).',
  },
  signins: {
    ja: '原因と封じ込めの結果を記録し、送信元の遮断・多要素認証の適用状況を見直す。サインインの監視を継続する（5-3-3、7-6-1）。',
    en: 'Record the cause and containment, review source blocking and MFA coverage, and keep sign-ins monitored (5-3-3, 7-6-1).',
  },
  files: {
    ja: '共有フォルダの新設・権限変更を申請・承認制とし、分類 I・II の共有を定期的に棚卸する（5-9-2、5-2-2）。',
    en: 'Make new shares and permission changes subject to request and approval, and review class I/II sharing regularly (5-9-2, 5-2-2).',
  },
  apps: {
    ja: '外部のアプリへの同意は管理者の同意ワークフローによる申請・承認制とし、承認したアプリを記録して定期的に棚卸する（5-10-2、6-2-1）。',
    en: 'Route consent to outside apps through the admin consent workflow (request and approval), record the approved apps and review them regularly (5-10-2, 6-2-1).',
  },
};

function local(iso: string, timeZone: string): string {
  const t = DateTime.fromISO(iso, { zone: 'utc' }).setZone(timeZone);
  return t.isValid ? t.toFormat('yyyy-MM-dd HH:mm') : iso;
}

/**
 * The evidence as the report shows it (src/report/evidence.ts): labelled fields, local times,
 * people named, lists cut by whole items, never JSON — a ticket is read by the same managers.
 */
function evidenceLines(entry: LedgerEntry, lang: Lang, timeZone: string): string[] {
  const text = evidenceText(entry.ruleId, entry.evidence, { lang, timeZone });
  return text ? text.split('\n').map((l) => `- ${l.length > 400 ? `${l.slice(0, 400)}…` : l}`) : [];
}

/** The ticket title: severity, rule, what and where (Planner allows 255 characters). */
export function ticketTitle(entry: LedgerEntry, lang: Lang): string {
  return `[${entry.severity}] ${entry.ruleId} ${entry.title[lang]} — ${entry.subject.name}`.slice(0, 255);
}

/** The ticket body with the 7-3-1 headings. */
export function ticketBody(entry: LedgerEntry, ticket: Pick<TicketRecord, 'assignees' | 'dueDate'>, policy: Policy): string {
  const lang: Lang = policy.organization.locale;
  const h = HEADINGS[lang];
  const tz = policy.organization.timeZone;
  const rule = ruleById(entry.ruleId);
  const clauses = entry.clauses.map((c) => `${c} ${clause(c)?.title[lang] ?? ''}`.trim());
  return [
    `■ ${h.when}`,
    `${h.firstSeen}: ${local(entry.firstSeen, tz)} / ${h.lastSeen}: ${local(entry.lastSeen, tz)} (${tz})`,
    '',
    `■ ${h.scope}`,
    `${entry.subject.kind}: ${entry.subject.name} (${entry.subject.id})`,
    ...evidenceLines(entry, lang, tz),
    '',
    `■ ${h.cause}`,
    `${entry.ruleId} ${entry.title[lang]}`,
    ...clauses.map((c) => (lang === 'ja' ? `情報セキュリティ対策基準 ${c}` : `Standard clause ${c}`)),
    '',
    `■ ${h.action}`,
    remediationFor(entry.ruleId, lang) || (rule?.remediation[lang] ?? ''),
    '',
    `■ ${h.prevention}`,
    PREVENTION[entry.area][lang],
    '',
    `${h.due}: ${ticket.dueDate} / ${h.owner}: ${ticket.assignees.join(', ') || '-'}`,
    `finding: ${entry.id}`,
  ].join('\n');
}
