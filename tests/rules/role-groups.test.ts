/**
 * ACCT-04, ACCT-05 and MFA-01/02 on roles held through groups: a role-assignable group passes its
 * roles to its (transitive) user members, who are checked like direct holders and counted once.
 */
import type { RoleGroupMember, SliceData } from '../../src/collect/snapshot';
import { guestPrivileged, tooManyGlobalAdmins } from '../../src/rules/accounts';
import { memberWithoutMfa, privilegedWithoutMfa } from '../../src/rules/mfa';
import type { AnyRule } from '../../src/rules/rule';
import { GA, NOW, TENANT_ID, USER_ADMIN, fired, fixturePolicy, withTenant } from './fixture';

const GLOBAL_READER = 'f2ef992c-3afb-46b9-b7cf-a126ee74c451';
const ADMINS = { id: 'g-admins', displayName: '情報システム管理者グループ' };
const PIM = { id: 'g-pim', displayName: '情報システム係（PIM）' };

const member = (id: string, upn: string, userType = 'Member'): RoleGroupMember => ({ id, userPrincipalName: upn, userType, accountEnabled: true });
const groupAssignment = (id: string, groupId: string, roleDefinitionId: string, name: string) => ({
  id, principalId: groupId, roleDefinitionId, directoryScopeId: '/', principalType: 'group', principalName: name, principalUserType: null,
});

function run(rule: AnyRule, t: SliceData): unknown {
  return rule.evaluate(t as never, { policy: fixturePolicy(), now: NOW, tenantId: TENANT_ID });
}

describe('ACCT-04 counts the distinct users behind groups', () => {
  // u-admin and u-breakglass hold GA directly in the fixture; u-admin also through the group.
  const tenant = withTenant((t) => {
    t.roles.assignments.push(groupAssignment('a-g', ADMINS.id, GA, ADMINS.displayName));
    t.roles.eligibility?.push({ id: 'e-g', principalId: PIM.id, roleDefinitionId: GA, directoryScopeId: '/', principalType: 'group', principalName: PIM.displayName, memberType: 'Direct' });
    t.roles.groups = [
      { ...ADMINS, members: [member('u-admin', 'hanako.suzuki@example.lg.jp'), member('m-1', 'shota.shibata@example.lg.jp')] },
      { ...PIM, members: [member('m-1', 'shota.shibata@example.lg.jp'), member('m-2', 'mika.sato@example.lg.jp'), member('m-3', 'ken.ono@example.lg.jp')] },
    ];
  });

  it('fires at 5 distinct users (2 direct + 3 more through two groups), each user once, naming the groups', () => {
    expect(run(tooManyGlobalAdmins, tenant)).toEqual([{
      subject: { kind: 'tenant', id: TENANT_ID, name: TENANT_ID },
      evidence: {
        count: 5,
        maxGlobalAdmins: 4,
        eligibleChecked: true,
        holders: [
          { id: 'u-admin', name: 'hanako.suzuki@example.lg.jp', type: 'user', via: ['active'], groups: [ADMINS], direct: true },
          { id: 'u-breakglass', name: 'breakglass01@exampledemo.onmicrosoft.com', type: 'user', via: ['active'] },
          { id: 'm-1', name: 'shota.shibata@example.lg.jp', type: 'user', via: ['active', 'eligible'], groups: [ADMINS, PIM], direct: false },
          { id: 'm-2', name: 'mika.sato@example.lg.jp', type: 'user', via: ['eligible'], groups: [PIM], direct: false },
          { id: 'm-3', name: 'ken.ono@example.lg.jp', type: 'user', via: ['eligible'], groups: [PIM], direct: false },
        ],
      },
    }]);
  });

  it('does not count a group as a holder when its members are known, nor a member twice', () => {
    const four = withTenant((t) => {
      t.roles.assignments.push(groupAssignment('a-g', ADMINS.id, GA, ADMINS.displayName), groupAssignment('a-g2', PIM.id, GA, PIM.displayName));
      t.roles.groups = [
        { ...ADMINS, members: [member('u-admin', 'hanako.suzuki@example.lg.jp'), member('m-1', 'a@example.lg.jp')] },
        { ...PIM, members: [member('m-1', 'a@example.lg.jp'), member('m-2', 'b@example.lg.jp'), member('u-breakglass', 'breakglass01@exampledemo.onmicrosoft.com')] },
      ];
    });
    expect(fired(tooManyGlobalAdmins, four)).toEqual([]);
  });

  it('counts service principals, and a group whose members could not be read as one holder', () => {
    const t = withTenant((x) => {
      x.roles.assignments.push(
        { id: 'sp', principalId: 'sp-1', roleDefinitionId: GA, directoryScopeId: '/', principalType: 'servicePrincipal', principalName: 'Backup app', principalUserType: null },
        groupAssignment('a-g', ADMINS.id, GA, ADMINS.displayName),
        groupAssignment('a-g2', PIM.id, GA, PIM.displayName),
      );
      x.roles.groups = [{ ...ADMINS, members: null }, { ...PIM, members: [member('m-1', 'a@example.lg.jp')] }];
    });
    const [draft] = tooManyGlobalAdmins.evaluate(t as never, { policy: fixturePolicy(), now: NOW, tenantId: TENANT_ID });
    expect(draft?.evidence.holders).toEqual([
      { id: 'u-admin', name: 'hanako.suzuki@example.lg.jp', type: 'user', via: ['active'] },
      { id: 'u-breakglass', name: 'breakglass01@exampledemo.onmicrosoft.com', type: 'user', via: ['active'] },
      { id: 'sp-1', name: 'Backup app', type: 'servicePrincipal', via: ['active'] },
      { id: 'g-admins', name: '情報システム管理者グループ', type: 'group', via: ['active'], membersUnknown: true },
      { id: 'm-1', name: 'a@example.lg.jp', type: 'user', via: ['active'], groups: [PIM], direct: false },
    ]);
  });
});

describe('ACCT-05 fires for a guest member of a privileged group', () => {
  it('names the group the role is held through', () => {
    const t = withTenant((x) => {
      x.roles.assignments.push(groupAssignment('a-g', ADMINS.id, USER_ADMIN, ADMINS.displayName));
      x.roles.groups = [{ ...ADMINS, members: [member('u-guest', 'taro_partner.example.jp#EXT#@exampledemo.onmicrosoft.com', 'Guest'), member('u-member', 'kenta.sato@example.lg.jp')] }];
    });
    expect(run(guestPrivileged, t)).toEqual([{
      subject: { kind: 'user', id: 'u-guest', name: 'taro_partner.example.jp#EXT#@exampledemo.onmicrosoft.com' },
      evidence: { roles: [{ role: 'User Administrator', roleId: USER_ADMIN, via: 'active', scope: '/', group: ADMINS }] },
    }]);
  });

  it('does not fire for a guest in a group holding a role outside privilegedRoles', () => {
    const t = withTenant((x) => {
      x.roles.assignments.push(groupAssignment('a-g', ADMINS.id, GLOBAL_READER, ADMINS.displayName));
      x.roles.groups = [{ ...ADMINS, members: [member('u-guest', 'taro_partner.example.jp#EXT#@exampledemo.onmicrosoft.com', 'Guest')] }];
    });
    expect(fired(guestPrivileged, t)).toEqual([]);
  });
});

describe('MFA-01 / MFA-02 for members of role-holding groups', () => {
  const unregistered = (roleId: string): SliceData => withTenant((x) => {
    x.roles.eligibility?.push({ id: 'e-g', principalId: ADMINS.id, roleDefinitionId: roleId, directoryScopeId: '/', principalType: 'group', principalName: ADMINS.displayName, memberType: 'Direct' });
    x.roles.groups = [{ ...ADMINS, members: [member('u-member', 'kenta.sato@example.lg.jp'), member('u-admin', 'hanako.suzuki@example.lg.jp')] }];
    const reg = x.mfaRegistration.find((r) => r.id === 'u-member');
    if (reg) reg.isMfaRegistered = false;
  });

  it('MFA-01 fires for the unregistered member of a privileged group (and MFA-02 does not)', () => {
    const t = unregistered(GA);
    expect(run(privilegedWithoutMfa, t)).toEqual([{
      subject: { kind: 'user', id: 'u-member', name: 'kenta.sato@example.lg.jp' },
      evidence: { isMfaRegistered: false, roles: [{ role: 'Global Administrator', roleId: GA, via: 'eligible', group: ADMINS }] },
    }]);
    expect(fired(memberWithoutMfa, t)).toEqual([]);
  });

  it('a group holding a non-privileged role: MFA-02, not MFA-01', () => {
    const t = unregistered(GLOBAL_READER);
    expect(fired(privilegedWithoutMfa, t)).toEqual([]);
    expect(fired(memberWithoutMfa, t)).toEqual(['u-member']);
  });
});
