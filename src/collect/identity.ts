/**
 * Identity collectors: domains, users (with signInActivity), MFA registration, role assignments
 * and eligibility, security defaults, Conditional Access. Endpoints and permissions: graph.md.
 */
import type { z } from 'zod';
import { GraphError } from '../errors';
import type { Graph } from '../graph/graph';
import {
  conditionalAccessSchema,
  directoryEntrySchema,
  domainSchema,
  mfaRegistrationSchema,
  parseRecords,
  roleAssignmentSchema,
  roleEligibilitySchema,
  securityDefaultsSchema,
  summariseProblems,
  userSchema,
} from './parse';
import type { Collector } from './context';
import type { Roles, Slice } from './snapshot';

/** Properties the users collector selects (graph.md). */
export const USER_SELECT = [
  'id', 'displayName', 'userPrincipalName', 'mail', 'userType', 'accountEnabled', 'createdDateTime', 'department',
  'employeeId', 'employeeLeaveDateTime', 'passwordPolicies', 'externalUserState', 'signInActivity',
].join(',');

/** Reads every page of a collection, parsing records as they arrive. */
export async function collectList<S extends z.ZodType>(graph: Graph, url: string, schema: S, where: string): Promise<Slice<z.output<S>[]>> {
  const records: z.output<S>[] = [];
  const problems: string[] = [];
  let offset = 0;
  for await (const page of graph.pages(url)) {
    const parsed = parseRecords(schema, page.value, where, offset);
    offset += page.value.length;
    records.push(...parsed.records);
    problems.push(...parsed.problems);
  }
  return problems.length
    ? { status: 'partial', data: records, items: records.length, detail: `skipped ${problems.length} unreadable record(s): ${summariseProblems(problems)}` }
    : { status: 'complete', data: records, items: records.length };
}

export const collectDomains: Collector<'domains'> = ({ graph }) => collectList(graph, '/domains', domainSchema, 'GET /domains');

/**
 * Page sizes with signInActivity. Doc revisions disagree: "List users" (user-list.md) says 500 in
 * its newer revision and 120 in an older one, and a Microsoft engineer (msgraph-sdk-powershell
 * issue 1898, "Cannot query data for more than 120 users at a time.") reports an oversize `$top`
 * refused with 400 rather than capped. So ask for 500 and, on a 400, read again at 120.
 */
export const SIGN_IN_ACTIVITY_TOP = 500;
export const SIGN_IN_ACTIVITY_FALLBACK_TOP = 120;

/** Properties of the plain user list: the same as {@link USER_SELECT} without signInActivity. */
export const USER_SELECT_PLAIN = USER_SELECT.split(',').filter((p) => p !== 'signInActivity').join(',');

/**
 * The user list with signInActivity (Entra ID P1 and AuditLog.Read.All). Without the licence
 * Graph answers 403 `Authentication_RequestFromNonPremiumTenantOrB2CTenant` ("Neither tenant is B2C
 * or tenant doesn't have premium license": microsoft-graph-docs issue 12772 "signInActivity
 * property requires Azure AD Premium License"); that fails this slice only, so the rules that need
 * last sign-in times (ACCT-02, ACCT-06) are not evaluated while `users` falls back to the plain list.
 */
export const collectSignInActivity: Collector<'signInActivity'> = async ({ graph }) => {
  const url = (top: number): string => `/users?$select=${USER_SELECT}&$top=${top}`;
  try {
    try {
      return await collectList(graph, url(SIGN_IN_ACTIVITY_TOP), userSchema, 'GET /users');
    } catch (err) {
      if (!(err instanceof GraphError && err.status === 400)) throw err;
      // Refused page size. The enumeration starts over (collectList keeps nothing of an
      // enumeration that threw), so no user read before the refusal is counted twice.
      return await collectList(graph, url(SIGN_IN_ACTIVITY_FALLBACK_TOP), userSchema, 'GET /users');
    }
  } catch (err) {
    if (err instanceof GraphError && (err.status === 403 || err.status === 401)) {
      return {
        status: 'failed',
        items: 0,
        detail: `GET /users?$select=…,signInActivity answered ${err.status}${err.code ? ` ${err.code}` : ''}: last sign-in times need Entra ID P1 and the Graph application permission AuditLog.Read.All`,
      };
    }
    throw err;
  }
};

/**
 * Users: the signInActivity list when it could be read; otherwise the plain list (999 a page),
 * whose last sign-in fields stay null — no rule reads them then, as ACCT-02/06 also require the
 * `signInActivity` slice.
 */
export const collectUsers: Collector<'users'> = async (ctx) => {
  const withActivity = await ctx.slice('signInActivity');
  if (withActivity.status !== 'failed') return withActivity;
  return collectList(ctx.graph, `/users?$select=${USER_SELECT_PLAIN}&$top=999`, userSchema, 'GET /users');
};

/**
 * The user list without signInActivity: 999 a page and outside the ~10-a-minute signInActivity
 * budget, so inbox-rule reading of a 50,000-user tenant starts in seconds, not minutes.
 */
export const collectDirectory: Collector<'directory'> = ({ graph }) =>
  collectList(graph, '/users?$select=id,userPrincipalName,mail,userType,accountEnabled,department&$top=999', directoryEntrySchema, 'GET /users');

// The report omits disabled users; it supports no $top, so Graph's own page size applies. Without
// Entra ID P1 it answers 403 (Authentication_RequestFromNonPremiumTenantOrB2CTenant): the slice
// fails, and with it only MFA-01/02 (MFA-03/04 read policies, not this report).
export const collectMfaRegistration: Collector<'mfaRegistration'> = ({ graph }) =>
  collectList(graph, '/reports/authenticationMethods/userRegistrationDetails', mfaRegistrationSchema, 'GET userRegistrationDetails');

export const collectConditionalAccess: Collector<'conditionalAccess'> = ({ graph }) =>
  collectList(graph, '/identity/conditionalAccess/policies', conditionalAccessSchema, 'GET conditionalAccess/policies');

export const collectSecurityDefaults: Collector<'securityDefaults'> = async ({ graph }) => {
  const body = await graph.get('/policies/identitySecurityDefaultsEnforcementPolicy');
  const parsed = parseRecords(securityDefaultsSchema, [body], 'GET identitySecurityDefaultsEnforcementPolicy');
  const record = parsed.records[0];
  if (!record) return { status: 'failed', items: 0, detail: summariseProblems(parsed.problems) };
  return { status: 'complete', data: { isEnabled: record.isEnabled }, items: 1 };
};

/**
 * Active assignments (with principals) and, where PIM data is readable, eligible ones. A 403 on
 * eligibility (no Entra ID P2, or no RoleEligibilitySchedule.Read.Directory) makes the slice
 * partial, not failed: active assignments are still checked.
 */
export const collectRoles: Collector<'roles'> = async ({ graph, now }) => {
  const assignments = await collectList(graph, '/roleManagement/directory/roleAssignments?$expand=principal', roleAssignmentSchema, 'GET roleAssignments');
  if (assignments.status === 'failed') return assignments;
  const details: string[] = assignments.detail ? [assignments.detail] : [];
  let eligibility: Roles['eligibility'] = null;
  try {
    const eligible = await collectList(graph, '/roleManagement/directory/roleEligibilitySchedules', roleEligibilitySchema, 'GET roleEligibilitySchedules');
    if (eligible.status !== 'failed') {
      if (eligible.detail) details.push(eligible.detail);
      const t = now.getTime();
      // Only schedules in force now: provisioned, started, not expired.
      eligibility = eligible.data
        .filter((e) => (e.status ?? 'Provisioned').toLowerCase() === 'provisioned')
        .filter((e) => (e.start === null || Date.parse(e.start) <= t) && (e.end === null || Date.parse(e.end) > t))
        .map(({ id, principalId, roleDefinitionId, directoryScopeId }) => ({ id, principalId, roleDefinitionId, directoryScopeId }));
    }
  } catch (err) {
    if (err instanceof GraphError && (err.status === 403 || err.status === 401)) {
      details.push(`roleEligibilitySchedules: ${err.status} (needs Entra ID P2 and RoleEligibilitySchedule.Read.Directory); eligible role holders were not checked`);
    } else throw err;
  }
  const partial = eligibility === null || assignments.status === 'partial' || details.length > 0;
  return {
    status: partial ? 'partial' : 'complete',
    data: { assignments: assignments.data, eligibility },
    items: assignments.data.length + (eligibility?.length ?? 0),
    ...(details.length ? { detail: details.join('; ') } : {}),
  };
};
