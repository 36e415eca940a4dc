/**
 * Which rules may resolve their findings after a scan (`completeRules`): those whose
 * resolution inputs were all complete. A rule that ran on partial input resolves nothing — except
 * where an input can only move a finding to another rule (MFA-02 leaves privileged users to
 * MFA-01), so a tenant without Entra ID P2 (eligibility unreadable, roles partial) does not keep
 * a member's MFA-02 open forever after they register.
 */
import type { Slice, SliceData, SliceName, Snapshot } from '../../src/collect/snapshot';
import { evaluate } from '../../src/rules/engine';
import { RULES } from '../../src/rules/index';
import { compliantTenant, fixturePolicy, NOW, TENANT_ID } from './fixture';

function snapshotOf(tenant: SliceData, partial: Partial<Record<SliceName, string>> = {}): Snapshot {
  const slices: Snapshot['slices'] = {};
  for (const [name, data] of Object.entries(tenant) as Array<[SliceName, unknown]>) {
    const detail = partial[name];
    (slices as Record<string, Slice<unknown>>)[name] = detail ? { status: 'partial', data, items: 1, detail } : { status: 'complete', data, items: 1 };
  }
  return { tenantId: TENANT_ID, takenAt: NOW, slices };
}

describe('completeRules', () => {
  it('holds every rule when every input is complete', () => {
    const result = evaluate(snapshotOf(compliantTenant()), RULES, fixturePolicy(), ['accounts', 'mfa', 'roles']);
    expect(result.completeRules).toEqual(expect.arrayContaining(['ACCT-04', 'ACCT-05', 'MFA-01', 'MFA-02', 'MFA-03']));
  });

  it('without PIM data (roles partial): MFA-02 still resolves, the role rules do not', () => {
    const tenant = compliantTenant();
    tenant.roles.eligibility = null;
    const result = evaluate(snapshotOf(tenant, { roles: 'roleEligibilitySchedules: 403 (needs Entra ID P2)' }), RULES, fixturePolicy(), ['accounts', 'mfa', 'roles']);
    expect(result.completeRules).toContain('MFA-02');
    for (const id of ['ACCT-04', 'ACCT-05', 'MFA-01']) expect(result.completeRules).not.toContain(id);
    expect(result.coverage.mfa?.status).toBe('partial');
  });

  it('inbox rules partial only because a shard range failed, its mailboxes held (gapsHeld): MAIL-01 still resolves outside them', () => {
    const held = snapshotOf(compliantTenant(), { mailRules: 'mailboxes 11–20 of 50 failed: shard mailRules#1 failed' });
    const gap = held.slices.mailRules as Exclude<Slice<unknown>, { status: 'failed' }>;
    held.slices.mailRules = { ...gap, holds: ['user-11', 'user-12'], gapsHeld: true } as never;
    const result = evaluate(held, RULES, fixturePolicy(), ['mail']);
    expect(result.completeRules).toContain('MAIL-01');
    expect(result.holds).toEqual(['user-11', 'user-12']);
    expect(result.coverage.mail?.status).toBe('partial');
    expect(result.coverage.mail?.detail).toContain('mailboxes 11–20 of 50 failed');
    // Without the mark (a range partial for its own reasons), or with nothing held, nothing resolves.
    expect(evaluate(snapshotOf(compliantTenant(), { mailRules: 'x' }), RULES, fixturePolicy(), ['mail']).completeRules).not.toContain('MAIL-01');
    held.slices.mailRules = { ...gap, gapsHeld: true } as never;
    expect(evaluate(held, RULES, fixturePolicy(), ['mail']).completeRules).not.toContain('MAIL-01');
  });

  it('a partial registration report resolves no MFA-02 finding', () => {
    const result = evaluate(snapshotOf(compliantTenant(), { mfaRegistration: 'skipped 1 unreadable record(s)' }), RULES, fixturePolicy(), ['mfa']);
    expect(result.completeRules).not.toContain('MFA-02');
    expect(result.completeRules).not.toContain('MFA-01');
  });
});
