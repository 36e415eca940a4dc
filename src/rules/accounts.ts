/**
 * Account rules — アカウント管理 (standard 5-1, 4-1, 6-1, 7-5), controls.md ACCT-01…08.
 * Endpoints: GET /users ($select incl. signInActivity; User.Read.All, AuditLog.Read.All,
 * User-LifeCycleInfo.Read.All), GET /roleManagement/directory/roleAssignments?$expand=principal
 * (RoleManagement.Read.Directory), roleEligibilitySchedules (RoleEligibilitySchedule.Read.Directory),
 * GET /groups/{id}/transitiveMembers/microsoft.graph.user for groups holding a role
 * (GroupMember.Read.All): ACCT-04 counts distinct principals — each user once however many ways it
 * holds Global Administrator (directly, eligible, through one or more groups), each service
 * principal once (it can use the role as fully as a user), and a group whose members could not
 * be read once (it stands for at least the person it was made for; the slice is then partial).
 * ACCT-08 reads GET /roleManagement/directory/roleAssignmentScheduleInstances?$expand=principal
 * (RoleAssignmentSchedule.Read.Directory least privileged; RoleManagement.Read.Directory covers it;
 * Entra ID P2).
 */
import { GLOBAL_ADMIN_ROLE } from '../config/policy';
import type { DirectoryUser, RoleAssignmentInstance, RoleGroup, Roles } from '../collect/snapshot';
import type { Policy } from '../config/policy';
import { holdingEvidence, roleHolders, roleName, type RoleHolding } from './privileged';
import { daysSince, defineRule, listed, type FindingDraft } from './rule';

const isMember = (u: DirectoryUser): boolean => u.userType.toLowerCase() === 'member';
const isGuest = (u: DirectoryUser): boolean => u.userType.toLowerCase() === 'guest';

/** The sign-in time ACCT-02/06 compare: last successful, else last (interactive) sign-in. */
export function lastSignIn(u: DirectoryUser): string | null {
  return u.lastSuccessfulSignInDateTime ?? u.lastSignInDateTime;
}

function userSubject(u: DirectoryUser): FindingDraft['subject'] {
  return { kind: 'user', id: u.id, name: u.userPrincipalName };
}

function signInEvidence(u: DirectoryUser, now: Date): Record<string, unknown> {
  const last = lastSignIn(u);
  return {
    lastSignIn: last,
    daysSinceLastSignIn: last ? Math.floor(daysSince(last, now)) : null,
    createdDateTime: u.createdDateTime,
    department: u.department,
  };
}

export const sharedAccount = defineRule({
  id: 'ACCT-01',
  clauses: ['5-1-1'],
  kind: 'state',
  severity: 'medium',
  area: 'accounts',
  requires: ['users'],
  title: { ja: '共用アカウントの使用', en: 'Shared account in use' },
  remediation: {
    ja: '利用者ごとに個別の ID を発行し、共用アカウントを無効化してください。やむを得ず使用する場合は、情報セキュリティ責任者が理由と範囲を明確にし、例外措置として登録してください。',
    en: 'Issue a personal ID to each user and disable the shared account. If it is unavoidable, the department security officer must define its reason and scope and register it as an exception.',
  },
  evaluate: ({ users }, { policy }) => {
    const patterns = policy.accounts.sharedAccountPatterns.map((p) => new RegExp(p, 'i'));
    return users
      .filter((u) => u.accountEnabled && isMember(u))
      .flatMap((u) => {
        const local = u.userPrincipalName.split('@')[0] ?? '';
        const pattern = patterns.find((p) => p.test(local));
        const marker = ['共用', '共有アカウント'].find((m) => u.displayName.includes(m));
        if (!pattern && !marker) return [];
        return [{
          subject: userSubject(u),
          evidence: {
            displayName: u.displayName,
            ...(pattern ? { matchedPattern: pattern.source } : {}),
            ...(marker ? { displayNameContains: marker } : {}),
            department: u.department,
          },
        }];
      });
  },
});

export const inactiveMember = defineRule({
  id: 'ACCT-02',
  clauses: ['4-1-2'],
  kind: 'state',
  severity: 'medium',
  area: 'accounts',
  // signInActivity: last sign-in times exist only with Entra ID P1; without it the rule is not evaluated.
  requires: ['users', 'signInActivity'],
  title: { ja: '長期間利用されていないアカウント', en: 'Account not used for a long time' },
  remediation: {
    ja: '異動・退職等で不要になったアカウントか確認し、不要であれば無効化・削除してください。必要なアカウントは利用者に利用状況を確認してください。',
    en: 'Check whether the account is no longer needed after a transfer or departure; disable or delete it if so. For accounts still needed, confirm the usage with the user.',
  },
  // Iterates the signInActivity slice, not `users`: read incrementally it holds only the users
  // that could be flagged, and one absent from it signed in recently (collect/identity.ts).
  evaluate: ({ signInActivity }, { policy, now }) => {
    const limit = policy.accounts.inactiveDays;
    return signInActivity
      .filter((u) => u.accountEnabled && isMember(u))
      .filter((u) => !listed(policy.accounts.emergencyAccessAccounts, u.userPrincipalName, u.id))
      .filter((u) => {
        const last = lastSignIn(u);
        if (last) return daysSince(last, now) > limit;
        return u.createdDateTime !== null && daysSince(u.createdDateTime, now) > limit;
      })
      .map((u) => ({ subject: userSubject(u), evidence: { ...signInEvidence(u, now), inactiveDays: limit } }));
  },
});

export const leaverEnabled = defineRule({
  id: 'ACCT-03',
  clauses: ['4-1-2'],
  kind: 'state',
  severity: 'high',
  area: 'accounts',
  requires: ['users'],
  title: { ja: '退職日を過ぎても有効なアカウント', en: 'Account still enabled after the leave date' },
  remediation: {
    ja: '退職・離任日を過ぎたアカウントを速やかに無効化し、付与されていた権限を削除してください。',
    en: 'Disable the account of a person past their leave date at once and remove the permissions it held.',
  },
  evaluate: ({ users }, { now }) =>
    users
      .filter((u) => u.accountEnabled && u.employeeLeaveDateTime !== null && Date.parse(u.employeeLeaveDateTime) < now.getTime())
      .map((u) => ({
        subject: userSubject(u),
        evidence: { employeeLeaveDateTime: u.employeeLeaveDateTime, userType: u.userType, department: u.department },
      })),
});

export const tooManyGlobalAdmins = defineRule({
  id: 'ACCT-04',
  clauses: ['5-1-4'],
  kind: 'state',
  severity: 'medium',
  area: 'roles',
  requires: ['roles'],
  title: { ja: '全体管理者が多すぎる', en: 'Too many Global Administrators' },
  remediation: {
    ja: '全体管理者は必要最小限とし、日常業務には権限を限定した管理者ロールを割り当ててください。付与・変更・削除は記録してください。',
    en: 'Keep Global Administrators to the minimum and assign narrower admin roles for daily work. Record every grant, change and removal.',
  },
  evaluate: ({ roles }, { policy, tenantId }) => {
    const holders = [...roleHolders(roles, [GLOBAL_ADMIN_ROLE]).values()];
    if (holders.length <= policy.accounts.maxGlobalAdmins) return [];
    return [{
      subject: { kind: 'tenant', id: tenantId, name: tenantId },
      evidence: {
        count: holders.length,
        maxGlobalAdmins: policy.accounts.maxGlobalAdmins,
        eligibleChecked: roles.eligibility !== null,
        holders: holders.map((h) => {
          const groups = [...new Map(h.roles.flatMap((r) => (r.group ? [[r.group.id, r.group] as const] : []))).values()];
          return {
            id: h.principalId,
            name: h.principalName,
            type: h.principalType,
            via: [...new Set(h.roles.map((r) => r.via))],
            // Whether the user also holds it directly shows in `direct`; each group it holds it through is named.
            ...(groups.length ? { groups: groups.map((g) => ({ id: g.id, displayName: g.displayName })), direct: h.roles.some((r) => !r.group) } : {}),
            ...(h.membersUnknown ? { membersUnknown: true } : {}),
          };
        }),
      },
    }];
  },
});

export const guestPrivileged = defineRule({
  id: 'ACCT-05',
  clauses: ['5-1-4', '5-2-1'],
  kind: 'state',
  severity: 'high',
  area: 'roles',
  requires: ['roles', 'users'],
  title: { ja: 'ゲストへの特権ロール付与', en: 'Guest holds a privileged role' },
  remediation: {
    ja: 'ゲスト（外部利用者）から特権ロールを削除してください。委託先の作業に必要な場合は、組織のアカウントを発行し、作業期間に限って付与してください。',
    en: 'Remove the privileged role from the guest. If a contractor needs it, issue an organisational account and grant the role only for the work period.',
  },
  evaluate: ({ roles, users }, { policy }) => {
    const byId = new Map(users.map((u) => [u.id, u]));
    return [...roleHolders(roles, policy.accounts.privilegedRoles).values()].flatMap((h) => {
      const user = byId.get(h.principalId);
      const userType = user?.userType ?? h.principalUserType;
      if (!userType || userType.toLowerCase() !== 'guest') return [];
      return [{
        subject: { kind: 'user' as const, id: h.principalId, name: user?.userPrincipalName ?? h.principalName ?? h.principalId },
        evidence: { roles: h.roles.map((r) => holdingEvidence(r)) },
      }];
    });
  },
});

export const inactiveGuest = defineRule({
  id: 'ACCT-06',
  clauses: ['7-5-1', '6-1-4'],
  kind: 'state',
  severity: 'medium',
  area: 'accounts',
  // signInActivity: last sign-in times exist only with Entra ID P1; without it the rule is not evaluated.
  requires: ['users', 'signInActivity'],
  title: { ja: '利用されていないゲストアカウント', en: 'Guest account not in use' },
  remediation: {
    ja: '委託・共同作業が終了したゲストを削除してください。継続して必要な場合は、招待元の部門に利用目的と期間を確認してください。',
    en: 'Remove guests whose contract or collaboration has ended. If still needed, confirm the purpose and period with the inviting department.',
  },
  // The signInActivity slice, as ACCT-02 (an incremental read holds only the candidates).
  evaluate: ({ signInActivity }, { policy, now }) => {
    const { guestInactiveDays, guestGraceDays } = policy.accounts;
    return signInActivity
      .filter((u) => u.accountEnabled && isGuest(u))
      .filter((u) => {
        const last = lastSignIn(u);
        if (last) return daysSince(last, now) > guestInactiveDays;
        return u.createdDateTime !== null && daysSince(u.createdDateTime, now) > guestGraceDays;
      })
      .map((u) => ({
        subject: userSubject(u),
        evidence: { ...signInEvidence(u, now), externalUserState: u.externalUserState, mail: u.mail, guestInactiveDays, guestGraceDays },
      }));
  },
});

export const weakPasswordAllowed = defineRule({
  id: 'ACCT-07',
  clauses: ['5-1-2'],
  kind: 'state',
  severity: 'medium',
  area: 'accounts',
  requires: ['users'],
  title: { ja: '強力なパスワードの要件が無効', en: 'Strong password requirement disabled' },
  remediation: {
    ja: 'passwordPolicies から DisableStrongPassword を外し、推測困難なパスワードを設定させてください。',
    en: 'Remove DisableStrongPassword from passwordPolicies and have the user set a password that is hard to guess.',
  },
  evaluate: ({ users }) =>
    users
      .filter((u) => u.accountEnabled && (u.passwordPolicies ?? '').split(',').some((p) => p.trim().toLowerCase() === 'disablestrongpassword'))
      .map((u) => ({ subject: userSubject(u), evidence: { passwordPolicies: u.passwordPolicies, userType: u.userType } })),
});

/** A permanent active assignment: `Assigned` (not `Activated` from eligibility) and no end. */
export function isPermanent(i: RoleAssignmentInstance): boolean {
  return (i.assignmentType ?? '').toLowerCase() === 'assigned' && i.endDateTime === null;
}

type Acct08Input = { roleAssignmentInstances: RoleAssignmentInstance[]; roles: Roles; users: DirectoryUser[] };

interface StandingHolder {
  id: string;
  name: string;
  user: DirectoryUser | undefined;
  holdings: RoleHolding[];
}

/**
 * Users holding a `accounts.standingAccessRoles` role permanently, and what could not be decided.
 * A group principal stands for its members, as everywhere roles are held through groups
 * (privileged.ts): its user members (read by the roles collector, `roles.groups`) are reported,
 * each naming the group; a group whose members are unknown is not decided. Service principals are
 * no users (APP-01 covers outside apps). Emergency-access accounts are expected to hold Global
 * Administrator permanently (Microsoft: "Manage emergency access accounts").
 */
function standingHolders({ roleAssignmentInstances, roles, users }: Acct08Input, policy: Policy): { holders: StandingHolder[]; undecided: string[] } {
  const wanted = new Set(policy.accounts.standingAccessRoles.map((r) => r.toLowerCase()));
  const byId = new Map(users.map((u) => [u.id.toLowerCase(), u]));
  const groups = new Map<string, RoleGroup>((roles.groups ?? []).map((g) => [g.id.toLowerCase(), g]));
  // What the roles slice knows of a principal the instances list did not expand.
  const knownType = new Map<string, string>();
  for (const a of [...roles.assignments, ...(roles.eligibility ?? [])]) {
    if (a.principalType && a.principalType !== 'unknown') knownType.set(a.principalId.toLowerCase(), a.principalType);
  }
  const holders = new Map<string, StandingHolder>();
  const undecided: string[] = [];
  const hold = (id: string, name: string, holding: RoleHolding): void => {
    const user = byId.get(id.toLowerCase());
    if (listed(policy.accounts.emergencyAccessAccounts, user?.userPrincipalName ?? name, id)) return;
    const h = holders.get(id.toLowerCase()) ?? { id, name: user?.userPrincipalName ?? name, user, holdings: [] };
    if (!h.holdings.some((x) => x.roleId === holding.roleId && x.scope === holding.scope && x.group?.id === holding.group?.id)) h.holdings.push(holding);
    holders.set(id.toLowerCase(), h);
  };
  for (const i of roleAssignmentInstances) {
    if (!wanted.has(i.roleDefinitionId.toLowerCase()) || !isPermanent(i)) continue;
    const holding: RoleHolding = { roleId: i.roleDefinitionId, roleName: roleName(i.roleDefinitionId), via: 'active', scope: i.directoryScopeId };
    const key = i.principalId.toLowerCase();
    const group = groups.get(key);
    const type = (i.principalType ?? knownType.get(key) ?? (group ? 'group' : byId.has(key) ? 'user' : 'unknown')).toLowerCase();
    if (type === 'group') {
      const label = `group ${group?.displayName ?? i.principalName ?? i.principalId}`;
      if (!group || group.members === null) {
        undecided.push(`${label} (${i.principalId}): permanent ${holding.roleName}, members unknown`);
        continue;
      }
      for (const m of group.members) hold(m.id, m.userPrincipalName ?? m.id, { ...holding, group: { id: group.id, displayName: group.displayName } });
    } else if (type === 'user') {
      hold(i.principalId, i.principalName ?? i.principalId, holding);
    } else if (type === 'unknown') {
      undecided.push(`principal ${i.principalId}: permanent ${holding.roleName}, type unknown (neither a user of the tenant nor a known group)`);
    }
  }
  return { holders: [...holders.values()], undecided };
}

export const standingPrivilegedAccess = defineRule({
  id: 'ACCT-08',
  clauses: ['5-1-4'],
  kind: 'state',
  severity: 'medium',
  area: 'roles',
  requires: ['roleAssignmentInstances', 'roles', 'users'],
  title: { ja: '特権ロールの無期限アクティブ割り当て（常時特権）', en: 'Permanent active assignment of a privileged role (standing access)' },
  remediation: {
    ja: '緊急用アカウント以外の無期限のアクティブ割り当てを、Privileged Identity Management（PIM）の適格割り当てに切り替え、必要なときだけ期限付きでアクティブ化させてください。',
    en: 'Apart from the emergency-access accounts, turn permanent active assignments into Privileged Identity Management (PIM) eligible assignments, activated only when needed and for a limited time.',
  },
  evaluate: (input, { policy }) =>
    standingHolders(input, policy).holders.map((h) => ({
      subject: { kind: 'user' as const, id: h.id, name: h.name },
      evidence: {
        roles: h.holdings.map((r) => holdingEvidence(r)),
        endDateTime: null,
        ...(h.user && !h.user.accountEnabled ? { accountEnabled: false } : {}),
      },
    })),
  undecided: (input, { policy }) => standingHolders(input, policy).undecided,
});

export const ACCOUNT_RULES = [sharedAccount, inactiveMember, leaverEnabled, tooManyGlobalAdmins, guestPrivileged, inactiveGuest, weakPasswordAllowed, standingPrivilegedAccess];
