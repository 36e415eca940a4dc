import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../src/errors';
import { DEFAULT_FREE_MAIL_DOMAINS, DEFAULT_HIGH_RISK_PERMISSIONS, DEFAULT_PHISHING_RESISTANT_ROLES, DEFAULT_PRIVILEGED_ROLES, defaultPolicy, parsePolicy } from '../../src/config/policy';
import { policyJsonSchema } from '../../src/config/schema';

function problems(yaml: string): string[] {
  try {
    parsePolicy(yaml, 'test.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return [...(err as ConfigError).problems];
  }
  throw new Error('expected the policy to be refused');
}

describe('policy file', () => {
  it('fills every default of controls.md', () => {
    const p = defaultPolicy();
    expect(p.organization).toMatchObject({ locale: 'ja', timeZone: 'Asia/Tokyo', internalDomains: [] });
    expect(p.accounts).toMatchObject({ inactiveDays: 90, guestInactiveDays: 90, guestGraceDays: 30, maxGlobalAdmins: 4, fullSignInActivityReadDays: 7 });
    expect(p.accounts.privilegedRoles).toHaveLength(13);
    expect(p.accounts.privilegedRoles).toEqual(Object.keys(DEFAULT_PRIVILEGED_ROLES));
    expect(p.mail.freeMailDomains).toEqual(DEFAULT_FREE_MAIL_DOMAINS);
    expect(p.signIns).toEqual({
      credentialFailureCodes: [50126, 50053, 50056, 50034, 500121], windowMinutes: 60, userFailureThreshold: 10,
      sprayUserThreshold: 5, successAfterFailuresThreshold: 5, allowedCountries: ['JP'],
    });
    expect(p.files).toEqual({ defaultClass: 'III', assets: [], fullEnumerationDays: 7, oneDriveSweepDays: 7 });
    expect(p.tickets.dueBusinessDays).toEqual({ critical: 1, high: 3, medium: 10, low: 20 });
    expect(p.alerts.minSeverity).toBe('high');
  });

  it('accepts the shipped example and keeps dates as written', () => {
    const p = parsePolicy(readFileSync(join(__dirname, '..', '..', 'policy.example.yaml'), 'utf8'));
    expect(p.organization.name).toBe('西置賜行政組合');
    expect(p.exceptions[0]).toMatchObject({ ruleId: 'ACCT-01', approvedOn: '2026-04-01', expiresOn: '2027-03-31' });
    expect(p.files.assets[0]?.class).toBe('I');
  });

  it('replaces, not merges, a list the operator sets', () => {
    expect(parsePolicy('mail: { freeMailDomains: [gmail.com] }').mail.freeMailDomains).toEqual(['gmail.com']);
  });

  it('reports every problem at once as path: message', () => {
    const found = problems(`
organization:
  locale: fr
  timeZone: Mars/Olympus
accounts:
  inactiveDays: -3
  sharedAccountPatterns: ['(unclosed']
  inactveDays: 30
files:
  oneDriveSweepDays: 30
  assets:
    - { name: x, owner: not-an-address, location: http://example.sharepoint.com, class: V }
exceptions:
  - ruleId: ACCT-01
    subject: a@example.lg.jp
    reason: r
    approvedBy: b
    compensatingControl: c
    approvedOn: 2026-04-01
    expiresOn: 2027-04-02
  - ruleId: NOPE-1
    subject: x
`);
    const text = found.join('\n');
    expect(text).toMatch(/^organization\.locale: /m);
    expect(text).toMatch(/^organization\.timeZone: must be an IANA time zone/m);
    expect(text).toMatch(/^accounts\.inactiveDays: must be greater than 0/m);
    expect(text).toMatch(/^accounts\.sharedAccountPatterns\[0\]: is not a valid regular expression/m);
    expect(text).toMatch(/^accounts\.inactveDays: unknown key/m);
    expect(text).toMatch(/^files\.oneDriveSweepDays: must be at most 28/m);
    expect(text).toMatch(/^files\.assets\[0\]\.owner: must be an e-mail address/m);
    expect(text).toMatch(/^files\.assets\[0\]\.location: must be a site URL prefix starting with https:\/\//m);
    expect(text).toMatch(/^files\.assets\[0\]\.class: /m);
    expect(text).toMatch(/^exceptions\[0\]\.expiresOn: more than one year after approvedOn/m);
    expect(text).toMatch(/^exceptions\[1\]\.ruleId: must be one of ACCT-01/m);
    expect(text).toMatch(/^exceptions\[1\]\.reason: /m);
    expect(text).toMatch(/^exceptions\[1\]\.approvedOn: /m);
  });

  it('allows an exception of exactly one year and refuses one ending before it starts', () => {
    const ex = (approvedOn: string, expiresOn: string) =>
      `exceptions: [{ ruleId: MFA-02, subject: '*', reason: r, approvedBy: b, compensatingControl: c, approvedOn: ${approvedOn}, expiresOn: ${expiresOn} }]`;
    expect(parsePolicy(ex('2026-04-01', '2027-04-01')).exceptions).toHaveLength(1);
    expect(problems(ex('2026-04-01', '2026-03-31'))).toEqual(['exceptions[0].expiresOn: is before approvedOn']);
    expect(problems(ex('2026-02-30', '2026-03-31'))).toEqual(['exceptions[0].approvedOn: is not a real calendar date']);
  });

  it('names the line of a YAML syntax error', () => {
    const found = problems('organization:\n  name: [unclosed\n');
    expect(found[0]).toMatch(/^line \d+, column \d+: /);
  });

  it('refuses a document that is not a mapping', () => {
    expect(problems('- a\n- b\n')).toEqual(['(top level): must be a mapping of the policy keys (organization, accounts, …)']);
  });

  it('accounts.fullSignInActivityReadDays: a whole number of days, at least 1, each refusal naming the key and the fix', () => {
    expect(parsePolicy('accounts: { fullSignInActivityReadDays: 1 }').accounts.fullSignInActivityReadDays).toBe(1);
    expect(parsePolicy('accounts: { fullSignInActivityReadDays: 30 }').accounts.fullSignInActivityReadDays).toBe(30);
    for (const bad of ['0', '-2', '1.5', "'7'"]) {
      expect(problems(`accounts: { fullSignInActivityReadDays: ${bad} }`)).toEqual([
        expect.stringMatching(/^accounts\.fullSignInActivityReadDays: must be (at least 1|a whole number of days) \(1 = read every user with signInActivity on every scan\)$/),
      ]);
    }
  });

  it('generates a JSON Schema that forbids unknown keys and knows the defaults', () => {
    const schema = policyJsonSchema() as { additionalProperties: boolean; properties: Record<string, { properties?: Record<string, { default?: unknown }> }> };
    expect(schema.additionalProperties).toBe(false);
    expect(Object.keys(schema.properties).sort()).toEqual(['accounts', 'alerts', 'apps', 'exceptions', 'files', 'mail', 'mfa', 'organization', 'plausibility', 'signIns', 'tickets']);
    expect(schema.properties.accounts?.properties?.inactiveDays?.default).toBe(90);
    expect(schema.properties.accounts?.properties?.fullSignInActivityReadDays?.default).toBe(7);
    expect(schema.properties.files?.properties?.fullEnumerationDays?.default).toBe(7);
    expect(schema.properties.files?.properties?.oneDriveSweepDays?.default).toBe(7);
    expect(schema.properties.plausibility?.properties?.minFractionOfLast?.default).toBe(0.5);
    expect(schema.properties.plausibility?.properties?.maxResolvedShare?.default).toBe(0.5);
    expect(schema.properties.plausibility?.properties?.minOpenForShare?.default).toBe(5);
  });

  it('checks the plausibility keys: shares between 0 and 1, a whole minimum', () => {
    expect(problems('plausibility: { minFractionOfLast: 1.5, maxResolvedShare: -0.1, minOpenForShare: 0 }\n')).toEqual([
      'plausibility.minFractionOfLast: must be between 0 and 1',
      'plausibility.maxResolvedShare: must be between 0 and 1',
      'plausibility.minOpenForShare: must be greater than 0',
    ]);
    expect(parsePolicy('').plausibility).toEqual({ minFractionOfLast: 0.5, maxResolvedShare: 0.5, minOpenForShare: 5 });
  });

  it('defaults the apps keys as controls.md writes them, and refuses bad entries with clear messages', () => {
    expect(defaultPolicy().apps).toEqual({ highRiskPermissions: DEFAULT_HIGH_RISK_PERMISSIONS, approvedApps: [] });
    for (const required of ['Mail.*', 'MailboxSettings.ReadWrite', 'Files.*.All', 'Sites.*.All', 'Directory.ReadWrite.All', 'RoleManagement.ReadWrite.Directory', 'AppRoleAssignment.ReadWrite.All', 'Application.ReadWrite.All', 'full_access_as_app']) {
      expect(DEFAULT_HIGH_RISK_PERMISSIONS).toContain(required);
    }
    expect(parsePolicy('apps: { approvedApps: [6A1B2C3D-0000-4000-8000-000000000001], highRiskPermissions: [Calendars.*] }\n').apps).toEqual({
      approvedApps: ['6A1B2C3D-0000-4000-8000-000000000001'], highRiskPermissions: ['Calendars.*'],
    });
    expect(problems('apps: { approvedApps: [勤怠クラウド], highRiskPermissions: ["Mail Read", "*"], unknown: 1 }\n').sort()).toEqual([
      'apps.unknown: unknown key (check the spelling; the keys are those of the policy file reference)',
      "apps.highRiskPermissions[0]: must be a permission value such as Mail.Read, or a pattern such as Files.*.All (letters, digits, . _ - and * only)",
      'apps.highRiskPermissions[1]: must name more than a bare * (that would make every permission high-risk)',
      "apps.approvedApps[0]: must be an application (client) id GUID: the app's appId, not its object id",
    ].sort());
    expect(problems('apps: { highRiskPermissions: [] }\n')).toEqual(['apps.highRiskPermissions: must name at least one permission (APP-01 would never fire)']);
  });

  it('defaults mfa.phishingResistantRoles and accounts.standingAccessRoles as controls.md writes them, and refuses non-GUIDs', () => {
    const p = defaultPolicy();
    expect(p.mfa.phishingResistantRoles).toEqual(DEFAULT_PHISHING_RESISTANT_ROLES);
    expect(DEFAULT_PHISHING_RESISTANT_ROLES).toEqual(expect.arrayContaining(['62e90394-69f5-4237-9190-012177145e10', 'e8611ab8-c189-46e8-94e1-60213ab1f814']));
    expect(DEFAULT_PHISHING_RESISTANT_ROLES).toHaveLength(13);
    expect(p.accounts.standingAccessRoles).toEqual(['62e90394-69f5-4237-9190-012177145e10', 'e8611ab8-c189-46e8-94e1-60213ab1f814']);
    expect(parsePolicy('mfa: { phishingResistantRoles: [] }\naccounts: { standingAccessRoles: [] }\n')).toMatchObject({ mfa: { phishingResistantRoles: [] }, accounts: { standingAccessRoles: [] } });
    expect(problems('mfa: { phishingResistantRoles: [Global Administrator], roles: 1 }\naccounts: { standingAccessRoles: [GA] }\n').sort()).toEqual([
      'accounts.standingAccessRoles[0]: must be a GUID (role template id)',
      'mfa.phishingResistantRoles[0]: must be a GUID (role template id)',
      'mfa.roles: unknown key (check the spelling; the keys are those of the policy file reference)',
    ]);
  });
});
