/**
 * 対応内容 in the report and findings.csv: for each rule, the concrete steps a Microsoft 365
 * administrator follows (which admin center, which page, which setting), in both languages. The
 * rule's own `remediation` says what must be achieved; this says how. Rules without an entry
 * fall back to the rule's text.
 */
import type { LocalText } from '../findings/finding';
import type { RuleId } from '../rules/ids';
import { ruleById } from '../rules/index';

/** Steps per rule id. */
export const REMEDIATION_STEPS: Record<RuleId, LocalText> = {
  'ACCT-01': {
    ja: '1) 利用者ごとに個人のアカウントを発行する。2) Microsoft Entra 管理センター › ユーザー › すべてのユーザー で共用アカウントを開き「サインインのブロック」（アカウントの無効化）を行う。3) 業務上やむを得ず使い続ける場合は、情報セキュリティ責任者が理由・範囲・代替措置を定め、ポリシーの exceptions に承認者と期限付きで登録する。',
    en: '1) Issue a personal account to each person. 2) In the Microsoft Entra admin center › Users › All users, open the shared account and block sign-in (disable it). 3) If it must stay, the security officer defines reason, scope and compensating control and registers it in the policy\'s exceptions with the approver and an expiry.',
  },
  'ACCT-02': {
    ja: '1) 所属長に、異動・退職・休職で不要になったアカウントか確認する。2) 不要なら Microsoft Entra 管理センター › ユーザー › すべてのユーザー › 対象 › 「サインインのブロック」で無効化し、ライセンスとグループを外し、30 日後を目安に削除する。3) 必要なアカウントなら、利用者にサインインして利用状況を確認してもらう。',
    en: '1) Ask the manager whether the account is still needed after a transfer, departure or leave. 2) If not, disable it in the Microsoft Entra admin center › Users › All users › the user › Block sign-in, remove its licences and groups, and delete it after about 30 days. 3) If it is needed, have the user sign in and confirm their use.',
  },
  'ACCT-03': {
    ja: '1) 直ちに Microsoft Entra 管理センター › ユーザー › すべてのユーザー › 対象 › 「サインインのブロック」で無効化し、「セッションの取り消し」を行う。2) 特権ロール・グループ・ライセンス・共有を外す。3) メールやファイルの引継ぎを所属長と決め、保存期間の後に削除する。',
    en: '1) At once, in the Microsoft Entra admin center › Users › All users › the user, block sign-in and choose Revoke sessions. 2) Remove its roles, groups, licences and shares. 3) Agree the hand-over of mail and files with the manager, and delete the account after the retention period.',
  },
  'ACCT-04': {
    ja: '1) Microsoft Entra 管理センター › ロールと管理者 › 全体管理者 で割り当て（適格を含む）を一覧にする。2) 緊急用アカウントを除き、日常業務に必要な範囲のロール（ユーザー管理者、Exchange 管理者など）に置き換えて全体管理者を外す。3) 残す場合も PIM の適格割り当て（期限付き・承認制）にする。4) 付与・削除を記録する。',
    en: '1) In the Microsoft Entra admin center › Roles and administrators › Global Administrator, list the assignments (eligible ones too). 2) Apart from the emergency-access accounts, replace Global Administrator by the narrower roles the work needs (User Administrator, Exchange Administrator…). 3) Make those that remain PIM-eligible (time-bound, with approval). 4) Record every grant and removal.',
  },
  'ACCT-05': {
    ja: '1) Microsoft Entra 管理センター › ロールと管理者 で該当ロールを開き、ゲストの割り当て（グループ経由なら、そのグループからゲストを外す）を削除する。2) 委託作業に必要な場合は、組織のアカウントを発行し、作業期間に限って PIM の適格割り当てで付与する。',
    en: '1) In the Microsoft Entra admin center › Roles and administrators, open the role and remove the guest\'s assignment (held through a group: remove the guest from that group). 2) If a contractor needs it, issue an organisational account and grant the role PIM-eligible for the work period only.',
  },
  'ACCT-06': {
    ja: '1) 招待元の部門に、委託・共同作業が続いているか確認する。2) 終わっていれば Microsoft Entra 管理センター › ユーザー › すべてのユーザー（ユーザーの種類: ゲスト）で削除する。3) 続く場合は目的と期間を記録し、アクセス レビュー（Identity Governance）で定期的に確認する。',
    en: '1) Ask the inviting department whether the contract or collaboration continues. 2) If it has ended, delete the guest in the Microsoft Entra admin center › Users › All users (user type: Guest). 3) If it continues, record purpose and period and review it regularly with Access reviews (Identity Governance).',
  },
  'ACCT-07': {
    ja: '1) Microsoft Graph PowerShell で Update-MgUser -UserId <UPN> -PasswordPolicies "None"（または DisablePasswordExpiration のみ）を実行し、DisableStrongPassword を外す。2) 利用者に次回サインイン時のパスワード変更を求め、推測困難なパスワードを設定させる。',
    en: '1) With Microsoft Graph PowerShell run Update-MgUser -UserId <UPN> -PasswordPolicies "None" (or DisablePasswordExpiration only) to remove DisableStrongPassword. 2) Require a password change at next sign-in so that the user sets a strong password.',
  },
  'MFA-01': {
    ja: '1) 登録が済むまで、Microsoft Entra 管理センター › ロールと管理者 で当該利用者の特権ロールの割り当てを外す（または PIM でアクティブ化を止める）。2) 利用者に https://aka.ms/mysecurityinfo で Microsoft Authenticator 等を登録させる。3) 管理者ロールに多要素認証を必須とする条件付きアクセス ポリシーを「オン」にする。',
    en: '1) Until registered, remove the user\'s privileged role assignments in the Microsoft Entra admin center › Roles and administrators (or stop PIM activation). 2) Have the user register Microsoft Authenticator or another method at https://aka.ms/mysecurityinfo. 3) Switch On a Conditional Access policy requiring MFA for admin roles.',
  },
  'MFA-02': {
    ja: '1) 利用者に https://aka.ms/mysecurityinfo で Microsoft Authenticator 等を登録させる。2) 登録状況は Microsoft Entra 管理センター › 保護 › 認証方法 › ユーザー登録の詳細 で確認する。3) 全利用者に多要素認証を要求する条件付きアクセス ポリシー（MFA-03）を「オン」にする。',
    en: '1) Have the user register Microsoft Authenticator or another method at https://aka.ms/mysecurityinfo. 2) Check it in the Microsoft Entra admin center › Protection › Authentication methods › User registration details. 3) Switch On the Conditional Access policy requiring MFA for all users (MFA-03).',
  },
  'MFA-03': {
    ja: '1) Microsoft Entra 管理センター › 保護 › 条件付きアクセス › 新しいポリシー で、ユーザー「すべてのユーザー」（緊急用アカウントを除外）、リソース「すべてのクラウド アプリ」、許可「多要素認証を要求する」を設定する。2) 数日「レポート専用」で影響を確認した後、「オン」に切り替える（レポート専用のままでは保護されません）。3) 除外した緊急用アカウントのサインインを監視する。',
    en: '1) In the Microsoft Entra admin center › Protection › Conditional Access › New policy: users "All users" (exclude the emergency-access accounts), target resources "All cloud apps", grant "Require multifactor authentication". 2) Check the impact in Report-only for a few days, then switch it On (report-only protects nothing). 3) Monitor the sign-ins of the excluded emergency accounts.',
  },
  'MFA-04': {
    ja: '1) Microsoft Entra 管理センター › 保護 › 条件付きアクセス › 新しいポリシー で、ユーザー「すべてのユーザー」、リソース「すべてのクラウド アプリ」、条件 › クライアント アプリ で「Exchange ActiveSync クライアント」と「その他のクライアント」を選び、許可「アクセスのブロック」を設定して「オン」にする。2) 事前にサインイン ログ（クライアント アプリで絞り込み）でレガシー認証の利用者を確認し、先進認証に移行させる。',
    en: '1) In the Microsoft Entra admin center › Protection › Conditional Access › New policy: users "All users", resources "All cloud apps", Conditions › Client apps "Exchange ActiveSync clients" and "Other clients", grant "Block access", switched On. 2) First find who still uses legacy authentication in the sign-in logs (filter by client app) and move them to modern authentication.',
  },
  'MAIL-01': {
    ja: '1) Exchange 管理センター › 受信者 › メールボックス で対象を開くか、Exchange Online PowerShell の Get-InboxRule -Mailbox <UPN> で該当ルールを確認し、Remove-InboxRule で削除する（本人の Outlook の 設定 › ルール からも削除できます）。2) 本人に転送の理由を確認し、不正な設定なら SIGN 系の指摘と同様にアカウント侵害として対応する。3) Microsoft Defender ポータル › ポリシー › スパム対策 › 送信ポリシー で自動転送を「オフ」にする。4) 業務上必要な転送先は最高情報セキュリティ責任者の承認を得て approvedForwardingDomains に登録する。',
    en: '1) Find the rule in the Exchange admin center › Recipients › Mailboxes, or with Get-InboxRule -Mailbox <UPN> in Exchange Online PowerShell, and delete it with Remove-InboxRule (or in the user\'s Outlook Settings › Rules). 2) Ask the user why; if they did not set it, treat the account as compromised. 3) In the Microsoft Defender portal › Policies › Anti-spam › Outbound policy, set automatic forwarding to Off. 4) Register a forwarding domain the work needs in approvedForwardingDomains, with the CISO\'s approval.',
  },
  'MAIL-02': {
    ja: '1) ドメインの DNS（レジストラーまたは DNS 事業者の管理画面）で、ドメイン直下の TXT レコードに v=spf1 で始まる SPF を 1 件だけ置き、include:spf.protection.outlook.com を含めて -all（または ~all）で終える（2 件あると無効になります）。2) _dmarc.<ドメイン> に v=DMARC1; p=quarantine（または p=reject）; rua=mailto:<集計報告の宛先> の TXT を置く。p=none で集計報告を確認してから強めるのが一般的です。3) Microsoft Defender ポータル › メールとコラボレーション › ポリシーとルール › 脅威ポリシー › メール認証の設定 › DKIM で対象ドメインを開き、表示された selector1._domainkey と selector2._domainkey の CNAME を DNS に登録してから署名を有効にする。4) DNS の反映後に次回の点検で解消を確認する。',
    en: '1) In the domain\'s DNS (registrar or DNS provider), keep exactly one TXT record starting with v=spf1 at the domain, including include:spf.protection.outlook.com and ending in -all (or ~all); two such records make SPF fail. 2) Publish a TXT at _dmarc.<domain>: v=DMARC1; p=quarantine (or p=reject); rua=mailto:<report address>. Starting at p=none to read the reports, then raising it, is the usual path. 3) In the Microsoft Defender portal › Email & collaboration › Policies & rules › Threat policies › Email authentication settings › DKIM, open the domain, publish the selector1._domainkey and selector2._domainkey CNAMEs it shows, then enable signing. 4) Once DNS has propagated, the next scan confirms it.',
  },
  'SIGN-01': {
    ja: '1) 本人に、この時刻にサインインを試みたか確認する。2) 心当たりがなければ Microsoft Entra 管理センター › ユーザー › 対象 › 「セッションの取り消し」とパスワードのリセットを行い、送信元 IP を条件付きアクセスのネームド ロケーションでブロックする。3) サインイン ログ（監視と正常性 › サインイン ログ）で同じ送信元からの他の試行を確認する。4) 原因と封じ込めの結果を記録し、m365-audit ledger close <チケット ID> --note "…" で閉じる。',
    en: '1) Ask the user whether they tried to sign in at that time. 2) If not, in the Microsoft Entra admin center › Users › the user choose Revoke sessions and reset the password, and block the source address with a Conditional Access named location. 3) Look for other attempts from the same source in Monitoring & health › Sign-in logs. 4) Record cause and containment and close it with m365-audit ledger close <ticket id> --note "…".',
  },
  'SIGN-02': {
    ja: '1) Microsoft Entra 管理センター › 保護 › 条件付きアクセス › ネームド ロケーション に送信元 IP を登録し、そこからのアクセスをブロックするポリシーを「オン」にする。2) サインイン ログで対象となった利用者に成功したサインインがないか確認し、あればセッションの取り消しとパスワードのリセットを行う。3) 対象の利用者全員に多要素認証が適用されているか確認する。4) 結果を記録し、m365-audit ledger close <チケット ID> --note "…" で閉じる。',
    en: '1) Add the source address as a named location (Microsoft Entra admin center › Protection › Conditional Access › Named locations) and switch On a policy blocking it. 2) Check the sign-in logs for successful sign-ins of the targeted users; revoke sessions and reset passwords where there are any. 3) Check that MFA applies to all of them. 4) Record the outcome and close it with m365-audit ledger close <ticket id> --note "…".',
  },
  'SIGN-03': {
    ja: '1) 直ちに Microsoft Entra 管理センター › ユーザー › 対象 › 「セッションの取り消し」を行い、パスワードをリセットする。2) 「認証方法」に本人の知らない方法がないか確認し、あれば削除する。3) Exchange の受信トレイ ルール（Get-InboxRule）、OneDrive の共有、最近のサインイン（監視と正常性 › サインイン ログ）に不審な変更がないか確認する。4) 本人に確認のうえ原因と封じ込めを記録し、m365-audit ledger close <チケット ID> --note "…" で閉じる。',
    en: '1) At once, in the Microsoft Entra admin center › Users › the user, choose Revoke sessions and reset the password. 2) Remove any authentication method the user does not recognise. 3) Check inbox rules (Get-InboxRule), OneDrive sharing and recent sign-ins (Monitoring & health › Sign-in logs) for suspicious changes. 4) Record cause and containment with the user and close it with m365-audit ledger close <ticket id> --note "…".',
  },
  'SIGN-04': {
    ja: '1) 本人に出張・休暇など、その国・地域からのサインインの事情を確認する。2) 心当たりがなければ SIGN-03 と同様に、セッションの取り消し・パスワードのリセット・認証方法の確認を行う。3) 業務で国外から使う予定がなければ、Microsoft Entra 管理センター › 保護 › 条件付きアクセス › ネームド ロケーション に許可する国・地域（日本）を登録し、それ以外からのアクセスをブロックするポリシーを「オン」にする。4) 確認結果を記録し、m365-audit ledger close <チケット ID> --note "…" で閉じる。',
    en: '1) Ask the user about the sign-in from that country (a trip, a holiday). 2) If unexplained, act as for SIGN-03: revoke sessions, reset the password, check the authentication methods. 3) If nobody works from abroad, add the allowed countries (Japan) as a named location in the Microsoft Entra admin center › Protection › Conditional Access › Named locations and switch On a policy blocking all other locations. 4) Record the outcome and close it with m365-audit ledger close <ticket id> --note "…".',
  },
  'SIGN-05': {
    ja: '1) 本人が使っているメール クライアント（IMAP・POP・SMTP 認証等）を確認し、先進認証に対応した Outlook 等に切り替える。2) Microsoft 365 管理センター › ユーザー › 対象 › メール › メール アプリの管理 で IMAP・POP を無効にする。3) レガシー認証をブロックする条件付きアクセス ポリシー（MFA-04）を「オン」にする。4) 結果を記録し、m365-audit ledger close <チケット ID> --note "…" で閉じる。',
    en: '1) Find the mail client the user runs over IMAP, POP or SMTP AUTH and move them to a modern-authentication client such as Outlook. 2) In the Microsoft 365 admin center › Users › the user › Mail › Manage email apps, turn IMAP and POP off. 3) Switch On the Conditional Access policy blocking legacy authentication (MFA-04). 4) Record the outcome and close it with m365-audit ledger close <ticket id> --note "…".',
  },
  'FILE-01': {
    ja: '1) 対象のファイル・フォルダーを開き、「アクセス許可の管理」（共有 › アクセス許可の管理）で「リンクを知っていれば誰でも」リンクを削除する。2) 必要な相手には「特定のユーザー」リンクで、期限を付けて共有し直す。3) サイトの外部共有の設定を「新規および既存のゲスト」以下にする（FILE-04）。',
    en: '1) Open the file or folder, go to Share › Manage access and delete the "Anyone with the link" link. 2) Share again with the people who need it through a "Specific people" link with an expiry. 3) Lower the site\'s external sharing to "New and existing guests" or below (FILE-04).',
  },
  'FILE-02': {
    ja: '1) 対象のファイル・フォルダーの「アクセス許可の管理」で、組織外の利用者・ゲストのアクセス権とリンクを削除する。2) 委託先との共有が業務上必要な場合は、申請と承認を得て、期限付きで共有し、記録する（5-9-2）。3) 情報資産の分類 I・II を扱うサイトは、SharePoint 管理センター › サイト › アクティブなサイト › 対象 › 共有 で外部共有を「組織内のユーザーのみ」にする。',
    en: '1) In Manage access of the file or folder, remove the access and links of people outside the organisation and guests. 2) If sharing with a contractor is needed, have it requested and approved, share with an expiry, and record it (5-9-2). 3) For sites holding class I/II content, set external sharing to "Only people in your organization" in the SharePoint admin center › Sites › Active sites › the site › Sharing.',
  },
  'FILE-03': {
    ja: '1) 対象のファイル・フォルダーの「アクセス許可の管理」で「組織内のユーザー」リンクを削除する。2) 職務上必要な人またはグループだけに「特定のユーザー」で共有する。3) SharePoint 管理センター › ポリシー › 共有 で既定のリンクの種類を「特定のユーザー」にする。',
    en: '1) In Manage access of the file or folder, delete the "People in your organization" link. 2) Share with the people or groups whose duties need it through "Specific people". 3) In the SharePoint admin center › Policies › Sharing, make "Specific people" the default link type.',
  },
  'FILE-04': {
    ja: '1) SharePoint 管理センター › ポリシー › 共有 で、SharePoint と OneDrive の外部共有を「新規および既存のゲスト」以下に下げて保存する。2) 既にある「リンクを知っていれば誰でも」リンクは無効になるため、必要な共有は「特定のユーザー」で作り直す。3) 既定のリンクの種類を「特定のユーザー」にする。',
    en: '1) In the SharePoint admin center › Policies › Sharing, lower external sharing for SharePoint and OneDrive to "New and existing guests" or below and save. 2) Existing "Anyone" links stop working: re-share what is needed through "Specific people". 3) Make "Specific people" the default link type.',
  },
  'FILE-05': {
    ja: '1) サイトの所有者と用途を確認する（SharePoint 管理センター › サイト › アクティブなサイト）。2) 使っているサイトなら、ポリシーの files.assets に名称・情報セキュリティ責任者（owner）・URL・分類を登録する。3) 使っていないサイトは削除する。',
    en: '1) Find the site\'s owner and purpose (SharePoint admin center › Sites › Active sites). 2) If it is used, register it in the policy\'s files.assets with its name, owner, URL and class. 3) Delete it if unused.',
  },
  'MFA-05': {
    ja: '1) 本人に FIDO2 セキュリティ キーまたは Microsoft Authenticator のパスキーを配布・登録させる（マイ サインイン › セキュリティ情報）。Windows 端末では Windows Hello for Business でもよい。2) Microsoft Entra 管理センター › 保護 › 認証方法 › ポリシー で「パスキー (FIDO2)」を管理者が使えるよう有効にする。3) 条件付きアクセスで、対象の管理者ロールに認証強度「フィッシングに強い MFA」を要求するポリシーを「オン」にする。4) 登録後、電話（SMS・音声）の方法を外す。',
    en: '1) Give the user a FIDO2 security key or have them register a passkey in Microsoft Authenticator (My Sign-ins › Security info); on Windows devices Windows Hello for Business also does. 2) In the Microsoft Entra admin center › Protection › Authentication methods › Policies, enable "Passkey (FIDO2)" for the administrators. 3) Switch On a Conditional Access policy requiring the "Phishing-resistant MFA" authentication strength for the admin roles. 4) Once registered, remove the phone (SMS, voice) methods.',
  },
  'ACCT-08': {
    ja: '1) Microsoft Entra 管理センター › ID ガバナンス › Privileged Identity Management › Microsoft Entra ロール › 割り当て › アクティブな割り当て で、終了日が「永続」の割り当てを確認する。2) 緊急用アカウント以外は「適格」な割り当てに変更し、アクティブ化に多要素認証・理由・（全体管理者は）承認を要求する。3) グループ経由の場合は、グループのロール割り当てを適格にするか、メンバーを見直す。4) 緊急用アカウントはポリシーの accounts.emergencyAccessAccounts に登録する。',
    en: '1) In the Microsoft Entra admin center › Identity governance › Privileged Identity Management › Microsoft Entra roles › Assignments › Active assignments, find those ending "Permanent". 2) Apart from the emergency-access accounts, convert them to eligible assignments whose activation requires MFA, a justification and (for Global Administrator) approval. 3) For an assignment held through a group, make the group\'s assignment eligible or review its members. 4) List the emergency-access accounts in the policy\'s accounts.emergencyAccessAccounts.',
  },
  'APP-01': {
    ja: '1) Microsoft Entra 管理センター › エンタープライズ アプリケーション で対象アプリを開き、発行元・利用部署・利用目的を確認する。2) 不要なアプリは「アクセス許可」で管理者の同意を取り消し、アプリを削除する。3) 必要なアプリは提供元に最小限のアクセス許可（例: Mail.ReadWrite ではなく特定のメールボックスに限った権限）を求め、情報セキュリティ責任者の承認後に policy の apps.approvedApps へ appId を登録する。4) Exchange の full_access_as_app はアプリケーション アクセス ポリシー等で対象メールボックスを限定する。',
    en: '1) In the Microsoft Entra admin center › Enterprise applications, open the app and confirm its publisher, the department using it and its purpose. 2) If it is not needed, revoke the admin consent under Permissions and delete the app. 3) If it is needed, ask the provider for the least permissions (e.g. access scoped to given mailboxes instead of Mail.ReadWrite) and, once the security officer approves, add its appId to the policy\'s apps.approvedApps. 4) Scope Exchange full_access_as_app to the mailboxes it needs.',
  },
  'APP-02': {
    ja: '1) Microsoft Entra 管理センター › エンタープライズ アプリケーション › 同意とアクセス許可 › ユーザーの同意設定 を開く。2)「ユーザーの同意を許可しない」、または「確認済みの発行元のアプリに対し、選択したアクセス許可に限りユーザーの同意を許可する」を選ぶ。3) 同じ画面の「管理者の同意の設定」で管理者の同意ワークフローを有効にし、レビュー担当者を指定する。4) 既に同意済みのアプリを エンタープライズ アプリケーション › アクセス許可 で点検する。',
    en: '1) Open the Microsoft Entra admin center › Enterprise applications › Consent and permissions › User consent settings. 2) Choose "Do not allow user consent", or "Allow user consent for apps from verified publishers, for selected permissions". 3) Under Admin consent settings, turn on the admin consent workflow and name the reviewers. 4) Review the apps already consented to under Enterprise applications › Permissions.',
  },
};

/** The steps for a rule in a language (the rule's own text for a rule with no entry). */
export function remediationFor(ruleId: RuleId, lang: 'ja' | 'en'): string {
  return REMEDIATION_STEPS[ruleId]?.[lang] ?? ruleById(ruleId)?.remediation[lang] ?? '';
}
