/**
 * Identity collectors against the simulator over HTTPS: real shapes in, normalised slices out;
 * 403 on PIM → partial roles; a bad record → partial with the field named; a failing endpoint →
 * failed slice and no rule run on it.
 */
import { DEFAULT_COLLECT_OPTIONS } from '../../src/collect/context';
import { collectMfaRegistration, collectRoles, collectSignInActivity, collectUsers, collectConditionalAccess, collectSecurityDefaults, collectDomains } from '../../src/collect/identity';
import { collect } from '../../src/pipeline';
import { coverageOf, evaluate } from '../../src/rules/engine';
import { RULES } from '../../src/rules/index';
import { defaultPolicy } from '../../src/config/policy';
import type { JsonObject } from '../../src/sim/tenant';
import { generateDemoTenant } from '../../src/sim/demo-tenant';
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
  it('reads the unregistered users and the role holders\' records, with lower-case user types', async () => {
    // registrationPageSize 1: the MFA cost guard would read this 30-user tenant's one-page report
    // unfiltered (tests/collect/mfa-registration.test.ts); the filtered read is what is tested here.
    const slice = await collectMfaRegistration(testContext(t.graph(), { options: { ...DEFAULT_COLLECT_OPTIONS, registrationPageSize: 1 } }));
    const report = t.sim.tenant.userRegistrationDetails as JsonObject[];
    const unregistered = report.filter((r) => r.isMfaRegistered === false).length;
    expect(slice).toMatchObject({ status: 'complete', readFilter: { filter: 'isMfaRegistered eq false' } });
    if (slice.status === 'failed') return;
    expect(slice.items).toBeGreaterThan(unregistered);
    expect(slice.items).toBeLessThan(report.length);
    expect(slice.data.filter((r) => !r.isMfaRegistered)).toHaveLength(unregistered);
    expect(new Set(slice.data.map((r) => r.userType))).toEqual(new Set(['member', 'guest']));
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
    const slices = await collect(['users', 'mfaRegistration', 'roles', 'roleAssignmentInstances', 'securityDefaults', 'conditionalAccess'], base);
    expect(slices.mfaRegistration).toMatchObject({ status: 'failed' });
    expect(slices.mfaRegistration?.detail).toMatch(/403 \(Authorization_RequestDenied.*AuditLog\.Read\.All/);
    const snapshot = { tenantId: t.sim.tenant.tenantId, takenAt: now(), slices };
    const result = evaluate(snapshot, RULES, defaultPolicy(), ['accounts', 'mfa', 'roles']);
    // MFA-03/04 (policies) still ran: the area is partial, not failed, and names what was skipped.
    expect(result.coverage.mfa?.status).toBe('partial');
    expect(result.coverage.accounts?.status).toBe('complete');
    expect(result.skipped.map((s) => s.ruleId).sort()).toEqual(['MFA-01', 'MFA-02', 'MFA-05']);
    expect(result.findings.some((f) => f.ruleId === 'MFA-01' || f.ruleId === 'MFA-02' || f.ruleId === 'MFA-05')).toBe(false);
    expect(coverageOf(snapshot, RULES, ['mfa']).mfa?.detail).toMatch(/^mfaRegistration: .*; not evaluated: MFA-01 \(needs mfaRegistration\), MFA-02 \(needs mfaRegistration\), MFA-05 \(needs mfaRegistration\)$/);
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

describe('a refused token', () => {
  it('a 401 on the signInActivity read is not blamed on Entra ID P1: it fails as itself', async () => {
    t.sim.setFaults([{ endpoint: 'users', match: /signInActivity/i, status: 401, code: 'InvalidAuthenticationToken' }]);
    const { slice: _slice, ...base } = testContext(t.graph());
    const slices = await collect(['signInActivity'], base);
    expect(slices.signInActivity?.status).toBe('failed');
    expect(slices.signInActivity?.detail).toMatch(/answered 401 \(InvalidAuthenticationToken.*the access token was refused/);
    expect(slices.signInActivity?.detail).not.toMatch(/P1/);
  });
});

describe('a tenant without Entra ID P1', () => {
  it('falls back to the plain user list: only ACCT-02/06, MFA-01/02 and the SIGN rules are not evaluated', async () => {
    const free = await startTestSim({ throttle: false, licence: 'free' });
    try {
      const { slice: _slice, ...base } = testContext(free.graph());
      const slices = await collect(['users', 'signInActivity', 'mfaRegistration', 'roles', 'roleAssignmentInstances', 'securityDefaults', 'conditionalAccess', 'signIns'], base);
      expect(slices.signInActivity).toMatchObject({ status: 'failed' });
      expect(slices.signInActivity?.detail).toMatch(/answered 403 Authentication_RequestFromNonPremiumTenantOrB2CTenant: .*Entra ID P1.*AuditLog\.Read\.All/);
      // Every user is there, without last sign-in times (the plain list does not select them).
      expect(slices.users).toMatchObject({ status: 'complete', items: free.sim.tenant.users.length });
      if (slices.users?.status !== 'failed') expect(slices.users?.data.every((u) => u.lastSignInDateTime === null && u.lastSuccessfulSignInDateTime === null)).toBe(true);
      expect(slices.mfaRegistration?.detail).toMatch(/403 \(Authentication_RequestFromNonPremiumTenantOrB2CTenant/);
      expect(slices.signIns?.detail).toMatch(/403 \(Authentication_RequestFromNonPremiumTenantOrB2CTenant.*AuditLog\.Read\.All and Directory\.Read\.All/);
      const snapshot = { tenantId: free.sim.tenant.tenantId, takenAt: now(), slices };
      const result = evaluate(snapshot, RULES, defaultPolicy(), ['accounts', 'mfa', 'roles', 'signins']);
      expect(result.skipped.map((s) => s.ruleId).sort()).toEqual(['ACCT-02', 'ACCT-06', 'MFA-01', 'MFA-02', 'MFA-05', 'SIGN-01', 'SIGN-02', 'SIGN-03', 'SIGN-04', 'SIGN-05']);
      expect(result.coverage.accounts?.status).toBe('partial');
      expect(result.coverage.accounts?.detail).toMatch(/^signInActivity: .*Entra ID P1.*; not evaluated: ACCT-02 \(needs signInActivity\), ACCT-06 \(needs signInActivity\)$/);
      expect(result.coverage.mfa?.status).toBe('partial');
      expect(result.coverage.roles?.status).toBe('complete');
      expect(result.coverage.signins?.status).toBe('failed');
      // The rules that could run did: ACCT-01 and friends still see every user.
      expect(result.findings.some((f) => f.ruleId === 'ACCT-02' || f.ruleId === 'ACCT-06')).toBe(false);
    } finally {
      await free.close();
    }
  });
});

describe('signInActivity page size', () => {
  // 300 users: more than one page of 120, fewer than 500.
  const big = () => generateDemoTenant({ seed: 3, users: 300 }).data;

  it('a refused $top=500 (400) is read again at 120, every user once', async () => {
    const s = await startTestSim({ throttle: false, tenant: big(), signInActivityPaging: { maxSize: 120, oversize: 'refuse' } });
    try {
      const slice = await collectSignInActivity(testContext(s.graph()));
      expect(slice.status).toBe('complete');
      if (slice.status === 'failed') return;
      expect(slice.items).toBe(s.sim.tenant.users.length);
      expect(new Set(slice.data.map((u) => u.id)).size).toBe(s.sim.tenant.users.length);
      // One refused request, then ceil(n / 120) pages.
      expect(s.sim.counts().users).toBe(1 + Math.ceil(s.sim.tenant.users.length / 120));
    } finally {
      await s.close();
    }
  });

  it('a capped $top=500 is simply paged at the cap', async () => {
    const s = await startTestSim({ throttle: false, tenant: big(), signInActivityPaging: { maxSize: 120, oversize: 'cap' } });
    try {
      const slice = await collectSignInActivity(testContext(s.graph()));
      expect(slice).toMatchObject({ status: 'complete', items: s.sim.tenant.users.length });
      expect(s.sim.counts().users).toBe(Math.ceil(s.sim.tenant.users.length / 120));
    } finally {
      await s.close();
    }
  });

  it('a refusal on a later page starts the list over without counting the first page twice', async () => {
    const s = await startTestSim({ throttle: false, tenant: big(), maxPageSize: { users: 100 } });
    try {
      s.sim.setFaults([{ endpoint: 'users', match: /skiptoken/i, status: 400, code: 'Request_UnsupportedQuery', message: 'Cannot query data for more than 120 users at a time.', times: 1 }]);
      const slice = await collectSignInActivity(testContext(s.graph()));
      expect(slice.status).toBe('complete');
      if (slice.status === 'failed') return;
      expect(slice.data).toHaveLength(s.sim.tenant.users.length);
      expect(new Set(slice.data.map((u) => u.id)).size).toBe(s.sim.tenant.users.length);
    } finally {
      await s.close();
    }
  });
});
