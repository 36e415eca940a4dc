/**
 * The simulator's readings where Microsoft's doc revisions disagree: Outlook's 4 concurrent
 * requests per app per mailbox (throttling.md, older) or per app whatever the mailbox
 * (throttling-limits.md, "Limits per app ID"); and the machine-readable model the bench reads.
 */
import { simClient } from '../support/sim-client';
import { startSimulator, throttleModel, type SimServer } from '../../src/sim/server';
import { generateDemoTenant } from '../../src/sim/demo-tenant';

jest.setTimeout(60_000);

const demo = generateDemoTenant({ seed: 460, users: 12 });
const mailboxes = Object.keys(demo.data.messageRules).slice(0, 4);

/** Eight concurrent rule reads, two per mailbox over four mailboxes; the statuses and 429s. */
async function burst(sim: SimServer) {
  const { agent, call } = simClient(sim);
  try {
    await call('/domains'); // warm the TLS connection
    const answers = await Promise.all(
      [...mailboxes, ...mailboxes].map((id) => call(`/users/${id}/mailFolders/inbox/messageRules`)),
    );
    return answers;
  } finally {
    await agent.close();
  }
}

describe('Outlook concurrency readings', () => {
  test('the tenant has four mailboxes to spread over', () => {
    expect(mailboxes).toHaveLength(4);
  });

  test('perMailbox (default): two in flight per mailbox are all admitted', async () => {
    const sim = await startSimulator({ tenant: demo.data, latencyMs: 400 });
    try {
      const answers = await burst(sim);
      expect(answers.map((a) => a.status).filter((s) => s === 429)).toHaveLength(0);
      expect(answers.every((a) => a.status === 200)).toBe(true);
    } finally {
      await sim.close();
    }
  });

  test('perApp: beyond 4 in flight for the app, whatever the mailbox, Graph-shaped 429s', async () => {
    const sim = await startSimulator({ tenant: demo.data, latencyMs: 400, throttleReadings: { outlookConcurrency: 'perApp' } });
    try {
      const answers = await burst(sim);
      const refused = answers.filter((a) => a.status === 429);
      expect(refused).toHaveLength(4);
      expect(answers.filter((a) => a.status === 200)).toHaveLength(4);
      for (const a of refused) {
        expect(Number(a.headers.get('retry-after'))).toBeGreaterThan(0);
        expect(a.json.error.code).toBe('ApplicationThrottled');
      }
      expect(sim.counts().throttled).toBe(4);
    } finally {
      await sim.close();
    }
  });
});

describe('throttleModel', () => {
  test('per family rates and bursts follow the options, the Outlook concurrency scope the reading', () => {
    const small = throttleModel();
    expect(small.identityReports).toMatchObject({ unitsPerSecond: 0.5, burst: 5, scope: 'appTenant' });
    expect(small.conditionalAccess).toMatchObject({ unitsPerSecond: 1, burst: 1, scope: 'tenant' });
    expect(small.sharepoint).toMatchObject({ unitsPerSecond: 20, burst: 1_200 });
    expect(small.outlook).toMatchObject({ concurrency: 4, concurrencyScope: 'appMailbox', burst: 10_000 });
    const large = throttleModel({ outlookConcurrency: 'perApp' }, 20_000, { identityReports: { limit: 10, perSeconds: 10 } });
    expect(large.sharepoint).toMatchObject({ unitsPerSecond: 80, burst: 4_800 });
    expect(large.identityReports.unitsPerSecond).toBe(1);
    expect(large.outlook.concurrencyScope).toBe('app');
  });
});

/**
 * signInActivity pages and the identity reports' 5 per 10 s: a family of their own, or also
 * drawing the reports' bucket (throttling-entra-logs-reports.md, whose revisions disagree; see
 * ThrottleReadings.signInActivity).
 */
describe('signInActivity readings', () => {
  const sia = '/users?$select=id,signInActivity&$top=5';
  const report = '/reports/authenticationMethods/userRegistrationDetails?$top=5';

  test('ownFamily (default): five signInActivity pages leave the five reports of the window untouched', async () => {
    const sim = await startSimulator({ tenant: demo.data });
    const { agent, call } = simClient(sim);
    try {
      for (let i = 0; i < 5; i++) expect((await call(sia)).status).toBe(200);
      for (let i = 0; i < 5; i++) expect((await call(report)).status).toBe(200);
      expect(sim.counts().throttled ?? 0).toBe(0);
    } finally {
      await agent.close();
      await sim.close();
    }
  });

  test('alsoIdentityReports: a signInActivity page spends a report token; refused when either bucket is empty', async () => {
    const sim = await startSimulator({ tenant: demo.data, throttleReadings: { signInActivity: 'alsoIdentityReports' } });
    const { agent, call } = simClient(sim);
    try {
      for (let i = 0; i < 3; i++) expect((await call(sia)).status).toBe(200);
      expect((await call(report)).status).toBe(200);
      expect((await call(report)).status).toBe(200);
      // 5 of the reports' 5 are spent: the next report and the next signInActivity page are refused
      // (the signInActivity bucket still holds 7 of its 10), Retry-After from the reports' bucket.
      const refusedReport = await call(report);
      const refusedPage = await call(sia);
      for (const a of [refusedReport, refusedPage]) {
        expect(a.status).toBe(429);
        const wait = Number(a.headers.get('retry-after'));
        expect(wait).toBeGreaterThan(0);
        expect(wait).toBeLessThanOrEqual(2); // one token of 0.5 a second, not the signInActivity's 6 s
      }
      // A refused request takes no token from either bucket: the plain user list is untouched.
      expect((await call('/users?$select=id&$top=5')).status).toBe(200);
      expect(sim.counts().throttled).toBe(2);
      expect(sim.counts().signInActivity).toBe(3);
    } finally {
      await agent.close();
      await sim.close();
    }
  });

  test('alsoIdentityReports: Retry-After comes from the emptiest bucket (the signInActivity one, once it is empty)', async () => {
    const sim = await startSimulator({
      tenant: demo.data,
      throttleReadings: { signInActivity: 'alsoIdentityReports' },
      throttle: { identityReports: { limit: 100, perSeconds: 10 }, signInActivity: { limit: 2, perSeconds: 60 } },
    });
    const { agent, call } = simClient(sim);
    try {
      expect((await call(sia)).status).toBe(200);
      expect((await call(sia)).status).toBe(200);
      const refused = await call(sia);
      expect(refused.status).toBe(429);
      // One token of 2 a minute: about 30 s, far beyond the reports' 0.1 s.
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(25);
    } finally {
      await agent.close();
      await sim.close();
    }
  });

  test('throttleModel says which reading draws what', () => {
    expect(throttleModel().signInActivity.alsoDraws).toBeUndefined();
    expect(throttleModel({ signInActivity: 'alsoIdentityReports' }).signInActivity.alsoDraws).toEqual(['identityReports']);
  });
});
