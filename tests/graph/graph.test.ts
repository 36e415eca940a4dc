/**
 * The Graph module against the simulator over real HTTPS: paging, retries of 429/503 honouring
 * Retry-After, the attempt cap, malformed JSON, $batch with per-item retries, budgets.
 */
import { GraphError } from '../../src/errors';
import { createGraphClient } from '../../src/graph/client';
import { familyOfUrl, Graph, type GraphWait } from '../../src/graph/graph';
import { familyOf, GRAPH_BUDGETS, RequestBudgets } from '../../src/graph/budget';
import { ConfigError } from '../../src/errors';
import { loadSettings } from '../../src/config/settings';
import { startTestSim, type TestSim } from '../support/sim';

let t: TestSim;
beforeEach(async () => {
  t = await startTestSim({ throttle: false });
});
afterEach(async () => {
  await t.close();
});

describe('paging', () => {
  it('follows @odata.nextLink verbatim across pages and reads every record once', async () => {
    t.sim.setFaults([]);
    const total = t.sim.tenant.users.length;
    const graph = t.graph();
    const pages: number[] = [];
    const ids = new Set<string>();
    for await (const page of graph.pages('/users?$select=id,userPrincipalName&$top=7')) {
      pages.push(page.value.length);
      for (const u of page.value as Array<{ id: string }>) ids.add(u.id);
    }
    expect(ids.size).toBe(total);
    expect(pages.length).toBe(Math.ceil(total / 7));
    expect(t.sim.counts().users).toBe(pages.length);
  });

  it('gets pages no larger than the endpoint allows (signInActivity capped, as one doc revision reads)', async () => {
    const capped = await startTestSim({ signInActivityPaging: { oversize: 'cap' } });
    try {
      const first = await capped.graph().pages('/users?$select=id,signInActivity&$top=999').next();
      expect(first.done).toBe(false);
      expect((first.value as { value: unknown[] }).value.length).toBeLessThanOrEqual(500);
    } finally {
      await capped.close();
    }
  });

  it('an oversize signInActivity $top is refused with 400 by default (as a Microsoft engineer reports)', async () => {
    await expect(t.graph().all('/users?$select=id,signInActivity&$top=999')).rejects.toMatchObject({ status: 400 });
  });
});

describe('retries', () => {
  it.each([429, 503])('retries a %i honouring Retry-After, then succeeds', async (status) => {
    t.sim.setFaults([{ endpoint: 'domains', status, retryAfter: 0.05, times: 2 }]);
    const graph = t.graph();
    const body = (await graph.get('/domains')) as { value: unknown[] };
    expect(body.value.length).toBeGreaterThan(0);
    expect(graph.stats.retries).toBe(2);
    expect(t.sim.counts().domains).toBe(3);
  });

  it('retries a 429 that carries no Retry-After (Conditional Access) with its own back-off', async () => {
    t.sim.setFaults([{ endpoint: 'conditionalAccess', status: 429, retryAfter: null, times: 1 }]);
    const graph = t.graph();
    await expect(graph.all('/identity/conditionalAccess/policies')).resolves.toBeInstanceOf(Array);
    expect(graph.stats.throttled).toBe(1);
  });

  it('gives up after the attempt cap with an error naming endpoint, status and code', async () => {
    t.sim.setFaults([{ endpoint: 'domains', status: 503, retryAfter: 0.01 }]);
    const graph = t.graph({ maxAttempts: 3 });
    const err = await graph.get('/domains').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GraphError);
    expect((err as GraphError).status).toBe(503);
    expect((err as Error).message).toMatch(/^GET \/domains answered 503 \(serviceNotAvailable/);
    expect(t.sim.counts().domains).toBe(3);
  });

  it('does not wait out a Retry-After beyond its cap: the 429 comes back as a clear error', async () => {
    t.sim.setFaults([{ endpoint: 'domains', status: 429, retryAfter: 500 }]);
    const graph = t.graph({ maxRetryAfterSeconds: 60 });
    await expect(graph.get('/domains')).rejects.toThrow(/^GET \/domains answered 429 \(TooManyRequests/);
    expect(t.sim.counts().domains).toBe(1);
  });

  it('never repeats a POST that may have been carried out (504), but does after a 503', async () => {
    const body = { planId: 'simPlan0000000000000000000000', bucketId: 'simBucket00000000000000000000', title: 't' };
    t.sim.setFaults([{ endpoint: 'plannerTasks', status: 504, times: 1 }]);
    const graph = t.graph();
    expect((await graph.send('POST', '/planner/tasks', { body })).status).toBe(504);
    expect(t.sim.counts().plannerTasks).toBe(1);
    t.sim.setFaults([{ endpoint: 'plannerTasks', status: 503, retryAfter: 0.01, times: 1 }]);
    expect((await graph.send('POST', '/planner/tasks', { body })).status).toBe(201);
    expect(t.sim.plannerTasks()).toHaveLength(1);
  });

  it('does not retry a 403, and names the permission to grant', async () => {
    t.sim.setFaults([{ endpoint: 'users', status: 403 }]);
    const graph = t.graph();
    await expect(graph.get('/users?$select=id')).rejects.toThrow(/403 \(Authorization_RequestDenied.*grant the app the Graph application permission User\.Read\.All/);
    expect(t.sim.counts().users).toBe(1);
  });

  it('reports malformed JSON clearly', async () => {
    t.sim.setFaults([{ endpoint: 'domains', malformed: true }]);
    await expect(t.graph().get('/domains')).rejects.toThrow(/GET \/domains answered 200 with a body that is not valid JSON/);
  });

  it('tells onWait of a long Retry-After wait (what for, how long), and not of a short one', async () => {
    t.sim.setFaults([
      { endpoint: 'domains', status: 429, retryAfter: 7, times: 1 },
      { endpoint: 'users', status: 503, retryAfter: 1, times: 1 },
    ]);
    const waits: GraphWait[] = [];
    const slept: number[] = [];
    // A virtual clock that the sleeps advance: the budgets' pacing sees the time pass at once.
    let now = Date.now();
    const graph = t.graph({ clock: () => now, sleep: async (ms) => void (slept.push(ms), (now += ms)), onWait: (w) => waits.push(w) });
    await graph.get('/domains');
    await graph.get('/users?$select=id');
    expect(slept).toEqual(expect.arrayContaining([7000, 1000]));
    expect(waits).toEqual([{ reason: '429 with Retry-After from GET /domains', ms: 7000, attempt: 2, maxAttempts: 5 }]);
  });

  it('does not retry a complete body that is not JSON', async () => {
    t.sim.resetCounts();
    t.sim.setFaults([{ endpoint: 'domains', malformed: true }]);
    await expect(t.graph({ sleep: async () => undefined }).get('/domains')).rejects.toThrow(/answered 200 with a body that is not valid JSON/);
    expect(t.sim.counts().domains).toBe(1);
  });

  it('retries a body cut mid-stream (a dropped connection), and names the endpoint when it keeps being cut', async () => {
    t.sim.resetCounts();
    t.sim.setFaults([{ endpoint: 'domains', cut: true, times: 2 }]);
    const graph = t.graph({ sleep: async () => undefined });
    const domains = (await graph.get('/domains')) as { value: unknown[] };
    expect(domains.value.length).toBe(t.sim.tenant.domains.length);
    expect(t.sim.counts().domains).toBe(3);
    expect(graph.stats.retries).toBe(2);

    t.sim.resetCounts();
    t.sim.setFaults([{ endpoint: 'domains', cut: true }]);
    await expect(t.graph({ sleep: async () => undefined, maxAttempts: 3 }).get('/domains')).rejects.toThrow(
      /^GET \/domains: the answer was cut off mid-body after 3 attempt\(s\) \(terminated.*\) — the connection dropped each time/,
    );
    expect(t.sim.counts().domains).toBe(3);
  });
});

describe('$batch', () => {
  it('sends 20 per call, retries a throttled item inside a 200, and returns every answer in request order', async () => {
    const users = t.sim.tenant.users.slice(0, 25) as Array<{ id: string }>;
    const victim = users[3]?.id ?? '';
    t.sim.setFaults([{ endpoint: 'messageRules', match: new RegExp(victim), status: 429, retryAfter: 0.05, times: 1 }]);
    const graph = t.graph();
    const results = await graph.batch(users.map((u, i) => ({ id: String(i), method: 'GET', url: `users/${u.id}/mailFolders/inbox/messageRules` })));
    expect(results.map((r) => r.id)).toEqual(users.map((_, i) => String(i)));
    expect(results[3]).toMatchObject({ status: 200, attempts: 2 });
    for (const r of results) {
      const hasMailbox = Object.prototype.hasOwnProperty.call(t.sim.tenant.messageRules, users[Number(r.id)]?.id ?? '');
      expect(r.status).toBe(hasMailbox ? 200 : 404);
      if (!hasMailbox) expect((r.body as { error: { code: string } }).error.code).toBe('MailboxNotEnabledForRESTAPI');
    }
    expect(t.sim.counts().batch).toBe(3);
    expect(graph.stats.throttled).toBe(1);
  });

  it('stops retrying an item at the attempt cap and returns its last answer', async () => {
    const user = (t.sim.tenant.users[0] as { id: string }).id;
    t.sim.setFaults([{ endpoint: 'messageRules', status: 503, retryAfter: 0.01 }]);
    const graph = t.graph({ maxAttempts: 2 });
    const [r] = await graph.batch([{ id: 'a', method: 'GET', url: `/users/${user}/mailFolders/inbox/messageRules` }]);
    expect(r).toMatchObject({ status: 503, attempts: 2 });
  });
});

describe('$batch envelope refused', () => {
  const mailboxRequests = (n: number) => (t.sim.tenant.users.slice(0, n) as Array<{ id: string }>).map((u, i) => ({ id: String(i), method: 'GET' as const, url: `/users/${u.id}/mailFolders/inbox/messageRules` }));

  it.each([429, 500, 502, 503, 504, 424])('a %i on the envelope is retried whole, then every item is answered', async (status) => {
    t.sim.setFaults([{ endpoint: 'batch', status, retryAfter: 0.01, times: 2 }]);
    const graph = t.graph();
    const results = await graph.batch(mailboxRequests(5));
    expect(results.map((r) => r.status).every((s) => s === 200 || s === 404)).toBe(true);
    // Two refused envelopes, then the one answered: no retry-inside-retry.
    expect(t.sim.counts().batch).toBe(3);
    expect(results.every((r) => r.attempts === 3)).toBe(true);
  });

  it('honours the Retry-After of a throttled envelope', async () => {
    t.sim.setFaults([{ endpoint: 'batch', status: 429, retryAfter: 7.5, times: 1 }]);
    // A clock that moves only when the client sleeps: nothing here waits for real.
    let now = Date.now();
    const slept: number[] = [];
    const graph = t.graph({ clock: () => now, sleep: async (ms) => { slept.push(ms); now += ms; } });
    const results = await graph.batch(mailboxRequests(3));
    expect(results).toHaveLength(3);
    expect(slept).toContain(7500);
  });

  it('past the attempt cap the items fail as unanswered (status 0, the envelope named) instead of throwing', async () => {
    t.sim.setFaults([{ endpoint: 'batch', status: 502, retryAfter: 0.01 }]);
    const graph = t.graph({ maxAttempts: 3 });
    const results = await graph.batch(mailboxRequests(4));
    expect(results.map((r) => r.id)).toEqual(['0', '1', '2', '3']);
    for (const r of results) {
      expect(r).toMatchObject({ status: 0, attempts: 3, body: { error: { code: 'batchEnvelopeFailed' } } });
      expect((r.body as { error: { message: string } }).error.message).toContain('answered 502');
    }
    expect(t.sim.counts().batch).toBe(3);
  });

  it('a 404 on the envelope is never handed out as a 404 of its items (which would read as "item gone")', async () => {
    t.sim.setFaults([{ endpoint: 'batch', status: 404, code: 'NotFound' }]);
    const results = await t.graph().batch([
      { id: 'a', method: 'GET', url: '/drives/d/items/i1/permissions' },
      { id: 'b', method: 'GET', url: '/drives/d/items/i2/permissions' },
    ]);
    expect(results.map((r) => r.status)).toEqual([0, 0]);
    expect(results[0]?.body).toMatchObject({ error: { code: 'batchEnvelopeFailed', message: expect.stringContaining('answered 404 (NotFound)') } });
  });

  it('an envelope refused with a gateway\'s HTML body is retried like any refused envelope', async () => {
    const answers = [
      () => new Response('<html><body>Service Unavailable</body></html>', { status: 503, headers: { 'content-type': 'text/html', 'retry-after': '1' } }),
      () => new Response(JSON.stringify({ responses: [{ id: '0', status: 200, headers: {}, body: { value: [] } }] }), { status: 200 }),
    ];
    let calls = 0;
    // A stand-in for the SDK client: the proxy's HTML answer cannot come from the simulator.
    const request = { responseType: () => request, headers: () => request, post: async () => (answers[calls++] as () => Response)() };
    const graph = new Graph({ api: () => request } as unknown as ConstructorParameters<typeof Graph>[0], { sleep: async () => undefined });
    const [r] = await graph.batch([{ id: '0', method: 'GET', url: '/users/x/mailFolders/inbox/messageRules' }]);
    expect(r).toMatchObject({ status: 200, body: { value: [] }, attempts: 2 });
    expect(calls).toBe(2);
  });

  it('a batch that writes is not sent again after a 500 (it may have been carried out)', async () => {
    t.sim.setFaults([{ endpoint: 'batch', status: 500, times: 1 }]);
    const graph = t.graph();
    const [r] = await graph.batch([{ id: 'w', method: 'POST', url: '/users/nobody@example.lg.jp/sendMail', body: { message: {} } }]);
    expect(r).toMatchObject({ status: 0, attempts: 1, body: { error: { code: 'batchEnvelopeFailed' } } });
    expect(t.sim.counts().batch).toBe(1);
  });
});

describe('budgets', () => {
  it('paces a family under its limit so that Graph does not throttle', async () => {
    await t.close();
    t = await startTestSim({ throttle: { conditionalAccess: { limit: 2, perSeconds: 1 } } });
    const paced = t.graph({ budgets: { conditionalAccess: { limit: 2, perSeconds: 1 } } });
    for (let i = 0; i < 5; i++) await paced.all('/identity/conditionalAccess/policies');
    expect(t.sim.counts().throttled ?? 0).toBe(0);
    // Unpaced, Graph throttles; the client still gets through by backing off (no Retry-After here).
    const unpaced = t.graph({ budgets: { conditionalAccess: { limit: 100, perSeconds: 1 } }, baseBackoffMs: 300 });
    await Promise.all(Array.from({ length: 5 }, () => unpaced.all('/identity/conditionalAccess/policies')));
    expect(t.sim.counts().throttled).toBeGreaterThan(0);
    expect(unpaced.stats.throttled).toBeGreaterThan(0);
  });

  it('after a throttling answer waits until Retry-After, and the window still counts afterwards', async () => {
    let now = 0;
    const slept: number[] = [];
    const budgets = new RequestBudgets({ ...GRAPH_BUDGETS, identityReports: { limit: 5, perSeconds: 10 } }, () => now, async (ms) => {
      slept.push(ms);
      now += ms;
    });
    for (let i = 0; i < 5; i++) await budgets.acquire('identityReports');
    budgets.penalise('identityReports', now + 1000);
    await budgets.acquire('identityReports');
    // Not 1 s (the Retry-After) but the 10 s the five earlier requests still occupy.
    expect(now).toBe(10_000);
    expect(slept.reduce((a, b) => a + b, 0)).toBe(10_000);
  });

  it('classifies requests into families', () => {
    expect(familyOf('/auditLogs/signIns?$filter=x')).toBe('identityReports');
    expect(familyOf('/reports/authenticationMethods/userRegistrationDetails')).toBe('identityReports');
    expect(familyOf('/users?$select=id,signInActivity&$top=500')).toBe('signInActivity');
    expect(familyOf('/users?$select=id')).toBe('directory');
    expect(familyOf('/identity/conditionalAccess/policies')).toBe('conditionalAccess');
    expect(familyOf('users/abc/mailFolders/inbox/messageRules')).toBe('outlook');
    expect(familyOf('/drives/b!x/root/delta')).toBe('sharepoint');
    // A nextLink whose long, encoded $select names signInActivity at its end is still paced as such.
    const longSelect = `https://graph.microsoft.com/v1.0/users?%24select=${'id%2C'.repeat(60)}signInActivity&%24top=500&%24skiptoken=abc%25`;
    expect(familyOfUrl(longSelect)).toBe('signInActivity');
  });
});

describe('client', () => {
  it('sends a bearer token and the ISV User-Agent to a loopback Graph without credentials', async () => {
    await t.graph().get('/domains');
    expect(t.sim.userAgents().some((ua) => /^ISV\|m365-audit\|m365-audit\/\d+\.\d+\.\d+$/.test(ua))).toBe(true);
  });

  it('refuses a non-loopback Graph URL without credentials, and a non-https one', () => {
    expect(() => createGraphClient({ graphUrl: 'https://graph.example.com', settings: loadSettings({}) })).toThrow(ConfigError);
    expect(() => createGraphClient({ graphUrl: 'https://graph.example.com', settings: loadSettings({}) })).toThrow(/AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_CERTIFICATE_PATH/);
    expect(() => createGraphClient({ graphUrl: 'http://127.0.0.1:1', settings: loadSettings({}) })).toThrow(/must start with https:\/\//);
  });

  it('an untrusted certificate (the simulator without its CA): says TLS trust and NODE_EXTRA_CA_CERTS, and is not retried', async () => {
    const handle = createGraphClient({ graphUrl: t.sim.url, settings: loadSettings({}) });
    try {
      const graph = new Graph(handle.client, { sleep: async () => undefined });
      const err = await graph.get('/domains').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(GraphError);
      expect((err as Error).message).toMatch(/^GET \/domains: the certificate of the Graph host \(--graph-url\) is not trusted \(TLS trust problem, [A-Z_]+\) — for the simulator, set NODE_EXTRA_CA_CERTS/);
      expect(graph.stats.requests).toBe(1);
      // Every later request fails at once with the same cause.
      await expect(graph.get('/users')).rejects.toBe(err);
      expect(graph.stats.requests).toBe(1);
    } finally {
      await handle.close();
    }
  });

  it('accepts a Graph root given with /v1.0 or a trailing slash (strips them), and refuses another path', async () => {
    for (const root of [`${t.sim.url}/v1.0`, `${t.sim.url}/v1.0/`, `${t.sim.url}/`]) {
      const handle = createGraphClient({ graphUrl: root, settings: loadSettings({}), caPem: t.sim.caPem });
      try {
        expect(handle.graphUrl).toBe(t.sim.url);
        const domains = (await new Graph(handle.client).get('/domains')) as { value: unknown[] };
        expect(domains.value.length).toBeGreaterThan(0);
      } finally {
        await handle.close();
      }
    }
    expect(() => createGraphClient({ graphUrl: `${t.sim.url}/beta`, settings: loadSettings({}) })).toThrow(/graph-url: give the Graph root only, https:\/\/127\.0\.0\.1:\d+ .*beta is not used/);
    expect(() => createGraphClient({ graphUrl: 'graph.microsoft.com', settings: loadSettings({}) })).toThrow(/graph-url: is not a URL/);
  });
});
