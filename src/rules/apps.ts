/**
 * App-consent rules — インターネットの利用制限 / クラウドサービスの利用 (standard 5-10, 6-2),
 * controls.md APP-02. Endpoint: GET /policies/authorizationPolicy (Policy.Read.All).
 *
 * APP-02: "Get authorizationPolicy" / "authorizationPolicy resource type" (v1.0):
 * `defaultUserRolePermissions.permissionGrantPoliciesAssigned` names the permission grant
 * policies that govern user consent. `ManagePermissionGrantsForSelf.microsoft-user-default-legacy`
 * lets users consent to any app for any delegated permission (the legacy setting);
 * `…microsoft-user-default-low` (verified publishers, low-impact permissions) and an empty list
 * (no user consent) do not fire. Compared case-insensitively: the ids are Entra's, and Graph
 * does not promise their case.
 */
import { defineRule } from './rule';

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

export const APP_RULES = [userConsentToAnyApp];
