/**
 * The simulated tenant: everything the Graph-compatible simulator serves, held as the raw
 * Microsoft Graph v1.0 JSON objects (the shapes of `shared/reference/graph/`), plus the ground
 * truth of planted violations that the demo-tenant generator returns alongside.
 *
 * Objects are plain JSON (`JsonObject`) on purpose: the simulator must be able to serve the odd
 * shapes real Graph returns (empty-string dates, `0001-01-01T00:00:00Z`, missing `scope`), so it
 * does not constrain them to our own parsed types.
 */
import type { DnsZone } from './dns-server';

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** A site and its document libraries, each library with its items and their permissions. */
export interface SimSite {
  /** Graph site object as `/sites/getAllSites` returns it (id `host,collectionId,webId`). */
  site: JsonObject;
  drives: SimDrive[];
}

export interface SimDrive {
  /** Graph drive object (`/sites/{id}/drives`), id of the `b!…` form. */
  drive: JsonObject;
  /**
   * Items in hierarchy order (parents before children), as `root/delta` returns them. The root
   * item is first. Items carrying the `shared` facet are the roots of sharing hierarchies.
   */
  items: JsonObject[];
  /** Permissions per item id (only for items that have any). */
  permissions: Record<string, JsonObject[]>;
}

export interface TenantData {
  tenantId: string;
  /** `GET /domains` objects. */
  domains: JsonObject[];
  /**
   * The DNS records of the tenant's domains (MAIL-02: SPF, DMARC, DKIM CNAMEs), served by the
   * simulator over UDP on its own port (src/sim/dns-server.ts). Absent: every name is NXDOMAIN.
   */
  dnsZone?: DnsZone;
  /** `GET /users` objects with every property `graph.md` selects, including `signInActivity`. */
  users: JsonObject[];
  /** `GET /reports/authenticationMethods/userRegistrationDetails` objects (enabled users only). */
  userRegistrationDetails: JsonObject[];
  /** `roleAssignments` objects without `principal`: the simulator expands it from `users`. */
  roleAssignments: JsonObject[];
  /** `roleEligibilitySchedules` objects. */
  roleEligibilitySchedules: JsonObject[];
  /**
   * `roleAssignmentScheduleInstances` objects (unifiedRoleAssignmentScheduleInstance, without
   * `principal`). Absent: one permanent `Assigned` instance per `roleAssignments` entry, which is
   * how Graph lists assignments made through the role assignments API (List
   * roleAssignmentScheduleInstances: "directly through the role assignments API").
   */
  roleAssignmentScheduleInstances?: JsonObject[];
  /**
   * Group objects as `GET /groups/{id}` returns them (role-assignable ones carry
   * `isAssignableToRole: true`); a role principal that is one of these expands as
   * `#microsoft.graph.group`. Absent: no groups.
   */
  groups?: JsonObject[];
  /** Direct members per group id: user or group object ids (nested groups are resolved transitively). */
  groupMembers?: Record<string, string[]>;
  /** `identitySecurityDefaultsEnforcementPolicy` object. */
  securityDefaults: JsonObject;
  /**
   * `GET /policies/authorizationPolicy` object (a singleton). Absent (hand-built tenants of
   * tests): the simulator serves {@link DEFAULT_AUTHORIZATION_POLICY}.
   */
  authorizationPolicy?: JsonObject;
  /** `servicePrincipal` objects (with `appRoles` and `appOwnerOrganizationId`). Absent: none. */
  servicePrincipals?: JsonObject[];
  /** `appRoleAssignment` objects granted to service principals (`principalId` = the client service principal). */
  appRoleAssignments?: JsonObject[];
  /** `oAuth2PermissionGrant` objects (AllPrincipals and Principal). */
  oauth2PermissionGrants?: JsonObject[];
  /** `conditionalAccessPolicy` objects. */
  conditionalAccessPolicies: JsonObject[];
  /** Inbox rules per user id; a user id absent here has no mailbox (404 MailboxNotEnabledForRESTAPI). */
  messageRules: Record<string, JsonObject[]>;
  /** Sign-in objects, any order (the simulator serves them newest first). */
  signIns: JsonObject[];
  /**
   * Ingestion latency: sign-in id → the time (ISO) from which `GET /auditLogs/signIns` (top level
   * or inside `$batch`) returns it. Sign-ins reach the log after their `createdDateTime`, "up to
   * two hours" later ("Microsoft Entra monitoring and health FAQ": data "might take up to two
   * hours to fully aggregate"), so a read at time t may miss a record created before t that a
   * later read returns. Kept beside the records, not on them, so that what the simulator serves
   * stays exactly Graph's `signIn` shape. The simulator compares against its `clock` option
   * (default: real time). A sign-in without an entry is available at once; an unparsable time
   * never is. Absent: every sign-in is available at once.
   */
  signInAvailableAt?: Record<string, string>;
  sites: SimSite[];
  /**
   * Sign-ins generated on demand (the bench tenant, sim/bench-tenant.ts: 500,000 a day at 50,000
   * users), served after merging with `signIns` newest first; never held as a whole. Absent: none.
   */
  lazySignIns?: LazySignIns;
  /** `/admin/sharepoint/settings` object. */
  sharepointSettings: JsonObject;
}

/**
 * A newest-first sequence of sign-ins built from their index: `timeOf(i)` (ms, non-increasing in
 * i) is `at(i).createdDateTime`. Always available (no ingestion latency).
 */
export interface LazySignIns {
  count: number;
  timeOf(index: number): number;
  at(index: number): JsonObject;
}

/** One planted violation: the scan must report exactly these for the implemented rules. */
export interface GroundTruth {
  ruleId: string;
  /** The finding's subject id (controls.md / outputs.md: user object id, tenant id, ip, site id, `<driveId>/<itemId>`). */
  subjectId: string;
  /** Why it was planted, for test failure messages. */
  note: string;
}

/** What the demo tenant's log shows only later: the sign-ins that arrive late and what they complete. */
export interface LateArrival {
  /** When the late sign-ins become available in the log (ISO; after `now`). */
  availableAt: string;
  /** The findings a scan that reads the late sign-ins must add to `groundTruth`. */
  groundTruth: GroundTruth[];
}

export interface DemoTenant {
  data: TenantData;
  groundTruth: GroundTruth[];
  /** The reference time the generator built dates against (ISO). */
  now: string;
  /** The demo's policy file contents (the keys of `policy.md`), as a plain object. */
  policy: JsonObject;
  /**
   * Late arrivals (`data.signInAvailableAt`): not visible at `now`, so not in `groundTruth`; a
   * scan after `late.availableAt` that re-reads far enough behind its watermark adds these.
   */
  late: LateArrival;
}

/**
 * Whether the sign-in is in the log at `at`, per `tenant.signInAvailableAt` (the simulator's
 * ingestion latency; tests use it to count what a read at `at` sees).
 */
export function signInAvailable(tenant: TenantData, signIn: JsonObject, at: Date): boolean {
  const from = tenant.signInAvailableAt?.[typeof signIn.id === 'string' ? signIn.id : String(signIn.id ?? '')];
  return from === undefined || Date.parse(from) <= at.getTime();
}

/**
 * The authorization policy served for a tenant that has none: user consent limited to verified
 * publishers and low-impact permissions (`microsoft-user-default-low`), so APP-02 is silent.
 */
export const DEFAULT_AUTHORIZATION_POLICY: JsonObject = {
  id: 'authorizationPolicy',
  displayName: 'Authorization Policy',
  description: 'Used to manage authorization related settings across the company.',
  defaultUserRolePermissions: {
    allowedToCreateApps: false,
    allowedToCreateSecurityGroups: false,
    allowedToReadOtherUsers: true,
    permissionGrantPoliciesAssigned: ['ManagePermissionGrantsForSelf.microsoft-user-default-low'],
  },
};
