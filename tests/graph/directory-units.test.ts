/**
 * Entra ID directory resource units ("Microsoft Graph service-specific throttling limits",
 * "Identity and access service limits"): the client's costs and bands, the simulator's bucket
 * with its x-ms-* headers, and the client spending exactly what the simulator charges.
 */
import { costOf, directoryBudget, directoryCost, drawsOf, familyOf, GRAPH_BUDGETS } from '../../src/graph/budget';
import { generateDemoTenant } from '../../src/sim/demo-tenant';
import { directoryRuLimit, startSimulator, throttleModel } from '../../src/sim/server';
import { simClient } from '../support/sim-client';
import { startTestSim } from '../support/sim';

jest.setTimeout(60_000);

describe('client: costs, families and bands', () => {
  test('base costs and the $select / $expand / $top modifiers, never below 1', () => {
    expect(directoryCost('/users')).toBe(2);
    expect(directoryCost('/users?$select=id,displayName&$top=999')).toBe(1);
    expect(directoryCost('/users?$top=5')).toBe(1);
    expect(directoryCost('/users?$select=id&$top=5')).toBe(1);
    expect(directoryCost('/groups/g1/transitiveMembers/microsoft.graph.user?$select=id')).toBe(4);
    expect(directoryCost('/groups/g1/transitiveMembers?$expand=manager')).toBe(6);
    expect(directoryCost('/groups/g1/members')).toBe(3);
    expect(directoryCost('/subscribedSkus')).toBe(3);
    expect(directoryCost('/users/u1/memberOf')).toBe(2); // me/… costs apply to users/{id}/…
    expect(directoryCost('/directoryObjects/getByIds', 'POST')).toBe(5);
    expect(directoryCost('/directoryObjects/getByIds?$select=id', 'POST')).toBe(2);
    expect(directoryCost('/domains')).toBe(1);
    expect(costOf('https://graph.microsoft.com/v1.0/users?%24select=id')).toBe(1);
  });

  test('which paths are directory requests follows the resources the doc lists', () => {
    expect(familyOf('/users?$select=id')).toBe('directory');
    expect(familyOf('/groups/g1?$select=id,displayName')).toBe('directory');
    expect(familyOf('/domains')).toBe('directory');
    expect(familyOf('/policies/identitySecurityDefaultsEnforcementPolicy')).toBe('directory');
    expect(familyOf('/policies/authenticationMethodsPolicy')).toBe('global'); // not a policyBase
    expect(familyOf('/roleManagement/directory/roleAssignments?$expand=principal')).toBe('global');
    expect(familyOf('/planner/tasks')).toBe('global');
    expect(familyOf('/$batch')).toBe('global');
    // A signInActivity page is a GET users as well: it draws both, and last the identity
    // reports' shared accounting (charged on the strict reading only: budget.ts RequestBudgets).
    expect(drawsOf('/users?$select=id,signInActivity&$top=500')).toEqual([
      { family: 'signInActivity', cost: 1 },
      { family: 'directory', cost: 1 },
      { family: 'identityReports', cost: 1, shared: true },
    ]);
    expect(drawsOf('/reports/authenticationMethods/userRegistrationDetails')).toEqual([{ family: 'identityReports', cost: 1 }]);
  });

  test('bands: S under 50 users, M 50 to 500, L above 500; unknown is S', () => {
    expect(GRAPH_BUDGETS.directory).toEqual({ limit: 3_500, perSeconds: 10 });
    expect(directoryBudget(undefined)).toEqual({ limit: 3_500, perSeconds: 10 });
    expect(directoryBudget(49).limit).toBe(3_500);
    expect(directoryBudget(50).limit).toBe(5_000);
    expect(directoryBudget(500).limit).toBe(5_000);
    expect(directoryBudget(501).limit).toBe(8_000);
    expect(directoryRuLimit(49).limit).toBe(3_500);
    expect(directoryRuLimit(500).limit).toBe(5_000);
    expect(directoryRuLimit(501).limit).toBe(8_000);
  });
});

describe('simulator: the directory bucket', () => {
  const demo = generateDemoTenant({ seed: 543, users: 12 });

  test('every directory answer says its cost; near the limit the percentage; past it a 429 with the scope', async () => {
    const sim = await startSimulator({ tenant: demo.data, throttle: { directory: { limit: 6, perSeconds: 600 } } });
    const { agent, call } = simClient(sim);
    try {
      const first = await call('/users'); // 2 RU: 4 left
      expect(first.status).toBe(200);
      expect(first.headers.get('x-ms-resource-unit')).toBe('2');
      expect(first.headers.get('x-ms-throttle-limit-percentage')).toBeNull();
      const second = await call('/users?$select=id'); // 1 RU: 3 left
      expect(second.headers.get('x-ms-resource-unit')).toBe('1');
      const third = await call('/users'); // 2 RU: 1 left, 83% used
      expect(third.headers.get('x-ms-throttle-limit-percentage')).toBe('0.83');
      const refused = await call('/users');
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(refused.headers.get('x-ms-throttle-scope')).toMatch(new RegExp(`^Tenant_Application/Read/[0-9a-f-]+/${demo.data.tenantId}$`));
      expect(refused.headers.get('x-ms-throttle-information')).toBe('ResourceUnitLimitExceeded');
      // Role management is not a directory resource in the doc's list: still answered.
      expect((await call('/roleManagement/directory/roleAssignments')).status).toBe(200);
    } finally {
      await agent.close();
      await sim.close();
    }
  });

  test('the band follows the tenant size; the model table has the family in resource units', () => {
    expect(throttleModel().directory).toMatchObject({ unitsPerSecond: 350, burst: 3_500, scope: 'appTenant', unit: 'resourceUnits' });
    expect(throttleModel({}, undefined, undefined, 20_000).directory).toMatchObject({ unitsPerSecond: 800, burst: 8_000 });
    expect(throttleModel().outlook.unit).toBe('requests');
  });

  test('the client spends exactly the resource units the simulator charges', async () => {
    const t = await startTestSim({ tenant: demo.data, throttle: { directory: { limit: 60, perSeconds: 6_000 } } });
    const { agent, call } = simClient(t.sim);
    try {
      const graph = t.graph();
      await graph.all('/users?$select=id,displayName&$top=5');
      await graph.all('/domains');
      // What is left of the simulator's bucket (its headers say so near the limit): drain it to see.
      let charged = 0;
      for (;;) {
        const a = await call('/users?$select=id');
        if (a.status === 429) break;
        charged += Number(a.headers.get('x-ms-resource-unit'));
      }
      expect(graph.stats.units.directory).toBeGreaterThanOrEqual(4); // 3 pages of users, 1 of domains
      expect(60 - charged).toBeGreaterThanOrEqual(graph.stats.units.directory ?? 0);
      expect(60 - charged - (graph.stats.units.directory ?? 0)).toBeLessThan(1);
    } finally {
      await agent.close();
      await t.close();
    }
  });
});
