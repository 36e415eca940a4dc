/**
 * MFA-05: holders of `mfa.phishingResistantRoles` registered for MFA without a phishing-resistant
 * method. The compliant fixture's Global Administrators hold a passkey / FIDO2 key; each test
 * changes one thing. What cannot be decided is reported through `undecided`, never as a pass.
 */
import type { SliceData } from '../../src/collect/snapshot';
import { evaluate } from '../../src/rules/engine';
import { methodClass, privilegedWithoutMfa, privilegedWithoutPhishingResistantMfa as rule } from '../../src/rules/mfa';
import { RULES } from '../../src/rules/index';
import type { Snapshot } from '../../src/collect/snapshot';
import { compliantTenant, fired, fixturePolicy, GA, NOW, TENANT_ID, USER_ADMIN, withTenant } from './fixture';

const methods = (t: SliceData, id: string, list: string[] | undefined): void => {
  const r = t.mfaRegistration.find((x) => x.id === id);
  if (!r) throw new Error(`no registration for ${id}`);
  if (list === undefined) delete r.methodsRegistered;
  else r.methodsRegistered = list;
};
const undecided = (t: SliceData, policy = fixturePolicy()): string[] => rule.undecided?.(t as never, { policy, now: NOW, tenantId: TENANT_ID }) ?? [];
const EXCHANGE = '29232cdf-9323-42fd-ade2-1d097af3e4de';
const INTUNE = '3a2c62db-5318-420d-8d74-23affee5d9d5';

describe('MFA-05 administrator without phishing-resistant MFA', () => {
  it('is silent on the compliant tenant, with nothing undecided', () => {
    expect(fired(rule, compliantTenant())).toEqual([]);
    expect(undecided(compliantTenant())).toEqual([]);
  });

  it('fires when the Global Administrator has only phishable methods, with the methods and roles as evidence', () => {
    const t = withTenant((t) => methods(t, 'u-admin', ['mobilePhone', 'microsoftAuthenticatorPush', 'microsoftAuthenticatorPasswordless']));
    const [draft, ...rest] = rule.evaluate(t, { policy: fixturePolicy(), now: NOW, tenantId: TENANT_ID });
    expect(rest).toEqual([]);
    expect(draft).toEqual({
      subject: { kind: 'user', id: 'u-admin', name: 'hanako.suzuki@example.lg.jp' },
      evidence: {
        isMfaRegistered: true,
        methodsRegistered: ['mobilePhone', 'microsoftAuthenticatorPush', 'microsoftAuthenticatorPasswordless'],
        roles: [{ role: 'Global Administrator', roleId: GA, via: 'active' }],
      },
    });
  });

  it('fires for the emergency-access account too (no exemption: FIDO2 is what it should hold)', () => {
    expect(fired(rule, withTenant((t) => methods(t, 'u-breakglass', ['mobilePhone'])))).toEqual(['u-breakglass']);
  });

  it('reaches eligible holders and members of a role-holding group', () => {
    const eligible = withTenant((t) => t.roles.eligibility?.push({ id: 'e', principalId: 'u-member', roleDefinitionId: USER_ADMIN, directoryScopeId: '/' }));
    expect(fired(rule, eligible)).toEqual(['u-member']);
    const viaGroup = withTenant((t) => {
      t.roles.assignments.push({ id: 'g', principalId: 'g-ex', roleDefinitionId: EXCHANGE, directoryScopeId: '/', principalType: 'group', principalName: 'Exchange 管理', principalUserType: null });
      t.roles.groups = [{ id: 'g-ex', displayName: 'Exchange 管理', members: [{ id: 'u-member', userPrincipalName: 'kenta.sato@example.lg.jp', userType: 'Member', accountEnabled: true }] }];
    });
    expect(fired(rule, viaGroup)).toEqual(['u-member']);
  });

  it('counts every documented phishing-resistant value, in any case, as compliant', () => {
    for (const m of ['fido2', 'FIDO2SecurityKey', 'passKeyDeviceBound', 'passkeydeviceboundauthenticator', 'passKeyDeviceBoundWindowsHello', 'passKeySynced', 'WindowsHelloForBusiness', 'macOsSecureEnclaveKey', 'x509CertificateMultiFactor']) {
      expect([m, methodClass(m)]).toEqual([m, 'phishingResistant']);
      expect(fired(rule, withTenant((t) => methods(t, 'u-admin', ['mobilePhone', m])))).toEqual([]);
    }
    for (const m of ['microsoftAuthenticatorPush', 'softwareOneTimePasscode', 'hardwareOneTimePasscode', 'temporaryAccessPass', 'email', 'x509CertificateSingleFactor']) {
      expect([m, methodClass(m)]).toEqual([m, 'phishable']);
    }
  });

  it('does not fire for a role outside the policy list, an unregistered holder (MFA-01), a disabled or a non-holder', () => {
    const intune = withTenant((t) => t.roles.assignments.push({ id: 'i', principalId: 'u-member', roleDefinitionId: INTUNE, directoryScopeId: '/', principalType: 'user', principalName: null, principalUserType: 'Member' }));
    expect(fired(rule, intune)).toEqual([]);
    expect(fired(rule, withTenant((t) => methods(t, 'u-admin', ['mobilePhone'])), fixturePolicy({ mfa: { phishingResistantRoles: [USER_ADMIN] } }))).toEqual([]);
    const unregistered = withTenant((t) => {
      const r = t.mfaRegistration.find((x) => x.id === 'u-admin');
      if (r) { r.isMfaRegistered = false; r.methodsRegistered = []; }
    });
    expect(fired(rule, unregistered)).toEqual([]);
    expect(fired(privilegedWithoutMfa, unregistered)).toEqual(['u-admin']);
    const disabled = withTenant((t) => {
      methods(t, 'u-admin', ['mobilePhone']);
      const u = t.users.find((x) => x.id === 'u-admin');
      if (u) u.accountEnabled = false;
    });
    expect(fired(rule, disabled)).toEqual([]);
    expect(undecided(disabled)).toEqual([]);
    expect(fired(rule, withTenant((t) => methods(t, 'u-member', ['mobilePhone'])))).toEqual([]);
  });

  it('does not decide — never passes — a holder without a record, without methodsRegistered, or with a method it cannot class', () => {
    const noRecord = withTenant((t) => { t.mfaRegistration = t.mfaRegistration.filter((r) => r.id !== 'u-admin'); });
    expect(fired(rule, noRecord)).toEqual([]);
    expect(undecided(noRecord)).toEqual(['hanako.suzuki@example.lg.jp (no registration record read)']);
    const oldSnapshot = withTenant((t) => methods(t, 'u-admin', undefined));
    expect(fired(rule, oldSnapshot)).toEqual([]);
    expect(undecided(oldSnapshot)).toEqual([expect.stringContaining('methodsRegistered not in the snapshot')]);
    const unknown = withTenant((t) => methods(t, 'u-admin', ['mobilePhone', 'certificateBasedAuthentication']));
    expect(fired(rule, unknown)).toEqual([]);
    expect(undecided(unknown)).toEqual(['hanako.suzuki@example.lg.jp (method(s) certificateBasedAuthentication not classed as phishing-resistant or not)']);
    // A phishing-resistant method beside an unknown one decides.
    expect(undecided(withTenant((t) => methods(t, 'u-admin', ['fido2', 'externalAuthMethod'])))).toEqual([]);
  });

  it('through the engine: an undecided holder makes the mfa coverage partial, names them, and keeps MFA-05 from resolving', () => {
    const snapshotOf = (t: SliceData): Snapshot => ({
      tenantId: TENANT_ID,
      takenAt: NOW,
      slices: Object.fromEntries(Object.entries(t).map(([k, v]) => [k, { status: 'complete', data: v, items: Array.isArray(v) ? v.length : 1 }])),
    });
    const ok = evaluate(snapshotOf(compliantTenant()), RULES, fixturePolicy(), ['mfa', 'roles']);
    expect(ok.coverage.mfa?.status).toBe('complete');
    expect(ok.completeRules).toContain('MFA-05');
    const t = withTenant((t) => methods(t, 'u-admin', undefined));
    const e = evaluate(snapshotOf(t), RULES, fixturePolicy(), ['mfa', 'roles']);
    expect(e.coverage.mfa?.status).toBe('partial');
    expect(e.coverage.mfa?.detail).toContain('MFA-05 not decided for 1: hanako.suzuki@example.lg.jp (methodsRegistered not in the snapshot');
    expect(e.completeRules).not.toContain('MFA-05');
    expect(e.completeRules).toContain('MFA-01');
    expect(e.findings.filter((f) => f.ruleId === 'MFA-05')).toEqual([]);
  });
});
