/**
 * One plain user read a scan (issue 13): the `directory` and `users` slices come from a single
 * `GET /users?$select=…` enumeration (collect/identity.ts readPlainUsers), against the simulator
 * over HTTPS. Each slice is what its own read gave before — the directory list with
 * directoryEntrySchema, the plain user list with userSchema — including a record one schema
 * rejects and the other accepts; and the list is enumerated once, not twice.
 */
import { DEFAULT_COLLECT_OPTIONS } from '../../src/collect/context';
import { collectList, DIRECTORY_SELECT, USER_SELECT_PLAIN } from '../../src/collect/identity';
import { commitPending } from '../../src/collect/pending';
import { directoryEntrySchema, userSchema } from '../../src/collect/parse';
import { defaultPolicy } from '../../src/config/policy';
import { parseQuery } from '../../src/sim/paging';
import { directoryCost, matchRoute } from '../../src/sim/routes';
import { generateDemoTenant } from '../../src/sim/demo-tenant';
import type { JsonObject } from '../../src/sim/tenant';
import { MemoryStore } from '../../src/store/memory';
import { startTestSim, testContext, type TestSim } from '../support/sim';

const PAGE = 50;
const BUDGETS = { signInActivity: { limit: 10_000, perSeconds: 60 } };

/** Plain-list pages sent: `users` requests that are neither signInActivity reads nor counts. */
const plainPages = (t: TestSim, before: Record<string, number>): number => {
  const now = t.sim.counts();
  return (now.users ?? 0) - (before.users ?? 0) - ((now.signInActivity ?? 0) - (before.signInActivity ?? 0));
};

/** What the two separate reads (before issue 13's single read) give on the same tenant. */
async function separateReads(t: TestSim) {
  const graph = t.graph({ budgets: BUDGETS });
  const directory = await collectList(graph, `/users?$select=${DIRECTORY_SELECT}&$top=999`, directoryEntrySchema, 'GET /users');
  const users = await collectList(graph, `/users?$select=${USER_SELECT_PLAIN}&$top=999`, userSchema, 'GET /users');
  return { directory, users };
}

async function sim(seed: number): Promise<TestSim> {
  // 200 users: an incremental read re-reads a few by id, still fewer requests than a full read.
  const demo = generateDemoTenant({ seed, users: 200 });
  return startTestSim({ tenant: JSON.parse(JSON.stringify(demo.data)), throttle: false, maxPageSize: { users: PAGE } });
}

describe('one plain user read for the directory and users slices', () => {
  let t: TestSim;
  afterEach(async () => {
    await t.close();
  });

  it('an incremental accounts scan lists the users once, and both slices are what their own reads gave', async () => {
    t = await sim(615);
    const store = new MemoryStore();
    const graph = t.graph({ root: t.sim.url, budgets: BUDGETS });
    // Everyone has signed in (so few re-reads by id that the next read stays incremental).
    const recent = new Date(Date.now() - 86_400_000).toISOString();
    for (const u of t.sim.tenant.users as JsonObject[]) u.signInActivity = { lastSignInDateTime: recent, lastSuccessfulSignInDateTime: recent, lastNonInteractiveSignInDateTime: recent };
    // A full read first, its state committed: the next scan's accounts read is incremental.
    const first = testContext(graph, { store, policy: defaultPolicy(), options: { ...DEFAULT_COLLECT_OPTIONS } });
    const full = await first.slice('signInActivity');
    if (full.status === 'failed' || !full.pending) throw new Error('no full read');
    await commitPending(store, 'test-tenant', full.pending);

    // One record the user schema rejects (an unreadable createdDateTime) but the directory schema reads.
    const odd = t.sim.tenant.users[3] as JsonObject;
    odd.createdDateTime = 'yesterday';
    const expected = await separateReads(t);
    expect(expected.users.status).toBe('partial');
    expect(expected.directory.status).toBe('complete');

    const before = t.sim.counts();
    const ctx = testContext(graph, { store, policy: defaultPolicy(), options: { ...DEFAULT_COLLECT_OPTIONS } });
    const [directory, users, activity] = await Promise.all([ctx.slice('directory'), ctx.slice('users'), ctx.slice('signInActivity')]);
    if (activity.status === 'failed' || !activity.incremental) throw new Error(`not incremental: ${activity.detail}`);
    const pages = Math.ceil(t.sim.tenant.users.length / PAGE);
    expect(plainPages(t, before)).toBe(pages);
    expect(directory).toEqual(expected.directory);
    expect(users).toEqual(expected.users);
    if (directory.status === 'failed' || users.status === 'failed') return;
    expect(directory.data.some((e) => e.id === odd.id)).toBe(true);
    expect(users.data.some((u) => u.id === odd.id)).toBe(false);
    expect(users.detail).toMatch(/createdDateTime/);
  });

  it('a full accounts scan lists the plain users once (for the directory) and takes users from signInActivity', async () => {
    t = await sim(616);
    const expected = await separateReads(t);
    const before = t.sim.counts();
    const ctx = testContext(t.graph({ budgets: BUDGETS }), { options: { ...DEFAULT_COLLECT_OPTIONS, fullSignInActivityRead: true } });
    const [directory, users, activity] = await Promise.all([ctx.slice('directory'), ctx.slice('users'), ctx.slice('signInActivity')]);
    expect(plainPages(t, before)).toBe(Math.ceil(t.sim.tenant.users.length / PAGE));
    expect(directory).toEqual(expected.directory);
    if (activity.status === 'failed' || users.status === 'failed') throw new Error('failed');
    expect(users.data).toEqual(activity.data);
  });

  it('without Entra ID P1 (signInActivity 403) users still get the plain list', async () => {
    const demo = generateDemoTenant({ seed: 617, users: 200 });
    t = await startTestSim({ tenant: JSON.parse(JSON.stringify(demo.data)), throttle: false, maxPageSize: { users: PAGE }, licence: 'free' });
    const expected = await separateReads(t);
    const ctx = testContext(t.graph({ budgets: BUDGETS, maxAttempts: 1 }));
    const [directory, users, activity] = await Promise.all([ctx.slice('directory'), ctx.slice('users'), ctx.slice('signInActivity')]);
    expect(activity.status).toBe('failed');
    expect(directory).toEqual(expected.directory);
    expect(users).toEqual(expected.users);
  });

});

describe('the directory resource units of the single read', () => {
  it('the wider $select costs the directory nothing: a page is 1 resource unit either way', () => {
    for (const select of [DIRECTORY_SELECT, USER_SELECT_PLAIN]) {
      const route = matchRoute('/v1.0/users');
      const query = parseQuery(`$select=${select}&$top=999`);
      if (!('match' in route) || !query) throw new Error('not routed');
      expect(directoryCost(route.match, query)).toBe(1);
    }
    // Every directory property is among the plain list's, so the entry is a projection of the user.
    for (const p of DIRECTORY_SELECT.split(',')) expect(USER_SELECT_PLAIN.split(',')).toContain(p);
  });
});
