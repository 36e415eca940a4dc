/**
 * Who holds which privileged role, active or eligible: shared by ACCT-04/05 and MFA-01/02.
 * A role-assignable group holding a role passes it to each of its (transitive) user members:
 * they are the holders, counted once each however many ways they hold it.
 */
import { DEFAULT_PRIVILEGED_ROLES, OTHER_ROLE_NAMES } from '../config/policy';
import type { RoleGroup, Roles } from '../collect/snapshot';

export interface RoleHolding {
  roleId: string;
  roleName: string;
  /** `active` (roleAssignments) or `eligible` (PIM roleEligibilitySchedules). */
  via: 'active' | 'eligible';
  scope: string;
  /** The group the role is held through, when it is not held directly. */
  group?: { id: string; displayName: string | null };
}

export interface Holder {
  principalId: string;
  principalType: string;
  principalName: string | null;
  principalUserType: string | null;
  roles: RoleHolding[];
  /**
   * Set on a group holder whose members could not be read (the roles slice is partial): the
   * group stands in for its unknown members.
   */
  membersUnknown?: true;
}

/** The display name of a role template id (the default list's names; else the id). */
export function roleName(roleId: string): string {
  return DEFAULT_PRIVILEGED_ROLES[roleId.toLowerCase()] ?? OTHER_ROLE_NAMES[roleId.toLowerCase()] ?? roleId;
}

/**
 * Principals holding any of `roleIds`, active or eligible (eligible only where PIM data was
 * readable), keyed by principal id. A group principal whose members were read is replaced by its
 * user members (each holding carries `group`); one whose members are unknown stays as a holder
 * of type `group` with `membersUnknown`.
 */
export function roleHolders(roles: Roles, roleIds: readonly string[]): Map<string, Holder> {
  const wanted = new Set(roleIds.map((r) => r.toLowerCase()));
  const groups = new Map<string, RoleGroup>((roles.groups ?? []).map((g) => [g.id, g]));
  const holders = new Map<string, Holder>();
  const hold = (principalId: string, holding: RoleHolding, info?: Partial<Holder>): void => {
    const h = holders.get(principalId) ?? {
      principalId,
      principalType: info?.principalType ?? 'unknown',
      principalName: info?.principalName ?? null,
      principalUserType: info?.principalUserType ?? null,
      roles: [],
    };
    if (info?.principalType && h.principalType === 'unknown') h.principalType = info.principalType;
    if (info?.principalName && h.principalName === null) h.principalName = info.principalName;
    if (info?.principalUserType && h.principalUserType === null) h.principalUserType = info.principalUserType;
    if (info?.membersUnknown) h.membersUnknown = true;
    const same = (r: RoleHolding): boolean =>
      r.roleId === holding.roleId && r.via === holding.via && r.scope === holding.scope && r.group?.id === holding.group?.id;
    if (!h.roles.some(same)) h.roles.push(holding);
    holders.set(principalId, h);
  };
  /** A holding of `principalId`, passed on to the members when it is a group whose members are known. */
  const grant = (principalId: string, holding: RoleHolding, info: Partial<Holder>): void => {
    const group = groups.get(principalId);
    if (!group) {
      hold(principalId, holding, info);
      return;
    }
    if (group.members === null) {
      hold(principalId, holding, { ...info, principalType: 'group', principalName: group.displayName ?? info.principalName ?? null, membersUnknown: true });
      return;
    }
    const via = { id: group.id, displayName: group.displayName };
    for (const m of group.members) {
      hold(m.id, { ...holding, group: via }, { principalType: 'user', principalName: m.userPrincipalName, principalUserType: m.userType });
    }
  };
  for (const a of roles.assignments) {
    if (!wanted.has(a.roleDefinitionId.toLowerCase())) continue;
    grant(
      a.principalId,
      { roleId: a.roleDefinitionId, roleName: roleName(a.roleDefinitionId), via: 'active', scope: a.directoryScopeId },
      { principalType: a.principalType, principalName: a.principalName, principalUserType: a.principalUserType },
    );
  }
  for (const e of roles.eligibility ?? []) {
    if (!wanted.has(e.roleDefinitionId.toLowerCase())) continue;
    grant(
      e.principalId,
      { roleId: e.roleDefinitionId, roleName: roleName(e.roleDefinitionId), via: 'eligible', scope: e.directoryScopeId },
      {
        ...(e.principalType ? { principalType: e.principalType } : {}),
        ...(e.principalName ? { principalName: e.principalName } : {}),
        ...(e.principalUserType ? { principalUserType: e.principalUserType } : {}),
      },
    );
  }
  return holders;
}

/** A role holding as evidence: role, id, via, scope, and the group it is held through if any. */
export function holdingEvidence(r: RoleHolding, withScope = true): Record<string, unknown> {
  return {
    role: r.roleName,
    roleId: r.roleId,
    via: r.via,
    ...(withScope ? { scope: r.scope } : {}),
    ...(r.group ? { group: { id: r.group.id, displayName: r.group.displayName } } : {}),
  };
}
