/**
 * Who holds which privileged role, active or eligible: shared by ACCT-04/05 and MFA-01/02.
 */
import { DEFAULT_PRIVILEGED_ROLES } from '../config/policy';
import type { Roles } from '../collect/snapshot';

export interface RoleHolding {
  roleId: string;
  roleName: string;
  /** `active` (roleAssignments) or `eligible` (PIM roleEligibilitySchedules). */
  via: 'active' | 'eligible';
  scope: string;
}

export interface Holder {
  principalId: string;
  principalType: string;
  principalName: string | null;
  principalUserType: string | null;
  roles: RoleHolding[];
}

/** The display name of a role template id (the default list's names; else the id). */
export function roleName(roleId: string): string {
  return DEFAULT_PRIVILEGED_ROLES[roleId.toLowerCase()] ?? roleId;
}

/**
 * Principals holding any of `roleIds`, active or eligible (eligible only where PIM data was
 * readable), keyed by principal id.
 */
export function roleHolders(roles: Roles, roleIds: readonly string[]): Map<string, Holder> {
  const wanted = new Set(roleIds.map((r) => r.toLowerCase()));
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
    if (!h.roles.some((r) => r.roleId === holding.roleId && r.via === holding.via && r.scope === holding.scope)) h.roles.push(holding);
    holders.set(principalId, h);
  };
  for (const a of roles.assignments) {
    if (!wanted.has(a.roleDefinitionId)) continue;
    hold(
      a.principalId,
      { roleId: a.roleDefinitionId, roleName: roleName(a.roleDefinitionId), via: 'active', scope: a.directoryScopeId },
      { principalType: a.principalType, principalName: a.principalName, principalUserType: a.principalUserType },
    );
  }
  for (const e of roles.eligibility ?? []) {
    if (!wanted.has(e.roleDefinitionId)) continue;
    hold(e.principalId, { roleId: e.roleDefinitionId, roleName: roleName(e.roleDefinitionId), via: 'eligible', scope: e.directoryScopeId });
  }
  return holders;
}
