import { RULES } from '../../src/rules/index';
import {
  guestPrivileged, inactiveGuest, inactiveMember, leaverEnabled, sharedAccount, tooManyGlobalAdmins, weakPasswordAllowed,
} from '../../src/rules/accounts';
import { compliantTenant, daysAgo, fired, fixturePolicy, GA, TENANT_ID, USER_ADMIN, userOf, withTenant } from './fixture';

describe('the compliant fixture', () => {
  it.each(RULES.map((r) => [r.id, r] as const))('%s is silent on it', (_id, rule) => {
    expect(fired(rule, compliantTenant())).toEqual([]);
  });
});

describe('ACCT-01 shared account', () => {
  it.each(['shared01', 'kyoyo-uketsuke', 'KYOUYOU.somu', 'common', 'generic_2', 'Test1', 'temp.soumu', 'tmp'])('fires for the UPN local part %s', (local) => {
    const t = withTenant((t) => { userOf(t, 'u-member').userPrincipalName = `${local}@example.lg.jp`; });
    expect(fired(sharedAccount, t)).toEqual(['u-member']);
  });
  it.each(['testuser', 'sharedx', 'kyoyoko', 'tempest', 'contest'])('does not fire for the look-alike %s', (local) => {
    const t = withTenant((t) => { userOf(t, 'u-member').userPrincipalName = `${local}@example.lg.jp`; });
    expect(fired(sharedAccount, t)).toEqual([]);
  });
  it.each(['総務課 共用', '窓口共有アカウント'])('fires for the display name %s', (name) => {
    const t = withTenant((t) => { userOf(t, 'u-member').displayName = name; });
    expect(fired(sharedAccount, t)).toEqual(['u-member']);
  });
  it('does not fire for a disabled account or a guest', () => {
    const disabled = withTenant((t) => { const u = userOf(t, 'u-member'); u.userPrincipalName = 'shared01@example.lg.jp'; u.accountEnabled = false; });
    const guest = withTenant((t) => { userOf(t, 'u-guest').displayName = '共用'; });
    expect(fired(sharedAccount, disabled)).toEqual([]);
    expect(fired(sharedAccount, guest)).toEqual([]);
  });
  it('uses the policy patterns instead of the default', () => {
    const t = withTenant((t) => { userOf(t, 'u-member').userPrincipalName = 'madoguchi1@example.lg.jp'; });
    expect(fired(sharedAccount, t)).toEqual([]);
    expect(fired(sharedAccount, t, fixturePolicy({ accounts: { sharedAccountPatterns: ['^madoguchi\\d+$'] } }))).toEqual(['u-member']);
  });
});

describe('ACCT-02 inactive member', () => {
  it('fires just past 90 days and not at exactly 90', () => {
    const at = (days: number) => withTenant((t) => { userOf(t, 'u-member').lastSuccessfulSignInDateTime = daysAgo(days); });
    expect(fired(inactiveMember, at(90.001))).toEqual(['u-member']);
    expect(fired(inactiveMember, at(90))).toEqual([]);
    expect(fired(inactiveMember, at(89))).toEqual([]);
  });
  it('prefers lastSuccessfulSignInDateTime and falls back to lastSignInDateTime', () => {
    const recentSuccess = withTenant((t) => { const u = userOf(t, 'u-member'); u.lastSignInDateTime = daysAgo(200); u.lastSuccessfulSignInDateTime = daysAgo(5); });
    const noSuccess = withTenant((t) => { const u = userOf(t, 'u-member'); u.lastSignInDateTime = daysAgo(120); u.lastSuccessfulSignInDateTime = null; });
    expect(fired(inactiveMember, recentSuccess)).toEqual([]);
    expect(fired(inactiveMember, noSuccess)).toEqual(['u-member']);
  });
  it('judges a never-signed-in member by createdDateTime', () => {
    const never = (created: number) => withTenant((t) => {
      const u = userOf(t, 'u-member'); u.lastSignInDateTime = null; u.lastSuccessfulSignInDateTime = null; u.createdDateTime = daysAgo(created);
    });
    expect(fired(inactiveMember, never(91))).toEqual(['u-member']);
    expect(fired(inactiveMember, never(89))).toEqual([]);
  });
  it('skips emergency-access accounts, guests and disabled accounts; honours inactiveDays', () => {
    expect(fired(inactiveMember, compliantTenant(), fixturePolicy({ accounts: {} }))).toEqual(['u-breakglass']);
    const guest = withTenant((t) => { userOf(t, 'u-guest').lastSuccessfulSignInDateTime = daysAgo(300); });
    expect(fired(inactiveMember, guest)).toEqual([]);
    const disabled = withTenant((t) => { const u = userOf(t, 'u-member'); u.lastSuccessfulSignInDateTime = daysAgo(300); u.accountEnabled = false; });
    expect(fired(inactiveMember, disabled)).toEqual([]);
    const stale30 = withTenant((t) => { userOf(t, 'u-member').lastSuccessfulSignInDateTime = daysAgo(31); });
    expect(fired(inactiveMember, stale30, fixturePolicy({ accounts: { inactiveDays: 30, emergencyAccessAccounts: ['breakglass01@exampledemo.onmicrosoft.com'] } }))).toEqual(['u-member']);
  });
});

describe('ACCT-03 leaver still enabled', () => {
  it('fires once the leave date has passed, for any user type', () => {
    const past = withTenant((t) => { userOf(t, 'u-member').employeeLeaveDateTime = daysAgo(0.01); userOf(t, 'u-guest').employeeLeaveDateTime = daysAgo(3); });
    expect(fired(leaverEnabled, past)).toEqual(['u-guest', 'u-member']);
  });
  it('does not fire for a future leave date or a disabled account', () => {
    const future = withTenant((t) => { userOf(t, 'u-member').employeeLeaveDateTime = daysAgo(-1); });
    const disabled = withTenant((t) => { const u = userOf(t, 'u-member'); u.employeeLeaveDateTime = daysAgo(10); u.accountEnabled = false; });
    expect(fired(leaverEnabled, future)).toEqual([]);
    expect(fired(leaverEnabled, disabled)).toEqual([]);
  });
});

describe('ACCT-04 too many Global Administrators', () => {
  const addGa = (t: ReturnType<typeof compliantTenant>, n: number, via: 'active' | 'eligible') => {
    for (let i = 0; i < n; i++) {
      if (via === 'active') t.roles.assignments.push({ id: `x${i}`, principalId: `p${i}`, roleDefinitionId: GA, directoryScopeId: '/', principalType: 'user', principalName: null, principalUserType: 'Member' });
      else t.roles.eligibility?.push({ id: `e${i}`, principalId: `q${i}`, roleDefinitionId: GA, directoryScopeId: '/' });
    }
  };
  it('fires at 5 distinct principals and not at 4 (default maxGlobalAdmins 4)', () => {
    expect(fired(tooManyGlobalAdmins, withTenant((t) => addGa(t, 2, 'active')))).toEqual([]);
    expect(fired(tooManyGlobalAdmins, withTenant((t) => addGa(t, 3, 'active')))).toEqual([TENANT_ID]);
  });
  it('counts eligible holders and each principal once', () => {
    expect(fired(tooManyGlobalAdmins, withTenant((t) => addGa(t, 3, 'eligible')))).toEqual([TENANT_ID]);
    const dup = withTenant((t) => {
      addGa(t, 2, 'active');
      t.roles.eligibility?.push({ id: 'e-dup', principalId: 'u-admin', roleDefinitionId: GA, directoryScopeId: '/' });
    });
    expect(fired(tooManyGlobalAdmins, dup)).toEqual([]);
  });
  it('matches role definition ids whatever their case (GUIDs may come back upper case)', () => {
    const upper = withTenant((t) => {
      for (let i = 0; i < 3; i++) t.roles.assignments.push({ id: `u${i}`, principalId: `up${i}`, roleDefinitionId: GA.toUpperCase(), directoryScopeId: '/', principalType: 'user', principalName: null, principalUserType: 'Member' });
    });
    expect(fired(tooManyGlobalAdmins, upper)).toEqual([TENANT_ID]);
  });
  it('ignores other roles and honours maxGlobalAdmins', () => {
    const other = withTenant((t) => { for (let i = 0; i < 5; i++) t.roles.assignments.push({ id: `o${i}`, principalId: `o${i}`, roleDefinitionId: USER_ADMIN, directoryScopeId: '/', principalType: 'user', principalName: null, principalUserType: 'Member' }); });
    expect(fired(tooManyGlobalAdmins, other)).toEqual([]);
    expect(fired(tooManyGlobalAdmins, compliantTenant(), fixturePolicy({ accounts: { maxGlobalAdmins: 1 } }))).toEqual([TENANT_ID]);
  });
});

describe('ACCT-05 guest with a privileged role', () => {
  it('fires for an active or eligible privileged role', () => {
    const active = withTenant((t) => { t.roles.assignments.push({ id: 'g1', principalId: 'u-guest', roleDefinitionId: USER_ADMIN, directoryScopeId: '/', principalType: 'user', principalName: null, principalUserType: 'Guest' }); });
    const eligible = withTenant((t) => { t.roles.eligibility?.push({ id: 'g2', principalId: 'u-guest', roleDefinitionId: GA, directoryScopeId: '/' }); });
    expect(fired(guestPrivileged, active)).toEqual(['u-guest']);
    expect(fired(guestPrivileged, eligible)).toEqual(['u-guest']);
  });
  it('does not fire for a role outside privilegedRoles, or for a member', () => {
    const directoryReaders = withTenant((t) => { t.roles.assignments.push({ id: 'g3', principalId: 'u-guest', roleDefinitionId: '88d8e3e3-8f55-4a1e-953a-9b9898b8876b', directoryScopeId: '/', principalType: 'user', principalName: null, principalUserType: 'Guest' }); });
    expect(fired(guestPrivileged, directoryReaders)).toEqual([]);
    const narrowed = withTenant((t) => { t.roles.assignments.push({ id: 'g4', principalId: 'u-guest', roleDefinitionId: USER_ADMIN, directoryScopeId: '/', principalType: 'user', principalName: null, principalUserType: 'Guest' }); });
    expect(fired(guestPrivileged, narrowed, fixturePolicy({ accounts: { privilegedRoles: [GA] } }))).toEqual([]);
  });
});

describe('ACCT-06 inactive guest', () => {
  it('fires past guestInactiveDays since the last sign-in, not at it', () => {
    const at = (d: number) => withTenant((t) => { userOf(t, 'u-guest').lastSuccessfulSignInDateTime = daysAgo(d); });
    expect(fired(inactiveGuest, at(90.001))).toEqual(['u-guest']);
    expect(fired(inactiveGuest, at(90))).toEqual([]);
  });
  it('gives a never-signed-in guest guestGraceDays from creation', () => {
    const never = (created: number) => withTenant((t) => {
      const u = userOf(t, 'u-guest'); u.lastSignInDateTime = null; u.lastSuccessfulSignInDateTime = null; u.createdDateTime = daysAgo(created);
    });
    expect(fired(inactiveGuest, never(30.001))).toEqual(['u-guest']);
    expect(fired(inactiveGuest, never(30))).toEqual([]);
  });
  it('does not fire for members or disabled guests', () => {
    const disabled = withTenant((t) => { const u = userOf(t, 'u-guest'); u.accountEnabled = false; u.lastSuccessfulSignInDateTime = daysAgo(400); });
    expect(fired(inactiveGuest, disabled)).toEqual([]);
    const member = withTenant((t) => { userOf(t, 'u-member').lastSuccessfulSignInDateTime = daysAgo(400); });
    expect(fired(inactiveGuest, member)).toEqual([]);
  });
});

describe('ACCT-07 strong password disabled', () => {
  it.each(['DisableStrongPassword', 'DisablePasswordExpiration, DisableStrongPassword'])('fires for %s', (p) => {
    expect(fired(weakPasswordAllowed, withTenant((t) => { userOf(t, 'u-guest').passwordPolicies = p; }))).toEqual(['u-guest']);
  });
  it('does not fire for DisablePasswordExpiration alone or a disabled account', () => {
    expect(fired(weakPasswordAllowed, withTenant((t) => { userOf(t, 'u-member').passwordPolicies = 'DisablePasswordExpiration'; }))).toEqual([]);
    expect(fired(weakPasswordAllowed, withTenant((t) => { const u = userOf(t, 'u-member'); u.passwordPolicies = 'DisableStrongPassword'; u.accountEnabled = false; }))).toEqual([]);
  });
});
