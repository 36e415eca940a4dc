/**
 * The simulator's groups: role principals that are groups expand as `#microsoft.graph.group`
 * (roleAssignments and roleEligibilitySchedules), and `/groups/{id}/transitiveMembers` lists the
 * nested members flat, with the user cast, `$select`, paging and both doc revisions of the cast.
 */
import { simClient } from '../support/sim-client';
import { startSimulator, type SimOptions, type SimServer } from '../../src/sim/server';
import { generateDemoTenant } from '../../src/sim/demo-tenant';
import type { JsonObject, TenantData } from '../../src/sim/tenant';

const GA = '62e90394-69f5-4237-9190-012177145e10';
const user = (id: string, userType = 'Member'): JsonObject => ({
  id, displayName: id, userPrincipalName: `${id}@contoso.com`, mail: null, userType, accountEnabled: true, department: '総務課',
});
const group = (id: string, displayName: string): JsonObject => ({
  id, displayName, description: null, groupTypes: [], isAssignableToRole: true, mail: null, mailEnabled: false, mailNickname: id, securityEnabled: true, visibility: 'Private',
});

function tenant(): TenantData {
  return {
    ...generateDemoTenant({ seed: 3, users: 40 }).data,
    users: [user('u-a'), user('u-b', 'Guest'), user('u-c'), user('u-d')],
    groups: [group('g-1', '管理者グループ'), group('g-2', '入れ子グループ')],
    groupMembers: { 'g-1': ['u-a', 'g-2', 'u-missing'], 'g-2': ['u-b', 'u-c', 'g-1', 'u-a'] },
    roleAssignments: [{ id: 'ra-1', principalId: 'g-1', resourceScope: '/', directoryScopeId: '/', roleDefinitionId: GA }],
    roleEligibilitySchedules: [{ id: 'es-1', principalId: 'g-2', roleDefinitionId: GA, directoryScopeId: '/', status: 'Provisioned', memberType: 'Direct' }],
  };
}

let sim: SimServer;
let c: ReturnType<typeof simClient>;
async function start(options: Partial<SimOptions> = {}): Promise<void> {
  sim = await startSimulator({ tenant: tenant(), throttle: false, ...options });
  c = simClient(sim);
}
afterEach(async () => {
  await c.agent.close();
  await sim.close();
});

describe('group principals', () => {
  test('roleAssignments and roleEligibilitySchedules expand a group principal as #microsoft.graph.group', async () => {
    await start();
    const ra = await c.call('/roleManagement/directory/roleAssignments?$expand=principal');
    expect(ra.json.value[0].principal).toEqual({ '@odata.type': '#microsoft.graph.group', ...group('g-1', '管理者グループ') });
    const es = await c.call('/roleManagement/directory/roleEligibilitySchedules?$expand=principal');
    expect(es.json['@odata.context']).toMatch(/roleEligibilitySchedules\(principal\(\)\)$/);
    expect(es.json.value[0].principal).toMatchObject({ '@odata.type': '#microsoft.graph.group', id: 'g-2', displayName: '入れ子グループ' });
    const plain = await c.call('/roleManagement/directory/roleEligibilitySchedules');
    expect(plain.json.value[0]).not.toHaveProperty('principal');
  });

  test('eligibilityExpand ignored / rejected', async () => {
    await start({ eligibilityExpand: 'ignored' });
    expect((await c.call('/roleManagement/directory/roleEligibilitySchedules?$expand=principal')).json.value[0]).not.toHaveProperty('principal');
    await c.agent.close();
    await sim.close();
    await start({ eligibilityExpand: 'rejected' });
    expect((await c.call('/roleManagement/directory/roleEligibilitySchedules?$expand=principal')).status).toBe(400);
  });

  test('GET /groups/{id} with $select; a non-group id is 404 Request_ResourceNotFound', async () => {
    await start();
    const g = await c.call('/groups/g-2?$select=id,displayName');
    expect(g.json).toEqual({ '@odata.context': `${sim.url}/v1.0/$metadata#groups/$entity`, id: 'g-2', displayName: '入れ子グループ' });
    const u = await c.call('/groups/u-a?$select=id,displayName');
    expect(u.status).toBe(404);
    expect(u.json.error.code).toBe('Request_ResourceNotFound');
  });
});

describe('transitiveMembers', () => {
  test('the user cast lists nested users once (cycles cut, unknown ids dropped), with $select, $count and nextLink', async () => {
    await start({ maxPageSize: { groupTransitiveMembers: 2 } });
    const first = await c.call('/groups/g-1/transitiveMembers/microsoft.graph.user?$select=id,userType&$count=true');
    expect(first.status).toBe(200);
    expect(first.json['@odata.context']).toBe(`${sim.url}/v1.0/$metadata#users(id,userType)`);
    expect(first.json['@odata.count']).toBe(3);
    expect(first.json.value).toEqual([{ id: 'u-a', userType: 'Member' }, { id: 'u-b', userType: 'Guest' }]);
    const second = await c.call(first.json['@odata.nextLink']);
    expect(second.json.value).toEqual([{ id: 'u-c', userType: 'Member' }]);
    expect(second.json).not.toHaveProperty('@odata.nextLink');
    expect(sim.counts().groupTransitiveMembers).toBe(2);
  });

  test('without the cast, members are directoryObjects with @odata.type, nested groups included', async () => {
    await start();
    const all = await c.call('/groups/g-1/transitiveMembers?$select=id');
    expect(all.json.value).toEqual([
      { '@odata.type': '#microsoft.graph.group', id: 'g-2' },
      { '@odata.type': '#microsoft.graph.user', id: 'u-a' },
      { '@odata.type': '#microsoft.graph.user', id: 'u-b' },
      { '@odata.type': '#microsoft.graph.user', id: 'u-c' },
    ]);
    expect((await c.call('/groups/g-1/transitiveMembers/microsoft.graph.printer')).json.error.code).toBe('Request_UnsupportedQuery');
    expect((await c.call('/groups/u-a/transitiveMembers')).status).toBe(404);
  });

  test('castNeedsAdvancedQuery: the cast needs ConsistencyLevel eventual and $count=true (older revision)', async () => {
    await start({ castNeedsAdvancedQuery: true });
    const bare = await c.call('/groups/g-1/transitiveMembers/microsoft.graph.user');
    expect(bare.status).toBe(400);
    expect(bare.json.error.code).toBe('Request_UnsupportedQuery');
    const ok = await c.call('/groups/g-1/transitiveMembers/microsoft.graph.user?$count=true', { headers: { ConsistencyLevel: 'eventual' } });
    expect(ok.status).toBe(200);
    expect(ok.json.value).toHaveLength(3);
  });

  test('a fault on groupTransitiveMembers answers 403 for the matching group only', async () => {
    await start({ faults: [{ endpoint: 'groupTransitiveMembers', match: /g-1/, status: 403 }] });
    expect((await c.call('/groups/g-1/transitiveMembers/microsoft.graph.user')).status).toBe(403);
    expect((await c.call('/groups/g-2/transitiveMembers/microsoft.graph.user')).status).toBe(200);
  });
});
