/**
 * Finding the evidence chain's head without listing (src/store/evidence.ts findEvidenceHead and
 * appendEvidence): an append costs O(log n) existence checks (HEAD requests) and never lists the
 * tenant's names; a hint that is the head costs two checks; a stale, ahead, missing, unreadable
 * or garbage hint still gives the right next sequence; concurrent appenders leave one chain; a
 * scan through the pipeline keeps the hint in the state store. A counting fake store holds a
 * "virtual" chain of up to 10^7 records (each read made up on demand) to measure; MemoryStore and
 * Azurite (jest global setup) hold real chains; the simulator (seed 600) runs real scans.
 */
import { randomUUID } from 'node:crypto';
import { validatePolicy } from '../../src/config/policy';
import { runScan } from '../../src/pipeline';
import {
  appendEvidence,
  EVIDENCE_HEAD_KEY,
  evidenceName,
  findEvidenceHead,
  GENESIS_HASH,
  MAX_SEQUENCE,
  memoryHeadHint,
  recordHash,
  sequenceOf,
  sha256,
  stateHeadHint,
  verifyEvidence,
  type EvidenceDraft,
  type EvidenceHeadHint,
  type EvidenceRecord,
} from '../../src/store/evidence';
import { MemoryStore } from '../../src/store/memory';
import type { EvidencePort } from '../../src/store/ports';
import { Store } from '../../src/store/store';
import { withSim } from '../support/sim';

function draft(tenantId: string, n: number): EvidenceDraft {
  const startedAt = new Date(Date.UTC(2026, 10, 1, 0, 15 * n)).toISOString();
  return {
    version: 1, tenantId, scanId: `scan-${n}`, startedAt, finishedAt: new Date(Date.parse(startedAt) + 60_000).toISOString(),
    areas: ['signins'], coverage: { signins: { status: 'complete', items: n } }, findings: [], slices: {},
  };
}

/** Calls an append makes, by kind. */
interface Counts {
  exists: number;
  get: number;
  create: number;
  list: number;
}

/**
 * A chain of `n` records that exist only as numbers: a read makes the record of that sequence up
 * (hash = SHA-256 of its sequence), so a 10^7-record chain costs no memory. Appends are real.
 */
class VirtualChain implements EvidencePort {
  readonly counts: Counts = { exists: 0, get: 0, create: 0, list: 0 };
  private readonly appended = new Map<number, string>();
  constructor(private n: number) {}
  reset(): void {
    Object.assign(this.counts, { exists: 0, get: 0, create: 0, list: 0 });
  }
  get head(): number {
    return this.n;
  }
  async listEvidence(): Promise<string[]> {
    this.counts.list++;
    throw new Error('an append must not list the names');
  }
  async evidenceExists(_t: string, name: string): Promise<boolean> {
    this.counts.exists++;
    const s = sequenceOf(name);
    return s !== undefined && s >= 1 && s <= this.n;
  }
  async getEvidence(tenantId: string, name: string): Promise<string | undefined> {
    this.counts.get++;
    const s = sequenceOf(name) as number;
    if (s < 1 || s > this.n) return undefined;
    return this.appended.get(s) ?? JSON.stringify({ ...draft(tenantId, s), sequence: s, hash: sha256(String(s)) });
  }
  async createEvidence(_t: string, name: string, content: string): Promise<boolean> {
    this.counts.create++;
    const s = sequenceOf(name) as number;
    if (s <= this.n) return false;
    if (s !== this.n + 1) throw new Error(`append skipped a sequence: ${s} after ${this.n}`);
    this.n = s;
    this.appended.set(s, content);
    return true;
  }
}

const fixedHint = (value: number | undefined): EvidenceHeadHint & { sets: number[] } => {
  const sets: number[] = [];
  return { sets, get: async () => value, set: async (_t, s) => void sets.push(s) };
};
const log2 = (n: number) => Math.ceil(Math.log2(n + 1));

describe('findEvidenceHead and append cost (a virtual chain, counted)', () => {
  it.each([0, 1, 2, 10, 1000, 100_000, 10_000_000])('with no hint: %i records → the right head in ≤ 2·log2(n)+2 checks, no listing', async (n) => {
    const port = new VirtualChain(n);
    expect(await findEvidenceHead(port, 't')).toBe(n);
    expect(port.counts.exists).toBeLessThanOrEqual(2 * log2(n) + 2);
    expect(port.counts.list).toBe(0);
  });

  it('append cost grows with log n, not n: 10 → 100 000 records is ×10 000 records and under ×4 requests', async () => {
    const cost: Record<number, Counts> = {};
    for (const n of [10, 1000, 100_000]) {
      const port = new VirtualChain(n);
      const r = await appendEvidence(port, draft('t', n + 1));
      expect(r).toMatchObject({ sequence: n + 1, prevHash: sha256(String(n)) });
      cost[n] = { ...port.counts };
    }
    // Figures (also in the report): exists 8 / 20 / 34, reads 3, one create, no listing.
    expect(cost[10]).toEqual({ exists: 8, get: 3, create: 1, list: 0 });
    expect(cost[1000]).toEqual({ exists: 20, get: 3, create: 1, list: 0 });
    expect(cost[100_000]).toEqual({ exists: 34, get: 3, create: 1, list: 0 });
    const total = (c: Counts | undefined) => (c ? c.exists + c.get + c.create + c.list : Number.NaN);
    expect(total(cost[100_000]) / total(cost[10])).toBeLessThan(4);
  });

  it('a hint that is the head: 2 checks at any size, and the hint moves to the new head', async () => {
    for (const n of [10, 100_000, 10_000_000]) {
      const port = new VirtualChain(n);
      const hint = fixedHint(n);
      const r = await appendEvidence(port, draft('t', n + 1), { hint });
      expect(r.sequence).toBe(n + 1);
      expect(port.counts).toEqual({ exists: 2, get: 3, create: 1, list: 0 });
      expect(hint.sets).toEqual([n + 1]);
    }
  });

  it('a stale hint (behind by d) costs ≤ 2·log2(d)+3 checks; an ahead hint, a missing one or garbage still finds the head', async () => {
    const n = 100_000;
    for (const d of [1, 7, 96, 5000]) {
      const port = new VirtualChain(n);
      expect(await findEvidenceHead(port, 't', n - d)).toBe(n);
      expect(port.counts.exists).toBeLessThanOrEqual(2 * log2(d) + 3);
    }
    // Ahead (a state table restored from a later backup, or a chain started afresh): the hint's
    // name is absent, so it only bounds the search from 0.
    for (const ahead of [n + 1, n + 500, 2 * n, MAX_SEQUENCE]) {
      const port = new VirtualChain(n);
      expect(await findEvidenceHead(port, 't', ahead)).toBe(n);
      expect(port.counts.exists).toBeLessThanOrEqual(2 * log2(n) + 3);
    }
    for (const junk of [undefined, 0, -5, 1.5, Number.NaN, MAX_SEQUENCE + 1]) {
      const port = new VirtualChain(n);
      expect(await findEvidenceHead(port, 't', junk)).toBe(n);
    }
    // An empty chain with a hint: the first record is 1, its prevHash the genesis hash.
    const empty = new VirtualChain(0);
    expect(await appendEvidence(empty, draft('t', 1), { hint: fixedHint(42) })).toMatchObject({ sequence: 1, prevHash: GENESIS_HASH });
  });

  it('a hint that cannot be read or written is no hint: the append still lands on the head', async () => {
    const port = new VirtualChain(1000);
    const broken: EvidenceHeadHint = { get: async () => Promise.reject(new Error('table down')), set: async () => Promise.reject(new Error('table down')) };
    expect((await appendEvidence(port, draft('t', 1001), { hint: broken })).sequence).toBe(1001);
    // The state-table hint ignores what is not a sequence.
    const state = new MemoryStore();
    await state.setState('t', EVIDENCE_HEAD_KEY, 'not-a-number');
    expect(await stateHeadHint(state).get('t')).toBeUndefined();
    await state.setState('t', EVIDENCE_HEAD_KEY, '0000001001');
    expect(await stateHeadHint(state).get('t')).toBe(1001);
  });

  it('a store without a HEAD request falls back to reads for existence', async () => {
    const port = new VirtualChain(1000);
    const noHead: EvidencePort = { listEvidence: port.listEvidence.bind(port), getEvidence: port.getEvidence.bind(port), createEvidence: port.createEvidence.bind(port) };
    expect((await appendEvidence(noHead, draft('t', 1001))).sequence).toBe(1001);
    expect(port.counts.exists).toBe(0);
    expect(port.counts.get).toBeLessThanOrEqual(2 * log2(1000) + 2 + 3);
  });
});

/** A MemoryStore that counts listings and existence checks. */
class CountingStore extends MemoryStore {
  lists = 0;
  exists = 0;
  override async listEvidence(tenantId: string): Promise<string[]> {
    this.lists++;
    return super.listEvidence(tenantId);
  }
  override async evidenceExists(tenantId: string, name: string): Promise<boolean> {
    this.exists++;
    return super.evidenceExists(tenantId, name);
  }
}

async function realChain(store: MemoryStore, tenant: string, n: number): Promise<void> {
  const hint = memoryHeadHint();
  for (let i = 1; i <= n; i++) await appendEvidence(store, draft(tenant, i), { hint });
}

describe('real chains (MemoryStore): every hint case leaves a chain verify passes', () => {
  it('stale, ahead, missing and fresh hints in the state store: sequences 201…205, one valid chain', async () => {
    const store = new CountingStore();
    const tenant = 'hint-cases';
    await realChain(store, tenant, 200);
    const hint = stateHeadHint(store);
    const cases: Array<string | undefined> = ['150', '9999', undefined, '203', 'garbage'];
    for (const [i, value] of cases.entries()) {
      if (value === undefined) await store.setState(tenant, EVIDENCE_HEAD_KEY, '');
      else await store.setState(tenant, EVIDENCE_HEAD_KEY, value);
      const r = await appendEvidence(store, draft(tenant, 201 + i), { hint });
      expect(r.sequence).toBe(201 + i);
      expect(await store.getState(tenant, EVIDENCE_HEAD_KEY)).toBe(String(201 + i));
    }
    expect(store.lists).toBe(0);
    const v = await verifyEvidence(store, tenant);
    expect(v).toMatchObject({ ok: true, records: 205, issues: [], head: { sequence: 205 } });
  });

  it('a retried append of a scan already among the newest records returns it and adds nothing', async () => {
    const store = new MemoryStore();
    await realChain(store, 'idem', 5);
    const again = await appendEvidence(store, draft('idem', 4));
    expect(again.sequence).toBe(4);
    expect((await store.listEvidence('idem')).length).toBe(5);
  });

  it('twelve appenders at once (each with its own, soon stale, hint): sequences 51…62 once each, one chain, no listing', async () => {
    const store = new CountingStore();
    const tenant = 'concurrent';
    await realChain(store, tenant, 50);
    let refused = 0;
    const create = store.createEvidence.bind(store);
    store.createEvidence = async (t, name, content) => {
      const ok = await create(t, name, content);
      if (!ok) refused++;
      return ok;
    };
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => appendEvidence(store, draft(tenant, 51 + i), { hint: fixedHint(50) })));
    expect(results.map((r) => r.sequence).sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => 51 + i));
    // They raced: the create-only write refused the duplicates, and the losers searched on.
    expect(refused).toBeGreaterThan(0);
    expect(store.lists).toBe(0);
    const v = await verifyEvidence(store, tenant);
    expect(v).toMatchObject({ ok: true, records: 62, issues: [] });
    expect(new Set(results.map((r) => r.scanId)).size).toBe(12);
  });

  it('a deleted record (no immutability policy) is still caught: an unhinted append may fill the gap, and verify reports it', async () => {
    const store = new MemoryStore();
    const tenant = 'gap';
    await realChain(store, tenant, 8);
    store.tamperEvidence(tenant, evidenceName(4), undefined);
    // With the hint the append lands after the true head…
    const hinted = await appendEvidence(store, draft(tenant, 9), { hint: fixedHint(8) });
    expect(hinted.sequence).toBe(9);
    // …without one the search may stop at the gap (1, 2, 4 absent, 3): the new record takes 4.
    const unhinted = await appendEvidence(store, draft(tenant, 10));
    expect(unhinted.sequence).toBe(4);
    const v = await verifyEvidence(store, tenant);
    expect(v.ok).toBe(false);
    // Record 5 does not link to the new record 4.
    expect(v.issues).toEqual([expect.objectContaining({ kind: 'reordered', sequence: 5 })]);
  });
});

describe('verify --from reads little before the date (MemoryStore, 2 000 records 15 minutes apart)', () => {
  /** A MemoryStore that counts reads. */
  class ReadCounting extends MemoryStore {
    reads = 0;
    override async getEvidence(tenantId: string, name: string): Promise<string | undefined> {
      this.reads++;
      return super.getEvidence(tenantId, name);
    }
  }
  const N = 2000;
  let store: ReadCounting;
  const tenant = 'from';
  beforeAll(async () => {
    store = new ReadCounting();
    const hint = memoryHeadHint();
    // Appended one minute after each scan started, by the scan's own clock.
    for (let i = 1; i <= N; i++) await appendEvidence(store, draft(tenant, i), { hint, now: () => new Date(Date.parse(draft(tenant, i).startedAt) + 60_000) });
  });

  it('from the start of record 1 900: ~log2(n) reads to find where to read, a day of margin, then the rest', async () => {
    store.reads = 0;
    const v = await verifyEvidence(store, tenant, { from: new Date(draft(tenant, 1900).startedAt) });
    expect(v).toMatchObject({ ok: true, records: 101, anchor: { sequence: 1900 }, head: { sequence: N } });
    // A day of 15-minute records (96) before the date is read as margin, nothing earlier.
    expect(v.skipped).toBe(1900 - 1 - 96);
    expect(store.reads).toBeLessThanOrEqual(101 + 96 + log2(N));
    // Without --from every record is read.
    store.reads = 0;
    expect((await verifyEvidence(store, tenant)).records).toBe(N);
    expect(store.reads).toBe(N);
  });

  it('what follows the anchor is still checked; a record before the margin is neither read nor reported', async () => {
    const other = new MemoryStore();
    const t = 'from-tamper';
    const hint = memoryHeadHint();
    for (let i = 1; i <= 400; i++) await appendEvidence(other, draft(t, i), { hint, now: () => new Date(Date.parse(draft(t, i).startedAt) + 60_000) });
    const from = new Date(draft(t, 300).startedAt);
    const alter = async (seq: number) => {
      const r = JSON.parse((await other.getEvidence(t, evidenceName(seq))) ?? '{}') as EvidenceRecord;
      other.tamperEvidence(t, evidenceName(seq), JSON.stringify({ ...r, scanId: 'forged' }));
    };
    await alter(50);
    expect((await verifyEvidence(other, t, { from })).ok).toBe(true);
    await alter(350);
    const v = await verifyEvidence(other, t, { from });
    expect(v.issues).toEqual([expect.objectContaining({ kind: 'altered', sequence: 350 })]);
    // Not a record at all, where the binary search probes: it counts as "not before", so more is read, and the result is the same.
    other.tamperEvidence(t, evidenceName(200), 'garbage');
    const w = await verifyEvidence(other, t, { from });
    expect(w).toMatchObject({ anchor: { sequence: 300 }, records: 101 });
    expect(w.skipped).toBeLessThan(300 - 96);
    expect(w.issues).toEqual([expect.objectContaining({ kind: 'altered', sequence: 350 })]);
  });
});

describe('the pipeline keeps the hint in the state store (simulator seed 600)', () => {
  it('three scans: records 1–3, hint 3, no listing of the evidence names', async () => {
    await withSim(600, async (t, demo) => {
      const store = new CountingStore();
      const policy = validatePolicy(demo.policy);
      const tenantId = demo.data.tenantId;
      for (let i = 0; i < 3; i++) await runScan({ graph: t.graph(), policy, tenantId, store, areas: ['accounts'] });
      expect(await store.getState(tenantId, EVIDENCE_HEAD_KEY)).toBe('3');
      expect(store.lists).toBe(0);
      // The first scan searched an empty chain (1 check), each later one checked its hint (2).
      expect(store.exists).toBe(1 + 2 + 2);
      expect(await verifyEvidence(store, tenantId)).toMatchObject({ ok: true, records: 3 });
    });
  }, 120_000);
});

describe('on Azurite: HEAD requests against a 300-record chain', () => {
  it('an unhinted append costs ≤ 2·log2(n)+2 existence checks and no listing; then the hinted one costs 2', async () => {
    const cs = process.env.AZURE_STORAGE_CONNECTION_STRING;
    if (!cs) throw new Error('the jest global setup starts Azurite and sets AZURE_STORAGE_CONNECTION_STRING');
    const store = await Store.connect(cs);
    const tenant = randomUUID();
    // Write 300 linked records directly (the append path is what is measured, not the set-up).
    let prevHash = GENESIS_HASH;
    const records: EvidenceRecord[] = [];
    for (let s = 1; s <= 300; s++) {
      const unsealed = { ...draft(tenant, s), sequence: s, appendedAt: new Date().toISOString(), prevHash };
      const rec = { ...unsealed, hash: recordHash(unsealed) };
      records.push(rec);
      prevHash = rec.hash;
    }
    for (let i = 0; i < records.length; i += 25) {
      await Promise.all(records.slice(i, i + 25).map((r) => store.createEvidence(tenant, evidenceName(r.sequence), JSON.stringify(r))));
    }
    const counts = { exists: 0, list: 0 };
    const port: EvidencePort = {
      listEvidence: async (t) => {
        counts.list++;
        return store.listEvidence(t);
      },
      getEvidence: (t, n) => store.getEvidence(t, n),
      createEvidence: (t, n, c) => store.createEvidence(t, n, c),
      evidenceExists: async (t, n) => {
        counts.exists++;
        return store.evidenceExists(t, n);
      },
    };
    const hint = memoryHeadHint();
    const r = await appendEvidence(port, draft(tenant, 301), { hint });
    expect(r).toMatchObject({ sequence: 301, prevHash: records[299]?.hash });
    expect(counts).toEqual({ exists: expect.any(Number), list: 0 });
    expect(counts.exists).toBeLessThanOrEqual(2 * log2(300) + 2);
    counts.exists = 0;
    expect((await appendEvidence(port, draft(tenant, 302), { hint })).sequence).toBe(302);
    expect(counts.exists).toBe(2);
    expect(await store.evidenceExists(tenant, evidenceName(303))).toBe(false);
    expect(await verifyEvidence(store, tenant)).toMatchObject({ ok: true, records: 302 });
  }, 60_000);
});
