/**
 * Public and internal types of the Graph simulator. `server.ts` re-exports the public ones; the
 * split only exists so the route, paging and throttling modules can share them without a runtime
 * import cycle.
 */
import type { JsonObject, TenantData } from './tenant';

/** The endpoints the simulator serves (graph.md's table), plus the `$batch` envelope. */
export const ENDPOINT_NAMES = [
  'domains',
  'users',
  'userRegistrationDetails',
  // `GET /reports/authenticationMethods/userRegistrationDetails/{userId}`: one user's record.
  'userRegistrationDetail',
  'roleAssignments',
  'roleEligibilitySchedules',
  // PIM's active assignment instances (ACCT-08): `GET /roleManagement/directory/roleAssignmentScheduleInstances`.
  'roleAssignmentScheduleInstances',
  'securityDefaults',
  'authorizationPolicy',
  // App consent (APP-01): `GET /servicePrincipals`, `/servicePrincipals/{id}/appRoleAssignments`, `/oauth2PermissionGrants`.
  'servicePrincipals',
  'servicePrincipalAppRoleAssignments',
  'oauth2PermissionGrants',
  'conditionalAccess',
  'messageRules',
  'signIns',
  'sites',
  'drives',
  'delta',
  'permissions',
  'sharepointSettings',
  'sendMail',
  'plannerTasks',
  'plannerTask',
  'plannerTaskDetails',
  'plannerBuckets',
  // `GET /planner/plans/{id}/tasks`: the ticket sink lists the plan once per run to adopt existing tasks.
  'plannerPlanTasks',
  // Groups holding roles: `GET /groups/{id}` and `GET /groups/{id}/transitiveMembers[/cast]`.
  'group',
  'groupTransitiveMembers',
  'batch',
] as const;
export type EndpointName = (typeof ENDPOINT_NAMES)[number];

/** Service families with their own throttling budget (concepts/throttling.md, graph.md). */
export const THROTTLE_FAMILIES = ['identityReports', 'signInActivity', 'conditionalAccess', 'outlook', 'global', 'sharepoint', 'directory'] as const;
export type ThrottleFamily = (typeof THROTTLE_FAMILIES)[number];

/** A token bucket: `limit` requests per `perSeconds`, refilled continuously. */
export interface ThrottleLimit {
  limit: number;
  perSeconds: number;
}

export interface SimFault {
  /** which requests: an endpoint name and optionally a RegExp tested against the path+query (e.g. `/v1.0/users?$top=2`) */
  endpoint?: EndpointName;
  match?: RegExp;
  /** what to answer: an HTTP status with a Graph error body, or 'malformed' (200 with a truncated/invalid JSON body) */
  status?: number;
  code?: string;
  message?: string;
  retryAfter?: number | null;
  malformed?: boolean;
  /**
   * 'cut': the connection drops mid-body — a 200 whose Content-Length announces more than the
   * truncated JSON sent before the socket is destroyed, as a reset connection leaves it (undici
   * then fails the body read with `TypeError: terminated`, nodejs/undici#1688). `malformed` alone
   * is a complete answer whose body is not JSON (a broken proxy).
   */
  cut?: boolean;
  /**
   * 'reset': the connection is destroyed before any answer (ECONNRESET / `socket hang up` at the
   * client). Top-level requests only; on a `$batch` item it resets the envelope's connection.
   */
  reset?: boolean;
  /**
   * Wait this long before answering (a response slower than the client's timeout). Alone, the
   * real answer follows the wait; with `status`/`malformed`/`cut`/`reset`, that fault's answer.
   */
  delayMs?: number;
  /**
   * Serve the real answer but rewrite its `@odata.nextLink`: 'loop' points it back at the request
   * itself (the same link twice, as a looping service would), an origin such as
   * `https://127.0.0.1:4443` moves it to another host (which must never get the bearer token).
   * Answers without a nextLink are left alone.
   */
  nextLink?: 'loop' | string;
  /** how many matching requests get the fault (default: all, forever) */
  times?: number;
}

export interface SimOptions {
  tenant: TenantData;
  /** fixed latency per request in ms (default 0); inside `$batch` it adds once per group of 4 items */
  latencyMs?: number;
  /**
   * Compressed clock (issue 13, the benchmark): model time runs `timeScale` times faster than
   * real time. Throttle windows, Retry-After values and `latencyMs` stay in model time; in real
   * time buckets refill `timeScale` times faster and latency is latencyMs / timeScale. The client
   * takes the same factor (ClientOptions.timeScale). Default 1. Fault `delayMs` stays real.
   */
  timeScale?: number;
  /**
   * Throttling model per service family, each a token bucket; default: Graph's real limits
   * (see `DEFAULT_THROTTLE_LIMITS`); `false` disables throttling entirely. `outlook` is per mailbox.
   * `sharepoint` is in resource units (a permission read draws 5; see `licenceCount`).
   * `directory` is in Entra ID resource units (`GET /users` draws 2, less 1 with `$select`), sized
   * by the tenant's user count (3,500 / 5,000 / 8,000 per 10 s; see `directoryRuLimit`).
   */
  throttle?: Partial<Record<ThrottleFamily, ThrottleLimit>> | false;
  /**
   * Which reading to play where Microsoft's doc revisions disagree (see `ThrottleReadings` in
   * throttle.ts): `outlookConcurrency` 'perMailbox' (default) or 'perApp'; `signInActivity`
   * 'ownFamily' (default) or 'alsoIdentityReports' (a users page with signInActivity also draws
   * from the identity reports' bucket).
   */
  throttleReadings?: { outlookConcurrency?: 'perMailbox' | 'perApp'; signInActivity?: 'ownFamily' | 'alsoIdentityReports' };
  faults?: SimFault[];
  /** override max page sizes per endpoint (for tests of paging) */
  maxPageSize?: Partial<Record<EndpointName, number>>;
  /** directory to write the CA certificate PEM into (default: a new temp dir, removed on close) */
  certDir?: string;
  /** default 0 (free port), always bound to 127.0.0.1 */
  port?: number;
  /**
   * The tenant's Entra ID licence (default 'P1'). On 'free', `$select=signInActivity` (or a filter
   * on it), `userRegistrationDetails` and `auditLogs/signIns` answer 403
   * `Authentication_RequestFromNonPremiumTenantOrB2CTenant`, as Graph does; the plain user list works.
   */
  licence?: 'P1' | 'free';
  /**
   * Page size of `/users` with signInActivity: `maxSize` (default 500, user-list.md's newer
   * revision; the older one says 120) and what an oversize `$top` gets: 'refuse' (default: 400
   * "Cannot query data for more than N users at a time.", as a Microsoft engineer reports) or
   * 'cap' (pages of at most `maxSize`, as the older doc revision reads).
   */
  signInActivityPaging?: { maxSize?: number; oversize?: 'cap' | 'refuse' };
  /** serve `/admin/sharepoint/settings` wrapped in `value` like the docs' example (default: the bare object) */
  wrapSharepointSettings?: boolean;
  /** serve `/policies/authorizationPolicy` as a collection of one in `value`, as older revisions of "Get authorizationPolicy" show it (default: the bare object) */
  wrapAuthorizationPolicy?: boolean;
  /**
   * Licences of the simulated tenant: they size the `sharepoint` throttle family (resource units a
   * minute, "Avoid getting throttled or blocked in SharePoint Online"), unless `throttle.sharepoint`
   * sets it. Default: the smallest band (1,200 RU a minute).
   */
  licenceCount?: number;
  /**
   * Item ids whose `shared` facet delta leaves out although they are shared (SharePoint omits it
   * for some specific-people links: microsoft-graph-docs#17418 "Shared facet not set when sharing
   * links with specific people in SharePoint").
   */
  omitSharedFacet?: readonly string[];
  /**
   * Planner plans (with their buckets) that `POST /planner/tasks` may target; default: one plan
   * `DEFAULT_PLANNER_PLAN_ID` ('m365-audit 是正') with one bucket `DEFAULT_PLANNER_BUCKET_ID` ('未対応').
   */
  planner?: { plans: SimPlannerPlan[] };
  /**
   * Play the older revision of "List group transitive members" (v1.0), under which an OData cast
   * (`/transitiveMembers/microsoft.graph.user`) needs the advanced-query pair `ConsistencyLevel:
   * eventual` and `$count=true`, else 400 Request_UnsupportedQuery. Default: the newer revision
   * (a plain cast works).
   */
  castNeedsAdvancedQuery?: boolean;
  /**
   * `$expand=principal` on roleEligibilitySchedules: 'served' (default; the resource page says
   * `principal` supports `$expand`), 'ignored' (answered without principals) or 'rejected' (400).
   */
  eligibilityExpand?: 'served' | 'ignored' | 'rejected';
  /**
   * The simulator's notion of now for what the tenant data dates (default: real time). Today it
   * decides which sign-ins are already in the log (`TenantData.signInAvailableAt`); throttling
   * buckets keep real time. Tests move it forward to replay a later watch run.
   */
  clock?: () => Date;
  /**
   * Which request for changed drive items without their parent folders incremental delta honours
   * (src/sim/delta.ts): 'header' (a `deltaExcludeParent` request header, as "driveItem: delta"
   * lists it), 'prefer' (`Prefer: deltaExcludeParent`, as clients send it), 'either' (default),
   * or 'ignored' (parents always come back, as microsoft-graph-explorer-v4#4052 reports).
   */
  deltaExcludeParent?: 'header' | 'prefer' | 'either' | 'ignored';
}

/** A Planner plan of the simulator (ids are opaque strings; Graph's are 28-character base64url). */
export interface SimPlannerPlan {
  id: string;
  title: string;
  buckets: Array<{ id: string; name: string }>;
}

/** One change to a drive, recorded in the drive's delta change sequence. */
export interface DriveChange {
  /** Item to add (appended, so add parents first) or replace (same id, keeps its position). */
  upsert?: JsonObject;
  /** New permission list for `upsert.id` (or `itemId`); `null` removes the item's permissions. */
  permissions?: JsonObject[] | null;
  /**
   * The item whose `permissions` change when there is no `upsert`: a sharing-only change. Its
   * `shared` facet follows (set for a non-empty list, removed for an empty one), but delta
   * reports the change only to a Sites.FullControl.All token sending the sharing Prefer values.
   */
  itemId?: string;
  /** Item to delete, with its descendants; they come back from delta as `deleted: {}` stubs. */
  deleteItemId?: string;
}

export interface SimServer {
  /** 'https://127.0.0.1:PORT' (no trailing slash; requests go to url + '/v1.0/...') */
  url: string;
  /**
   * '127.0.0.1:PORT': the tenant's DNS zone (`tenant.dnsZone`) answered over UDP on the same port
   * as `url` (collect/dns.ts asks it for a loopback Graph root). `dnsQueries()` lists what it was asked.
   */
  dnsServer: string;
  dnsQueries(): string[];
  /** the certificate clients must trust */
  caPem: string;
  /** file holding caPem (for NODE_EXTRA_CA_CERTS) */
  caPath: string;
  /** live data (tests may mutate it between scans, or assign another tenant) */
  tenant: TenantData;
  /**
   * Requests per endpoint name (items inside `$batch` count under their endpoint), plus `batch`
   * (envelopes), `throttled` (429s sent, top level or inside a batch) and `total` (HTTP requests
   * received, a batch envelope counting once whatever it carries), and `resourceUnits`
   * (SharePoint resource units of the admitted requests).
   */
  counts(): Record<string, number>;
  resetCounts(): void;
  setFaults(faults: SimFault[]): void;
  /** distinct User-Agent headers seen ('' when a request had none) */
  userAgents(): string[];
  sentMail(): Array<{ sender: string; message: unknown }>;
  /** Every Planner task created so far (creation order), as GET would return it, with its current details (copies). */
  plannerTasks(): Array<{ task: JsonObject; details: JsonObject }>;
  /** The Planner plans served (the configured ones, or the default plan). */
  plannerPlans(): SimPlannerPlan[];
  /** Applies a change to a drive and bumps its delta sequence (throws on an unknown drive or item). */
  applyDriveChange(driveId: string, change: DriveChange): void;
  /** Invalidates every delta token of the drive: they answer 410 resyncRequired from now on. */
  expireDeltaTokens(driveId: string): void;
  /** Refills every throttling bucket (e.g. between two scans in one test). */
  resetThrottling(): void;
  /** Changes the compressed clock's factor from now on (model time stays continuous; the bench runs a daily scan at 1). */
  setTimeScale(timeScale: number): void;
  close(): Promise<void>;
}

/** Internal: one request going through the router, at top level or as a `$batch` item. */
export interface SimRequest {
  method: string;
  /** Path as received, e.g. `/v1.0/users` (still percent-encoded). */
  path: string;
  /** Query as received, without the `?`. */
  query: string;
  /** Request headers, names lower-cased. */
  headers: Record<string, string>;
  /** Parsed JSON body (undefined when none). */
  body: unknown;
  /** The body was present but not valid JSON. */
  bodyInvalid?: boolean;
  requestId: string;
  clientRequestId: string;
  inBatch: boolean;
  /**
   * The `roles` claim of the caller's bearer token when it is a JWT (batch items inherit the
   * envelope's); undefined for an opaque token, which the simulator treats as claiming nothing.
   */
  appRoles?: readonly string[];
}

/** Internal: a response before serialisation. */
export interface SimResponse {
  status: number;
  headers: Record<string, string>;
  /** JSON body; undefined for an empty body (202 sendMail). */
  body?: unknown;
  /** Raw (deliberately invalid) body text of a 'malformed' fault; wins over `body`. */
  malformed?: string;
  /** Drop the connection after `malformed`, having announced a longer body (a 'cut' fault). */
  cut?: boolean;
  /** Destroy the connection without answering (a 'reset' fault). */
  reset?: boolean;
}
