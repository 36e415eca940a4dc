/**
 * Identity collectors: domains, users (with signInActivity: every user at most every
 * accounts.fullSignInActivityReadDays, only the ACCT-02/06 candidates in between), MFA
 * registration, role assignments and eligibility, security defaults, Conditional Access.
 * Endpoints and permissions: graph.md.
 */
import { createHash } from 'node:crypto';
import type { z } from 'zod';
import { GraphError } from '../errors';
import type { Graph } from '../graph/graph';
import {
  conditionalAccessSchema,
  directoryEntrySchema,
  domainSchema,
  groupMemberSchema,
  groupSchema,
  mfaRegistrationSchema,
  parseRecords,
  roleAssignmentInstanceSchema,
  roleAssignmentSchema,
  roleEligibilitySchema,
  securityDefaultsSchema,
  summariseProblems,
  userSchema,
} from './parse';
import type { CollectContext, Collector } from './context';
import type { PendingState } from './pending';
import type { DirectoryEntry, DirectoryUser, MfaRegistration, RoleEligibility, RoleGroup, Roles, Slice } from './snapshot';
import { lastSignIn } from '../rules/accounts';
import { roleHolders } from '../rules/privileged';

/** Properties the users collector selects (graph.md). */
export const USER_SELECT = [
  'id', 'displayName', 'userPrincipalName', 'mail', 'userType', 'accountEnabled', 'createdDateTime', 'department',
  'employeeId', 'employeeLeaveDateTime', 'passwordPolicies', 'externalUserState', 'signInActivity',
].join(',');

/** Reads every page of a collection, parsing records as they arrive. */
export async function collectList<S extends z.ZodType>(
  graph: Graph,
  url: string,
  schema: S,
  where: string,
  headers?: Record<string, string>,
): Promise<Slice<z.output<S>[]>> {
  const records: z.output<S>[] = [];
  const problems: string[] = [];
  let offset = 0;
  for await (const page of graph.pages(url, headers)) {
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

/** Reads every user with signInActivity: 500 a page, or 120 where 500 is refused. */
async function readAllWithActivity(graph: Graph): Promise<Slice<DirectoryUser[]>> {
  const url = (top: number): string => `/users?$select=${USER_SELECT}&$top=${top}`;
  try {
    return await collectList(graph, url(SIGN_IN_ACTIVITY_TOP), userSchema, 'GET /users');
  } catch (err) {
    if (!(err instanceof GraphError && err.status === 400)) throw err;
    // Refused page size. The enumeration starts over (collectList keeps nothing of an
    // enumeration that threw), so no user read before the refusal is counted twice.
    return collectList(graph, url(SIGN_IN_ACTIVITY_FALLBACK_TOP), userSchema, 'GET /users');
  }
}

/**
 * The user list with signInActivity (Entra ID P1 and AuditLog.Read.All). Without the licence
 * Graph answers 403 `Authentication_RequestFromNonPremiumTenantOrB2CTenant` ("Neither tenant is B2C
 * or tenant doesn't have premium license": microsoft-graph-docs issue 12772 "signInActivity
 * property requires Azure AD Premium License"); that fails this slice only, so the rules that need
 * last sign-in times (ACCT-02, ACCT-06) are not evaluated while `users` falls back to the plain list.
 *
 * Read in full at most every `accounts.fullSignInActivityReadDays`; in between, incrementally
 * ({@link readIncrementally}): only the users ACCT-02/06 could flag are read with signInActivity.
 */
export const collectSignInActivity: Collector<'signInActivity'> = async (ctx) => {
  try {
    const plan = await activityPlan(ctx);
    if (plan.kind === 'incremental') {
      const read = await readIncrementally(ctx, plan.state);
      if (!('fallback' in read)) return read;
      plan.notes.push(read.fallback);
    }
    const full = await readAllWithActivity(ctx.graph);
    if (full.status === 'failed') return full;
    const notes = plan.notes.length ? [plan.notes.join('; ')] : [];
    const detail = [...(full.detail ? [full.detail] : []), ...notes].join('; ');
    return {
      ...full,
      ...(detail ? { detail } : {}),
      ...(ctx.store ? { pending: [activityPending(fullReadState(ctx, full.data))] } : {}),
    };
  } catch (err) {
    // Only a 403 is the licence or the permission. A 401 is the token refused everywhere: it
    // fails the slice as any error does, with its own message, rather than blaming Entra ID P1.
    if (err instanceof GraphError && err.status === 403) {
      const why = err.code === 'Authentication_RequestFromNonPremiumTenantOrB2CTenant'
        ? 'the tenant has no Entra ID P1, which last sign-in times need (with the Graph application permission AuditLog.Read.All)'
        : 'last sign-in times need Entra ID P1 and the Graph application permission AuditLog.Read.All';
      return {
        status: 'failed',
        items: 0,
        detail: `GET /users?$select=…,signInActivity answered 403${err.code ? ` ${err.code}` : ''}: ${why}`,
      };
    }
    throw err;
  }
};

/*
 * Incremental accounts read (issue 13; design and doc findings: docs/read-less-accounts-mfa.md).
 *
 * ACCT-02/06 fire on `last = lastSuccessfulSignInDateTime ?? lastSignInDateTime` older than their
 * limit, or, with no `last`, on a `createdDateTime` older than it. Between full reads only the
 * users that could fire are read with signInActivity:
 * - `$filter=signInActivity/lastSuccessfulSignInDateTime le C` and `…/lastSignInDateTime le C`,
 *   two requests merged by id, C = now − min(inactiveDays, guestInactiveDays) days rounded UP to
 *   the second (so the set read is never smaller than the one the rules need). signInActivity
 *   "supports $filter (eq, ne, not, ge, le) but not with any other filterable properties" ("user
 *   resource type", v1.0), so no `userType` term: the smaller limit serves both rules; and `or`
 *   between the two terms "seemed to not work" (KelvinTegelaar/CIPP-API#1119): two requests.
 * - A user neither returns has a last success after C, or no success and a last sign-in after C
 *   (neither rule fires), or no sign-in recorded at all (signInActivity "isn't returned for a user
 *   who never signed in", "user resource type"). Those are re-read by id: the ids with no sign-in
 *   at the last full read (sign-in times only move forward), and every user of the directory list
 *   the last full read did not see (new users, and users restored from deleted items, whose
 *   `createdDateTime` is old: a creation-date test would miss them).
 * - The privileged role holders are re-read by id too (few), so the digest's inventory shows their
 *   exact last sign-in; a guest not read is shown "after C" (digest/inventory.ts).
 * - Re-reads are `$filter=id in (…)` with at most 15 ids and no advanced-query headers: "the
 *   request is limited to 15 expressions in the filter clause by default" (Microsoft Graph known
 *   issues, "Query parameters"); `$select=signInActivity` with a filter on another property is
 *   allowed ("How to manage inactive user accounts", "Users by name" example).
 * The slice then holds only the users read; ACCT-02/06 iterate it, so a user absent from it is
 * provably recent and the findings are those of a full read.
 *
 * State (`accounts-signin-activity`, per tenant): what the last full read saw, handed back as the
 * slice's pending state only after a full read and stored by the pipeline after the ledger write.
 * Compact at 50,000 users: `seenDigest` is the sorted first 8 bytes of SHA-256 of each lower-case
 * id, base64 (50,000 × 8 bytes ≈ 530 kB of text, against ≈ 2 MB as GUID strings); a new id is
 * mistaken for a seen one with probability ≈ 50,000 / 2^64 (never, in practice). `neverIds` (the
 * users with no sign-in recorded) must be re-read by id, so they are kept whole.
 */

/** Where the accounts read keeps what its last full read saw (a state blob per tenant). */
export const SIGN_IN_ACTIVITY_STATE_KEY = 'accounts-signin-activity';

/** At most this many ids in one `id in (…)` filter (Microsoft Graph known issues, "Query parameters"). */
export const ID_IN_BATCH = 15;

interface ActivityState {
  version: 1;
  /** When the full read ran (ISO): the scan's start. */
  fullReadAt: string;
  /** The Graph root it read (a state of another root says nothing of this one). */
  graphRoot?: string;
  /** Sorted 8-byte SHA-256 prefixes of the lower-case ids it saw, concatenated, base64. */
  seenDigest: string;
  /** The ids it saw with no sign-in recorded, sorted. */
  neverIds: string[];
}

type ActivityPlan = { kind: 'full'; notes: string[] } | { kind: 'incremental'; state: ActivityState; notes: string[] };

function idDigest(id: string): Buffer {
  return createHash('sha256').update(id.toLowerCase()).digest().subarray(0, 8);
}

/** The state a full read leaves. */
function fullReadState(ctx: CollectContext, users: readonly DirectoryUser[]): ActivityState {
  const digests = users.map((u) => idDigest(u.id)).sort(Buffer.compare);
  return {
    version: 1,
    fullReadAt: ctx.now.toISOString(),
    ...(ctx.graph.root ? { graphRoot: ctx.graph.root } : {}),
    seenDigest: Buffer.concat(digests).toString('base64'),
    neverIds: users.filter((u) => lastSignIn(u) === null).map((u) => u.id).sort(),
  };
}

function activityPending(state: ActivityState): PendingState {
  // A watermark: of two runs at once the later full read is kept (collect/pending.ts).
  return { key: SIGN_IN_ACTIVITY_STATE_KEY, value: JSON.stringify(state), watermark: state.fullReadAt, ...(state.graphRoot ? { graphRoot: state.graphRoot } : {}) };
}

async function loadActivityState(ctx: CollectContext): Promise<ActivityState | 'unreadable' | undefined> {
  if (!ctx.store) return undefined;
  const text = await ctx.store.getStateBlob(ctx.tenantId, SIGN_IN_ACTIVITY_STATE_KEY);
  if (!text) return undefined;
  try {
    const s = JSON.parse(text) as Partial<ActivityState>;
    const ok = s.version === 1 && typeof s.fullReadAt === 'string' && Number.isFinite(Date.parse(s.fullReadAt))
      && typeof s.seenDigest === 'string' && Array.isArray(s.neverIds) && s.neverIds.every((id) => typeof id === 'string')
      && (s.graphRoot === undefined || typeof s.graphRoot === 'string');
    return ok ? (s as ActivityState) : 'unreadable';
  } catch {
    return 'unreadable';
  }
}

/** {@link planActivityRead}, once per scan (the directory collector asks too). */
const activityPlans = new WeakMap<CollectContext, Promise<ActivityPlan>>();
function activityPlan(ctx: CollectContext): Promise<ActivityPlan> {
  let p = activityPlans.get(ctx);
  if (!p) {
    p = planActivityRead(ctx);
    activityPlans.set(ctx, p);
  }
  return p;
}

/** Full or incremental, and why a full read was chosen when that needs saying. */
async function planActivityRead(ctx: CollectContext): Promise<ActivityPlan> {
  // No store: nothing the full read saw could be kept. freshState: the tenant is new each run.
  if (!ctx.store || ctx.options.freshState || ctx.options.fullSignInActivityRead) return { kind: 'full', notes: [] };
  const state = await loadActivityState(ctx);
  if (state === undefined) return { kind: 'full', notes: [] };
  if (state === 'unreadable') return { kind: 'full', notes: ['the stored state of the last full signInActivity read was unreadable, so every user was read in full'] };
  const root = ctx.graph.root;
  if (state.graphRoot !== undefined && root !== undefined && state.graphRoot.toLowerCase() !== root.toLowerCase()) {
    return { kind: 'full', notes: [`the stored signInActivity state of another Graph root (${state.graphRoot}) was discarded; every user was read in full at ${root}`] };
  }
  const age = ctx.now.getTime() - Date.parse(state.fullReadAt);
  // A full read "in the future" (a clock moved back) is not trusted either.
  if (age < 0 || age >= ctx.policy.accounts.fullSignInActivityReadDays * 86_400_000) return { kind: 'full', notes: [] };
  return { kind: 'incremental', state, notes: [] };
}

/** C: the scan's start minus the smaller limit, rounded up to the second, as an OData literal. */
export function activityCutoff(now: Date, inactiveDays: number, guestInactiveDays: number): string {
  const ms = now.getTime() - Math.min(inactiveDays, guestInactiveDays) * 86_400_000;
  return new Date(Math.ceil(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/**
 * The users ACCT-02/06 could flag, read with signInActivity (see above), or 'refused' when the
 * service answers a candidate filter 400 or the directory list is incomplete: the reason, and the
 * caller then reads every user (never less than a full read).
 */
async function readIncrementally(ctx: CollectContext, state: ActivityState): Promise<Slice<DirectoryUser[]> | { fallback: string }> {
  // The directory list (51 pages at 50,000 users) is read while the candidate queries run: it is
  // needed only for the re-reads by id.
  const directoryRead = ctx.slice('directory');
  directoryRead.catch(() => undefined);
  const { inactiveDays, guestInactiveDays } = ctx.policy.accounts;
  const cutoff = activityCutoff(ctx.now, inactiveDays, guestInactiveDays);
  const read = new Map<string, DirectoryUser>();
  const problems: string[] = [];
  const take = (s: Slice<DirectoryUser[]>): void => {
    if (s.status === 'failed') throw new Error(s.detail);
    for (const u of s.data) read.set(u.id.toLowerCase(), u);
    if (s.detail) problems.push(s.detail);
  };
  for (const property of ['lastSuccessfulSignInDateTime', 'lastSignInDateTime']) {
    const filter = encodeURIComponent(`signInActivity/${property} le ${cutoff}`);
    const url = (top: number): string => `/users?$filter=${filter}&$select=${USER_SELECT}&$top=${top}`;
    try {
      take(await collectList(ctx.graph, url(SIGN_IN_ACTIVITY_TOP), userSchema, 'GET /users'));
    } catch (err) {
      if (!(err instanceof GraphError && err.status === 400)) throw err;
      // The page size or the filter refused: the page size is tried as the full read does it.
      try {
        take(await collectList(ctx.graph, url(SIGN_IN_ACTIVITY_FALLBACK_TOP), userSchema, 'GET /users'));
      } catch (again) {
        if (again instanceof GraphError && again.status === 400) {
          return { fallback: `the service refused the signInActivity filter on ${property} (400${again.code ? ` ${again.code}` : ''}), so every user was read with signInActivity instead` };
        }
        throw again;
      }
    }
  }
  const directory = await directoryRead;
  // Without the whole directory list, new and restored users cannot be found: read in full.
  if (directory.status !== 'complete') return { fallback: 'the directory list was not read completely, so new and restored users could not be told apart: every user was read with signInActivity' };
  const seen = new Set<string>();
  const digests = Buffer.from(state.seenDigest, 'base64');
  for (let i = 0; i + 8 <= digests.length; i += 8) seen.add(digests.subarray(i, i + 8).toString('hex'));
  const reread = new Set<string>(state.neverIds.map((id) => id.toLowerCase()));
  for (const u of directory.data) if (!seen.has(idDigest(u.id).toString('hex'))) reread.add(u.id.toLowerCase());
  for (const id of await privilegedUserIds(ctx)) reread.add(id.toLowerCase());
  const ids = [...reread].filter((id) => !read.has(id)).sort();
  // Never more than a full read: a tenant with many users never signed in (each re-read 15 a
  // request) is read in full instead, at SIGN_IN_ACTIVITY_TOP a page.
  const batches = Math.ceil(ids.length / ID_IN_BATCH);
  const fullPages = Math.ceil(directory.data.length / SIGN_IN_ACTIVITY_TOP);
  if (batches > fullPages) {
    return { fallback: `${ids.length} user(s) to re-read by id (${batches} request(s) of ${ID_IN_BATCH}) would cost more than reading every user (${fullPages} page(s)), so every user was read with signInActivity` };
  }
  for (let i = 0; i < ids.length; i += ID_IN_BATCH) {
    const list = ids.slice(i, i + ID_IN_BATCH).map((id) => `'${id.replace(/'/g, "''")}'`).join(',');
    take(await collectList(ctx.graph, `/users?$filter=${encodeURIComponent(`id in (${list})`)}&$select=${USER_SELECT}`, userSchema, 'GET /users'));
  }
  const data = [...read.values()];
  const detail = [
    `incremental; last full read ${state.fullReadAt}: ${data.length} user(s) read with signInActivity (last sign-in at or before ${cutoff}, none recorded, not seen by the full read, or privileged); the others signed in after ${cutoff}; next full read due ${new Date(Date.parse(state.fullReadAt) + ctx.policy.accounts.fullSignInActivityReadDays * 86_400_000).toISOString()}`,
    ...problems,
  ].join('; ');
  return {
    status: problems.length ? 'partial' : 'complete',
    data,
    items: data.length,
    detail,
    incremental: { fullReadAt: state.fullReadAt, recentAfter: cutoff },
  };
}

/** The users holding a privileged role (policy.accounts.privilegedRoles), when the roles could be read. */
async function privilegedUserIds(ctx: CollectContext): Promise<string[]> {
  const roles = await ctx.slice('roles');
  if (roles.status === 'failed') return [];
  return [...roleHolders(roles.data, ctx.policy.accounts.privilegedRoles).values()].filter((h) => h.principalType === 'user').map((h) => h.principalId);
}

/**
 * Users: the signInActivity list when every user was read with it; otherwise (no Entra ID P1, or
 * an incremental read) the plain list (999 a page), whose last sign-in fields stay null — no rule
 * reads them: ACCT-02/06 iterate the `signInActivity` slice. The plain list is the one the
 * directory collector read ({@link readPlainUsers}): 50,000 users are listed once a scan, not twice.
 */
export const collectUsers: Collector<'users'> = async (ctx) => {
  const withActivity = await ctx.slice('signInActivity');
  if (withActivity.status !== 'failed' && !withActivity.incremental) {
    plainReads.delete(ctx);
    const { pending: _p, ...slice } = withActivity;
    return slice;
  }
  const read = await readPlainUsers(ctx, 'users');
  plainReads.delete(ctx);
  return read.users;
};

/**
 * Properties of the directory list (DirectoryEntry) — all among {@link USER_SELECT_PLAIN}, which
 * is what is selected: the one plain read serves both slices.
 */
export const DIRECTORY_SELECT = 'id,userPrincipalName,mail,userType,accountEnabled,department';

/** The plain user list once, as both slices see it. */
interface PlainRead {
  users: Slice<DirectoryUser[]>;
  directory: Slice<DirectoryEntry[]>;
}

/**
 * One plain read per scan, shared by the `directory` and `users` collectors (issue 13: at 50,000
 * users each list is 51 pages, and the scan is CPU-bound on them). Keyed by the scan's collector
 * context (one per sliceRunner, pipeline.ts); a collector run elsewhere (a shard of its own,
 * jobs/shards.ts) reads the list itself, as before. `keepUsers`: whether the full records stay
 * for the `users` collector (they are dropped once it has them, or when it will not need them).
 */
const plainReads = new WeakMap<CollectContext, { read: Promise<PlainRead>; keepUsers: boolean }>();

/**
 * The plain user list (`$select` = {@link USER_SELECT_PLAIN}, 999 a page, no signInActivity),
 * each record parsed as a user and as a directory entry, so both slices are what their own reads
 * would have given: the entry of a record that parses as a user is its projection (the same
 * fields, normalised the same way, parse.ts), and a record that fails the user schema (e.g. an
 * unreadable `createdDateTime`) is still a directory entry when its directory fields are readable.
 * Directory resource units: one `GET users` page with `$select` costs 1 whatever is selected
 * ("Identity and access service limits": base 2, `$select` −1), so the wider `$select` costs
 * nothing and one read saves a unit per page (src/sim/routes.ts directoryCost).
 */
export function readPlainUsers(ctx: CollectContext, by: 'users' | 'directory'): Promise<PlainRead> {
  let entry = plainReads.get(ctx);
  if (!entry) {
    entry = { read: listPlainUsers(ctx.graph), keepUsers: false };
    // Awaited later (after the plan, in collectDirectory): a failure is not left unhandled meanwhile.
    entry.read.catch(() => undefined);
    plainReads.set(ctx, entry);
  }
  if (by === 'users') entry.keepUsers = true;
  return entry.read;
}

async function listPlainUsers(graph: Graph): Promise<PlainRead> {
  const users: DirectoryUser[] = [];
  const entries: DirectoryEntry[] = [];
  const userProblems: string[] = [];
  const entryProblems: string[] = [];
  const where = 'GET /users';
  let offset = 0;
  for await (const page of graph.pages(`/users?$select=${USER_SELECT_PLAIN}&$top=999`)) {
    const parsed = parseRecords(userSchema, page.value, where, offset);
    userProblems.push(...parsed.problems);
    for (const u of parsed.records) users.push(u);
    if (parsed.problems.length === 0) {
      for (const u of parsed.records) entries.push(directoryEntryOf(u));
    } else {
      // Record by record: the unreadable users may still be readable directory entries.
      const asEntries = parseRecords(directoryEntrySchema, page.value, where, offset);
      entryProblems.push(...asEntries.problems);
      for (const e of asEntries.records) entries.push(e);
    }
    offset += page.value.length;
  }
  const slice = <T>(data: T[], problems: string[]): Slice<T[]> =>
    problems.length
      ? { status: 'partial', data, items: data.length, detail: `skipped ${problems.length} unreadable record(s): ${summariseProblems(problems)}` }
      : { status: 'complete', data, items: data.length };
  return { users: slice(users, userProblems), directory: slice(entries, entryProblems) };
}

/** A user's directory entry: the fields directoryEntrySchema gives, already normalised alike. */
function directoryEntryOf(u: DirectoryUser): DirectoryEntry {
  return { id: u.id, userPrincipalName: u.userPrincipalName, mail: u.mail, userType: u.userType, accountEnabled: u.accountEnabled, department: u.department };
}

/**
 * The user list without signInActivity: 999 a page and outside the ~10-a-minute signInActivity
 * budget, so inbox-rule reading of a 50,000-user tenant starts in seconds, not minutes. Read
 * once with the users collector's plain list ({@link readPlainUsers}); its full records are kept
 * for that collector only when this scan's accounts read will not be a full one.
 */
export const collectDirectory: Collector<'directory'> = async (ctx) => {
  const read = readPlainUsers(ctx, 'directory');
  const entry = plainReads.get(ctx);
  // A full signInActivity read gives `users` itself: the plain records need not stay.
  if (entry && !entry.keepUsers) {
    // The plan's own failure (the store unreadable) is the accounts read's to report, not this slice's.
    const plan = await activityPlan(ctx).catch(() => undefined);
    if (plan?.kind === 'incremental') entry.keepUsers = true;
  }
  const { directory } = await read;
  // Not wanted (so far): dropped. Should the users collector want it after all (a full read that
  // failed, e.g. no Entra ID P1), it reads the plain list again itself.
  if (entry && plainReads.get(ctx) === entry && !entry.keepUsers) plainReads.delete(ctx);
  return directory;
};
/** The registration report, and one user's record in it ("Get userRegistrationDetails", v1.0). */
export const REGISTRATION_REPORT = '/reports/authenticationMethods/userRegistrationDetails';

/**
 * The filter of the registration read. "userRegistrationDetails resource type" (v1.0):
 * `isMfaRegistered` "Supports `$filter` (`eq`)" — `eq` only, so never `ne true`.
 */
export const UNREGISTERED_FILTER = 'isMfaRegistered eq false';

/**
 * Role holders read one by one at most; past this the unfiltered report is read instead (it holds
 * every holder's record, and on a tenant with this many holders it is also several pages).
 */
export const MAX_HOLDER_READS = 50;

/**
 * MFA registration (issue 13, "read less"). MFA-01/02 fire only on a record saying
 * `isMfaRegistered: false`, so the report is read with `$filter=isMfaRegistered eq false`: its
 * pages then grow with the unregistered users, not with the tenant, and the identity-reports
 * budget (5 requests / 10 s per tenant) is left to the sign-in watch.
 *
 * The role holders' records are still needed, registered or not: the digest's inventory shows
 * `mfaRegistered` for privileged users, and MFA-05 (issue 15) reads `methodsRegistered` of every
 * holder of some admin roles, active, eligible or through a group. How to ask for them:
 * - `id`: the resource type's property table gives `id` no "Supports `$filter`" (the boolean
 *   flags, `methodsRegistered`, `userDisplayName` and `userPrincipalName` have it), so
 *   `$filter=id in (…)` is not documented and is not relied on.
 * - `isAdmin`: no "Supports `$filter`" either, and "Indicates whether the user has an admin role in
 *   the tenant" does not say whether eligible (PIM) or group-held roles count, nor which roles.
 *   Not used: under the narrower reading it would miss holders MFA-05 needs.
 * - `GET /reports/authenticationMethods/userRegistrationDetails/{userId}` ("Get
 *   userRegistrationDetails", v1.0) is documented: one request per holder, correct under every
 *   reading. So the holders — every user (or unexpanded principal) holding any role in the roles
 *   slice, so that MFA-05's roles are among them — that the filtered read did not return are read
 *   that way. A 404 is "no record": the report leaves out disabled users ("This method doesn't
 *   work for disabled users", List userRegistrationDetails), and service principals have none.
 *
 * The slice records the filter (`readFilter`): absence of a record then means "not unregistered"
 * only for users the report covers, and `items` counts the unregistered users plus the holders'
 * records (the coverage detail says so). It falls back to the unfiltered read — never less than
 * what that read gives — when the service answers 400 to the filter (a revision without
 * filtering), when a holder's read fails otherwise than 404, or when there are more than
 * {@link MAX_HOLDER_READS} holders to read. Without the roles slice the holders cannot be known:
 * the filtered read alone is kept, with `alsoRead: null` (MFA-01 and the inventory's privileged
 * section do not run without roles either).
 *
 * Cost guard ({@link registrationReadCost}): every request of this report draws on the
 * identity-reports limit (5 requests / 10 s per app per tenant), and `$batch` does not help: "Requests
 * in a batch are evaluated individually against the applicable throttling limits" (json-batching.md,
 * concepts/throttling.md; reference/graph/09-batch.json), so 14 holder reads in one batch are still
 * 14 requests under the limit (and 9 of them 429s inside the batch). Time under the limit grows with
 * the request count (first 5 free, then 2 s each), so requests are the measure. The filtered read
 * costs its pages + one request per holder it did not return; the unfiltered read
 * ceil(enabled users / {@link REGISTRATION_PAGE}) pages (the report leaves out disabled users). So:
 * - first, the enabled users are counted (`GET /users?$filter=accountEnabled eq true&$count=true&$top=1`
 *   with `ConsistencyLevel: eventual`: one directory request, "Advanced query capabilities on
 *   Microsoft Entra ID objects"; accountEnabled "Supports $filter (eq, ne, not, and in)"). When the
 *   whole report is one page, it is read unfiltered: nothing can cost less.
 * - then the filtered read, and once the holders it did not return are known: reading them one by
 *   one costs that many requests, reading the whole report instead its pages; the cheaper is done
 *   (a tie reads the report: complete data for the same cost). Without a count, at most
 *   {@link MAX_HOLDER_READS} holders are read one by one.
 * The docs give no page size for this report: {@link REGISTRATION_PAGE} is the simulator's guess;
 * a wrong guess only makes the choice less good, never the data less complete.
 *
 * Without Entra ID P1 the report answers 403 (Authentication_RequestFromNonPremiumTenantOrB2CTenant):
 * the slice fails, and with it only MFA-01/02 (MFA-03/04 read policies, not this report).
 */
export const collectMfaRegistration: Collector<'mfaRegistration'> = async (ctx) => {
  const { graph } = ctx;
  const where = 'GET userRegistrationDetails';
  const enabled = await enabledUserCount(graph);
  const pageSize = ctx.options.registrationPageSize ?? REGISTRATION_PAGE;
  const upFront = registrationReadCost({ enabledUsers: enabled, holdersToRead: null, pageSize });
  const unfiltered = async (why: string): Promise<Slice<MfaRegistration[]>> => {
    const read = await collectList(graph, REGISTRATION_REPORT, mfaRegistrationSchema, where);
    if (read.status === 'failed') return read;
    const note = `read unfiltered: ${why}`;
    return { ...read, detail: read.detail ? `${note}; ${read.detail}` : note };
  };
  if (upFront.choice === 'unfiltered') return unfiltered(upFront.why);
  let filtered: Slice<MfaRegistration[]>;
  try {
    filtered = await collectList(graph, `${REGISTRATION_REPORT}?$filter=${encodeURIComponent(UNREGISTERED_FILTER)}`, mfaRegistrationSchema, where);
  } catch (err) {
    if (!(err instanceof GraphError && err.status === 400)) throw err;
    return unfiltered(`the service refused $filter=${UNREGISTERED_FILTER} (400${err.code ? ` ${err.code}` : ''})`);
  }
  if (filtered.status === 'failed') return filtered;

  const roles = await ctx.slice('roles');
  if (roles.status === 'failed') {
    const note = `read with $filter=${UNREGISTERED_FILTER}: ${filtered.items} unregistered user(s); role holders' records not read (the roles slice failed)`;
    return {
      ...filtered,
      detail: filtered.detail ? `${note}; ${filtered.detail}` : note,
      readFilter: { filter: UNREGISTERED_FILTER, counts: 'unregistered users', alsoRead: null },
    };
  }
  const holders = registrationHolders(roles.data);
  const have = new Set(filtered.data.map((r) => r.id.toLowerCase()));
  const toRead = holders.filter((id) => !have.has(id.toLowerCase()));
  const cost = registrationReadCost({ enabledUsers: enabled, holdersToRead: toRead.length, pageSize });
  if (cost.choice === 'unfiltered') return unfiltered(cost.why);

  const records = [...filtered.data];
  const problems: string[] = [];
  let found = 0;
  for (const [i, id] of toRead.entries()) {
    let body: unknown;
    try {
      body = await graph.get(`${REGISTRATION_REPORT}/${encodeURIComponent(id)}`);
    } catch (err) {
      if (err instanceof GraphError && err.status === 404) continue;
      if (!(err instanceof GraphError)) throw err;
      return unfiltered(`the record of role holder ${id} could not be read (${err.status || 'no response'}${err.code ? ` ${err.code}` : ''})`);
    }
    const parsed = parseRecords(mfaRegistrationSchema, [body], `GET userRegistrationDetails/${id}`, i);
    problems.push(...parsed.problems);
    for (const r of parsed.records) {
      records.push(r);
      found += 1;
    }
  }
  const counts = 'unregistered users and role holders\' records';
  const note = `read with $filter=${UNREGISTERED_FILTER}: ${filtered.items} unregistered user(s), plus ${found} record(s) of role holders read one by one (${toRead.length} asked for; the report has none for disabled users) — ${records.length} in all; registered users who hold no role are not read`;
  const details = [note, ...(filtered.detail ? [filtered.detail] : []), ...(problems.length ? [`skipped ${problems.length} unreadable record(s): ${summariseProblems(problems)}`] : [])];
  return {
    status: filtered.status === 'partial' || problems.length ? 'partial' : 'complete',
    data: records,
    items: records.length,
    detail: details.join('; '),
    readFilter: { filter: UNREGISTERED_FILTER, counts, alsoRead: holders },
  };
};

/**
 * Rows a page of the registration report is taken to hold. The docs state no page size (reference
 * 03-userregistrationdetails.json: "pageSize: Not stated on the page"); 1000 is what the simulator
 * serves (src/sim/routes.ts) and is only used to estimate the cost of reading the whole report.
 */
export const REGISTRATION_PAGE = 1000;

/** What reading the registration report costs each way, in identity-report requests, and the choice. */
export interface RegistrationReadCost {
  /** Pages of the whole (unfiltered) report, or null when the enabled users are not known. */
  unfilteredRequests: number | null;
  /** Holders' records still to read one by one (null: not known yet, before the filtered read). */
  holderRequests: number | null;
  choice: 'filtered' | 'unfiltered';
  /** Why, in words for the coverage detail (when the choice is 'unfiltered'). */
  why: string;
}

/**
 * The MFA cost guard (see {@link collectMfaRegistration}). Before the filtered read
 * (`holdersToRead` null): the whole report when it is one page. After it: the holders' reads
 * (`holdersToRead` requests) against the whole report's pages, the cheaper (a tie: the report);
 * without a count of enabled users, holders are read one by one up to {@link MAX_HOLDER_READS}.
 */
export function registrationReadCost(o: { enabledUsers: number | null; holdersToRead: number | null; pageSize?: number }): RegistrationReadCost {
  const page = o.pageSize ?? REGISTRATION_PAGE;
  const unfilteredRequests = o.enabledUsers === null ? null : Math.max(1, Math.ceil(o.enabledUsers / page));
  const base = { unfilteredRequests, holderRequests: o.holdersToRead };
  if (o.holdersToRead === null) {
    return unfilteredRequests === 1
      ? { ...base, choice: 'unfiltered', why: `${o.enabledUsers} enabled user(s): the whole report is one page (${page} a page), which no filtered read can undercut` }
      : { ...base, choice: 'filtered', why: '' };
  }
  if (unfilteredRequests === null) {
    return o.holdersToRead > MAX_HOLDER_READS
      ? { ...base, choice: 'unfiltered', why: `${o.holdersToRead} role holders to read one by one, more than ${MAX_HOLDER_READS} (the enabled users could not be counted)` }
      : { ...base, choice: 'filtered', why: '' };
  }
  return unfilteredRequests <= o.holdersToRead
    ? { ...base, choice: 'unfiltered', why: `${o.holdersToRead} role holder(s) to read one by one would cost more identity-report requests than the whole report (${unfilteredRequests} page(s) for ${o.enabledUsers} enabled user(s) at ${page} a page)` }
    : { ...base, choice: 'filtered', why: '' };
}

/**
 * The enabled users, counted by the directory (one request: `$count` with `ConsistencyLevel:
 * eventual`, "Advanced query capabilities on Microsoft Entra ID objects"; the "List users" example
 * "Use $filter and $top to get one user … including a count of returned objects"), or null when
 * the count is refused or missing: the cost guard then falls back to {@link MAX_HOLDER_READS}.
 */
export async function enabledUserCount(graph: Graph): Promise<number | null> {
  try {
    const body = await graph.get(`/users?$filter=${encodeURIComponent('accountEnabled eq true')}&$count=true&$top=1&$select=id`, ADVANCED_QUERY);
    const n = (body as { '@odata.count'?: unknown } | null)?.['@odata.count'];
    return typeof n === 'number' && Number.isInteger(n) && n >= 0 ? n : null;
  } catch (err) {
    if (err instanceof GraphError) return null;
    throw err;
  }
}

/**
 * Every principal holding any role (active, eligible, or as a member of a holding group) that may
 * be a user: users, and principals whose type the service did not give. Groups whose members are
 * unknown and service principals have no registration record.
 */
export function registrationHolders(roles: Roles): string[] {
  const roleIds = [...new Set([...roles.assignments, ...(roles.eligibility ?? [])].map((r) => r.roleDefinitionId))];
  return [...roleHolders(roles, roleIds).values()]
    .filter((h) => ['user', 'unknown'].includes(h.principalType.toLowerCase()) && !h.membersUnknown)
    .map((h) => h.principalId)
    .sort();
}

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
    const eligible = await collectEligibility(graph);
    if (eligible.status !== 'failed') {
      if (eligible.detail) details.push(eligible.detail);
      const t = now.getTime();
      // Only schedules in force now: provisioned, started, not expired.
      eligibility = eligible.data
        .filter((e) => (e.status ?? 'Provisioned').toLowerCase() === 'provisioned')
        .filter((e) => (e.start === null || Date.parse(e.start) <= t) && (e.end === null || Date.parse(e.end) > t))
        .map(({ status: _s, start: _b, end: _e, ...kept }) => kept);
    }
  } catch (err) {
    if (err instanceof GraphError && (err.status === 403 || err.status === 401)) {
      details.push(`roleEligibilitySchedules: ${err.status} (needs Entra ID P2 and RoleEligibilitySchedule.Read.Directory); eligible role holders were not checked`);
    } else throw err;
  }
  const groups = await collectRoleGroups(graph, assignments.data, eligibility, details);
  const partial = eligibility === null || assignments.status === 'partial' || details.length > 0;
  return {
    status: partial ? 'partial' : 'complete',
    data: { assignments: assignments.data, eligibility, groups },
    items: assignments.data.length + (eligibility?.length ?? 0),
    ...(details.length ? { detail: details.join('; ') } : {}),
  };
};

/** PIM's active assignment instances (ACCT-08). */
export const ROLE_ASSIGNMENT_INSTANCES = '/roleManagement/directory/roleAssignmentScheduleInstances';

/**
 * Active role assignments as PIM lists them ("List roleAssignmentScheduleInstances", v1.0: those
 * made through PIM and directly through the role assignments API), with `assignmentType` and
 * `endDateTime`, which roleAssignments lacks: ACCT-08 tells a permanent assignment from a
 * time-bound or activated one by them. Permissions (same page): RoleAssignmentSchedule.Read.Directory
 * least privileged, RoleManagement.Read.Directory (which the roles area holds already) higher.
 * PIM needs Entra ID P2: a 403 (or a 401 other than a refused token) fails this slice only, with
 * a detail saying so, and ACCT-08 is not evaluated; a 401 InvalidAuthenticationToken is the
 * credential's problem, not PIM's, and propagates like every other slice's (one cause in coverage); a 400 to `$expand=principal` is asked again without it (the rule then
 * knows principals from the roles slice).
 */
export const collectRoleAssignmentInstances: Collector<'roleAssignmentInstances'> = async ({ graph }) => {
  const where = 'GET roleAssignmentScheduleInstances';
  const refused = (err: unknown): Slice<never> | undefined =>
    err instanceof GraphError && [400, 401, 403].includes(err.status) && !(err.status === 401 && err.code === 'InvalidAuthenticationToken')
      ? {
          status: 'failed',
          items: 0,
          detail: `roleAssignmentScheduleInstances: ${err.status}${err.code ? ` ${err.code}` : ''} (needs Entra ID P2 and RoleAssignmentSchedule.Read.Directory or RoleManagement.Read.Directory); permanent assignments were not checked`,
        }
      : undefined;
  try {
    return await collectList(graph, `${ROLE_ASSIGNMENT_INSTANCES}?$expand=principal`, roleAssignmentInstanceSchema, where);
  } catch (err) {
    if (!(err instanceof GraphError && err.status === 400)) {
      const failed = refused(err);
      if (failed) return failed;
      throw err;
    }
  }
  try {
    return await collectList(graph, ROLE_ASSIGNMENT_INSTANCES, roleAssignmentInstanceSchema, where);
  } catch (err) {
    const failed = refused(err);
    if (failed) return failed;
    throw err;
  }
};

/** Properties read of each user member of a role-holding group (graph.md). */
export const GROUP_MEMBER_SELECT = 'id,userPrincipalName,userType,accountEnabled';

/**
 * The transitive user members of a group ("List group transitive members", v1.0): nested groups
 * come back flattened, the `microsoft.graph.user` cast leaves out devices, contacts and service
 * principals. Doc revisions disagree on whether the cast needs the advanced-query headers (older:
 * `ConsistencyLevel: eventual` and `$count=true` are required; newer: a plain cast works), so both
 * are always sent: correct under either reading. `$top=999` is the documented maximum page.
 */
export function groupMembersUrl(groupId: string): string {
  return `/groups/${encodeURIComponent(groupId)}/transitiveMembers/microsoft.graph.user?$select=${GROUP_MEMBER_SELECT}&$top=999&$count=true`;
}

const ADVANCED_QUERY = { ConsistencyLevel: 'eventual' };

/**
 * roleEligibilitySchedules with their principals expanded ("unifiedRoleEligibilitySchedule
 * resource type": `principal` supports `$expand`), so a group is known as one. A service that
 * refuses the expansion (400) is asked again without it; the roles collector then resolves the
 * principals' types itself.
 */
async function collectEligibility(graph: Graph): Promise<Slice<z.output<typeof roleEligibilitySchema>[]>> {
  const base = '/roleManagement/directory/roleEligibilitySchedules';
  try {
    return await collectList(graph, `${base}?$expand=principal`, roleEligibilitySchema, 'GET roleEligibilitySchedules');
  } catch (err) {
    if (err instanceof GraphError && err.status === 400) return collectList(graph, base, roleEligibilitySchema, 'GET roleEligibilitySchedules');
    throw err;
  }
}

function graphFailure(err: unknown): string {
  if (!(err instanceof GraphError)) throw err;
  return err.status === 401 || err.status === 403
    ? `${err.status} (needs GroupMember.Read.All)`
    : `${err.status || 'no response'}${err.code ? ` ${err.code}` : ''}`;
}

/**
 * The groups among the role holders, each read once with its transitive user members, however
 * many roles it holds. Principals whose type the service did not give (no expansion, in either
 * list) are looked up as groups (`GET /groups/{id}`: 404 means a user or service principal; real
 * Graph expands service principals too, so in practice this is only the no-expansion case). A PIM
 * schedule with `memberType` `Group` names a user eligible through a group: that user is a
 * holder as it stands. A group whose members cannot be
 * read keeps `members: null` and adds a detail naming it and the permission: the other holders
 * are still evaluated, and the slice is partial.
 */
async function collectRoleGroups(
  graph: Graph,
  assignments: Roles['assignments'],
  eligibility: RoleEligibility[] | null,
  details: string[],
): Promise<RoleGroup[]> {
  // Every principal once, with what the expansions said of it (type 'unknown' = not expanded).
  const principals: Array<{ principalId: string; principalType?: string; principalName?: string | null }> = [...assignments, ...(eligibility ?? [])];
  const names = new Map<string, string | null>();
  const known = new Map<string, string>();
  for (const p of principals) {
    if (p.principalType && p.principalType !== 'unknown') known.set(p.principalId, p.principalType);
    if (p.principalType === 'group' && !names.get(p.principalId)) names.set(p.principalId, p.principalName ?? null);
  }
  for (const p of principals) {
    // Known (a user, a service principal, a group, or looked up before): nothing to ask.
    if (known.has(p.principalId)) continue;
    // Not expanded anywhere: ask the directory whether it is a group (once per id).
    try {
      const body = await graph.get(`/groups/${encodeURIComponent(p.principalId)}?$select=id,displayName`);
      const parsed = parseRecords(groupSchema, [body], 'GET /groups/{id}').records[0];
      known.set(p.principalId, 'group');
      names.set(p.principalId, parsed?.displayName ?? null);
    } catch (err) {
      if (err instanceof GraphError && err.status === 404) {
        known.set(p.principalId, 'notGroup');
        continue;
      }
      known.set(p.principalId, 'unresolved');
      details.push(`role principal ${p.principalId}: GET /groups/{id} ${graphFailure(err)}; whether it is a group (and who its members are) is unknown`);
    }
  }
  for (const a of assignments) if (known.get(a.principalId) === 'group') a.principalType = 'group';
  for (const e of eligibility ?? []) if (known.get(e.principalId) === 'group') e.principalType = 'group';
  const groups: RoleGroup[] = [];
  for (const [id, displayName] of names) {
    const label = `group ${displayName ? `${displayName} (${id})` : id}`;
    try {
      const read = await collectList(graph, groupMembersUrl(id), groupMemberSchema, `GET /groups/${id}/transitiveMembers`, ADVANCED_QUERY);
      if (read.status === 'failed') {
        details.push(`${label}: ${read.detail}; its members were not checked`);
        groups.push({ id, displayName, members: null });
        continue;
      }
      if (read.detail) details.push(`${label}: ${read.detail}`);
      groups.push({ id, displayName, members: read.data });
    } catch (err) {
      details.push(`${label}: GET /groups/{id}/transitiveMembers/microsoft.graph.user ${graphFailure(err)}; its members were not checked`);
      groups.push({ id, displayName, members: null });
    }
  }
  return groups;
}
