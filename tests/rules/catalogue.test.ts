/**
 * The contract of docs/controls.md (the repo's copy of shared/spec/controls.md): rule ids,
 * clauses, kinds and severities are read from the document itself, and the rule definitions, the
 * id list and the README's check tables are held to it. A change of the contract is made in the
 * document first; this test then says everything else that must follow.
 */
import { RULES } from '../../src/rules/index';
import { AREAS, RULE_IDS, SEVERITIES } from '../../src/rules/ids';
import { clause } from '../../src/standard/catalogue';
import { readControls, readReadmeChecks, severitiesIn } from '../support/controls-doc';

const controls = readControls();
const byId = new Map(controls.map((c) => [c.id, c]));

/** Which product areas a section of the document may put its rules in (roles are an account topic there). */
const SECTION_AREAS: Array<[RegExp, string[]]> = [
  [/^Accounts/, ['accounts', 'roles']],
  [/^MFA/, ['mfa']],
  [/^Mail/, ['mail']],
  [/^Sign-ins/, ['signins']],
  [/^Files/, ['files']],
  [/^Apps/, ['apps']],
];

describe('the control document', () => {
  it('is read: every row has an id, clauses, a kind and at least one severity', () => {
    expect(controls.length).toBeGreaterThanOrEqual(22);
    for (const c of controls) {
      expect(c.clauses.length).toBeGreaterThan(0);
      expect(['state', 'event']).toContain(c.kind);
      expect(c.severities.length).toBeGreaterThan(0);
    }
  });
  it('reads severities from the cells as written', () => {
    expect(severitiesIn('high; **critical** when any destination is free mail')).toEqual(['high', 'critical']);
    expect(severitiesIn('I: critical, II: high, III: medium')).toEqual(['critical', 'high', 'medium']);
  });
});

describe('rule catalogue', () => {
  it('has unique ids, and the id list is exactly the document\'s', () => {
    const ids = RULES.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...RULE_IDS]).toEqual(controls.map((c) => c.id));
  });
  it('implements every rule of the document', () => {
    expect(RULES.map((r) => r.id).sort()).toEqual(controls.map((c) => c.id).sort());
  });
  it.each(RULES.map((r) => [r.id, r] as const))('%s matches docs/controls.md and the clause catalogue', (id, rule) => {
    const c = byId.get(id);
    if (!c) throw new Error(`${id} is not in docs/controls.md`);
    expect({ clauses: [...rule.clauses], kind: rule.kind }).toEqual({ clauses: c.clauses, kind: c.kind });
    // A single severity is the rule's; a case-dependent cell must name the rule's default among its cases.
    if (c.severities.length === 1) expect(rule.severity).toBe(c.severities[0]);
    else expect(c.severities).toContain(rule.severity);
    const areas = SECTION_AREAS.find(([re]) => re.test(c.section))?.[1];
    expect(areas).toBeDefined();
    expect(areas).toContain(rule.area);
    expect(AREAS).toContain(rule.area);
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

describe('the README check tables', () => {
  const readme = readReadmeChecks();
  it('list every rule once, in the document\'s order', () => {
    expect(readme.map((r) => r.id)).toEqual(controls.map((c) => c.id));
  });
  it.each(readme.map((r) => [r.id, r] as const))('%s: clauses, area and severities as the document and the rule say', (id, row) => {
    const c = byId.get(id);
    const rule = RULES.find((r) => r.id === id);
    expect(row.clauses).toEqual(c?.clauses);
    expect(row.area).toBe(rule?.area);
    expect(row.severities).toEqual(c?.severities);
  });
});
