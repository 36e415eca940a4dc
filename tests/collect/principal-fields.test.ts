/**
 * How the three role schemas report an expanded `principal` (a directoryObject: "unifiedRoleAssignment
 * resource type", "unifiedRoleEligibilitySchedule", "unifiedRoleAssignmentScheduleInstance": all
 * have a `principal` navigation property that supports `$expand`). Pins the edge cases the shared
 * projection must keep: a group known by displayName, anything else by UPN, mail or displayName;
 * active assignments always say a type (`unknown` without one), the PIM schemas leave the fields out
 * when the service did not expand the principal; instances carry no userType.
 */
import { roleAssignmentInstanceSchema, roleAssignmentSchema, roleEligibilitySchema } from '../../src/collect/parse';

const GA = '62e90394-69f5-4237-9190-012177145e10';
const base = { id: 'x', principalId: 'p', roleDefinitionId: GA.toUpperCase(), directoryScopeId: '/' };

type Fields = { principalType: string; principalName: string | null; principalUserType: string | null };
const cases: Array<[string, unknown, Fields, boolean]> = [
  // [what, principal, fields, whether the PIM schemas report them]
  ['group by displayName', { '@odata.type': '#microsoft.graph.group', displayName: 'Admins', mail: 'admins@contoso.com', userPrincipalName: 'ignored' }, { principalType: 'group', principalName: 'Admins', principalUserType: null }, true],
  ['group without displayName by mail', { '@odata.type': '#microsoft.graph.group', mail: 'admins@contoso.com' }, { principalType: 'group', principalName: 'admins@contoso.com', principalUserType: null }, true],
  ['user by UPN, with userType', { '@odata.type': '#microsoft.graph.user', userPrincipalName: 'ann@contoso.com', mail: 'a@contoso.com', displayName: 'Ann', userType: 'Guest' }, { principalType: 'user', principalName: 'ann@contoso.com', principalUserType: 'Guest' }, true],
  ['user with empty UPN by mail', { '@odata.type': '#microsoft.graph.user', userPrincipalName: '', mail: 'a@contoso.com', displayName: 'Ann' }, { principalType: 'user', principalName: 'a@contoso.com', principalUserType: null }, true],
  ['servicePrincipal by displayName', { '@odata.type': '#microsoft.graph.servicePrincipal', displayName: 'Backup app' }, { principalType: 'servicePrincipal', principalName: 'Backup app', principalUserType: null }, true],
  ['no @odata.type', { userPrincipalName: 'bob@contoso.com', displayName: 'Admins', userType: 'Member' }, { principalType: 'unknown', principalName: 'bob@contoso.com', principalUserType: 'Member' }, false],
  ['empty @odata.type', { '@odata.type': '', displayName: 'Admins' }, { principalType: 'unknown', principalName: 'Admins', principalUserType: null }, false],
  ['null principal', null, { principalType: 'unknown', principalName: null, principalUserType: null }, false],
  ['no principal', undefined, { principalType: 'unknown', principalName: null, principalUserType: null }, false],
];

describe.each(cases)('principal: %s', (_what, principal, fields, expanded) => {
  const raw = { ...base, ...(principal === undefined ? {} : { principal }) };

  it('role assignment: always type, name and userType', () => {
    expect(roleAssignmentSchema.parse(raw)).toStrictEqual({ id: 'x', principalId: 'p', roleDefinitionId: GA, directoryScopeId: '/', ...fields });
  });

  it('eligibility schedule: the fields only when the principal has a type', () => {
    expect(roleEligibilitySchema.parse({ ...raw, status: 'Provisioned', memberType: 'Direct' })).toStrictEqual({
      id: 'x', principalId: 'p', roleDefinitionId: GA, directoryScopeId: '/', status: 'Provisioned', memberType: 'Direct',
      ...(expanded ? fields : {}),
      start: null, end: null,
    });
  });

  it('assignment instance: type and name only when the principal has a type, never userType', () => {
    expect(roleAssignmentInstanceSchema.parse({ ...raw, assignmentType: 'Assigned', memberType: 'Direct', startDateTime: null, endDateTime: null })).toStrictEqual({
      id: 'x', principalId: 'p', roleDefinitionId: GA, directoryScopeId: '/', assignmentType: 'Assigned', memberType: 'Direct', startDateTime: null, endDateTime: null,
      ...(expanded ? { principalType: fields.principalType, principalName: fields.principalName } : {}),
    });
  });
});
