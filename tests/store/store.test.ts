import { randomUUID } from 'node:crypto';
import { Store } from '../../src/store/store';

function connectionString(): string {
  const cs = process.env.AZURE_STORAGE_CONNECTION_STRING;
  if (!cs) throw new Error('the jest global setup starts Azurite and sets AZURE_STORAGE_CONNECTION_STRING');
  return cs;
}

describe('Store against Azurite', () => {
  it('records scans newest first, per tenant', async () => {
    const store = await Store.connect(connectionString());
    const tenant = randomUUID();
    const base = { tenantId: tenant, areas: ['accounts' as const], coverage: { accounts: { status: 'complete' as const, items: 3 } }, counts: { critical: 0, high: 1, medium: 2, low: 0 }, excepted: 1, exitCode: 0 as const };
    await store.saveScan({ ...base, scanId: 'older', startedAt: '2026-11-01T00:00:00.000Z', finishedAt: '2026-11-01T00:01:00.000Z' });
    await store.saveScan({ ...base, scanId: 'newer', startedAt: '2026-11-02T00:00:00.000Z', finishedAt: '2026-11-02T00:01:00.000Z', exitCode: 0, slices: { users: 3, sites: 2 } });
    await store.saveScan({ ...base, tenantId: randomUUID(), scanId: 'other-tenant', startedAt: '2026-11-03T00:00:00.000Z', finishedAt: '2026-11-03T00:01:00.000Z' });
    const scans = await store.listScans(tenant);
    expect(scans.map((s) => s.scanId)).toEqual(['newer', 'older']);
    expect(scans[0]).toMatchObject({ coverage: { accounts: { status: 'complete', items: 3 } }, counts: { high: 1, medium: 2 }, excepted: 1 });
    // The plausible slice counts (the next scans' baselines) come back; older records have none.
    expect(scans[0]?.slices).toEqual({ users: 3, sites: 2 });
    expect(scans[1]?.slices).toBeUndefined();
  });

  it('keeps state values under any key and keeps report copies', async () => {
    const store = await Store.connect(connectionString());
    const tenant = randomUUID();
    expect(await store.getState(tenant, 'signins/watermark')).toBeUndefined();
    await store.setState(tenant, 'signins/watermark', '2026-11-27T00:00:00Z');
    await store.setState(tenant, 'delta/b!abc?#/', 'https://graph.microsoft.com/v1.0/drives/b!abc/root/delta?token=x');
    expect(await store.getState(tenant, 'signins/watermark')).toBe('2026-11-27T00:00:00Z');
    expect(await store.getState(tenant, 'delta/b!abc?#/')).toMatch(/token=x$/);
    await store.putReport(tenant, 'scan-1', 'report.html', '<p>日本語</p>', 'text/html; charset=utf-8');
    expect((await store.getReport(tenant, 'scan-1', 'report.html')).toString('utf8')).toBe('<p>日本語</p>');
  });

  it('fails with a clear message when the storage cannot be reached', async () => {
    const bad = 'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:1/devstoreaccount1;TableEndpoint=http://127.0.0.1:1/devstoreaccount1;';
    await expect(Store.connect(bad)).rejects.toThrow(/cannot open Azure Storage .*AZURE_STORAGE_CONNECTION_STRING/);
  }, 120_000);
});
