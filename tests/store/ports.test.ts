/**
 * The storage ports' contract, run against both implementations: the Azure store (on the test
 * run's Azurite) and the in-memory one that pure and crash tests use. Whatever a test proves on
 * the MemoryStore holds for the real store only as far as this contract says they agree.
 */
import { randomUUID } from 'node:crypto';
import type { LedgerEntry } from '../../src/findings/ledger';
import { MemoryStore } from '../../src/store/memory';
import type { AuditStore } from '../../src/store/ports';
import { Store } from '../../src/store/store';

function entry(id: string, over: Partial<LedgerEntry> = {}): LedgerEntry {
  return {
    id, ruleId: 'ACCT-01', kind: 'state', area: 'accounts', severity: 'medium', clauses: ['5-1-1'],
    title: { ja: '共用アカウント', en: 'Shared account' }, subject: { kind: 'user', id: `u-${id}`, name: `${id}@example.lg.jp` },
    status: 'open', firstSeen: '2026-11-01T00:00:00.000Z', lastSeen: '2026-11-01T00:00:00.000Z', resolvedAt: null, reopenCount: 0,
    evidence: { note: '日本語' }, history: [], ticket: null, ...over,
  };
}

const stores: Array<[string, () => Promise<AuditStore>]> = [
  ['Azure store (Azurite)', () => Store.connect(process.env.AZURE_STORAGE_CONNECTION_STRING ?? '')],
  ['MemoryStore', async () => new MemoryStore()],
];

describe.each(stores)('%s', (_name, open) => {
  let store: AuditStore;
  let tenant: string;
  beforeEach(async () => {
    store = await open();
    tenant = randomUUID();
  });

  it('keeps ledger entries per tenant, replaced whole, and hands out copies', async () => {
    await store.putLedgerEntries(tenant, [entry('a'), entry('b')]);
    await store.putLedgerEntries(tenant, [entry('a', { status: 'resolved', resolvedAt: '2026-11-02T00:00:00.000Z' })]);
    await store.putLedgerEntries(randomUUID(), [entry('c')]);
    const ledger = await store.getLedger(tenant);
    expect([...ledger.keys()].sort()).toEqual(['a', 'b']);
    expect(ledger.get('a')).toMatchObject({ status: 'resolved', evidence: { note: '日本語' } });
    const read = await store.getLedgerEntry(tenant, 'b');
    if (!read) throw new Error('entry b missing');
    read.status = 'resolved';
    expect((await store.getLedgerEntry(tenant, 'b'))?.status).toBe('open');
    expect(await store.getLedgerEntry(tenant, 'missing')).toBeUndefined();
  });

  it('lets one holder at a time reconcile a tenant\'s ledger; a waiter that runs out of time writes nothing', async () => {
    const order: string[] = [];
    let release: () => void = () => undefined;
    const first = store.withLedgerLease(tenant, async () => {
      order.push('first in');
      await new Promise<void>((r) => (release = r));
      order.push('first out');
    });
    await new Promise((r) => setTimeout(r, 200));
    await expect(store.withLedgerLease(tenant, async () => order.push('impatient in'), 300)).rejects.toThrow(/another run is reconciling the ledger/);
    const second = store.withLedgerLease(tenant, async () => order.push('second in'), 30_000);
    await new Promise((r) => setTimeout(r, 200));
    release();
    await Promise.all([first, second]);
    expect(order).toEqual(['first in', 'first out', 'second in']);
  });

  it('keeps state values and documents per tenant and key', async () => {
    expect(await store.getState(tenant, 'signins/watermark')).toBeUndefined();
    await store.setState(tenant, 'signins/watermark', '2026-11-27T00:00:00Z');
    await store.putStateBlob(tenant, 'files-drive-b!x', '{"version":2}');
    expect(await store.getState(tenant, 'signins/watermark')).toBe('2026-11-27T00:00:00Z');
    expect(await store.getStateBlob(tenant, 'files-drive-b!x')).toBe('{"version":2}');
    expect(await store.getStateBlob(randomUUID(), 'files-drive-b!x')).toBeUndefined();
  });

  it('creates a state document only when none exists: of callers at once exactly one wins, and what it wrote stays', async () => {
    const create = store.createStateBlob?.bind(store);
    if (!create) throw new Error('the store has no conditional create');
    const wins = await Promise.all(['a', 'b', 'c', 'd'].map((v) => create(tenant, 'scan-shards-x-reconcile', JSON.stringify({ by: v }))));
    expect(wins.filter(Boolean)).toHaveLength(1);
    const winner = ['a', 'b', 'c', 'd'][wins.indexOf(true)];
    expect(await store.getStateBlob(tenant, 'scan-shards-x-reconcile')).toBe(JSON.stringify({ by: winner }));
    expect(await create(tenant, 'scan-shards-x-reconcile', 'later')).toBe(false);
    // Once deleted it can be created again; another tenant's key is another document.
    await store.deleteStateBlob?.(tenant, 'scan-shards-x-reconcile');
    expect(await create(tenant, 'scan-shards-x-reconcile', 'again')).toBe(true);
    expect(await create(randomUUID(), 'scan-shards-x-reconcile', 'other')).toBe(true);
  });

  it('lists scan records newest first, at most `limit`, per tenant; keeps report copies', async () => {
    const base = { tenantId: tenant, areas: ['accounts' as const], coverage: { accounts: { status: 'complete' as const, items: 3 } }, counts: { critical: 0, high: 1, medium: 2, low: 0 }, excepted: 0, exitCode: 0 as const };
    for (const [i, day] of ['01', '03', '02'].entries()) await store.saveScan({ ...base, scanId: `s${i}`, startedAt: `2026-11-${day}T00:00:00.000Z`, finishedAt: `2026-11-${day}T00:01:00.000Z` });
    expect((await store.listScans(tenant)).map((s) => s.scanId)).toEqual(['s1', 's2', 's0']);
    expect((await store.listScans(tenant, 2)).map((s) => s.scanId)).toEqual(['s1', 's2']);
    await store.putReport(tenant, 's1', 'report.html', '<p>日本語</p>', 'text/html; charset=utf-8');
    expect((await store.getReport(tenant, 's1', 'report.html')).toString('utf8')).toBe('<p>日本語</p>');
  });

  it('evidence: create-once, an existence check (HEAD) that agrees with reads, per tenant', async () => {
    expect(await store.evidenceExists?.(tenant, '0000000001.json')).toBe(false);
    expect(await store.createEvidence(tenant, '0000000001.json', '{"a":1}')).toBe(true);
    expect(await store.createEvidence(tenant, '0000000001.json', '{"a":2}')).toBe(false);
    expect(await store.evidenceExists?.(tenant, '0000000001.json')).toBe(true);
    expect(await store.evidenceExists?.(tenant, '0000000002.json')).toBe(false);
    expect(await store.evidenceExists?.(randomUUID(), '0000000001.json')).toBe(false);
    expect(await store.getEvidence(tenant, '0000000001.json')).toBe('{"a":1}');
  });
});

describe('MemoryStore failure injection', () => {
  it('fails the write it is told to and stores nothing of it', async () => {
    const store = new MemoryStore({ onWrite: (w) => {
      if (w.op === 'putLedgerEntries' && w.keys.includes('boom')) throw new Error('injected');
    } });
    await store.putLedgerEntries('t', [entry('a')]);
    await expect(store.putLedgerEntries('t', [entry('b'), entry('boom')])).rejects.toThrow('injected');
    expect([...(await store.getLedger('t')).keys()]).toEqual(['a']);
  });
});
