/**
 * Mailing the digest (src/digest/mail.ts) against the simulator over real HTTPS: the sendMail
 * request (sender, recipient, subject, HTML body), at most one mail per tenant and month across
 * reruns, a refused send retried by the next run, and a run stopped between the call and its
 * outcome not mailing a second time on its own.
 */
import { mailDigest, mailKey, type MailRecord } from '../../src/digest/mail';
import { runDigestCommand } from '../../src/digest/command';
import { MemoryStore } from '../../src/store/memory';
import { withSim } from '../support/sim';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validatePolicy } from '../../src/config/policy';

const MONTH = '2026-11';
const NOW = new Date('2026-12-01T03:00:00Z');
const HTML = '<!DOCTYPE html><html lang="ja"><body><table><tr><td>月次報告</td></tr></table></body></html>';

type Sent = { sender: string; message: { subject?: string; body?: { contentType?: string; content?: string }; toRecipients?: Array<{ emailAddress: { address: string } }> } };

describe('mailDigest against the simulator', () => {
  it('sends one HTML mail to the CISO from the sender mailbox; a rerun does not mail again', async () => {
    await withSim(401, async (t, demo) => {
      const sender = demo.data.users.find((u) => u.userType === 'Member')?.userPrincipalName as string;
      const store = new MemoryStore();
      const graph = t.graph();
      const o = { graph, store, tenantId: demo.data.tenantId, month: MONTH, sender, recipient: 'ciso@example.lg.jp', subject: '【西置賜行政組合】情報セキュリティ月次報告 2026年11月', html: HTML, now: NOW };
      const first = await mailDigest(o);
      expect(first.status).toBe('sent');
      const sent = t.sim.sentMail() as Sent[];
      expect(sent).toHaveLength(1);
      expect(sent[0]?.sender.toLowerCase()).toBe(sender.toLowerCase());
      expect(sent[0]?.message.toRecipients).toEqual([{ emailAddress: { address: 'ciso@example.lg.jp' } }]);
      expect(sent[0]?.message.subject).toBe('【西置賜行政組合】情報セキュリティ月次報告 2026年11月');
      expect(sent[0]?.message.body).toEqual({ contentType: 'HTML', content: HTML });
      const record = JSON.parse((await store.getState(demo.data.tenantId, mailKey(MONTH))) ?? '{}') as MailRecord;
      expect(record).toMatchObject({ state: 'sent', recipient: 'ciso@example.lg.jp', attempts: 1, sentAt: NOW.toISOString() });

      const again = await mailDigest(o);
      expect(again.status).toBe('already-sent');
      expect(t.sim.sentMail()).toHaveLength(1);
      // Asked for, it goes again.
      expect((await mailDigest({ ...o, resend: true })).status).toBe('sent');
      expect(t.sim.sentMail()).toHaveLength(2);
    });
  });

  it('a refused send (403) sends nothing and is sent by the next run', async () => {
    await withSim(402, async (t, demo) => {
      const sender = demo.data.users.find((u) => u.userType === 'Member')?.userPrincipalName as string;
      const store = new MemoryStore();
      const o = { graph: t.graph(), store, tenantId: demo.data.tenantId, month: MONTH, sender, recipient: 'ciso@example.lg.jp', subject: 's', html: HTML, now: NOW };
      t.sim.setFaults([{ endpoint: 'sendMail', status: 403, code: 'ErrorAccessDenied', message: 'Access is denied. Check credentials and try again.', times: 1 }]);
      const refused = await mailDigest(o);
      expect(refused.status).toBe('failed');
      expect(refused.message).toContain('403 (ErrorAccessDenied');
      expect(refused.message).toContain('Exchange RBAC for Applications');
      expect(t.sim.sentMail()).toHaveLength(0);
      const rerun = await mailDigest({ ...o, graph: t.graph() });
      expect(rerun.status).toBe('sent');
      expect(rerun.record.attempts).toBe(2);
      expect(t.sim.sentMail()).toHaveLength(1);
    });
  });

  it('a run stopped after the call, before its outcome was written, does not mail twice on its own', async () => {
    await withSim(403, async (t, demo) => {
      const sender = demo.data.users.find((u) => u.userType === 'Member')?.userPrincipalName as string;
      let writes = 0;
      // The second state write is the outcome: the process "dies" there.
      const crashing = new MemoryStore({
        onWrite: (w) => {
          if (w.op === 'setState' && ++writes === 2) throw new Error('killed');
        },
      });
      const o = { graph: t.graph(), store: crashing, tenantId: demo.data.tenantId, month: MONTH, sender, recipient: 'ciso@example.lg.jp', subject: 's', html: HTML, now: NOW };
      await expect(mailDigest(o)).rejects.toThrow('killed');
      expect(t.sim.sentMail()).toHaveLength(1);
      const pending = JSON.parse((await crashing.getState(demo.data.tenantId, mailKey(MONTH))) ?? '{}') as MailRecord;
      expect(pending.state).toBe('pending');

      const rerun = await mailDigest({ ...o, graph: t.graph() });
      expect(rerun.status).toBe('uncertain');
      expect(rerun.message).toContain(`Check the Sent Items of ${sender}`);
      expect(rerun.message).toContain('--resend');
      expect(t.sim.sentMail()).toHaveLength(1);
    });
  });

  it('a gateway timeout leaves the outcome uncertain (the POST may have been carried out) and is not retried', async () => {
    await withSim(404, async (t, demo) => {
      const sender = demo.data.users.find((u) => u.userType === 'Member')?.userPrincipalName as string;
      const store = new MemoryStore();
      t.sim.setFaults([{ endpoint: 'sendMail', status: 504, code: 'GatewayTimeout', message: 'timeout', times: 1 }]);
      const o = { graph: t.graph(), store, tenantId: demo.data.tenantId, month: MONTH, sender, recipient: 'ciso@example.lg.jp', subject: 's', html: HTML, now: NOW };
      const r = await mailDigest(o);
      expect(r.status).toBe('uncertain');
      expect(t.sim.counts().sendMail).toBe(1);
      expect((await mailDigest(o)).status).toBe('uncertain');
      expect(t.sim.sentMail()).toHaveLength(0);
    });
  });
});

describe('runDigestCommand', () => {
  it('writes digest-YYYY-MM.html, keeps it as digests/<tenant>/YYYY-MM.html and mails it to organization.ciso', async () => {
    await withSim(405, async (t, demo) => {
      const sender = demo.data.users.find((u) => u.userType === 'Member')?.userPrincipalName as string;
      const store = new MemoryStore();
      const policy = validatePolicy({ organization: { name: '西置賜行政組合', ciso: 'ciso@example.lg.jp' } });
      const outDir = mkdtempSync(join(tmpdir(), 'digest-'));
      const r = await runDigestCommand({ store, policy, tenantId: demo.data.tenantId, month: MONTH, now: NOW, lang: 'ja', outDir, sender, graph: () => t.graph() });
      expect(r.path).toBe(join(outDir, 'digest-2026-11.html'));
      expect(r.stored).toBe(`digests/${demo.data.tenantId}/2026-11.html`);
      const html = readFileSync(r.path, 'utf8');
      expect(await store.getDigest(demo.data.tenantId, MONTH)).toBe(html);
      expect(r.mail.status).toBe('sent');
      const sent = t.sim.sentMail() as Sent[];
      expect(sent[0]?.message.body?.content).toBe(html);
      expect(sent[0]?.message.subject).toBe('【西置賜行政組合】情報セキュリティ月次報告 2026年11月');
      // With no scan in the month, the digest says so instead of reading as all clear.
      expect(html).toContain('この月の点検で棚卸データが記録されていません');
      // Regenerated: the same document, not mailed again.
      const again = await runDigestCommand({ store, policy, tenantId: demo.data.tenantId, month: MONTH, now: new Date('2027-01-05T00:00:00Z'), lang: 'ja', outDir, sender, graph: () => t.graph() });
      expect(readFileSync(again.path, 'utf8')).toBe(html);
      expect(again.mail.status).toBe('already-sent');
      expect(t.sim.sentMail()).toHaveLength(1);
    });
  });

  it('without M365_AUDIT_MAIL_SENDER it writes and keeps the digest, mails nothing and says why', async () => {
    const store = new MemoryStore();
    const policy = validatePolicy({ organization: { ciso: 'ciso@example.lg.jp' } });
    const r = await runDigestCommand({ store, policy, tenantId: 't', month: MONTH, now: NOW, lang: 'en', outDir: mkdtempSync(join(tmpdir(), 'digest-')) });
    expect(r.mail.status).toBe('not-configured');
    expect(r.lines.join('\n')).toContain('not mailed: M365_AUDIT_MAIL_SENDER (the mailbox it is sent from) is not set');
    expect(r.exitCode).toBe(0);
  });

  it('refuses a month that is not YYYY-MM or has not begun, naming --month', async () => {
    const store = new MemoryStore();
    const policy = validatePolicy({});
    const base = { store, policy, tenantId: 't', now: NOW, lang: 'en' as const, outDir: mkdtempSync(join(tmpdir(), 'digest-')) };
    await expect(runDigestCommand({ ...base, month: '2026-13' })).rejects.toThrow(/--month is invalid:\n {2}- month: "2026-13" is not a month written YYYY-MM/);
    await expect(runDigestCommand({ ...base, month: '2027-01' })).rejects.toThrow('month: 2027-01 has not begun yet in Asia/Tokyo (it is 2026-12 there)');
    // Default: the last full month in Tokyo.
    expect((await runDigestCommand(base)).month).toBe('2026-11');
  });
});
