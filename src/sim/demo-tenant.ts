/**
 * Demo tenant generator: a deterministic, realistic Microsoft 365 / Entra ID tenant of a Japanese
 * local-government body (西置賜行政組合) with planted violations of every rule of
 * `shared/spec/controls.md`, and the exact ground truth the rules must produce on it with the
 * demo policy (returned as `policy`, thresholds at their defaults).
 *
 * Determinism: everything comes from seeded mulberry32 streams and from `now`. The planted cases
 * use their own streams, so their ids (and the whole ground truth) do not depend on `users`;
 * the filler population (compliant users up to `users`) uses another stream.
 *
 * Time margins: every threshold is missed or met by at least 2 days (day thresholds) or by far
 * more than 5 minutes (sign-in windows), so a scan started a few seconds after `now` agrees.
 * Every sign-in lies within the 20 hours before `now`; one (see LATE) is in the log only from
 * now + 10 min, so a scan started within 10 minutes of `now` sees exactly `groundTruth`.
 *
 * ── PLANTED CASES (ground truth) ───────────────────────────────────────────────────────────────
 * ACCT-01  kyoyo-uketsuke@ (UPN matches ^kyoyo[-…]; displayName 総務課 窓口受付（共用）) — an
 *          exception in the policy covers it: finding EXISTS, status `excepted`.
 *          test01@ (UPN matches ^test[0-9…]).
 *          tsushin-shirei@ (UPN does not match; displayName contains 共有アカウント).
 *          All three: enabled Members, MFA registered, recent sign-in, no role.
 * ACCT-02  sachiko.abe (last success 140 d ago).
 *          tsubasa.ishii (never signed in, created 200 d ago, NO MFA ⇒ also MFA-02).
 *          yumi.ogawa (lastSuccessfulSignInDateTime '' ⇒ falls back to lastSignInDateTime, 120 d).
 *          masaki.ikeda (last SUCCESS 120 d ago; lastSignInDateTime 2 d ago = recent failed
 *          attempts; the rule reads lastSuccessful first ⇒ stale).
 * ACCT-03  tomoko.hasegawa (enabled, employeeLeaveDateTime 10 d ago, last sign-in 12 d ago).
 * ACCT-04  tenant: 7 distinct Global Administrator users — breakglass01 (active),
 *          naoki.watanabe (active), takuya.umetsu (active AND eligible AND through the group
 *          情報システム管理者グループ: counted once), makoto.sato (eligible), guest
 *          yasuhiro.murakami (eligible), hiroshi.takahashi and shota.shibata (through the group,
 *          which holds an active GA assignment; the group itself is not a holder).
 * ACCT-05  guest yasuhiro.murakami (GA eligible; NO MFA ⇒ also MFA-01).
 *          guest ryo.aoki (Exchange Administrator active; MFA registered).
 *          guest kaito.hoshino (member of 委託先保守グループ, which is ELIGIBLE for Exchange
 *          Administrator; MFA registered).
 * ACCT-06  guest mayumi.endo (last sign-in 150 d ago).
 *          guest jun.goto (never signed in, created 45 d ago, PendingAcceptance).
 * ACCT-07  kazuya.ishikawa (passwordPolicies 'DisablePasswordExpiration, DisableStrongPassword').
 * MFA-01   guest yasuhiro.murakami (GA eligible, not registered).
 *          kenichi.yamashita (Intune Administrator eligible, not registered; NOT MFA-02).
 *          shota.shibata (GA through 情報システム管理者グループ, not registered; NOT MFA-02).
 * MFA-02   haruka.maeda (enabled Member, not registered). tsubasa.ishii (see ACCT-02).
 * MFA-03   tenant: security defaults off; the all-users/all-apps MFA policy is report-only,
 *          the enabled MFA policies cover only a group / only Office365.
 * MFA-04   tenant: the enabled legacy block has exchangeActiveSync but not `other`; the policy
 *          with both is disabled.
 * MAIL-01  tatsuya.okada: enabled forward to gmail.com (critical; he also has a DISABLED forward
 *          to yahoo.co.jp, not evidence).
 *          kumiko.mori: enabled redirectTo kaigo-consult.example.jp (non-free, high).
 *          koji.sakamoto: enabled forwardAsAttachmentTo nishiokitama.example.jp — a domain of
 *          the tenant that is NOT verified, so not internal (high).
 * MAIL-02  (DNS served by the simulator, `data.dnsZone`)
 *          shobo.example.lg.jp: SPF ~all (fine), DMARC p=none, DKIM selector2 CNAME missing (medium).
 *          tokuyo.example.lg.jp: only an MS= verification TXT, no SPF; DMARC p=quarantine and
 *          both DKIM CNAMEs (high).
 *          kumiai.example.jp: two v=spf1 records (permerror) and no _dmarc record (high).
 *          mail.kumiai.example.jp: SPF ?all (high); DMARC p=reject, both DKIM CNAMEs.
 * SIGN-01  yuto.matsumoto: 12 credential failures (9×50126 + 3×50053) in 12 min, no success.
 *          yosuke.kimura: 11×50126 in 11 min (see SIGN-03/04).
 * SIGN-02  ip 192.0.2.45 (NL): 50126/50053 against 5 distinct users in 8 min (1 each).
 * SIGN-03  saori.inoue: 6×50126 then a success 3 min later (JP, Browser).
 *          yosuke.kimura: 11 failures then a success 2 min later from the same US address.
 * SIGN-04  yosuke.kimura (success from US). yuichi.nakajima (successes from TW, business trip).
 * SIGN-05  shinya.hashimoto: successful IMAP4 sign-ins (JP).
 * LATE     (`late.groundTruth`, not in `groundTruth`: it appears only after `late.availableAt`)
 *          SIGN-01 wataru.kurosawa: 9×50126 100–92 min before `now`, and a 10th 50126 created
 *          91 min before `now` that reaches the log only at now + 10 min
 *          (`data.signInAvailableAt`, the simulator's ingestion latency). A watch run after
 *          that, re-reading 2 h behind its watermark, completes the pattern: 10 failures.
 * FILE-01  /sites/jinji (I) folder 給与: anonymous view link (critical).
 *          /sites/soumu (II) file 議会提出資料.docx: anonymous edit link (high).
 *          OneDrive of daisuke.kato (III via the /personal/ asset) file 研修報告.pptx:
 *          anonymous link with an expiry (medium).
 * FILE-02  /sites/jinji (I) file 職員名簿.xlsx: `users` link to guest taro.nakamura (email
 *          @partner.example.jp, loginName …#ext#…) (critical).
 *          /sites/jinji (I) file 給与/賞与計算.xlsx, shared itself inside the shared folder 給与:
 *          `users` link to guest taro.nakamura (critical). Its permission list also holds 給与's
 *          anonymous link and owner entry under the same ids, as SharePoint lists them.
 *          /sites/soumu (II) folder 委託契約: direct grant to
 *          i:0#.f|membership|urn:spo:guest#kobayashi.m@gmail.com (high).
 * FILE-03  /sites/jinji (I) folder 人事評価: organization link.
 * FILE-04  tenant: sharingCapability externalUserAndGuestSharing.
 * FILE-05  the root site https://example.sharepoint.com (no asset entry is a prefix of it —
 *          registering the bare host would cover every site) and /sites/bousai-kunren.
 * APP-01   勤怠クラウド連携 (vendor tenant): application Mail.Read (critical).
 *          文書保管サービス: application Directory.ReadWrite.All (high).
 *          アンケート フォーム Pro: AllPrincipals delegated grant with Files.ReadWrite.All (high).
 *          メール移行ツール: Exchange Online application full_access_as_app (critical).
 * APP-02   tenant: permissionGrantPoliciesAssigned holds
 *          ManagePermissionGrantsForSelf.microsoft-user-default-legacy (beside the two
 *          ManagePermissionGrantsForOwnedResource.… entries, which alone would not fire).
 *
 * ── NEAR-MISSES (must NOT fire) ─────────────────────────────────────────────────────────────────
 * ACCT-01  shared.kaigishitsu@ (pattern AND 共用 in displayName) is DISABLED.
 * ACCT-02  satomi.yamaguchi last success 88 d ago (inactiveDays − 2).
 *          yuta.yoshida never signed in but created 20 d ago (MFA pre-registered, no mailbox).
 *          breakglass01 (emergencyAccessAccounts) last sign-in 200 d ago; MFA registered (fido2),
 *          so neither MFA-01 (it is GA) nor MFA-02.
 * ACCT-03  ichiro.ito left 40 d ago but is disabled. megumi.tanaka leaves in 20 d.
 * ACCT-04  —  (takuya.umetsu's active + eligible + group GA must count once; the count is 7.)
 * MFA-01   haruka.maeda (MFA-02 above) is the only member of 庁内ポータル閲覧者グループ, which
 *          holds Global Reader (not privileged): MFA-02 for her, never MFA-01. hiroshi.takahashi
 *          (情報システム管理者グループ) is registered: neither.
 * ACCT-05  guest aya.takagi holds Global Reader (not privileged) and has no MFA: no ACCT-05, no
 *          MFA-01, no MFA-02 (guest).
 * ACCT-06  guest nana.yuki never signed in, created 28 d ago (guestGraceDays − 2).
 *          guest manabu.kanno last sign-in 88 d ago. guest naomi.kobayashi stale but disabled.
 * ACCT-07  kenta.watanabe 'DisablePasswordExpiration' only. chihiro.sasaki has
 *          'DisableStrongPassword' but is disabled.
 * MFA-02   guests without MFA (aya.takagi, some filler guests); disabled members (absent from
 *          userRegistrationDetails, as Graph omits them).
 * MAIL-01  tsuyoshi.suzuki: forward to gmail.com in a DISABLED rule.
 *          keiko.okuyama: forward to Info@Partner.Example.JP (approved domain, other case).
 *          miho.sugawara: forward to an internal user in upper case (…@EXAMPLE.LG.JP) and
 *          redirect to …@exampledemo.onmicrosoft.com (verified initial domain).
 *          Filler users: move/delete/mark rules and forwards to internal colleagues.
 *          No mailbox (absent from messageRules): breakglass01, yuta.yoshida, guests, disabled
 *          users and a few unlicensed fillers.
 * MAIL-02  example.lg.jp: SPF split over two TXT strings ("v=spf1 include:spf.protection" +
 *          ".outlook.com -all", joined it ends in -all), an MS= TXT beside it, DMARC p=reject with
 *          sp=none (a note only), both DKIM CNAMEs. kouhou.example.lg.jp: SPF with only
 *          redirect=example.lg.jp (followed: -all), DMARC p=quarantine, both CNAMEs.
 *          exampledemo.onmicrosoft.com (initial domain): no records at all, skipped.
 *          sip.example.lg.jp: verified, OfficeCommunicationsOnline only, no records, skipped.
 *          nishiokitama.example.jp: unverified, no records, skipped.
 * SIGN-01  misaki.hayashi: 9 failures in 9 min (success only 3 h later).
 *          wataru.kurosawa at `now`: 9 visible failures (the 10th is still in ingestion; see LATE).
 *          daiki.yamazaki: 12 failures 22 min apart (≤ 3 in any 60-min window), then a success.
 * SIGN-02  ip 192.0.2.77: failures against 4 distinct users (2 each) in 15 min.
 *          Office egress 203.0.113.10: ≤ 6 single typos (50126 then success 1 min later) of
 *          different users, 3 h apart.
 * SIGN-03  ren.kondo: 4 failures then a success. akemi.shimizu: 12 MFA interrupts
 *          (50074/50076, not credential failures) then a success.
 * SIGN-04  the spray from NL and the 9-failure user are failures, not successes.
 *          takuya.umetsu: a success whose location is all null (countryOrRegion not set).
 * SIGN-05  hitomi.fujita: a FAILED POP3 attempt (50126).
 * FILE-01  /sites/kouhou (IV): anonymous link on 広報誌.
 * FILE-02  /sites/yobou (III): grant to guest taro.nakamura (#ext#). /sites/kouhou (IV): grant
 *          to a gmail.com guest.
 * FILE-03  /sites/soumu (II) folder 庁内周知: organization link. /sites/bousai-kunren (uncovered
 *          ⇒ default III) organization link. /sites/kyukyu (I): link with no scope/type and
 *          internal grantees + a direct internal grant (nothing).
 *          /sites/jinji (I) folder 研修資料: `users` link to internal users only.
 *          Children of shared folders carry no `shared` facet and no permissions of their own:
 *          the simulator lists the folder's permissions on them (same ids, no inheritedFrom, as
 *          SharePoint does); they are not subjects.
 * FILE-01  /sites/jinji 給与/賞与計算.xlsx lists 給与's anonymous link (same id): reported once,
 *          on 給与, not on the file.
 * APP-01   電子決裁システム: application Mail.ReadWrite, but its appId is in apps.approvedApps.
 *          施設予約 (vendor): only Calendars.Read (application) and User.Read openid (AllPrincipals).
 *          PDF 変換 Online (vendor): Mail.Read Files.ReadWrite.All granted by ONE user (Principal).
 *          Microsoft Teams Services (Microsoft Services tenant): application Mail.Read.
 *          庁内メール連携 (owned by the tenant itself): application Mail.ReadWrite.
 */

import { RULE_IDS } from '../rules/ids';
import type { DemoTenant, GroundTruth, Json, JsonObject, SimDrive, SimSite, TenantData } from './tenant';
import type { DnsZone, DnsZoneEntry } from './dns-server';

export interface DemoTenantOptions {
  seed?: number;
  users?: number;
  now?: Date;
}

// ─── constants ──────────────────────────────────────────────────────────────────────────────────

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const NEVER = '0001-01-01T00:00:00Z';

const DOMAIN = 'example.lg.jp';
const INITIAL_DOMAIN = 'exampledemo.onmicrosoft.com';
const UNVERIFIED_DOMAIN = 'nishiokitama.example.jp';
// MAIL-02: further verified domains that send mail, and one that does not.
const KOUHOU_DOMAIN = 'kouhou.example.lg.jp';
const SHOBO_DOMAIN = 'shobo.example.lg.jp';
const TOKUYO_DOMAIN = 'tokuyo.example.lg.jp';
const KUMIAI_DOMAIN = 'kumiai.example.jp';
const KUMIAI_MAIL_DOMAIN = 'mail.kumiai.example.jp';
const MAIL_DOMAINS = [KOUHOU_DOMAIN, SHOBO_DOMAIN, TOKUYO_DOMAIN, KUMIAI_DOMAIN, KUMIAI_MAIL_DOMAIN];
const SIP_DOMAIN = 'sip.example.lg.jp';
const PARTNER_DOMAIN = 'partner.example.jp';
const VENDOR_DOMAIN = 'vendor-it.example.jp';
const AUDIT_DOMAIN = 'kansa.example.jp';
const SP_HOST = 'example.sharepoint.com';
const MY_HOST = 'example-my.sharepoint.com';
const BREAKGLASS_UPN = `breakglass01@${INITIAL_DOMAIN}`;

const ROLE = {
  globalAdmin: '62e90394-69f5-4237-9190-012177145e10',
  exchangeAdmin: '29232cdf-9323-42fd-ade2-1d097af3e4de',
  userAdmin: 'fe930be7-5e62-47db-91af-98c3a49a38b1',
  helpdeskAdmin: '729827e3-9c14-49f7-bb1b-9608f156bbb8',
  intuneAdmin: '3a2c62db-5318-420d-8d74-23affee5d9d5',
  /** Not in the default privileged list. */
  globalReader: 'f2ef992c-3afb-46b9-b7cf-a126ee74c451',
} as const;

const DEPT = {
  jimu: '事務局',
  soumu: '総務課',
  keibou: '消防本部 警防課',
  yobou: '消防本部 予防課',
  tsushin: '消防本部 通信指令課',
  shobosho: '消防署',
  tokuyo: '特別養護老人ホーム',
} as const;

type Name = readonly [kanji: string, romaji: string];

const SURNAMES: readonly Name[] = [
  ['佐藤', 'sato'], ['鈴木', 'suzuki'], ['高橋', 'takahashi'], ['田中', 'tanaka'], ['伊藤', 'ito'],
  ['渡辺', 'watanabe'], ['山本', 'yamamoto'], ['中村', 'nakamura'], ['小林', 'kobayashi'],
  ['加藤', 'kato'], ['吉田', 'yoshida'], ['山田', 'yamada'], ['佐々木', 'sasaki'],
  ['山口', 'yamaguchi'], ['松本', 'matsumoto'], ['井上', 'inoue'], ['木村', 'kimura'],
  ['林', 'hayashi'], ['斎藤', 'saito'], ['清水', 'shimizu'], ['山崎', 'yamazaki'], ['森', 'mori'],
  ['池田', 'ikeda'], ['橋本', 'hashimoto'], ['阿部', 'abe'], ['石川', 'ishikawa'],
  ['山下', 'yamashita'], ['中島', 'nakajima'], ['石井', 'ishii'], ['小川', 'ogawa'],
  ['前田', 'maeda'], ['岡田', 'okada'], ['長谷川', 'hasegawa'], ['藤田', 'fujita'], ['後藤', 'goto'],
  ['近藤', 'kondo'], ['村上', 'murakami'], ['遠藤', 'endo'], ['青木', 'aoki'], ['坂本', 'sakamoto'],
  ['菅原', 'sugawara'], ['大沼', 'onuma'], ['梅津', 'umetsu'], ['渡部', 'watanabe'],
  ['菅野', 'kanno'], ['今野', 'konno'], ['丹野', 'tanno'], ['結城', 'yuki'], ['舟山', 'funayama'],
  ['奥山', 'okuyama'], ['安達', 'adachi'], ['髙橋', 'takahashi'], ['齋藤', 'saito'], ['黒田', 'kuroda'],
];
const GIVEN_MALE: readonly Name[] = [
  ['健太', 'kenta'], ['大輔', 'daisuke'], ['翔太', 'shota'], ['拓也', 'takuya'], ['直樹', 'naoki'],
  ['和也', 'kazuya'], ['誠', 'makoto'], ['浩', 'hiroshi'], ['隆', 'takashi'], ['聡', 'satoshi'],
  ['亮', 'ryo'], ['剛', 'tsuyoshi'], ['修', 'osamu'], ['学', 'manabu'], ['達也', 'tatsuya'],
  ['雄一', 'yuichi'], ['健一', 'kenichi'], ['淳', 'jun'], ['大樹', 'daiki'], ['悠斗', 'yuto'],
  ['蓮', 'ren'], ['翼', 'tsubasa'], ['優太', 'yuta'], ['陽介', 'yosuke'], ['康弘', 'yasuhiro'],
  ['正樹', 'masaki'], ['一郎', 'ichiro'], ['信也', 'shinya'], ['浩二', 'koji'], ['太郎', 'taro'],
];
const GIVEN_FEMALE: readonly Name[] = [
  ['陽子', 'yoko'], ['恵子', 'keiko'], ['由美', 'yumi'], ['真由美', 'mayumi'], ['美穂', 'miho'],
  ['裕子', 'yuko'], ['智子', 'tomoko'], ['久美子', 'kumiko'], ['明美', 'akemi'], ['香織', 'kaori'],
  ['美咲', 'misaki'], ['彩', 'aya'], ['愛', 'ai'], ['麻衣', 'mai'], ['千尋', 'chihiro'], ['奈々', 'nana'],
  ['沙織', 'saori'], ['直美', 'naomi'], ['幸子', 'sachiko'], ['里美', 'satomi'], ['瞳', 'hitomi'],
  ['恵', 'megumi'], ['春香', 'haruka'], ['結衣', 'yui'],
];

interface Loc {
  city: string | null;
  state: string | null;
  countryOrRegion: string | null;
  lat: number | null;
  lon: number | null;
}
const LOC = {
  nagai: { city: 'Nagai', state: 'Yamagata', countryOrRegion: 'JP', lat: 38.1075, lon: 140.0403 },
  shirataka: { city: 'Shirataka', state: 'Yamagata', countryOrRegion: 'JP', lat: 38.1833, lon: 140.0989 },
  yonezawa: { city: 'Yonezawa', state: 'Yamagata', countryOrRegion: 'JP', lat: 37.9222, lon: 140.1168 },
  yamagata: { city: 'Yamagata', state: 'Yamagata', countryOrRegion: 'JP', lat: 38.2554, lon: 140.3396 },
  tokyo: { city: 'Tokyo', state: 'Tokyo', countryOrRegion: 'JP', lat: 35.6895, lon: 139.6917 },
  amsterdam: { city: 'Amsterdam', state: 'Noord-Holland', countryOrRegion: 'NL', lat: 52.374, lon: 4.8897 },
  ashburn: { city: 'Ashburn', state: 'Virginia', countryOrRegion: 'US', lat: 39.0438, lon: -77.4874 },
  taipei: { city: 'Taipei', state: 'Taipei City', countryOrRegion: 'TW', lat: 25.033, lon: 121.5654 },
  unknown: { city: null, state: null, countryOrRegion: null, lat: null, lon: null },
} satisfies Record<string, Loc>;

/** Egress addresses (documentation ranges only). */
const IP = {
  office: '203.0.113.10', // 組合本部（長井）
  firestation: '203.0.113.40',
  facility: '203.0.113.24',
  spray: '192.0.2.45',
  sprayNearMiss: '192.0.2.77',
  bruteForce: '192.0.2.101',
  takeover: '192.0.2.150',
  trip: '192.0.2.200',
  sign03: '198.51.100.23',
  nine: '198.51.100.40',
  spread: '198.51.100.41',
  mfaInterrupt: '198.51.100.42',
  imap: '198.51.100.60',
  pop: '198.51.100.61',
  fourFail: '198.51.100.62',
  unknownLoc: '198.51.100.70',
} as const;

interface App {
  appId: string;
  appDisplayName: string;
  resourceDisplayName: string;
  resourceId: string;
}
const APP = {
  officeHome: { appId: '4765445b-32c6-49b0-83e6-1d93765276ca', appDisplayName: 'OfficeHome', resourceDisplayName: 'OfficeHome', resourceId: '4765445b-32c6-49b0-83e6-1d93765276ca' },
  teams: { appId: '1fec8e78-bce4-4aaf-ab1b-5451cc387264', appDisplayName: 'Microsoft Teams', resourceDisplayName: 'Microsoft Teams Services', resourceId: 'cc15fd57-2c6c-4117-a88c-83b1d56b4bbe' },
  exchange: { appId: '00000002-0000-0ff1-ce00-000000000000', appDisplayName: 'Office 365 Exchange Online', resourceDisplayName: 'Office 365 Exchange Online', resourceId: '00000002-0000-0ff1-ce00-000000000000' },
  sharepoint: { appId: '00000003-0000-0ff1-ce00-000000000000', appDisplayName: 'Office 365 SharePoint Online', resourceDisplayName: 'Office 365 SharePoint Online', resourceId: '00000003-0000-0ff1-ce00-000000000000' },
  office: { appId: 'd3590ed6-52b3-4102-aeff-aad2292ab01c', appDisplayName: 'Microsoft Office', resourceDisplayName: 'Office 365 Exchange Online', resourceId: '00000002-0000-0ff1-ce00-000000000000' },
} satisfies Record<string, App>;

const FAILURE_TEXT: Record<number, [string, string | null]> = {
  50126: ['Error validating credentials due to invalid username or password.', "The user didn't enter the right credentials. It's expected to see some number of these errors in your logs due to users making mistakes."],
  50053: ["The account is locked, you've tried to sign in too many times with an incorrect user ID or password.", 'The account is locked because of too many failed sign-in attempts (Smart Lockout).'],
  50074: ['Strong Authentication is required.', 'User needs to perform multi-factor authentication. There could be multiple things requiring multi-factor, e.g. Conditional Access policies, per-user enforcement, requested by client, among others.'],
  50076: ["Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access the resource.", 'User needs to perform multi-factor authentication. There could be multiple things requiring multi-factor, e.g. Conditional Access policies, per-user enforcement, requested by client, among others.'],
};

// ─── seeded randomness ──────────────────────────────────────────────────────────────────────────

function mixSeed(seed: number, stream: number): number {
  let h = (Math.trunc(seed) ^ 0x9e3779b9) + Math.imul(stream + 1, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 16), 0x21f0aaad);
  h = Math.imul(h ^ (h >>> 15), 0x735a2d97);
  return (h ^ (h >>> 15)) >>> 0;
}

class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** mulberry32 */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  between(min: number, max: number): number {
    return min + this.next() * (max - min);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    const v = items[Math.floor(this.next() * items.length)];
    if (v === undefined) throw new Error('pick from an empty list');
    return v;
  }
  bytes(n: number): number[] {
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(Math.floor(this.next() * 256));
    return out;
  }
  guid(): string {
    const b = this.bytes(16);
    b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
    b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
    const h = b.map((x) => x.toString(16).padStart(2, '0')).join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }
  chars(alphabet: string, n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[Math.floor(this.next() * alphabet.length)];
    return s;
  }
}

// ─── formatting helpers ─────────────────────────────────────────────────────────────────────────

/** `2021-06-17T16:41:33Z` (Graph's user / signInActivity style). */
function isoSec(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
/** `2020-03-13T19:15:41.6195833Z` (seven fractional digits, sign-in / report style). */
function isoTicks(d: Date, rng: Rng): string {
  return d.toISOString().replace(/Z$/, `${String(rng.int(0, 9999)).padStart(4, '0')}Z`);
}
/** Calendar date in Asia/Tokyo (policy dates). */
function jstDate(d: Date): string {
  return new Date(d.getTime() + 9 * HOUR).toISOString().slice(0, 10);
}
/** A GUID's bytes in .NET (mixed-endian) order, as Entra encodes them in assignment ids. */
function guidBytes(g: string): number[] {
  const h = g.replace(/-/g, '');
  const b: number[] = [];
  for (let i = 0; i < 32; i += 2) b.push(parseInt(h.slice(i, i + 2), 16));
  const at = (i: number): number => b[i] ?? 0;
  return [at(3), at(2), at(1), at(0), at(5), at(4), at(7), at(6), ...b.slice(8)];
}
function b64url(bytes: number[]): string {
  return Buffer.from(bytes).toString('base64url');
}
/** `lAPpYvVpN0KRkAEhdxReE…-1`: base64url(roleTemplateId ‖ principalId) + `-1`, as Graph shows. */
function roleAssignmentId(roleId: string, principalId: string): string {
  return `${b64url([...guidBytes(roleId), ...guidBytes(principalId)])}-1`;
}

// ─── people ─────────────────────────────────────────────────────────────────────────────────────

type Mfa = 'none' | 'authenticator' | 'phone' | 'authenticatorPhone' | 'fido2' | 'windowsHello' | 'passkey';

interface Person {
  id: string;
  displayName: string;
  upn: string;
  mail: string | null;
  userType: 'Member' | 'Guest';
  enabled: boolean;
  created: Date;
  department: string | null;
  employeeId: string | null;
  leave: Date | null;
  passwordPolicies: string | null;
  externalUserState: string | null;
  /** Last interactive sign-in attempt known before the log window (null: never). */
  lastSignIn: Date | null;
  lastSignInId: string;
  /** Last successful sign-in (null: never / not recorded). */
  lastSuccess: Date | null;
  lastSuccessId: string;
  /** Write `lastSuccessfulSignInDateTime` as '' although `lastSignIn` is set (not backfilled). */
  blankSuccess: boolean;
  lastNonInteractive: Date | null;
  mfa: Mfa;
  /** Inbox rules; null = no mailbox (404 MailboxNotEnabledForRESTAPI). */
  mailbox: JsonObject[] | null;
  isAdmin: boolean;
  /** Internal: the office address this person normally signs in from. */
  homeIp: string;
  homeLoc: Loc;
}

interface PersonSpec {
  surname?: Name;
  given?: Name;
  displayName?: string;
  local?: string;
  guestDomain?: string;
  upn?: string;
  mail?: string | null;
  dept?: string | null;
  enabled?: boolean;
  createdDaysAgo?: number;
  leaveDaysAgo?: number | null;
  passwordPolicies?: string | null;
  externalUserState?: string | null;
  /** Days since the last (successful) interactive sign-in; null = never. */
  lastSignInDaysAgo?: number | null;
  /** Override of the last successful sign-in when it differs from the last attempt; null = never. */
  lastSuccessDaysAgo?: number | null;
  blankSuccess?: boolean;
  mfa?: Mfa;
  mailbox?: 'default' | 'none' | JsonObject[];
  employeeId?: string | null;
  fullWidthSpace?: boolean;
}

function departmentIp(dept: string | null): [string, Loc] {
  if (dept === DEPT.shobosho) return [IP.firestation, LOC.nagai];
  if (dept === DEPT.tokuyo) return [IP.facility, LOC.shirataka];
  return [IP.office, LOC.nagai];
}

class People {
  readonly all: Person[] = [];
  private readonly usedLocals = new Set<string>();
  private employeeSeq = 100000;

  constructor(private readonly now: Date) {}

  /** A unique local part: `kenta.sato`, then `kenta.sato2`, `kenta.sato3`… (`scope`: '' or '@domain'). */
  uniqueLocal(base: string, scope = ''): string {
    let local = base;
    for (let n = 2; this.usedLocals.has(`${local}${scope}`); n++) local = `${base}${n}`;
    this.usedLocals.add(`${local}${scope}`);
    return local;
  }

  add(rng: Rng, spec: PersonSpec): Person {
    const now = this.now.getTime();
    const isGuest = spec.guestDomain !== undefined;
    const sep = spec.fullWidthSpace ?? rng.chance(0.3) ? '　' : ' ';
    const displayName =
      spec.displayName ?? `${spec.surname?.[0] ?? ''}${sep}${spec.given?.[0] ?? ''}`;
    const baseLocal = spec.local ?? `${spec.given?.[1] ?? 'user'}.${spec.surname?.[1] ?? 'unknown'}`;
    let upn: string;
    let mail: string | null;
    if (isGuest) {
      const externalLocal = this.uniqueLocal(baseLocal, `@${spec.guestDomain}`);
      const external = `${externalLocal}@${spec.guestDomain}`;
      upn = `${externalLocal}_${spec.guestDomain}#EXT#@${INITIAL_DOMAIN}`;
      mail = spec.mail === undefined ? external : spec.mail;
    } else {
      upn = spec.upn ?? `${this.uniqueLocal(baseLocal)}@${DOMAIN}`;
      if (spec.upn) this.usedLocals.add(spec.upn.split('@')[0] ?? spec.upn);
      mail = spec.mail === undefined ? upn : spec.mail;
    }
    const dept = isGuest ? null : spec.dept === undefined ? null : spec.dept;
    const createdDaysAgo = spec.createdDaysAgo ?? rng.between(200, 3000);
    const created = new Date(now - createdDaysAgo * DAY - rng.int(0, 60) * MIN);
    const lastDays = spec.lastSignInDaysAgo === undefined ? rng.between(0.1, 4) : spec.lastSignInDaysAgo;
    const lastSignIn = lastDays === null ? null : new Date(now - lastDays * DAY - rng.int(0, 50) * MIN);
    let lastSuccess = lastSignIn;
    if (spec.lastSuccessDaysAgo !== undefined) {
      lastSuccess =
        spec.lastSuccessDaysAgo === null ? null : new Date(now - spec.lastSuccessDaysAgo * DAY - rng.int(0, 50) * MIN);
    }
    const nonInteractive =
      lastSuccess && rng.chance(0.85)
        ? new Date(Math.min(now - 5 * MIN, lastSuccess.getTime() + rng.between(0.2, 20) * HOUR))
        : null;
    const [homeIp, homeLoc] = departmentIp(dept);
    const person: Person = {
      id: rng.guid(),
      displayName,
      upn,
      mail,
      userType: isGuest ? 'Guest' : 'Member',
      enabled: spec.enabled ?? true,
      created,
      department: dept,
      employeeId: isGuest
        ? null
        : spec.employeeId === undefined
          ? String(++this.employeeSeq)
          : spec.employeeId,
      // 00:00 JST (15:00Z of the previous UTC day) of the day `leaveDaysAgo` days before now.
      leave: spec.leaveDaysAgo === undefined || spec.leaveDaysAgo === null
        ? null
        : new Date(Math.floor((now - spec.leaveDaysAgo * DAY + 9 * HOUR) / DAY) * DAY - 9 * HOUR),
      passwordPolicies: spec.passwordPolicies === undefined ? (isGuest ? null : rng.pick([null, 'None'])) : spec.passwordPolicies,
      externalUserState: isGuest ? (spec.externalUserState ?? 'Accepted') : null,
      lastSignIn,
      lastSignInId: lastSignIn ? rng.guid() : '',
      lastSuccess,
      lastSuccessId: '',
      blankSuccess: spec.blankSuccess ?? false,
      lastNonInteractive: nonInteractive,
      mfa: spec.mfa ?? rng.pick<Mfa>(['authenticator', 'authenticator', 'authenticatorPhone', 'phone']),
      mailbox: null,
      isAdmin: false,
      homeIp,
      homeLoc,
    };
    person.lastSuccessId = lastSuccess ? (lastSuccess === lastSignIn ? person.lastSignInId : rng.guid()) : '';
    const mailbox = spec.mailbox ?? (isGuest || !person.enabled ? 'none' : 'default');
    person.mailbox = mailbox === 'none' ? null : mailbox === 'default' ? [] : mailbox;
    this.all.push(person);
    return person;
  }
}

// ─── inbox rules ────────────────────────────────────────────────────────────────────────────────

function recipient(name: string, address: string): JsonObject {
  return { emailAddress: { name, address } };
}

class RuleFactory {
  constructor(private readonly rng: Rng) {}
  private id(): string {
    return Buffer.from([1, 0, 0, 0, ...this.rng.bytes(4)]).toString('base64');
  }
  private folderId(): string {
    return `AAMkAD${Buffer.from(this.rng.bytes(30)).toString('base64').replace(/\//g, '_').replace(/\+/g, '-')}AAA=`;
  }
  rule(displayName: string, sequence: number, conditions: JsonObject, actions: JsonObject, isEnabled = true): JsonObject {
    return { id: this.id(), displayName, sequence, isEnabled, hasError: false, isReadOnly: false, conditions, actions };
  }
  /** 0–3 harmless rules; `colleague` (internal) may receive a forward. */
  harmless(colleague: Person | null): JsonObject[] {
    const out: JsonObject[] = [];
    let seq = 1;
    if (this.rng.chance(0.5)) {
      out.push(this.rule('迷惑メール削除', seq++, { subjectContains: ['未承諾広告'] }, { delete: true, stopProcessingRules: true }));
    }
    if (this.rng.chance(0.4)) {
      out.push(this.rule('消防庁通知を振り分け', seq++, { senderContains: ['fdma'] }, { moveToFolder: this.folderId(), stopProcessingRules: false }));
    }
    if (this.rng.chance(0.25)) {
      out.push(this.rule('議会関係は重要', seq++, { subjectContains: ['議会'] }, { markImportance: 'high' }));
    }
    if (colleague && this.rng.chance(0.2)) {
      out.push(this.rule('係内共有', seq++, { subjectContains: ['【共有】'] }, {
        forwardTo: [recipient(colleague.displayName, colleague.upn)],
        stopProcessingRules: false,
      }));
    }
    return out;
  }
}

// ─── sign-ins ───────────────────────────────────────────────────────────────────────────────────

interface CaPolicyRef {
  id: string;
  displayName: string;
  state: string;
  /** Result on a modern-auth success / on other events. */
  onSuccess: string;
  grant: string[];
}

interface SignInOpts {
  at: Date;
  code: number;
  ip: string;
  loc: Loc;
  client?: string;
  app?: App;
  os?: string;
  browser?: string;
}

class SignIns {
  readonly events: JsonObject[] = [];
  constructor(private readonly ca: CaPolicyRef[]) {}

  add(rng: Rng, p: Person, o: SignInOpts): void {
    const client = o.client ?? 'Browser';
    const app = o.app ?? APP.officeHome;
    const success = o.code === 0;
    const legacy = client !== 'Browser' && client !== 'Mobile Apps and Desktop clients';
    const modernSuccess = success && !legacy;
    const text = FAILURE_TEXT[o.code];
    const id = rng.guid();
    const applied: Json[] = this.ca.map((c) => {
      let result: string;
      let enforced: Json[] = [];
      if (c.state === 'disabled') result = 'notEnabled';
      else if (!modernSuccess) result = c.state === 'enabled' ? 'notApplied' : 'reportOnlyNotApplied';
      else {
        result = c.onSuccess;
        if (result === 'success') enforced = c.grant;
      }
      return { id: c.id, displayName: c.displayName, enforcedGrantControls: enforced, enforcedSessionControls: [], result };
    });
    const anySuccessPolicy = modernSuccess && this.ca.some((c) => c.state === 'enabled' && c.onSuccess === 'success');
    this.events.push({
      id,
      createdDateTime: isoTicks(o.at, rng),
      userDisplayName: p.displayName,
      userPrincipalName: p.upn,
      userId: p.id,
      appId: app.appId,
      appDisplayName: app.appDisplayName,
      ipAddress: o.ip,
      clientAppUsed: client,
      correlationId: rng.guid(),
      conditionalAccessStatus: anySuccessPolicy ? 'success' : 'notApplied',
      isInteractive: true,
      riskDetail: 'none',
      riskLevelAggregated: 'none',
      riskLevelDuringSignIn: 'none',
      riskState: 'none',
      riskEventTypes: [],
      resourceDisplayName: app.resourceDisplayName,
      resourceId: app.resourceId,
      status: {
        errorCode: o.code,
        failureReason: success ? null : (text?.[0] ?? 'Other.'),
        additionalDetails: success ? null : (text?.[1] ?? null),
      },
      deviceDetail: {
        deviceId: '',
        displayName: null,
        operatingSystem: o.os ?? (legacy ? '' : 'Windows10'),
        browser: o.browser ?? (legacy ? '' : 'Edge 124.0.0'),
        isCompliant: null,
        isManaged: null,
        trustType: null,
      },
      location: {
        city: o.loc.city,
        state: o.loc.state,
        countryOrRegion: o.loc.countryOrRegion,
        geoCoordinates: { altitude: null, latitude: o.loc.lat, longitude: o.loc.lon },
      },
      appliedConditionalAccessPolicies: applied,
    });
    // Keep signInActivity consistent with the log.
    if (!p.lastSignIn || o.at > p.lastSignIn) {
      p.lastSignIn = o.at;
      p.lastSignInId = id;
    }
    if (success && (!p.lastSuccess || o.at > p.lastSuccess)) {
      p.lastSuccess = o.at;
      p.lastSuccessId = id;
      p.blankSuccess = false;
    }
  }
}

// ─── files ──────────────────────────────────────────────────────────────────────────────────────

const MIME: Record<string, [string, string]> = {
  xlsx: ['application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', 'x'],
  docx: ['application/vnd.openxmlformats-officedocument.wordprocessingml.document', 'w'],
  pptx: ['application/vnd.openxmlformats-officedocument.presentationml.presentation', 'p'],
  pdf: ['application/pdf', 'b'],
  jpg: ['image/jpeg', 'i'],
};

interface PermCtx {
  rng: Rng;
  /** `https://host/:X:/s/name` prefix builder for links. */
  linkUrl: (kind: string) => string;
  /** The site-user id of a login name (stable within a site: '6', '7', …). */
  siteUserId: (loginName: string) => string;
  now: Date;
}
type PermSpec = (ctx: PermCtx, kind: string) => JsonObject;

interface ShareSpec {
  scope: 'anonymous' | 'organization' | 'users';
  perms: PermSpec[];
  findings?: Array<{ ruleId: string; note: string }>;
}

interface ItemSpec {
  name: string;
  children?: ItemSpec[];
  share?: ShareSpec;
}

function loginOf(p: Person): string {
  return `i:0#.f|membership|${p.upn.toLowerCase()}`;
}
function identityOf(ctx: PermCtx, p: Person): JsonObject {
  const email = p.mail ?? p.upn;
  return {
    user: { id: p.id, displayName: p.displayName, email },
    siteUser: { id: ctx.siteUserId(loginOf(p)), displayName: p.displayName, email, loginName: loginOf(p) },
  };
}
const perm = {
  owner: (p: Person): PermSpec => (ctx) => ({
    id: Buffer.from(loginOf(p)).toString('base64'),
    roles: ['owner'],
    grantedToV2: identityOf(ctx, p),
    expirationDateTime: NEVER,
  }),
  grant: (p: Person, role: 'read' | 'write'): PermSpec => (ctx) => ({
    id: Buffer.from(loginOf(p)).toString('base64'),
    roles: [role],
    grantedToV2: identityOf(ctx, p),
    expirationDateTime: NEVER,
  }),
  /** A guest that exists only in SharePoint (urn:spo:guest), e.g. an e-mail invitation. */
  spoGuest: (email: string, displayName: string, role: 'read' | 'write'): PermSpec => (ctx) => {
    const loginName = `i:0#.f|membership|urn:spo:guest#${email}`;
    return {
      id: Buffer.from(loginName).toString('base64'),
      roles: [role],
      grantedToV2: {
        user: { displayName, email },
        siteUser: { id: ctx.siteUserId(loginName), displayName, email, loginName },
      },
      expirationDateTime: NEVER,
    };
  },
  link: (scope: 'anonymous' | 'organization' | 'users', type: 'view' | 'edit', grantees: Person[] = [], expiresInDays?: number): PermSpec =>
    (ctx, kind) => {
      const o: JsonObject = {
        id: ctx.rng.guid(),
        roles: [type === 'edit' ? 'write' : 'read'],
        link: { type, scope, webUrl: ctx.linkUrl(kind), preventsDownload: false },
        expirationDateTime: expiresInDays === undefined ? NEVER : isoSec(new Date(ctx.now.getTime() + expiresInDays * DAY)),
      };
      if (grantees.length) o.grantedToIdentitiesV2 = grantees.map((g) => identityOf(ctx, g));
      return o;
    },
  /** A sharing link as the list example shows it: no `scope`, no `type`. */
  bareLink: (grantees: Person[]): PermSpec => (ctx, kind) => ({
    id: ctx.rng.guid(),
    roles: ['read'],
    link: { webUrl: ctx.linkUrl(kind), preventsDownload: false },
    grantedToIdentitiesV2: grantees.map((g) => identityOf(ctx, g)),
    expirationDateTime: NEVER,
  }),
};

interface SiteSpec {
  host: string;
  path: string; // '' for the root site
  name: string;
  /** `/s/jinji` style segment for sharing-link URLs. */
  linkSegment: string;
  drives: Array<{ name: string; business?: boolean; owner: Person; tree: ItemSpec[] }>;
}

class Files {
  readonly sites: SimSite[] = [];
  readonly truth: GroundTruth[] = [];
  constructor(private readonly rng: Rng, private readonly now: Date) {}

  addSite(spec: SiteSpec): SimSite {
    const rng = this.rng;
    const collectionId = rng.guid();
    const webId = rng.guid();
    const webUrl = `https://${spec.host}${spec.path}`;
    const isRoot = spec.path === '';
    const site: JsonObject = {
      id: `${spec.host},${collectionId},${webId}`,
      name: spec.name,
      root: {},
      // `hostname` as the v1.0 metadata spells it (the getAllSites docs example writes `hostName`).
      siteCollection: isRoot ? { hostname: spec.host, dataLocationCode: 'JPN', root: {} } : { hostname: spec.host },
      webUrl,
    };
    const siteUsers = new Map<string, string>();
    const drives: SimDrive[] = spec.drives.map((d) => {
      const listId = rng.guid();
      const driveId = `b!${b64url([...guidBytes(collectionId), ...guidBytes(webId), ...guidBytes(listId)])}`;
      const driveUrl = d.business ? `${webUrl}/Documents` : d.name === 'サイトのアセット' ? `${webUrl}/SiteAssets` : `${webUrl}/Shared%20Documents`;
      const created = new Date(this.now.getTime() - rng.between(400, 2000) * DAY);
      const drive: JsonObject = {
        createdDateTime: isoSec(created),
        description: '',
        id: driveId,
        lastModifiedDateTime: isoSec(new Date(this.now.getTime() - rng.between(1, 30) * DAY)),
        name: d.name,
        webUrl: driveUrl,
        driveType: d.business ? 'business' : 'documentLibrary',
        createdBy: { user: { displayName: 'System Account' } },
        lastModifiedBy: { user: { email: d.owner.upn, id: d.owner.id, displayName: d.owner.displayName } },
        owner: d.business
          ? { user: { email: d.owner.upn, id: d.owner.id, displayName: d.owner.displayName } }
          : { user: { displayName: 'System Account' } },
        quota: { deleted: 0, remaining: 1099511627776 - 0, state: 'normal', total: 1099511627776, used: 0 },
      };
      const items: JsonObject[] = [];
      const permissions: Record<string, JsonObject[]> = {};
      const ctx: PermCtx = {
        rng,
        now: this.now,
        siteUserId: (loginName) => {
          let id = siteUsers.get(loginName);
          if (!id) siteUsers.set(loginName, (id = String(siteUsers.size + 6)));
          return id;
        },
        linkUrl: (kind) =>
          `https://${spec.host}/:${kind}:/${spec.linkSegment}/E${rng.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_', 46)}`,
      };
      const itemId = (): string => `01${rng.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 32)}`;
      const rootId = itemId();
      const root: JsonObject = {
        id: rootId,
        name: 'root',
        createdDateTime: isoSec(created),
        lastModifiedDateTime: isoSec(created),
        webUrl: driveUrl,
        size: 0,
        parentReference: { driveType: drive.driveType as string, driveId },
        folder: { childCount: d.tree.length },
        root: {},
      };
      items.push(root);

      // Depth-first, parents before children. Returns the subtree size.
      const walk = (
        spec2: ItemSpec,
        parentId: string,
        parentPath: string,
        inherited: { from: JsonObject; perms: JsonObject[] } | null,
        parentCreated: number,
      ): number => {
        const id = itemId();
        const path = `${parentPath}/${spec2.name}`;
        const ext = spec2.name.includes('.') ? (spec2.name.split('.').pop() ?? '') : '';
        const isFolder = spec2.children !== undefined;
        const nowMs = this.now.getTime();
        const createdMs = rng.between(parentCreated + HOUR, parentCreated + (nowMs - 2 * DAY - parentCreated) * 0.6);
        const modifiedMs = rng.between(createdMs, nowMs - HOUR);
        const item: JsonObject = {
          id,
          name: spec2.name,
          createdDateTime: isoSec(new Date(createdMs)),
          lastModifiedDateTime: isoSec(new Date(modifiedMs)),
          webUrl: `${driveUrl}${path.split('/').map((s) => encodeURIComponent(s)).join('/')}`,
          size: 0,
          parentReference: {
            driveType: drive.driveType as string,
            driveId,
            id: parentId,
            path: `/drives/${driveId}/root:${parentPath}`,
          },
        };
        items.push(item);
        let ownPerms: JsonObject[] | null = null;
        if (spec2.share) {
          // A shared item below a shared folder carries `shared` itself; its permission list (the
          // simulator adds the ancestors' entries, same ids) includes the folder's.
          const kind = isFolder ? 'f' : (MIME[ext]?.[1] ?? 'u');
          ownPerms = spec2.share.perms.map((f) => f(ctx, kind));
          permissions[id] = ownPerms;
          item.shared = { scope: spec2.share.scope };
          for (const f of spec2.share.findings ?? []) {
            this.truth.push({ ruleId: f.ruleId, subjectId: `${driveId}/${id}`, note: `${f.note} (${webUrl} ${path})` });
          }
        }
        // Items below a shared folder store nothing of their own: the simulator lists the
        // ancestors' permissions on them, without inheritedFrom ("Permission resource type").
        const nextInherited = ownPerms
          ? { from: { driveId, id, path: `/drives/${driveId}/root:${path}` } as JsonObject, perms: ownPerms }
          : inherited;
        let size: number;
        if (isFolder) {
          const children = spec2.children ?? [];
          item.folder = { childCount: children.length };
          size = 0;
          for (const c of children) size += walk(c, id, path, nextInherited, createdMs);
        } else {
          item.file = { mimeType: MIME[ext]?.[0] ?? 'application/octet-stream' };
          size = rng.int(18_000, 4_800_000);
        }
        item.size = size;
        return size;
      };
      let total = 0;
      for (const t of d.tree) total += walk(t, rootId, '', null, created.getTime());
      root.size = total;
      drive.quota = { deleted: 0, remaining: 1099511627776 - total, state: 'normal', total: 1099511627776, used: total };
      return { drive, items, permissions };
    });
    const simSite: SimSite = { site, drives };
    this.sites.push(simSite);
    return simSite;
  }
}

// ─── the generator ──────────────────────────────────────────────────────────────────────────────

export function generateDemoTenant(options: DemoTenantOptions = {}): DemoTenant {
  const seed = options.seed ?? 1;
  const size = Math.max(0, Math.floor(options.users ?? 60));
  const now = new Date((options.now ?? new Date()).getTime());
  const T = now.getTime();
  const ago = (ms: number): Date => new Date(T - ms);

  const tenantRng = new Rng(mixSeed(seed, 0));
  const rng = new Rng(mixSeed(seed, 1)); // planted + fixed population
  const fillRng = new Rng(mixSeed(seed, 2)); // filler population (depends on size)
  const fileRng = new Rng(mixSeed(seed, 3));
  const ruleRng = new Rng(mixSeed(seed, 4));
  const fillRuleRng = new Rng(mixSeed(seed, 5));

  const tenantId = tenantRng.guid();
  const truth: GroundTruth[] = [];
  const gt = (ruleId: string, subjectId: string, note: string): void => {
    truth.push({ ruleId, subjectId, note });
  };

  const people = new People(now);
  const rules = new RuleFactory(ruleRng);
  const add = (spec: PersonSpec): Person => people.add(rng, spec);

  // ── fixed, compliant officials (section 1 of the standard) ───────────────────────────────────
  const jimukyokucho = add({ surname: ['高橋', 'takahashi'], given: ['浩', 'hiroshi'], dept: DEPT.jimu }); // 事務局長 = CISO, 情報システム管理者
  const jimuhosa = add({ surname: ['菅原', 'sugawara'], given: ['美穂', 'miho'], dept: DEPT.jimu }); // 事務局補佐 = 情報システム担当者
  const soumukacho = add({ surname: ['佐藤', 'sato'], given: ['誠', 'makoto'], dept: DEPT.soumu }); // 総務課長 = 情報システム管理者
  const soumuhosa = add({ surname: ['渡部', 'watanabe'], given: ['直樹', 'naoki'], dept: DEPT.soumu }); // 総務課補佐 = 情報システム担当者
  const johosys = add({ surname: ['梅津', 'umetsu'], given: ['拓也', 'takuya'], dept: DEPT.soumu, mfa: 'authenticatorPhone' }); // 情報システム係
  const keiboukacho = add({ surname: ['鈴木', 'suzuki'], given: ['剛', 'tsuyoshi'], dept: DEPT.keibou });
  const yoboukacho = add({ surname: ['加藤', 'kato'], given: ['大輔', 'daisuke'], dept: DEPT.yobou });
  const tsushinkacho = add({ surname: ['大沼', 'onuma'], given: ['修', 'osamu'], dept: DEPT.tsushin });
  const shoboshocho = add({ surname: ['斎藤', 'saito'], given: ['隆', 'takashi'], dept: DEPT.shobosho });
  const socho = add({ surname: ['奥山', 'okuyama'], given: ['恵子', 'keiko'], dept: DEPT.tokuyo }); // 荘長 = 情報システム管理者
  const fukusocho = add({ surname: ['今野', 'konno'], given: ['聡', 'satoshi'], dept: DEPT.tokuyo }); // 副荘長 = 情報システム担当者
  const helpdesk = add({ surname: ['舟山', 'funayama'], given: ['翔太', 'shota'], dept: DEPT.tsushin });
  const exadmin = add({ surname: ['丹野', 'tanno'], given: ['香織', 'kaori'], dept: DEPT.soumu });
  const officials = [jimukyokucho, jimuhosa, soumukacho, soumuhosa, johosys, keiboukacho, yoboukacho,
    tsushinkacho, shoboshocho, socho, fukusocho, helpdesk, exadmin];

  const breakglass = add({
    displayName: '緊急アクセス用アカウント 01', upn: BREAKGLASS_UPN, mail: null, dept: null, employeeId: null,
    createdDaysAgo: 1100, lastSignInDaysAgo: 200, mfa: 'fido2', mailbox: 'none',
    passwordPolicies: 'DisablePasswordExpiration',
  });
  const partnerGuest = add({ surname: ['中村', 'nakamura'], given: ['太郎', 'taro'], guestDomain: PARTNER_DOMAIN, createdDaysAgo: 400, lastSignInDaysAgo: 6, mfa: 'authenticator' });

  // ── planted: accounts ─────────────────────────────────────────────────────────────────────────
  const kyoyo = add({ displayName: '総務課 窓口受付（共用）', upn: `kyoyo-uketsuke@${DOMAIN}`, dept: DEPT.soumu, employeeId: null, createdDaysAgo: 700, lastSignInDaysAgo: 1.1, mfa: 'phone' });
  gt('ACCT-01', kyoyo.id, 'kyoyo-uketsuke: UPN matches the shared-account pattern (and 共用 in displayName); EXCEPTED by the policy exception, the finding still exists with status excepted');
  const test01 = add({ displayName: 'テスト用 01', upn: `test01@${DOMAIN}`, dept: DEPT.soumu, employeeId: null, createdDaysAgo: 400, lastSignInDaysAgo: 3, mfa: 'authenticator' });
  gt('ACCT-01', test01.id, 'test01: UPN local part matches ^test[-_.0-9]');
  const tsushinShared = add({ displayName: '通信指令課 共有アカウント', upn: `tsushin-shirei@${DOMAIN}`, dept: DEPT.tsushin, employeeId: null, createdDaysAgo: 900, lastSignInDaysAgo: 2, mfa: 'phone' });
  gt('ACCT-01', tsushinShared.id, 'tsushin-shirei: displayName contains 共有アカウント (UPN does not match)');

  const stale = add({ surname: ['阿部', 'abe'], given: ['幸子', 'sachiko'], dept: DEPT.tokuyo, lastSignInDaysAgo: 140, createdDaysAgo: 1500 });
  gt('ACCT-02', stale.id, 'sachiko.abe: last successful sign-in 140 days ago (> 90)');
  const neverSigned = add({ surname: ['石井', 'ishii'], given: ['翼', 'tsubasa'], dept: DEPT.shobosho, lastSignInDaysAgo: null, createdDaysAgo: 200, mfa: 'none' });
  gt('ACCT-02', neverSigned.id, 'tsubasa.ishii: never signed in, created 200 days ago');
  gt('MFA-02', neverSigned.id, 'tsubasa.ishii: enabled Member without MFA registration (the never-used account)');
  const blankSuccess = add({ surname: ['小川', 'ogawa'], given: ['由美', 'yumi'], dept: DEPT.tokuyo, lastSignInDaysAgo: 120, blankSuccess: true, createdDaysAgo: 2000 });
  gt('ACCT-02', blankSuccess.id, "yumi.ogawa: lastSuccessfulSignInDateTime is '' so lastSignInDateTime (120 days ago) decides");
  const dormantAttacked = add({ surname: ['池田', 'ikeda'], given: ['正樹', 'masaki'], dept: DEPT.shobosho, lastSignInDaysAgo: 2, lastSuccessDaysAgo: 120, createdDaysAgo: 1800 });
  gt('ACCT-02', dormantAttacked.id, 'masaki.ikeda: last SUCCESSFUL sign-in 120 days ago (lastSignInDateTime 2 days ago is a failed attempt; the rule reads lastSuccessful first)');

  const leaver = add({ surname: ['長谷川', 'hasegawa'], given: ['智子', 'tomoko'], dept: DEPT.tokuyo, leaveDaysAgo: 10, lastSignInDaysAgo: 12 });
  gt('ACCT-03', leaver.id, 'tomoko.hasegawa: employeeLeaveDateTime 10 days ago, account still enabled');

  const vendorAdmin = add({ surname: ['村上', 'murakami'], given: ['康弘', 'yasuhiro'], guestDomain: VENDOR_DOMAIN, createdDaysAgo: 300, lastSignInDaysAgo: 3, mfa: 'none' });
  gt('ACCT-05', vendorAdmin.id, 'guest yasuhiro.murakami (委託先) is eligible for Global Administrator');
  gt('MFA-01', vendorAdmin.id, 'guest yasuhiro.murakami: eligible Global Administrator without MFA registration');
  const vendorExchange = add({ surname: ['青木', 'aoki'], given: ['亮', 'ryo'], guestDomain: VENDOR_DOMAIN, createdDaysAgo: 250, lastSignInDaysAgo: 5, mfa: 'authenticator' });
  gt('ACCT-05', vendorExchange.id, 'guest ryo.aoki (委託先) holds an active Exchange Administrator assignment (MFA registered)');

  const staleGuest = add({ surname: ['遠藤', 'endo'], given: ['真由美', 'mayumi'], guestDomain: PARTNER_DOMAIN, createdDaysAgo: 500, lastSignInDaysAgo: 150, mfa: 'none' });
  gt('ACCT-06', staleGuest.id, 'guest mayumi.endo: last sign-in 150 days ago (> 90)');
  const pendingGuest = add({ surname: ['後藤', 'goto'], given: ['淳', 'jun'], guestDomain: AUDIT_DOMAIN, createdDaysAgo: 45, lastSignInDaysAgo: null, externalUserState: 'PendingAcceptance', mfa: 'none' });
  gt('ACCT-06', pendingGuest.id, 'guest jun.goto: never signed in, invited 45 days ago (> 30)');

  const weakPassword = add({ surname: ['石川', 'ishikawa'], given: ['和也', 'kazuya'], dept: DEPT.shobosho, passwordPolicies: 'DisablePasswordExpiration, DisableStrongPassword' });
  gt('ACCT-07', weakPassword.id, 'kazuya.ishikawa: passwordPolicies contains DisableStrongPassword');

  const intuneNoMfa = add({ surname: ['山下', 'yamashita'], given: ['健一', 'kenichi'], dept: DEPT.tsushin, mfa: 'none' });
  gt('MFA-01', intuneNoMfa.id, 'kenichi.yamashita: eligible Intune Administrator without MFA registration (so not MFA-02)');
  const noMfa = add({ surname: ['前田', 'maeda'], given: ['春香', 'haruka'], dept: DEPT.tokuyo, mfa: 'none' });
  gt('MFA-02', noMfa.id, 'haruka.maeda: enabled Member without MFA registration');

  // ── planted: mail ─────────────────────────────────────────────────────────────────────────────
  const fwdGmail = add({ surname: ['岡田', 'okada'], given: ['達也', 'tatsuya'], dept: DEPT.shobosho });
  fwdGmail.mailbox = [
    rules.rule('迷惑メール削除', 1, { subjectContains: ['未承諾広告'] }, { delete: true, stopProcessingRules: true }),
    rules.rule('自宅へ転送', 2, { importance: 'high' }, { forwardTo: [recipient('岡田 達也', 'tatsuya.okada.1985@gmail.com')], stopProcessingRules: false }),
    rules.rule('旧転送設定', 3, { senderContains: ['shobo'] }, { forwardTo: [recipient('okada', 'okada-t@yahoo.co.jp')] }, false),
  ];
  gt('MAIL-01', fwdGmail.id, 'tatsuya.okada: enabled inbox rule forwards to gmail.com (free mail: critical)');
  const redirectConsult = add({ surname: ['森', 'mori'], given: ['久美子', 'kumiko'], dept: DEPT.tokuyo });
  redirectConsult.mailbox = [
    rules.rule('介護報酬の照会をコンサルへ', 1, { subjectContains: ['介護報酬', '加算'] }, { redirectTo: [recipient('介護経営コンサルティング 森様窓口', 'support@kaigo-consult.example.jp')] }),
  ];
  gt('MAIL-01', redirectConsult.id, 'kumiko.mori: enabled rule redirects to kaigo-consult.example.jp (external, not free mail: high)');
  const oldDomainFwd = add({ surname: ['坂本', 'sakamoto'], given: ['浩二', 'koji'], dept: DEPT.jimu });
  oldDomainFwd.mailbox = [
    rules.rule('旧ドメインへ保管転送', 1, { sentToMe: true }, { forwardAsAttachmentTo: [recipient('事務局 保管', `jimukyoku@${UNVERIFIED_DOMAIN}`)] }),
  ];
  gt('MAIL-01', oldDomainFwd.id, `koji.sakamoto: forwardAsAttachmentTo ${UNVERIFIED_DOMAIN}, a tenant domain that is NOT verified (so not internal): high`);

  // ── planted / near-miss: sign-in actors ─────────────────────────────────────────────────────
  const bruteVictim = add({ surname: ['松本', 'matsumoto'], given: ['悠斗', 'yuto'], dept: DEPT.shobosho, lastSignInDaysAgo: 1.5 });
  const sign03Victim = add({ surname: ['井上', 'inoue'], given: ['沙織', 'saori'], dept: DEPT.soumu, lastSignInDaysAgo: 1.5 });
  const takeoverVictim = add({ surname: ['木村', 'kimura'], given: ['陽介', 'yosuke'], dept: DEPT.yobou, lastSignInDaysAgo: 1.5 });
  const nineFails = add({ surname: ['林', 'hayashi'], given: ['美咲', 'misaki'], dept: DEPT.tokuyo, lastSignInDaysAgo: 1.5 });
  const spreadFails = add({ surname: ['山崎', 'yamazaki'], given: ['大樹', 'daiki'], dept: DEPT.shobosho, lastSignInDaysAgo: 1.5 });
  const mfaInterrupted = add({ surname: ['清水', 'shimizu'], given: ['明美', 'akemi'], dept: DEPT.jimu, lastSignInDaysAgo: 1.5 });
  const traveller = add({ surname: ['中島', 'nakajima'], given: ['雄一', 'yuichi'], dept: DEPT.soumu, lastSignInDaysAgo: 1.5 });
  const imapUser = add({ surname: ['橋本', 'hashimoto'], given: ['信也', 'shinya'], dept: DEPT.keibou, lastSignInDaysAgo: 1.5 });
  const popFailed = add({ surname: ['藤田', 'fujita'], given: ['瞳', 'hitomi'], dept: DEPT.tokuyo, lastSignInDaysAgo: 1.5 });
  const fourFails = add({ surname: ['近藤', 'kondo'], given: ['蓮', 'ren'], dept: DEPT.shobosho, lastSignInDaysAgo: 1.5 });

  // ── near-misses: accounts ─────────────────────────────────────────────────────────────────────
  add({ surname: ['山口', 'yamaguchi'], given: ['里美', 'satomi'], dept: DEPT.tokuyo, lastSignInDaysAgo: 88, createdDaysAgo: 1200 }); // ACCT-02 −2 d
  add({ surname: ['吉田', 'yoshida'], given: ['優太', 'yuta'], dept: DEPT.shobosho, lastSignInDaysAgo: null, createdDaysAgo: 20, mfa: 'phone', mailbox: 'none' }); // new hire, no mailbox yet
  add({ surname: ['結城', 'yuki'], given: ['奈々', 'nana'], guestDomain: PARTNER_DOMAIN, createdDaysAgo: 28, lastSignInDaysAgo: null, externalUserState: 'PendingAcceptance', mfa: 'none' }); // ACCT-06 grace −2 d
  add({ surname: ['菅野', 'kanno'], given: ['学', 'manabu'], guestDomain: VENDOR_DOMAIN, createdDaysAgo: 600, lastSignInDaysAgo: 88, mfa: 'authenticator' }); // ACCT-06 −2 d
  add({ surname: ['小林', 'kobayashi'], given: ['直美', 'naomi'], guestDomain: AUDIT_DOMAIN, createdDaysAgo: 800, lastSignInDaysAgo: 300, enabled: false, mfa: 'none' }); // disabled stale guest
  add({ displayName: '大会議室（共用）', upn: `shared.kaigishitsu@${DOMAIN}`, dept: DEPT.jimu, employeeId: null, enabled: false, createdDaysAgo: 1500, lastSignInDaysAgo: null, mfa: 'none' }); // disabled shared-looking
  add({ surname: ['伊藤', 'ito'], given: ['一郎', 'ichiro'], dept: DEPT.shobosho, enabled: false, leaveDaysAgo: 40, lastSignInDaysAgo: 41 }); // disabled leaver
  add({ surname: ['田中', 'tanaka'], given: ['恵', 'megumi'], dept: DEPT.tokuyo, leaveDaysAgo: -20 }); // leaves in 20 days
  add({ surname: ['渡辺', 'watanabe'], given: ['健太', 'kenta'], dept: DEPT.shobosho, passwordPolicies: 'DisablePasswordExpiration' });
  add({ surname: ['佐々木', 'sasaki'], given: ['千尋', 'chihiro'], dept: DEPT.tokuyo, enabled: false, passwordPolicies: 'DisableStrongPassword', lastSignInDaysAgo: 200 });
  const auditor = add({ surname: ['高木', 'takagi'], given: ['彩', 'aya'], guestDomain: AUDIT_DOMAIN, createdDaysAgo: 90 + 60, lastSignInDaysAgo: 4, mfa: 'none' });

  // ── near-misses: mail (on officials' mailboxes) ────────────────────────────────────────────────
  keiboukacho.mailbox = [
    rules.rule('迷惑メール削除', 1, { subjectContains: ['未承諾広告'] }, { delete: true }),
    rules.rule('私用アドレスへ転送（停止中）', 2, { sentToMe: true }, { forwardTo: [recipient('鈴木 剛', 'suzuki.tsuyoshi.fd@gmail.com')] }, false),
  ];
  socho.mailbox = [
    rules.rule('協力病院からの連絡を共有', 1, { senderContains: ['hospital'] }, { forwardTo: [recipient('置賜パートナー 連絡窓口', 'Info@Partner.Example.JP')], stopProcessingRules: false }),
  ];
  jimuhosa.mailbox = [
    rules.rule('事務局長宛を共有', 1, { subjectContains: ['事務局長'] }, {
      forwardTo: [recipient(jimukyokucho.displayName, jimukyokucho.upn.toUpperCase())],
      redirectTo: [recipient('情報システム係', `johosys@${INITIAL_DOMAIN}`)],
    }),
  ];

  // ── planted: people holding roles through role-assignable groups ────────────────────────────
  // Their own stream, so that adding them moves no other planted id.
  const groupRng = new Rng(mixSeed(seed, 81));
  const groupAdminNoMfa = people.add(groupRng, { surname: ['柴田', 'shibata'], given: ['翔太', 'shota'], dept: DEPT.soumu, mfa: 'none' });
  const groupVendor = people.add(groupRng, { surname: ['星野', 'hoshino'], given: ['海斗', 'kaito'], guestDomain: VENDOR_DOMAIN, createdDaysAgo: 180, lastSignInDaysAgo: 2, mfa: 'authenticator' });
  gt('ACCT-05', groupVendor.id, 'guest kaito.hoshino (委託先): eligible for Exchange Administrator through the group 委託先保守グループ');
  gt('MFA-01', groupAdminNoMfa.id, 'shota.shibata: Global Administrator through the group 情報システム管理者グループ, no MFA registration (so not MFA-02)');

  // Fixed compliant members get ordinary rules.
  const fixedCount = people.all.length;
  for (const p of people.all) {
    if (p.mailbox && p.mailbox.length === 0 && p.displayName.indexOf('共') < 0 && p.employeeId !== null) {
      p.mailbox = rules.harmless(p === soumuhosa ? johosys : soumuhosa);
    }
  }

  // ── roles ────────────────────────────────────────────────────────────────────────────────────
  const roleAssignments: JsonObject[] = [];
  const roleEligibilitySchedules: JsonObject[] = [];
  const assign = (p: Person, roleId: string): void => {
    p.isAdmin = true;
    // No `resourceScope`: the docs' example shows it, but the v1.0 metadata does not declare it on
    // unifiedRoleAssignment (tests/sim/metadata.test.ts), and the metadata wins for what we serve.
    roleAssignments.push({ id: roleAssignmentId(roleId, p.id), principalId: p.id, directoryScopeId: '/', roleDefinitionId: roleId });
  };
  const eligible = (p: Person, roleId: string, startDaysAgo: number): void => {
    p.isAdmin = true;
    const id = rng.guid();
    const start = ago(startDaysAgo * DAY + rng.int(0, 36_000_000));
    roleEligibilitySchedules.push({
      id,
      principalId: p.id,
      roleDefinitionId: roleId,
      directoryScopeId: '/',
      appScopeId: null,
      createdUsing: id,
      createdDateTime: start.toISOString(),
      modifiedDateTime: '0001-01-01T08:00:00Z',
      status: 'Provisioned',
      memberType: 'Direct',
      scheduleInfo: {
        startDateTime: start.toISOString(),
        recurrence: null,
        expiration: { type: 'afterDateTime', endDateTime: isoSec(new Date(start.getTime() + 365 * DAY + 200 * DAY)), duration: null },
      },
    });
  };
  assign(breakglass, ROLE.globalAdmin);
  assign(soumuhosa, ROLE.globalAdmin);
  assign(johosys, ROLE.globalAdmin);
  eligible(johosys, ROLE.globalAdmin, 300);
  eligible(soumukacho, ROLE.globalAdmin, 400);
  eligible(vendorAdmin, ROLE.globalAdmin, 200);
  assign(vendorExchange, ROLE.exchangeAdmin);
  assign(exadmin, ROLE.exchangeAdmin);
  assign(helpdesk, ROLE.helpdeskAdmin);
  eligible(fukusocho, ROLE.userAdmin, 250);
  eligible(intuneNoMfa, ROLE.intuneAdmin, 150);
  assign(auditor, ROLE.globalReader);

  // ── roles held through role-assignable groups ──────────────────────────────────────────────────
  // "Use Microsoft Entra groups to manage role assignments": isAssignableToRole groups, membership
  // Assigned, and no nesting (a group cannot be a member of a role-assignable group).
  const groups: JsonObject[] = [];
  const groupMembers: Record<string, string[]> = {};
  const roleGroup = (displayName: string, mailNickname: string, description: string, members: Person[]): string => {
    const id = groupRng.guid();
    groups.push({
      id, createdDateTime: isoSec(ago(groupRng.between(300, 900) * DAY)), description, displayName, groupTypes: [],
      isAssignableToRole: true, mail: null, mailEnabled: false, mailNickname, securityEnabled: true, visibility: 'Private',
    });
    groupMembers[id] = members.map((m) => m.id);
    for (const m of members) m.isAdmin = true;
    return id;
  };
  const johosysAdmins = roleGroup('情報システム管理者グループ', 'johosys-admins', '全体管理者ロールを付与する役割割り当て可能グループ', [jimukyokucho, johosys, groupAdminNoMfa]);
  roleAssignments.push({ id: roleAssignmentId(ROLE.globalAdmin, johosysAdmins), principalId: johosysAdmins, directoryScopeId: '/', roleDefinitionId: ROLE.globalAdmin });
  const vendorGroup = roleGroup('委託先保守グループ', 'itaku-hoshu', '委託先の保守作業用（PIM で Exchange 管理者の資格を付与）', [groupVendor]);
  {
    const id = groupRng.guid();
    const start = ago(120 * DAY + groupRng.int(0, 36_000_000));
    roleEligibilitySchedules.push({
      id, principalId: vendorGroup, roleDefinitionId: ROLE.exchangeAdmin, directoryScopeId: '/', appScopeId: null, createdUsing: id,
      createdDateTime: start.toISOString(), modifiedDateTime: '0001-01-01T08:00:00Z', status: 'Provisioned', memberType: 'Direct',
      scheduleInfo: { startDateTime: start.toISOString(), recurrence: null, expiration: { type: 'afterDateTime', endDateTime: isoSec(new Date(start.getTime() + 365 * DAY)), duration: null } },
    });
  }
  const readers = roleGroup('庁内ポータル閲覧者グループ', 'portal-readers', 'グローバル閲覧者ロール（特権ではない）', [noMfa]);
  roleAssignments.push({ id: roleAssignmentId(ROLE.globalReader, readers), principalId: readers, directoryScopeId: '/', roleDefinitionId: ROLE.globalReader });
  // ── ACCT-08: PIM's active assignment instances ────────────────────────────────────────────────
  // Every active assignment is permanent (`Assigned`, no end: made through the role assignments
  // API) but naoki.watanabe's Global Administrator, assigned through PIM for 90 days.
  const roleAssignmentScheduleInstances: JsonObject[] = roleAssignments.map((a) => {
    const timeBound = a.principalId === soumuhosa.id && a.roleDefinitionId === ROLE.globalAdmin;
    return {
      id: a.id ?? null, principalId: a.principalId ?? null, roleDefinitionId: a.roleDefinitionId ?? null, directoryScopeId: a.directoryScopeId ?? '/', appScopeId: null,
      startDateTime: timeBound ? isoSec(ago(40 * DAY)) : null,
      endDateTime: timeBound ? isoSec(new Date(ago(40 * DAY).getTime() + 90 * DAY)) : null,
      assignmentType: 'Assigned', memberType: 'Direct', roleAssignmentOriginId: a.id ?? null, roleAssignmentScheduleId: a.id ?? null,
    };
  });
  gt('ACCT-08', johosys.id, 'takuya.umetsu: permanent active Global Administrator, directly and through 情報システム管理者グループ (one finding)');
  gt('ACCT-08', jimukyokucho.id, 'hiroshi.takahashi: permanent Global Administrator through 情報システム管理者グループ');
  gt('ACCT-08', groupAdminNoMfa.id, 'shota.shibata: permanent Global Administrator through 情報システム管理者グループ');
  // Near misses: breakglass01 (emergency-access account), naoki.watanabe (time-bound), Exchange /
  // Helpdesk / Global Reader holders (not in accounts.standingAccessRoles), eligible-only makoto.sato.

  // ── MFA-05: holders of mfa.phishingResistantRoles registered without a phishing-resistant method ──
  // Set after the people were drawn, so that no random stream moves.
  soumukacho.mfa = 'windowsHello'; // eligible Global Administrator with Windows Hello for Business: near miss
  exadmin.mfa = 'passkey'; // Exchange Administrator with a passkey in Authenticator: near miss
  jimukyokucho.mfa = 'passkey'; // Global Administrator through the group, with a passkey: near miss
  gt('MFA-05', soumuhosa.id, 'naoki.watanabe: Global Administrator, MFA registered without a phishing-resistant method');
  gt('MFA-05', johosys.id, 'takuya.umetsu: Global Administrator, phone and Authenticator only');
  gt('MFA-05', vendorExchange.id, 'guest ryo.aoki: Exchange Administrator, Authenticator only');
  gt('MFA-05', helpdesk.id, 'shota.funayama: Helpdesk Administrator, no phishing-resistant method');
  gt('MFA-05', fukusocho.id, 'satoshi.konno: eligible User Administrator, no phishing-resistant method');
  gt('MFA-05', groupVendor.id, 'guest kaito.hoshino: eligible Exchange Administrator through 委託先保守グループ, Authenticator only');
  // Not MFA-05: breakglass01 (fido2), makoto.sato (Windows Hello), kaori.tanno and hiroshi.takahashi (passkey), the
  // unregistered holders (MFA-01's), kenichi.yamashita (Intune, not in the list), Global Readers.

  gt('ACCT-04', tenantId, '7 distinct Global Administrator users (breakglass01, naoki.watanabe, takuya.umetsu active, eligible AND through 情報システム管理者グループ counted once, makoto.sato and guest yasuhiro.murakami eligible, hiroshi.takahashi and shota.shibata through the group) > 4');

  // ── conditional access & security defaults ───────────────────────────────────────────────────
  const trialGroupId = rng.guid();
  const caDefs: Array<CaPolicyRef & { conditions: JsonObject; created: Date }> = [];
  const ca = (displayName: string, state: string, onSuccess: string, grant: string[], apps: string[], users: JsonObject, clientAppTypes: string[], createdDaysAgo: number): void => {
    caDefs.push({
      id: rng.guid(), displayName, state, onSuccess, grant,
      created: ago(createdDaysAgo * DAY + rng.int(0, 36_000_000)),
      conditions: {
        signInRiskLevels: [],
        clientAppTypes,
        platforms: null,
        locations: null,
        applications: { includeApplications: apps, excludeApplications: [], includeUserActions: [] },
        users: { includeUsers: [], excludeUsers: [], includeGroups: [], excludeGroups: [], includeRoles: [], excludeRoles: [], ...users },
      },
    });
  };
  ca('CA001: 全ユーザー 多要素認証必須（レポート専用で試行中）', 'enabledForReportingButNotEnforced', 'reportOnlyInterrupted', ['mfa'], ['All'], { includeUsers: ['All'], excludeUsers: [breakglass.id] }, ['all'], 120);
  ca('CA002: 試行グループ 多要素認証必須', 'enabled', 'notApplied', ['mfa'], ['All'], { includeGroups: [trialGroupId] }, ['all'], 300);
  ca('CA003: Exchange ActiveSync をブロック', 'enabled', 'notApplied', ['block'], ['All'], { includeUsers: ['All'], excludeUsers: [breakglass.id] }, ['exchangeActiveSync'], 500);
  ca('CA004: レガシー認証をブロック（全クライアント・未適用）', 'disabled', 'notEnabled', ['block'], ['All'], { includeUsers: ['All'], excludeUsers: [breakglass.id] }, ['exchangeActiveSync', 'other'], 90);
  ca('CA005: Office 365 多要素認証必須（最新クライアント）', 'enabled', 'success', ['mfa'], ['Office365'], { includeUsers: ['All'], excludeUsers: [breakglass.id] }, ['browser', 'mobileAppsAndDesktopClients'], 400);
  const conditionalAccessPolicies: JsonObject[] = caDefs.map((c) => ({
    id: c.id,
    displayName: c.displayName,
    createdDateTime: c.created.toISOString(),
    modifiedDateTime: new Date(c.created.getTime() + 7 * DAY + 3_723_456).toISOString(),
    state: c.state,
    sessionControls: null,
    conditions: c.conditions,
    grantControls: {
      operator: 'OR',
      builtInControls: c.grant,
      customAuthenticationFactors: [],
      termsOfUse: [],
      authenticationStrength: null,
    },
  }));
  gt('MFA-03', tenantId, 'security defaults off; the all-users/all-apps MFA policy CA001 is report-only, CA002 covers one group, CA005 only Office365');
  gt('MFA-04', tenantId, 'security defaults off; enabled CA003 blocks exchangeActiveSync but not other; CA004 (both) is disabled');
  const securityDefaults: JsonObject = {
    description:
      'Security defaults is a set of basic identity security mechanisms recommended by Microsoft. When enabled, these recommendations will be automatically enforced in your organization. Administrators and users will be better protected from common identity related attacks.',
    displayName: 'Security Defaults',
    id: '00000000-0000-0000-0000-000000000005',
    isEnabled: false,
  };

  // ── sign-ins of the fixed population ─────────────────────────────────────────────────────────
  const signIns = new SignIns(caDefs);
  const at = (hoursAgo: number, plusMin = 0): Date => ago(hoursAgo * HOUR - plusMin * MIN - rng.int(0, 40) * 1000);
  const fail = (p: Person, when: Date, ip: string, loc: Loc, code = 50126, client?: string): void =>
    signIns.add(rng, p, { at: when, code, ip, loc, client });
  const ok = (p: Person, when: Date, ip: string, loc: Loc, extra: Partial<SignInOpts> = {}): void =>
    signIns.add(rng, p, { at: when, code: 0, ip, loc, ...extra });

  // Ordinary successes of fixed people who signed in within the log window.
  for (const p of people.all.slice(0, fixedCount)) {
    if (p.enabled && p.lastSuccess && T - p.lastSuccess.getTime() < 20 * HOUR && p.lastSuccessId === p.lastSignInId) {
      const when = p.lastSuccess;
      p.lastSignIn = null; // the event sets both again
      p.lastSuccess = null;
      ok(p, when, p.homeIp, p.homeLoc, { app: rng.pick([APP.officeHome, APP.teams, APP.exchange, APP.sharepoint]) });
    }
  }

  // SIGN-02: spray from one address against 5 distinct users within 8 minutes.
  const sprayTargets = [jimukyokucho, soumukacho, keiboukacho, yoboukacho, socho];
  sprayTargets.forEach((p, i) => fail(p, at(6, i * 2), IP.spray, LOC.amsterdam, i === 3 ? 50053 : 50126));
  gt('SIGN-02', IP.spray, '192.0.2.45 (NL): credential failures against 5 distinct users within 8 minutes');
  // near-miss: 4 distinct users (2 failures each) within 15 minutes.
  const sprayNear = [tsushinkacho, shoboshocho, fukusocho, jimuhosa];
  sprayNear.forEach((p, i) => {
    fail(p, at(9, i * 2), IP.sprayNearMiss, LOC.amsterdam);
    fail(p, at(9, 8 + i * 2), IP.sprayNearMiss, LOC.amsterdam);
  });
  // SIGN-01: 12 failures in 12 minutes, no success.
  for (let i = 0; i < 12; i++) fail(bruteVictim, at(3, i), IP.bruteForce, LOC.amsterdam, i < 9 ? 50126 : 50053);
  gt('SIGN-01', bruteVictim.id, 'yuto.matsumoto: 12 credential failures (50126/50053) within 12 minutes');
  // SIGN-03: 6 failures, then a success 3 minutes later (JP browser).
  for (let i = 0; i < 6; i++) fail(sign03Victim, at(8, i), IP.sign03, LOC.tokyo);
  ok(sign03Victim, at(8, 5 + 3), IP.sign03, LOC.tokyo);
  gt('SIGN-03', sign03Victim.id, 'saori.inoue: success after 6 credential failures within the preceding hour');
  // SIGN-01 + SIGN-03 + SIGN-04: 11 failures from the US then a success from the same address.
  for (let i = 0; i < 11; i++) fail(takeoverVictim, at(14, i), IP.takeover, LOC.ashburn);
  ok(takeoverVictim, at(14, 10 + 2), IP.takeover, LOC.ashburn);
  gt('SIGN-01', takeoverVictim.id, 'yosuke.kimura: 11 credential failures within 11 minutes');
  gt('SIGN-03', takeoverVictim.id, 'yosuke.kimura: success 2 minutes after 11 credential failures');
  gt('SIGN-04', takeoverVictim.id, 'yosuke.kimura: success from US');
  // near-miss: 9 failures, the success only 3 hours later.
  for (let i = 0; i < 9; i++) fail(nineFails, at(11, i), IP.nine, LOC.yamagata);
  ok(nineFails, at(8), nineFails.homeIp, nineFails.homeLoc);
  // near-miss: 12 failures 22 minutes apart (≤ 3 per 60 minutes), then a success 10 minutes after the last.
  for (let i = 0; i < 12; i++) fail(spreadFails, ago(19 * HOUR - i * 22 * MIN), IP.spread, LOC.yonezawa);
  ok(spreadFails, ago(19 * HOUR - 11 * 22 * MIN - 10 * MIN), IP.spread, LOC.yonezawa);
  // near-miss: MFA interrupts (not credential failures), then a success.
  for (let i = 0; i < 12; i++) signIns.add(rng, mfaInterrupted, { at: at(4, i * 2), code: i % 2 ? 50076 : 50074, ip: IP.mfaInterrupt, loc: LOC.nagai });
  ok(mfaInterrupted, at(4, 25), IP.mfaInterrupt, LOC.nagai);
  // near-miss: 4 failures then a success.
  for (let i = 0; i < 4; i++) fail(fourFails, at(16, i), IP.fourFail, LOC.nagai);
  ok(fourFails, at(16, 6), IP.fourFail, LOC.nagai);
  // SIGN-04: business trip.
  ok(traveller, at(10), IP.trip, LOC.taipei, { app: APP.teams, client: 'Mobile Apps and Desktop clients', os: 'iOS 17', browser: 'Teams' });
  ok(traveller, at(7, 12), IP.trip, LOC.taipei, { app: APP.exchange, os: 'iOS 17', browser: 'Mobile Safari' });
  gt('SIGN-04', traveller.id, 'yuichi.nakajima: successes from TW');
  // SIGN-05: IMAP4 successes (and an ordinary browser sign-in).
  for (const h of [7, 5, 3]) ok(imapUser, at(h), IP.imap, LOC.nagai, { client: 'IMAP4', app: APP.exchange });
  ok(imapUser, at(2), imapUser.homeIp, imapUser.homeLoc);
  gt('SIGN-05', imapUser.id, 'shinya.hashimoto: successful IMAP4 sign-ins');
  // near-miss: a failed POP3 attempt.
  fail(popFailed, at(12), IP.pop, LOC.shirataka, 50126, 'POP3');
  // near-miss: a success with no location.
  ok(johosys, at(5), IP.unknownLoc, LOC.unknown, { app: APP.sharepoint });

  // ── filler population (compliant) ────────────────────────────────────────────────────────────
  const fillers: Person[] = [];
  const deptWeights: Array<[string, number]> = [
    [DEPT.jimu, 4], [DEPT.soumu, 8], [DEPT.keibou, 8], [DEPT.yobou, 6], [DEPT.tsushin, 6], [DEPT.shobosho, 34], [DEPT.tokuyo, 34],
  ];
  const weightTotal = deptWeights.reduce((s, [, w]) => s + w, 0);
  const pickDept = (): string => {
    let r = fillRng.next() * weightTotal;
    for (const [d, w] of deptWeights) {
      if ((r -= w) < 0) return d;
    }
    return DEPT.tokuyo;
  };
  for (let i = fixedCount + 1; i < size; i++) { // + 1: the late-arrival user (added below) counts in `users`
    const female = fillRng.chance(0.5);
    const surname = fillRng.pick(SURNAMES);
    const given = fillRng.pick(female ? GIVEN_FEMALE : GIVEN_MALE);
    const r = fillRng.next();
    let p: Person;
    if (r < 0.04) {
      p = people.add(fillRng, {
        surname, given, guestDomain: fillRng.pick([PARTNER_DOMAIN, VENDOR_DOMAIN, AUDIT_DOMAIN]),
        createdDaysAgo: fillRng.between(60, 1000), lastSignInDaysAgo: fillRng.between(1, 60),
        mfa: fillRng.pick<Mfa>(['none', 'authenticator', 'phone']),
      });
    } else if (r < 0.07) {
      const leftDays = fillRng.between(30, 700);
      p = people.add(fillRng, {
        surname, given, dept: pickDept(), enabled: false, leaveDaysAgo: fillRng.chance(0.7) ? leftDays : null,
        lastSignInDaysAgo: leftDays + fillRng.between(1, 10), createdDaysAgo: leftDays + fillRng.between(200, 3000),
        mfa: fillRng.pick<Mfa>(['none', 'authenticator']),
      });
    } else {
      const lastDays = fillRng.between(0.05, 5);
      p = people.add(fillRng, {
        surname, given, dept: pickDept(), lastSignInDaysAgo: lastDays,
        createdDaysAgo: lastDays + fillRng.between(10, 3000),
        blankSuccess: lastDays > 1 && fillRng.chance(0.1),
        mailbox: fillRng.chance(0.04) ? 'none' : 'default',
      });
    }
    fillers.push(p);
  }
  const fillRules = new RuleFactory(fillRuleRng);
  for (const p of fillers) {
    if (p.mailbox) {
      const colleague = fillers.length > 1 ? fillRng.pick(fillers) : soumuhosa;
      p.mailbox = fillRules.harmless(colleague.userType === 'Member' && colleague !== p ? colleague : soumuhosa);
    }
  }
  // Filler sign-ins within the window (successes only, home addresses, JP).
  for (const p of fillers) {
    if (p.enabled && p.lastSuccess && !p.blankSuccess && T - p.lastSuccess.getTime() < 20 * HOUR) {
      const when = p.lastSuccess;
      p.lastSignIn = null;
      p.lastSuccess = null;
      const mobile = fillRng.chance(0.25);
      signIns.add(fillRng, p, {
        at: when, code: 0, ip: mobile ? `198.51.100.${fillRng.int(100, 250)}` : p.homeIp,
        loc: mobile ? fillRng.pick([LOC.nagai, LOC.yonezawa, LOC.yamagata, LOC.shirataka]) : p.homeLoc,
        client: mobile ? 'Mobile Apps and Desktop clients' : 'Browser',
        app: fillRng.pick([APP.officeHome, APP.teams, APP.exchange, APP.sharepoint, APP.office]),
        os: mobile ? 'Android' : undefined, browser: mobile ? 'Teams' : undefined,
      });
    }
  }
  // Background typos: single 50126 from the office egress, each followed by a success, 3 h apart
  // (≤ 1 user per 60-minute window on that address).
  const sprayOrScenario = new Set<Person>([...sprayTargets, ...sprayNear, johosys]);
  const typoPool = [...officials.filter((p) => !sprayOrScenario.has(p)), ...fillers.filter((p) => p.enabled && p.userType === 'Member')];
  const typoUsers: Person[] = [];
  while (typoUsers.length < Math.min(6, typoPool.length)) {
    const p = fillRng.pick(typoPool);
    if (!typoUsers.includes(p)) typoUsers.push(p);
  }
  typoUsers.forEach((p, k) => {
    const when = ago((2.5 + 3 * k) * HOUR + fillRng.int(0, 20) * MIN);
    signIns.add(fillRng, p, { at: when, code: 50126, ip: IP.office, loc: LOC.nagai });
    signIns.add(fillRng, p, { at: new Date(when.getTime() + MIN + fillRng.int(0, 30) * 1000), code: 0, ip: IP.office, loc: LOC.nagai });
  });

  // ── planted: a late-arriving sign-in (SIGN-01 only after the log catches up) ─────────────────
  // Its own stream, and added after everyone else (emitted from that stream too), so that it
  // moves no other planted id and does not depend on `users`. Sign-ins reach the log "up to two
  // hours" after they happen ("Microsoft Entra monitoring and health FAQ": data "might take up to
  // two hours to fully aggregate"): the 10th failure, created 91 minutes before `now`, becomes
  // available only at now + 10 min (`data.signInAvailableAt`). At `now` the user is a near miss
  // (9 visible failures); a watch run after that which re-reads 2 h behind its watermark finds
  // SIGN-01 (`late.groundTruth`), one that re-reads only 30 minutes never does.
  const lateRng = new Rng(mixSeed(seed, 91));
  const lateUser = people.add(lateRng, { surname: ['黒沢', 'kurosawa'], given: ['航', 'wataru'], dept: DEPT.keibou, lastSignInDaysAgo: 1.5, employeeId: '099001' });
  const lateIp = '198.51.100.43';
  for (let i = 0; i < 9; i++) signIns.add(lateRng, lateUser, { at: ago((100 - i) * MIN - lateRng.int(0, 20) * 1000), code: 50126, ip: lateIp, loc: LOC.yonezawa });
  {
    // signInActivity lags the log as well (the same FAQ: it "doesn't update in near real time"),
    // so the user object does not give the late failure away either.
    const { lastSignIn, lastSignInId } = lateUser;
    signIns.add(lateRng, lateUser, { at: ago(91 * MIN - lateRng.int(0, 20) * 1000), code: 50126, ip: lateIp, loc: LOC.yonezawa });
    lateUser.lastSignIn = lastSignIn;
    lateUser.lastSignInId = lastSignInId;
  }
  const lateSignIn = signIns.events[signIns.events.length - 1];
  if (!lateSignIn) throw new Error('demo: the late sign-in was not recorded');
  const late: DemoTenant['late'] = {
    availableAt: new Date(T + 10 * MIN).toISOString(),
    groundTruth: [{ ruleId: 'SIGN-01', subjectId: lateUser.id, note: 'wataru.kurosawa: 10 credential failures within 10 minutes, the 10th (91 minutes before now) in the log only from now + 10 min' }],
  };
  const signInAvailableAt: Record<string, string> = { [String(lateSignIn.id)]: late.availableAt };

  // ── users, MFA registration ──────────────────────────────────────────────────────────────────
  const emitRng = (p: Person, idx: number): Rng => (p === lateUser ? lateRng : idx < fixedCount ? rng : fillRng);
  const users: JsonObject[] = [];
  const userRegistrationDetails: JsonObject[] = [];
  people.all.forEach((p, idx) => {
    const r = emitRng(p, idx);
    const blank = p.blankSuccess && p.lastSuccess !== null;
    users.push({
      id: p.id,
      displayName: p.displayName,
      userPrincipalName: p.upn,
      mail: p.mail,
      userType: p.userType,
      accountEnabled: p.enabled,
      createdDateTime: isoSec(p.created),
      department: p.department,
      employeeId: p.employeeId,
      employeeLeaveDateTime: p.leave ? isoSec(p.leave) : null,
      passwordPolicies: p.passwordPolicies,
      externalUserState: p.externalUserState,
      signInActivity: {
        lastSignInDateTime: p.lastSignIn ? isoSec(p.lastSignIn) : NEVER,
        lastSignInRequestId: p.lastSignIn ? p.lastSignInId : '',
        lastNonInteractiveSignInDateTime: p.lastNonInteractive ? isoSec(p.lastNonInteractive) : NEVER,
        lastNonInteractiveSignInRequestId: p.lastNonInteractive ? r.guid() : '',
        lastSuccessfulSignInDateTime: p.lastSuccess && !blank ? isoSec(p.lastSuccess) : '',
        lastSuccessfulSignInRequestId: p.lastSuccess && !blank ? p.lastSuccessId : '',
      },
    });
    if (!p.enabled) return; // Graph omits disabled users from the registration report
    const methods: Record<Mfa, [string[], string[], string]> = {
      none: [[], [], ''],
      authenticator: [['microsoftAuthenticatorPush', 'softwareOneTimePasscode'], ['push'], 'push'],
      phone: [['mobilePhone'], ['sms'], 'sms'],
      authenticatorPhone: [['mobilePhone', 'microsoftAuthenticatorPush', 'softwareOneTimePasscode'], ['push'], 'push'],
      fido2: [['fido2'], ['fido2'], ''],
      // Phishing-resistant methods beside Authenticator (MFA-05's near misses).
      windowsHello: [['microsoftAuthenticatorPush', 'windowsHelloForBusiness'], ['push'], 'push'],
      passkey: [['microsoftAuthenticatorPush', 'passKeyDeviceBoundAuthenticator'], ['push'], 'push'],
    };
    const [registered, systemPreferred, preferred] = methods[p.mfa];
    const member = p.userType === 'Member';
    const sspr = member && registered.length > 0;
    userRegistrationDetails.push({
      id: p.id,
      userPrincipalName: p.upn,
      userDisplayName: p.displayName,
      isAdmin: p.isAdmin,
      isSsprRegistered: sspr,
      isSsprEnabled: member,
      isSsprCapable: sspr,
      isMfaRegistered: registered.length > 0,
      isMfaCapable: registered.length > 0,
      isPasswordlessCapable: p.mfa === 'fido2' || p.mfa === 'windowsHello' || p.mfa === 'passkey',
      lastUpdatedDateTime: isoTicks(ago(r.between(1, 20) * HOUR), r),
      methodsRegistered: registered,
      isSystemPreferredAuthenticationMethodEnabled: true,
      systemPreferredAuthenticationMethods: systemPreferred,
      userPreferredMethodForSecondaryAuthentication: preferred,
      userType: member ? 'member' : 'guest',
    });
  });

  const messageRules: Record<string, JsonObject[]> = {};
  for (const p of people.all) if (p.mailbox) messageRules[p.id] = p.mailbox;

  // ── files ────────────────────────────────────────────────────────────────────────────────────
  const files = new Files(fileRng, now);
  const f = (name: string): ItemSpec => ({ name });
  const dir = (name: string, children: ItemSpec[], share?: ShareSpec): ItemSpec => (share ? { name, children, share } : { name, children });
  const siteAssets = (owner: Person): SiteSpec['drives'][number] => ({ name: 'サイトのアセット', owner, tree: [f('banner.jpg')] });

  files.addSite({ host: SP_HOST, path: '', name: '西置賜行政組合 ポータル', linkSegment: 's/portal', drives: [
    { name: 'ドキュメント', owner: johosys, tree: [f('組合概要.pdf'), dir('お知らせ', [f('庁内LAN更新のお知らせ.docx')])] },
  ] });
  files.addSite({ host: SP_HOST, path: '/sites/jinji', name: '人事給与', linkSegment: 's/jinji', drives: [
    { name: 'ドキュメント', owner: soumukacho, tree: [
      dir('給与', [dir('2025年度', [f('4月支給明細.pdf'), f('5月支給明細.pdf')]), { name: '賞与計算.xlsx', share: {
        // Shared itself below the shared folder: its list also holds 給与's anonymous link (same
        // id), which is 給与's finding, not this file's.
        scope: 'users', perms: [perm.link('users', 'edit', [partnerGuest])],
        findings: [{ ruleId: 'FILE-02', note: 'users link granting guest taro.nakamura on class I file 給与/賞与計算.xlsx, shared below the shared folder 給与 (critical)' }],
      } }], {
        scope: 'anonymous', perms: [perm.owner(soumukacho), perm.link('anonymous', 'view')],
        findings: [{ ruleId: 'FILE-01', note: 'anonymous view link on class I folder 給与 (critical)' }],
      }),
      dir('人事評価', [f('評価シート_消防署.xlsx'), f('評価シート_特養.xlsx')], {
        scope: 'organization', perms: [perm.owner(soumukacho), perm.link('organization', 'view')],
        findings: [{ ruleId: 'FILE-03', note: 'organization link on class I folder 人事評価' }],
      }),
      { name: '職員名簿.xlsx', share: {
        scope: 'users', perms: [perm.owner(soumukacho), perm.link('users', 'edit', [partnerGuest, soumuhosa])],
        findings: [{ ruleId: 'FILE-02', note: 'users link granting guest taro.nakamura (partner.example.jp, #ext#) on class I file 職員名簿.xlsx (critical)' }],
      } },
      dir('研修資料', [f('新任職員研修.pptx')], {
        scope: 'users', perms: [perm.owner(soumukacho), perm.link('users', 'view', [jimuhosa, exadmin])],
      }),
      f('給与規程.pdf'),
    ] },
  ] });
  files.addSite({ host: SP_HOST, path: '/sites/kyukyu', name: '救急活動記録', linkSegment: 's/kyukyu', drives: [
    { name: 'ドキュメント', owner: keiboukacho, tree: [
      dir('救急搬送記録', [f('2025-05 搬送記録.xlsx'), f('2025-06 搬送記録.xlsx')], {
        scope: 'users', perms: [perm.owner(keiboukacho), perm.bareLink([shoboshocho, tsushinkacho]), perm.grant(imapUser, 'write')],
      }),
      f('救急活動要領.docx'),
    ] },
  ] });
  files.addSite({ host: SP_HOST, path: '/sites/soumu', name: '総務課', linkSegment: 's/soumu', drives: [
    { name: 'ドキュメント', owner: soumukacho, tree: [
      { name: '議会提出資料.docx', share: {
        scope: 'anonymous', perms: [perm.owner(soumukacho), perm.link('anonymous', 'edit')],
        findings: [{ ruleId: 'FILE-01', note: 'anonymous edit link on class II file 議会提出資料.docx (high)' }],
      } },
      dir('委託契約', [f('保守委託契約書.pdf'), f('仕様書.docx')], {
        scope: 'users', perms: [perm.owner(soumukacho), perm.spoGuest('kobayashi.m@gmail.com', 'kobayashi.m@gmail.com', 'read')],
        findings: [{ ruleId: 'FILE-02', note: 'grant to urn:spo:guest#kobayashi.m@gmail.com on class II folder 委託契約 (high)' }],
      }),
      dir('庁内周知', [f('年末年始の体制.docx')], {
        scope: 'organization', perms: [perm.owner(soumukacho), perm.link('organization', 'view')],
      }),
      dir('例規', [f('文書管理規程.pdf'), f('情報セキュリティ対策基準.pdf')]),
    ] },
    siteAssets(soumukacho),
  ] });
  files.addSite({ host: SP_HOST, path: '/sites/tokuyo', name: '特別養護老人ホーム 業務', linkSegment: 's/tokuyo', drives: [
    { name: 'ドキュメント', owner: socho, tree: [dir('勤務表', [f('2025-06 勤務表.xlsx')]), f('事故報告様式.docx')] },
  ] });
  files.addSite({ host: SP_HOST, path: '/sites/yobou', name: '予防査察', linkSegment: 's/yobou', drives: [
    { name: 'ドキュメント', owner: yoboukacho, tree: [
      dir('査察結果共有', [f('査察結果一覧.xlsx')], {
        scope: 'users', perms: [perm.owner(yoboukacho), perm.grant(partnerGuest, 'read')],
      }),
      dir('予防課内', [f('立入検査計画.xlsx')], {
        scope: 'organization', perms: [perm.owner(yoboukacho), perm.link('organization', 'view')],
      }),
    ] },
  ] });
  files.addSite({ host: SP_HOST, path: '/sites/kouhou', name: '広報・公開資料', linkSegment: 's/kouhou', drives: [
    { name: 'ドキュメント', owner: jimukyokucho, tree: [
      dir('広報誌', [f('組合だより 第120号.pdf'), f('表紙写真.jpg')], {
        scope: 'anonymous', perms: [perm.owner(jimukyokucho), perm.link('anonymous', 'view'), perm.spoGuest('okitama.news@gmail.com', 'okitama.news@gmail.com', 'read')],
      }),
    ] },
    siteAssets(jimukyokucho),
  ] });
  const bousai = files.addSite({ host: SP_HOST, path: '/sites/bousai-kunren', name: '防災訓練', linkSegment: 's/bousai-kunren', drives: [
    { name: 'ドキュメント', owner: shoboshocho, tree: [
      dir('訓練計画', [f('総合防災訓練 実施計画.docx')], {
        scope: 'organization', perms: [perm.owner(shoboshocho), perm.link('organization', 'edit')],
      }),
    ] },
  ] });
  const oneDriveUrlPart = yoboukacho.upn.replace(/[.@]/g, '_');
  files.addSite({ host: MY_HOST, path: `/personal/${oneDriveUrlPart}`, name: yoboukacho.displayName, linkSegment: `g/personal/${oneDriveUrlPart}`, drives: [
    { name: 'OneDrive', business: true, owner: yoboukacho, tree: [
      { name: '研修報告.pptx', share: {
        scope: 'anonymous', perms: [perm.owner(yoboukacho), perm.link('anonymous', 'view', [], 30)],
        findings: [{ ruleId: 'FILE-01', note: 'anonymous link (expires in 30 days) on class III OneDrive file 研修報告.pptx (medium)' }],
      } },
      dir('個人メモ', [f('メモ.docx')]),
    ] },
  ] });
  const rootSite = files.sites[0];
  if (!rootSite) throw new Error('demo: no root site');
  gt('FILE-05', rootSite.site.id as string, 'root site https://example.sharepoint.com is not in the asset register');
  gt('FILE-05', bousai.site.id as string, 'site /sites/bousai-kunren is not in the asset register');
  truth.push(...files.truth);

  const sharepointSettings: JsonObject = {
    '@odata.type': '#microsoft.graph.sharepointSettings',
    allowedDomainGuidsForSyncApp: [tenantId],
    availableManagedPathsForSiteCreation: ['/sites/', '/teams/'],
    deletedUserPersonalSiteRetentionPeriodInDays: 30,
    excludedFileExtensionsForSyncApp: ['.exe', '.bat'],
    idleSessionSignOut: { isEnabled: true, warnAfterInSeconds: 1800, signOutAfterInSeconds: 2100 },
    imageTaggingOption: 'basic',
    isCommentingOnSitePagesEnabled: true,
    isFileActivityNotificationEnabled: true,
    isLegacyAuthProtocolsEnabled: true,
    isLoopEnabled: true,
    isMacSyncAppEnabled: false,
    isRequireAcceptingUserToMatchInvitedUserEnabled: true,
    isResharingByExternalUsersEnabled: true,
    isSharePointMobileNotificationEnabled: true,
    isSharePointNewsfeedEnabled: true,
    isSiteCreationEnabled: true,
    isSiteCreationUIEnabled: true,
    isSitePagesCreationEnabled: true,
    isSitesStorageLimitAutomatic: true,
    isSyncButtonHiddenOnPersonalSite: false,
    isUnmanagedSyncAppForTenantRestricted: true,
    personalSiteDefaultStorageLimitInMB: 1048576,
    sharingAllowedDomainList: [],
    sharingBlockedDomainList: [],
    sharingCapability: 'externalUserAndGuestSharing',
    sharingDomainRestrictionMode: 'none',
    siteCreationDefaultManagedPath: '/sites/',
    siteCreationDefaultStorageLimitInMB: 25600,
    tenantDefaultTimezone: '(UTC+09:00) Osaka, Sapporo, Tokyo',
  };
  gt('FILE-04', tenantId, 'sharingCapability is externalUserAndGuestSharing (anyone links allowed)');

  // ── app consent ──────────────────────────────────────────────────────────────────────────────
  // "authorizationPolicy resource type" (v1.0): properties of the metadata's authorizationPolicy.
  // The owned-resource entries (team/chat resource-specific consent) are what a tenant lists
  // beside user consent; they are not consent to any app (APP-02's near miss).
  const authorizationPolicy: JsonObject = {
    id: 'authorizationPolicy',
    displayName: 'Authorization Policy',
    description: 'Used to manage authorization related settings across the company.',
    allowEmailVerifiedUsersToJoinOrganization: false,
    allowInvitesFrom: 'adminsAndGuestInviters',
    allowUserConsentForRiskyApps: false,
    allowedToSignUpEmailBasedSubscriptions: true,
    allowedToUseSSPR: true,
    blockMsolPowerShell: false,
    guestUserRoleId: '10dae51f-b6af-4016-8d66-8c2a99b929b3',
    defaultUserRolePermissions: {
      allowedToCreateApps: false,
      allowedToCreateSecurityGroups: false,
      allowedToCreateTenants: false,
      allowedToReadBitlockerKeysForOwnedDevice: true,
      allowedToReadOtherUsers: true,
      permissionGrantPoliciesAssigned: [
        'ManagePermissionGrantsForSelf.microsoft-user-default-legacy',
        'ManagePermissionGrantsForOwnedResource.microsoft-dynamically-managed-permissions-for-team',
        'ManagePermissionGrantsForOwnedResource.microsoft-dynamically-managed-permissions-for-chat',
      ],
    },
  };
  // Service principals and their permissions (APP-01), from a stream of their own (570).
  // Microsoft Graph app role ids are Microsoft's ("Microsoft Graph permissions reference").
  const appRng = new Rng(mixSeed(seed, 570));
  const MICROSOFT_SERVICES = 'f8cdef31-a31e-4b4a-93e4-5f571e91255a';
  const VENDOR_TENANTS = [appRng.guid(), appRng.guid(), appRng.guid()] as const;
  const appRole = (id: string, value: string): JsonObject => ({ allowedMemberTypes: ['Application'], description: value, displayName: value, id, isEnabled: true, origin: 'Application', value });
  const GRAPH_ROLE = {
    'Mail.Read': '810c84a8-4a9e-49e6-bf7d-12d183f40d01',
    'Mail.ReadWrite': 'e2a3a72e-5f79-4c64-b1b1-878b674786c9',
    'Mail.Send': 'b633e1c5-b582-4048-a93e-9f11b44c7e96',
    'Files.Read.All': '01d4889c-1287-42c6-ac1f-5d1e02578ef6',
    'Sites.Read.All': '332a536c-c7ef-4017-ab91-336970924f0d',
    'User.Read.All': 'df021288-bdef-4463-88db-98f22de89214',
    'Directory.ReadWrite.All': '19dbc75e-c2e2-444c-a770-ec69d8559fc7',
    'Calendars.Read': '798ee544-9d2d-430c-a058-570e29e34338',
  } as const;
  const FULL_ACCESS_AS_APP = 'dc890d15-9560-4a4c-9b7f-a736ec74ec40';
  const sp = (displayName: string, owner: string | null, o: { appId?: string; roles?: JsonObject[] } = {}): JsonObject => ({
    id: appRng.guid(),
    accountEnabled: true,
    appDisplayName: displayName,
    appId: o.appId ?? appRng.guid(),
    appOwnerOrganizationId: owner,
    appRoles: o.roles ?? [],
    displayName,
    servicePrincipalType: 'Application',
    tags: ['WindowsAzureActiveDirectoryIntegratedApp'],
  });
  const graphSp = sp('Microsoft Graph', MICROSOFT_SERVICES, { appId: '00000003-0000-0000-c000-000000000000', roles: Object.entries(GRAPH_ROLE).map(([v, id]) => appRole(id, v)) });
  const exchangeSp = sp('Office 365 Exchange Online', MICROSOFT_SERVICES, { appId: '00000002-0000-0ff1-ce00-000000000000', roles: [appRole(FULL_ACCESS_AS_APP, 'full_access_as_app')] });
  const kintai = sp('勤怠クラウド連携', VENDOR_TENANTS[0]);
  const bunsho = sp('文書保管サービス', VENDOR_TENANTS[1]);
  const survey = sp('アンケート フォーム Pro', VENDOR_TENANTS[2]);
  const mailMigration = sp('メール移行ツール', VENDOR_TENANTS[1]);
  const kessai = sp('電子決裁システム', VENDOR_TENANTS[0]);
  const shisetsu = sp('施設予約', VENDOR_TENANTS[2]);
  const pdf = sp('PDF 変換 Online', VENDOR_TENANTS[2]);
  const teamsSvc = sp('Microsoft Teams Services', MICROSOFT_SERVICES);
  const ownApp = sp('庁内メール連携', tenantId);
  const servicePrincipals = [graphSp, exchangeSp, kintai, bunsho, survey, mailMigration, kessai, shisetsu, pdf, teamsSvc, ownApp];
  const assignment = (client: JsonObject, resource: JsonObject, appRoleId: string, daysAgo: number): JsonObject => ({
    id: b64url(appRng.bytes(32)),
    appRoleId,
    createdDateTime: isoSec(ago(daysAgo * DAY)),
    deletedDateTime: null,
    principalDisplayName: client.displayName as string,
    principalId: client.id as string,
    principalType: 'ServicePrincipal',
    resourceDisplayName: resource.displayName as string,
    resourceId: resource.id as string,
  });
  const appRoleAssignments = [
    assignment(kintai, graphSp, GRAPH_ROLE['Mail.Read'], 200),
    assignment(kintai, graphSp, GRAPH_ROLE['Calendars.Read'], 200),
    assignment(bunsho, graphSp, GRAPH_ROLE['Directory.ReadWrite.All'], 90),
    assignment(mailMigration, exchangeSp, FULL_ACCESS_AS_APP, 30),
    assignment(kessai, graphSp, GRAPH_ROLE['Mail.ReadWrite'], 400),
    assignment(shisetsu, graphSp, GRAPH_ROLE['Calendars.Read'], 300),
    assignment(teamsSvc, graphSp, GRAPH_ROLE['Mail.Read'], 700),
    assignment(ownApp, graphSp, GRAPH_ROLE['Mail.ReadWrite'], 500),
  ];
  const grant = (client: JsonObject, consentType: 'AllPrincipals' | 'Principal', scope: string, principalId: string | null = null): JsonObject => ({
    clientId: client.id as string,
    consentType,
    id: b64url(appRng.bytes(32)),
    principalId,
    resourceId: graphSp.id as string,
    scope,
  });
  const oauth2PermissionGrants = [
    grant(survey, 'AllPrincipals', 'openid profile User.Read Files.ReadWrite.All offline_access'),
    grant(shisetsu, 'AllPrincipals', 'User.Read openid'),
    grant(pdf, 'Principal', 'Mail.Read Files.ReadWrite.All', noMfa.id),
  ];
  gt('APP-01', kintai.id as string, '勤怠クラウド連携 (another organisation): application permission Mail.Read on Microsoft Graph (critical; its Calendars.Read is not high-risk)');
  gt('APP-01', bunsho.id as string, '文書保管サービス (another organisation): application permission Directory.ReadWrite.All (high: not mail or files)');
  gt('APP-01', survey.id as string, 'アンケート フォーム Pro (another organisation): tenant-wide (AllPrincipals) delegated Files.ReadWrite.All (high: delegated)');
  gt('APP-01', mailMigration.id as string, 'メール移行ツール (another organisation): Exchange Online application permission full_access_as_app (critical)');
  gt('APP-02', tenantId, 'defaultUserRolePermissions.permissionGrantPoliciesAssigned holds ManagePermissionGrantsForSelf.microsoft-user-default-legacy (users may consent to any app); the two owned-resource entries beside it do not count');

  // ── domains ──────────────────────────────────────────────────────────────────────────────────
  const domain = (id: string, o: { isDefault: boolean; isInitial: boolean; isVerified: boolean; services: string[] }): JsonObject => ({
    authenticationType: 'Managed',
    availabilityStatus: null,
    isAdminManaged: true,
    isDefault: o.isDefault,
    isInitial: o.isInitial,
    isRoot: true,
    isVerified: o.isVerified,
    id,
    supportedServices: o.services,
    passwordNotificationWindowInDays: 14,
    passwordValidityPeriodInDays: 2147483647,
    state: null,
  });
  const domains = [
    domain(DOMAIN, { isDefault: true, isInitial: false, isVerified: true, services: ['Email', 'OfficeCommunicationsOnline'] }),
    domain(INITIAL_DOMAIN, { isDefault: false, isInitial: true, isVerified: true, services: ['Email', 'OfficeCommunicationsOnline'] }),
    domain(UNVERIFIED_DOMAIN, { isDefault: false, isInitial: false, isVerified: false, services: [] }),
    ...MAIL_DOMAINS.map((d) => domain(d, { isDefault: false, isInitial: false, isVerified: true, services: ['Email'] })),
    domain(SIP_DOMAIN, { isDefault: false, isInitial: false, isVerified: true, services: ['OfficeCommunicationsOnline'] }),
  ];

  // ── DNS (MAIL-02) ────────────────────────────────────────────────────────────────────────────
  // Microsoft 365's DKIM CNAME targets: selectorN-<domain with dashes>._domainkey.<initial domain>
  // ("Set up DKIM to sign mail from your Microsoft 365 domain"; Graph does not list them).
  const dkim = (d: string): DnsZone => Object.fromEntries(
    (['selector1', 'selector2'] as const).map((sel) => [`${sel}._domainkey.${d}`, { CNAME: `${sel}-${d.replace(/\./g, '-')}._domainkey.${INITIAL_DOMAIN}` }]),
  );
  const verification = (d: string): string[] => [`MS=ms${[...d].reduce((n, c) => (n * 31 + c.charCodeAt(0)) % 90_000_000, 7) + 10_000_000}`];
  const dnsZone: DnsZone = {
    // Compliant: the SPF record split over two character-strings; sp=none is a note only.
    [DOMAIN]: { TXT: [['v=spf1 include:spf.protection', '.outlook.com -all'], verification(DOMAIN)] },
    [`_dmarc.${DOMAIN}`]: { TXT: [['v=DMARC1; p=reject; sp=none; rua=mailto:dmarc@example.lg.jp']] },
    ...dkim(DOMAIN),
    // Compliant through redirect= to the default domain's record.
    [KOUHOU_DOMAIN]: { TXT: [['v=spf1 redirect=example.lg.jp']] },
    [`_dmarc.${KOUHOU_DOMAIN}`]: { TXT: [['v=DMARC1; p=quarantine']] },
    ...dkim(KOUHOU_DOMAIN),
    // MAIL-02 medium: p=none and no selector2.
    [SHOBO_DOMAIN]: { TXT: [['v=spf1 include:spf.protection.outlook.com ~all']] },
    [`_dmarc.${SHOBO_DOMAIN}`]: { TXT: [['v=DMARC1; p=none; rua=mailto:dmarc@example.lg.jp']] },
    [`selector1._domainkey.${SHOBO_DOMAIN}`]: dkim(SHOBO_DOMAIN)[`selector1._domainkey.${SHOBO_DOMAIN}`] as DnsZoneEntry,
    // MAIL-02 high: no SPF (only the verification TXT).
    [TOKUYO_DOMAIN]: { TXT: [verification(TOKUYO_DOMAIN)] },
    [`_dmarc.${TOKUYO_DOMAIN}`]: { TXT: [['v=DMARC1; p=quarantine; pct=100']] },
    ...dkim(TOKUYO_DOMAIN),
    // MAIL-02 high: two SPF records (permerror) and no DMARC record (NXDOMAIN).
    [KUMIAI_DOMAIN]: { TXT: [['v=spf1 include:spf.protection.outlook.com -all'], ['v=spf1 ip4:192.0.2.25 -all']] },
    ...dkim(KUMIAI_DOMAIN),
    // MAIL-02 high: SPF ?all (neutral).
    [KUMIAI_MAIL_DOMAIN]: { TXT: [['v=spf1 include:spf.protection.outlook.com ?all']] },
    [`_dmarc.${KUMIAI_MAIL_DOMAIN}`]: { TXT: [['v=DMARC1; p=reject']] },
    ...dkim(KUMIAI_MAIL_DOMAIN),
  };
  gt('MAIL-02', SHOBO_DOMAIN, `${SHOBO_DOMAIN}: DMARC p=none and no DKIM selector2 CNAME (medium)`);
  gt('MAIL-02', TOKUYO_DOMAIN, `${TOKUYO_DOMAIN}: no SPF record (high)`);
  gt('MAIL-02', KUMIAI_DOMAIN, `${KUMIAI_DOMAIN}: two SPF records (permerror) and no DMARC record (high)`);
  gt('MAIL-02', KUMIAI_MAIL_DOMAIN, `${KUMIAI_MAIL_DOMAIN}: SPF ends in ?all (high)`);

  // ── policy ───────────────────────────────────────────────────────────────────────────────────
  const owners: Array<[string, Person]> = [
    [DEPT.jimu, jimukyokucho], [DEPT.soumu, soumukacho], [DEPT.keibou, keiboukacho], [DEPT.yobou, yoboukacho],
    [DEPT.tsushin, tsushinkacho], [DEPT.shobosho, shoboshocho], [DEPT.tokuyo, socho],
  ];
  const policy: JsonObject = {
    organization: {
      name: '西置賜行政組合',
      locale: 'ja',
      timeZone: 'Asia/Tokyo',
      internalDomains: [DOMAIN],
      ciso: jimukyokucho.upn,
      systemAdministrators: [jimukyokucho.upn, socho.upn, soumukacho.upn],
      departments: owners.map(([name, p]) => ({ name, owner: p.upn })),
    },
    accounts: { emergencyAccessAccounts: [BREAKGLASS_UPN] },
    mail: { approvedForwardingDomains: [PARTNER_DOMAIN] },
    apps: { approvedApps: [kessai.appId as string] },
    files: {
      assets: [
        { name: '人事給与ファイル', owner: soumukacho.upn, location: `https://${SP_HOST}/sites/jinji`, class: 'I' },
        { name: '救急活動記録', owner: keiboukacho.upn, location: `https://${SP_HOST}/sites/kyukyu`, class: 'I' },
        { name: '総務課 文書', owner: soumukacho.upn, location: `https://${SP_HOST}/sites/soumu`, class: 'II' },
        { name: '特別養護老人ホーム 業務文書', owner: socho.upn, location: `https://${SP_HOST}/sites/tokuyo`, class: 'II' },
        { name: '予防査察資料', owner: yoboukacho.upn, location: `https://${SP_HOST}/sites/yobou`, class: 'III' },
        { name: '広報・公開資料', owner: jimukyokucho.upn, location: `https://${SP_HOST}/sites/kouhou`, class: 'IV' },
        { name: '職員個人用 OneDrive', owner: soumukacho.upn, location: `https://${MY_HOST}/personal/`, class: 'III' },
      ],
    },
    exceptions: [
      {
        ruleId: 'ACCT-01',
        subject: kyoyo.upn,
        reason: '窓口端末の共用アカウント（業務上やむを得ない）',
        approvedBy: jimukyokucho.upn,
        compensatingControl: '端末を窓口に固定し、操作ログを月次点検する',
        approvedOn: jstDate(ago(60 * DAY)),
        expiresOn: jstDate(new Date(T + 240 * DAY)),
      },
    ],
  };

  const order: readonly string[] = RULE_IDS;
  const groundTruth = truth
    .map((g, i) => ({ g, i }))
    .sort((a, b) => order.indexOf(a.g.ruleId) - order.indexOf(b.g.ruleId) || a.i - b.i)
    .map(({ g }) => g);

  const data: TenantData = {
    tenantId,
    domains,
    dnsZone,
    users,
    userRegistrationDetails,
    roleAssignments,
    roleEligibilitySchedules,
    roleAssignmentScheduleInstances,
    groups,
    groupMembers,
    securityDefaults,
    authorizationPolicy,
    servicePrincipals,
    appRoleAssignments,
    oauth2PermissionGrants,
    conditionalAccessPolicies,
    messageRules,
    signIns: signIns.events,
    signInAvailableAt,
    sites: files.sites,
    sharepointSettings,
  };
  return { data, groundTruth, now: now.toISOString(), policy, late };
}
