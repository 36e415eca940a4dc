/**
 * Evidence as people read it: labelled fields in the organisation's language, times in its time
 * zone, people named, grantees once, long lists shortened by whole items ("ほか N 件") — never
 * JSON, never an object cut in the middle. Also the one sentence that says what is wrong.
 * Pure: the report (HTML) and findings.csv both use these; the raw evidence stays in findings.json.
 */
import type { Subject } from '../findings/finding';
import type { RuleId } from '../rules/ids';
import { localTime } from './time';

/** The languages of the reports. */
export type EvidenceLang = 'ja' | 'en';

/** One field of evidence: a label and its value as lines of text (a link when `href`). */
export interface EvidenceField {
  label: string;
  lines: string[];
  href?: string;
}

/** What the formatter needs besides the evidence. */
export interface EvidenceContext {
  lang: EvidenceLang;
  timeZone: string;
  /** A person's display name by object id, UPN or mail, when known. */
  nameOf?: (idOrAddress: string) => string | undefined;
}

/** At most this many items of a list are shown, whole; the rest are counted. */
const MAX_ITEMS = 10;

const LABELS: Record<string, { ja: string; en: string }> = {
  displayName: { ja: '表示名', en: 'Display name' },
  matchedPattern: { ja: '一致した名前のパターン', en: 'Matched name pattern' },
  displayNameContains: { ja: '表示名に含まれる語', en: 'Display name contains' },
  department: { ja: '所属', en: 'Department' },
  lastSignIn: { ja: '最終サインイン', en: 'Last sign-in' },
  daysSinceLastSignIn: { ja: '最終サインインからの日数', en: 'Days since last sign-in' },
  createdDateTime: { ja: 'アカウント作成日時', en: 'Account created' },
  inactiveDays: { ja: '基準（未使用の日数）', en: 'Limit (days unused)' },
  employeeLeaveDateTime: { ja: '退職・離任日', en: 'Leave date' },
  userType: { ja: '利用者の種別', en: 'User type' },
  count: { ja: '全体管理者の人数', en: 'Global Administrators' },
  maxGlobalAdmins: { ja: '上限（accounts.maxGlobalAdmins）', en: 'Limit (accounts.maxGlobalAdmins)' },
  eligibleChecked: { ja: '適格（PIM）割り当ての確認', en: 'Eligible (PIM) assignments checked' },
  holders: { ja: '保有者', en: 'Holders' },
  roles: { ja: '保有する特権ロール', en: 'Privileged roles held' },
  isMfaRegistered: { ja: '多要素認証の登録', en: 'MFA registration' },
  methodsRegistered: { ja: '登録済みの認証方法（フィッシング耐性のあるものなし）', en: 'Methods registered (none phishing-resistant)' },
  endDateTime: { ja: '割り当ての終了日時', en: 'Assignment ends' },
  accountEnabled: { ja: 'アカウントの状態', en: 'Account state' },
  externalUserState: { ja: '招待の状態', en: 'Invitation state' },
  mail: { ja: 'メールアドレス', en: 'Mail address' },
  guestInactiveDays: { ja: '基準（ゲストの未使用日数）', en: 'Limit (guest days unused)' },
  guestGraceDays: { ja: '基準（招待後の猶予日数）', en: 'Limit (days after invitation)' },
  passwordPolicies: { ja: 'パスワード ポリシー', en: 'Password policies' },
  securityDefaultsEnabled: { ja: 'セキュリティの既定値', en: 'Security defaults' },
  mfaPolicies: { ja: '多要素認証を要求する条件付きアクセス ポリシー', en: 'Conditional Access policies requiring MFA' },
  blockPolicies: { ja: 'アクセスをブロックする条件付きアクセス ポリシー', en: 'Conditional Access policies that block' },
  rules: { ja: '外部へ転送する受信トレイ ルール', en: 'Inbox rules forwarding outside' },
  freeMail: { ja: 'フリーメール宛て', en: 'To free mail' },
  path: { ja: '場所', en: 'Location' },
  webUrl: { ja: 'URL', en: 'URL' },
  site: { ja: 'サイト', en: 'Site' },
  class: { ja: '分類', en: 'Class' },
  isFolder: { ja: '種類', en: 'Kind' },
  permissions: { ja: '問題のある共有', en: 'Offending sharing' },
  asOf: { ja: '共有の読み取り時点', en: 'Sharing read at' },
  sharingCapability: { ja: '外部共有の設定', en: 'External sharing setting' },
  name: { ja: 'サイト名', en: 'Site name' },
  defaultClass: { ja: '適用した既定の分類（files.defaultClass）', en: 'Default class applied (files.defaultClass)' },
  occurrences: { ja: '発生', en: 'Occurrences' },
  signInIds: { ja: 'サインイン ID（Entra のサインイン ログで検索できます）', en: 'Sign-in ids (search the Entra sign-in log)' },
  failures: { ja: '失敗の合計', en: 'Failures in total' },
  successes: { ja: '成功の合計', en: 'Successes in total' },
  exception: { ja: '例外措置', en: 'Exception' },
  appId: { ja: 'アプリケーション ID（appId）', en: 'Application id (appId)' },
  appOwnerOrganizationId: { ja: 'アプリを所有する組織（テナント ID）', en: 'Owning organisation (tenant id)' },
  highRiskPermissions: { ja: '高リスクのアクセス許可', en: 'High-risk permissions' },
  permissionGrantPoliciesAssigned: { ja: '既定のユーザー ロールに割り当てられた同意ポリシー', en: 'Consent policies assigned to the default user role' },
  domain: { ja: 'ドメイン', en: 'Domain' },
  missing: { ja: '不足しているもの', en: 'Missing' },
  problems: { ja: 'DNS の内容', en: 'What DNS shows' },
  spf: { ja: 'SPF レコード', en: 'SPF record' },
  dmarc: { ja: 'DMARC レコード（_dmarc）', en: 'DMARC record (_dmarc)' },
  dkim: { ja: 'DKIM（selector1 / selector2 の CNAME）', en: 'DKIM (selector1 / selector2 CNAMEs)' },
  unchecked: { ja: 'DNS が応答せず未確認（合否に数えていません）', en: 'Not answered by DNS (counted neither way)' },
  notes: { ja: '備考', en: 'Notes' },
};

/** Keys that are ids for machines (kept in findings.json, not shown). */
const HIDDEN = new Set(['roleId', 'id']);

type W = Record<string, string>;
const WORDS: { ja: W; en: W } = {
  ja: {
    yes: 'はい', no: 'いいえ', none: 'なし', unset: '（未設定）', never: '記録なし', days: '日', times: '回', people: '人',
    Member: 'メンバー（職員）', Guest: 'ゲスト（外部利用者）', PendingAcceptance: '招待未承諾', Accepted: '承諾済み',
    registered: '登録済み', notRegistered: '未登録', on: '有効', off: '無効',
    enabled: 'オン', disabled: 'オフ', enabledForReportingButNotEnforced: 'レポート専用（保護していません）',
    active: '有効', eligible: '適格', viaGroup: 'via グループ', alsoDirect: '直接の割り当てもあり', scopeAll: 'テナント全体', scope: '範囲',
    folder: 'フォルダー', file: 'ファイル', noExpiry: '期限なし', expires: '期限',
    anonymous: '「リンクを知っていれば誰でも」リンク', organization: '「組織内のユーザー」リンク', users: '「特定のユーザー」リンク', direct: '直接のアクセス権',
    read: '閲覧', write: '編集', owner: '所有者',
    forwardTo: '転送', redirectTo: 'リダイレクト', forwardAsAttachmentTo: '添付として転送',
    exchangeActiveSync: 'Exchange ActiveSync', other: 'その他のクライアント', all: 'すべて', browser: 'ブラウザー', mobileAppsAndDesktopClients: 'モバイル アプリとデスクトップ クライアント',
    externalUserAndGuestSharing: '「すべてのユーザー」（匿名リンクを作成できます）', externalUserSharingOnly: '「新規および既存のゲスト」',
    existingExternalUserSharingOnly: '「既存のゲストのみ」', disabledSharing: '「組織内のユーザーのみ」',
    failed: '失敗', succeeded: '成功', from: '送信元', users_: '対象の利用者', more: 'ほか', items: '件',
    reason: '理由', approvedBy: '承認者', approvedOn: '承認日', compensatingControl: '代替措置', expiresOn: '有効期限', subject: '対象',
    targetUsers: '対象ユーザー', apps: 'アプリ', clientApps: 'クライアント アプリ', some: '一部', strong: 'DisableStrongPassword（強力なパスワードを要求しない）',
  },
  en: {
    yes: 'yes', no: 'no', none: 'none', unset: '(not set)', never: 'none recorded', days: 'days', times: 'times', people: 'people',
    Member: 'member', Guest: 'guest (external)', PendingAcceptance: 'invitation not accepted', Accepted: 'accepted',
    registered: 'registered', notRegistered: 'not registered', on: 'enabled', off: 'disabled',
    enabled: 'On', disabled: 'Off', enabledForReportingButNotEnforced: 'Report-only (protects nothing)',
    active: 'active', eligible: 'eligible', viaGroup: 'via group', alsoDirect: 'also held directly', scopeAll: 'whole tenant', scope: 'scope',
    folder: 'folder', file: 'file', noExpiry: 'no expiry', expires: 'expires',
    anonymous: '"Anyone with the link" link', organization: '"People in your organization" link', users: '"Specific people" link', direct: 'direct access',
    read: 'view', write: 'edit', owner: 'owner',
    forwardTo: 'forward', redirectTo: 'redirect', forwardAsAttachmentTo: 'forward as attachment',
    exchangeActiveSync: 'Exchange ActiveSync', other: 'Other clients', all: 'all', browser: 'Browser', mobileAppsAndDesktopClients: 'Mobile apps and desktop clients',
    externalUserAndGuestSharing: '"Anyone" (anonymous links can be created)', externalUserSharingOnly: '"New and existing guests"',
    existingExternalUserSharingOnly: '"Existing guests only"', disabledSharing: '"Only people in your organization"',
    failed: 'failed', succeeded: 'succeeded', from: 'from', users_: 'targeted users', more: 'and', items: 'more',
    reason: 'reason', approvedBy: 'approved by', approvedOn: 'approved on', compensatingControl: 'compensating control', expiresOn: 'expires on', subject: 'subject',
    targetUsers: 'users', apps: 'apps', clientApps: 'client apps', some: 'some', strong: 'DisableStrongPassword (no strong password required)',
  },
};

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : '');
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const uniq = (xs: readonly string[]): string[] => [...new Set(xs.filter((x) => x !== ''))];

/** "a、b、c ほか 3 件" / "a, b, c and 3 more": at most `max` whole items. */
export function joinShort(items: readonly string[], lang: EvidenceLang, max = MAX_ITEMS): string {
  const w = WORDS[lang];
  const shown = items.slice(0, max);
  const rest = items.length - shown.length;
  const sep = lang === 'ja' ? '、' : ', ';
  return `${shown.join(sep)}${rest > 0 ? (lang === 'ja' ? ` ${w.more} ${rest} ${w.items}` : ` ${w.more} ${rest} ${w.items}`) : ''}`;
}

/** Lines of a list, at most `max` of them, whole, with a last line counting the rest. */
function shortLines(items: readonly string[], lang: EvidenceLang, max = MAX_ITEMS): string[] {
  const shown = items.slice(0, max);
  const rest = items.length - shown.length;
  if (rest > 0) shown.push(lang === 'ja' ? `ほか ${rest} 件` : `and ${rest} more`);
  return shown;
}

/** A person as read: "佐藤 誠（makoto.sato@example.lg.jp）" when the name is known, else the address. */
export function personName(key: string, ctx: EvidenceContext): string {
  const name = ctx.nameOf?.(key);
  if (!name || name === key) return key;
  return ctx.lang === 'ja' ? `${name}（${key}）` : `${name} (${key})`;
}

function time(v: unknown, ctx: EvidenceContext): string {
  return typeof v === 'string' && v ? localTime(v, ctx.timeZone) : word(ctx, 'never');
}

/** Only the local date (YYYY-MM-DD) of an instant. */
function localDate(v: unknown, ctx: EvidenceContext): string {
  return typeof v === 'string' && v ? localTime(v, ctx.timeZone).slice(0, 10) : word(ctx, 'never');
}

function word(ctx: EvidenceContext, key: string): string {
  return WORDS[ctx.lang][key] ?? key;
}

function paren(ctx: EvidenceContext, text: string): string {
  return ctx.lang === 'ja' ? `（${text}）` : ` (${text})`;
}

function holding(r: Record<string, unknown>, ctx: EvidenceContext): string {
  const parts = [word(ctx, str(r.via))];
  if (r.scope !== undefined) parts.push(`${word(ctx, 'scope')}: ${str(r.scope) === '/' ? word(ctx, 'scopeAll') : str(r.scope)}`);
  const group = isRecord(r.group) ? str(r.group.displayName) || str(r.group.id) : '';
  return `${str(r.role)}${paren(ctx, parts.join(ctx.lang === 'ja' ? '、' : ', '))}${group ? ` ${word(ctx, 'viaGroup')} ${group}` : ''}`;
}

function holder(h: Record<string, unknown>, ctx: EvidenceContext): string {
  const who = personName(str(h.name) || str(h.id), ctx);
  const via = list(h.via).map((v) => word(ctx, str(v))).join('・');
  const groups = list(h.groups).map((g) => (isRecord(g) ? str(g.displayName) || str(g.id) : '')).filter(Boolean);
  const sep = ctx.lang === 'ja' ? '、' : ', ';
  const extra = groups.length ? ` ${word(ctx, 'viaGroup')} ${groups.join(sep)}${h.direct === true ? `${sep}${word(ctx, 'alsoDirect')}` : ''}` : '';
  return `${who}${via ? paren(ctx, via) : ''}${extra}`;
}

function caPolicy(p: Record<string, unknown>, ctx: EvidenceContext): string {
  const sep = ctx.lang === 'ja' ? '、' : ', ';
  const scope = (v: unknown): string => {
    const xs = list(v).map(str);
    if (xs.includes('All')) return word(ctx, 'all');
    return xs.length ? xs.join(sep) : word(ctx, 'some');
  };
  const parts = [`${ctx.lang === 'ja' ? '状態' : 'state'}: ${word(ctx, str(p.state))}`];
  if (p.includeUsers !== undefined) parts.push(`${word(ctx, 'targetUsers')}: ${scope(p.includeUsers)}`);
  if (p.includeApplications !== undefined) parts.push(`${word(ctx, 'apps')}: ${scope(p.includeApplications)}`);
  if (p.clientAppTypes !== undefined) parts.push(`${word(ctx, 'clientApps')}: ${list(p.clientAppTypes).map((c) => word(ctx, str(c))).join(sep)}`);
  return `${str(p.name)} — ${parts.join(sep)}`;
}

/** A sharing permission: what kind of access, with which role, to whom, until when. Grantees once. */
function permission(p: Record<string, unknown>, ctx: EvidenceContext): string {
  const kind = p.linkScope ? word(ctx, str(p.linkScope)) : word(ctx, 'direct');
  const roles = uniq(list(p.roles).map((r) => word(ctx, str(r)))).join(ctx.lang === 'ja' ? '・' : '/');
  const grantees = uniq(list(p.grantees).map(str)).map((g) => personName(g, ctx));
  const expires = p.expires ? `${word(ctx, 'expires')} ${time(p.expires, ctx)}` : word(ctx, 'noExpiry');
  const to = grantees.length ? ` → ${joinShort(grantees, ctx.lang)}` : '';
  return `${kind}${roles ? `${ctx.lang === 'ja' ? '・' : ', '}${roles}` : ''}${to}${paren(ctx, expires)}`;
}

function mailRule(r: Record<string, unknown>, ctx: EvidenceContext): string {
  const sep = ctx.lang === 'ja' ? '、' : ', ';
  const actions = list(r.actions).map((a) => word(ctx, str(a))).join(sep);
  const name = ctx.lang === 'ja' ? `「${str(r.name)}」` : `"${str(r.name)}"`;
  return `${name}${actions ? paren(ctx, actions) : ''} → ${joinShort(uniq(list(r.destinations).map(str)), ctx.lang)}`;
}

function occurrence(o: Record<string, unknown>, ctx: EvidenceContext, showUsers: boolean): string {
  const ja = ctx.lang === 'ja';
  const start = time(o.windowStart, ctx);
  const end = typeof o.windowEnd === 'string' && o.windowEnd !== o.windowStart ? localTime(o.windowEnd, ctx.timeZone).slice(11, 19) : '';
  const window = end ? `${start.slice(0, 19)}–${end}${start.slice(19)}` : start;
  const counts = ja ? `失敗 ${str(o.failures) || 0} 回・成功 ${str(o.successes) || 0} 回` : `${str(o.failures) || 0} failed, ${str(o.successes) || 0} succeeded`;
  const addresses = uniq(list(o.addresses).map(str));
  const countries = uniq(list(o.countries).map(str));
  const from = addresses.length ? `${word(ctx, 'from')} ${joinShort(addresses, ctx.lang, 5)}${countries.length ? paren(ctx, countries.join(', ')) : ''}` : '';
  const via = uniq([...list(o.clientApps).map(str), ...list(o.apps).map(str)]).join(' / ');
  const users = uniq(list(o.users).map(str));
  const who = showUsers && users.length ? `${word(ctx, 'users_')} ${ja ? `${str(o.distinctUsers) || users.length} 人` : `${str(o.distinctUsers) || users.length}`}: ${joinShort(users.map((u) => personName(u, ctx)), ctx.lang, 5)}` : '';
  return [`${window}: ${counts}`, from, via, who].filter(Boolean).join(ja ? '、' : '; ');
}

function exceptionLines(x: Record<string, unknown>, ctx: EvidenceContext): string[] {
  const lines: string[] = [];
  for (const k of ['reason', 'compensatingControl', 'approvedBy', 'approvedOn', 'expiresOn', 'subject']) {
    const v = x[k];
    if (v === undefined || v === null || v === '') continue;
    lines.push(`${word(ctx, k)}: ${k === 'approvedBy' ? personName(str(v), ctx) : str(v)}`);
  }
  return lines;
}

/** Any other value, flattened into words (a rule added later still reads without JSON). */
function plain(v: unknown, ctx: EvidenceContext): string {
  if (v === null || v === undefined) return word(ctx, 'unset');
  if (typeof v === 'boolean') return word(ctx, v ? 'yes' : 'no');
  if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(v)) return time(v, ctx);
  if (typeof v !== 'object') return String(v);
  const sep = ctx.lang === 'ja' ? '、' : ', ';
  if (Array.isArray(v)) return v.length ? joinShort(v.map((x) => plain(x, ctx)), ctx.lang) : word(ctx, 'none');
  return Object.entries(v as Record<string, unknown>)
    .filter(([k]) => !HIDDEN.has(k))
    .map(([k, x]) => `${LABELS[k]?.[ctx.lang] ?? k}: ${plain(x, ctx)}`)
    .join(sep);
}

/** One evidence key as a field (undefined: not shown). */
function field(key: string, v: unknown, evidence: Record<string, unknown>, ctx: EvidenceContext, ruleId: RuleId): EvidenceField | undefined {
  const label = LABELS[key]?.[ctx.lang] ?? key;
  const one = (text: string): EvidenceField => ({ label, lines: [text] });
  const days = (n: unknown): string => (typeof n === 'number' ? `${n} ${word(ctx, 'days')}` : word(ctx, 'never'));
  switch (key) {
    case 'roleId': case 'id': case 'signInIdsTruncated':
      return undefined;
    case 'department':
      return one(str(v) || word(ctx, 'unset'));
    case 'lastSignIn': case 'createdDateTime': case 'asOf':
      return one(time(v, ctx));
    case 'employeeLeaveDateTime':
      return one(localDate(v, ctx));
    case 'daysSinceLastSignIn': case 'inactiveDays': case 'guestInactiveDays': case 'guestGraceDays':
      return one(days(v));
    case 'userType': case 'externalUserState':
      return one(v === null || v === undefined ? word(ctx, 'unset') : word(ctx, str(v)));
    case 'count':
      return one(ctx.lang === 'ja' ? `${str(v)} 人` : str(v));
    case 'maxGlobalAdmins':
      return one(ctx.lang === 'ja' ? `${str(v)} 人` : str(v));
    case 'isMfaRegistered':
      return one(word(ctx, v === true ? 'registered' : 'notRegistered'));
    case 'methodsRegistered':
      return one(list(v).length ? joinShort(list(v).map(str), ctx.lang) : word(ctx, 'none'));
    case 'endDateTime':
      return one(v ? time(v, ctx) : ctx.lang === 'ja' ? 'なし（無期限の割り当て）' : 'never (a permanent assignment)');
    case 'accountEnabled':
      return one(word(ctx, v === false ? 'off' : 'on'));
    case 'securityDefaultsEnabled':
      return one(word(ctx, v === true ? 'on' : 'off'));
    case 'eligibleChecked':
      return one(v === true ? word(ctx, 'yes') : ctx.lang === 'ja' ? 'いいえ（PIM のデータを読めず、適格な保有者は数えていません）' : 'no (PIM data unreadable: eligible holders not counted)');
    case 'freeMail': case 'isFolder':
      return key === 'isFolder' ? one(word(ctx, v === true ? 'folder' : 'file')) : one(word(ctx, v === true ? 'yes' : 'no'));
    case 'passwordPolicies':
      return one(str(v).split(',').map((p) => p.trim()).filter(Boolean).map((p) => (p === 'DisableStrongPassword' ? word(ctx, 'strong') : p)).join(ctx.lang === 'ja' ? '、' : ', ') || word(ctx, 'unset'));
    case 'sharingCapability':
      return one(str(v) === 'disabled' ? word(ctx, 'disabledSharing') : word(ctx, str(v)));
    case 'class': case 'defaultClass':
      // The label says "class": the value is the register's class alone (I–IV).
      return one(str(v));
    case 'path':
      // The path reads better than the encoded URL; it links to it.
      return typeof evidence.webUrl === 'string' ? { label, lines: [str(v)], href: evidence.webUrl } : one(str(v));
    case 'webUrl':
      return typeof evidence.path === 'string' ? undefined : { label, lines: [str(v)], href: str(v) };
    case 'site':
      return { label, lines: [str(v)], href: str(v) };
    case 'roles':
      if (ruleId === 'MAIL-01') break;
      return { label, lines: shortLines(list(v).filter(isRecord).map((r) => holding(r, ctx)), ctx.lang) };
    case 'holders':
      return { label, lines: shortLines(list(v).filter(isRecord).map((h) => holder(h, ctx)), ctx.lang, 20) };
    case 'mfaPolicies': case 'blockPolicies': {
      const ps = list(v).filter(isRecord).map((p) => caPolicy(p, ctx));
      return { label, lines: ps.length ? shortLines(ps, ctx.lang) : [word(ctx, 'none')] };
    }
    case 'permissions':
      return { label, lines: shortLines(list(v).filter(isRecord).map((p) => permission(p, ctx)), ctx.lang) };
    case 'occurrences': {
      // Newest first: the latest is what a person checks first.
      const os = list(v).filter(isRecord).reverse();
      return { label, lines: shortLines(os.map((o) => occurrence(o, ctx, ruleId === 'SIGN-02')), ctx.lang) };
    }
    case 'failures': case 'successes':
      return one(ctx.lang === 'ja' ? `${str(v) || 0} 回` : str(v) || '0');
    case 'exception':
      return isRecord(v) ? { label, lines: exceptionLines(v, ctx) } : undefined;
    // MAIL-02: the record texts say it; the parsed `all` and `p=` are for machines.
    case 'spfAll': case 'dmarcPolicy':
      return undefined;
    case 'spf': case 'dmarc':
      if (ruleId !== 'MAIL-02') break;
      return one(v === null || v === undefined ? word(ctx, 'none') : str(v));
    case 'problems':
      if (ruleId !== 'MAIL-02') break;
      return { label, lines: list(v).filter(isRecord).map((p) => `${str(p.record)}${p.selector ? ` ${str(p.selector)}` : ''}: ${str(p.detail)}`) };
    case 'dkim':
      return {
        label,
        lines: list(v).filter(isRecord).map((d) => {
          const status = str(d.status);
          const what = status === 'ok' ? str(d.target) : status === 'missing' ? word(ctx, 'none') : ctx.lang === 'ja' ? '未確認（DNS が応答せず）' : 'unknown (DNS did not answer)';
          return `${str(d.selector)}: ${what}`;
        }),
      };
    default:
      break;
  }
  if (key === 'rules' && ruleId === 'MAIL-01') return { label, lines: shortLines(list(v).filter(isRecord).map((r) => mailRule(r, ctx)), ctx.lang) };
  return one(plain(v, ctx));
}

/** The evidence of a finding as labelled fields, in the order the rule wrote them. */
export function evidenceFields(ruleId: RuleId, evidence: Record<string, unknown>, ctx: EvidenceContext): EvidenceField[] {
  const fields: EvidenceField[] = [];
  for (const [k, v] of Object.entries(evidence)) {
    const f = field(k, v, evidence, ctx, ruleId);
    if (f && f.lines.length) fields.push(f);
  }
  // Event findings: the sign-in ids of the occurrences shown, whole ids, counted beyond.
  const occurrences = list(evidence.occurrences).filter(isRecord);
  if (occurrences.length) {
    const ids = uniq(occurrences.reverse().flatMap((o) => list(o.signInIds).map(str)));
    const truncated = occurrences.reduce((n, o) => n + (Number(o.signInIdsTruncated) || 0), 0);
    if (ids.length) {
      const shown = ids.slice(0, 5);
      const rest = ids.length - shown.length + truncated;
      const label = LABELS.signInIds?.[ctx.lang] ?? 'signInIds';
      fields.push({ label, lines: rest > 0 ? [...shown, ctx.lang === 'ja' ? `ほか ${rest} 件` : `and ${rest} more`] : shown });
    }
  }
  return fields;
}

/** The evidence as plain text lines, `label: value` (findings.csv, one cell). */
export function evidenceText(ruleId: RuleId, evidence: Record<string, unknown>, ctx: EvidenceContext): string {
  const sep = ctx.lang === 'ja' ? '、' : '; ';
  return evidenceFields(ruleId, evidence, ctx)
    .map((f) => `${f.label}: ${f.lines.join(f.lines.length > 1 ? sep : '')}`)
    .join('\n');
}

/** What the sentence needs about the finding. */
export interface SentenceInput {
  ruleId: RuleId;
  subject: Subject;
  evidence: Record<string, unknown>;
}

/** The subject as a person reads it. */
function who(s: Subject, ctx: EvidenceContext): string {
  return s.kind === 'user' ? personName(s.name, ctx) : s.name;
}

function occurrenceTotals(e: Record<string, unknown>): { failures: number; successes: number; addresses: string[]; countries: string[]; clientApps: string[]; users: number; from?: string; to?: string } {
  const os = list(e.occurrences).filter(isRecord);
  const windows = os.flatMap((o) => [str(o.windowStart), str(o.windowEnd)]).filter(Boolean).sort();
  return {
    failures: Number(e.failures) || os.reduce((n, o) => n + (Number(o.failures) || 0), 0),
    successes: Number(e.successes) || os.reduce((n, o) => n + (Number(o.successes) || 0), 0),
    addresses: uniq(os.flatMap((o) => list(o.addresses).map(str))),
    countries: uniq(os.flatMap((o) => list(o.countries).map(str))),
    clientApps: uniq(os.flatMap((o) => list(o.clientApps).map(str))),
    users: Math.max(0, ...os.map((o) => Number(o.distinctUsers) || list(o.users).length)),
    ...(windows.length ? { from: windows[0], to: windows[windows.length - 1] } : {}),
  };
}

/** One sentence saying what is wrong, from the rule and its evidence. */
export function findingSentence(f: SentenceInput, ctx: EvidenceContext): string {
  const ja = ctx.lang === 'ja';
  const e = f.evidence;
  const w = who(f.subject, ctx);
  const n = (v: unknown): string => str(v) || '?';
  const item = (): string => (e.isFolder === true ? (ja ? 'フォルダー' : 'folder') : ja ? 'ファイル' : 'file');
  const roles = (): string => joinShort(uniq(list(e.roles).filter(isRecord).map((r) => str(r.role))), ctx.lang, 5);
  const t = occurrenceTotals(e);
  const when = t.from ? (t.from === t.to || !t.to ? time(t.from, ctx) : `${time(t.from, ctx)} – ${time(t.to, ctx)}`) : '';
  const addrs = joinShort(t.addresses, ctx.lang, 3);
  switch (f.ruleId) {
    case 'ACCT-01': {
      const why = e.displayNameContains ? (ja ? `表示名に「${str(e.displayNameContains)}」を含みます` : `its display name contains "${str(e.displayNameContains)}"`) : ja ? `名前がパターン ${str(e.matchedPattern)} に一致します` : `its name matches ${str(e.matchedPattern)}`;
      return ja ? `${w} は複数人で使う共用アカウントとみられます（${why}）。誰が操作したかを特定できません。` : `${w} looks like a shared account (${why}): nobody can tell who used it.`;
    }
    case 'ACCT-02':
      return typeof e.daysSinceLastSignIn === 'number'
        ? ja ? `${w} は ${e.daysSinceLastSignIn} 日間サインインしていません（基準 ${n(e.inactiveDays)} 日）。` : `${w} has not signed in for ${e.daysSinceLastSignIn} days (limit ${n(e.inactiveDays)}).`
        : ja ? `${w} にはサインインの記録がありません（基準 ${n(e.inactiveDays)} 日）。` : `${w} has no sign-in on record (limit ${n(e.inactiveDays)} days).`;
    case 'ACCT-03':
      return ja ? `${w} は退職・離任日（${localDate(e.employeeLeaveDateTime, ctx)}）を過ぎていますが、アカウントが有効なままです。` : `${w} is past the leave date (${localDate(e.employeeLeaveDateTime, ctx)}) but the account is still enabled.`;
    case 'ACCT-04':
      return ja ? `全体管理者（Global Administrator）が ${n(e.count)} 人います（上限 ${n(e.maxGlobalAdmins)} 人）。` : `${n(e.count)} principals hold Global Administrator (limit ${n(e.maxGlobalAdmins)}).`;
    case 'ACCT-05':
      return ja ? `ゲスト（外部利用者）${w} が特権ロール ${roles()} を保有しています。` : `The guest ${w} holds the privileged role(s) ${roles()}.`;
    case 'ACCT-06':
      return typeof e.daysSinceLastSignIn === 'number'
        ? ja ? `ゲスト ${w} は ${e.daysSinceLastSignIn} 日間サインインしていません（基準 ${n(e.guestInactiveDays)} 日）。` : `The guest ${w} has not signed in for ${e.daysSinceLastSignIn} days (limit ${n(e.guestInactiveDays)}).`
        : ja ? `ゲスト ${w} は招待（${localDate(e.createdDateTime, ctx)}）から ${n(e.guestGraceDays)} 日を過ぎても一度もサインインしていません。` : `The guest ${w} has never signed in, more than ${n(e.guestGraceDays)} days after the invitation (${localDate(e.createdDateTime, ctx)}).`;
    case 'ACCT-07':
      return ja ? `${w} のパスワードに強度の要件が適用されていません（DisableStrongPassword）。推測されやすいパスワードを設定できます。` : `${w} is exempt from password strength rules (DisableStrongPassword): a guessable password can be set.`;
    case 'MFA-01':
      return ja ? `特権ロール ${roles()} を持つ ${w} が多要素認証を登録していません。` : `${w} holds ${roles()} without MFA registered.`;
    case 'MFA-05':
      return ja
        ? `管理者ロール ${roles()} を持つ ${w} は、フィッシング耐性のある認証方法（パスキー・Windows Hello for Business・証明書）を登録していません。`
        : `${w} holds ${roles()} without a phishing-resistant method registered (passkey, Windows Hello for Business, certificate).`;
    case 'ACCT-08':
      return ja
        ? `${w} に ${roles()} が無期限のアクティブ割り当てで付与されています（常時特権）。PIM の適格割り当てにしてください。`
        : `${w} holds ${roles()} as a permanent active assignment (standing access) instead of PIM-eligible.`;
    case 'MFA-02':
      return ja ? `${w} が多要素認証を登録していません。パスワードだけでサインインできます。` : `${w} has no MFA registered: the password alone signs in.`;
    case 'MFA-03':
      return ja ? '全利用者・全アプリに多要素認証を要求する「オン」の条件付きアクセス ポリシーがなく、セキュリティの既定値も無効です。' : 'No Conditional Access policy that is On requires MFA for all users and all apps, and security defaults are off.';
    case 'MFA-04':
      return ja ? 'レガシー認証（Exchange ActiveSync とその他のクライアント）をブロックする「オン」の条件付きアクセス ポリシーがありません。レガシー認証は多要素認証を回避できます。' : 'No Conditional Access policy that is On blocks legacy authentication (Exchange ActiveSync and Other clients), which bypasses MFA.';
    case 'MAIL-01': {
      const dest = joinShort(uniq(list(e.rules).filter(isRecord).flatMap((r) => list(r.destinations).map(str))), ctx.lang, 3);
      const count = list(e.rules).length;
      return ja
        ? `${w} の受信トレイ ルール ${count} 件が、組織外の ${dest} へメールを自動転送しています${e.freeMail === true ? '（フリーメール宛てを含みます）' : ''}。`
        : `${count} inbox rule(s) of ${w} forward mail outside, to ${dest}${e.freeMail === true ? ' (including free mail)' : ''}.`;
    }
    case 'MAIL-02': {
      const items = list(e.problems).filter(isRecord).map((p) => {
        const rec = str(p.record);
        const sel = str(p.selector);
        const issue = str(p.issue);
        if (rec === 'DKIM') return ja ? `DKIM ${sel} の CNAME がない` : `no DKIM ${sel} CNAME`;
        if (rec === 'DMARC') return issue === 'weak' ? (ja ? 'DMARC が p=none（監視のみ）' : 'DMARC is p=none (monitoring only)') : issue === 'invalid' ? (ja ? 'DMARC レコードが無効' : 'the DMARC record is unusable') : (ja ? 'DMARC レコードがない' : 'no DMARC record');
        return issue === 'weak' ? (ja ? `SPF が -all / ~all で終わっていない（${str(e.spfAll) || (ja ? 'all なし' : 'no all')}）` : `SPF does not end in -all or ~all (${str(e.spfAll) || 'no all'})`) : issue === 'invalid' ? (ja ? 'SPF レコードが無効（複数あるなど）' : 'the SPF record is unusable (e.g. two of them)') : (ja ? 'SPF レコードがない' : 'no SPF record');
      });
      return ja ? `メール送信ドメイン ${f.subject.name} の送信ドメイン認証に不備があります: ${items.join('、')}。なりすましメールを防げません。` : `The sending domain ${f.subject.name} falls short on mail authentication: ${items.join('; ')}. Spoofed mail is not stopped.`;
    }
    case 'SIGN-01':
      return ja ? `${w} へのサインインが ${when} に ${t.failures} 回失敗しました（送信元 ${addrs}）。` : `Sign-ins to ${w} failed ${t.failures} times, ${when} (from ${addrs}).`;
    case 'SIGN-02':
      return ja ? `送信元 ${f.subject.name} から ${t.users} 人の利用者へのサインインが ${when} に ${t.failures} 回失敗しました（パスワード スプレーの兆候）。` : `${f.subject.name} failed ${t.failures} sign-ins against ${t.users} users, ${when} (a password spray).`;
    case 'SIGN-03':
      return ja ? `${w} はサインインに ${t.failures} 回失敗した後に成功しています（${when}、送信元 ${addrs}）。アカウントが侵害された可能性があります。` : `${w} signed in successfully after ${t.failures} failures (${when}, from ${addrs}): the account may be compromised.`;
    case 'SIGN-04':
      return ja ? `${w} が許可されていない国・地域（${t.countries.join('、')}）からサインインしました（${when}、送信元 ${addrs}）。` : `${w} signed in from a country outside the allowed list (${t.countries.join(', ')}), ${when}, from ${addrs}.`;
    case 'SIGN-05':
      return ja ? `${w} がレガシー認証（${t.clientApps.join('、')}）でサインインに ${t.successes} 回成功しました（${when}）。多要素認証が適用されていません。` : `${w} signed in ${t.successes} times over legacy authentication (${t.clientApps.join(', ')}), ${when}: MFA did not apply.`;
    case 'FILE-01':
      return ja ? `分類 ${n(e.class)} の${item()}「${str(e.path) || f.subject.name}」に「リンクを知っていれば誰でも」リンクがあり、誰でもサインインせずに開けます。` : `The class ${n(e.class)} ${item()} "${str(e.path) || f.subject.name}" has an "Anyone with the link" link: anybody can open it without signing in.`;
    case 'FILE-02': {
      const grantees = uniq(list(e.permissions).filter(isRecord).flatMap((p) => list(p.grantees).map(str)));
      return ja ? `分類 ${n(e.class)} の${item()}「${str(e.path) || f.subject.name}」が組織外の ${joinShort(grantees.map((g) => personName(g, ctx)), ctx.lang, 3)} と共有されています。` : `The class ${n(e.class)} ${item()} "${str(e.path) || f.subject.name}" is shared with ${joinShort(grantees.map((g) => personName(g, ctx)), ctx.lang, 3)} outside the organisation.`;
    }
    case 'FILE-03':
      return ja ? `分類 ${n(e.class)} の${item()}「${str(e.path) || f.subject.name}」に「組織内のユーザー」リンクがあり、組織の全員が開けます。` : `The class ${n(e.class)} ${item()} "${str(e.path) || f.subject.name}" has a "People in your organization" link: everyone in the organisation can open it.`;
    case 'FILE-04':
      return ja ? `SharePoint の外部共有の設定が ${word(ctx, str(e.sharingCapability))} で、組織外の誰でも開ける匿名リンクを作成できます。` : `SharePoint external sharing is set to ${word(ctx, str(e.sharingCapability))}: anonymous links anybody can open can be created.`;
    case 'FILE-05':
      return ja ? `サイト「${str(e.name)}」（${str(e.webUrl) || f.subject.name}）が情報資産管理簿（files.assets）に登録されていません（既定の分類 ${n(e.defaultClass)} として点検しています）。` : `The site "${str(e.name)}" (${str(e.webUrl) || f.subject.name}) is not in the asset register (files.assets); it is checked as class ${n(e.defaultClass)}.`;
    case 'APP-01': {
      const perms = joinShort(uniq(list(e.highRiskPermissions).filter(isRecord).map((p) => `${str(p.value)}${str(p.type) === 'application' ? (ja ? '（アプリケーション）' : ' (application)') : (ja ? '（委任・全利用者）' : ' (delegated, all users)')}`)), ctx.lang, 3);
      return ja ? `外部組織のアプリ「${f.subject.name}」が高リスクのアクセス許可 ${perms} を持っています（apps.approvedApps に未登録）。` : `The outside app "${f.subject.name}" holds the high-risk permission(s) ${perms} and is not in apps.approvedApps.`;
    }
    case 'APP-02':
      return ja ? '利用者が任意のアプリに自分のデータへのアクセスを同意できる設定（microsoft-user-default-legacy）です。悪意のあるアプリに同意させる攻撃（同意フィッシング）に無防備です。' : 'Users may consent to any app accessing their data (microsoft-user-default-legacy), which leaves the tenant open to consent phishing.';
    default:
      return '';
  }
}
