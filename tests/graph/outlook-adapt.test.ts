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
