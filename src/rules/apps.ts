/**
 * App-consent rules — インターネットの利用制限 / クラウドサービスの利用 (standard 5-10, 6-2),
 * controls.md APP-01, APP-02. Endpoints: GET /servicePrincipals,
 * /servicePrincipals/{id}/appRoleAssignments (Application.Read.All), /oauth2PermissionGrants
 * (Directory.Read.All), /policies/authorizationPolicy (Policy.Read.All).
 *
 * APP-01: the collector keeps only foreign apps (collect/apps.ts `isForeign`: owner tenant known,
 * neither the tenant nor Microsoft's); the rule checks the owner again, so a snapshot from
 * elsewhere cannot slip a Microsoft app in. Permissions are matched against
 * `apps.highRiskPermissions` case-insensitively on the whole value, `*` standing for any run of
 * characters. Critical when an *application* permission reaches mail or files (Mail.*,
 * MailboxSettings.*, Files.*, Sites.*, Exchange full_access_as_app): the app reads every mailbox
 * or site with no user present. Delegated grants act only as a signed-in user: high.
 *
 * APP-02: "Get authorizationPolicy" / "authorizationPolicy resource type" (v1.0):
 * `defaultUserRolePermissions.permissionGrantPoliciesAssigned` names the permission grant
 * policies that govern user consent. `ManagePermissionGrantsForSelf.microsoft-user-default-legacy`
 * lets users consent to any app for any delegated permission (the legacy setting);
 * `…microsoft-user-default-low` (verified publishers, low-impact permissions) and an empty list
 * (no user consent) do not fire. Compared case-insensitively: the ids are Entra's, and Graph
 * does not promise their case.
 */
import { isForeign } from '../collect/apps';
import type { AppPermission } from '../collect/snapshot';
import { defineRule, listed } from './rule';

/** A permission pattern (`Files.*.All`) as a whole-value, case-insensitive RegExp. */
export function permissionPattern(pattern: string): RegExp {
  const body = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  return new RegExp(`^${body}$`, 'i');
}

/** Application permissions to mail or files: APP-01 is critical for these. */
const MAIL_OR_FILES = ['Mail.*', 'MailboxSettings.*', 'Files.*', 'Sites.*', 'full_access_as_app'].map(permissionPattern);

function describePermission(p: AppPermission) {
  return { type: p.type, value: p.value, resource: p.resourceName ?? p.resourceId };
}

/** The permission grant policy assignment that lets every user consent to any app. */
export const LEGACY_USER_CONSENT = 'ManagePermissionGrantsForSelf.microsoft-user-default-legacy';

export const userConsentToAnyApp = defineRule({
  id: 'APP-02',
  clauses: ['5-10-2', '6-2-1'],
  kind: 'state',
  severity: 'high',
  area: 'apps',
  requires: ['authorizationPolicy'],
  title: { ja: '利用者が任意のアプリに同意できる', en: 'Users may consent to any app' },
  remediation: {
    ja: 'Microsoft Entra 管理センター › エンタープライズ アプリケーション › 同意とアクセス許可 › ユーザーの同意設定 で「ユーザーの同意を許可しない」または「確認済みの発行元のアプリに対し、選択したアクセス許可に限りユーザーの同意を許可する」を選び、管理者の同意ワークフローを有効にしてください。',
    en: 'In the Microsoft Entra admin center › Enterprise applications › Consent and permissions › User consent settings, choose "Do not allow user consent" or "Allow user consent for apps from verified publishers, for selected permissions", and turn on the admin consent workflow.',
  },
  evaluate: ({ authorizationPolicy }, { tenantId }) => {
    const assigned = authorizationPolicy.permissionGrantPoliciesAssigned;
    if (!assigned.some((p) => p.trim().toLowerCase() === LEGACY_USER_CONSENT.toLowerCase())) return [];
    return [{
      subject: { kind: 'tenant' as const, id: tenantId, name: tenantId },
      evidence: { permissionGrantPoliciesAssigned: assigned },
    }];
  },
});

export const outsideAppHighRiskPermission = defineRule({
  id: 'APP-01',
  clauses: ['6-2-2', '5-10-3'],
  kind: 'state',
  severity: 'high',
  area: 'apps',
  requires: ['appGrants'],
  title: { ja: '外部組織のアプリに高リスクのアクセス許可がある', en: 'An outside app holds a high-risk permission' },
  remediation: {
    ja: 'アプリの利用目的と提供元を確認してください。不要なら Microsoft Entra 管理センター › エンタープライズ アプリケーション › 対象アプリ › アクセス許可 で同意を取り消すか、アプリを削除してください。業務で必要なら最小限のアクセス許可に絞り、承認のうえ apps.approvedApps に appId を登録してください。',
    en: 'Confirm what the app is for and who provides it. If it is not needed, revoke its consent (Microsoft Entra admin center › Enterprise applications › the app › Permissions) or delete it. If it is needed, narrow it to the least permissions and, once approved, add its appId to apps.approvedApps.',
  },
  evaluate: ({ appGrants }, { policy, tenantId }) => {
    const risky = policy.apps.highRiskPermissions.map(permissionPattern);
    return appGrants.apps
      .filter((a) => isForeign(a.appOwnerOrganizationId, tenantId))
      .filter((a) => !listed(policy.apps.approvedApps, a.appId))
      .flatMap((a) => {
        const offending = a.permissions.filter((p) => risky.some((re) => re.test(p.value)));
        if (!offending.length) return [];
        const critical = offending.some((p) => p.type === 'application' && MAIL_OR_FILES.some((re) => re.test(p.value)));
        return [{
          subject: { kind: 'servicePrincipal' as const, id: a.id, name: a.displayName ?? a.appId },
          severity: critical ? ('critical' as const) : ('high' as const),
          evidence: { appId: a.appId, appOwnerOrganizationId: a.appOwnerOrganizationId, highRiskPermissions: offending.map(describePermission) },
        }];
      });
  },
});

export const APP_RULES = [outsideAppHighRiskPermission, userConsentToAnyApp];
