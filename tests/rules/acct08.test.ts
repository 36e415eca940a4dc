/**
 * ACCT-08: permanent active assignments of `accounts.standingAccessRoles` roles. The compliant
 * fixture has the admin's Global Administrator time-bound and the break-glass account's permanent
 * (an emergency-access account); each test changes one thing.
 */
import type { RoleAssignmentInstance, SliceData } from '../../src/collect/snapshot';
import { standingPrivilegedAccess as rule } from '../../src/rules/accounts';
import { compliantTenant, fired, fixturePolicy, GA, NOW, TENANT_ID, USER_ADMIN, withTenant } from './fixture';

const PRA = 'e8611ab8-c189-46e8-94e1-60213ab1f814';
const instance = (over: Partial<RoleAssignmentInstance>): RoleAssignmentInstance => ({
  id: 'x', principalId: 'u-member', roleDefinitionId: GA, directoryScopeId: '/', assignmentType: 'Assigned', memberType: 'Direct',
  startDateTime: null, endDateTime: null, principalType: 'user', principalName: 'kenta.sato@example.lg.jp', ...over,
});
const adminInstance = (t: SliceData): RoleAssignmentInstance => {
  const i = t.roleAssignmentInstances.find((x) => x.principalId === 'u-admin');
  if (!i) throw new Error('fixture has no admin instance');
  return i;
};
const undecided = (t: SliceData): string[] => rule.undecided?.(t as never, { policy: fixturePolicy(), now: NOW, tenantId: TENANT_ID }) ?? [];

describe('ACCT-08 permanent active assignment of a privileged role', () => {
  it('is silent on the compliant tenant (time-bound admin, permanent emergency-access account)', () => {
    expect(fired(rule, compliantTenant())).toEqual([]);
    expect(undecided(compliantTenant())).toEqual([]);
  });

  it('fires when the admin\'s Global Administrator has no end, with the role as evidence', () => {
    const t = withTenant((t) => { adminInstance(t).endDateTime = null; });
    expect(rule.evaluate(t, { policy: fixturePolicy(), now: NOW, tenantId: TENANT_ID })).toEqual([{
      subject: { kind: 'user', id: 'u-admin', name: 'hanako.suzuki@example.lg.jp' },
      evidence: { roles: [{ role: 'Global Administrator', roleId: GA, via: 'active', scope: '/' }], endDateTime: null },
    }]);
  });

  it('fires for Privileged Role Administrator, and for the emergency account once it is no longer listed', () => {
    expect(fired(rule, withTenant((t) => t.roleAssignmentInstances.push(instance({ roleDefinitionId: PRA }))))).toEqual(['u-member']);
    expect(fired(rule, compliantTenant(), fixturePolicy({ accounts: { emergencyAccessAccounts: [] } }))).toEqual(['u-breakglass']);
  });

  it('does not fire for an activated (PIM) instance, a role outside the list, or an empty list', () => {
    expect(fired(rule, withTenant((t) => t.roleAssignmentInstances.push(instance({ assignmentType: 'Activated' }))))).toEqual([]);
    expect(fired(rule, withTenant((t) => t.roleAssignmentInstances.push(instance({ roleDefinitionId: USER_ADMIN }))))).toEqual([]);
    const permanent = withTenant((t) => { adminInstance(t).endDateTime = null; });
    expect(fired(rule, permanent, fixturePolicy({ accounts: { emergencyAccessAccounts: ['breakglass01@exampledemo.onmicrosoft.com'], standingAccessRoles: [] } }))).toEqual([]);
    // Service principals are not users (APP-01 covers outside apps).
    expect(fired(rule, withTenant((t) => t.roleAssignmentInstances.push(instance({ principalId: 'sp-1', principalType: 'servicePrincipal', principalName: 'backup' }))))).toEqual([]);
  });

  it('matches assignmentType and role ids whatever their case', () => {
    expect(fired(rule, withTenant((t) => t.roleAssignmentInstances.push(instance({ assignmentType: 'assigned', roleDefinitionId: GA.toUpperCase() }))))).toEqual(['u-member']);
  });

  it('a permanent assignment to a group is held by each member, naming the group; the emergency member is left out', () => {
    const t = withTenant((t) => {
      t.roleAssignmentInstances.push(instance({ id: 'g', principalId: 'g-admins', principalType: 'group', principalName: '情報システム管理者グループ' }));
      t.roles.groups = [{ id: 'g-admins', displayName: '情報システム管理者グループ', members: [
        { id: 'u-member', userPrincipalName: 'kenta.sato@example.lg.jp', userType: 'Member', accountEnabled: true },
        { id: 'u-breakglass', userPrincipalName: 'breakglass01@exampledemo.onmicrosoft.com', userType: 'Member', accountEnabled: true },
      ] }];
    });
    const drafts = rule.evaluate(t, { policy: fixturePolicy(), now: NOW, tenantId: TENANT_ID });
    expect(drafts.map((d) => d.subject.id)).toEqual(['u-member']);
    expect(drafts[0]?.evidence.roles).toEqual([{ role: 'Global Administrator', roleId: GA, via: 'active', scope: '/', group: { id: 'g-admins', displayName: '情報システム管理者グループ' } }]);
  });

  it('knows an unexpanded principal from the roles slice or the users list', () => {
    const t = withTenant((t) => {
      const { principalType: _t, principalName: _n, ...bare } = instance({ principalId: 'u-member' });
      t.roleAssignmentInstances.push(bare);
    });
    expect(fired(rule, t)).toEqual(['u-member']);
  });

  it('does not decide a group whose members are unknown, nor a principal of unknown type', () => {
    const t = withTenant((t) => {
      t.roleAssignmentInstances.push(instance({ id: 'g', principalId: 'g-x', principalType: 'group', principalName: '管理グループ' }));
      t.roles.groups = [{ id: 'g-x', displayName: '管理グループ', members: null }];
      const { principalType: _t, principalName: _n, ...bare } = instance({ principalId: 'gone-1' });
      t.roleAssignmentInstances.push(bare);
    });
    expect(fired(rule, t)).toEqual([]);
    expect(undecided(t)).toEqual([
      'group 管理グループ (g-x): permanent Global Administrator, members unknown',
      'principal gone-1: permanent Global Administrator, type unknown (neither a user of the tenant nor a known group)',
    ]);
  });
});
