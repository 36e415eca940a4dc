/**
 * MFA rules — 多要素認証 (standard 5-1-3, 5-4-4, 6-2-2), controls.md MFA-01…04.
 * Endpoints: GET /reports/authenticationMethods/userRegistrationDetails (AuditLog.Read.All,
 * Entra ID P1), roleAssignments / roleEligibilitySchedules and, for groups holding a role,
 * GET /groups/{id}/transitiveMembers/microsoft.graph.user (GroupMember.Read.All), GET /users,
 * GET /policies/identitySecurityDefaultsEnforcementPolicy and
 * GET /identity/conditionalAccess/policies (Policy.Read.All).
 */
import type { ConditionalAccessPolicy } from '../collect/snapshot';
import { holdingEvidence, roleHolders } from './privileged';
import { defineRule, listed } from './rule';

const has = (list: readonly string[], value: string): boolean => list.some((v) => v.toLowerCase() === value.toLowerCase());

/** Report-only (`enabledForReportingButNotEnforced`) and disabled policies protect nothing. */
const enabled = (p: ConditionalAccessPolicy): boolean => p.state === 'enabled';

export const privilegedWithoutMfa = defineRule({
  id: 'MFA-01',
  clauses: ['5-1-3'],
  kind: 'state',
  severity: 'critical',
  area: 'mfa',
  requires: ['roles', 'mfaRegistration', 'users'],
  title: { ja: '特権 ID に多要素認証が未登録', en: 'Privileged user without MFA registered' },
  remediation: {
    ja: '特権ロールを持つ利用者に直ちに多要素認証（Microsoft Authenticator 等）を登録させ、登録が済むまで特権ロールの利用を停止してください。',
    en: 'Have the privileged user register MFA (e.g. Microsoft Authenticator) at once, and suspend use of the role until they have.',
  },
  evaluate: ({ roles, mfaRegistration, users }, { policy }) => {
    const registration = new Map(mfaRegistration.map((r) => [r.id, r]));
    const byId = new Map(users.map((u) => [u.id, u]));
    return [...roleHolders(roles, policy.accounts.privilegedRoles).values()].flatMap((h) => {
      const reg = registration.get(h.principalId);
      // Only a registration record saying "not registered" fires: groups and service principals
      // have none, and the report omits disabled users.
      if (!reg || reg.isMfaRegistered) return [];
      const user = byId.get(h.principalId);
      return [{
        subject: { kind: 'user' as const, id: h.principalId, name: user?.userPrincipalName ?? (reg.userPrincipalName || h.principalId) },
        evidence: { isMfaRegistered: false, roles: h.roles.map((r) => holdingEvidence(r, false)) },
      }];
    });
  },
});

export const memberWithoutMfa = defineRule({
  id: 'MFA-02',
  clauses: ['5-1-3', '6-2-2'],
  kind: 'state',
  severity: 'high',
  area: 'mfa',
  requires: ['users', 'mfaRegistration', 'roles'],
  // Roles only hand privileged users to MFA-01: with eligibility unreadable (no Entra ID P2) a
  // finding can still only disappear because the user registered, left, or is known privileged
  // (then MFA-01 has it), so complete users and registration suffice to resolve.
  resolvesOn: ['users', 'mfaRegistration'],
  title: { ja: '多要素認証が未登録の職員', en: 'Member without MFA registered' },
  remediation: {
    ja: '利用者に多要素認証を登録させてください。クラウドサービスの利用には多要素認証を必須とし、条件付きアクセスで登録を強制してください。',
    en: 'Have the user register MFA. Require MFA for cloud services and enforce registration with Conditional Access.',
  },
  evaluate: ({ users, mfaRegistration, roles }, { policy }) => {
    const registration = new Map(mfaRegistration.map((r) => [r.id, r]));
    const privileged = roleHolders(roles, policy.accounts.privilegedRoles);
    return users
      .filter((u) => u.accountEnabled && u.userType.toLowerCase() === 'member')
      .filter((u) => !listed(policy.accounts.emergencyAccessAccounts, u.userPrincipalName, u.id))
      // A privileged holder without MFA is MFA-01's (critical), never reported twice.
      .filter((u) => !privileged.has(u.id))
      .filter((u) => registration.get(u.id)?.isMfaRegistered === false)
      .map((u) => ({ subject: { kind: 'user' as const, id: u.id, name: u.userPrincipalName }, evidence: { isMfaRegistered: false, department: u.department } }));
  },
});

export const noMfaPolicy = defineRule({
  id: 'MFA-03',
  clauses: ['5-1-3'],
  kind: 'state',
  severity: 'critical',
  area: 'mfa',
  requires: ['securityDefaults', 'conditionalAccess'],
  title: { ja: '全利用者に多要素認証を要求する設定がない', en: 'No policy requires MFA for all users' },
  remediation: {
    ja: '全利用者・全アプリを対象に多要素認証を要求する条件付きアクセスポリシーを「オン」で作成してください（レポート専用では保護されません）。緊急用アカウントは除外し、別途監視してください。',
    en: 'Create a Conditional Access policy requiring MFA for all users and all apps, switched On (report-only protects nothing). Exclude the emergency-access accounts and monitor them separately.',
  },
  evaluate: ({ securityDefaults, conditionalAccess }, { tenantId }) => {
    if (securityDefaults.isEnabled) return [];
    const covering = conditionalAccess.filter(
      (p) => enabled(p) && has(p.includeUsers, 'All') && has(p.includeApplications, 'All') && (has(p.builtInControls, 'mfa') || p.hasAuthenticationStrength),
    );
    if (covering.length) return [];
    return [{
      subject: { kind: 'tenant' as const, id: tenantId, name: tenantId },
      evidence: {
        securityDefaultsEnabled: false,
        mfaPolicies: conditionalAccess
          .filter((p) => has(p.builtInControls, 'mfa') || p.hasAuthenticationStrength)
          .map((p) => ({ name: p.displayName, state: p.state, includeUsers: p.includeUsers, includeApplications: p.includeApplications })),
      },
    }];
  },
});

export const legacyAuthNotBlocked = defineRule({
  id: 'MFA-04',
  clauses: ['5-4-4'],
  kind: 'state',
  severity: 'high',
  area: 'mfa',
  requires: ['securityDefaults', 'conditionalAccess'],
  title: { ja: 'レガシー認証がブロックされていない', en: 'Legacy authentication is not blocked' },
  remediation: {
    ja: 'クライアントアプリ「Exchange ActiveSync」と「その他のクライアント」を対象にアクセスをブロックする条件付きアクセスポリシーを「オン」で作成してください。',
    en: 'Create a Conditional Access policy, switched On, that blocks the client apps "Exchange ActiveSync" and "Other clients".',
  },
  evaluate: ({ securityDefaults, conditionalAccess }, { tenantId }) => {
    if (securityDefaults.isEnabled) return [];
    const blocking = conditionalAccess.filter(
      (p) => enabled(p) && has(p.clientAppTypes, 'exchangeActiveSync') && has(p.clientAppTypes, 'other') && has(p.builtInControls, 'block'),
    );
    if (blocking.length) return [];
    return [{
      subject: { kind: 'tenant' as const, id: tenantId, name: tenantId },
      evidence: {
        securityDefaultsEnabled: false,
        blockPolicies: conditionalAccess
          .filter((p) => has(p.builtInControls, 'block'))
          .map((p) => ({ name: p.displayName, state: p.state, clientAppTypes: p.clientAppTypes })),
      },
    }];
  },
});

export const MFA_RULES = [privilegedWithoutMfa, memberWithoutMfa, noMfaPolicy, legacyAuthNotBlocked];
