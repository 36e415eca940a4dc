/**
 * App-consent collection against the simulator over HTTPS: the authorization policy as the bare
 * object and as a collection of one, a 403 (no Policy.Read.All) and an unreadable answer as
 * failed coverage — never an APP-02 pass.
 */
import { collectAuthorizationPolicy } from '../../src/collect/apps';
import { defaultPolicy } from '../../src/config/policy';
import { collect } from '../../src/pipeline';
import { coverageOf, evaluate } from '../../src/rules/engine';
import { RULES } from '../../src/rules/index';
import { generateDemoTenant } from '../../src/sim/demo-tenant';
import type { JsonObject } from '../../src/sim/tenant';
import { startTestSim, testContext, type TestSim } from '../support/sim';

const demo = generateDemoTenant({ seed: 570, users: 30 });
const LEGACY = 'ManagePermissionGrantsForSelf.microsoft-user-default-legacy';

let t: TestSim | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});
const start = async (over: { wrapAuthorizationPolicy?: boolean; policy?: JsonObject } = {}): Promise<TestSim> => {
  const tenant = JSON.parse(JSON.stringify(demo.data)) as typeof demo.data;
  if (over.policy) tenant.authorizationPolicy = over.policy;
  t = await startTestSim({ tenant, throttle: false, ...(over.wrapAuthorizationPolicy ? { wrapAuthorizationPolicy: true } : {}) });
  return t;
};
const assigned = (list: string[]): JsonObject => ({ id: 'authorizationPolicy', displayName: 'Authorization Policy', defaultUserRolePermissions: { allowedToCreateApps: false, allowedToCreateSecurityGroups: false, allowedToReadOtherUsers: true, permissionGrantPoliciesAssigned: list } });
const app02 = async (sim: TestSim) => {
  const { slice: _slice, ...base } = testContext(sim.graph());
  const slices = await collect(['authorizationPolicy'], base);
  const snapshot = { tenantId: demo.data.tenantId, takenAt: new Date(), slices };
  return { slices, result: evaluate(snapshot, RULES, defaultPolicy(), ['apps']), coverage: coverageOf(snapshot, RULES, ['apps']).apps };
};

describe('authorization policy', () => {
  it('reads permissionGrantPoliciesAssigned from the single object (v1.0)', async () => {
    const sim = await start();
    const slice = await collectAuthorizationPolicy(testContext(sim.graph()));
    expect(slice).toEqual({
      status: 'complete',
      items: 1,
      data: {
        id: 'authorizationPolicy',
        permissionGrantPoliciesAssigned: [LEGACY, 'ManagePermissionGrantsForOwnedResource.microsoft-dynamically-managed-permissions-for-team', 'ManagePermissionGrantsForOwnedResource.microsoft-dynamically-managed-permissions-for-chat'],
      },
    });
    const { result, coverage } = await app02(sim);
    expect(result.findings.filter((f) => f.ruleId === 'APP-02').map((f) => f.subject.id)).toEqual([demo.data.tenantId]);
    expect(coverage).toEqual({ status: 'complete', items: 1 });
  });

  it('reads the collection-of-one shape (older doc revisions) the same way', async () => {
    const sim = await start({ wrapAuthorizationPolicy: true, policy: assigned(['ManagePermissionGrantsForSelf.microsoft-user-default-low']) });
    expect(await collectAuthorizationPolicy(testContext(sim.graph()))).toMatchObject({ status: 'complete', data: { permissionGrantPoliciesAssigned: ['ManagePermissionGrantsForSelf.microsoft-user-default-low'] } });
    const { result, coverage } = await app02(sim);
    expect(result.findings.filter((f) => f.ruleId === 'APP-02')).toEqual([]);
    expect(coverage?.status).toBe('complete');
  });

  it('reads a null list (user consent off) as empty: no finding', async () => {
    const sim = await start({ policy: { id: 'authorizationPolicy', defaultUserRolePermissions: { allowedToCreateApps: false, allowedToCreateSecurityGroups: false, allowedToReadOtherUsers: true, permissionGrantPoliciesAssigned: null } } });
    expect(await collectAuthorizationPolicy(testContext(sim.graph()))).toMatchObject({ status: 'complete', data: { permissionGrantPoliciesAssigned: [] } });
  });

  it('a 403 (no Policy.Read.All) fails the slice and the area, naming the permission: APP-02 is not evaluated', async () => {
    const sim = await start();
    sim.sim.setFaults([{ endpoint: 'authorizationPolicy', status: 403, code: 'Authorization_RequestDenied', message: 'Insufficient privileges to complete the operation.' }]);
    const { slices, result, coverage } = await app02(sim);
    expect(slices.authorizationPolicy?.status).toBe('failed');
    expect(slices.authorizationPolicy?.detail).toMatch(/403.*Policy\.Read\.All/);
    expect(result.findings).toEqual([]);
    expect(result.skipped.map((s) => s.ruleId)).toEqual(['APP-02']);
    expect(coverage?.status).toBe('failed');
  });

  it('an answer without defaultUserRolePermissions, or a value of two, fails the slice rather than passing', async () => {
    let sim = await start({ policy: { id: 'authorizationPolicy', displayName: 'Authorization Policy' } });
    const missing = await collectAuthorizationPolicy(testContext(sim.graph()));
    expect(missing.status).toBe('failed');
    expect(missing.detail).toMatch(/GET \/policies\/authorizationPolicy value\[0\]\.defaultUserRolePermissions/);
    await sim.close();
    t = undefined;
    sim = await start();
    sim.sim.setFaults([{ endpoint: 'authorizationPolicy', malformed: true }]);
    const { slices, coverage } = await app02(sim);
    expect(slices.authorizationPolicy?.status).toBe('failed');
    expect(coverage?.status).toBe('failed');
  });
});
