/**
 * The digest's Teams announcement: once per month and sink, against a local Workflows-like
 * webhook. A rerun posts nothing; a failed post is posted by the next run; a run stopped between
 * the post and its record posts again with the same alert id (a repeated announcement is
 * harmless, a missing one is not). The card links to M365_AUDIT_DIGEST_URL with the month filled in.
 */
import { validatePolicy } from '../../src/config/policy';
import { announceDigest, announceKey } from '../../src/digest/announce';
import { runDigestCommand } from '../../src/digest/command';
import { TeamsWebhookSink } from '../../src/alerts/teams';
import type { TeamsMessage } from '../../src/alerts/cards';
import { MemoryStore } from '../../src/store/memory';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hook } from '../support/teams-hook';

const TENANT = 'tenant-digest-card';
const card = (alertId: string): TeamsMessage => ({
  type: 'message',
  attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: { type: 'AdaptiveCard', $schema: 'http://adaptivecards.io/schemas/adaptive-card.json', version: '1.5', body: [{ type: 'TextBlock', text: alertId }] } }],
});

describe('the digest announcement', () => {
  let hook: Hook;
  beforeEach(async () => {
    hook = new Hook();
    await hook.start();
  });
  afterEach(() => hook.close());
  const sink = () => new TeamsWebhookSink({ url: hook.url, minIntervalMs: 0, sleep: async () => undefined, maxAttempts: 1 });

  it('is posted once per month; a failure is posted by the next run; an unknown outcome is posted again with the same id', async () => {
    const store = new MemoryStore();
    const now = new Date('2026-12-01T00:00:00Z');
    hook.replies = [{ status: 500 }];
    const failed = await announceDigest({ sink: sink(), store, tenantId: TENANT, month: '2026-11', message: card, now });
    expect(failed.status).toBe('failed');
    const sent = await announceDigest({ sink: sink(), store, tenantId: TENANT, month: '2026-11', message: card, now });
    expect(sent).toMatchObject({ status: 'sent', resent: false });
    const again = await announceDigest({ sink: sink(), store, tenantId: TENANT, month: '2026-11', message: card, now });
    expect(again.status).toBe('already-sent');
    expect(hook.received).toHaveLength(1);
    // Another month is its own announcement.
    await announceDigest({ sink: sink(), store, tenantId: TENANT, month: '2026-10', message: card, now });
    expect(hook.received).toHaveLength(2);
    // Stopped between the post and its record: the record still says `sending`.
    await store.setState(TENANT, announceKey('teams', '2026-09'), JSON.stringify({ alertId: 'first-id', state: 'sending', at: now.toISOString() }));
    const resent = await announceDigest({ sink: sink(), store, tenantId: TENANT, month: '2026-09', message: card, now });
    expect(resent).toEqual({ status: 'sent', alertId: 'first-id', resent: true });
    expect(hook.received[2]?.alertId).toBe('first-id');
  });

  it('runDigestCommand posts the card with the digest link for the month, and not on a rerun', async () => {
    const store = new MemoryStore();
    const policy = validatePolicy({ organization: { name: '西置賜行政組合', systemAdministrators: ['sysadmin@example.lg.jp'] } });
    const outDir = mkdtempSync(join(tmpdir(), 'm365-audit-digest-card-'));
    const opts = { store, policy, tenantId: TENANT, month: '2026-11', now: new Date('2026-12-01T01:00:00Z'), lang: 'ja' as const, outDir, announce: { sink: sink(), url: 'https://contoso.sharepoint.com/sites/audit/digests/{month}.html' } };
    const first = await runDigestCommand(opts);
    expect(first.card?.status).toBe('sent');
    expect(first.lines.join('\n')).toContain('Teams に月次報告の通知を送信しました');
    const text = JSON.stringify(hook.received[0]?.body);
    expect(text).toContain('https://contoso.sharepoint.com/sites/audit/digests/2026-11.html');
    expect(text).toContain('情報セキュリティ月次報告 2026年11月');
    const second = await runDigestCommand(opts);
    expect(second.card?.status).toBe('already-sent');
    expect(hook.requests).toBe(1);
  });
});
