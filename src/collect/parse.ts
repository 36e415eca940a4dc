/**
 * Validation of Graph records. Graph's shapes drift and have quirks ("never" written as
 * `0001-01-01T00:00:00Z` or `""`, lower- vs upper-case enums), so each collector parses the fields
 * it reads with zod and normalises them. A record that does not parse is skipped and named
 * (`GET /users value[12].accountEnabled: expected boolean`); the slice then counts as partial, so
 * nothing is resolved on data we could not read.
 */
import { z } from 'zod';

/** Graph's "no date" sentinels → null; anything else must be a parseable date. */
export const graphDate = z
  .string()
  .nullish()
  .transform((v, ctx) => {
    if (v === null || v === undefined || v === '' || v.startsWith('0001-01-01')) return null;
    const t = Date.parse(v);
    if (Number.isNaN(t)) {
      ctx.addIssue({ code: 'custom', message: `not a date: ${JSON.stringify(v.slice(0, 40))}` });
      return z.NEVER;
    }
    return new Date(t).toISOString();
  });

export const optionalString = z
  .string()
  .nullish()
  .transform((v) => (v === undefined || v === '' ? null : v));

const stringArray = z
  .array(z.string())
  .nullish()
  .transform((v) => v ?? []);

// supportedServices: Collection(Edm.String), not nullable (metadata); "domain resource type" lists
// Email, Sharepoint, EmailInternalRelayOnly, OfficeCommunicationsOnline, … (01-domains.json).
export const domainSchema = z
  .looseObject({ id: z.string().min(1), isVerified: z.boolean(), supportedServices: z.array(z.string()).nullish() })
  .transform((d) => ({ id: d.id, isVerified: d.isVerified, supportedServices: d.supportedServices ?? [] }));

export const userSchema = z
  .looseObject({
    id: z.string().min(1),
    displayName: optionalString,
    userPrincipalName: z.string().min(1),
    mail: optionalString,
    userType: optionalString,
    accountEnabled: z.boolean(),
    createdDateTime: graphDate,
    department: optionalString,
    employeeId: optionalString,
    employeeLeaveDateTime: graphDate,
    passwordPolicies: optionalString,
    externalUserState: optionalString,
    signInActivity: z
      .looseObject({
        lastSignInDateTime: graphDate,
        lastSuccessfulSignInDateTime: graphDate,
        lastNonInteractiveSignInDateTime: graphDate,
      })
      .nullish(),
  })
  .transform((u) => ({
    id: u.id,
    displayName: u.displayName ?? u.userPrincipalName,
    userPrincipalName: u.userPrincipalName,
    mail: u.mail,
    // Graph leaves userType null on some old synced accounts; they are members.
    userType: u.userType ?? 'Member',
    accountEnabled: u.accountEnabled,
    createdDateTime: u.createdDateTime,
    department: u.department,
    employeeId: u.employeeId,
    employeeLeaveDateTime: u.employeeLeaveDateTime,
    passwordPolicies: u.passwordPolicies,
    externalUserState: u.externalUserState,
    lastSignInDateTime: u.signInActivity?.lastSignInDateTime ?? null,
    lastSuccessfulSignInDateTime: u.signInActivity?.lastSuccessfulSignInDateTime ?? null,
    lastNonInteractiveSignInDateTime: u.signInActivity?.lastNonInteractiveSignInDateTime ?? null,
  }));

export const directoryEntrySchema = z
  .looseObject({
    id: z.string().min(1),
    userPrincipalName: z.string().min(1),
    mail: optionalString,
    userType: optionalString,
    accountEnabled: z.boolean(),
    department: optionalString,
  })
  .transform((u) => ({ id: u.id, userPrincipalName: u.userPrincipalName, mail: u.mail, userType: u.userType ?? 'Member', accountEnabled: u.accountEnabled, department: u.department }));

export const mfaRegistrationSchema = z
  .looseObject({
    id: z.string().min(1),
    userPrincipalName: optionalString,
    isMfaRegistered: z.boolean(),
    userType: optionalString,
    methodsRegistered: stringArray,
  })
  .transform((r) => ({
    id: r.id,
    userPrincipalName: r.userPrincipalName ?? '',
    isMfaRegistered: r.isMfaRegistered,
    userType: (r.userType ?? 'member').toLowerCase(),
    methodsRegistered: r.methodsRegistered,
  }));

/** An expanded `principal` (a directoryObject: user, group, servicePrincipal, …). */
const principalSchema = z
  .looseObject({
    '@odata.type': optionalString,
    displayName: optionalString,
    userPrincipalName: optionalString,
    mail: optionalString,
    userType: optionalString,
  })
  .nullish();

/**
 * The principal's type (`user`, `group`, `servicePrincipal`; `unknown` without an `@odata.type`),
 * name and userType, as every role schema reports them.
 */
function principalFields(principal: z.output<typeof principalSchema>) {
  const odataType = principal?.['@odata.type'];
  return {
    principalType: (odataType ?? '#microsoft.graph.unknown').replace(/^#microsoft\.graph\./, ''),
    // A group is known by its displayName (role-assignable groups are mostly not mail-enabled).
    principalName: /group$/i.test(odataType ?? '')
      ? (principal?.displayName ?? principal?.mail ?? null)
      : (principal?.userPrincipalName ?? principal?.mail ?? principal?.displayName ?? null),
    principalUserType: principal?.userType ?? null,
  };
}

export const roleAssignmentSchema = z
  .looseObject({
    id: z.string().min(1),
    principalId: z.string().min(1),
    roleDefinitionId: z.string().min(1),
    directoryScopeId: optionalString,
    principal: principalSchema,
  })
  .transform((a) => ({
    id: a.id,
    principalId: a.principalId,
    roleDefinitionId: a.roleDefinitionId.toLowerCase(),
    directoryScopeId: a.directoryScopeId ?? '/',
    ...principalFields(a.principal),
  }));


export const roleEligibilitySchema = z
  .looseObject({
    id: z.string().min(1),
    principalId: z.string().min(1),
    roleDefinitionId: z.string().min(1),
    directoryScopeId: optionalString,
    status: optionalString,
    memberType: optionalString,
    principal: principalSchema,
    scheduleInfo: z
      .looseObject({
        startDateTime: graphDate,
        expiration: z.looseObject({ endDateTime: graphDate, type: optionalString }).nullish(),
      })
      .nullish(),
  })
  .transform((e) => ({
    id: e.id,
    principalId: e.principalId,
    roleDefinitionId: e.roleDefinitionId.toLowerCase(),
    directoryScopeId: e.directoryScopeId ?? '/',
    status: e.status,
    memberType: e.memberType,
    // No `principal` when the service did not expand it: the collector resolves the type then.
    ...(e.principal?.['@odata.type'] ? principalFields(e.principal) : {}),
    start: e.scheduleInfo?.startDateTime ?? null,
    end: e.scheduleInfo?.expiration?.endDateTime ?? null,
  }));

/**
 * `unifiedRoleAssignmentScheduleInstance` (v1.0 metadata: assignmentType, memberType,
 * startDateTime, endDateTime on unifiedRoleScheduleInstanceBase's principalId, roleDefinitionId,
 * directoryScopeId; `principal` a navigation property). The docs' example (List
 * roleAssignmentScheduleInstances) shows `"startDateTime": null, "endDateTime": null` for a
 * permanent `Assigned` instance.
 */
export const roleAssignmentInstanceSchema = z
  .looseObject({
    id: z.string().min(1),
    principalId: z.string().min(1),
    roleDefinitionId: z.string().min(1),
    directoryScopeId: optionalString,
    assignmentType: optionalString,
    memberType: optionalString,
    startDateTime: graphDate,
    endDateTime: graphDate,
    principal: principalSchema,
  })
  .transform((a) => {
    // No principalUserType here: RoleAssignmentInstance does not carry one.
    const { principalType, principalName } = principalFields(a.principal);
    return {
      id: a.id,
      principalId: a.principalId,
      roleDefinitionId: a.roleDefinitionId.toLowerCase(),
      directoryScopeId: a.directoryScopeId ?? '/',
      assignmentType: a.assignmentType,
      memberType: a.memberType,
      startDateTime: a.startDateTime,
      endDateTime: a.endDateTime,
      // Absent when the service did not expand `principal`.
      ...(a.principal?.['@odata.type'] ? { principalType, principalName } : {}),
    };
  });

/** A user from `GET /groups/{id}/transitiveMembers/microsoft.graph.user?$select=…`. */
export const groupMemberSchema = z
  .looseObject({
    id: z.string().min(1),
    userPrincipalName: optionalString,
    userType: optionalString,
    accountEnabled: z.boolean().nullish(),
  })
  .transform((m) => ({ id: m.id, userPrincipalName: m.userPrincipalName, userType: m.userType, accountEnabled: m.accountEnabled ?? null }));

/** `GET /groups/{id}?$select=id,displayName`: what the roles collector names a group by. */
export const groupSchema = z.looseObject({ id: z.string().min(1), displayName: optionalString });

export const securityDefaultsSchema = z.looseObject({ isEnabled: z.boolean() });

/**
 * `GET /policies/authorizationPolicy` ("Get authorizationPolicy", v1.0: "the single
 * authorizationPolicy object"; metadata: `defaultUserRolePermissions` is not nullable,
 * `permissionGrantPoliciesAssigned` is a nullable `Collection(Edm.String)`). Only the consent
 * setting is kept.
 */
export const authorizationPolicySchema = z
  .looseObject({
    id: optionalString,
    defaultUserRolePermissions: z.looseObject({ permissionGrantPoliciesAssigned: stringArray }),
  })
  .transform((p) => ({ id: p.id, permissionGrantPoliciesAssigned: p.defaultUserRolePermissions.permissionGrantPoliciesAssigned }));

export const conditionalAccessSchema = z
  .looseObject({
    id: z.string().min(1),
    displayName: optionalString,
    state: z.string().min(1),
    conditions: z.looseObject({
      clientAppTypes: stringArray,
      applications: z.looseObject({ includeApplications: stringArray }).nullish(),
      users: z.looseObject({ includeUsers: stringArray }).nullish(),
    }),
    grantControls: z
      .looseObject({
        builtInControls: stringArray,
        authenticationStrength: z.unknown().optional(),
      })
      .nullish(),
  })
  .transform((p) => ({
    id: p.id,
    displayName: p.displayName ?? p.id,
    state: p.state,
    includeUsers: p.conditions.users?.includeUsers ?? [],
    includeApplications: p.conditions.applications?.includeApplications ?? [],
    clientAppTypes: p.conditions.clientAppTypes,
    builtInControls: (p.grantControls?.builtInControls ?? []).map((c) => c.toLowerCase()),
    hasAuthenticationStrength: Boolean(p.grantControls?.authenticationStrength),
  }));

/** `GET /servicePrincipals?$select=id,appId,displayName,appOwnerOrganizationId,appRoles` ("servicePrincipal resource type"). */
export const servicePrincipalSchema = z
  .looseObject({
    id: z.string().min(1),
    appId: z.string().min(1),
    displayName: optionalString,
    appOwnerOrganizationId: optionalString,
    appRoles: z.array(z.looseObject({ id: z.string().min(1), value: optionalString })).nullish(),
  })
  .transform((s) => ({ id: s.id, appId: s.appId, displayName: s.displayName, appOwnerOrganizationId: s.appOwnerOrganizationId, appRoles: (s.appRoles ?? []).map((r) => ({ id: r.id, value: r.value })) }));

/** `GET /servicePrincipals/{id}/appRoleAssignments` ("appRoleAssignment resource type"). */
export const appRoleAssignmentSchema = z
  .looseObject({ id: z.string().min(1), appRoleId: z.string().min(1), resourceId: z.string().min(1), resourceDisplayName: optionalString })
  .transform((a) => ({ id: a.id, appRoleId: a.appRoleId, resourceId: a.resourceId, resourceDisplayName: a.resourceDisplayName }));

/** `GET /oauth2PermissionGrants` ("oAuth2PermissionGrant resource type": `scope` is space-separated, may be empty). */
export const oauth2PermissionGrantSchema = z
  .looseObject({ id: z.string().min(1), clientId: z.string().min(1), consentType: z.string().min(1), resourceId: z.string().min(1), scope: optionalString })
  .transform((g) => ({ id: g.id, clientId: g.clientId, consentType: g.consentType, resourceId: g.resourceId, scopes: (g.scope ?? '').split(/\s+/).filter((s) => s !== '') }));

/*
 * Fast paths (issue 13, scanner memory at 50,000 users). zod's parse of one user allocates a
 * payload per field, the looseObject's copy of every key and the transform's output: about six
 * times the record itself, so that a 999-user page left enough behind in the young generation
 * for much of it to be promoted, and the old generation grew to three times what was live before
 * a full GC. For the two schemas read 50,000 times a scan, a record that is plainly well formed is
 * normalised directly into exactly what the schema's transform gives (same fields, same order,
 * same normalisation); anything else — a wrong type, an unreadable date — returns undefined and
 * goes through zod, which gives the same record or the same problem it always did
 * (tests/collect/parse-fast.test.ts compares the two on every edge case).
 */

/** The fast path's "not plainly well formed: ask zod". */
const NOT_FAST = Symbol('not fast');
type Fast<T> = T | typeof NOT_FAST;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const fastString = (v: unknown): Fast<string> => (typeof v === 'string' && v.length >= 1 ? v : NOT_FAST);
const fastBoolean = (v: unknown): Fast<boolean> => (typeof v === 'boolean' ? v : NOT_FAST);
/** {@link optionalString}. */
function fastOptionalString(v: unknown): Fast<string | null> {
  if (v === undefined || v === null || v === '') return null;
  return typeof v === 'string' ? v : NOT_FAST;
}
/** {@link graphDate}. */
function fastDate(v: unknown): Fast<string | null> {
  if (v === undefined || v === null || v === '') return null;
  if (typeof v !== 'string') return NOT_FAST;
  if (v.startsWith('0001-01-01')) return null;
  const t = Date.parse(v);
  return Number.isNaN(t) ? NOT_FAST : new Date(t).toISOString();
}

type UserRecord = z.output<typeof userSchema>;
type DirectoryEntryRecord = z.output<typeof directoryEntrySchema>;

/** {@link userSchema}'s output for a plainly well-formed record, else undefined. */
export function fastUser(v: unknown): UserRecord | undefined {
  if (!isRecord(v)) return undefined;
  const id = fastString(v.id);
  const displayName = fastOptionalString(v.displayName);
  const userPrincipalName = fastString(v.userPrincipalName);
  const mail = fastOptionalString(v.mail);
  const userType = fastOptionalString(v.userType);
  const accountEnabled = fastBoolean(v.accountEnabled);
  const createdDateTime = fastDate(v.createdDateTime);
  const department = fastOptionalString(v.department);
  const employeeId = fastOptionalString(v.employeeId);
  const employeeLeaveDateTime = fastDate(v.employeeLeaveDateTime);
  const passwordPolicies = fastOptionalString(v.passwordPolicies);
  const externalUserState = fastOptionalString(v.externalUserState);
  const activity = v.signInActivity;
  if (activity !== undefined && activity !== null && !isRecord(activity)) return undefined;
  const a = activity ?? undefined;
  const lastSignInDateTime = a ? fastDate(a.lastSignInDateTime) : null;
  const lastSuccessfulSignInDateTime = a ? fastDate(a.lastSuccessfulSignInDateTime) : null;
  const lastNonInteractiveSignInDateTime = a ? fastDate(a.lastNonInteractiveSignInDateTime) : null;
  if (
    id === NOT_FAST || displayName === NOT_FAST || userPrincipalName === NOT_FAST || mail === NOT_FAST || userType === NOT_FAST
    || accountEnabled === NOT_FAST || createdDateTime === NOT_FAST || department === NOT_FAST || employeeId === NOT_FAST
    || employeeLeaveDateTime === NOT_FAST || passwordPolicies === NOT_FAST || externalUserState === NOT_FAST
    || lastSignInDateTime === NOT_FAST || lastSuccessfulSignInDateTime === NOT_FAST || lastNonInteractiveSignInDateTime === NOT_FAST
  ) return undefined;
  return {
    id,
    displayName: displayName ?? userPrincipalName,
    userPrincipalName,
    mail,
    userType: userType ?? 'Member',
    accountEnabled,
    createdDateTime,
    department,
    employeeId,
    employeeLeaveDateTime,
    passwordPolicies,
    externalUserState,
    lastSignInDateTime,
    lastSuccessfulSignInDateTime,
    lastNonInteractiveSignInDateTime,
  };
}

/** {@link directoryEntrySchema}'s output for a plainly well-formed record, else undefined. */
export function fastDirectoryEntry(v: unknown): DirectoryEntryRecord | undefined {
  if (!isRecord(v)) return undefined;
  const id = fastString(v.id);
  const userPrincipalName = fastString(v.userPrincipalName);
  const mail = fastOptionalString(v.mail);
  const userType = fastOptionalString(v.userType);
  const accountEnabled = fastBoolean(v.accountEnabled);
  const department = fastOptionalString(v.department);
  if (id === NOT_FAST || userPrincipalName === NOT_FAST || mail === NOT_FAST || userType === NOT_FAST || accountEnabled === NOT_FAST || department === NOT_FAST) return undefined;
  return { id, userPrincipalName, mail, userType: userType ?? 'Member', accountEnabled, department };
}

/** The schemas with a fast path, consulted by {@link parseRecords}. */
const FAST_PATHS = new Map<z.ZodType, (v: unknown) => unknown>([
  [userSchema, fastUser],
  [directoryEntrySchema, fastDirectoryEntry],
]);

/** Result of parsing a list: the good records and a description of each bad one. */
export interface Parsed<T> {
  records: T[];
  problems: string[];
}

/** Parses each record of a collection page; bad records are skipped and described. */
export function parseRecords<S extends z.ZodType>(schema: S, values: readonly unknown[], where: string, offset = 0): Parsed<z.output<S>> {
  const records: z.output<S>[] = [];
  const problems: string[] = [];
  const fast = FAST_PATHS.get(schema);
  values.forEach((value, i) => {
    const quick = fast?.(value);
    if (quick !== undefined) {
      records.push(quick as z.output<S>);
      return;
    }
    const r = schema.safeParse(value);
    if (r.success) records.push(r.data);
    else {
      const issue = r.error.issues[0];
      const path = issue ? issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('') : '';
      const id = value && typeof value === 'object' && typeof (value as { id?: unknown }).id === 'string' ? ` (id ${(value as { id: string }).id})` : '';
      problems.push(`${where} value[${offset + i}]${path}${id}: ${issue?.message ?? 'invalid'}`);
    }
  });
  return { records, problems };
}

/** Joins problem lines into a coverage detail, naming at most a few. */
export function summariseProblems(problems: readonly string[], max = 5): string {
  const shown = problems.slice(0, max).join('; ');
  return problems.length > max ? `${shown}; and ${problems.length - max} more` : shown;
}
