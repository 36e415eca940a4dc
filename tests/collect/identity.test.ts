/**
 * Identity collectors against the simulator over HTTPS: real shapes in, normalised slices out;
 * 403 on PIM → partial roles; a bad record → partial with the field named; a failing endpoint →
 * failed slice and no rule run on it.
 */
import { collectMfaRegistration, collectRoles, collectUsers, collectConditionalAccess, collectSecurityDefaults, collectDomains } from '../../src/collect/identity';
import { collect } from '../../src/pipeline';
import { coverageOf, evaluate } from '../../src/rules/engine';
import { RULES } from '../../src/rules/index';
import { defaultPolicy } from '../../src/config/policy';
import type { JsonObject } from '../../src/sim/tenant';
import { startTestSim, testContext, type TestSim } from '../support/sim';

let t: TestSim;
beforeEach(async () => {
  t = await startTestSim({ throttle: false, maxPageSize: { users: 9 } });
});
afterEach(async () => {
  await t.close();
});

const now = () => new Date();

describe('users', () => {
  it('reads every page and normalises Graph\'s "never" sentinels to null', async () => {
    const slice = await collectUsers(testContext(t.graph()));
    expect(slice.status).toBe('complete');
    if (slice.status === 'failed') return;
    expect(slice.items).toBe(t.sim.tenant.users.length);
    expect(t.sim.counts().users).toBe(Math.ceil(t.sim.tenant.users.length / 9));
    const raw = new Map(t.sim.tenant.users.map((u) => [u.id as string, u]));
    for (const u of slice.data) {
      const activity = (raw.get(u.id)?.signInActivity ?? {}) as JsonObject;
      const rawSuccess = activity.lastSuccessfulSignInDateTime;
      if (rawSuccess === '' || rawSuccess === '0001-01-01T00:00:00Z' || rawSuccess == null) expect(u.lastSuccessfulSignInDateTime).toBeNull();
      else expect(u.lastSuccessfulSignInDateTime).toBe(new Date(rawSuccess as string).toISOString());
    }
    expect(slice.data.some((u) => u.userType === 'Guest')).toBe(true);
  });

  it('skips an unreadable record, names its field, and marks the slice partial', async () => {
    const victim = t.sim.tenant.users[2] as JsonObject;
    victim.accountEnabled = 'yes';
    const slice = await collectUsers(testContext(t.graph()));
    expect(slice.status).toBe('partial');
    if (slice.status === 'failed') return;
    expect(slice.items).toBe(t.sim.tenant.users.length - 1);
    expect(slice.detail).toMatch(new RegExp(`value\\[\\d+\\]\\.accountEnabled \\(id ${victim.id as string}\\): `));
  });
});

describe('MFA registration, policies, domains', () => {
  it('reads the registration report with lower-case user types', async () => {
    const slice = await collectMfaRegistration(testContext(t.graph()));
    expect(slice).toMatchObject({ status: 'complete', items: t.sim.tenant.userRegistrationDetails.length });
    if (slice.status !== 'failed') expect(new Set(slice.data.map((r) => r.userType))).toEqual(new Set(['member', 'guest']));
  });

  it('reads security defaults, Conditional Access and domains', async () => {
    const ctx = testContext(t.graph());
    expect(await collectSecurityDefaults(ctx)).toMatchObject({ status: 'complete', data: { isEnabled: t.sim.tenant.securityDefaults.isEnabled } });
    const ca = await collectConditionalAccess(ctx);
    expect(ca).toMatchObject({ status: 'complete', items: t.sim.tenant.conditionalAccessPolicies.length });
    const domains = await collectDomains(ctx);
    expect(domains.status).toBe('complete');
    if (domains.status !== 'failed') expect(domains.data.filter((d) => d.isVerified).map((d) => d.id)).toContain('example.lg.jp');
  });
});

describe('roles', () => {
  it('reads active assignments with their principals and eligible schedules', async () => {
    const slice = await collectRoles(testContext(t.graph()));
    expect(slice.status).toBe('complete');
    if (slice.status === 'failed') return;
    expect(slice.data.assignments).toHaveLength(t.sim.tenant.roleAssignments.length);
    expect(slice.data.assignments.every((a) => (a.principalType === 'user' || a.principalType === 'group') && a.principalName)).toBe(true);
    expect(slice.data.eligibility).not.toBeNull();
    // The demo tenant's role-assignable groups, each read once with its members.
    expect(slice.data.groups?.map((g) => `${g.displayName}: ${g.members?.length}`).sort()).toEqual(
      (t.sim.tenant.groups ?? []).map((g) => `${String(g.displayName)}: ${t.sim.tenant.groupMembers?.[g.id as string]?.length}`).sort(),
    );
    expect(t.sim.counts().groupTransitiveMembers).toBe(t.sim.tenant.groups?.length);
  });

  it('turns a 403 on roleEligibilitySchedules into partial coverage, keeping active assignments', async () => {
    t.sim.setFaults([{ endpoint: 'roleEligibilitySchedules', status: 403 }]);
    const slice = await collectRoles(testContext(t.graph()));
    expect(slice.status).toBe('partial');
    if (slice.status === 'failed') return;
    expect(slice.data.eligibility).toBeNull();
    expect(slice.data.assignments.length).toBeGreaterThan(0);
    expect(slice.detail).toMatch(/roleEligibilitySchedules: 403 \(needs Entra ID P2/);
  });
});

describe('a failed collection', () => {
  it('is a failed slice: the rules reading it do not run and coverage says failed, not compliant', async () => {
    t.sim.setFaults([{ endpoint: 'userRegistrationDetails', status: 403 }]);
    const graph = t.graph();
    const { slice: _slice, ...base } = testContext(graph);
    const slices = await collect(['users', 'mfaRegistration', 'roles', 'securityDefaults', 'conditionalAccess'], base);
    expect(slices.mfaRegistration).toMatchObject({ status: 'failed' });
    expect(slices.mfaRegistration?.detail).toMatch(/403 \(Authorization_RequestDenied.*AuditLog\.Read\.All/);
    const snapshot = { tenantId: t.sim.tenant.tenantId, takenAt: now(), slices };
    const result = evaluate(snapshot, RULES, defaultPolicy(), ['accounts', 'mfa', 'roles']);
    expect(result.coverage.mfa?.status).toBe('failed');
    expect(result.coverage.accounts?.status).toBe('complete');
    expect(result.skipped.map((s) => s.ruleId).sort()).toEqual(['MFA-01', 'MFA-02']);
    expect(result.findings.some((f) => f.ruleId === 'MFA-01' || f.ruleId === 'MFA-02')).toBe(false);
    expect(coverageOf(snapshot, RULES, ['mfa']).mfa?.detail).toMatch(/^mfaRegistration: /);
  });

  it('a malformed JSON answer fails the slice with a message naming the endpoint', async () => {
    t.sim.setFaults([{ endpoint: 'conditionalAccess', malformed: true }]);
    const { slice: _slice, ...base } = testContext(t.graph());
    const slices = await collect(['conditionalAccess', 'securityDefaults'], base);
    expect(slices.conditionalAccess).toMatchObject({ status: 'failed' });
    expect(slices.conditionalAccess?.detail).toMatch(/^GET \/identity\/conditionalAccess\/policies answered 200 with a body that is not valid JSON/);
    expect(slices.securityDefaults?.status).toBe('complete');
  });
});
