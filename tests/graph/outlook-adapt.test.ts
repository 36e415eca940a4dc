/**
 * Outlook batches start from the stricter concurrency reading (4 in flight per app, whatever the
 * mailbox: throttling-limits.md) and adapt: against a simulator playing that reading the inbox
 * rules come back without a 429 storm; against the per-mailbox reading they still all come back.
 */
import { generateDemoTenant } from '../../src/sim/demo-tenant';
import { startTestSim } from '../support/sim';

jest.setTimeout(120_000);

const demo = generateDemoTenant({ seed: 461, users: 200 });
const mailboxes = Object.keys(demo.data.messageRules);
const requests = mailboxes.map((id, i) => ({ id: String(i), method: 'GET' as const, url: `/users/${id}/mailFolders/inbox/messageRules` }));

describe.each(['perApp', 'perMailbox'] as const)('Outlook batches, %s reading', (reading) => {
  test('every mailbox answers 200; fewer 429s than items', async () => {
    expect(mailboxes.length).toBeGreaterThanOrEqual(100); // five batches or more, so concurrency matters
    const t = await startTestSim({ tenant: demo.data, latencyMs: 40, throttleReadings: { outlookConcurrency: reading } });
    try {
      const graph = t.graph({ batchConcurrency: 4 });
      const results = await graph.batch(requests);
      expect(results.filter((r) => r.status !== 200)).toEqual([]);
      const throttled = t.sim.counts().throttled ?? 0;
      if (reading === 'perMailbox') expect(throttled).toBe(0);
      // Four batches in flight from the start (16 items at once) exhaust the items' retries on
      // this reading; adapting keeps the 429s under one per item.
      else expect(throttled).toBeLessThan(requests.length);
    } finally {
      await t.close();
    }
  });
});

test('default client, per-mailbox reading: Outlook climbs past 16 in flight (the old ceiling) without a 429', async () => {
  // 4,000 reads over the 200 mailboxes, each batch's 20 items 20 different mailboxes: at most two
  // of a mailbox's reads are in flight at once, under the per-mailbox 4.
  const many = Array.from({ length: 4000 }, (_, i) => ({ id: String(i), method: 'GET' as const, url: `/users/${mailboxes[i % mailboxes.length]}/mailFolders/inbox/messageRules` }));
  const t = await startTestSim({ tenant: demo.data, latencyMs: 20, throttleReadings: { outlookConcurrency: 'perMailbox' } });
  try {
    const graph = t.graph();
    expect(graph.concurrencyOf('outlook')).toMatchObject({ allowed: 4, cap: 64 });
    const results = await graph.batch(many);
    expect(results.filter((r) => r.status !== 200)).toEqual([]);
    expect(t.sim.counts().throttled ?? 0).toBe(0);
    // 300 successes a step from 4: 3,700 successes past the first window buy 12 more.
    expect(graph.concurrencyOf('outlook').allowed).toBeGreaterThan(16);
  } finally {
    await t.close();
  }
});

test('a family at its ceiling (SharePoint, 16 from the start) sends full batches, not 1-item probes into free slots', async () => {
  // 40 callers at once, 3 permission reads each (as drives read their few shared items): one
  // envelope per caller. Before, a caller that found 1 or 2 slots free (five batches of 3 hold 15
  // of 16) split its reads into batches of that many.
  const t = await startTestSim({ tenant: demo.data, latencyMs: 20, throttle: false });
  try {
    const graph = t.graph();
    expect(graph.concurrencyOf('sharepoint')).toMatchObject({ allowed: 16, cap: 16 });
    await Promise.all(
      Array.from({ length: 40 }, (_, c) => graph.batch(Array.from({ length: 3 }, (_, i) => ({ id: String(i), method: 'GET' as const, url: `/drives/b!none${c}/items/i${i}/permissions` })))),
    );
    expect(t.sim.counts().batch).toBe(40);
  } finally {
    await t.close();
  }
});
