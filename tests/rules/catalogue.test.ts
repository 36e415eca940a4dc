/**
 * The contract of controls.md: rule ids, clauses, kinds, severities and areas. A change here is a
 * change of the contract, and must be made in controls.md first.
 */
import { RULES } from '../../src/rules/index';
import { RULE_IDS, SEVERITIES } from '../../src/rules/ids';
import { clause } from '../../src/standard/catalogue';

const CONTRACT: Record<string, { clauses: string[]; kind: 'state' | 'event'; severity: string; area: string }> = {
  'ACCT-01': { clauses: ['5-1-1'], kind: 'state', severity: 'medium', area: 'accounts' },
  'ACCT-02': { clauses: ['4-1-2'], kind: 'state', severity: 'medium', area: 'accounts' },
  'ACCT-03': { clauses: ['4-1-2'], kind: 'state', severity: 'high', area: 'accounts' },
  'ACCT-04': { clauses: ['5-1-4'], kind: 'state', severity: 'medium', area: 'roles' },
  'ACCT-05': { clauses: ['5-1-4', '5-2-1'], kind: 'state', severity: 'high', area: 'roles' },
  'ACCT-06': { clauses: ['7-5-1', '6-1-4'], kind: 'state', severity: 'medium', area: 'accounts' },
  'ACCT-07': { clauses: ['5-1-2'], kind: 'state', severity: 'medium', area: 'accounts' },
  'MFA-01': { clauses: ['5-1-3'], kind: 'state', severity: 'critical', area: 'mfa' },
  'MFA-02': { clauses: ['5-1-3', '6-2-2'], kind: 'state', severity: 'high', area: 'mfa' },
  'MFA-03': { clauses: ['5-1-3'], kind: 'state', severity: 'critical', area: 'mfa' },
  'MFA-04': { clauses: ['5-4-4'], kind: 'state', severity: 'high', area: 'mfa' },
  'MAIL-01': { clauses: ['5-7-4', '5-7-1'], kind: 'state', severity: 'high', area: 'mail' },
  'SIGN-01': { clauses: ['5-3-3'], kind: 'event', severity: 'high', area: 'signins' },
  'SIGN-02': { clauses: ['5-3-3'], kind: 'event', severity: 'high', area: 'signins' },
  'SIGN-03': { clauses: ['5-3-3'], kind: 'event', severity: 'critical', area: 'signins' },
  'SIGN-04': { clauses: ['5-4-4', '5-8-2'], kind: 'event', severity: 'medium', area: 'signins' },
  'SIGN-05': { clauses: ['5-4-4'], kind: 'event', severity: 'high', area: 'signins' },
  'FILE-01': { clauses: ['5-9-1', '2-3-1'], kind: 'state', severity: 'medium', area: 'files' },
  'FILE-02': { clauses: ['5-9-1'], kind: 'state', severity: 'high', area: 'files' },
  'FILE-03': { clauses: ['5-9-1'], kind: 'state', severity: 'medium', area: 'files' },
  'FILE-04': { clauses: ['5-9-1'], kind: 'state', severity: 'high', area: 'files' },
  'FILE-05': { clauses: ['2-2'], kind: 'state', severity: 'low', area: 'files' },
};

describe('rule catalogue', () => {
  it('has unique ids, all from controls.md', () => {
    const ids = RULES.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(RULE_IDS).toContain(id);
  });
  it('implements exactly the rules of this release', () => {
    expect(RULES.map((r) => r.id).sort()).toEqual(Object.keys(CONTRACT).sort());
  });
  it.each(RULES.map((r) => [r.id, r] as const))('%s matches controls.md and the clause catalogue', (id, rule) => {
    const c = CONTRACT[id];
    expect(c).toBeDefined();
    expect({ clauses: [...rule.clauses], kind: rule.kind, severity: rule.severity, area: rule.area }).toEqual(c);
    for (const cl of rule.clauses) {
      expect(clause(cl)).toBeDefined();
      expect(clause(cl)?.automatable).toBe(true);
    }
    expect(SEVERITIES).toContain(rule.severity);
    for (const lang of ['ja', 'en'] as const) {
      expect(rule.title[lang].trim().length).toBeGreaterThan(3);
      expect(rule.remediation[lang].trim().length).toBeGreaterThan(20);
    }
    expect(rule.requires.length).toBeGreaterThan(0);
  });
});
