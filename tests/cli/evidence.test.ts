/**
 * `m365-audit evidence verify` as a user runs it (the built CLI, dist/): exit 0 and a Japanese
 * summary on an intact chain, English with --lang en; exit 1 naming the kind of each problem once
 * a record is altered, deleted or reordered or a forged one is added; exit 1 with a clear message
 * for a bad --from. The chain is written to the jest global setup's Azurite, as scans write it.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import { appendEvidence, evidenceName, recordHash, type EvidenceRecord } from '../../src/store/evidence';
import { Store } from '../../src/store/store';
import { CLI, run, STACK } from '../support/cli';

function connectionString(): string {
  const cs = process.env.AZURE_STORAGE_CONNECTION_STRING;
  if (!cs) throw new Error('the jest global setup starts Azurite and sets AZURE_STORAGE_CONNECTION_STRING');
  return cs;
}

const blob = (tenant: string, seq: number) => BlobServiceClient.fromConnectionString(connectionString()).getContainerClient('evidence').getBlockBlobClient(`${tenant}/${evidenceName(seq)}`);
const get = async (tenant: string, seq: number) => JSON.parse((await blob(tenant, seq).downloadToBuffer()).toString('utf8')) as EvidenceRecord;
const put = async (tenant: string, seq: number, r: unknown) => {
  const text = JSON.stringify(r);
  await blob(tenant, seq).upload(text, Buffer.byteLength(text));
};

/** A tenant with `n` scans recorded (evidence, then the scan record, as the pipeline does). */
async function chain(n: number): Promise<string> {
  const store = await Store.connect(connectionString());
  const tenant = randomUUID();
  for (let i = 1; i <= n; i++) {
    const startedAt = new Date(Date.UTC(2026, 10, i, 18)).toISOString();
    const base = { tenantId: tenant, scanId: `scan-${i}`, startedAt, finishedAt: startedAt, areas: ['accounts' as const], coverage: { accounts: { status: 'complete' as const, items: 5 } } };
    // Appended a minute after the scan started, as the pipeline would (verify --from reads append times).
    await appendEvidence(store, { ...base, version: 1, findings: [], slices: {} }, { now: () => new Date(Date.parse(startedAt) + 60_000) });
    await store.saveScan({ ...base, counts: { critical: 0, high: 0, medium: 0, low: 0 }, excepted: 0, exitCode: 0 });
  }
  return tenant;
}

const verify = (tenant: string, ...args: string[]) =>
  run(['evidence', 'verify', '--tenant-id', tenant, ...args], { cwd: mkdtempSync(join(tmpdir(), 'm365-audit-evidence-')), env: { PATH: process.env.PATH, AZURE_STORAGE_CONNECTION_STRING: connectionString() } });

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` (npm test does it first)`);
});

describe('m365-audit evidence verify', () => {
  it('an intact chain: exit 0, Japanese by default, English with --lang en, JSON with --json', async () => {
    const tenant = await chain(3);
    const head = await get(tenant, 3);
    const ja = await verify(tenant);
    expect(ja.code).toBe(0);
    expect(ja.stdout).toContain(`証跡チェーン（テナント ${tenant}）: 3 件を検証（連番 1–3）`);
    expect(ja.stdout).toContain(`結果: 問題なし。先頭は連番 3、ハッシュ ${head.hash}`);
    const en = await verify(tenant, '--lang', 'en');
    expect(en.code).toBe(0);
    expect(en.stdout).toContain(`result: intact; head is sequence 3, hash ${head.hash}`);
    const json = await verify(tenant, '--json');
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, records: 3, exitCode: 0, head: { sequence: 3, hash: head.hash } });
  }, 60_000);

  it('altered, deleted, reordered and forged records: exit 1, each named by its kind', async () => {
    const tenant = await chain(6);
    const two = await get(tenant, 2);
    await put(tenant, 2, { ...two, coverage: { accounts: { status: 'failed', items: 0 } } });
    await blob(tenant, 4).delete();
    const [five, six] = [await get(tenant, 5), await get(tenant, 6)];
    await put(tenant, 5, six);
    await put(tenant, 6, five);
    const forged = { ...six, sequence: 7, scanId: 'never-ran', prevHash: five.hash };
    await put(tenant, 7, { ...forged, hash: recordHash(forged) });
    const ja = await verify(tenant);
    expect(ja.code).toBe(1);
    expect(ja.stderr).not.toMatch(STACK);
    for (const label of ['[改ざん] 連番 2', '[欠番] 連番 4 の記録がありません', '[順序不正] 連番 5', '[順序不正] 連番 6', '[スキャン記録なし] 連番 7', '[証跡なし] スキャン scan-4']) expect(ja.stdout).toContain(label);
    expect(ja.stdout).toMatch(/結果: 問題 \d+ 件/);
    const en = await verify(tenant, '--lang', 'en');
    expect(en.code).toBe(1);
    expect(en.stdout).toContain('[altered]');
    expect(en.stdout).toContain('[gap] record 4 is missing');
    expect(en.stdout).toContain('[reordered]');
    expect(en.stdout).toContain('[no scan record]');
    const json = JSON.parse((await verify(tenant, '--json')).stdout) as { ok: boolean; issues: Array<{ kind: string }> };
    expect(json.ok).toBe(false);
    expect(new Set(json.issues.map((i) => i.kind))).toEqual(new Set(['altered', 'gap', 'reordered', 'no-scan-record', 'no-evidence']));
  }, 60_000);

  it('--from: starts at the first record on/after the date and says it trusts its anchor', async () => {
    const tenant = await chain(4);
    await blob(tenant, 1).delete();
    expect((await verify(tenant)).code).toBe(1);
    const r = await verify(tenant, '--from', '2026-11-02', '--lang', 'en');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('anchor: the previous-record hash of the first record on/after 2026-11-02 (sequence 2) is trusted');
    expect(r.stdout).not.toContain('were not read');
    // 2026-11-05 (JST) is 2026-11-04 15:00 UTC: record 2 (appended 2026-11-02 18:01 UTC) is more
    // than a day before it and is not read; record 3 is read as margin; record 4 is the anchor.
    const later = await verify(tenant, '--from', '2026-11-05', '--json');
    expect(later.code).toBe(0);
    expect(JSON.parse(later.stdout)).toMatchObject({ ok: true, skipped: 1, records: 1, anchor: { sequence: 4 } });
    const ja = await verify(tenant, '--from', '2026-11-05');
    expect(ja.stdout).toContain('2026-11-05 の 1 日以上前に追記された 1 件は読み込んでいません');
  }, 60_000);

  it('a bad --from: exit 1 naming the option, no stack trace', async () => {
    const r = await verify(randomUUID(), '--from', '2026-13-45');
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(STACK);
    expect(r.stderr).toContain('--from is invalid');
    expect(r.stderr).toContain('from: "2026-13-45" is not a date written YYYY-MM-DD');
  }, 60_000);
});
