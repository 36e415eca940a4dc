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
