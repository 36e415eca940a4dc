/**
 * The incremental accounts read (issue 13, collect/identity.ts) against the simulator over HTTPS:
 * after a full read whose state is committed, and tenant changes of every kind the design names,
 * an incremental read gives ACCT-02/06 findings identical to a full read of the same tenant at
 * the same time, with far fewer signInActivity requests; a refused candidate filter falls back to
 * a full read; the simulator refuses `in` lists of more than 15 ids and combined signInActivity
 * filters as the docs say Graph does.
 */
import { collectUsers, ID_IN_BATCH, SIGN_IN_ACTIVITY_STATE_KEY } from '../../src/collect/identity';
import { DEFAULT_COLLECT_OPTIONS } from '../../src/collect/context';
import { commitPending } from '../../src/collect/pending';
import type { DirectoryUser, Slice } from '../../src/collect/snapshot';
import { defaultPolicy, validatePolicy, type Policy } from '../../src/config/policy';
import { inactiveGuest, inactiveMember } from '../../src/rules/accounts';
import { coverageOf } from '../../src/rules/engine';
import { RULES } from '../../src/rules/index';
import { runScan } from '../../src/pipeline';
import { generateDemoTenant } from '../../src/sim/demo-tenant';
import type { JsonObject } from '../../src/sim/tenant';
import { MemoryStore } from '../../src/store/memory';
import { startTestSim, testContext, type TestSim } from '../support/sim';

const DAY = 86_400_000;
const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');
const NEVER = { lastSignInDateTime: '0001-01-01T00:00:00Z', lastSuccessfulSignInDateTime: '', lastNonInteractiveSignInDateTime: '0001-01-01T00:00:00Z' };

interface Read {
  activity: Slice<DirectoryUser[]>;
  users: Slice<DirectoryUser[]>;
  /** signInActivity-family requests this read made. */
  activityRequests: number;
}

/** One scan's accounts read at `now`: signInActivity, then users; pending state committed as the pipeline does. */
async function read(t: TestSim, now: Date, store: MemoryStore | undefined, over: { fullSignInActivityRead?: boolean; policy?: Policy } = {}): Promise<Read> {
  const before = t.sim.counts().signInActivity ?? 0;
  // The client's signInActivity budget (~10 a minute) is lifted: these tests count requests, not time.
  const ctx = testContext(t.graph({ root: t.sim.url, budgets: { signInActivity: { limit: 10_000, perSeconds: 60 } } }), {
    now,
    ...(store ? { store } : {}),
    policy: over.policy ?? defaultPolicy(),
    options: { ...DEFAULT_COLLECT_OPTIONS, ...(over.fullSignInActivityRead ? { fullSignInActivityRead: true } : {}) },
  });
  const activity = await ctx.slice('signInActivity');
  const users = await ctx.slice('users');
  if (store && activity.status !== 'failed' && activity.pending) await commitPending(store, 'test-tenant', activity.pending);
  return { activity, users, activityRequests: (t.sim.counts().signInActivity ?? 0) - before };
}

/** ACCT-02 and ACCT-06 over a read, as the engine evaluates them (subject and evidence, sorted). */
function accountFindings(r: Read, now: Date, policy: Policy = defaultPolicy()): Array<{ rule: string; id: string; evidence: unknown }> {
  if (r.activity.status === 'failed' || r.users.status === 'failed') throw new Error('a slice failed');
  const input = { users: r.users.data, signInActivity: r.activity.data };
  const ctx = { policy, now, tenantId: 'test-tenant' };
  return [inactiveMember, inactiveGuest]
    .flatMap((rule) => rule.evaluate(input, ctx).map((d) => ({ rule: rule.id, id: d.subject.id, evidence: d.evidence })))
    .sort((a, b) => (a.rule + a.id < b.rule + b.id ? -1 : a.rule + a.id > b.rule + b.id ? 1 : 0));
}

function user(t: TestSim, pick: (u: JsonObject) => boolean, taken: Set<string>): JsonObject {
  const u = t.sim.tenant.users.find((x) => pick(x) && !taken.has(x.id as string));
  if (!u) throw new Error('no such user in the demo tenant');
  taken.add(u.id as string);
  return u;
}

const enabledMember = (u: JsonObject): boolean => u.accountEnabled === true && u.userType === 'Member';
const enabledGuest = (u: JsonObject): boolean => u.accountEnabled === true && u.userType === 'Guest';

function clone(t: TestSim, from: JsonObject, id: string, over: JsonObject): JsonObject {
  const copy = { ...(JSON.parse(JSON.stringify(from)) as JsonObject), id, userPrincipalName: `${id.slice(0, 8)}@exampledemo.onmicrosoft.com`, mail: null, ...over };
  t.sim.tenant.users.push(copy);
  return copy;
}

describe('incremental signInActivity read', () => {
  let t: TestSim;
  afterEach(async () => {
    await t.close();
  });

  it('gives ACCT-02/06 findings identical to a full read, after every kind of tenant change', async () => {
    const now = new Date();
    t = await startTestSim({ throttle: false, tenant: generateDemoTenant({ seed: 510, users: 1000, now }).data });
    const store = new MemoryStore();
    const T = now.getTime();
    const taken = new Set<string>();
    // Before the full read: a member who never signed in (old account) and one who will sign in later.
    const never = user(t, enabledMember, taken);
    never.signInActivity = { ...NEVER };
    never.createdDateTime = iso(T - 200 * DAY);
    const willSignIn = user(t, enabledMember, taken);
    willSignIn.signInActivity = { ...NEVER };
    willSignIn.createdDateTime = iso(T - 300 * DAY);
    const dormant = user(t, enabledMember, taken);
    dormant.signInActivity = { ...NEVER, lastSignInDateTime: iso(T - 200 * DAY), lastSuccessfulSignInDateTime: iso(T - 200 * DAY) };

    const full0 = await read(t, new Date(T - 2 * DAY), store);
    expect(full0.activity).toMatchObject({ status: 'complete', items: t.sim.tenant.users.length });
    if (full0.activity.status === 'failed') return;
    expect(full0.activity.incremental).toBeUndefined();
    const stored = JSON.parse((await store.getStateBlob('test-tenant', SIGN_IN_ACTIVITY_STATE_KEY)) ?? '{}') as { fullReadAt?: string; neverIds?: string[] };
    expect(stored.fullReadAt).toBe(new Date(T - 2 * DAY).toISOString());
    expect(stored).toMatchObject({ version: 1, graphRoot: t.sim.url });
    expect(stored.neverIds).toEqual(expect.arrayContaining([never.id, willSignIn.id]));

    // The tenant changes between the reads.
    const member = user(t, enabledMember, new Set());
    clone(t, member, '51000000-0000-4000-8000-000000000001', { createdDateTime: iso(T - 3600_000), signInActivity: { ...NEVER } }); // new user
    const restored = clone(t, member, '51000000-0000-4000-8000-000000000002', { createdDateTime: iso(T - 400 * DAY), signInActivity: { ...NEVER } }); // restored, never signed in
    const failuresOnly = user(t, enabledMember, taken);
    failuresOnly.signInActivity = { ...NEVER, lastSignInDateTime: iso(T - DAY), lastSuccessfulSignInDateTime: iso(T - 120 * DAY) };
    const atLimit = user(t, enabledMember, taken);
    atLimit.signInActivity = { ...NEVER, lastSignInDateTime: iso(T - 90 * DAY), lastSuccessfulSignInDateTime: iso(T - 90 * DAY) };
    const pastLimit = user(t, enabledMember, taken);
    pastLimit.signInActivity = { ...NEVER, lastSignInDateTime: iso(T - 90 * DAY - 1000), lastSuccessfulSignInDateTime: iso(T - 90 * DAY - 1000) };
    const createdAtLimit = clone(t, member, '51000000-0000-4000-8000-000000000003', { createdDateTime: iso(T - 90 * DAY), signInActivity: { ...NEVER } });
    const guestAtLimit = user(t, enabledGuest, taken);
    guestAtLimit.signInActivity = { ...NEVER, lastSignInDateTime: iso(T - 90 * DAY), lastSuccessfulSignInDateTime: iso(T - 90 * DAY) };
    const guestPast = user(t, enabledGuest, taken);
    guestPast.signInActivity = { ...NEVER, lastSignInDateTime: iso(T - 91 * DAY), lastSuccessfulSignInDateTime: '' };
    willSignIn.signInActivity = { ...NEVER, lastSignInDateTime: iso(T - 3600_000), lastSuccessfulSignInDateTime: iso(T - 3600_000) };
    dormant.signInActivity = { ...NEVER, lastSignInDateTime: iso(T - 3600_000), lastSuccessfulSignInDateTime: iso(T - 3600_000) };

    const incremental = await read(t, now, store);
    expect(incremental.activity.status).toBe('complete');
    if (incremental.activity.status === 'failed') return;
    expect(incremental.activity.incremental).toEqual({ fullReadAt: new Date(T - 2 * DAY).toISOString(), recentAfter: iso(Math.ceil((T - 90 * DAY) / 1000) * 1000) });
    expect(incremental.activity.detail).toMatch(new RegExp(`^incremental; last full read ${new Date(T - 2 * DAY).toISOString()}`));
    expect(incremental.activity.pending).toBeUndefined();
    expect(incremental.activity.items).toBeLessThan(t.sim.tenant.users.length);
    const coverage = coverageOf({ tenantId: 'test-tenant', takenAt: now, slices: { users: incremental.users, signInActivity: incremental.activity } }, RULES, ['accounts']).accounts;
    expect(coverage).toMatchObject({ status: 'complete', items: t.sim.tenant.users.length, detail: expect.stringContaining(`signInActivity: incremental; last full read ${new Date(T - 2 * DAY).toISOString()}`) });
    // users is the whole plain list on an incremental read.
    expect(incremental.users).toMatchObject({ status: 'complete', items: t.sim.tenant.users.length });

    const full = await read(t, now, undefined, { fullSignInActivityRead: true });
    const expected = accountFindings(full, now);
    expect(accountFindings(incremental, now)).toEqual(expected);
    // The changes that must fire do, and those that must not do not (so the comparison is not vacuous).
    const fired = new Set(expected.map((f) => `${f.rule} ${f.id}`));
    for (const id of [never.id, restored.id, failuresOnly.id, pastLimit.id]) expect(fired).toContain(`ACCT-02 ${id as string}`);
    expect(fired).toContain(`ACCT-06 ${guestPast.id as string}`);
    for (const id of [willSignIn.id, dormant.id, atLimit.id, createdAtLimit.id, '51000000-0000-4000-8000-000000000001']) expect(fired).not.toContain(`ACCT-02 ${id as string}`);
    expect(fired).not.toContain(`ACCT-06 ${guestAtLimit.id as string}`);
  });

  it('reads far fewer signInActivity requests than a full read, and does a full read when it is due', async () => {
    const now = new Date();
    t = await startTestSim({ throttle: false, tenant: generateDemoTenant({ seed: 511, users: 1000, now }).data, signInActivityPaging: { maxSize: 50, oversize: 'cap' } });
    const store = new MemoryStore();
    const full = await read(t, new Date(now.getTime() - DAY), store);
    expect(full.activityRequests).toBe(Math.ceil(t.sim.tenant.users.length / 50));
    const incremental = await read(t, now, store);
    expect(incremental.activity.status !== 'failed' && incremental.activity.incremental).toBeTruthy();
    expect(incremental.activityRequests).toBeLessThan(full.activityRequests / 3);
    expect(accountFindings(incremental, now)).toEqual(accountFindings(await read(t, now, undefined, { fullSignInActivityRead: true }), now));

    // accounts.fullSignInActivityReadDays = 1: the day-old full read is due again.
    const daily = validatePolicy({ accounts: { fullSignInActivityReadDays: 1 } });
    const due = await read(t, now, store, { policy: daily });
    expect(due.activity.status !== 'failed' && due.activity.incremental).toBeFalsy();
    expect(due.activityRequests).toBe(full.activityRequests);
  });

  it('falls back to a full read when the service refuses a candidate filter (400)', async () => {
    const now = new Date();
    t = await startTestSim({ throttle: false, tenant: generateDemoTenant({ seed: 512, users: 60, now }).data });
    const store = new MemoryStore();
    await read(t, new Date(now.getTime() - DAY), store);
    t.sim.setFaults([{ endpoint: 'users', match: /lastSuccessfulSignInDateTime/i, status: 400, code: 'Request_UnsupportedQuery' }]);
    const r = await read(t, now, store);
    expect(r.activity).toMatchObject({ status: 'complete', items: t.sim.tenant.users.length });
    if (r.activity.status === 'failed') return;
    expect(r.activity.incremental).toBeUndefined();
    expect(r.activity.detail).toMatch(/refused the signInActivity filter on lastSuccessfulSignInDateTime \(400 Request_UnsupportedQuery\), so every user was read/);
    // A full read leaves new state: the next scan reads incrementally from it.
    expect(r.activity.pending?.[0]?.key).toBe(SIGN_IN_ACTIVITY_STATE_KEY);
    expect(accountFindings(r, now)).toEqual(accountFindings(await read(t, now, undefined, { fullSignInActivityRead: true }), now));
  });

  it('reads in full without a store, with fullSignInActivityRead, and when the state is unreadable or of another root', async () => {
    const now = new Date();
    t = await startTestSim({ throttle: false, tenant: generateDemoTenant({ seed: 513, users: 30, now }).data });
    const store = new MemoryStore();
    const noStore = await read(t, now, undefined);
    expect(noStore.activity.status !== 'failed' && (noStore.activity.incremental ?? noStore.activity.pending)).toBeFalsy();
    await read(t, new Date(now.getTime() - DAY), store);
    const forced = await read(t, now, store, { fullSignInActivityRead: true });
    expect(forced.activity.status !== 'failed' && forced.activity.incremental).toBeFalsy();
    await store.putStateBlob('test-tenant', SIGN_IN_ACTIVITY_STATE_KEY, '{not json');
    const unreadable = await read(t, now, store);
    expect(unreadable.activity.status !== 'failed' && unreadable.activity.incremental).toBeFalsy();
    expect(unreadable.activity.status !== 'failed' && unreadable.activity.detail).toMatch(/unreadable/);
    const state = JSON.parse((await store.getStateBlob('test-tenant', SIGN_IN_ACTIVITY_STATE_KEY)) ?? '{}') as JsonObject;
    await store.putStateBlob('test-tenant', SIGN_IN_ACTIVITY_STATE_KEY, JSON.stringify({ ...state, graphRoot: 'https://graph.microsoft.us', fullReadAt: new Date(now.getTime() - DAY).toISOString() }));
    const foreign = await read(t, now, store);
    expect(foreign.activity.status !== 'failed' && foreign.activity.incremental).toBeFalsy();
    expect(foreign.activity.status !== 'failed' && foreign.activity.detail).toMatch(/another Graph root \(https:\/\/graph\.microsoft\.us\)/);
  });

  it('re-reads ids in batches of at most 15 (the simulator refuses 16)', async () => {
    const now = new Date();
    t = await startTestSim({ throttle: false, tenant: generateDemoTenant({ seed: 514, users: 1000, now }).data });
    const store = new MemoryStore();
    // Everyone signed in an hour ago but 20 who never did: those (and the privileged holders) are re-read by id.
    const recent = { ...NEVER, lastSignInDateTime: iso(now.getTime() - 3600_000), lastSuccessfulSignInDateTime: iso(now.getTime() - 3600_000) };
    t.sim.tenant.users.forEach((u, i) => { u.signInActivity = i < 20 ? { ...NEVER } : { ...recent }; });
    await read(t, new Date(now.getTime() - DAY), store);
    const incremental = await read(t, now, store);
    expect(incremental.activity.status).toBe('complete');
    if (incremental.activity.status === 'failed') return;
    expect(incremental.activity.incremental).toBeDefined();
    const readIds = new Set(incremental.activity.data.map((u) => u.id));
    for (const u of t.sim.tenant.users.slice(0, 20)) expect(readIds).toContain(u.id);
    // Two candidate queries (nothing old to return), then ceil(n / 15) id batches, each accepted.
    expect(incremental.activity.items).toBeGreaterThan(ID_IN_BATCH);
    expect(incremental.activityRequests).toBe(2 + Math.ceil(incremental.activity.items / ID_IN_BATCH));

    const ids = t.sim.tenant.users.map((u) => `'${u.id as string}'`);
    const graph = t.graph();
    const ok = await graph.get(`/users?$filter=${encodeURIComponent(`id in (${ids.slice(0, 15).join(',')})`)}&$select=id,signInActivity`);
    expect((ok as { value: unknown[] }).value).toHaveLength(15);
    await expect(graph.get(`/users?$filter=${encodeURIComponent(`id in (${ids.slice(0, 16).join(',')})`)}&$select=id`)).rejects.toMatchObject({ status: 400, code: 'Request_UnsupportedQuery' });
  });

  it('reads in full when the id re-reads would cost more than a full read', async () => {
    const now = new Date();
    t = await startTestSim({ throttle: false, tenant: generateDemoTenant({ seed: 517, users: 60, now }).data });
    const store = new MemoryStore();
    for (const u of t.sim.tenant.users) u.signInActivity = { ...NEVER };
    await read(t, new Date(now.getTime() - DAY), store);
    const r = await read(t, now, store);
    expect(r.activity).toMatchObject({ status: 'complete', items: t.sim.tenant.users.length });
    if (r.activity.status === 'failed') return;
    expect(r.activity.incremental).toBeUndefined();
    expect(r.activity.detail).toMatch(/user\(s\) to re-read by id \(\d+ request\(s\) of 15\) would cost more than reading every user \(1 page\(s\)\)/);
  });

  it('the simulator refuses signInActivity filters combined with another property or with or', async () => {
    t = await startTestSim({ throttle: false, tenant: generateDemoTenant({ seed: 515, users: 30 }).data });
    const graph = t.graph();
    const cutoff = iso(Date.now() - 90 * DAY);
    const get = (filter: string): Promise<unknown> => graph.get(`/users?$filter=${encodeURIComponent(filter)}&$select=id,signInActivity`);
    await expect(get(`signInActivity/lastSignInDateTime le ${cutoff}`)).resolves.toBeDefined();
    await expect(get(`signInActivity/lastSignInDateTime le ${cutoff} and userType eq 'Guest'`)).rejects.toMatchObject({ status: 400, code: 'Request_UnsupportedQuery' });
    await expect(get(`signInActivity/lastSignInDateTime le ${cutoff} or signInActivity/lastSuccessfulSignInDateTime le ${cutoff}`)).rejects.toMatchObject({ status: 400, code: 'Request_UnsupportedQuery' });
    // A user who never signed in matches no comparison on it.
    const never = t.sim.tenant.users[0] as JsonObject;
    never.signInActivity = { ...NEVER };
    const body = (await get(`signInActivity/lastSignInDateTime le ${iso(Date.now())}`)) as { value: Array<{ id: string }> };
    expect(body.value.map((u) => u.id)).not.toContain(never.id);
  });

  it('through the pipeline: the full read state is stored by the scan, and the next scan reads incrementally with the same findings', async () => {
    const now = new Date();
    const demo = generateDemoTenant({ seed: 518, users: 1000, now });
    t = await startTestSim({ throttle: false, tenant: demo.data });
    const store = new MemoryStore();
    const scan = (at: Date, full = false) => runScan({
      graph: t.graph({ root: t.sim.url, budgets: { signInActivity: { limit: 10_000, perSeconds: 60 }, identityReports: { limit: 10_000, perSeconds: 60 } } }),
      policy: validatePolicy(demo.policy),
      tenantId: demo.data.tenantId,
      store,
      areas: ['accounts'],
      clock: () => at,
      ...(full ? { collectOptions: { fullSignInActivityRead: true } } : {}),
    });
    const accountIds = (r: Awaited<ReturnType<typeof scan>>): string[] =>
      r.findings.filter((f) => f.ruleId === 'ACCT-02' || f.ruleId === 'ACCT-06').map((f) => `${f.ruleId} ${f.subject.id}`).sort();
    const first = await scan(new Date(now.getTime() - DAY));
    expect(first.coverage.accounts?.detail ?? '').not.toMatch(/incremental/);
    expect(await store.getStateBlob(demo.data.tenantId, SIGN_IN_ACTIVITY_STATE_KEY)).toBeDefined();
    const second = await scan(now);
    expect(second.coverage.accounts).toMatchObject({ status: 'complete', detail: expect.stringContaining('incremental; last full read') });
    const third = await scan(now, true);
    expect(third.coverage.accounts?.detail ?? '').not.toMatch(/incremental/);
    expect(accountIds(second)).toEqual(accountIds(third));
    expect(accountIds(second).length).toBeGreaterThan(0);
  });

  it('users on a full read is the signInActivity list without its pending state', async () => {
    t = await startTestSim({ throttle: false, tenant: generateDemoTenant({ seed: 516, users: 30 }).data });
    // The client's signInActivity budget (~10 a minute) is lifted: these tests count requests, not time.
  const ctx = testContext(t.graph({ root: t.sim.url, budgets: { signInActivity: { limit: 10_000, perSeconds: 60 } } }), { store: new MemoryStore() });
    const users = await collectUsers(ctx);
    const activity = await ctx.slice('signInActivity');
    expect(activity.status !== 'failed' && activity.pending).toBeTruthy();
    expect(users.status !== 'failed' && users.pending).toBeFalsy();
    expect(users.status !== 'failed' && users.data).toEqual(activity.status !== 'failed' && activity.data);
  });
});
