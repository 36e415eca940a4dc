/**
 * The CISO digest as HTML that survives Outlook: one centred table-based layout (no flexbox, no
 * grid), every style inlined by juice (Outlook ignores most of a `<style>` block), no script, no
 * external resource, the trend chart as inline SVG with its numbers in a table beside it (for
 * clients that drop SVG). Japanese by default, English with `lang: 'en'`. Times are the
 * organisation's local times. Everything shown comes from the {@link DigestModel}, so the same
 * month gives the same document.
 */
import escapeHtml from 'escape-html';
import juice from 'juice';
import { DateTime } from 'luxon';
import { LABELS, type Lang } from '../report/labels';
import { AREAS, SEVERITIES, type Severity } from '../rules/ids';
import { FONT_FAMILY, SEVERITY_COLOURS, trendSvg } from './chart';
import type { DigestItem, DigestModel, ExceptionRow, TicketRow } from './model';

/** Rows shown per list before "… N more" (the ledger and `m365-audit tickets` have them all). */
export const LIST_LIMIT = 40;

const TEXT = {
  ja: {
    title: '情報セキュリティ月次報告（CISO 向け）',
    month: (m: string) => DateTime.fromFormat(m, 'yyyy-MM').toFormat("yyyy'年'M'月'"),
    monthShort: (m: string) => DateTime.fromFormat(m, 'yyyy-MM').toFormat("yyyy'/'M"),
    mailSubject: (org: string, m: string) => `【${org}】情報セキュリティ月次報告 ${TEXT.ja.month(m)}`,
    intro: '情報セキュリティ対策基準に基づく Microsoft 365 の自動点検の月次まとめです（1-1-3 アクセス権の監督、5-2-2・5-9-2 アクセス権の棚卸、12 見直し）。',
    org: '組織',
    tenant: 'テナント',
    period: '対象期間',
    asOf: '集計時点',
    inProgress: 'この月はまだ終わっていません。集計時点までの内容です。',
    summary: '1. 概要',
    openBySeverity: '未対応の指摘（月末時点）',
    total: '合計',
    excepted: '例外承認済み',
    byArea: '領域別の未対応の指摘',
    area: '領域',
    changesHead: '今月の変化',
    opened: '新規',
    resolved: '解消',
    reopened: '再発',
    overdueCount: '期限超過チケット',
    unroutedCount: '担当未割当チケット',
    count: (n: number) => `${n} 件`,
    changes: '2. 今月の新規・解消・再発',
    none: 'ありません。',
    more: (n: number) => `ほか ${n} 件（m365-audit tickets --status all で全件を確認できます）`,
    at: '日時',
    severity: '重要度',
    rule: 'ルール',
    subject: '対象',
    byPerson: '担当者が確認して終了',
    byScan: '点検で解消を確認',
    overdue: '3. 期限超過チケット',
    ticket: 'チケット',
    responsible: '担当者',
    due: '期限',
    daysOverdue: '超過日数',
    days: (n: number) => `${n} 日`,
    unrouted: '4. 担当未割当チケット',
    unroutedNote: '部署の情報セキュリティ責任者が決まらず、情報システム管理者に割り当てたチケットです。ポリシーの organization.departments に該当部署と責任者を追加してください（ファイルはfiles.assets の管理者）。',
    inventory: '5. アクセス権の棚卸（5-2-2・5-9-2）',
    inventoryAt: (at: string, scan: string) => `${at} の点検（${scan}）で取得した内容です。`,
    noInventory: 'この月の点検で棚卸データが記録されていません。この月に全領域の点検を実行してください。棚卸が無いことは、特権・外部共有が無いことを意味しません。',
    sectionPartial: '取得が不完全です。この一覧は全件ではない可能性があります',
    sectionFailed: '取得に失敗しました。この一覧は空でも、該当が無いことを意味しません',
    privileged: '特権ロールの保有者',
    principal: '保有者',
    role: 'ロール',
    assignment: '割当',
    active: '有効',
    eligible: '資格（PIM）',
    viaGroup: 'グループ経由',
    direct: '直接',
    membersUnknown: 'メンバー不明（GroupMember.Read.All が必要）',
    mfa: 'MFA 登録',
    yes: '登録済み',
    no: '未登録',
    unknown: '不明',
    notApplicable: '対象外',
    lastSignIn: '最終サインイン',
    signedInAfter: '{date} 以降',
    never: 'なし',
    guests: 'ゲスト',
    account: 'アカウント',
    state: '状態',
    enabled: '有効',
    disabled: '無効',
    invitation: '招待',
    accepted: '承諾済み',
    pending: '未承諾',
    shares: '分類 I・II の外部共有・匿名リンク',
    path: '場所',
    cls: '分類',
    kind: '種別',
    anonymous: '匿名リンク（誰でも）',
    external: '外部の利用者',
    who: '相手',
    anyone: 'リンクを知っている全員',
    since: '初回検出',
    expires: '有効期限',
    noExpiry: '期限なし',
    asOfRead: (at: string) => `（${at} 時点の読み取り）`,
    sharedAccounts: '共用アカウントと例外措置',
    reason: '判定理由',
    byDisplayName: (w: string) => `表示名に「${w}」`,
    byPattern: (p: string) => `UPN が sharedAccountPatterns に一致: ${p}`,
    exception: '例外措置',
    noException: '例外措置なし（ACCT-01 で指摘）',
    exceptionLine: (x: { approvedBy: string; approvedOn: string; expiresOn: string; reason: string; inForce: boolean }) =>
      `${x.inForce ? '有効' : '期限切れ'}: ${x.reason}（承認 ${x.approvedBy}、${x.approvedOn}〜${x.expiresOn}）`,
    exceptions: '6. 例外措置',
    exActive: '有効な例外措置',
    exExpiring: '30 日以内に期限を迎える例外措置（見直してください：12）',
    exExpired: '期限切れの例外措置（該当する指摘は未対応に戻ります）',
    approvedBy: '承認者',
    exReason: '理由',
    control: '代替措置',
    term: '期間',
    covering: '対象の指摘',
    expiredInMonth: '今月期限切れ',
    signIns: '7. 今月のサインイン検知（5-3-3）',
    signInCoverage: { complete: '', partial: 'サインインの取得が一部不完全な点検がありました。検知は全件ではない可能性があります。', failed: 'サインインを取得できなかった点検がありました。検知は全件ではない可能性があります。' },
    signInNone: 'この月はサインインを取得した点検がありません。検知が無いことは異常が無いことを意味しません。',
    occurrences: '発生回数',
    subjects: '対象数',
    failures: '認証失敗',
    successes: '成功',
    topAddresses: '発生元アドレス（上位）',
    topCountries: '国・地域（上位）',
    address: 'アドレス',
    country: '国・地域',
    trend: '8. 未対応の指摘の推移（過去 6 か月）',
    trendNote: '各月の最後の全領域点検の件数です。点検の無い月は空欄です（0 件ではありません）。',
    partialScan: '（一部不完全）',
    noScan: '点検なし',
    coverage: '9. 今月の点検範囲',
    scans: (n: number) => `今月の点検 ${n} 回`,
    complete: '完了',
    partial: '一部のみ',
    failed: '失敗',
    last: '最後の点検',
    notRead: '未点検',
    detail: '詳細',
    manual: '10. 自動点検の対象外の条項',
    manualNote: '以下の条項は Microsoft 365 の設定からは確認できません。指摘がないことは適合を意味しません。書面・目視で確認してください。',
    evidence: '証跡チェーンの先頭（今月最後の記録）',
    evidenceHead: (seq: number, at: string) => `連番 ${seq}（${at} 開始の点検）`,
    evidenceNote: 'この連番とハッシュを控えてください。`m365-audit evidence verify` で、この記録までの証跡が改ざん・削除・並べ替えされていないことを確認できます（5-3-2）。',
    evidenceNone: '今月の証跡の記録はありません。',
    footer: 'この報告は m365-audit が台帳と点検記録から作成しました。同じ月を再作成しても同じ内容になります。',
  },
  en: {
    title: 'Information-security monthly digest (for the CISO)',
    month: (m: string) => DateTime.fromFormat(m, 'yyyy-MM').setLocale('en').toFormat('MMMM yyyy'),
    monthShort: (m: string) => DateTime.fromFormat(m, 'yyyy-MM').setLocale('en').toFormat('MMM yyyy'),
    mailSubject: (org: string, m: string) => `${org}: information-security monthly digest, ${TEXT.en.month(m)}`,
    intro: "The month's summary of the automatic Microsoft 365 checks against the information security standard (1-1-3 oversight of access rights, 5-2-2 and 5-9-2 access review, 12 review).",
    org: 'Organisation',
    tenant: 'Tenant',
    period: 'Period',
    asOf: 'As of',
    inProgress: 'This month has not ended yet: this is the state as of the time above.',
    summary: '1. Summary',
    openBySeverity: 'Open findings (at the end of the month)',
    total: 'Total',
    excepted: 'Excepted',
    byArea: 'Open findings by area',
    area: 'Area',
    changesHead: 'This month',
    opened: 'New',
    resolved: 'Resolved',
    reopened: 'Reopened',
    overdueCount: 'Overdue tickets',
    unroutedCount: 'Unrouted tickets',
    count: (n: number) => `${n}`,
    changes: '2. New, resolved and reopened this month',
    none: 'None.',
    more: (n: number) => `… and ${n} more (m365-audit tickets --status all lists them all)`,
    at: 'When',
    severity: 'Severity',
    rule: 'Rule',
    subject: 'Subject',
    byPerson: 'closed by a person after checking',
    byScan: 'confirmed by a scan',
    overdue: '3. Overdue tickets',
    ticket: 'Ticket',
    responsible: 'Responsible',
    due: 'Due',
    daysOverdue: 'Overdue by',
    days: (n: number) => `${n} day${n === 1 ? '' : 's'}`,
    unrouted: '4. Unrouted tickets',
    unroutedNote: 'No department owner matched these tickets, so they went to the system administrators. Add the department and its owner to organization.departments in the policy (for files, the asset owner in files.assets).',
    inventory: '5. Access review (5-2-2, 5-9-2)',
    inventoryAt: (at: string, scan: string) => `As read by the scan of ${at} (${scan}).`,
    noInventory: 'No scan of this month recorded an access inventory. Run a scan of every area this month. No inventory does not mean no privileged access or external sharing.',
    sectionPartial: 'read incompletely: this list may not be complete',
    sectionFailed: 'could not be read: an empty list here does not mean there is nothing',
    privileged: 'Privileged role holders',
    principal: 'Holder',
    role: 'Role',
    assignment: 'Assignment',
    active: 'active',
    eligible: 'eligible (PIM)',
    viaGroup: 'via group',
    direct: 'direct',
    membersUnknown: 'members unknown (needs GroupMember.Read.All)',
    mfa: 'MFA registered',
    yes: 'yes',
    no: 'NO',
    unknown: 'unknown',
    notApplicable: 'n/a',
    lastSignIn: 'Last sign-in',
    signedInAfter: 'after {date}',
    never: 'never',
    guests: 'Guests',
    account: 'Account',
    state: 'State',
    enabled: 'enabled',
    disabled: 'disabled',
    invitation: 'invitation',
    accepted: 'accepted',
    pending: 'pending',
    shares: 'External and anonymous sharing of class I/II content',
    path: 'Location',
    cls: 'Class',
    kind: 'Kind',
    anonymous: 'anonymous link (Anyone)',
    external: 'external person',
    who: 'Who',
    anyone: 'anyone with the link',
    since: 'First seen',
    expires: 'Expires',
    noExpiry: 'no expiry',
    asOfRead: (at: string) => ` (as read at ${at})`,
    sharedAccounts: 'Shared accounts and their exceptions',
    reason: 'Why shared',
    byDisplayName: (w: string) => `display name contains "${w}"`,
    byPattern: (p: string) => `UPN matches sharedAccountPatterns: ${p}`,
    exception: 'Exception',
    noException: 'no exception (ACCT-01 finding)',
    exceptionLine: (x: { approvedBy: string; approvedOn: string; expiresOn: string; reason: string; inForce: boolean }) =>
      `${x.inForce ? 'in force' : 'expired'}: ${x.reason} (approved by ${x.approvedBy}, ${x.approvedOn} to ${x.expiresOn})`,
    exceptions: '6. Exceptions',
    exActive: 'Exceptions in force',
    exExpiring: 'Exceptions expiring within 30 days (review them: 12)',
    exExpired: 'Expired exceptions (their findings are open again)',
    approvedBy: 'Approved by',
    exReason: 'Reason',
    control: 'Compensating control',
    term: 'Term',
    covering: 'Findings covered',
    expiredInMonth: 'expired this month',
    signIns: "7. This month's sign-in detections (5-3-3)",
    signInCoverage: { complete: '', partial: 'Some scans read the sign-ins only partly: the detections may not be complete.', failed: 'Some scans could not read the sign-ins: the detections may not be complete.' },
    signInNone: 'No scan read the sign-ins this month. No detection does not mean nothing happened.',
    occurrences: 'Occurrences',
    subjects: 'Subjects',
    failures: 'Failures',
    successes: 'Successes',
    topAddresses: 'Top source addresses',
    topCountries: 'Top countries',
    address: 'Address',
    country: 'Country',
    trend: '8. Open findings over six months',
    trendNote: "Counts of each month's last scan of every area. A month without one is left blank (it is not zero).",
    partialScan: ' (partial)',
    noScan: 'no scan',
    coverage: "9. This month's coverage",
    scans: (n: number) => `${n} scan${n === 1 ? '' : 's'} this month`,
    complete: 'complete',
    partial: 'partial',
    failed: 'failed',
    last: 'Last scan',
    notRead: 'not read',
    detail: 'Detail',
    manual: '10. Clauses no automatic check covers',
    manualNote: 'These clauses cannot be read from Microsoft 365 settings. No finding does not mean compliance: review them on paper or by inspection.',
    evidence: "Evidence chain head (the month's last record)",
    evidenceHead: (seq: number, at: string) => `sequence ${seq} (the scan started ${at})`,
    evidenceNote: 'Keep this sequence and hash: `m365-audit evidence verify` shows that the trail up to this record was not altered, deleted or reordered (5-3-2).',
    evidenceNone: 'No evidence record this month.',
    footer: 'Made by m365-audit from the ledger and the scan records. Regenerating the same month gives the same document.',
  },
} as const;

/** The mail subject of a month's digest. */
export function digestSubject(model: Pick<DigestModel, 'organization' | 'month'>, lang: Lang): string {
  return TEXT[lang].mailSubject(model.organization, model.month);
}

const e = (v: unknown): string => escapeHtml(String(v ?? ''));

function local(iso: string | null, timeZone: string, withTime = true): string {
  if (!iso) return '';
  const d = DateTime.fromISO(iso, { zone: 'utc' }).setZone(timeZone);
  if (!d.isValid) return iso;
  // The zone is said once, in the header: cells stay short.
  return withTime ? d.toFormat('yyyy-MM-dd HH:mm') : d.toFormat('yyyy-MM-dd');
}

const CSS = `
body{margin:0;padding:0;background:#f4f4f4;font-family:${FONT_FAMILY};color:#222;font-size:14px;line-height:1.5}
table{border-collapse:collapse}
.wrap{width:100%;background:#f4f4f4}
.page{width:760px;max-width:760px;background:#ffffff;margin:0 auto}
.pad{padding:16px 24px}
h1{font-size:20px;margin:0 0 8px 0;color:#1a237e}
h2{font-size:16px;margin:20px 0 8px 0;padding-bottom:4px;border-bottom:2px solid #1a237e;color:#1a237e}
h3{font-size:14px;margin:14px 0 6px 0}
p{margin:6px 0}
.grid{width:100%;margin:4px 0 10px 0}
.grid th{background:#e8eaf6;border:1px solid #c5cae9;padding:4px 6px;text-align:left;font-size:12px;font-weight:bold;vertical-align:top}
.grid td{border:1px solid #ddd;padding:4px 6px;font-size:12px;vertical-align:top;word-break:break-all}
.num{text-align:right;white-space:nowrap}
.nw{white-space:nowrap;word-break:normal}
.meta th{text-align:left;padding:2px 12px 2px 0;font-size:12px;color:#555;font-weight:normal;white-space:nowrap}
.meta td{padding:2px 0;font-size:12px}
.warn{background:#fff3cd;border-left:4px solid #f0ad4e;padding:6px 10px;font-size:12px}
.bad{background:#f8d7da;border-left:4px solid #b00020;padding:6px 10px;font-size:12px}
.muted{color:#666;font-size:12px}
.sev-critical{white-space:nowrap;background:${SEVERITY_COLOURS.critical};color:#ffffff;font-weight:bold}
.sev-high{white-space:nowrap;background:${SEVERITY_COLOURS.high};color:#ffffff;font-weight:bold}
.sev-medium{white-space:nowrap;background:${SEVERITY_COLOURS.medium};color:#222222}
.sev-low{white-space:nowrap;background:${SEVERITY_COLOURS.low};color:#ffffff}
.st-complete{color:#1b5e20}
.st-partial{background:#fff3cd}
.st-failed{background:#f8d7da;font-weight:bold}
.alarm{color:#b00020;font-weight:bold}
.footer{color:#777;font-size:11px;border-top:1px solid #ddd;padding-top:8px;margin-top:16px}
`;

type T = (typeof TEXT)[Lang];

function grid(headers: readonly string[], rows: readonly string[][], numeric: readonly number[] = [], nowrap: readonly number[] = []): string {
  const cls = (i: number): string => (numeric.includes(i) ? ' class="num"' : nowrap.includes(i) ? ' class="nw"' : '');
  const head = `<tr>${headers.map((h, i) => `<th${cls(i)}>${e(h)}</th>`).join('')}</tr>`;
  const body = rows.map((r) => `<tr>${r.map((c, i) => `<td${cls(i)}>${c}</td>`).join('')}</tr>`).join('');
  return `<table class="grid" role="presentation" width="100%" cellpadding="0" cellspacing="0"><thead>${head}</thead><tbody>${body}</tbody></table>`;
}

function limited<X>(rows: readonly X[], L: T): { shown: readonly X[]; more: string } {
  return rows.length > LIST_LIMIT ? { shown: rows.slice(0, LIST_LIMIT), more: `<p class="muted">${e(L.more(rows.length - LIST_LIMIT))}</p>` } : { shown: rows, more: '' };
}

const sevCell = (s: Severity, lang: Lang): string => `<span class="sev-${s}">&nbsp;${e(LABELS[lang].severities[s])}&nbsp;</span>`;

function sectionNote(section: { status: string; detail?: string }, L: T): string {
  if (section.status === 'complete') return '';
  const what = section.status === 'failed' ? L.sectionFailed : L.sectionPartial;
  return `<p class="${section.status === 'failed' ? 'bad' : 'warn'}">${e(what)}${section.detail ? `: ${e(section.detail)}` : ''}</p>`;
}

function itemsTable(items: readonly DigestItem[], model: DigestModel, lang: Lang, L: T, resolved = false): string {
  if (!items.length) return `<p class="muted">${e(L.none)}</p>`;
  const { shown, more } = limited(items, L);
  const headers = [L.at, L.severity, L.rule, L.subject, ...(resolved ? [L.detail] : [])];
  const rows = shown.map((i) => [
    e(local(i.at, model.timeZone)),
    sevCell(i.severity, lang),
    `${e(i.ruleId)}<br>${e(i.title[lang])}`,
    e(i.subject),
    ...(resolved ? [e(i.byPerson ? L.byPerson : L.byScan)] : []),
  ]);
  return grid(headers, rows, [], [0, 1]) + more;
}

function ticketTable(rows: readonly TicketRow[], lang: Lang, L: T, overdue: boolean): string {
  if (!rows.length) return `<p class="muted">${e(L.none)}</p>`;
  const { shown, more } = limited(rows, L);
  const headers = [L.ticket, L.severity, L.rule, L.subject, L.responsible, L.due, ...(overdue ? [L.daysOverdue] : [])];
  return (
    grid(
      headers,
      shown.map((r) => [
        e(r.ticketId),
        sevCell(r.severity, lang),
        `${e(r.ruleId)}<br>${e(r.title[lang])}`,
        e(r.subject),
        r.assignees.map(e).join('<br>'),
        e(r.dueDate),
        ...(overdue ? [`<span class="alarm">${e(L.days(r.daysOverdue))}</span>`] : []),
      ]),
      overdue ? [6] : [],
      [0, 1, 5],
    ) + more
  );
}

function exceptionTable(rows: readonly ExceptionRow[], L: T, expired: boolean): string {
  if (!rows.length) return `<p class="muted">${e(L.none)}</p>`;
  return grid(
    [L.rule, L.subject, L.exReason, L.approvedBy, L.control, L.term, expired ? L.state : L.covering],
    rows.map((x) => [
      e(x.ruleId),
      e(x.subject),
      e(x.reason),
      e(x.approvedBy),
      e(x.compensatingControl),
      `${e(x.approvedOn)}〜${e(x.expiresOn)}`,
      expired ? (x.expiredInMonth ? `<span class="alarm">${e(L.expiredInMonth)}</span>` : '') : e(x.covering),
    ]),
    expired ? [] : [6],
  );
}

function inventoryHtml(model: DigestModel, lang: Lang, L: T): string {
  const inv = model.inventory;
  if (!inv) return `<p class="bad">${e(L.noInventory)}</p>`;
  const tz = model.timeZone;
  // `after`: read incrementally, the user was not among those read: it signed in after then.
  const lastSignIn = (known: boolean, iso: string | null, applicable = true, after?: string): string =>
    !applicable ? e(L.notApplicable) : !known ? (after ? e(L.signedInAfter.replace('{date}', local(after, tz, false))) : e(L.unknown)) : iso ? e(local(iso, tz, false)) : e(L.never);
  const privileged = inv.privileged.rows.length
    ? grid(
        [L.principal, L.role, L.assignment, L.mfa, L.lastSignIn],
        inv.privileged.rows.map((r) => {
          const isUser = r.principalType === 'user';
          const name = `${e(r.principalName ?? r.principalId)}${r.principalType !== 'user' ? `<br><span class="muted">${e(r.principalType)}${r.membersUnknown ? `: ${e(L.membersUnknown)}` : ''}</span>` : ''}${r.principalUserType?.toLowerCase() === 'guest' ? ` <span class="alarm">(${e(L.guests)})</span>` : ''}`;
          const how = `${e(r.via === 'active' ? L.active : L.eligible)}<br>${r.group ? `${e(L.viaGroup)}: ${e(r.group)}` : e(L.direct)}`;
          const mfa = !isUser ? e(L.notApplicable) : r.mfaRegistered === null ? e(L.unknown) : r.mfaRegistered ? e(L.yes) : `<span class="alarm">${e(L.no)}</span>`;
          return [name, e(r.role), how, mfa, lastSignIn(r.lastSignInKnown, r.lastSignIn, isUser, r.lastSignInAfter)];
        }),
      )
    : `<p class="muted">${e(L.none)}</p>`;
  const guests = inv.guests.rows.length
    ? grid(
        [L.account, L.state, L.invitation, L.lastSignIn],
        inv.guests.rows.map((g) => [
          `${e(g.userPrincipalName)}<br><span class="muted">${e(g.displayName)}${g.mail ? ` / ${e(g.mail)}` : ''}</span>`,
          g.accountEnabled ? e(L.enabled) : e(L.disabled),
          e(g.externalUserState === 'Accepted' ? L.accepted : g.externalUserState === 'PendingAcceptance' ? L.pending : (g.externalUserState ?? '')),
          lastSignIn(g.lastSignInKnown, g.lastSignIn, true, g.lastSignInAfter),
        ]),
      )
    : `<p class="muted">${e(L.none)}</p>`;
  const shares = inv.shares.rows.length
    ? grid(
        [L.path, L.cls, L.kind, L.who, L.since, L.expires],
        inv.shares.rows.map((s) => [
          `${e(s.path)}${s.asOf ? `<br><span class="muted">${e(L.asOfRead(local(s.asOf, tz)))}</span>` : ''}`,
          e(s.class),
          `${e(s.kind === 'anonymous' ? L.anonymous : L.external)}${s.roles.length ? `<br><span class="muted">${e(s.roles.join(', '))}</span>` : ''}`,
          s.kind === 'anonymous' ? e(L.anyone) : s.who.map(e).join('<br>'),
          e(local(s.firstSeen, tz, false)),
          s.expires ? e(local(s.expires, tz, false)) : `<span class="alarm">${e(L.noExpiry)}</span>`,
        ]),
      )
    : `<p class="muted">${e(L.none)}</p>`;
  const shared = inv.sharedAccounts.rows.length
    ? grid(
        [L.account, L.reason, L.exception],
        inv.sharedAccounts.rows.map((a) => [
          `${e(a.userPrincipalName)}<br><span class="muted">${e(a.displayName)}${a.department ? ` / ${e(a.department)}` : ''}</span>`,
          e(a.reasonKind === 'displayName' ? L.byDisplayName(a.reason) : L.byPattern(a.reason)),
          a.exception ? (a.exception.inForce ? e(L.exceptionLine(a.exception)) : `<span class="alarm">${e(L.exceptionLine(a.exception))}</span>`) : `<span class="alarm">${e(L.noException)}</span>`,
        ]),
      )
    : `<p class="muted">${e(L.none)}</p>`;
  return [
    `<p class="muted">${e(L.inventoryAt(local(inv.takenAt, tz), inv.scanId))}</p>`,
    `<h3>${e(L.privileged)} (${inv.privileged.rows.length})</h3>`,
    sectionNote(inv.privileged, L),
    privileged,
    `<h3>${e(L.guests)} (${inv.guests.rows.length})</h3>`,
    sectionNote(inv.guests, L),
    guests,
    `<h3>${e(L.shares)} (${inv.shares.rows.length})</h3>`,
    sectionNote(inv.shares, L),
    shares,
    `<h3>${e(L.sharedAccounts)} (${inv.sharedAccounts.rows.length})</h3>`,
    sectionNote(inv.sharedAccounts, L),
    shared,
  ].join('\n');
}

/** The digest document: HTML with every style inlined, ready to mail. */
export async function renderDigestHtml(model: DigestModel, lang: Lang): Promise<string> {
  const L = TEXT[lang];
  const R = LABELS[lang];
  const tz = model.timeZone;
  const endShown = DateTime.fromISO(model.end, { zone: 'utc' }).setZone(tz).minus({ days: 1 }).toFormat('yyyy-MM-dd');
  const startShown = DateTime.fromISO(model.start, { zone: 'utc' }).setZone(tz).toFormat('yyyy-MM-dd');
  const svg = await trendSvg(model.trend, { severities: R.severities, count: lang === 'ja' ? '件数' : 'open findings', month: L.monthShort });
  const areasShown = AREAS.filter((a) => model.coverage.areas.some((c) => c.area === a));

  const summary = [
    `<h3>${e(L.openBySeverity)}</h3>`,
    grid(
      [...SEVERITIES.map((s) => R.severities[s]), L.total, L.excepted],
      [[...SEVERITIES.map((s) => `<span class="${model.open.bySeverity[s] ? `sev-${s}` : ''}">&nbsp;${model.open.bySeverity[s]}&nbsp;</span>`), String(model.open.total), String(model.open.excepted)]],
      [0, 1, 2, 3, 4, 5],
    ),
    `<h3>${e(L.byArea)}</h3>`,
    grid(
      [L.area, ...SEVERITIES.map((s) => R.severities[s]), L.total],
      areasShown.map((a) => {
        const c = model.open.byArea[a];
        return [e(R.areas[a]), ...SEVERITIES.map((s) => String(c[s])), String(SEVERITIES.reduce((n, s) => n + c[s], 0))];
      }),
      [1, 2, 3, 4, 5],
    ),
    `<h3>${e(L.changesHead)}</h3>`,
    grid(
      [L.opened, L.resolved, L.reopened, L.overdueCount, L.unroutedCount],
      [[
        e(L.count(model.changes.opened.length)),
        e(L.count(model.changes.resolved.length)),
        e(L.count(model.changes.reopened.length)),
        model.overdue.length ? `<span class="alarm">${e(L.count(model.overdue.length))}</span>` : e(L.count(0)),
        e(L.count(model.unrouted.length)),
      ]],
      [0, 1, 2, 3, 4],
    ),
  ].join('\n');

  const changes = [
    `<h3>${e(L.opened)} (${model.changes.opened.length})</h3>`,
    itemsTable(model.changes.opened, model, lang, L),
    `<h3>${e(L.resolved)} (${model.changes.resolved.length})</h3>`,
    itemsTable(model.changes.resolved, model, lang, L, true),
    `<h3>${e(L.reopened)} (${model.changes.reopened.length})</h3>`,
    itemsTable(model.changes.reopened, model, lang, L),
  ].join('\n');

  const exceptions = [
    `<h3>${e(L.exExpiring)} (${model.exceptions.expiring.length})</h3>`,
    exceptionTable(model.exceptions.expiring, L, false),
    `<h3>${e(L.exActive)} (${model.exceptions.active.length})</h3>`,
    exceptionTable(model.exceptions.active, L, false),
    `<h3>${e(L.exExpired)} (${model.exceptions.expired.length})</h3>`,
    exceptionTable(model.exceptions.expired, L, true),
  ].join('\n');

  const si = model.signIns;
  const signIns =
    si.coverage === null
      ? `<p class="bad">${e(L.signInNone)}</p>`
      : [
          si.coverage !== 'complete' ? `<p class="warn">${e(L.signInCoverage[si.coverage])}</p>` : '',
          grid(
            [L.rule, L.occurrences, L.subjects, L.failures, L.successes],
            si.byRule.map((r) => [`${e(r.ruleId)}<br>${e(r.title[lang])}`, String(r.occurrences), String(r.subjects), String(r.failures), String(r.successes)]),
            [1, 2, 3, 4],
          ),
          `<table role="presentation" width="100%" cellpadding="0" cellspacing="0"><tr><td width="50%" valign="top" style="padding-right:8px">`,
          `<h3>${e(L.topAddresses)}</h3>`,
          si.topAddresses.length ? grid([L.address, L.occurrences], si.topAddresses.map((a) => [e(a.address), String(a.occurrences)]), [1]) : `<p class="muted">${e(L.none)}</p>`,
          `</td><td width="50%" valign="top" style="padding-left:8px">`,
          `<h3>${e(L.topCountries)}</h3>`,
          si.topCountries.length ? grid([L.country, L.occurrences], si.topCountries.map((c) => [e(c.country), String(c.occurrences)]), [1]) : `<p class="muted">${e(L.none)}</p>`,
          `</td></tr></table>`,
        ].join('\n');

  const trend = [
    `<p class="muted">${e(L.trendNote)}</p>`,
    `<div class="chart">${svg}</div>`,
    grid(
      ['', ...model.trend.map((p) => `${L.monthShort(p.month)}${p.partial ? L.partialScan : ''}`)],
      SEVERITIES.map((s) => [sevCell(s, lang), ...model.trend.map((p) => (p.counts ? String(p.counts[s]) : `<span class="muted">${e(L.noScan)}</span>`))]),
      model.trend.map((_, i) => i + 1),
    ),
  ].join('\n');

  const statusWord = (s: 'complete' | 'partial' | 'failed' | null): string => (s === null ? L.notRead : L[s]);
  const coverage = [
    `<p>${e(L.scans(model.coverage.scans))}</p>`,
    grid(
      [L.area, L.complete, L.partial, L.failed, L.last, L.detail],
      model.coverage.areas.map((c) => [
        e(R.areas[c.area]),
        String(c.complete),
        String(c.partial),
        String(c.failed),
        `<span class="st-${c.last ?? 'failed'}">${e(statusWord(c.last))}</span>`,
        e(c.detail ?? ''),
      ]),
      [1, 2, 3],
    ),
  ].join('\n');

  const head = model.evidenceHead;
  const evidence = head
    ? `<table class="meta" role="presentation" cellpadding="0" cellspacing="0"><tr><th>${e(L.evidence)}</th><td>${e(L.evidenceHead(head.sequence, local(head.startedAt, tz)))}<br><code>${e(head.hash)}</code></td></tr></table>\n<p class="muted">${e(L.evidenceNote)}</p>`
    : `<p class="muted">${e(L.evidence)}: ${e(L.evidenceNone)}</p>`;

  const manual = [`<p class="warn">${e(L.manualNote)}</p>`, `<ul>${model.manualClauses.map((c) => `<li>${e(c.id)} ${e(c.title[lang])}</li>`).join('')}</ul>`].join('\n');

  const html = `<!DOCTYPE html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(digestSubject(model, lang))}</title>
<style>${CSS}</style>
</head>
<body>
<table class="wrap" role="presentation" width="100%" cellpadding="0" cellspacing="0"><tr><td align="center">
<table class="page" role="presentation" width="760" cellpadding="0" cellspacing="0"><tr><td class="pad">
<h1>${e(L.title)} ${e(L.month(model.month))}</h1>
<p class="muted">${e(L.intro)}</p>
<table class="meta" role="presentation" cellpadding="0" cellspacing="0">
<tr><th>${e(L.org)}</th><td>${e(model.organization)}</td></tr>
<tr><th>${e(L.tenant)}</th><td>${e(model.tenantId)}</td></tr>
<tr><th>${e(L.period)}</th><td>${e(startShown)} 〜 ${e(endShown)} (${e(tz)})</td></tr>
<tr><th>${e(L.asOf)}</th><td>${e(local(model.asOf, tz))} (${e(tz)})</td></tr>
</table>
${model.inProgress ? `<p class="warn">${e(L.inProgress)}</p>` : ''}
<h2>${e(L.summary)}</h2>
${summary}
<h2>${e(L.changes)}</h2>
${changes}
<h2>${e(L.overdue)} (${model.overdue.length})</h2>
${ticketTable(model.overdue, lang, L, true)}
<h2>${e(L.unrouted)} (${model.unrouted.length})</h2>
${model.unrouted.length ? `<p class="muted">${e(L.unroutedNote)}</p>` : ''}
${ticketTable(model.unrouted, lang, L, false)}
<h2>${e(L.inventory)}</h2>
${inventoryHtml(model, lang, L)}
<h2>${e(L.exceptions)}</h2>
${exceptions}
<h2>${e(L.signIns)}</h2>
${signIns}
<h2>${e(L.trend)}</h2>
${trend}
<h2>${e(L.coverage)}</h2>
${coverage}
${evidence}
<h2>${e(L.manual)}</h2>
${manual}
<p class="footer">${e(L.footer)}</p>
</td></tr></table>
</td></tr></table>
</body>
</html>
`;
  // Inline every rule (Outlook reads inline styles); keep the <style> block for clients that use it.
  return juice(html, { preserveImportant: true, removeStyleTags: false, xmlMode: false });
}
