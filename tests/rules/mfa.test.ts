import { legacyAuthNotBlocked, memberWithoutMfa, noMfaPolicy, privilegedWithoutMfa } from '../../src/rules/mfa';
import { compliantTenant, fired, fixturePolicy, GA, TENANT_ID, USER_ADMIN, withTenant } from './fixture';
import type { SliceData } from '../../src/collect/snapshot';

const unregister = (t: SliceData, id: string) => {
  const r = t.mfaRegistration.find((x) => x.id === id);
  if (!r) throw new Error(`no registration for ${id}`);
  r.isMfaRegistered = false;
};

describe('MFA-01 privileged user without MFA', () => {
  it('fires for an active privileged holder without MFA, and MFA-02 then stays silent', () => {
    const t = withTenant((t) => unregister(t, 'u-admin'));
    expect(fired(privilegedWithoutMfa, t)).toEqual(['u-admin']);
    expect(fired(memberWithoutMfa, t)).toEqual([]);
  });
  it('fires for an eligible-only holder and for the emergency account (no exemption in MFA-01)', () => {
    const eligible = withTenant((t) => { unregister(t, 'u-member'); t.roles.eligibility?.push({ id: 'e', principalId: 'u-member', roleDefinitionId: USER_ADMIN, directoryScopeId: '/' }); });
    expect(fired(privilegedWithoutMfa, eligible)).toEqual(['u-member']);
    expect(fired(privilegedWithoutMfa, withTenant((t) => unregister(t, 'u-breakglass')))).toEqual(['u-breakglass']);
  });
  it('does not fire without a registration record (disabled users are omitted) or for a non-privileged role', () => {
    const noRecord = withTenant((t) => { t.mfaRegistration = t.mfaRegistration.filter((r) => r.id !== 'u-admin'); });
    expect(fired(privilegedWithoutMfa, noRecord)).toEqual([]);
    const narrowed = withTenant((t) => unregister(t, 'u-admin'));
    expect(fired(privilegedWithoutMfa, narrowed, fixturePolicy({ accounts: { privilegedRoles: [USER_ADMIN] } }))).toEqual([]);
  });
});

describe('MFA-02 member without MFA', () => {
  it('fires for an enabled member without MFA', () => {
    expect(fired(memberWithoutMfa, withTenant((t) => unregister(t, 'u-member')))).toEqual(['u-member']);
  });
  it('does not fire for guests, emergency accounts, disabled accounts or privileged holders', () => {
    expect(fired(memberWithoutMfa, withTenant((t) => unregister(t, 'u-guest')))).toEqual([]);
    expect(fired(memberWithoutMfa, withTenant((t) => unregister(t, 'u-breakglass')))).toEqual([]);
    expect(fired(memberWithoutMfa, withTenant((t) => { unregister(t, 'u-member'); const u = t.users.find((x) => x.id === 'u-member'); if (u) u.accountEnabled = false; }))).toEqual([]);
    expect(fired(memberWithoutMfa, withTenant((t) => { unregister(t, 'u-member'); t.roles.assignments.push({ id: 'z', principalId: 'u-member', roleDefinitionId: GA, directoryScopeId: '/', principalType: 'user', principalName: null, principalUserType: 'Member' }); }))).toEqual([]);
  });
});

describe('MFA-03 no MFA policy for all users', () => {
  const mfaPolicy = (t: SliceData) => {
    const p = t.conditionalAccess.find((x) => x.id === 'ca-mfa');
    if (!p) throw new Error('fixture lacks ca-mfa');
    return p;
  };
  it.each([
    ['report-only', (t: SliceData) => { mfaPolicy(t).state = 'enabledForReportingButNotEnforced'; }],
    ['disabled', (t: SliceData) => { mfaPolicy(t).state = 'disabled'; }],
    ['some users only', (t: SliceData) => { mfaPolicy(t).includeUsers = ['u-member']; }],
    ['some apps only', (t: SliceData) => { mfaPolicy(t).includeApplications = ['00000003-0000-0ff1-ce00-000000000000']; }],
    ['no MFA control', (t: SliceData) => { mfaPolicy(t).builtInControls = ['compliantDevice']; }],
    ['no policy at all', (t: SliceData) => { t.conditionalAccess = []; }],
  ])('fires when the policy is %s', (_name, change) => {
    expect(fired(noMfaPolicy, withTenant(change))).toEqual([TENANT_ID]);
  });
  it('accepts an authentication strength instead of the mfa control, and security defaults instead of CA', () => {
    expect(fired(noMfaPolicy, withTenant((t) => { const p = mfaPolicy(t); p.builtInControls = []; p.hasAuthenticationStrength = true; }))).toEqual([]);
    expect(fired(noMfaPolicy, withTenant((t) => { t.conditionalAccess = []; t.securityDefaults.isEnabled = true; }))).toEqual([]);
  });
});

describe('MFA-04 legacy authentication not blocked', () => {
  const legacy = (t: SliceData) => {
    const p = t.conditionalAccess.find((x) => x.id === 'ca-legacy');
    if (!p) throw new Error('fixture lacks ca-legacy');
    return p;
  };
  it.each([
    ['without "other"', (t: SliceData) => { legacy(t).clientAppTypes = ['exchangeActiveSync']; }],
    ['without "exchangeActiveSync"', (t: SliceData) => { legacy(t).clientAppTypes = ['other']; }],
    ['report-only', (t: SliceData) => { legacy(t).state = 'enabledForReportingButNotEnforced'; }],
    ['granting instead of blocking', (t: SliceData) => { legacy(t).builtInControls = ['mfa']; }],
  ])('fires when the block policy is %s', (_name, change) => {
    expect(fired(legacyAuthNotBlocked, withTenant(change))).toEqual([TENANT_ID]);
  });
  it('is satisfied by security defaults', () => {
    expect(fired(legacyAuthNotBlocked, withTenant((t) => { t.conditionalAccess = []; t.securityDefaults.isEnabled = true; }))).toEqual([]);
  });
});

describe('compliant fixture sanity', () => {
  it('has the policies the MFA rules look for', () => {
    expect(compliantTenant().conditionalAccess.map((p) => p.id)).toEqual(['ca-mfa', 'ca-legacy']);
  });
});
