/**
 * PIM's active assignment instances (ACCT-08) and the registration records MFA-05 needs, read from
 * the simulator over HTTPS: the real shape ("List roleAssignmentScheduleInstances", v1.0: the
 * docs' example has `startDateTime`/`endDateTime` null for a permanent `Assigned` instance)
 * normalised; `$expand=principal` refused → read again without it; no Entra ID P2 (403/401) → a
 * failed slice saying why, never an empty one.
 */
import { collectMfaRegistration, collectRoleAssignmentInstances, collectRoles } from '../../src/collect/identity';
import { defaultPolicy } from '../../src/config/policy';
import { roleHolders } from '../../src/rules/privileged';
import { generateDemoTenant } from '../../src/sim/demo-tenant';
import type { JsonObject, TenantData } from '../../src/sim/tenant';
import { startTestSim, testContext, type TestSim } from '../support/sim';

const GA = '62e90394-69f5-4237-9190-012177145e10';
let t: TestSim | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('roleAssignmentScheduleInstances', () => {
  it('reads every page of the demo tenant\'s instances, principals expanded, ends normalised', async () => {
    const demo = generateDemoTenant({ seed: 580, users: 40 });
    t = await startTestSim({ throttle: false, tenant: demo.data, maxPageSize: { roleAssignmentScheduleInstances: 3 } });
    const slice = await collectRoleAssignmentInstances(testContext(t.graph()));
    expect(slice.status).toBe('complete');
    if (slice.status === 'failed') return;
    const raw = demo.data.roleAssignmentScheduleInstances ?? [];
    expect(slice.items).toBe(raw.length);
    expect(t.sim.counts().roleAssignmentScheduleInstances).toBe(Math.ceil(raw.length / 3));
    // One time-bound instance (naoki.watanabe's Global Administrator), the rest permanent.
    const timeBound = slice.data.filter((i) => i.endDateTime !== null);
    expect(timeBound).toHaveLength(1);
    expect(timeBound[0]).toMatchObject({ roleDefinitionId: GA, assignmentType: 'Assigned', principalType: 'user', principalName: 'naoki.watanabe@example.lg.jp' });
    expect(Date.parse(timeBound[0]?.endDateTime ?? '')).toBeGreaterThan(Date.now());
    expect(slice.data.find((i) => i.principalName === '情報システム管理者グループ')).toMatchObject({ principalType: 'group', endDateTime: null, startDateTime: null, memberType: 'Direct' });
  });

  it('keeps assignmentType, memberType and both times as Graph writes them (an activated instance, a group-inherited one)', async () => {
    const base = generateDemoTenant({ seed: 581, users: 0 }).data;
    const someone = base.users[0] as JsonObject;
    const tenant: TenantData = {
      ...base,
      roleAssignmentScheduleInstances: [
        { id: 'i-act', principalId: someone.id ?? null, roleDefinitionId: GA.toUpperCase(), directoryScopeId: '/', appScopeId: null, startDateTime: '2026-11-30T01:00:00Z', endDateTime: '2026-11-30T09:00:00Z', assignmentType: 'Activated', memberType: 'Group', roleAssignmentOriginId: 'o', roleAssignmentScheduleId: 's' },
        { id: 'i-perm', principalId: 'sp-unknown', roleDefinitionId: GA, directoryScopeId: '/', appScopeId: null, startDateTime: '0001-01-01T00:00:00Z', endDateTime: null, assignmentType: 'Assigned', memberType: 'Direct', roleAssignmentOriginId: 'p', roleAssignmentScheduleId: 'p' },
      ],
    };
    t = await startTestSim({ throttle: false, tenant });
    const slice = await collectRoleAssignmentInstances(testContext(t.graph()));
    expect(slice.status).toBe('complete');
    if (slice.status === 'failed') return;
    expect(slice.data).toEqual([
      {
        id: 'i-act', principalId: someone.id, roleDefinitionId: GA, directoryScopeId: '/', assignmentType: 'Activated', memberType: 'Group',
        startDateTime: '2026-11-30T01:00:00.000Z', endDateTime: '2026-11-30T09:00:00.000Z', principalType: 'user', principalName: someone.userPrincipalName,
      },
      // Neither a user nor a group of the tenant: left unexpanded, as Graph drops what it cannot resolve.
      { id: 'i-perm', principalId: 'sp-unknown', roleDefinitionId: GA, directoryScopeId: '/', assignmentType: 'Assigned', memberType: 'Direct', startDateTime: null, endDateTime: null },
    ]);
  });

  it('reads again without $expand when the service refuses it (400)', async () => {
    t = await startTestSim({ throttle: false, faults: [{ endpoint: 'roleAssignmentScheduleInstances', match: /expand/i, status: 400, code: 'BadRequest' }] });
    const slice = await collectRoleAssignmentInstances(testContext(t.graph()));
    expect(slice.status).toBe('complete');
    if (slice.status === 'failed') return;
    expect(slice.items).toBe(t.sim.tenant.roleAssignmentScheduleInstances?.length);
    expect(slice.data.every((i) => i.principalType === undefined)).toBe(true);
    expect(t.sim.counts().roleAssignmentScheduleInstances).toBe(2);
  });

  it.each([403, 401])('a %i (no Entra ID P2 or no permission) fails the slice, saying what it needs', async (status) => {
    t = await startTestSim({ throttle: false, faults: [{ endpoint: 'roleAssignmentScheduleInstances', status, code: 'AadPremiumLicenseRequired' }] });
    const slice = await collectRoleAssignmentInstances(testContext(t.graph()));
    expect(slice).toEqual({
      status: 'failed',
      items: 0,
      detail: `roleAssignmentScheduleInstances: ${status} AadPremiumLicenseRequired (needs Entra ID P2 and RoleAssignmentSchedule.Read.Directory or RoleManagement.Read.Directory); permanent assignments were not checked`,
    });
  });

  it('a 401 InvalidAuthenticationToken is the credential, not PIM: it propagates (one cause with the other slices)', async () => {
    t = await startTestSim({ throttle: false, faults: [{ endpoint: 'roleAssignmentScheduleInstances', status: 401, code: 'InvalidAuthenticationToken' }] });
    await expect(collectRoleAssignmentInstances(testContext(t.graph()))).rejects.toThrow(/401/);
  });

  it('another error (404) is not taken for "no PIM": it propagates (the pipeline fails the slice with its own message)', async () => {
    t = await startTestSim({ throttle: false, faults: [{ endpoint: 'roleAssignmentScheduleInstances', status: 404, code: 'ResourceNotFound' }] });
    await expect(collectRoleAssignmentInstances(testContext(t.graph()))).rejects.toThrow();
  });
});

describe('registration records of MFA-05\'s holders', () => {
  it('the filtered read includes the record, with methodsRegistered, of every enabled holder of mfa.phishingResistantRoles — registered ones too', async () => {
    const demo = generateDemoTenant({ seed: 582, users: 40 });
    t = await startTestSim({ throttle: false, tenant: demo.data });
    const ctx = testContext(t.graph());
    const roles = await collectRoles(ctx);
    expect(roles.status).toBe('complete');
    if (roles.status === 'failed') return;
    const slice = await collectMfaRegistration(ctx);
    expect(slice.status).toBe('complete');
    if (slice.status === 'failed') return;
    const enabled = new Set(demo.data.users.filter((u) => u.accountEnabled === true).map((u) => String(u.id)));
    const holders = [...roleHolders(roles.data, defaultPolicy().mfa.phishingResistantRoles).values()].filter((h) => enabled.has(h.principalId));
    expect(holders.length).toBeGreaterThan(8);
    const read = new Map(slice.data.map((r) => [r.id, r]));
    for (const h of holders) expect([h.principalId, read.has(h.principalId)]).toEqual([h.principalId, true]);
    // Registered holders' methods came along: the Windows Hello and passkey near misses.
    const methods = holders.flatMap((h) => read.get(h.principalId)?.methodsRegistered ?? []);
    expect(methods).toEqual(expect.arrayContaining(['windowsHelloForBusiness', 'passKeyDeviceBoundAuthenticator', 'fido2']));
    expect(holders.filter((h) => read.get(h.principalId)?.isMfaRegistered === true).length).toBeGreaterThan(5);
  });
});
