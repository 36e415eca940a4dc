/**
 * App-consent collection against the simulator over HTTPS: the authorization policy as the bare
 * object and as a collection of one, a 403 (no Policy.Read.All) and an unreadable answer as
 * failed coverage — never an APP-02 pass; the foreign apps' permissions (app roles resolved to
 * their values, AllPrincipals grants only), assignments read in $batch for foreign apps only,
 * paging, a 403 failing the slice and a failed assignment read making it partial.
 */
import { collectAppGrants, collectAuthorizationPolicy } from '../../src/collect/apps';
import { defaultPolicy, validatePolicy } from '../../src/config/policy';
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
  const { slice: _slice, ...base } = testContext(sim.graph(), { tenantId: demo.data.tenantId });
  const slices = await collect(['authorizationPolicy', 'appGrants'], base);
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
    // The apps area counts service principals (its primary slice), both slices complete.
    expect(coverage).toEqual({ status: 'complete', items: demo.data.servicePrincipals?.length });
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

  it('a 403 (no Policy.Read.All) fails the slice, naming the permission: APP-02 is not evaluated and the area is not complete', async () => {
    const sim = await start();
    sim.sim.setFaults([{ endpoint: 'authorizationPolicy', status: 403, code: 'Authorization_RequestDenied', message: 'Insufficient privileges to complete the operation.' }]);
    const { slices, result, coverage } = await app02(sim);
    expect(slices.authorizationPolicy?.status).toBe('failed');
    expect(slices.authorizationPolicy?.detail).toMatch(/403.*Policy\.Read\.All/);
    expect(result.findings.filter((f) => f.ruleId === 'APP-02')).toEqual([]);
    expect(result.skipped.map((s) => s.ruleId)).toEqual(['APP-02']);
    expect(coverage?.status).toBe('partial');
    expect(coverage?.detail).toMatch(/authorizationPolicy: .*403.*; not evaluated: APP-02 \(needs authorizationPolicy\)$/);
  });

  it('403 on both reads: the apps area is failed, with no finding', async () => {
    const sim = await start();
    sim.sim.setFaults([
      { endpoint: 'authorizationPolicy', status: 403, code: 'Authorization_RequestDenied' },
      { endpoint: 'servicePrincipals', status: 403, code: 'Authorization_RequestDenied' },
    ]);
    const { result, coverage } = await app02(sim);
    expect(result.findings).toEqual([]);
    expect(result.skipped.map((s) => s.ruleId).sort()).toEqual(['APP-01', 'APP-02']);
    expect(coverage?.status).toBe('failed');
  });

  it('an answer without defaultUserRolePermissions, or one that is not JSON, fails the slice rather than passing', async () => {
    let sim = await start({ policy: { id: 'authorizationPolicy', displayName: 'Authorization Policy' } });
    const missing = await collectAuthorizationPolicy(testContext(sim.graph()));
    expect(missing.status).toBe('failed');
    expect(missing.detail).toMatch(/GET \/policies\/authorizationPolicy value\[0\]\.defaultUserRolePermissions/);
    await sim.close();
    t = undefined;
    sim = await start();
    sim.sim.setFaults([{ endpoint: 'authorizationPolicy', malformed: true }]);
    const { slices, result } = await app02(sim);
    expect(slices.authorizationPolicy?.status).toBe('failed');
    expect(result.skipped.map((s) => s.ruleId)).toEqual(['APP-02']);
  });
});

describe('app grants', () => {
  const str = (v: unknown): string => String(v);
  const byName = (name: string): JsonObject => {
    const found = (demo.data.servicePrincipals ?? []).find((s) => s.displayName === name);
    if (!found) throw new Error(`no service principal ${name}`);
    return found;
  };
  const ctxFor = (sim: TestSim) => testContext(sim.graph(), { tenantId: demo.data.tenantId, policy: validatePolicy(demo.policy) });

  it('keeps only foreign apps, resolves app roles to values, and takes only tenant-wide delegated grants', async () => {
    const sim = await start();
    const slice = await collectAppGrants(ctxFor(sim));
    if (slice.status === 'failed') throw new Error(slice.detail);
    expect(slice.status).toBe('complete');
    expect(slice.data.servicePrincipals).toBe(demo.data.servicePrincipals?.length);
    const perms = Object.fromEntries(slice.data.apps.map((a) => [a.displayName, a.permissions.map((p) => `${p.type}:${p.value}`).sort()]));
    // Microsoft's apps and the tenant's own are not kept; the per-user grant of PDF 変換 Online is not read.
    expect(perms).toEqual({
      '勤怠クラウド連携': ['application:Calendars.Read', 'application:Mail.Read'],
      '文書保管サービス': ['application:Directory.ReadWrite.All'],
      'アンケート フォーム Pro': ['delegated:Files.ReadWrite.All', 'delegated:User.Read', 'delegated:offline_access', 'delegated:openid', 'delegated:profile'],
      'メール移行ツール': ['application:full_access_as_app'],
      '電子決裁システム': ['application:Mail.ReadWrite'],
      '施設予約': ['application:Calendars.Read', 'delegated:User.Read', 'delegated:openid'],
      'PDF 変換 Online': [],
    });
    expect(slice.data.apps.find((a) => a.displayName === 'メール移行ツール')?.permissions[0]).toMatchObject({ resourceName: 'Office 365 Exchange Online' });
    // appRoleAssignments were asked for the 7 foreign apps only (of 11), inside one $batch call.
    const counts = sim.sim.counts();
    expect(counts.servicePrincipalAppRoleAssignments).toBe(7);
    expect(counts.batch).toBe(1);
  });

  it('APP-01 on the collected slice: exactly the planted apps, with their severities', async () => {
    const sim = await start();
    const { slice: _slice, ...base } = ctxFor(sim);
    const slices = await collect(['appGrants'], base);
    const snapshot = { tenantId: demo.data.tenantId, takenAt: new Date(), slices };
    const result = evaluate(snapshot, RULES, validatePolicy(demo.policy), ['apps']);
    const found = result.findings.filter((f) => f.ruleId === 'APP-01').map((f) => [f.subject.name, f.severity]).sort();
    expect(found).toEqual([['アンケート フォーム Pro', 'high'], ['メール移行ツール', 'critical'], ['勤怠クラウド連携', 'critical'], ['文書保管サービス', 'high']].sort());
    expect(new Set(result.findings.filter((f) => f.ruleId === 'APP-01').map((f) => f.subject.id))).toEqual(new Set(demo.groundTruth.filter((g) => g.ruleId === 'APP-01').map((g) => g.subjectId)));
  });

  it('follows pages of service principals, assignments and grants', async () => {
    const tenant = JSON.parse(JSON.stringify(demo.data)) as typeof demo.data;
    t = await startTestSim({ tenant, throttle: false, maxPageSize: { servicePrincipals: 2, servicePrincipalAppRoleAssignments: 1, oauth2PermissionGrants: 1 } });
    const slice = await collectAppGrants(ctxFor(t));
    expect(slice.status).toBe('complete');
    if (slice.status !== 'failed') {
      expect(slice.data.servicePrincipals).toBe(tenant.servicePrincipals?.length);
      expect(slice.data.apps.find((a) => a.displayName === '勤怠クラウド連携')?.permissions.map((p) => p.value).sort()).toEqual(['Calendars.Read', 'Mail.Read']);
      expect(slice.data.apps.find((a) => a.displayName === '施設予約')?.permissions.map((p) => p.value).sort()).toEqual(['Calendars.Read', 'User.Read', 'openid']);
    }
  });

  it('a 403 on the service principal listing fails the slice: APP-01 is not evaluated and the area is partial', async () => {
    const sim = await start();
    sim.sim.setFaults([{ endpoint: 'servicePrincipals', status: 403, code: 'Authorization_RequestDenied', message: 'Insufficient privileges to complete the operation.' }]);
    const { slice: _slice, ...base } = ctxFor(sim);
    const slices = await collect(['appGrants', 'authorizationPolicy'], base);
    expect(slices.appGrants?.status).toBe('failed');
    expect(slices.appGrants?.detail).toMatch(/403.*Application\.Read\.All/);
    const snapshot = { tenantId: demo.data.tenantId, takenAt: new Date(), slices };
    const result = evaluate(snapshot, RULES, validatePolicy(demo.policy), ['apps']);
    expect(result.skipped.map((s) => s.ruleId)).toEqual(['APP-01']);
    expect(result.findings.map((f) => f.ruleId)).toEqual(['APP-02']);
    expect(coverageOf(snapshot, RULES, ['apps']).apps?.status).toBe('partial');
  });

  it('a failed assignment read of one app, or a 403 on the grants, makes the slice partial and names it', async () => {
    const sim = await start();
    const kintai = byName('勤怠クラウド連携');
    sim.sim.setFaults([
      { endpoint: 'servicePrincipalAppRoleAssignments', match: new RegExp(str(kintai.id)), status: 403, code: 'Authorization_RequestDenied' },
      { endpoint: 'oauth2PermissionGrants', status: 403, code: 'Authorization_RequestDenied' },
    ]);
    const slice = await collectAppGrants(ctxFor(sim));
    expect(slice.status).toBe('partial');
    expect(slice.detail).toMatch(/勤怠クラウド連携 .*application permissions could not be read \(403, needs Application\.Read\.All\)/);
    expect(slice.detail).toMatch(/oauth2PermissionGrants.*403.*Directory\.Read\.All.*not checked/);
    if (slice.status !== 'failed') expect(slice.data.apps.find((a) => a.displayName === '文書保管サービス')?.permissions.map((p) => p.value)).toEqual(['Directory.ReadWrite.All']);
  });
});
