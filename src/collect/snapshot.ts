/**
 * The Snapshot: plain data the collectors produce and the rules read. Rules never touch the
 * network; each slice carries its own collection status, and the engine does not run a rule
 * whose inputs failed (it reports the area's coverage instead).
 */
import type { Area } from '../rules/ids';
import type { PendingState } from './pending';

export type CoverageStatus = 'complete' | 'partial' | 'failed';

/** Coverage of one area in findings.json. */
export interface Coverage {
  status: CoverageStatus;
  items: number;
  detail?: string;
}

export interface Domain {
  id: string;
  isVerified: boolean;
  /**
   * The services the domain is set up for (`Email`, `OfficeCommunicationsOnline`, …; "domain
   * resource type", Collection(Edm.String)). MAIL-02 checks the domains with `Email`. Absent in
   * snapshots written before it was kept (and when Graph left it out): no service known.
   */
  supportedServices?: string[];
}

/** How one of a domain's three mail-authentication records stands (MAIL-02). */
export type MailAuthStatus =
  /** Present and strict enough. */
  | 'ok'
  /** Present but not strict enough (SPF `?all`/`+all`/no `all`, DMARC `p=none`). */
  | 'weak'
  /** Not there (NXDOMAIN, NODATA, no record of its kind). */
  | 'missing'
  /** There but unusable: two SPF or DMARC records (permerror), a redirect loop, an unreadable policy. */
  | 'invalid'
  /** A DNS failure (SERVFAIL, REFUSED, timeout): not known — coverage, never a pass or a fail. */
  | 'unchecked';

export interface SpfResult {
  status: MailAuthStatus;
  /** The record that decided (joined from its character-strings), or null. */
  record: string | null;
  /** The `all` mechanism as written (`-all`, `~all`, `?all`, `+all`, `all`), null when none. */
  all: string | null;
  /** `redirect=` domains followed, in order (RFC 7208 §6.1), when the record had no `all`. */
  redirects: string[];
  /** Why, in words (e.g. "2 v=spf1 records (permerror)", "SERVFAIL at example.lg.jp"). */
  detail?: string;
}

export interface DmarcResult {
  status: MailAuthStatus;
  record: string | null;
  /** The `p=` tag (lower case), null when none could be read. */
  p: string | null;
  /** The `sp=` tag (lower case, subdomain policy): a note only, MAIL-02 judges `p=`. */
  sp: string | null;
  detail?: string;
}

export interface DkimResult {
  /** One entry per Microsoft 365 selector (`selector1`, `selector2`). */
  selectors: Array<{ selector: string; status: 'ok' | 'missing' | 'unchecked'; target: string | null; detail?: string }>;
}

/** One domain's mail-authentication records, as DNS answered (MAIL-02). */
export interface DomainMailAuth {
  domain: string;
  spf: SpfResult;
  dmarc: DmarcResult;
  dkim: DkimResult;
}

export interface MailAuthentication {
  /** The servers asked (`the system resolver` when none was set). */
  resolver: string;
  /** The domains checked: verified, `Email` in supportedServices, not `*.onmicrosoft.com`. */
  domains: DomainMailAuth[];
  /** Domains left out and why (`unverified`, `no Email service`, `onmicrosoft.com`). */
  skipped: Array<{ domain: string; reason: string }>;
}

export interface DirectoryUser {
  id: string;
  displayName: string;
  userPrincipalName: string;
  mail: string | null;
  /** `Member` or `Guest` as /users writes it (compare case-insensitively). */
  userType: string;
  accountEnabled: boolean;
  createdDateTime: string | null;
  department: string | null;
  employeeId: string | null;
  employeeLeaveDateTime: string | null;
  passwordPolicies: string | null;
  externalUserState: string | null;
  /** ISO time, or null when Graph says "never" (`0001-01-01T00:00:00Z` or `""`). */
  lastSignInDateTime: string | null;
  lastSuccessfulSignInDateTime: string | null;
  lastNonInteractiveSignInDateTime: string | null;
}

export interface MfaRegistration {
  id: string;
  userPrincipalName: string;
  isMfaRegistered: boolean;
  /** lower-case `member` / `guest` as the report writes it. */
  userType: string;
  /**
   * The methods registered (`mobilePhone`, `microsoftAuthenticatorPush`, `fido2`, …), for rules
   * on the kind of method (MFA-05, issue 15). Absent in snapshots written before it was kept.
   */
  methodsRegistered?: string[];
}

/**
 * A read that asked the service for part of a collection only (`$filter`), so that a record's
 * absence means "does not match the filter" only for what the read covers. Consumers that count
 * or compare (plausibility, coverage) must not take `items` for the whole population.
 */
export interface ReadFilter {
  /** The `$filter` sent, e.g. `isMfaRegistered eq false`. */
  filter: string;
  /** What `items` counts under the filter, in words (shown in the coverage detail). */
  counts: string;
  /**
   * Ids whose records were asked for one by one besides the filtered read (e.g. role holders'
   * registration records), whether or not the service had one; null when they could not be known
   * (the roles slice failed), so that nothing beyond the filter is covered.
   */
  alsoRead: string[] | null;
}

export interface RoleAssignment {
  id: string;
  principalId: string;
  roleDefinitionId: string;
  directoryScopeId: string;
  /** `user`, `group`, `servicePrincipal`, … from the expanded principal's `@odata.type`. */
  principalType: string;
  principalName: string | null;
  principalUserType: string | null;
}

export interface RoleEligibility {
  id: string;
  principalId: string;
  roleDefinitionId: string;
  directoryScopeId: string;
  /**
   * From the expanded principal (`$expand=principal`), or found by the roles collector when the
   * expansion was not served (`group` when `GET /groups/{id}` answered); absent when unknown.
   */
  principalType?: string;
  principalName?: string | null;
  principalUserType?: string | null;
  /** PIM's `memberType`: `Direct`, `Group` (inherited through a group) or `Inherited`. */
  memberType?: string | null;
}

/** A user among the transitive members of a group that holds a role. */
export interface RoleGroupMember {
  id: string;
  userPrincipalName: string | null;
  /** `Member` / `Guest` as /users writes it; null when Graph withheld it. */
  userType: string | null;
  accountEnabled: boolean | null;
}

/** A group that holds (or is eligible for) a role, with its user members (nested groups flattened). */
export interface RoleGroup {
  id: string;
  displayName: string | null;
  /** null when the member list could not be read (the slice is then partial). */
  members: RoleGroupMember[] | null;
}

export interface Roles {
  assignments: RoleAssignment[];
  /** null when PIM data could not be read (no Entra ID P2 / permission): coverage is partial. */
  eligibility: RoleEligibility[] | null;
  /**
   * Groups among the principals above, read once each with their transitive user members. Absent
   * (older snapshots, tests) means none was found.
   */
  groups?: RoleGroup[];
}

/**
 * One active role assignment as PIM lists it (`GET /roleManagement/directory/roleAssignmentScheduleInstances`,
 * "unifiedRoleAssignmentScheduleInstance resource type", v1.0): assignments made through PIM and
 * directly through the role assignments API alike (List roleAssignmentScheduleInstances).
 */
export interface RoleAssignmentInstance {
  id: string;
  principalId: string;
  /** Lower-case role template id. */
  roleDefinitionId: string;
  directoryScopeId: string;
  /** `Assigned` (assigned active) or `Activated` (an eligible assignment switched on), as Graph writes it. */
  assignmentType: string | null;
  /** `Direct`, `Group` or `Inherited`. */
  memberType: string | null;
  startDateTime: string | null;
  /** null: no end (a permanent assignment). */
  endDateTime: string | null;
  /** From `$expand=principal` (`user`, `group`, `servicePrincipal`); absent when not expanded. */
  principalType?: string;
  principalName?: string | null;
}

export interface ConditionalAccessPolicy {
  id: string;
  displayName: string;
  /** `enabled` | `disabled` | `enabledForReportingButNotEnforced`. */
  state: string;
  includeUsers: string[];
  includeApplications: string[];
  clientAppTypes: string[];
  builtInControls: string[];
  /** True when the grant requires an authentication strength. */
  hasAuthenticationStrength: boolean;
}

/** A recipient of a forwarding action: the address as the rule holds it. */
export interface RuleRecipient {
  address: string;
  name: string | null;
}

/** An inbox rule with at least one forwarding action (rules without any are not kept). */
export interface ForwardingRule {
  id: string;
  displayName: string;
  isEnabled: boolean;
  forwardTo: RuleRecipient[];
  redirectTo: RuleRecipient[];
  forwardAsAttachmentTo: RuleRecipient[];
}

export interface MailboxRules {
  userId: string;
  userPrincipalName: string;
  rules: ForwardingRule[];
}

export interface MailRules {
  /** Mailboxes read, each with its forwarding rules (empty when none). */
  mailboxes: MailboxRules[];
  /** Users checked that have no mailbox (404 MailboxNotEnabledForRESTAPI). */
  withoutMailbox: number;
}

/** One detected sign-in pattern (SIGN-01…05), ready to become a finding. */
export interface SignInDetection {
  ruleId: 'SIGN-01' | 'SIGN-02' | 'SIGN-03' | 'SIGN-04' | 'SIGN-05';
  subject: { kind: 'user' | 'ip'; id: string; name: string };
  occurrences: SignInOccurrence[];
}

export interface SignInOccurrence {
  /** First and last sign-in of the occurrence (ISO). */
  windowStart: string;
  windowEnd: string;
  /** Credential failures counted (SIGN-01/02/03). */
  failures: number;
  /** Successful sign-ins involved (SIGN-03/04/05). */
  successes: number;
  /** windowStart of the earlier run's occurrence this one continues (the same burst going on). */
  continues?: string;
  /** Distinct users involved (SIGN-02); the lists below hold at most 100 entries each. */
  distinctUsers: number;
  users: string[];
  distinctAddresses: number;
  addresses: string[];
  countries: string[];
  clientApps: string[];
  apps: string[];
  /** Sign-in ids involved (at most 100; `signInIdsTruncated` says how many were left out). */
  signInIds: string[];
  signInIdsTruncated: number;
}

export interface SignInWatch {
  /** The range read: [from, to] (ISO). */
  from: string;
  to: string;
  /** Sign-ins read and processed (after de-duplication). */
  read: number;
  detections: SignInDetection[];
}

/** A user as the light directory listing gives it (no signInActivity: not rate-limited). */
export interface DirectoryEntry {
  id: string;
  userPrincipalName: string;
  mail: string | null;
  userType: string;
  accountEnabled: boolean;
  department: string | null;
}

export interface Site {
  id: string;
  webUrl: string;
  name: string;
}

/** Who a permission grants access to (grantedToV2, grantedToIdentitiesV2, an invitation). */
export interface Grantee {
  displayName: string | null;
  email: string | null;
  /** SharePoint login name (claims), e.g. `i:0#.f|membership|urn:spo:guest#x@gmail.com`. */
  loginName: string | null;
  via: 'grantedToV2' | 'grantedToIdentitiesV2' | 'invitation';
}

export interface ItemPermission {
  id: string;
  roles: string[];
  /** Sharing link, when the permission is one (scope/type may be missing: Graph omits them at times). */
  link: { type: string | null; scope: string | null; webUrl: string | null } | null;
  /** null: no expiry (Graph's `0001-01-01T00:00:00Z`). */
  expirationDateTime: string | null;
  /**
   * Graph sent `inheritedFrom`. OneDrive for Business and SharePoint never do ("Permission
   * resource type"), so the rules decide inheritance from the item hierarchy, not from this.
   */
  inherited: boolean;
  grantees: Grantee[];
}

/** An item at the root of a sharing hierarchy (it carries the `shared` facet), with its permissions. */
export interface SharedItem {
  driveId: string;
  itemId: string;
  siteId: string;
  siteUrl: string;
  name: string;
  webUrl: string;
  isFolder: boolean;
  permissions: ItemPermission[];
  /**
   * The tracked (shared) items above this one in its drive, nearest first. A permission with the
   * same id on one of them is that ancestor's, listed here because SharePoint lists inherited
   * permissions on every item below (without `inheritedFrom`). Absent: none known.
   */
  ancestorIds?: string[];
  /** Set when this comes from the last successful read of a drive that failed this time. */
  asOf?: string;
}

export interface Sharing {
  items: SharedItem[];
  /** Drives read (fully or from their delta). */
  drives: number;
  /** Drives whose delta had expired (410) and were enumerated again in full. */
  resynced: number;
  /**
   * OneDrives not due today (files.oneDriveSweepDays), reported from their stored inventory as
   * of when they were read: how many, and the oldest read. Absent: every drive was read.
   */
  fromEarlierRead?: { drives: number; oldestReadAt: string };
}

/** One permission an outside app holds (APP-01). */
export interface AppPermission {
  /** `application`: an app role assigned to the app itself; `delegated`: a tenant-wide (AllPrincipals) grant. */
  type: 'application' | 'delegated';
  /** The resource (API) service principal's object id and name, e.g. Microsoft Graph. */
  resourceId: string;
  resourceName: string | null;
  /** The app role's `value` (application) or one scope of the grant's `scope` (delegated). */
  value: string;
}

/** A service principal of an app owned by another organisation (neither the tenant nor Microsoft). */
export interface ForeignApp {
  id: string;
  appId: string;
  displayName: string | null;
  appOwnerOrganizationId: string;
  permissions: AppPermission[];
}

export interface AppGrants {
  /** Service principals read (all of them; only the foreign ones are kept below). */
  servicePrincipals: number;
  apps: ForeignApp[];
}

/** The tenant's authorization policy, as far as the app rules read it (APP-02). */
export interface AuthorizationPolicy {
  /** The policy object's id (`authorizationPolicy`), null when Graph left it out. */
  id: string | null;
  /**
   * Permission grant policies assigned to the default user role, as Graph writes them, e.g.
   * `ManagePermissionGrantsForSelf.microsoft-user-default-legacy` (users may consent to any app).
   */
  permissionGrantPoliciesAssigned: string[];
}

export interface SharePointSettings {
  sharingCapability: string;
}

/** Every slice the collectors can produce, by name. */
export interface SliceData {
  domains: Domain[];
  users: DirectoryUser[];
  /**
   * The same users read with signInActivity (Entra ID P1): a slice of its own so that without the
   * licence only the rules needing last sign-in times are skipped; `users` then holds the plain list.
   */
  signInActivity: DirectoryUser[];
  /** The user list without signInActivity, for collectors that only need who exists. */
  directory: DirectoryEntry[];
  /**
   * Registration records. Normally a filtered read (`readFilter`): the users not registered, plus
   * the records of every role holder (any role, active, eligible or through a group), so that
   * registered holders are known as registered. Without `readFilter`: every user in the report.
   * Either way the report leaves out disabled users.
   */
  mfaRegistration: MfaRegistration[];
  roles: Roles;
  /**
   * PIM's active assignment instances (ACCT-08). Needs Entra ID P2; without it (403/400) the slice
   * fails and only ACCT-08 is not evaluated.
   */
  roleAssignmentInstances: RoleAssignmentInstance[];
  securityDefaults: { isEnabled: boolean };
  conditionalAccess: ConditionalAccessPolicy[];
  mailRules: MailRules;
  /** SPF, DMARC and DKIM of the domains that send mail, read from DNS (MAIL-02). */
  mailAuthentication: MailAuthentication;
  signIns: SignInWatch;
  sites: Site[];
  sharing: Sharing;
  sharepointSettings: SharePointSettings;
  authorizationPolicy: AuthorizationPolicy;
  appGrants: AppGrants;
}

export type SliceName = keyof SliceData;

/** The collection result of one slice. */
export type Slice<T> =
  | {
      status: 'complete' | 'partial';
      data: T;
      items: number;
      detail?: string;
      /**
       * State the collection read its way to (watermarks, delta links, inventories), stored by the
       * pipeline only after the ledger write (collect/pending.ts); absent without a store.
       */
      pending?: PendingState[];
      /**
       * Subject-id prefixes (e.g. `driveId/`) this slice reported from an earlier read: the ledger
       * resolves none of their findings, even when the area is complete (ledger.ts).
       */
      holds?: string[];
      /**
       * Set on a *partial* slice whose every gap lies under its `holds` (a failed range of a sharded
       * scan: src/jobs/shards.ts, whose mailboxes or drives are held): a rule reading it may still
       * resolve findings outside `holds`, as if the slice were complete (rules/engine.ts
       * `completeRules`). Coverage stays partial and names what failed.
       */
      gapsHeld?: boolean;
      /**
       * Set on a `signInActivity` slice read incrementally (collect/identity.ts): it holds only the
       * users that ACCT-02/06 could flag (and the privileged holders); every other user signed in
       * after `recentAfter`. Its count is not the tenant's (findings/plausibility.ts).
       */
      incremental?: { fullReadAt: string; recentAfter: string };
      /** Set when the read was filtered (see {@link ReadFilter}); absent: the whole collection was read. */
      readFilter?: ReadFilter;
    }
  | { status: 'failed'; items: 0; detail: string };

export interface Snapshot {
  tenantId: string;
  /** When the scan started: the rules' "now". */
  takenAt: Date;
  slices: { [K in SliceName]?: Slice<SliceData[K]> };
}

/**
 * Which slice an area counts its items by, for findings.json coverage. A filtered slice
 * (`readFilter`) counts what its read covered, and its detail says what that is (mfa: the
 * unregistered users plus the role holders' records, identity.ts `collectMfaRegistration`).
 */
export const AREA_PRIMARY_SLICE: Partial<Record<Area, SliceName>> = {
  accounts: 'users',
  mfa: 'mfaRegistration',
  roles: 'roles',
  mail: 'mailRules',
  signins: 'signIns',
  files: 'sharing',
  apps: 'appGrants',
};
