/**
 * The demo history (src/sim/demo-history.ts): after a real scan of the demo tenant, seeding gives
 * last month's digest a trend, changes, overdue tickets, sign-in detections and an inventory; a
 * second seeding (a second `npm start`) changes nothing; and the next scan still resolves nothing
 * it should not (the made-up findings are resolved already).
 */
import { validatePolicy } from '../../src/config/policy';
import { loadInventory, monthOf } from '../../src/digest/inventory';
import { buildDigest } from '../../src/digest/run';
import { lastFullMonth } from '../../src/digest/model';
import { runScan } from '../../src/pipeline';
import { seedDemoHistory } from '../../src/sim/demo-history';
import { MemoryStore } from '../../src/store/memory';
import { withSim } from '../support/sim';

describe('seedDemoHistory', () => {
  it('fills last month once, idempotently, and the next scan is unaffected', async () => {
    await withSim(406, async (t, demo) => {
      const store = new MemoryStore();
      const policy = validatePolicy(demo.policy, 'demo policy');
      const tenantId = demo.data.tenantId;
      const scan = () => runScan({ graph: t.graph(), policy, tenantId, store, collectOptions: { freshState: true } });
      const first = await scan();
      const now = new Date();
      const [latest] = await store.listScans(tenantId, 1);
      if (!latest) throw new Error('the scan was recorded');
      const inventory = await loadInventory(store, tenantId, monthOf(latest.startedAt, policy.organization.timeZone));
      expect(inventory?.scanId).toBe(first.scanId);
      const seeded = await seedDemoHistory(store, { tenantId, policy, now, latest, ...(inventory ? { inventory } : {}) });
      expect(seeded).toMatchObject({ seeded: true, scans: 12 });
      expect(seeded.backdated).toBeGreaterThan(5);
      expect(seeded.madeUp).toBe(7);

      const month = lastFullMonth(now, policy.organization.timeZone);
      const before = await buildDigest({ store, policy, tenantId, month, now, lang: 'ja' });
      const m = before.model;
      expect(m.trend.every((p) => p.counts !== null)).toBe(true);
      expect(m.open.total).toBeGreaterThan(0);
      expect(m.changes.opened.length).toBeGreaterThan(0);
      expect(m.changes.resolved.length).toBeGreaterThanOrEqual(4);
      expect(m.changes.reopened.length).toBe(1);
      expect(m.overdue.length).toBeGreaterThan(0);
      expect(m.signIns.byRule.filter((r) => r.occurrences > 0).map((r) => r.ruleId)).toEqual(['SIGN-01', 'SIGN-02', 'SIGN-04']);
      expect(m.inventory?.privileged.rows.length).toBeGreaterThan(0);
      expect(m.coverage.areas.find((a) => a.area === 'mail')?.last).toBe('partial');

      // A second npm start: nothing more is seeded, and the month's digest is the same document.
      const ledgerBefore = await store.getLedger(tenantId);
      expect((await seedDemoHistory(store, { tenantId, policy, now, latest })).seeded).toBe(false);
      expect(await store.getLedger(tenantId)).toEqual(ledgerBefore);
      expect((await buildDigest({ store, policy, tenantId, month, now, lang: 'ja' })).html).toBe(before.html);

      // The next scan opens and resolves nothing because of the history.
      const next = await scan();
      expect(next.ledger).toMatchObject({ opened: 0, reopened: 0, resolved: 0 });
      expect((await buildDigest({ store, policy, tenantId, month, now, lang: 'ja' })).html).toBe(before.html);
    });
  });
});
