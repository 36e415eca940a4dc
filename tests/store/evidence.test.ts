/**
 * The evidence trail (src/store/evidence.ts, standard 5-3-2): scans append a hash chain; verify
 * passes on it, and catches an altered, a deleted, a reordered (by name, and re-numbered and
 * re-hashed) and a forged record, each by its kind; two writers appending at once leave one valid
 * chain; a crash between the evidence and the scan record is reported. Azurite (the jest global
 * setup) for the blob store, the attacker writing to the container directly as anyone with the
 * account's keys could; the simulator (seed 560) for real scans.
 */
import { randomUUID } from 'node:crypto';
import { BlobServiceClient } from '@azure/storage-blob';
import { defaultPolicy, validatePolicy } from '../../src/config/policy';
import { buildDigestCard } from '../../src/digest/card';
import { buildDigest } from '../../src/digest/run';
import { runScan } from '../../src/pipeline';
import {
  appendEvidence,
  canonicalJson,
  canonicalSha256,
  evidenceName,
  GENESIS_HASH,
  monthHead,
  recordHash,
  sha256,
  verifyEvidence,
  type EvidenceDraft,
  type EvidenceRecord,
} from '../../src/store/evidence';
import { MemoryStore } from '../../src/store/memory';
import { Store, type ScanRecord } from '../../src/store/store';
import { withSim } from '../support/sim';

function connectionString(): string {
  const cs = process.env.AZURE_STORAGE_CONNECTION_STRING;
  if (!cs) throw new Error('the jest global setup starts Azurite and sets AZURE_STORAGE_CONNECTION_STRING');
  return cs;
}

/** The evidence container as an attacker with the account's keys sees it. */
const container = () => BlobServiceClient.fromConnectionString(connectionString()).getContainerClient('evidence');
const readBlob = async (tenant: string, seq: number): Promise<EvidenceRecord> =>
  JSON.parse((await container().getBlockBlobClient(`${tenant}/${evidenceName(seq)}`).downloadToBuffer()).toString('utf8')) as EvidenceRecord;
const writeBlob = async (tenant: string, name: string, record: unknown): Promise<void> => {
  const text = JSON.stringify(record, null, 2);
  await container().getBlockBlobClient(`${tenant}/${name}`).upload(text, Buffer.byteLength(text));
};
const deleteBlob = (tenant: string, seq: number) => container().getBlockBlobClient(`${tenant}/${evidenceName(seq)}`).delete();

function draft(tenantId: string, n: number): EvidenceDraft {
  const startedAt = new Date(Date.UTC(2026, 10, 1 + n, 18)).toISOString();
  return {
    version: 1,
    tenantId,
    scanId: `scan-${n}`,
    startedAt,
    finishedAt: new Date(Date.parse(startedAt) + 60_000).toISOString(),
    areas: ['accounts'],
    coverage: { accounts: { status: 'complete', items: 10 + n } },
    findings: [{ id: `f${n}`, ruleId: 'ACCT-01', kind: 'state', severity: 'high', status: 'open', area: 'accounts', subject: { kind: 'user', id: `u${n}` }, firstSeen: startedAt, lastSeen: startedAt }],
    slices: { users: { status: 'complete', items: 10 + n, sha256: 'a'.repeat(64) } },
  };
}

function scanRecordOf(d: EvidenceDraft): ScanRecord {
  return { tenantId: d.tenantId, scanId: d.scanId, startedAt: d.startedAt, finishedAt: d.finishedAt, areas: d.areas, coverage: d.coverage, counts: { critical: 0, high: 1, medium: 0, low: 0 }, excepted: 0, exitCode: 0 };
}

/** A tenant with `n` scans recorded as the pipeline records them: evidence, then the scan record. */
async function chain(store: Store, n: number): Promise<string> {
  const tenant = randomUUID();
  for (let i = 1; i <= n; i++) {
    await appendEvidence(store, draft(tenant, i));
    await store.saveScan(scanRecordOf(draft(tenant, i)));
  }
  return tenant;
}

const verify = async (store: Store, tenant: string, from?: Date) => verifyEvidence(store, tenant, { scans: await store.listScans(tenant, 1000), ...(from ? { from } : {}) });
const kinds = (v: { issues: Array<{ kind: string; sequence?: number }> }) => v.issues.map((i) => `${i.kind}@${i.sequence ?? '-'}`);

describe('canonical JSON', () => {
  it('sorts keys at every depth, drops undefined members, writes no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 'é', y: null }], c: undefined } })).toBe('{"a":{"d":[1,{"y":null,"z":"é"}]},"b":1}');
    expect(canonicalJson({ a: 1, b: 2 })).toBe(canonicalJson({ b: 2, a: 1 }));
  });

  it('the streamed slice hash is the hash of the canonical JSON, byte for byte (chunk boundaries included)', () => {
    const odd = [null, true, 0, -1.5, 'a"b\\c', '消防署', '😀', '\ud800', new Date(0), [undefined, [], {}], { x: undefined, f: () => 1 }, undefined];
    for (const v of [...odd, odd, { b: odd, a: { z: odd } }]) expect(canonicalSha256(v)).toBe(sha256(canonicalJson(v)));
    // Larger than one 64 K chunk, with multi-byte characters around the boundaries.
    const users = Array.from({ length: 5000 }, (_, i) => ({ id: `u${i}`, displayName: `斎藤　隆${'😀'.repeat(i % 7)}`, mail: i % 3 ? null : `x${i}@example.lg.jp`, accountEnabled: i % 2 === 0, extra: undefined }));
    expect(canonicalJson(users).length).toBeGreaterThan(200_000);
    expect(canonicalSha256(users)).toBe(sha256(canonicalJson(users)));
    // Records whose keys change from one to the next (same count, other names; other order;
    // nested objects of other shapes): the key order worked out for one record is not reused for another.
    const mixed = [{ b: 1, a: 2 }, { a: 3, c: 4 }, { c: 5, a: 6 }, { a: 7, b: { z: 1, y: [{ q: 1 }, { p: 2, q: undefined }] } }, { b: 8, a: 9, d: undefined }, { d: 1, a: 2 }, {}, { a: { b: { c: 1 } }, b: { a: 1 } }];
    expect(canonicalSha256(mixed)).toBe(sha256(canonicalJson(mixed)));
    expect(canonicalSha256({ y: mixed, x: [mixed, { x: 1 }] })).toBe(sha256(canonicalJson({ y: mixed, x: [mixed, { x: 1 }] })));
  });
});

describe('scans append a chain (pipeline, simulator seed 560, Azurite)', () => {
  it('three scans give records 1–3, linked by hash, one per scan record; verify passes', async () => {
    await withSim(560, async (t, demo) => {
      const store = await Store.connect(connectionString());
      const policy = validatePolicy(demo.policy);
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push((await runScan({ graph: t.graph(), policy, tenantId: demo.data.tenantId, store, areas: ['accounts'] })).scanId);
      const records = await Promise.all([1, 2, 3].map((s) => readBlob(demo.data.tenantId, s)));
      expect(records.map((r) => r.scanId)).toEqual(ids);
      expect(records.map((r) => r.sequence)).toEqual([1, 2, 3]);
      expect(records[0]?.prevHash).toBe(GENESIS_HASH);
      expect(records[1]?.prevHash).toBe(records[0]?.hash);
      expect(records[2]?.prevHash).toBe(records[1]?.hash);
      for (const r of records) expect(recordHash(r)).toBe(r.hash);
      // What an auditor needs: coverage, the findings (ids, rule, severity, status), each slice's hash.
      const first = records[0] as EvidenceRecord;
      expect(first.coverage.accounts?.status).toBe('complete');
      expect(first.findings.length).toBeGreaterThan(0);
      expect(first.findings[0]).toEqual(expect.objectContaining({ id: expect.any(String), ruleId: expect.stringMatching(/^ACCT-/), severity: expect.any(String), status: expect.any(String) }));
      expect(first.slices.users?.sha256).toMatch(/^[0-9a-f]{64}$/);
      // The same tenant read three times without change: the same slice hashes.
      expect(records[2]?.slices.users?.sha256).toBe(first.slices.users?.sha256);
      const v = await verify(store, demo.data.tenantId);
      expect(v).toMatchObject({ ok: true, records: 3, issues: [], head: { sequence: 3, hash: records[2]?.hash } });
    });
  }, 120_000);

  it('a crash after the evidence and before the scan record is reported as no-scan-record; appending is idempotent per scan id', async () => {
    await withSim(561, async (t, demo) => {
      let crash = false;
      const store = new MemoryStore({ onWrite: (w) => {
        if (crash && w.op === 'saveScan') throw new Error('host stopped');
      } });
      const policy = validatePolicy(demo.policy);
      const tenantId = demo.data.tenantId;
      await runScan({ graph: t.graph(), policy, tenantId, store, areas: ['accounts'] });
      crash = true;
      await expect(runScan({ graph: t.graph(), policy, tenantId, store, areas: ['accounts'] })).rejects.toThrow('host stopped');
      const names = await store.listEvidence(tenantId);
      expect(names).toEqual([evidenceName(1), evidenceName(2)]);
      const v = await verifyEvidence(store, tenantId, { scans: await store.listScans(tenantId, 100) });
      expect(kinds(v)).toEqual(['no-scan-record@2']);
      // The same scan's draft again (a retried append): the stored record comes back, nothing added.
      const second = JSON.parse((await store.getEvidence(tenantId, evidenceName(2))) ?? '') as EvidenceRecord;
      const again = await appendEvidence(store, { ...second, findings: second.findings });
      expect(again.hash).toBe(second.hash);
      expect(await store.listEvidence(tenantId)).toHaveLength(2);
    });
  }, 120_000);
});

describe('verify catches tampering (Azurite, the attacker writing to the container)', () => {
  let store: Store;
  beforeAll(async () => {
    store = await Store.connect(connectionString());
  });

  it('an intact chain passes; its month head is the last record of the month', async () => {
    const tenant = await chain(store, 4);
    const v = await verify(store, tenant);
    expect(v).toMatchObject({ ok: true, records: 4, issues: [] });
    const head = await monthHead(store, tenant, { start: '2026-11-01T00:00:00.000Z', end: '2026-11-04T00:00:00.000Z' });
    expect(head).toEqual({ sequence: 2, hash: (await readBlob(tenant, 2)).hash, scanId: 'scan-2', startedAt: draft(tenant, 2).startedAt });
    expect(await monthHead(store, tenant, { start: '2026-10-01T00:00:00.000Z', end: '2026-11-01T00:00:00.000Z' })).toBeUndefined();
  });

  it('alteration: a finding turned resolved, hash left as it was → altered', async () => {
    const tenant = await chain(store, 4);
    const r = await readBlob(tenant, 2);
    (r.findings[0] as { status: string }).status = 'resolved';
    await writeBlob(tenant, evidenceName(2), r);
    const v = await verify(store, tenant);
    expect(v.ok).toBe(false);
    expect(kinds(v)).toEqual(['altered@2']);
  });

  it('alteration re-hashed: the record is self-consistent, but the next record no longer links to it → reordered', async () => {
    const tenant = await chain(store, 4);
    const r = await readBlob(tenant, 2);
    (r.findings[0] as { severity: string }).severity = 'low';
    await writeBlob(tenant, evidenceName(2), { ...r, hash: recordHash(r) });
    expect(kinds(await verify(store, tenant))).toEqual(['reordered@3']);
  });

  it('deletion: record 2 removed → gap at 2; the head removed → its scan record has no evidence', async () => {
    const tenant = await chain(store, 4);
    await deleteBlob(tenant, 2);
    const v = await verify(store, tenant);
    // The chain shows the gap; the scan records show whose record it was.
    expect(v.issues).toEqual([expect.objectContaining({ kind: 'gap', sequence: 2, count: 1 }), expect.objectContaining({ kind: 'no-evidence', scanId: 'scan-2' })]);
    const other = await chain(store, 3);
    await deleteBlob(other, 3);
    const w = await verify(store, other);
    expect(w.issues).toEqual([expect.objectContaining({ kind: 'no-evidence', scanId: 'scan-3' })]);
  });

  it('reordering: the contents of records 2 and 3 swapped → each holds the other sequence', async () => {
    const tenant = await chain(store, 4);
    const [two, three] = [await readBlob(tenant, 2), await readBlob(tenant, 3)];
    await writeBlob(tenant, evidenceName(2), three);
    await writeBlob(tenant, evidenceName(3), two);
    // …and record 4 no longer links to what now stands at 3.
    expect(kinds(await verify(store, tenant))).toEqual(['reordered@2', 'reordered@3', 'reordered@4']);
  });

  it('reordering re-numbered and re-hashed: the links point elsewhere → reordered', async () => {
    const tenant = await chain(store, 4);
    const [two, three] = [await readBlob(tenant, 2), await readBlob(tenant, 3)];
    const renumber = (r: EvidenceRecord, sequence: number) => {
      const out = { ...r, sequence };
      return { ...out, hash: recordHash(out) };
    };
    await writeBlob(tenant, evidenceName(2), renumber(three, 2));
    await writeBlob(tenant, evidenceName(3), renumber(two, 3));
    const v = await verify(store, tenant);
    expect(v.ok).toBe(false);
    expect(v.issues.map((i) => i.kind)).toEqual(['reordered', 'reordered', 'reordered']);
    expect(v.issues.map((i) => i.sequence)).toEqual([2, 3, 4]);
  });

  it('a forged record appended with a valid hash and link → its scan has no scan record; a foreign blob → foreign', async () => {
    const tenant = await chain(store, 3);
    const head = await readBlob(tenant, 3);
    const forged = { ...draft(tenant, 9), sequence: 4, appendedAt: new Date().toISOString(), prevHash: head.hash };
    await writeBlob(tenant, evidenceName(4), { ...forged, hash: recordHash(forged) });
    await writeBlob(tenant, 'notes.json', { hello: 1 });
    expect(kinds(await verify(store, tenant))).toEqual(['foreign@-', 'no-scan-record@4']);
  });

  it('--from: starts at the first record on/after the date, trusting its previous hash (a gap before it is not seen)', async () => {
    const tenant = await chain(store, 4);
    await deleteBlob(tenant, 1);
    expect(kinds(await verify(store, tenant))).toEqual(['gap@1']);
    const v = await verify(store, tenant, new Date(draft(tenant, 2).startedAt));
    expect(v).toMatchObject({ ok: true, records: 3, anchor: { sequence: 2, prevHash: expect.stringMatching(/^[0-9a-f]{64}$/) } });
    // …but what follows the anchor is still checked.
    await deleteBlob(tenant, 3);
    expect(kinds(await verify(store, tenant, new Date(draft(tenant, 2).startedAt)))).toEqual(['gap@3', 'no-evidence@-']);
  });
});

describe('two writers', () => {
  it('appending at once through two Store connections leaves one chain 1…20 with no gap or fork', async () => {
    const [a, b] = await Promise.all([Store.connect(connectionString()), Store.connect(connectionString())]);
    const tenant = randomUUID();
    const drafts = Array.from({ length: 20 }, (_, i) => draft(tenant, i + 1));
    await Promise.all([
      (async () => {
        for (const d of drafts.slice(0, 10)) await appendEvidence(a, d);
      })(),
      (async () => {
        for (const d of drafts.slice(10)) await appendEvidence(b, d);
      })(),
    ]);
    for (const d of drafts) await a.saveScan(scanRecordOf(d));
    const names = await a.listEvidence(tenant);
    expect(names).toEqual(Array.from({ length: 20 }, (_, i) => evidenceName(i + 1)));
    const v = await verifyEvidence(a, tenant, { scans: await a.listScans(tenant, 100) });
    expect(v).toMatchObject({ ok: true, records: 20, issues: [] });
    const scanIds = await Promise.all(names.map(async (n) => (JSON.parse((await a.getEvidence(tenant, n)) ?? '{}') as EvidenceRecord).scanId));
    expect(new Set(scanIds).size).toBe(20);
  }, 60_000);

  it('a create on a taken name is refused (If-None-Match: *) and leaves the record as it was', async () => {
    const store = await Store.connect(connectionString());
    const tenant = randomUUID();
    expect(await store.createEvidence(tenant, evidenceName(1), 'first')).toBe(true);
    expect(await store.createEvidence(tenant, evidenceName(1), 'second')).toBe(false);
    expect(await store.getEvidence(tenant, evidenceName(1))).toBe('first');
  });

  it('the memory store is create-once too: two appends at once get sequences 1 and 2', async () => {
    const store = new MemoryStore();
    const tenant = 't';
    const [x, y] = await Promise.all([appendEvidence(store, draft(tenant, 1)), appendEvidence(store, draft(tenant, 2))]);
    expect([x.sequence, y.sequence].sort()).toEqual([1, 2]);
    expect((await verifyEvidence(store, tenant)).ok).toBe(true);
  });
});

describe('the CISO digest', () => {
  it("reads the month's chain head from the store: the last record that started in the month (organisation time zone)", async () => {
    const store = new MemoryStore();
    const tenant = 'digest-tenant';
    // Scans on 2026-11-02 … 2026-12-01 18:00 UTC; 2026-11-30 18:00 UTC is 2026-12-01 03:00 JST.
    for (const n of [1, 27, 28, 29, 30]) await appendEvidence(store, draft(tenant, n));
    const built = await buildDigest({ store, policy: defaultPolicy(), tenantId: tenant, month: '2026-11', now: new Date('2026-12-05T00:00:00Z'), lang: 'ja' });
    const third = JSON.parse((await store.getEvidence(tenant, evidenceName(3))) ?? '{}') as EvidenceRecord;
    expect(built.model.evidenceHead).toEqual({ sequence: 3, hash: third.hash, scanId: 'scan-28', startedAt: draft(tenant, 28).startedAt });
    expect(built.html).toContain(third.hash);
    // …and the Teams card announcing it carries the same head (sequence and short hash).
    expect(JSON.stringify(buildDigestCard({ model: built.model, lang: 'ja' }))).toContain(`連番 3 / SHA-256 ${third.hash.slice(0, 12)}…`);
  });
});
