/**
 * The ledger lease names its holder (pid, host, since when: blob metadata of the lock blob), so
 * a run that waits for it can say for whom and how long, and one that gives up says who held it.
 * Against the suite's Azurite (tests/support/global-setup.ts).
 */
import { hostname } from 'node:os';
import { StoreError } from '../../src/errors';
import { Store } from '../../src/store/store';

describe('Store.withLedgerLease', () => {
  it('tells a waiting run who holds the lease and for how long it waits, and names the holder when it gives up', async () => {
    const tenantId = `lease-${process.pid}-${Date.now()}`;
    const holderStore = await Store.connect(process.env.AZURE_STORAGE_CONNECTION_STRING ?? '');
    const waits: string[] = [];
    const waiter = await Store.connect(process.env.AZURE_STORAGE_CONNECTION_STRING ?? '', { onLeaseWait: (m) => waits.push(m) });
    let release = (): void => undefined;
    let acquired = (): void => undefined;
    const isHeld = new Promise<void>((r) => { acquired = r; });
    const holder = holderStore.withLedgerLease(tenantId, () => { acquired(); return new Promise<void>((r) => { release = r; }); });
    await isHeld;
    const who = new RegExp(`m365-audit pid ${process.pid} on host ${hostname().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} since \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z`);
    const attempt = waiter.withLedgerLease(tenantId, async () => 'never', 1500);
    await expect(attempt).rejects.toThrow(StoreError);
    await expect(attempt).rejects.toThrow(new RegExp(`another run is reconciling the ledger of tenant ${tenantId} \\(its lease is held by ${who.source}\\)`));
    // Said once, not every half second.
    expect(waits).toHaveLength(1);
    expect(waits[0]).toMatch(new RegExp(`^waiting for the ledger lease of tenant ${tenantId}, held by ${who.source}; waiting up to [12] s more`));
    release();
    await holder;
    // Once released, the next run gets it at once.
    await expect(waiter.withLedgerLease(tenantId, async () => 'mine')).resolves.toBe('mine');
  });
});
