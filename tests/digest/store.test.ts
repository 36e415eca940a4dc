/**
 * The digest's storage (DigestPort) on both stores: `digests/<tenant>/YYYY-MM.html`, replaced
 * whole, per tenant; and M365_AUDIT_MAIL_SENDER, validated like every setting.
 */
import { randomUUID } from 'node:crypto';
import { loadSettings } from '../../src/config/settings';
import { MemoryStore } from '../../src/store/memory';
import type { AuditStore } from '../../src/store/ports';
import { Store } from '../../src/store/store';

const stores: Array<[string, () => Promise<AuditStore>]> = [
  ['Azure store (Azurite)', () => Store.connect(process.env.AZURE_STORAGE_CONNECTION_STRING ?? '')],
  ['MemoryStore', async () => new MemoryStore()],
];

describe.each(stores)('%s: putDigest / getDigest', (_name, open) => {
  it('keeps one document per tenant and month, replaced whole', async () => {
    const store = await open();
    const tenant = randomUUID();
    expect(await store.getDigest(tenant, '2026-11')).toBeUndefined();
    const where = await store.putDigest(tenant, '2026-11', '<p>一回目</p>');
    expect(where).toMatch(new RegExp(`digests/${tenant}/2026-11\\.html$`));
    await store.putDigest(tenant, '2026-11', '<p>二回目</p>');
    await store.putDigest(tenant, '2026-10', '<p>十月</p>');
    await store.putDigest(randomUUID(), '2026-11', '<p>他</p>');
    expect(await store.getDigest(tenant, '2026-11')).toBe('<p>二回目</p>');
    expect(await store.getDigest(tenant, '2026-10')).toBe('<p>十月</p>');
  });
});

describe('M365_AUDIT_MAIL_SENDER', () => {
  it('is the sender mailbox, or unset', () => {
    expect(loadSettings({ M365_AUDIT_MAIL_SENDER: 'm365-audit@example.lg.jp' }).mailSender).toBe('m365-audit@example.lg.jp');
    expect(loadSettings({}).mailSender).toBeUndefined();
  });
  it('an address that is not one is named, never echoed', () => {
    expect(() => loadSettings({ M365_AUDIT_MAIL_SENDER: 'not-an-address' })).toThrow(/M365_AUDIT_MAIL_SENDER: must be the address \(UPN\) of the mailbox the digest is sent from/);
    try {
      loadSettings({ M365_AUDIT_MAIL_SENDER: 'not-an-address' });
    } catch (err) {
      expect((err as Error).message).not.toContain('not-an-address');
    }
  });
});
