import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { validatePolicy } from '../../src/config/policy';
import { reconcile, type LedgerEntry } from '../../src/findings/ledger';
import { fingerprint, type Finding } from '../../src/findings/finding';
import { ticketBody } from '../../src/tickets/body';
import { remediationFor } from '../../src/report/remediation';
import { routeTicket } from '../../src/tickets/routing';
import type { TicketMessage, TicketSink } from '../../src/tickets/sink';
import { syncTickets } from '../../src/tickets/tickets';
import { signature, WebhookSink } from '../../src/tickets/webhook';

const policy = validatePolicy({
  organization: {
    systemAdministrators: ['sysadmin@example.lg.jp'],
    departments: [{ name: '総務課', owner: 'soumu-kacho@example.lg.jp' }],
  },
  files: { assets: [{ name: '人事給与', owner: 'jinji@example.lg.jp', location: 'https://example.sharepoint.com/sites/jinji', class: 'I' }] },
});
const NOW = new Date('2026-04-28T01:00:00Z'); // Tue 10:00 JST, before Golden Week

function finding(kind: Finding['subject']['kind'], id: string, over: Partial<Finding> = {}): Finding {
  const subject = { kind, id, name: id, ...(kind === 'driveItem' ? { url: 'https://example.sharepoint.com/sites/jinji/Shared%20Documents/a' } : {}) };
  return {
    id: fingerprint(over.ruleId ?? 'MFA-02', subject), ruleId: 'MFA-02', clauses: ['5-1-3', '6-2-2'], kind: 'state', severity: 'high', area: 'mfa',
    subject, title: { ja: '多要素認証が未登録の職員', en: 'Member without MFA registered' }, evidence: {}, status: 'open', firstSeen: '', lastSeen: '', ...over,
  };
}

function entries(findings: Finding[]): LedgerEntry[] {
  return reconcile(new Map(), { findings, coverage: {}, areas: [], at: NOW.toISOString() }).changed;
}

class FakeSink implements TicketSink {
  readonly name = 'fake';
  calls: string[] = [];
  failNext = 0;
  incompleteNext = false;
  async open(m: TicketMessage): Promise<{ ref: string; complete: boolean }> {
    this.maybeFail();
    this.calls.push(`open ${m.ticket.id}`);
    const complete = !this.incompleteNext;
    this.incompleteNext = false;
    return { ref: `ref-${m.ticket.id}`, complete };
  }
  async update(m: TicketMessage, ref: string): Promise<void> {
    this.maybeFail();
    this.calls.push(`update ${ref}`);
  }
  async close(m: TicketMessage, ref: string): Promise<void> {
    this.maybeFail();
    this.calls.push(`close ${ref}`);
  }
  async reopen(m: TicketMessage, ref: string): Promise<void> {
    this.maybeFail();
    this.calls.push(`reopen ${ref}`);
  }
  private maybeFail(): void {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('sink down');
    }
  }
}

const departmentOf = (id: string) => (id === 'u-soumu' ? '総務課' : id === 'u-unknown' ? '消防署' : null);

describe('routing', () => {
  it('sends users to their department owner, files to the asset owner, tenant and ip to the system administrators', () => {
    const [user, orphan, item, tenant] = entries([finding('user', 'u-soumu'), finding('user', 'u-unknown'), finding('driveItem', 'b!d/i', { ruleId: 'FILE-01' }), finding('tenant', 't', { ruleId: 'MFA-03' })]);
    expect(routeTicket(user as LedgerEntry, policy, departmentOf)).toMatchObject({ assignees: ['soumu-kacho@example.lg.jp'], routed: true });
    expect(routeTicket(orphan as LedgerEntry, policy, departmentOf)).toMatchObject({ assignees: ['sysadmin@example.lg.jp'], routed: false });
    expect(routeTicket({ ...(item as LedgerEntry), evidence: { site: 'https://example.sharepoint.com/sites/jinji' } }, policy, departmentOf)).toMatchObject({ assignees: ['jinji@example.lg.jp'], routed: true });
    expect(routeTicket(tenant as LedgerEntry, policy, departmentOf)).toMatchObject({ assignees: ['sysadmin@example.lg.jp'], routed: true });
  });
  it('sends an outside app (APP-01) to the system administrators, who grant and revoke consent', () => {
    const [app] = entries([finding('servicePrincipal', 'sp-1', { ruleId: 'APP-01' })]);
    expect(routeTicket(app as LedgerEntry, policy, departmentOf)).toEqual({ assignees: ['sysadmin@example.lg.jp'], routed: true, reason: 'app consent: system administrators' });
  });
  it('sends a sending domain\'s DNS records (MAIL-02) to the system administrators', () => {
    const [domain] = entries([finding('domain', 'shobo.example.lg.jp', { ruleId: 'MAIL-02' })]);
    expect(routeTicket(domain as LedgerEntry, policy, departmentOf)).toEqual({ assignees: ['sysadmin@example.lg.jp'], routed: true, reason: 'domain DNS: system administrators' });
  });
});

describe('ticket lifecycle', () => {
  it('opens one routed, dated ticket per open finding, once', async () => {
    const sink = new FakeSink();
    const e = entries([finding('user', 'u-soumu'), finding('user', 'u-ex', { status: 'excepted' })]);
    const first = await syncTickets(e, { policy, now: NOW, sinks: [sink], departmentOf });
    expect(first.summary.opened).toHaveLength(1);
    const ticket = first.changed[0]?.ticket;
    // high: 3 business days from Tue 04-28 across Golden Week → Thu 05-07.
    expect(ticket).toMatchObject({ assignees: ['soumu-kacho@example.lg.jp'], routed: true, state: 'open', dueDate: '2026-05-07', sinks: { fake: { delivered: 'open', ref: expect.any(String) } } });
    const second = await syncTickets(first.changed, { policy, now: NOW, sinks: [sink], departmentOf });
    expect(second.changed).toEqual([]);
    expect(sink.calls).toHaveLength(1);
  });

  it('closes on resolution, reopens the same ticket on regression, and retries a failed delivery without duplicates', async () => {
    const sink = new FakeSink();
    let [entry] = (await syncTickets(entries([finding('user', 'u-soumu')]), { policy, now: NOW, sinks: [sink], departmentOf })).changed as [LedgerEntry];
    const id = entry.ticket?.id;
    entry = { ...entry, status: 'resolved' };
    sink.failNext = 1;
    const failed = await syncTickets([entry], { policy, now: NOW, sinks: [sink], departmentOf });
    expect(failed.summary.failedDeliveries).toEqual([`fake: ${id}`]);
    [entry] = failed.changed as [LedgerEntry];
    expect(entry.ticket).toMatchObject({ state: 'closed', sinks: { fake: { delivered: 'open', attempts: 1, lastError: 'sink down' } } });
    [entry] = (await syncTickets([entry], { policy, now: NOW, sinks: [sink], departmentOf })).changed as [LedgerEntry];
    expect(entry.ticket?.sinks.fake).toMatchObject({ delivered: 'closed', attempts: 0 });
    entry = { ...entry, status: 'open', reopenCount: 1 };
    const reopened = await syncTickets([entry], { policy, now: NOW, sinks: [sink], departmentOf });
    expect(reopened.summary.reopened).toEqual([id]);
    expect((reopened.changed[0] as LedgerEntry).ticket?.id).toBe(id);
    expect(sink.calls).toEqual([`open ${id}`, `close ref-${id}`, `reopen ref-${id}`]);
  });

  it('opens no ticket for an excepted finding and closes an open one when an exception comes', async () => {
    const sink = new FakeSink();
    let [entry] = (await syncTickets(entries([finding('user', 'u-soumu')]), { policy, now: NOW, sinks: [sink], departmentOf })).changed as [LedgerEntry];
    entry = { ...entry, status: 'excepted' };
    const res = await syncTickets([entry], { policy, now: NOW, sinks: [sink], departmentOf });
    expect(res.summary.closed).toHaveLength(1);
    expect(sink.calls[1]).toMatch(/^close /);
  });

  it('finishes a ticket created incomplete on the next run, once', async () => {
    const sink = new FakeSink();
    sink.incompleteNext = true;
    let [entry] = (await syncTickets(entries([finding('user', 'u-soumu')]), { policy, now: NOW, sinks: [sink], departmentOf })).changed as [LedgerEntry];
    expect(entry.ticket?.sinks.fake).toMatchObject({ delivered: 'open', incomplete: true });
    [entry] = (await syncTickets([entry], { policy, now: NOW, sinks: [sink], departmentOf })).changed as [LedgerEntry];
    expect(entry.ticket?.sinks.fake?.incomplete).toBeUndefined();
    expect((await syncTickets([entry], { policy, now: NOW, sinks: [sink], departmentOf })).changed).toEqual([]);
    expect(sink.calls).toEqual([`open ${entry.ticket?.id}`, `update ref-${entry.ticket?.id}`]);
  });

  it('counts unrouted open tickets', async () => {
    const res = await syncTickets(entries([finding('user', 'u-unknown'), finding('user', 'u-none')]), { policy, now: NOW, sinks: [], departmentOf });
    expect(res.summary.unrouted).toBe(2);
  });
});

describe('ticket body', () => {
  it('has the 7-3-1 headings, the remediation and the clauses, in Japanese or English', () => {
    const [e] = entries([finding('user', 'u-soumu')]) as [LedgerEntry];
    const ja = ticketBody(e, { assignees: ['soumu-kacho@example.lg.jp'], dueDate: '2026-05-07' }, policy);
    for (const h of ['■ 発生日時', '■ 影響範囲', '■ 原因', '■ 対応内容', '■ 再発防止策']) expect(ja).toContain(h);
    expect(ja).toContain('情報セキュリティ対策基準 5-1-3');
    // The action is the report's remediation steps (src/report/remediation.ts), word for word.
    expect(ja).toContain(remediationFor('MFA-02', 'ja'));
    expect(ja).toContain('https://aka.ms/mysecurityinfo');
    const en = ticketBody(e, { assignees: [], dueDate: '2026-05-07' }, validatePolicy({ organization: { locale: 'en' } }));
    for (const h of ['■ When', '■ Scope', '■ Cause', '■ Action', '■ Prevention']) expect(en).toContain(h);
  });
});

describe('webhook sink', () => {
  async function receiver(answer: (req: IncomingMessage, body: string) => { status: number; body?: string }) {
    const received: Array<{ headers: IncomingMessage['headers']; body: string }> = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => { body += c.toString(); });
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        const a = answer(req, body);
        res.writeHead(a.status, { 'Content-Type': 'application/json' }).end(a.body ?? '');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    return { url, received, close: () => new Promise<void>((r) => server.close(() => r())) };
  }

  it('posts the documented payload signed with HMAC-SHA256 and counts only a clean 2xx as delivered', async () => {
    let reply = { status: 200, body: '{"ok":true}' };
    const hook = await receiver(() => reply);
    try {
      const [e] = entries([finding('user', 'u-soumu')]) as [LedgerEntry];
      const sink = new WebhookSink({ url: hook.url, secret: 'shared-secret' });
      const opened = await syncTickets([e], { policy, now: NOW, sinks: [sink], departmentOf });
      expect(opened.summary.failedDeliveries).toEqual([]);
      const [first] = hook.received;
      expect(first?.headers['x-m365audit-event']).toBe('ticket.opened');
      expect(first?.headers['x-m365audit-signature']).toBe(signature('shared-secret', first?.body ?? ''));
      expect(JSON.parse(first?.body ?? '{}')).toMatchObject({ event: 'ticket.opened', ticket: { assignees: ['soumu-kacho@example.lg.jp'] }, finding: { ruleId: 'MFA-02' } });

      const resolved = { ...(opened.changed[0] as LedgerEntry), status: 'resolved' as const };
      for (const bad of [{ status: 500, body: '' }, { status: 200, body: '{"ok":false,"error":"queue full"}' }]) {
        reply = bad;
        const r = await syncTickets([resolved], { policy, now: NOW, sinks: [sink], departmentOf });
        expect(r.summary.failedDeliveries).toHaveLength(1);
        expect(JSON.stringify(r.changed)).not.toContain('shared-secret');
      }
      reply = { status: 204, body: '' };
      const ok = await syncTickets([resolved], { policy, now: NOW, sinks: [sink], departmentOf });
      expect(ok.summary.failedDeliveries).toEqual([]);
      expect(hook.received.map((r) => r.headers['x-m365audit-event'])).toEqual(['ticket.opened', 'ticket.closed', 'ticket.closed', 'ticket.closed']);
      // Retries of one event share their key; each later state change has a key of its own.
      const keys = hook.received.map((r) => r.headers['x-m365audit-idempotency-key']);
      expect(new Set(keys.slice(1)).size).toBe(1);
      let entry = ok.changed[0] as LedgerEntry;
      for (const status of ['open', 'excepted', 'open'] as const) {
        entry = (await syncTickets([{ ...entry, status }], { policy, now: NOW, sinks: [sink], departmentOf })).changed[0] as LedgerEntry;
      }
      const all = hook.received.map((r) => r.headers['x-m365audit-idempotency-key']);
      expect(new Set(all).size).toBe(all.length - 2);
    } finally {
      await hook.close();
    }
  });
});
