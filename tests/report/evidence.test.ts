/**
 * The evidence formatter (src/report/evidence.ts) against literal evidence of every rule, as the
 * rules write it (the shapes of tests/rules/*.test.ts and the demo tenant): labelled fields in
 * the organisation's language, local times, people named, grantees once, lists cut by whole
 * items, never JSON; the sentence of what is wrong; a remediation text per rule in both languages.
 */
import type { Subject } from '../../src/findings/finding';
import { evidenceFields, evidenceText, findingSentence, joinShort, type EvidenceContext } from '../../src/report/evidence';
import { REMEDIATION_STEPS, remediationFor } from '../../src/report/remediation';
import { RULE_IDS, type RuleId } from '../../src/rules/ids';
import { RULES } from '../../src/rules/index';

const TENANT = '11111111-2222-3333-4444-555555555555';
const user = (name: string, id = `id-${name}`): Subject => ({ kind: 'user', id, name });
const item = (path: string): Subject => ({ kind: 'driveItem', id: 'b!d/i', name: path, url: `https://example.sharepoint.com${encodeURI(path)}` });
const tenant: Subject = { kind: 'tenant', id: TENANT, name: TENANT };

const occurrence = (start: string, end: string, failures: number, successes: number, over: Record<string, unknown> = {}): Record<string, unknown> => ({
  windowStart: start, windowEnd: end, failures, successes, distinctUsers: 1, users: ['kenta.sato@example.lg.jp'], distinctAddresses: 1, addresses: ['192.0.2.150'],
  countries: ['US'], clientApps: ['Browser'], apps: ['OfficeHome'], signInIds: ['e14363c9-848e-4905-ba24-37c5fa7936ee'], signInIdsTruncated: 0, ...over,
});

/** One literal finding per rule: subject and evidence as the rule writes them. */
const CASES: Record<RuleId, { subject: Subject; evidence: Record<string, unknown> }> = {
  'ACCT-01': {
    subject: user('kyoyo-uketsuke@example.lg.jp'),
    evidence: {
      displayName: '総務課 窓口受付（共用）', matchedPattern: '^(shared|kyoyo)([-_.0-9].*)?$', displayNameContains: '共用', department: '総務課',
      exception: { subject: 'kyoyo-uketsuke@example.lg.jp', reason: '窓口端末の共用アカウント', approvedBy: 'hiroshi.takahashi@example.lg.jp', compensatingControl: '操作ログを月次点検する', approvedOn: '2026-10-03', expiresOn: '2027-07-30' },
    },
  },
  'ACCT-02': { subject: user('masaki.ikeda@example.lg.jp'), evidence: { lastSignIn: '2026-08-03T17:47:20.000Z', daysSinceLastSignIn: 120, createdDateTime: '2021-12-27T17:59:20.000Z', department: '消防署', inactiveDays: 90 } },
  'ACCT-03': { subject: user('tomoko.hasegawa@example.lg.jp'), evidence: { employeeLeaveDateTime: '2026-11-21T15:00:00.000Z', userType: 'Member', department: '特別養護老人ホーム' } },
  'ACCT-04': {
    subject: tenant,
    evidence: {
      count: 6, maxGlobalAdmins: 4, eligibleChecked: true,
      holders: [
        { id: 'u-1', name: 'shota.shibata@example.lg.jp', type: 'user', via: ['active'], groups: [{ id: 'g-1', displayName: '情報システム管理者グループ' }], direct: false },
        { id: 'u-2', name: 'takuya.umetsu@example.lg.jp', type: 'user', via: ['active', 'eligible'], groups: [{ id: 'g-1', displayName: '情報システム管理者グループ' }], direct: true },
        { id: 'u-3', name: '緊急アクセス用アカウント 01', type: 'user', via: ['active'] },
        { id: 'u-4', name: 'naoki.watanabe@example.lg.jp', type: 'user', via: ['active'] },
        { id: 'u-5', name: 'makoto.sato@example.lg.jp', type: 'user', via: ['eligible'] },
        { id: 'u-6', name: 'yasuhiro.murakami@vendor-it.example.jp', type: 'user', via: ['eligible'] },
      ],
    },
  },
  'ACCT-05': {
    subject: user('kaito.hoshino_vendor-it.example.jp#EXT#@exampledemo.onmicrosoft.com'),
    evidence: { roles: [{ role: 'Exchange Administrator', roleId: '29232cdf-9323-42fd-ade2-1d097af3e4de', via: 'eligible', scope: '/', group: { id: 'g-2', displayName: '委託先保守グループ' } }] },
  },
  'ACCT-06': {
    subject: user('jun.goto_kansa.example.jp#EXT#@exampledemo.onmicrosoft.com'),
    evidence: { lastSignIn: null, daysSinceLastSignIn: null, createdDateTime: '2026-10-17T17:57:20.000Z', department: null, externalUserState: 'PendingAcceptance', mail: 'jun.goto@kansa.example.jp', guestInactiveDays: 90, guestGraceDays: 30 },
  },
  'ACCT-07': { subject: user('kazuya.ishikawa@example.lg.jp'), evidence: { passwordPolicies: 'DisablePasswordExpiration, DisableStrongPassword', userType: 'Member' } },
  'MFA-01': { subject: user('kenichi.yamashita@example.lg.jp'), evidence: { isMfaRegistered: false, roles: [{ role: 'Intune Administrator', roleId: '3a2c62db-5318-420d-8d74-23affee5d9d5', via: 'eligible' }] } },
  'MFA-02': { subject: user('haruka.maeda@example.lg.jp'), evidence: { isMfaRegistered: false, department: '特別養護老人ホーム' } },
  'MFA-03': {
    subject: tenant,
    evidence: {
      securityDefaultsEnabled: false,
      mfaPolicies: [
        { name: 'CA002: 試行グループ 多要素認証必須', state: 'enabled', includeUsers: [], includeApplications: ['All'] },
        { name: 'CA001: 全ユーザー 多要素認証必須（試行中）', state: 'enabledForReportingButNotEnforced', includeUsers: ['All'], includeApplications: ['All'] },
      ],
    },
  },
  'MFA-05': {
    subject: user('takuya.umetsu@example.lg.jp'),
    evidence: {
      isMfaRegistered: true,
      methodsRegistered: ['mobilePhone', 'microsoftAuthenticatorPush', 'softwareOneTimePasscode'],
      roles: [{ role: 'Global Administrator', roleId: '62e90394-69f5-4237-9190-012177145e10', via: 'active' }, { role: 'Global Administrator', roleId: '62e90394-69f5-4237-9190-012177145e10', via: 'active', group: { id: 'g-1', displayName: '情報システム管理者グループ' } }],
    },
  },
  'ACCT-08': {
    subject: user('shota.shibata@example.lg.jp'),
    evidence: {
      roles: [{ role: 'Global Administrator', roleId: '62e90394-69f5-4237-9190-012177145e10', via: 'active', scope: '/', group: { id: 'g-1', displayName: '情報システム管理者グループ' } }],
      endDateTime: null,
    },
  },
  'MFA-04': {
    subject: tenant,
    evidence: { securityDefaultsEnabled: false, blockPolicies: [{ name: 'CA004: レガシー認証をブロック', state: 'disabled', clientAppTypes: ['exchangeActiveSync', 'other'] }] },
  },
  'MAIL-01': {
    subject: user('tatsuya.okada@example.lg.jp'),
    evidence: { rules: [{ name: '自宅へ転送', id: 'AQAAAJ204cA=', destinations: ['tatsuya.okada.1985@gmail.com', 'tatsuya.okada.1985@gmail.com'], actions: ['forwardTo'] }], freeMail: true },
  },
  'MAIL-02': {
    subject: { kind: 'domain', id: 'shobo.example.lg.jp', name: 'shobo.example.lg.jp' },
    evidence: {
      domain: 'shobo.example.lg.jp', missing: ['DMARC', 'DKIM selector2'],
      problems: [{ record: 'DMARC', issue: 'weak', detail: 'p=none (monitoring only)' }, { record: 'DKIM', issue: 'missing', selector: 'selector2', detail: 'no CNAME at selector2._domainkey.shobo.example.lg.jp (NXDOMAIN)' }],
      spf: 'v=spf1 include:spf.protection.outlook.com ~all', spfAll: '~all', dmarc: 'v=DMARC1; p=none', dmarcPolicy: 'none',
      dkim: [{ selector: 'selector1', status: 'ok', target: 'selector1-shobo-example-lg-jp._domainkey.exampledemo.onmicrosoft.com' }, { selector: 'selector2', status: 'missing', target: null }],
    },
  },
  'SIGN-01': {
    subject: user('kenta.sato@example.lg.jp'),
    evidence: {
      occurrences: Array.from({ length: 12 }, (_, i) => occurrence(`2026-11-${String(10 + i).padStart(2, '0')}T04:15:28.991Z`, `2026-11-${String(10 + i).padStart(2, '0')}T04:25:31.991Z`, 11, 0, { signInIds: [`id-${i}-a`, `id-${i}-b`] })),
      failures: 132, successes: 0,
    },
  },
  'SIGN-02': {
    subject: { kind: 'ip', id: '192.0.2.45', name: '192.0.2.45' },
    evidence: {
      occurrences: [occurrence('2026-12-01T12:15:27.991Z', '2026-12-01T12:23:57.991Z', 5, 0, { distinctUsers: 3, users: ['a@example.lg.jp', 'kenta.sato@example.lg.jp', 'c@example.lg.jp'], addresses: ['192.0.2.45'], countries: ['NL'] })],
      failures: 5, successes: 0,
    },
  },
  'SIGN-03': {
    subject: user('saori.inoue@example.lg.jp'),
    evidence: { occurrences: [occurrence('2026-12-01T10:15:59.991Z', '2026-12-01T10:23:22.991Z', 6, 1, { addresses: ['198.51.100.23'], countries: ['JP'] })], failures: 6, successes: 1 },
  },
  'SIGN-04': { subject: user('yosuke.kimura@example.lg.jp'), evidence: { occurrences: [occurrence('2026-12-01T04:27:51.991Z', '2026-12-01T04:27:51.991Z', 0, 1)], failures: 0, successes: 1 } },
  'SIGN-05': {
    subject: user('shinya.hashimoto@example.lg.jp'),
    evidence: { occurrences: [occurrence('2026-12-01T11:15:42.991Z', '2026-12-01T11:15:42.991Z', 0, 1, { clientApps: ['IMAP4'], apps: ['Office 365 Exchange Online'], countries: ['JP'] })], failures: 0, successes: 1 },
  },
  'FILE-01': {
    subject: item('/sites/jinji/Shared Documents/給与'),
    evidence: { path: '/sites/jinji/Shared Documents/給与', webUrl: 'https://example.sharepoint.com/sites/jinji/Shared%20Documents/%E7%B5%A6%E4%B8%8E', site: 'https://example.sharepoint.com/sites/jinji', class: 'I', isFolder: true, permissions: [{ id: 'p1', roles: ['read'], linkType: 'view', linkScope: 'anonymous', expires: null, grantees: [] }] },
  },
  'FILE-02': {
    subject: item('/sites/jinji/Shared Documents/給与/賞与計算.xlsx'),
    evidence: {
      path: '/sites/jinji/Shared Documents/給与/賞与計算.xlsx', webUrl: 'https://example.sharepoint.com/sites/jinji/Shared%20Documents/x.xlsx', site: 'https://example.sharepoint.com/sites/jinji', class: 'I', isFolder: false,
      permissions: [{ id: 'p2', roles: ['write'], linkType: 'edit', linkScope: 'users', expires: '2026-12-31T14:59:59.000Z', grantees: ['taro.nakamura@partner.example.jp', 'taro.nakamura@partner.example.jp'] }],
      asOf: '2026-11-27T00:00:00.000Z',
    },
  },
  'FILE-03': {
    subject: item('/sites/jinji/Shared Documents/人事評価'),
    evidence: { path: '/sites/jinji/Shared Documents/人事評価', webUrl: 'https://example.sharepoint.com/sites/jinji/x', site: 'https://example.sharepoint.com/sites/jinji', class: 'I', isFolder: true, permissions: [{ id: 'p3', roles: ['read'], linkType: 'view', linkScope: 'organization', expires: null, grantees: [] }] },
  },
  'FILE-04': { subject: tenant, evidence: { sharingCapability: 'externalUserAndGuestSharing' } },
  'FILE-05': {
    subject: { kind: 'site', id: 'example.sharepoint.com,s1,w1', name: 'https://example.sharepoint.com', url: 'https://example.sharepoint.com' },
    evidence: { name: '西置賜行政組合 ポータル', webUrl: 'https://example.sharepoint.com', defaultClass: 'III' },
  },
  'APP-01': {
    subject: { kind: 'servicePrincipal', id: 'sp-1', name: 'Kintai Cloud' },
    evidence: { appId: '6a1b2c3d-0000-4000-8000-000000000001', appOwnerOrganizationId: '9f8e7d6c-0000-4000-8000-000000000002', highRiskPermissions: [{ type: 'application', value: 'Mail.Read', resource: 'Microsoft Graph' }] },
  },
  'APP-02': { subject: tenant, evidence: { permissionGrantPoliciesAssigned: ['ManagePermissionGrantsForSelf.microsoft-user-default-legacy'] } },
};

const NAMES = new Map([
  ['kenta.sato@example.lg.jp', '佐藤 健太'],
  ['shota.shibata@example.lg.jp', '柴田 翔太'],
  ['taro.nakamura@partner.example.jp', '中村 太郎'],
  ['hiroshi.takahashi@example.lg.jp', '高橋 浩'],
]);
const ja: EvidenceContext = { lang: 'ja', timeZone: 'Asia/Tokyo', nameOf: (k) => NAMES.get(k) };
const en: EvidenceContext = { ...ja, lang: 'en' };

/** `label: lines` of a case, one string per field. */
function fields(ruleId: RuleId, ctx: EvidenceContext): Record<string, string[]> {
  return Object.fromEntries(evidenceFields(ruleId, CASES[ruleId].evidence, ctx).map((f) => [f.label, f.lines]));
}

const JSON_LIKE = /\{"|":|\[\{|\{\s*"|"\s*\]/;
const ISO = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

describe('evidence of every rule, readable', () => {
  it('has a literal case here for every implemented rule', () => {
    for (const r of RULES) expect(Object.keys(CASES)).toContain(r.id);
  });

  it.each(RULE_IDS.map((id) => [id]))('%s: no JSON, no ISO instants, no raw keys, a sentence (ja and en)', (id) => {
    for (const ctx of [ja, en]) {
      const fs = evidenceFields(id, CASES[id].evidence, ctx);
      expect(fs.length).toBeGreaterThan(0);
      for (const f of fs) {
        expect(f.label).not.toMatch(/^[a-z]+[A-Z]\w*$/); // a label, not the evidence key
        for (const line of f.lines) {
          expect(line).not.toMatch(JSON_LIKE);
          expect(line).not.toMatch(ISO);
          expect(line).not.toContain('[object Object]');
          expect(line.trim()).not.toBe('');
        }
      }
      const sentence = findingSentence({ ruleId: id, ...CASES[id] }, ctx);
      expect(sentence.length).toBeGreaterThan(20);
      expect(sentence).not.toMatch(JSON_LIKE);
      expect(sentence).not.toMatch(ISO);
    }
  });

  it('ACCT-01: the exception in words, the approver named', () => {
    expect(fields('ACCT-01', ja)).toMatchObject({
      表示名: ['総務課 窓口受付（共用）'],
      表示名に含まれる語: ['共用'],
      例外措置: ['理由: 窓口端末の共用アカウント', '代替措置: 操作ログを月次点検する', '承認者: 高橋 浩（hiroshi.takahashi@example.lg.jp）', '承認日: 2026-10-03', '有効期限: 2027-07-30', '対象: kyoyo-uketsuke@example.lg.jp'],
    });
  });

  it('ACCT-02: times in JST, days with their unit', () => {
    expect(fields('ACCT-02', ja)).toMatchObject({
      最終サインイン: [expect.stringMatching(/^2026-08-04 02:47:20 (JST|GMT\+9)$/)],
      最終サインインからの日数: ['120 日'],
      'アカウント作成日時': [expect.stringMatching(/^2021-12-28 02:59:20 /)],
      '基準（未使用の日数）': ['90 日'],
    });
    expect(fields('ACCT-02', en)).toMatchObject({ 'Days since last sign-in': ['120 days'], Department: ['消防署'] });
    expect(findingSentence({ ruleId: 'ACCT-02', ...CASES['ACCT-02'] }, ja)).toBe('masaki.ikeda@example.lg.jp は 120 日間サインインしていません（基準 90 日）。');
  });

  it('ACCT-03: the leave date as the local calendar date (the day after in UTC terms)', () => {
    expect(fields('ACCT-03', ja)).toMatchObject({ '退職・離任日': ['2026-11-22'], 利用者の種別: ['メンバー（職員）'] });
  });

  it('ACCT-04: holders named, groups named once, direct holding said', () => {
    const f = fields('ACCT-04', ja);
    expect(f['全体管理者の人数']).toEqual(['6 人']);
    expect(f['保有者']).toEqual([
      '柴田 翔太（shota.shibata@example.lg.jp）（有効） via グループ 情報システム管理者グループ',
      'takuya.umetsu@example.lg.jp（有効・適格） via グループ 情報システム管理者グループ、直接の割り当てもあり',
      '緊急アクセス用アカウント 01（有効）',
      'naoki.watanabe@example.lg.jp（有効）',
      'makoto.sato@example.lg.jp（適格）',
      'yasuhiro.murakami@vendor-it.example.jp（適格）',
    ]);
    expect(evidenceText('ACCT-04', CASES['ACCT-04'].evidence, ja)).not.toContain('u-1');
  });

  it('ACCT-05 / MFA-01: roles with how and where they are held, no role ids', () => {
    expect(fields('ACCT-05', ja)['保有する特権ロール']).toEqual(['Exchange Administrator（適格、範囲: テナント全体） via グループ 委託先保守グループ']);
    expect(fields('ACCT-05', en)['Privileged roles held']).toEqual(['Exchange Administrator (eligible, scope: whole tenant) via group 委託先保守グループ']);
    expect(fields('MFA-01', ja)).toEqual({ 多要素認証の登録: ['未登録'], 保有する特権ロール: ['Intune Administrator（適格）'] });
    expect(evidenceText('MFA-01', CASES['MFA-01'].evidence, ja)).not.toContain('3a2c62db');
  });

  it('MFA-05 / ACCT-08: the methods registered, the permanent assignment in words', () => {
    expect(fields('MFA-05', ja)).toEqual({
      多要素認証の登録: ['登録済み'],
      '登録済みの認証方法（フィッシング耐性のあるものなし）': ['mobilePhone、microsoftAuthenticatorPush、softwareOneTimePasscode'],
      保有する特権ロール: ['Global Administrator（有効）', 'Global Administrator（有効） via グループ 情報システム管理者グループ'],
    });
    expect(fields('ACCT-08', en)).toEqual({
      'Privileged roles held': ['Global Administrator (active, scope: whole tenant) via group 情報システム管理者グループ'],
      'Assignment ends': ['never (a permanent assignment)'],
    });
    expect(findingSentence({ ruleId: 'ACCT-08', ...CASES['ACCT-08'] }, ja)).toContain('無期限のアクティブ割り当て');
    expect(findingSentence({ ruleId: 'MFA-05', ...CASES['MFA-05'] }, en)).toContain('without a phishing-resistant method');
  });

  it('ACCT-06 / ACCT-07: never signed in, unset department, invitation state, password policy explained', () => {
    expect(fields('ACCT-06', ja)).toMatchObject({ 最終サインイン: ['記録なし'], 所属: ['（未設定）'], 招待の状態: ['招待未承諾'], '基準（招待後の猶予日数）': ['30 日'] });
    expect(findingSentence({ ruleId: 'ACCT-06', ...CASES['ACCT-06'] }, ja)).toContain('招待（2026-10-18）から 30 日を過ぎても一度もサインインしていません');
    expect(fields('ACCT-07', ja)['パスワード ポリシー']).toEqual(['DisablePasswordExpiration、DisableStrongPassword（強力なパスワードを要求しない）']);
  });

  it('MAIL-02: the domain, what is missing, the records as published, the DKIM targets (ja and en)', () => {
    expect(fields('MAIL-02', ja)).toEqual({
      ドメイン: ['shobo.example.lg.jp'],
      不足しているもの: ['DMARC、DKIM selector2'],
      'DNS の内容': ['DMARC: p=none (monitoring only)', 'DKIM selector2: no CNAME at selector2._domainkey.shobo.example.lg.jp (NXDOMAIN)'],
      'SPF レコード': ['v=spf1 include:spf.protection.outlook.com ~all'],
      'DMARC レコード（_dmarc）': ['v=DMARC1; p=none'],
      'DKIM（selector1 / selector2 の CNAME）': ['selector1: selector1-shobo-example-lg-jp._domainkey.exampledemo.onmicrosoft.com', 'selector2: なし'],
    });
    expect(findingSentence({ ruleId: 'MAIL-02', ...CASES['MAIL-02'] }, ja)).toBe('メール送信ドメイン shobo.example.lg.jp の送信ドメイン認証に不備があります: DMARC が p=none（監視のみ）、DKIM selector2 の CNAME がない。なりすましメールを防げません。');
    expect(findingSentence({ ruleId: 'MAIL-02', ...CASES['MAIL-02'] }, { ...ja, lang: 'en' })).toBe('The sending domain shobo.example.lg.jp falls short on mail authentication: DMARC is p=none (monitoring only); no DKIM selector2 CNAME. Spoofed mail is not stopped.');
  });

  it('MFA-03 / MFA-04: policies with their state in words (report-only protects nothing)', () => {
    expect(fields('MFA-03', ja)).toEqual({
      セキュリティの既定値: ['無効'],
      '多要素認証を要求する条件付きアクセス ポリシー': [
        'CA002: 試行グループ 多要素認証必須 — 状態: オン、対象ユーザー: 一部、アプリ: すべて',
        'CA001: 全ユーザー 多要素認証必須（試行中） — 状態: レポート専用（保護していません）、対象ユーザー: すべて、アプリ: すべて',
      ],
    });
    expect(fields('MFA-04', en)['Conditional Access policies that block']).toEqual(['CA004: レガシー認証をブロック — state: Off, client apps: Exchange ActiveSync, Other clients']);
  });

  it('MAIL-01: the rule, its action and each destination once', () => {
    expect(fields('MAIL-01', ja)).toEqual({ '外部へ転送する受信トレイ ルール': ['「自宅へ転送」（転送） → tatsuya.okada.1985@gmail.com'], フリーメール宛て: ['はい'] });
  });

  it('SIGN-01: newest occurrence first, ten whole ones and a count of the rest, sign-in ids counted', () => {
    const f = fields('SIGN-01', ja);
    expect(f['発生']).toHaveLength(11);
    expect(f['発生']?.[0]).toMatch(/^2026-11-21 13:15:28–13:25:31 (JST|GMT\+9): 失敗 11 回・成功 0 回、送信元 192\.0\.2\.150（US）、Browser \/ OfficeHome$/);
    expect(f['発生']?.[10]).toBe('ほか 2 件');
    expect(f['失敗の合計']).toEqual(['132 回']);
    expect(f['サインイン ID（Entra のサインイン ログで検索できます）']).toEqual(['id-11-a', 'id-11-b', 'id-10-a', 'id-10-b', 'id-9-a', 'ほか 19 件']);
    expect(findingSentence({ ruleId: 'SIGN-01', ...CASES['SIGN-01'] }, ja)).toMatch(/^佐藤 健太（kenta\.sato@example\.lg\.jp） へのサインインが 2026-11-10 13:15:28 .+ – 2026-11-21 13:25:31 .+ に 132 回失敗しました（送信元 192\.0\.2\.150）。$/);
  });

  it('SIGN-02: the targeted users named', () => {
    expect(fields('SIGN-02', ja)['発生']?.[0]).toContain('対象の利用者 3 人: a@example.lg.jp、佐藤 健太（kenta.sato@example.lg.jp）、c@example.lg.jp');
    expect(findingSentence({ ruleId: 'SIGN-02', ...CASES['SIGN-02'] }, en)).toMatch(/^192\.0\.2\.45 failed 5 sign-ins against 3 users, /);
  });

  it('SIGN-03/04/05: the sentence says what happened', () => {
    expect(findingSentence({ ruleId: 'SIGN-03', ...CASES['SIGN-03'] }, ja)).toContain('6 回失敗した後に成功しています');
    expect(findingSentence({ ruleId: 'SIGN-04', ...CASES['SIGN-04'] }, ja)).toContain('許可されていない国・地域（US）からサインインしました');
    expect(findingSentence({ ruleId: 'SIGN-05', ...CASES['SIGN-05'] }, ja)).toContain('レガシー認証（IMAP4）でサインインに 1 回成功しました');
    expect(fields('SIGN-04', ja)['発生']).toEqual([expect.stringMatching(/^2026-12-01 13:27:51 (JST|GMT\+9): 失敗 0 回・成功 1 回/)]);
  });

  it('FILE-01/02/03: the link kind in words, grantees once and named, the path linking to the item', () => {
    expect(fields('FILE-01', ja)['問題のある共有']).toEqual(['「リンクを知っていれば誰でも」リンク・閲覧（期限なし）']);
    expect(fields('FILE-01', ja)).toMatchObject({ 分類: ['I'], 種類: ['フォルダー'], サイト: ['https://example.sharepoint.com/sites/jinji'] });
    const f2 = evidenceFields('FILE-02', CASES['FILE-02'].evidence, ja);
    expect(f2.find((f) => f.label === '問題のある共有')?.lines).toEqual([expect.stringMatching(/^「特定のユーザー」リンク・編集 → 中村 太郎（taro\.nakamura@partner\.example\.jp）（期限 2026-12-31 23:59:59 (JST|GMT\+9)）$/)]);
    expect(f2.find((f) => f.label === '場所')).toEqual({ label: '場所', lines: ['/sites/jinji/Shared Documents/給与/賞与計算.xlsx'], href: 'https://example.sharepoint.com/sites/jinji/Shared%20Documents/x.xlsx' });
    expect(f2.find((f) => f.label === 'URL')).toBeUndefined();
    expect(findingSentence({ ruleId: 'FILE-02', ...CASES['FILE-02'] }, ja)).toBe('分類 I のファイル「/sites/jinji/Shared Documents/給与/賞与計算.xlsx」が組織外の 中村 太郎（taro.nakamura@partner.example.jp） と共有されています。');
    expect(fields('FILE-03', en)['Offending sharing']).toEqual(['"People in your organization" link, view (no expiry)']);
  });

  it('FILE-04/05: the setting and the site in words', () => {
    expect(fields('FILE-04', ja)).toEqual({ 外部共有の設定: ['「すべてのユーザー」（匿名リンクを作成できます）'] });
    expect(fields('FILE-05', ja)).toMatchObject({ サイト名: ['西置賜行政組合 ポータル'], '適用した既定の分類（files.defaultClass）': ['III'] });
  });

  it('an evidence key no formatter knows still reads without JSON', () => {
    const out = evidenceFields('ACCT-02', { novel: { a: 1, nested: [{ b: 'x' }] }, when: '2026-11-27T00:00:00Z' }, ja);
    expect(out).toEqual([{ label: 'novel', lines: ['a: 1、nested: b: x'] }, { label: 'when', lines: [expect.stringMatching(/^2026-11-27 09:00:00 /)] }]);
  });

  it('joinShort keeps whole items and counts the rest', () => {
    expect(joinShort(['a', 'b', 'c', 'd'], 'ja', 2)).toBe('a、b ほか 2 件');
    expect(joinShort(['a', 'b', 'c', 'd'], 'en', 3)).toBe('a, b, c and 1 more');
  });
});

describe('remediation steps', () => {
  it('has concrete steps for every rule id in both languages, naming where to do it', () => {
    for (const id of RULE_IDS) {
      const steps = REMEDIATION_STEPS[id];
      expect(steps.ja).toMatch(/^1\) /);
      expect(steps.en).toMatch(/^1\) /);
      expect(`${steps.ja}${steps.en}`).toMatch(/管理センター|PowerShell|ポータル|Manage access|アクセス許可の管理|admin center|Outlook|files\.assets/);
      expect(remediationFor(id, 'ja')).toBe(steps.ja);
      expect(remediationFor(id, 'en')).toBe(steps.en);
    }
    // Event findings are closed by a person: the steps say how.
    for (const id of RULE_IDS.filter((r) => r.startsWith('SIGN-'))) expect(remediationFor(id, 'en')).toContain('m365-audit ledger close');
  });
});
