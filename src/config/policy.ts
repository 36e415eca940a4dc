/**
 * The organisation's policy file (`shared/spec/policy.md`): who is responsible, the asset
 * register (情報資産管理簿), the exception register (例外措置) and thresholds.
 *
 * Parsed with `yaml` and validated with zod. Objects are strict, because a typo in a key must not
 * silently disable a check; every problem is reported at once as `path: message`. Defaults are
 * those of `controls.md`. The JSON Schema shipped for editors is generated from this schema
 * (`write-schema.ts`), so the two cannot drift.
 */
import { readFile } from 'node:fs/promises';
import { dnsServerProblem } from '../collect/dns';
import { DateTime, IANAZone } from 'luxon';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../errors';
import { RULE_IDS, SEVERITIES } from '../rules/ids';

/** Default `sharedAccountPatterns` (controls.md ACCT-01). */
export const DEFAULT_SHARED_ACCOUNT_PATTERNS = ['^(shared|kyoyo|kyouyou|common|generic|test|temp|tmp)([-_.0-9].*)?$'];

/** Default privileged roles (controls.md, role template ids). */
export const DEFAULT_PRIVILEGED_ROLES: Readonly<Record<string, string>> = {
  '62e90394-69f5-4237-9190-012177145e10': 'Global Administrator',
  'e8611ab8-c189-46e8-94e1-60213ab1f814': 'Privileged Role Administrator',
  '7be44c8a-adaf-4e2a-84d6-ab2649e08a13': 'Privileged Authentication Administrator',
  '194ae4cb-b126-40b2-bd5b-6091b380977d': 'Security Administrator',
  '29232cdf-9323-42fd-ade2-1d097af3e4de': 'Exchange Administrator',
  'f28a1f50-f6e7-4571-818b-6a12f2af6b6c': 'SharePoint Administrator',
  'fe930be7-5e62-47db-91af-98c3a49a38b1': 'User Administrator',
  'b1be1c3e-b65d-4f19-8427-f6fa0d97feb9': 'Conditional Access Administrator',
  '9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3': 'Application Administrator',
  '158c047a-c907-4556-b7ef-446551a6b5f7': 'Cloud Application Administrator',
  'c4e39bd9-1100-46d3-8c65-fb160da0071f': 'Authentication Administrator',
  '729827e3-9c14-49f7-bb1b-9608f156bbb8': 'Helpdesk Administrator',
  '3a2c62db-5318-420d-8d74-23affee5d9d5': 'Intune Administrator',
};

/** Role template id of Global Administrator (ACCT-04). */
export const GLOBAL_ADMIN_ROLE = '62e90394-69f5-4237-9190-012177145e10';

/** Role template id of Privileged Role Administrator. */
export const PRIVILEGED_ROLE_ADMIN_ROLE = 'e8611ab8-c189-46e8-94e1-60213ab1f814';

/**
 * Names of role template ids outside {@link DEFAULT_PRIVILEGED_ROLES} that a default list below
 * names ("Microsoft Entra built-in roles"), for evidence.
 */
export const OTHER_ROLE_NAMES: Readonly<Record<string, string>> = {
  'b0f54661-2d74-4c50-afa3-1ec803f12efe': 'Billing Administrator',
  '8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2': 'Hybrid Identity Administrator',
};

/**
 * Default `mfa.phishingResistantRoles` (controls.md MFA-05): the roles the CISA M365 baseline
 * (MS.AAD.3.6, with its list of highly privileged roles in MS.AAD.7.1) names for phishing-resistant
 * MFA, plus the administrators that reset other people's credentials (Helpdesk, Privileged
 * Authentication, Billing). Authentication and Intune Administrator are left to the organisation.
 */
export const DEFAULT_PHISHING_RESISTANT_ROLES = [
  GLOBAL_ADMIN_ROLE,
  PRIVILEGED_ROLE_ADMIN_ROLE,
  '7be44c8a-adaf-4e2a-84d6-ab2649e08a13', // Privileged Authentication Administrator
  '194ae4cb-b126-40b2-bd5b-6091b380977d', // Security Administrator
  '29232cdf-9323-42fd-ade2-1d097af3e4de', // Exchange Administrator
  'f28a1f50-f6e7-4571-818b-6a12f2af6b6c', // SharePoint Administrator
  'fe930be7-5e62-47db-91af-98c3a49a38b1', // User Administrator
  'b1be1c3e-b65d-4f19-8427-f6fa0d97feb9', // Conditional Access Administrator
  '9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3', // Application Administrator
  '158c047a-c907-4556-b7ef-446551a6b5f7', // Cloud Application Administrator
  'b0f54661-2d74-4c50-afa3-1ec803f12efe', // Billing Administrator
  '729827e3-9c14-49f7-bb1b-9608f156bbb8', // Helpdesk Administrator
  '8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2', // Hybrid Identity Administrator
];

/** Default `accounts.standingAccessRoles` (controls.md ACCT-08). */
export const DEFAULT_STANDING_ACCESS_ROLES = [GLOBAL_ADMIN_ROLE, PRIVILEGED_ROLE_ADMIN_ROLE];

/** Default `freeMailDomains` (controls.md MAIL-01). */
export const DEFAULT_FREE_MAIL_DOMAINS = [
  'gmail.com', 'googlemail.com', 'yahoo.co.jp', 'yahoo.com', 'ymail.ne.jp', 'outlook.com', 'outlook.jp',
  'hotmail.com', 'hotmail.co.jp', 'live.jp', 'live.com', 'msn.com', 'icloud.com', 'me.com', 'aol.com',
  'proton.me', 'protonmail.com', 'docomo.ne.jp', 'ezweb.ne.jp', 'au.com', 'softbank.ne.jp',
  'i.softbank.jp', 'nifty.com', 'biglobe.ne.jp',
];

/**
 * Default `apps.highRiskPermissions` (controls.md APP-01): permission values (app role `value`s
 * and delegated scopes) an outside app must not hold unapproved. `*` matches any run of
 * characters; matching is case-insensitive and on the whole value. `full_access_as_app` is
 * Exchange Online's full mailbox access for an app (EWS).
 */
export const DEFAULT_HIGH_RISK_PERMISSIONS = [
  'Mail.*',
  'MailboxSettings.ReadWrite',
  'Files.*.All',
  'Sites.*.All',
  'Directory.ReadWrite.All',
  'RoleManagement.ReadWrite.Directory',
  'AppRoleAssignment.ReadWrite.All',
  'Application.ReadWrite.All',
  'full_access_as_app',
];

const guid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'must be a GUID (role template id)');
const domain = z
  .string()
  .regex(/^(?!-)[a-z0-9-]+(\.[a-z0-9-]+)+$/i, 'must be a domain name such as example.lg.jp (no @, no scheme)')
  .transform((d) => d.toLowerCase());
const address = z.string().regex(/^[^@\s]+@[^@\s]+\.[^@\s]+$/, 'must be an e-mail address / UPN such as name@example.lg.jp');
const appId = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, "must be an application (client) id GUID: the app's appId, not its object id");
const permissionPattern = z
  .string()
  .regex(/^[A-Za-z0-9_.*-]+$/, 'must be a permission value such as Mail.Read, or a pattern such as Files.*.All (letters, digits, . _ - and * only)')
  .refine((s) => /[^*]/.test(s), 'must name more than a bare * (that would make every permission high-risk)');
const positiveInt = z.number().int('must be a whole number').positive('must be greater than 0');
const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date written YYYY-MM-DD')
  .refine((s) => DateTime.fromISO(s, { zone: 'utc' }).isValid, 'is not a real calendar date');
const regex = z.string().refine((s) => {
  try {
    new RegExp(s, 'i');
    return true;
  } catch {
    return false;
  }
}, 'is not a valid regular expression');
const severity = z.enum(SEVERITIES);
const infoClass = z.enum(['I', 'II', 'III', 'IV']);

/**
 * Department names key the routing of tickets (a finding's department → its owner), so two entries
 * with one name would make the owner depend on the order of the file: refuse, naming both entries.
 */
function refuseDuplicateDepartments(departments: ReadonlyArray<{ name: string }>, ctx: z.core.$RefinementCtx<ReadonlyArray<{ name: string }>>): void {
  const first = new Map<string, number>();
  departments.forEach((d, i) => {
    const key = d.name.trim().normalize('NFKC');
    const earlier = first.get(key);
    if (earlier === undefined) first.set(key, i);
    else ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `${d.name} is also organization.departments[${earlier}].name (each department once)` });
  });
}

const organization = z.strictObject({
  name: z.string().min(1).default('西置賜行政組合'),
  locale: z.enum(['ja', 'en']).default('ja'),
  timeZone: z
    .string()
    .refine((tz) => IANAZone.isValidZone(tz), 'must be an IANA time zone such as Asia/Tokyo')
    .default('Asia/Tokyo'),
  internalDomains: z.array(domain).default([]),
  ciso: address.optional(),
  systemAdministrators: z.array(address).default([]),
  departments: z.array(z.strictObject({ name: z.string().min(1), owner: address })).superRefine(refuseDuplicateDepartments).default([]),
});

const accounts = z.strictObject({
  sharedAccountPatterns: z.array(regex).default(DEFAULT_SHARED_ACCOUNT_PATTERNS),
  emergencyAccessAccounts: z.array(address).default([]),
  inactiveDays: positiveInt.default(90),
  guestInactiveDays: positiveInt.default(90),
  guestGraceDays: positiveInt.default(30),
  maxGlobalAdmins: positiveInt.default(4),
  privilegedRoles: z.array(guid).min(1, 'must name at least one role').default(Object.keys(DEFAULT_PRIVILEGED_ROLES)),
  // ACCT-08: roles nobody but the emergency-access accounts may hold permanently (PIM instead).
  standingAccessRoles: z.array(guid).default(DEFAULT_STANDING_ACCESS_ROLES),
  // Every user is read with signInActivity (~10 requests a minute) at least this often; the scans
  // in between read only the candidates of ACCT-02/06 (collect/identity.ts, "incremental read").
  fullSignInActivityReadDays: z
    .number({ error: 'must be a whole number of days (1 = read every user with signInActivity on every scan)' })
    .int('must be a whole number of days (1 = read every user with signInActivity on every scan)')
    .min(1, 'must be at least 1 (1 = read every user with signInActivity on every scan)')
    .default(7),
});

const dnsServer = z.string().superRefine((entry, ctx) => {
  const problem = dnsServerProblem(entry);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const mfa = z.strictObject({
  // MFA-05: holders of these roles must have a phishing-resistant method registered.
  phishingResistantRoles: z.array(guid).default(DEFAULT_PHISHING_RESISTANT_ROLES),
});

const mail = z.strictObject({
  approvedForwardingDomains: z.array(domain).default([]),
  freeMailDomains: z.array(domain).default(DEFAULT_FREE_MAIL_DOMAINS),
  // MAIL-02 (collect/mail-auth.ts): the DNS servers asked for SPF, DMARC and DKIM records; empty:
  // the system resolver (collect/dns.ts). Each try waits dnsTimeoutMs, at most dnsTries tries.
  dnsServers: z.array(dnsServer).default([]),
  dnsTimeoutMs: z.number().int('must be a whole number of milliseconds').min(100, 'must be at least 100 ms').max(10_000, 'must be at most 10000 ms (10 s)').default(2000),
  dnsTries: z.number().int('must be a whole number').min(1, 'must be at least 1').max(4, 'must be at most 4').default(2),
});

const signIns = z.strictObject({
  credentialFailureCodes: z.array(z.number().int()).default([50126, 50053, 50056, 50034, 500121]),
  windowMinutes: positiveInt.max(1440, 'must be at most 1440 (one day)').default(60),
  userFailureThreshold: positiveInt.default(10),
  sprayUserThreshold: positiveInt.default(5),
  successAfterFailuresThreshold: positiveInt.default(5),
  allowedCountries: z
    .array(z.string().regex(/^[A-Z]{2}$/, 'must be a two-letter upper-case country code such as JP'))
    .default(['JP']),
});

const asset = z.strictObject({
  name: z.string().min(1),
  owner: address,
  location: z.string().regex(/^https:\/\/[^/\s]+/i, 'must be a site URL prefix starting with https://'),
  class: infoClass,
});

const files = z.strictObject({
  defaultClass: infoClass.default('III'),
  assets: z.array(asset).default([]),
  // Without Sites.FullControl.All an incremental delta cannot show sharing-only changes, so each
  // drive is enumerated in full at least this often ("driveItem: delta"; README, permissions).
  fullEnumerationDays: positiveInt.default(7),
  // OneDrives are read once per this many days, each on the weekday bucket of its drive id
  // (collect/files.ts, "OneDrive sweep"); 1 reads every OneDrive on every scan.
  oneDriveSweepDays: positiveInt.max(28, 'must be at most 28 (a OneDrive is read at least every 4 weeks)').default(7),
});

const apps = z.strictObject({
  highRiskPermissions: z.array(permissionPattern).min(1, 'must name at least one permission (APP-01 would never fire)').default(DEFAULT_HIGH_RISK_PERMISSIONS),
  approvedApps: z.array(appId).default([]),
});
const exception = z
  .strictObject({
    ruleId: z.enum(RULE_IDS, { error: `must be one of ${RULE_IDS.join(', ')}` }),
    subject: z.string().min(1, 'must name a subject id, UPN, site URL prefix, or "*"'),
    reason: z.string().min(1),
    approvedBy: z.string().min(1),
    compensatingControl: z.string().min(1),
    approvedOn: isoDate,
    expiresOn: isoDate,
  })
  .superRefine((e, ctx) => {
    const approved = DateTime.fromISO(e.approvedOn, { zone: 'utc' });
    const expires = DateTime.fromISO(e.expiresOn, { zone: 'utc' });
    if (!approved.isValid || !expires.isValid) return;
    if (expires < approved) {
      ctx.addIssue({ code: 'custom', path: ['expiresOn'], message: 'is before approvedOn' });
    } else if (expires > approved.plus({ years: 1 })) {
      // Section 12 of the standard: every exception is reviewed at least once a year.
      ctx.addIssue({ code: 'custom', path: ['expiresOn'], message: 'more than one year after approvedOn (section 12: review at least yearly)' });
    }
  });

const tickets = z.strictObject({
  dueBusinessDays: z
    .strictObject({
      critical: positiveInt.default(1),
      high: positiveInt.default(3),
      medium: positiveInt.default(10),
      low: positiveInt.default(20),
    })
    .prefault({}),
});

const alerts = z.strictObject({ minSeverity: severity.default('high') });

// Plausibility before resolution (src/findings/plausibility.ts): an implausible answer or a mass
// resolution leaves its area partial and resolves nothing there.
const share = z.number().min(0, 'must be between 0 and 1').max(1, 'must be between 0 and 1');
const plausibility = z.strictObject({
  /** A count below this fraction of the last complete scan's is suspect (0: never compare). */
  minFractionOfLast: share.default(0.5),
  /** One scan may resolve at most this share of an area's open findings without --confirm-resolutions (1: no limit). */
  maxResolvedShare: share.default(0.5),
  /** The share is checked only in an area with at least this many open findings. */
  minOpenForShare: positiveInt.default(5),
});

/** The policy file schema (every key optional; defaults from controls.md). */
export const policySchema = z.strictObject({
  organization: organization.prefault({}),
  accounts: accounts.prefault({}),
  mfa: mfa.prefault({}),
  mail: mail.prefault({}),
  signIns: signIns.prefault({}),
  files: files.prefault({}),
  apps: apps.prefault({}),
  exceptions: z.array(exception).default([]),
  tickets: tickets.prefault({}),
  alerts: alerts.prefault({}),
  plausibility: plausibility.prefault({}),
});

/** The validated policy, every default filled in. */
export type Policy = z.output<typeof policySchema>;
export type PolicyException = Policy['exceptions'][number];
export type Asset = Policy['files']['assets'][number];

/** The built-in policy: controls.md defaults and nothing organisation-specific. */
export function defaultPolicy(): Policy {
  return policySchema.parse({});
}

/** Formats zod issues as `path: message` lines (`exceptions[2].expiresOn: …`). */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => {
    const base = formatPath(issue.path);
    if (issue.code === 'unrecognized_keys') {
      return issue.keys
        .map((k) => `${joinPath(base, k)}: unknown key (check the spelling; the keys are those of the policy file reference)`)
        .join('\n');
    }
    return `${base || '(top level)'}: ${issue.message}`;
  }).flatMap((line) => line.split('\n'));
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : joinPath(acc, String(p))), '');
}

function joinPath(base: string, key: string): string {
  return base ? `${base}.${key}` : key;
}

/**
 * Validates an already-parsed policy object.
 * @throws ConfigError listing every problem as `path: message`.
 */
export function validatePolicy(raw: unknown, source = 'policy'): Policy {
  const result = policySchema.safeParse(raw ?? {});
  if (!result.success) {
    throw new ConfigError(`${source} is invalid; fix these and run again:`, formatIssues(result.error.issues));
  }
  return result.data;
}

/**
 * How many alias expansions a policy file may make (the `yaml` package's `maxAliasCount`). A real
 * policy needs few if any; a nested alias bomb needs thousands and would exhaust memory.
 */
const MAX_ALIAS_COUNT = 100;

/**
 * Parses and validates policy YAML text.
 * @throws ConfigError with every YAML syntax or schema problem.
 */
export function parsePolicy(text: string, source = 'policy.yaml'): Policy {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length) {
    throw new ConfigError(
      `${source} is not valid YAML:`,
      doc.errors.map((e) => `${e.linePos?.[0] ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '(document)'}: ${e.message.split('\n')[0]}`),
    );
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    // yaml throws a ReferenceError when aliases expand past maxAliasCount ("billion laughs").
    if (err instanceof ReferenceError) {
      throw new ConfigError(`${source} is refused:`, [
        `(document): its aliases (*name) expand more than ${MAX_ALIAS_COUNT} times, as a YAML alias bomb does; write the values out instead of repeating aliases`,
      ]);
    }
    throw err;
  }
  if (value !== null && value !== undefined && (typeof value !== 'object' || Array.isArray(value))) {
    throw new ConfigError(`${source} is invalid:`, ['(top level): must be a mapping of the policy keys (organization, accounts, …)']);
  }
  return validatePolicy(value, source);
}

/** Reads, parses and validates a policy file. */
export async function loadPolicy(file: string): Promise<Policy> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read the policy file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  return parsePolicy(text, file);
}
