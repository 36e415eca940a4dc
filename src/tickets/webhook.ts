/**
 * Generic JSON webhook sink (ServiceNow, Jira, an Azure Logic App…). One POST per ticket event:
 *
 *   POST <url>
 *   Content-Type: application/json
 *   X-M365Audit-Event: ticket.opened | ticket.closed | ticket.reopened
 *   X-M365Audit-Delivery: <uuid, unique per attempt>
 *   X-M365Audit-Idempotency-Key: <finding id>:<event>:<ticket transitions>   (same on every retry)
 *   X-M365Audit-Signature: sha256=<hex HMAC-SHA256 of the raw body with the shared secret>  (when a secret is set)
 *   { "event", "sentAt", "ticket": {…}, "finding": {…}, "title", "body", "comment" }
 *
 * The receiver's contract: accept each idempotency key once. A key already accepted is answered
 * 2xx again and changes nothing — it is a resend (after a timeout, a lost answer, or a run that
 * stopped between the POST and the ledger write), never a new event.
 *
 * Only a 2xx answer counts as delivered; a 2xx whose JSON body says `"ok": false` or carries an
 * `error` is a failure too (some endpoints answer 200 with an error). The URL and secret never
 * appear in messages: errors name the sink and the status only.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { fetch } from 'undici';
import { SinkError } from '../errors';
import type { Delivery, TicketEvent, TicketMessage, TicketSink } from './sink';

type Event = TicketEvent;

export interface WebhookOptions {
  url: string;
  secret?: string | undefined;
  timeoutMs?: number;
}

/** The documented payload of one ticket event. */
export function webhookPayload(event: Event, m: TicketMessage, sentAt: string): Record<string, unknown> {
  return {
    event,
    sentAt,
    ticket: m.ticket,
    finding: {
      id: m.entry.id,
      ruleId: m.entry.ruleId,
      severity: m.entry.severity,
      status: m.entry.status,
      kind: m.entry.kind,
      clauses: m.entry.clauses,
      subject: m.entry.subject,
      title: m.entry.title,
      firstSeen: m.entry.firstSeen,
      lastSeen: m.entry.lastSeen,
      reopenCount: m.entry.reopenCount,
      evidence: m.entry.evidence,
    },
    title: m.title,
    body: m.body,
    comment: m.comment,
  };
}

/** `sha256=<hex>` of the body with the secret (what the receiver recomputes). */
export function signature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

export class WebhookSink implements TicketSink {
  readonly name = 'webhook';
  constructor(private readonly options: WebhookOptions) {}

  async open(m: TicketMessage, delivery: Delivery): Promise<{ ref: string; complete: boolean }> {
    await this.post(delivery, m);
    return { ref: m.entry.id, complete: true };
  }

  async close(m: TicketMessage, _ref: string, delivery: Delivery): Promise<void> {
    await this.post(delivery, m);
  }

  async reopen(m: TicketMessage, _ref: string, delivery: Delivery): Promise<void> {
    await this.post(delivery, m);
  }

  /**
   * One POST. The key comes from the ledger's record of the delivery (`pending`), so a resend
   * after a crash or a lost answer carries the very key of the first attempt, whatever the
   * ticket's state is by then: the receiver's de-duplication is what makes it exactly once.
   */
  private async post(delivery: Delivery, m: TicketMessage): Promise<void> {
    const event = delivery.event;
    const body = JSON.stringify(webhookPayload(event, m, new Date().toISOString()));
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'X-M365Audit-Event': event,
      'X-M365Audit-Delivery': randomUUID(),
      'X-M365Audit-Idempotency-Key': delivery.key,
    };
    if (this.options.secret) headers['X-M365Audit-Signature'] = signature(this.options.secret, body);
    let status: number;
    let text: string;
    try {
      const res = await fetch(this.options.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000) });
      status = res.status;
      text = await res.text();
    } catch (err) {
      throw new SinkError(`webhook sink: ${event} not delivered (${(err as Error).message}); it is retried on the next run`);
    }
    if (status < 200 || status >= 300) throw new SinkError(`webhook sink: ${event} answered ${status}; it is retried on the next run`);
    let reply: unknown;
    try {
      reply = text ? JSON.parse(text) : undefined;
    } catch {
      reply = undefined; // a non-JSON 2xx body is accepted as delivered
    }
    if (reply && typeof reply === 'object' && ((reply as { ok?: unknown }).ok === false || (reply as { error?: unknown }).error)) {
      throw new SinkError(`webhook sink: ${event} answered ${status} with an error in its body; it is retried on the next run`);
    }
  }
}
