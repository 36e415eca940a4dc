/**
 * The clause catalogue of the organisation's information-security standard
 * (`standard/security-standard.ja.md`, 西置賜行政組合 情報セキュリティ対策基準).
 *
 * Every numbered chapter, section and list item of the standard is one {@link Clause}, in document
 * order. Rules, findings, tickets and the CISO digest refer to clauses by these ids (`5-1-3`,
 * `2-2`, `9`), so an id must always mean the same text of the standard.
 *
 * - Chapters `1`–`7` have numbered sections (`5-1` … `5-11`); chapters `8`–`12` have none and are
 *   clauses of their own (chapter `8` has a numbered list directly, so its items are `8-1` …).
 * - Item ids are `<section>-<n>` where n is the item's position in the section's numbered list.
 *   They are derived from position rather than from the source's numerals because some lists in
 *   the source have blank lines between items; the numbering still continues across them.
 * - Section 2-1 holds a classification table (I–IV), not a numbered list, so it has no items.
 * - Section and chapter `ja` titles are the heading text exactly; item `ja` titles are short
 *   summaries of the item's text (the full text lives in the standard).
 *
 * `automatable` mirrors the `clause` column of `spec/controls.md`: a clause is automatable exactly
 * when at least one control names it there (including controls of areas built later), or when it
 * is the section or chapter containing such a clause. Everything else is manual: no automatic check
 * covers it, and the digest lists it (see {@link manualClauses}) so that silence is not read as
 * compliance. When a control with a new clause is added to controls.md, add the clause to
 * `CONTROLLED_CLAUSES` below.
 */

/** One chapter, section or numbered item of the standard. */
export interface Clause {
  /** Clause number as the standard writes it: `5`, `5-1`, `5-1-3`, `8-2`. */
  readonly id: string;
  /** Id of the section or chapter this clause belongs to; undefined for chapters. */
  readonly parent: string | undefined;
  /** Where the clause sits in the standard's structure. */
  readonly level: 'chapter' | 'section' | 'item';
  /** Heading text (chapters, sections) or a short summary of the item (items). */
  readonly title: { readonly ja: string; readonly en: string };
  /** True when some control in controls.md checks it (directly, or through one of its items). */
  readonly automatable: boolean;
}

/**
 * Clause ids named in the `clause` column of controls.md, with the controls naming them.
 * The section and chapter above each one are automatable too; that is derived below.
 */
const CONTROLLED_CLAUSES: ReadonlySet<string> = new Set([
  '5-1-1', // ACCT-01
  '4-1-2', // ACCT-02, ACCT-03
  '5-1-4', // ACCT-04, ACCT-05
  '5-2-1', // ACCT-05
  '7-5-1', // ACCT-06
  '6-1-4', // ACCT-06
  '5-1-2', // ACCT-07
  '5-1-3', // MFA-01, MFA-02, MFA-03
  '6-2-2', // MFA-02, APP-01
  '5-4-4', // MFA-04, SIGN-04, SIGN-05
  '5-7-4', // MAIL-01
  '5-7-1', // MAIL-01
  '5-6-4', // MAIL-02
  '5-3-3', // SIGN-01, SIGN-02, SIGN-03
  '5-8-2', // SIGN-04
  '5-9-1', // FILE-01 … FILE-04
  '2-3-1', // FILE-01
  '2-2', // FILE-05 (a section: the asset register as a whole)
  '5-10-2', // APP-02
  '5-10-3', // APP-01
  '6-2-1', // APP-02
]);

/** A Japanese / English title pair. */
type Title = readonly [ja: string, en: string];

/** A section (or a chapter without sections) as written in the standard. */
interface SectionSource {
  readonly id: string;
  readonly title: Title;
  /** The numbered list under the heading, in order; absent when there is none. */
  readonly items?: readonly Title[];
}

/** A chapter: either it has sections, or (chapters 8–12) it stands alone. */
interface ChapterSource extends SectionSource {
  readonly sections?: readonly SectionSource[];
}

const STANDARD: readonly ChapterSource[] = [
  {
    id: '1',
    title: ['組織体制', 'Organisation'],
    sections: [
      {
        id: '1-1',
        title: ['最高情報セキュリティ責任者', 'Chief Information Security Officer (CISO)'],
        items: [
          ['情報セキュリティの方針・基準・計画の承認', 'Approve security policy, standard and plans'],
          ['対策の企画・推進及び部門間の調整', 'Plan and drive security measures; coordinate departments'],
          ['情報資産の分類・管理台帳・アクセス権限等の統制', 'Govern asset classification, the asset register and access rights'],
          ['教育・訓練・監査・点検及び見直しの統括', 'Oversee training, audits, inspections and reviews'],
          ['委託先管理及びクラウドサービス利用管理の統括', 'Oversee contractor and cloud-service management'],
          ['重要なリスク・対策状況の把握と是正指示', 'Track key risks and countermeasures; order corrections'],
          ['重大インシデント発生時の意思決定', 'Decide on major incidents (continuity, external reporting, residents)'],
        ],
      },
      {
        id: '1-2',
        title: ['情報セキュリティ責任者', 'Information Security Officers'],
        items: [
          ['担当部門の情報資産の管理及び取扱いの徹底', "Ensure proper management and handling of the department's assets"],
          ['担当部門の利用者への指導・点検・是正', "Guide, inspect and correct the department's users"],
          ['担当部門の事故・障害の報告と初動対応', "Report and give first response to the department's incidents"],
        ],
      },
      {
        id: '1-3',
        title: ['情報システム管理者', 'Information System Administrators'],
        items: [
          ['アカウント・アクセス制御・設定・ログの管理', 'Manage accounts, access control, configuration and logs'],
          ['脆弱性対応・パッチ適用・マルウェア対策', 'Handle vulnerabilities, patching and malware protection'],
          ['バックアップ・復旧・冗長化・障害対応', 'Carry out backup, recovery, redundancy and failure response'],
          ['委託先作業の管理及び受入確認', "Supervise and accept contractors' work"],
        ],
      },
      { id: '1-4', title: ['情報システム担当者', 'Information System Staff'] },
      {
        id: '1-5',
        title: ['職員等', 'Staff'],
        items: [
          ['本基準及び手順の理解と遵守', 'Understand and follow this standard and its procedures'],
          ['情報資産の適正な取扱い（持出・送信・廃棄等）', 'Handle information assets properly (take-out, sending, disposal)'],
          ['不審メール・端末異常・漏えい兆候の速やかな報告', 'Report suspicious mail, device anomalies or signs of leaks promptly'],
          ['庁外活動時を含む端末・書類等の紛失防止', 'Prevent loss of devices and documents, including off-site'],
        ],
      },
    ],
  },
  {
    id: '2',
    title: ['情報資産の管理', 'Information asset management'],
    sections: [
      // A classification table (I–IV), not a numbered list: no items.
      { id: '2-1', title: ['情報資産の分類', 'Classification of information assets'] },
      {
        id: '2-2',
        title: ['情報資産管理簿', 'Information asset register'],
        items: [
          ['名称・責任者・保管場所・媒体・分類区分の記録', 'Record name, owner, location, medium and class'],
          ['取扱いに関する制限（閲覧・持出・複製・送信等）の記録', 'Record handling restrictions (viewing, take-out, copying, sending, retention)'],
          ['情報システムの構成・委託先・保守・バックアップ等の記録', 'For systems, record configuration, contractors, maintenance, backup and recovery targets'],
        ],
      },
      {
        id: '2-3',
        title: ['情報資産の取扱い', 'Handling of information assets'],
        items: [
          ['暗号化・アクセス制御・持出制限と取扱者の最小化', 'Encrypt, control access, restrict take-out; fewest possible handlers'],
          ['電子媒体の送信は組織が指定する手段に限定', 'Send electronic data only by organisation-designated means'],
          ['外部記憶媒体は最小限とし、ウイルスチェックと持出記録', 'Minimise removable media; virus-check and log take-out'],
          ['紙媒体の施錠保管と復元不能な廃棄', 'Lock up paper records; destroy them irrecoverably'],
          ['業務上の画像・動画は業務用媒体へ移し個人端末に保持しない', 'Move work photos and videos to work media; keep none on personal devices'],
        ],
      },
      {
        id: '2-4',
        title: ['情報資産の持出し', 'Taking information assets off-site'],
        items: [
          ['持出目的・期間・持出者・持出物の記録', 'Record purpose, period, person and items taken out'],
          ['庁外活動中の常時携行又は施錠保管', "Keep assets on one's person or locked away while off-site"],
        ],
      },
      { id: '2-5', title: ['情報資産の廃棄・返却', 'Disposal and return of information assets'] },
    ],
  },
  {
    id: '3',
    title: ['物理的対策', 'Physical security'],
    sections: [
      {
        id: '3-1',
        title: ['情報システムの設置・管理', 'Installation and management of information systems'],
        items: [
          ['重要システム設置場所の耐火・耐水・温湿度・電源の考慮', 'Protect key system sites against fire, water and climate; secure power (UPS)'],
          ['端末・機器の盗難防止措置（ワイヤーロック等）', 'Anti-theft measures for devices (cable locks, locked storage)'],
          ['来庁者等が機器・情報資産に接触できない配置', "Place equipment and assets beyond visitors' reach"],
        ],
      },
      {
        id: '3-2',
        title: ['管理区域の管理', 'Management of secure areas'],
        items: [
          ['入退室の記録の取得と一定期間の保管', 'Record entry and exit; keep the records for a set period'],
          ['来訪者の入館手続と同行又は監視', 'Register visitors; escort or monitor them'],
          ['鍵・入退室カード等の管理と紛失時の無効化', 'Manage keys and access cards; revoke lost ones promptly'],
        ],
      },
      {
        id: '3-3',
        title: ['庁外活動等における物理的対策', 'Physical security for off-site activities'],
        items: [
          ['車両内固定・施錠・携行による盗難・紛失の防止', 'Prevent theft or loss by fixing in vehicles, locking and carrying'],
          ['写真・映像・通報等の表示を第三者に見せない配慮', 'Keep photos, video and report data on screens from third parties'],
          ['持出端末の画面ロック・暗号化・遠隔消去の設定', 'Set screen lock, encryption and remote wipe on mobile devices'],
        ],
      },
    ],
  },
  {
    id: '4',
    title: ['人的対策', 'Personnel security'],
    sections: [
      {
        id: '4-1',
        title: ['雇用・配置に関する対策', 'Hiring, assignment and departure'],
        items: [
          ['守秘義務及び情報セキュリティ遵守の誓約の取得', 'Obtain confidentiality and security-compliance pledges'],
          ['必要な権限のみ付与し、異動・退職時に速やかに変更・削除', 'Grant only needed rights; change or remove them promptly on transfer or departure'],
          ['委託先従事者にも同等の秘密保持及び教育を求める', 'Require equal confidentiality and training of contractor staff'],
        ],
      },
      {
        id: '4-2',
        title: ['研修・訓練', 'Training and exercises'],
        items: [
          ['全職員向けの年1回以上の情報セキュリティ研修', 'Security training for all staff at least once a year'],
          ['新規採用者・異動者・委託先従事者への着任時教育', 'Induction training for new, transferred and contractor staff'],
          ['重要業務担当者へのインシデント対応訓練', 'Incident-response exercises for staff of critical operations'],
          ['不審メール訓練・机上訓練・復旧訓練等の計画的実施', 'Planned phishing, tabletop and recovery drills'],
        ],
      },
      { id: '4-3', title: ['懲戒等', 'Disciplinary measures'] },
    ],
  },
  {
    id: '5',
    title: ['技術的対策', 'Technical security'],
    sections: [
      {
        id: '5-1',
        title: ['アカウント管理', 'Account management'],
        items: [
          ['ID は利用者ごとに一意とし、共用 ID は原則禁止', 'Unique ID per user; shared IDs prohibited in principle'],
          ['推測困難なパスワードとし、使い回しを禁止', 'Hard-to-guess passwords; no reuse across systems'],
          ['特権 ID・外部接続・クラウド利用への MFA の適用', 'Apply MFA to privileged IDs, external access and cloud use'],
          ['管理者権限は最小限とし、付与・変更・削除を記録', 'Minimise admin rights; record grants, changes and removals'],
        ],
      },
      {
        id: '5-2',
        title: ['アクセス制御', 'Access control'],
        items: [
          ['職務分掌に基づくロールベースの最小限のアクセス権', 'Role-based, least-privilege access according to duties'],
          ['I・II の情報資産の格納先のアクセス権の明確化と定期棚卸', 'Define and regularly review access to class I/II stores'],
          ['離席時の画面ロックと無操作時の自動ロック', 'Lock screens when away; auto-lock after inactivity'],
        ],
      },
      {
        id: '5-3',
        title: ['アクセス記録等の取得・保管', 'Collection and retention of access logs'],
        items: [
          ['認証・アクセス・重要操作・エラー等のログの取得', 'Log authentication, access, critical operations and errors'],
          ['ログの改ざん防止と保管期間の設定', 'Protect logs against tampering; set retention periods'],
          ['不正アクセスの兆候検知時の原因確認と封じ込め', 'On signs of unauthorised access, investigate and contain promptly'],
        ],
      },
      {
        id: '5-4',
        title: ['ネットワーク対策', 'Network security'],
        items: [
          ['用途に応じたネットワーク分離と不要な通信の遮断', 'Segregate networks by use; block unneeded traffic'],
          ['ファイアウォール等による外部接続の制御', 'Control external connections with firewalls; allow only needed ports'],
          ['無線 LAN の強固な暗号化・認証とゲスト用の分離', 'Strong Wi-Fi encryption and authentication; separate guest network'],
          ['遠隔保守・リモートアクセスは承認・VPN・MFA・ログ取得等を条件に限定', 'Allow remote maintenance and access only with approval, VPN, MFA and logging'],
        ],
      },
      {
        id: '5-5',
        title: ['端末対策', 'Endpoint security'],
        items: [
          ['サポート期間内の OS・ソフトウェアとセキュリティ更新の適用', 'Use supported OS and software; apply security updates'],
          ['マルウェア対策と定義ファイルの最新化', 'Anti-malware protection with up-to-date definitions'],
          ['外部記憶媒体の自動実行禁止と許可媒体のみの使用', 'Disable autorun; use only approved removable media'],
          ['端末の暗号化（BitLocker 等）', 'Encrypt devices (BitLocker etc.)'],
        ],
      },
      {
        id: '5-6',
        title: ['電子メールのセキュリティ管理', 'Email security'],
        items: [
          ['ウイルス検査及びスパム対策', 'Virus scanning and spam filtering'],
          ['添付ファイル及び URL の安全性確認（標的型攻撃対策）', 'Check attachments and URLs against targeted attacks'],
          ['誤送信防止の仕組み（宛先確認・外部宛て警告等）', 'Prevent mis-sent mail (recipient checks, external warnings, delayed send)'],
          ['なりすまし対策（SPF/DKIM/DMARC 等）', 'Anti-spoofing (SPF/DKIM/DMARC)'],
        ],
      },
      {
        id: '5-7',
        title: ['電子メールの利用制限', 'Restrictions on email use'],
        items: [
          ['業務での個人メールアドレス・フリーメールの使用禁止', 'No personal or free-mail addresses for work'],
          ['情報資産のメール送信時の暗号化・パスワード別送等', 'Encrypt or use designated secure means when mailing information assets'],
          ['チェーンメール・機密情報の不用意な一斉送信等の禁止', 'No chain mail or careless mass sending of confidential data'],
          ['外部宛てのメール自動転送の禁止（例外は CISO の承認）', 'No automatic forwarding outside the organisation (exceptions need CISO approval)'],
        ],
      },
      {
        id: '5-8',
        title: ['外部ネットワークとの接続', 'Connection to external networks'],
        items: [
          ['外部接続点の管理と機器・設定の最新化', 'Manage external connection points; keep devices and settings current'],
          ['外部からの直接接続の原則禁止と VPN 等による認証・暗号化', 'No direct inbound connections; use VPN with authentication and encryption when needed'],
          ['外部公開サーバ等の DMZ 等への配置', 'Put public-facing servers in a separated zone (DMZ)'],
        ],
      },
      {
        id: '5-9',
        title: ['文書サーバ等の設定', 'Configuration of document servers'],
        items: [
          ['文書サーバ・クラウドストレージ等のアクセス権を分類と職務に応じ設定', 'Set file-share and cloud-storage access by asset class and duties'],
          ['共有フォルダの新設・権限変更の申請・承認制と定期棚卸', 'Approval for new shared folders and permission changes; regular review'],
        ],
      },
      {
        id: '5-10',
        title: ['インターネットの利用制限', 'Restrictions on internet use'],
        items: [
          ['業務上不要・有害なサイト等へのアクセスの制限・遮断', 'Restrict and block unneeded, harmful or high-risk sites'],
          ['ダウンロードは最小限とし、信頼できる提供元からのみ', 'Minimal downloads, only from trusted sources'],
          ['許可されていないオンラインストレージ等の業務利用禁止', 'No unapproved online storage or file-sharing services for work'],
        ],
      },
      {
        id: '5-11',
        title: ['可用性対策（重要業務継続）', 'Availability (continuity of critical operations)'],
        items: [
          ['システム停止時に備えた代替手段の整備', 'Prepare fallback means for system outages'],
          ['バックアップ・冗長化・復旧手順・復旧目標（RTO/RPO）の策定', 'Define backup, redundancy, spares, recovery procedures and RTO/RPO'],
          ['停電時の電源確保及び通信回線の冗長性の検討', 'Plan power during outages (UPS, generators) and redundant lines'],
          ['非常時の情報共有システムのアカウント・手順・連絡体制の整備', 'Prepare accounts, procedures and contacts for emergency information sharing'],
        ],
      },
    ],
  },
  {
    id: '6',
    title: ['外部委託及びクラウドサービスの利用', 'Outsourcing and cloud services'],
    sections: [
      {
        id: '6-1',
        title: ['外部委託の管理', 'Management of outsourcing'],
        items: [
          ['委託範囲・分類・責任分界・作業手順・再委託可否の明確化', 'Define scope, asset classes, responsibilities, procedures and subcontracting'],
          ['秘密保持・目的外利用禁止・事故報告・監査協力等の契約', 'Contract for confidentiality, purpose limits, incident reporting and audits'],
          ['委託先作業の事前承認と作業記録・ログの確保', "Pre-approve contractors' work; keep work records and logs"],
          ['委託終了時の情報資産の返却・消去の確認と記録', 'At contract end, confirm and record return or erasure of assets'],
        ],
      },
      {
        id: '6-2',
        title: ['クラウドサービスの利用', 'Use of cloud services'],
        items: [
          ['利用目的・分類・保管場所・暗号化・認証方式等の事前確認', 'Check purpose, asset classes, data location, encryption and authentication first'],
          ['重要情報は MFA・アクセス制御・ログ・バックアップ等を満たすサービスに限定', 'Keep important information only in services with MFA, access control, logging and backup'],
          ['サービス終了・障害時の代替手段とデータ移行・消去手順の確認', 'Confirm fallback, data migration and erasure for service end or outage'],
        ],
      },
    ],
  },
  {
    id: '7',
    title: ['運用（情報システムの運用・開発・保守）', 'Operations (running, development and maintenance of information systems)'],
    sections: [
      {
        id: '7-1',
        title: ['バックアップ', 'Backup'],
        items: [
          ['定期的なバックアップ取得と保管場所の分散', 'Regular backups kept in separate locations'],
          ['バックアップのオフライン又は分離環境での保管の検討', 'Consider offline or isolated backup storage against tampering and ransomware'],
          ['定期的な復旧テストによる復旧可能性・所要時間の確認', 'Regular restore tests to confirm recoverability and recovery time'],
        ],
      },
      {
        id: '7-2',
        title: ['変更管理', 'Change management'],
        items: [
          ['設定・構成・権限の変更の申請・承認・記録と影響評価', 'Request, approve, record and assess changes to settings, network and permissions'],
          ['緊急変更の事後承認・記録と恒久対策の検討', 'Approve and record emergency changes afterwards; plan permanent fixes'],
        ],
      },
      {
        id: '7-3',
        title: ['障害・インシデント記録', 'Failure and incident records'],
        items: [
          ['障害・インシデントの日時・影響・原因・対応・再発防止策の記録', 'Record time, impact, cause, response and prevention for failures and incidents'],
          ['重要業務システムに影響する事象の CISO への速やかな報告', 'Report events affecting critical systems to the CISO promptly'],
        ],
      },
      {
        id: '7-4',
        title: ['脆弱性管理', 'Vulnerability management'],
        items: [
          ['脆弱性情報の収集とパッチ・回避策の適用', 'Collect vulnerability information; apply patches or workarounds'],
          ['サポート切れ製品の回避と代替策', 'Avoid unsupported products, or apply compensating controls'],
        ],
      },
      {
        id: '7-5',
        title: ['システム開発・保守に関する管理', 'Development and maintenance'],
        items: [
          ['開発・保守者の ID・権限の作業終了後の速やかな抹消', "Remove developers' and maintainers' IDs and rights promptly after the work"],
          ['守秘義務・再委託管理・持込機器の管理等の徹底', 'Enforce confidentiality, subcontracting control and rules for brought-in equipment'],
          ['開発・テスト・運用環境の分離と移行手順の明確化', 'Separate development, test and production; define migration steps'],
          ['新規導入・改修時の十分な試験の実施', 'Test thoroughly before introduction or changes'],
          ['設計書・運用手順・ソースコード等の整備・保管', 'Maintain and keep documentation, procedures and source code'],
          ['入力データの妥当性チェック等の組込み', 'Build in input validation'],
        ],
      },
      {
        id: '7-6',
        title: ['監視及び点検', 'Monitoring and inspection'],
        items: [
          ['システム・ネットワーク・端末の稼働監視とログ点検', 'Monitor operation and check logs of systems, networks and devices'],
          ['外部公開資産・委託先作業の監視・点検', "Monitor and inspect public-facing assets and contractors' work"],
        ],
      },
      {
        id: '7-7',
        title: ['情報セキュリティインシデント対応', 'Information security incident response'],
        items: [
          ['手順に従った封じ込め・原因究明・復旧・再発防止・外部通報', 'Contain, investigate, recover, prevent recurrence and report externally per procedure'],
          ['業務継続を最優先とし代替手段へ速やかに切替え', 'Put continuity first; switch to fallback means promptly'],
          ['個人情報等の漏えいの疑い時の法令等に基づく対応', 'Handle suspected personal-data leaks as the law requires'],
        ],
      },
    ],
  },
  {
    id: '8',
    title: ['手順等', 'Procedures'],
    items: [
      ['情報資産管理簿の運用手順', 'Procedure for the asset register'],
      ['外部記憶媒体の運用手順', 'Procedure for removable media'],
      ['情報セキュリティインシデント対応手順', 'Incident response procedure (reporting, first response, external communication)'],
      ['重要業務に係る業務継続手順', 'Business continuity procedure for critical operations'],
    ],
  },
  { id: '9', title: ['例外措置', 'Exceptions'] },
  { id: '10', title: ['法令等の遵守', 'Compliance with laws and regulations'] },
  { id: '11', title: ['違反時の措置', 'Measures on violations'] },
  { id: '12', title: ['評価及び見直し', 'Evaluation and review'] },
];

/** Flattens {@link STANDARD} into clauses in document order and derives `automatable`. */
function build(): readonly Clause[] {
  const out: Clause[] = [];
  const make = (id: string, parent: string | undefined, level: Clause['level'], [ja, en]: Title, automatable: boolean): Clause =>
    Object.freeze({ id, parent, level, title: Object.freeze({ ja, en }), automatable });

  // Returns the clauses of one heading (itself first, then its items) and whether any is controlled.
  const heading = (src: SectionSource, parent: string | undefined, level: 'chapter' | 'section', below: readonly Clause[]): Clause[] => {
    const items = (src.items ?? []).map((title, i) => {
      const id = `${src.id}-${i + 1}`;
      return make(id, src.id, 'item', title, CONTROLLED_CLAUSES.has(id));
    });
    const automatable = CONTROLLED_CLAUSES.has(src.id) || [...items, ...below].some((c) => c.automatable);
    return [make(src.id, parent, level, src.title, automatable), ...items, ...below];
  };

  for (const chapter of STANDARD) {
    const below = (chapter.sections ?? []).flatMap((s) => heading(s, chapter.id, 'section', []));
    out.push(...heading(chapter, undefined, 'chapter', below));
  }
  return Object.freeze(out);
}

/** Every chapter, section and numbered item of the standard, in document order. */
export const clauses: readonly Clause[] = build();

const byId: ReadonlyMap<string, Clause> = new Map(clauses.map((c) => [c.id, c]));

/**
 * Looks a clause up by its id (`'5-1-3'`, `'2-2'`, `'9'`).
 * @returns the clause, or undefined when the standard has no such clause.
 */
export function clause(id: string): Clause | undefined {
  return byId.get(id);
}

/**
 * The clauses that no automatic check covers, in document order, for the CISO digest: every item
 * and section whose `automatable` is false, plus the chapters that have no sections (`8`–`12`).
 * A chapter with sections is left out because its sections are listed instead.
 */
export function manualClauses(): Clause[] {
  const hasSections = new Set(clauses.filter((c) => c.level === 'section').map((c) => c.parent));
  return clauses.filter((c) => !c.automatable && (c.level !== 'chapter' || !hasSections.has(c.id)));
}
