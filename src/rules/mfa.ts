/**
 * MFA rules — 多要素認証 (standard 5-1-3, 5-4-4, 6-2-2), controls.md MFA-01…05.
 * Endpoints: GET /reports/authenticationMethods/userRegistrationDetails (AuditLog.Read.All,
 * Entra ID P1), roleAssignments / roleEligibilitySchedules and, for groups holding a role,
 * GET /groups/{id}/transitiveMembers/microsoft.graph.user (GroupMember.Read.All), GET /users,
 * GET /policies/identitySecurityDefaultsEnforcementPolicy and
 * GET /identity/conditionalAccess/policies (Policy.Read.All).
 */
import type { ConditionalAccessPolicy, DirectoryUser, MfaRegistration, Roles } from '../collect/snapshot';
import type { Policy } from '../config/policy';
import { holdingEvidence, roleHolders, type Holder } from './privileged';
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

/**
 * How MFA-05 classes each `methodsRegistered` value (compared case-insensitively). The resource
 * page ("userRegistrationDetails resource type", v1.0) gives only examples (`mobilePhone`,
 * `email`, `fido2`) and the metadata a string collection; the values below are the report's
 * vocabulary as the docs list it elsewhere (userSignInUsageByAuthMethodActivity's
 * authenticationMethod, which shares it) and as the report writes it. Phishing-resistant, as
 * Microsoft's built-in "Phishing-resistant MFA" authentication strength counts them: passkeys /
 * FIDO2 (device-bound, in Authenticator, in Windows Hello, synced), Windows Hello for Business,
 * platform credential for macOS (Secure Enclave key) and multifactor certificate-based
 * authentication.
 */
export const PHISHING_RESISTANT_METHODS = [
  'fido2', 'fido2SecurityKey', 'passKeyDeviceBound', 'passKeyDeviceBoundAuthenticator', 'passKeyDeviceBoundWindowsHello',
  'passKeySynced', 'windowsHelloForBusiness', 'macOsSecureEnclaveKey', 'x509CertificateMultiFactor',
] as const;

/** Values that are MFA (or sign-in) methods but can be phished: phone, Authenticator push / phone sign-in, OTP, TAP, e-mail, QR code. */
export const PHISHABLE_METHODS = [
  'mobilePhone', 'alternateMobilePhone', 'officePhone', 'sms', 'email', 'securityQuestion', 'microsoftAuthenticatorPush',
  'microsoftAuthenticatorPasswordless', 'softwareOneTimePasscode', 'hardwareOneTimePasscode', 'oneTimePasscode',
  'temporaryAccessPass', 'qrCode', 'appPassword', 'x509CertificateSingleFactor',
] as const;

/**
 * Any other value — `certificateBasedAuthentication` (single- or multifactor not said),
 * `externalAuthMethod` (the outside provider decides), one added after this list — cannot be
 * classed: a holder who has one and no known phishing-resistant method is not decided.
 */
export type MethodClass = 'phishingResistant' | 'phishable' | 'unknown';

const RESISTANT = new Set(PHISHING_RESISTANT_METHODS.map((m) => m.toLowerCase()));
const PHISHABLE = new Set(PHISHABLE_METHODS.map((m) => m.toLowerCase()));

export function methodClass(method: string): MethodClass {
  const m = method.trim().toLowerCase();
  return RESISTANT.has(m) ? 'phishingResistant' : PHISHABLE.has(m) ? 'phishable' : 'unknown';
}

type Mfa05Input = { roles: Roles; mfaRegistration: MfaRegistration[]; users: DirectoryUser[] };

/** Each holder of a `mfa.phishingResistantRoles` role that may be a person, and what decides it. */
interface Mfa05Case {
  holder: Holder;
  name: string;
  outcome: 'finding' | 'undecided' | 'pass';
  reason?: string;
  reg?: MfaRegistration;
}

function mfa05Cases({ roles, mfaRegistration, users }: Mfa05Input, policy: Policy): Mfa05Case[] {
  const registration = new Map(mfaRegistration.map((r) => [r.id.toLowerCase(), r]));
  const byId = new Map(users.map((u) => [u.id.toLowerCase(), u]));
  return [...roleHolders(roles, policy.mfa.phishingResistantRoles).values()].flatMap((holder): Mfa05Case[] => {
    // A group whose members are unknown leaves the roles slice partial (its coverage says so);
    // service principals register no methods.
    if (!['user', 'unknown'].includes(holder.principalType.toLowerCase()) || holder.membersUnknown) return [];
    const user = byId.get(holder.principalId.toLowerCase());
    const reg = registration.get(holder.principalId.toLowerCase());
    const name = user?.userPrincipalName ?? reg?.userPrincipalName ?? holder.principalName ?? holder.principalId;
    // Disabled: cannot sign in, and the report leaves disabled users out.
    if (user && !user.accountEnabled) return [];
    if (!reg) {
      // An unexpanded principal that is no user of the tenant: a service principal (no record).
      if (!user && holder.principalType.toLowerCase() === 'unknown') return [];
      return [{ holder, name, outcome: 'undecided' as const, reason: 'no registration record read' }];
    }
    // Not registered at all: MFA-01 / MFA-02's finding, not this one.
    if (!reg.isMfaRegistered) return [];
    if (reg.methodsRegistered === undefined) {
      return [{ holder, name, outcome: 'undecided' as const, reason: 'methodsRegistered not in the snapshot (written before it was kept)' }];
    }
    const classes = reg.methodsRegistered.map(methodClass);
    if (classes.includes('phishingResistant')) return [{ holder, name, outcome: 'pass' as const }];
    const unknown = reg.methodsRegistered.filter((m) => methodClass(m) === 'unknown');
    if (unknown.length) {
      return [{ holder, name, outcome: 'undecided' as const, reason: `method(s) ${unknown.join(', ')} not classed as phishing-resistant or not` }];
    }
    return [{ holder, name, outcome: 'finding' as const, reg }];
  });
}

export const privilegedWithoutPhishingResistantMfa = defineRule({
  id: 'MFA-05',
  clauses: ['5-1-3'],
  kind: 'state',
  severity: 'high',
  area: 'mfa',
  requires: ['roles', 'mfaRegistration', 'users'],
  title: { ja: '管理者にフィッシング耐性のある多要素認証が未登録', en: 'Administrator without phishing-resistant MFA' },
  remediation: {
    ja: '管理者ロールを持つ利用者に、パスキー（FIDO2 セキュリティキー、Microsoft Authenticator のパスキー）、Windows Hello for Business または証明書ベース認証（多要素）を登録させ、条件付きアクセスの認証強度「フィッシングに強い MFA」を管理者ロールに要求してください。',
    en: 'Have the administrator register a passkey (FIDO2 security key or a passkey in Microsoft Authenticator), Windows Hello for Business or multifactor certificate-based authentication, and require the "Phishing-resistant MFA" authentication strength for admin roles in Conditional Access.',
  },
  evaluate: (input, { policy }) =>
    mfa05Cases(input, policy).flatMap((c) =>
      c.outcome === 'finding' && c.reg
        ? [{
            subject: { kind: 'user' as const, id: c.holder.principalId, name: c.name },
            evidence: {
              isMfaRegistered: true,
              methodsRegistered: c.reg.methodsRegistered ?? [],
              roles: c.holder.roles.map((r) => holdingEvidence(r, false)),
            },
          }]
        : [],
    ),
  undecided: (input, { policy }) =>
    mfa05Cases(input, policy).flatMap((c) => (c.outcome === 'undecided' ? [`${c.name} (${c.reason})`] : [])),
});

export const MFA_RULES = [privilegedWithoutMfa, memberWithoutMfa, noMfaPolicy, legacyAuthNotBlocked, privilegedWithoutPhishingResistantMfa];
