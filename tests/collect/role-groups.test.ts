/**
 * Roles held through groups, read from the simulator over HTTPS: a role-assignable group among
 * the principals (`#microsoft.graph.group` in `$expand=principal`) is read once with its
 * transitive user members (paged), whatever revision of the docs the service plays; a member list
 * that cannot be read makes the slice partial and names the group and the permission.
 */
import { collectRoles } from '../../src/collect/identity';
import type { Roles } from '../../src/collect/snapshot';
import { generateDemoTenant } from '../../src/sim/demo-tenant';
import type { JsonObject, TenantData } from '../../src/sim/tenant';
import { startTestSim, testContext, type TestSim } from '../support/sim';

const GA = '62e90394-69f5-4237-9190-012177145e10';
const EXCHANGE = '29232cdf-9323-42fd-ade2-1d097af3e4de';
const USER_ADMIN = 'fe930be7-5e62-47db-91af-98c3a49a38b1';

const user = (id: string, upn: string, userType = 'Member'): JsonObject => ({
  id, displayName: upn.split('@')[0] ?? upn, userPrincipalName: upn, mail: upn, userType, accountEnabled: true,
});
const group = (id: string, displayName: string): JsonObject => ({
  id, displayName, description: null, groupTypes: [], isAssignableToRole: true, mail: null, mailEnabled: false,
  mailNickname: id, securityEnabled: true, visibility: 'Private',
});
const schedule = (id: string, principalId: string, roleDefinitionId: string): JsonObject => ({
  id, principalId, roleDefinitionId, directoryScopeId: '/', appScopeId: null, status: 'Provisioned', memberType: 'Direct',
  scheduleInfo: { startDateTime: '2025-01-01T00:00:00Z', recurrence: null, expiration: { type: 'noExpiration', endDateTime: null, duration: null } },
});

/** Two role-holding groups (one nesting a third, which nests the first back), a direct holder. */
function groupTenant(): TenantData {
  const base = generateDemoTenant({ seed: 7, users: 60 }).data;
  return {
    ...base,
    users: [
      user('u-1', 'hiroshi.takahashi@example.lg.jp'),
      user('u-2', 'shota.shibata@example.lg.jp'),
      user('u-3', 'kaito.hoshino_vendor-it.example.jp#EXT#@exampledemo.onmicrosoft.com', 'Guest'),
      user('u-4', 'mika.sato@example.lg.jp'),
      user('u-5', 'ken.ono@example.lg.jp'),
    ],
    groups: [group('g-admins', '情報システム管理者グループ'), group('g-nested', '委託先グループ'), group('g-pim', 'ヘルプデスク グループ')],
    groupMembers: { 'g-admins': ['u-1', 'u-2', 'g-nested'], 'g-nested': ['u-3', 'u-4', 'g-admins'], 'g-pim': ['u-5'] },
    roleAssignments: [
      { id: 'a-ga-group', principalId: 'g-admins', resourceScope: '/', directoryScopeId: '/', roleDefinitionId: GA },
      { id: 'a-ex-group', principalId: 'g-admins', resourceScope: '/', directoryScopeId: '/', roleDefinitionId: EXCHANGE },
      { id: 'a-ga-direct', principalId: 'u-1', resourceScope: '/', directoryScopeId: '/', roleDefinitionId: GA },
    ],
    roleEligibilitySchedules: [schedule('e-ga-group', 'g-admins', GA), schedule('e-ua-pim', 'g-pim', USER_ADMIN)],
  };
}

const ADMINS_MEMBERS = [
  { id: 'u-1', userPrincipalName: 'hiroshi.takahashi@example.lg.jp', userType: 'Member', accountEnabled: true },
  { id: 'u-2', userPrincipalName: 'shota.shibata@example.lg.jp', userType: 'Member', accountEnabled: true },
  { id: 'u-3', userPrincipalName: 'kaito.hoshino_vendor-it.example.jp#EXT#@exampledemo.onmicrosoft.com', userType: 'Guest', accountEnabled: true },
  { id: 'u-4', userPrincipalName: 'mika.sato@example.lg.jp', userType: 'Member', accountEnabled: true },
];
const PIM_MEMBERS = [{ id: 'u-5', userPrincipalName: 'ken.ono@example.lg.jp', userType: 'Member', accountEnabled: true }];

let t: TestSim | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function rolesFrom(options: Parameters<typeof startTestSim>[0] = {}): Promise<{ status: string; data: Roles | undefined; detail: string | undefined }> {
  t = await startTestSim({ throttle: false, tenant: groupTenant(), maxPageSize: { groupTransitiveMembers: 2 }, ...options });
  const slice = await collectRoles(testContext(t.graph()));
  return { status: slice.status, data: slice.status === 'failed' ? undefined : slice.data, detail: slice.detail };
}

describe('roles held through groups', () => {
  it('reads each group principal once with its transitive user members, following nextLink', async () => {
    const { status, data, detail } = await rolesFrom();
    expect(detail).toBeUndefined();
    expect(status).toBe('complete');
    expect(data?.assignments.find((a) => a.id === 'a-ga-group')).toMatchObject({ principalType: 'group', principalName: '情報システム管理者グループ' });
    expect(data?.eligibility?.find((e) => e.id === 'e-ua-pim')).toMatchObject({ principalType: 'group', principalName: 'ヘルプデスク グループ', memberType: 'Direct' });
    expect(data?.groups).toEqual([
      { id: 'g-admins', displayName: '情報システム管理者グループ', members: ADMINS_MEMBERS },
      { id: 'g-pim', displayName: 'ヘルプデスク グループ', members: PIM_MEMBERS },
    ]);
    // g-admins holds three roles but is read once: 4 members in pages of 2, then g-pim's one page.
    expect(t?.sim.counts().groupTransitiveMembers).toBe(3);
    expect(t?.sim.counts().group).toBe(0);
  });

  it('still reads members when the service wants the advanced-query pair for the user cast (older doc revision)', async () => {
    const { status, data } = await rolesFrom({ castNeedsAdvancedQuery: true });
    expect(status).toBe('complete');
    expect(data?.groups?.map((g) => g.members?.length)).toEqual([4, 1]);
  });

  it('resolves eligible group principals when $expand=principal is ignored or refused', async () => {
    for (const eligibilityExpand of ['ignored', 'rejected'] as const) {
      const { status, data } = await rolesFrom({ eligibilityExpand });
      expect(status).toBe('complete');
      expect(data?.groups).toEqual([
        { id: 'g-admins', displayName: '情報システム管理者グループ', members: ADMINS_MEMBERS },
        { id: 'g-pim', displayName: 'ヘルプデスク グループ', members: PIM_MEMBERS },
      ]);
      // g-admins is known as a group from its active assignment; only g-pim had to be looked up.
      expect(t?.sim.counts().group).toBe(1);
      await t?.close();
      t = undefined;
    }
  });

  it('an unexpanded principal that is not a group (a service principal here) is looked up once and left as it is', async () => {
    const tenant = groupTenant();
    tenant.roleAssignments.push({ id: 'a-sp', principalId: 'sp-backup', resourceScope: '/', directoryScopeId: '/', roleDefinitionId: GA });
    tenant.roleEligibilitySchedules.push(schedule('e-sp', 'sp-backup', EXCHANGE));
    t = await startTestSim({ throttle: false, tenant });
    const slice = await collectRoles(testContext(t.graph()));
    expect(slice.status).toBe('complete');
    if (slice.status === 'failed') return;
    expect(slice.data.assignments.find((a) => a.id === 'a-sp')?.principalType).toBe('unknown');
    expect(slice.data.groups?.map((g) => g.id)).toEqual(['g-admins', 'g-pim']);
    expect(t.sim.counts().group).toBe(1);
  });

  it('a 403 on one member list makes roles partial, names the group and GroupMember.Read.All, and keeps the others', async () => {
    const { status, data, detail } = await rolesFrom({ faults: [{ endpoint: 'groupTransitiveMembers', match: /g-pim/, status: 403, code: 'Authorization_RequestDenied' }] });
    expect(status).toBe('partial');
    expect(detail).toBe('group ヘルプデスク グループ (g-pim): GET /groups/{id}/transitiveMembers/microsoft.graph.user 403 (needs GroupMember.Read.All); its members were not checked');
    expect(data?.groups).toEqual([
      { id: 'g-admins', displayName: '情報システム管理者グループ', members: ADMINS_MEMBERS },
      { id: 'g-pim', displayName: 'ヘルプデスク グループ', members: null },
    ]);
  });

  it('a 5xx that outlasts the retries is partial too', async () => {
    const { status, detail } = await rolesFrom({ faults: [{ endpoint: 'groupTransitiveMembers', match: /g-admins/, status: 503, retryAfter: 0 }] });
    expect(status).toBe('partial');
    expect(detail).toMatch(/^group 情報システム管理者グループ \(g-admins\): GET \/groups\/\{id\}\/transitiveMembers\/microsoft\.graph\.user 503/);
  });
});
