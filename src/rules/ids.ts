/**
 * Every rule id of `shared/spec/controls.md`. The ids are a contract (reports, tickets, exceptions
 * and the digest refer to them), so the policy file may name any of them, including rules whose
 * collectors arrive in later releases.
 */
export const RULE_IDS = [
  'ACCT-01', 'ACCT-02', 'ACCT-03', 'ACCT-04', 'ACCT-05', 'ACCT-06', 'ACCT-07', 'ACCT-08',
  'MFA-01', 'MFA-02', 'MFA-03', 'MFA-04', 'MFA-05',
  'MAIL-01', 'MAIL-02',
  'SIGN-01', 'SIGN-02', 'SIGN-03', 'SIGN-04', 'SIGN-05',
  'FILE-01', 'FILE-02', 'FILE-03', 'FILE-04', 'FILE-05',
  'APP-01', 'APP-02',
] as const;

export type RuleId = (typeof RULE_IDS)[number];

/** Finding severities, most severe first. */
export const SEVERITIES = ['critical', 'high', 'medium', 'low'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Areas a scan reads; each has one coverage entry in findings.json. */
export const AREAS = ['accounts', 'mfa', 'roles', 'mail', 'signins', 'files', 'apps'] as const;
export type Area = (typeof AREAS)[number];
