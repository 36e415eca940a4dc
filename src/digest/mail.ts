/**
 * Mails a month's digest to the CISO through Graph `POST /users/{sender}/sendMail`
 * (Mail.Send, scoped to the sender mailbox with Exchange RBAC for Applications: README).
 *
 * Mailing is an external effect that Graph cannot de-duplicate (sendMail has no idempotency key
 * and answers 202 with no id), so it is recorded like a ticket delivery (tickets.ts): the intent
 * (`pending`) is written to the tenant's state before the call, and the outcome right after it,
 * under the key `digest-mail/YYYY-MM`. Then:
 * - `sent`: a rerun does not mail again (unless the operator asks with `resend`).
 * - `failed`: Graph said no (4xx, or 429/503 after every retry: not processed) — nothing went
 *   out, and the next run sends it.
 * - `pending` found by a later run, or `uncertain` (no answer, a dropped connection, 500/502/504:
 *   Graph may have accepted it): the mail may have gone out. The run does not send it again on
 *   its own — a second copy in the CISO's inbox is worse than a question — and says how to check
 *   (the sender's Sent Items) and how to send it anyway (`--resend`).
 */
import { createHash } from 'node:crypto';
import type { StatePort } from '../store/ports';
import { CredentialError, GraphError } from '../errors';
import type { Graph } from '../graph/graph';

/** The state key of a month's mail record. */
export function mailKey(month: string): string {
  return `digest-mail/${month}`;
}

export interface MailRecord {
  state: 'pending' | 'sent' | 'failed' | 'uncertain';
  /** When the latest attempt started (ISO). */
  at: string;
  sender: string;
  recipient: string;
  subject: string;
  /** sha-256 of the HTML mailed: which document went out. */
  sha256: string;
  attempts: number;
  sentAt?: string;
  lastError?: string;
}

export interface MailOutcome {
  /** `sent` now; `already-sent` by an earlier run; `failed` (retry next run); `uncertain` (may have gone out). */
  status: 'sent' | 'already-sent' | 'failed' | 'uncertain';
  record: MailRecord;
  /** What to tell the operator (failed and uncertain). */
  message?: string;
}

export interface MailRequest {
  /** Path from the Graph root. */
  url: string;
  body: {
    message: {
      subject: string;
      body: { contentType: 'HTML'; content: string };
      toRecipients: Array<{ emailAddress: { address: string } }>;
    };
    saveToSentItems: boolean;
  };
}

/**
 * The sendMail request (user-sendmail.md, example 1 with an HTML body). Saved to Sent Items, so
 * that an uncertain send can be checked there.
 */
export function sendMailRequest(sender: string, recipient: string, subject: string, html: string): MailRequest {
  return {
    url: `/users/${encodeURIComponent(sender)}/sendMail`,
    body: {
      message: { subject, body: { contentType: 'HTML', content: html }, toRecipients: [{ emailAddress: { address: recipient } }] },
      saveToSentItems: true,
    },
  };
}

export interface MailDigestOptions {
  graph: Graph;
  store: Pick<StatePort, 'getState' | 'setState'>;
  tenantId: string;
  month: string;
  sender: string;
  recipient: string;
  subject: string;
  html: string;
  now: Date;
  /** Send even though an earlier run sent it, or may have. */
  resend?: boolean;
}

/** Statuses after which Graph did not carry out the POST: safe to send again next run. */
function definitelyNotSent(status: number): boolean {
  return (status >= 400 && status < 500) || status === 503;
}

/** Mails the digest at most once per tenant and month (see the module header). */
export async function mailDigest(o: MailDigestOptions): Promise<MailOutcome> {
  const key = mailKey(o.month);
  const raw = await o.store.getState(o.tenantId, key);
  const before = raw ? (JSON.parse(raw) as MailRecord) : undefined;
  if (before && !o.resend) {
    if (before.state === 'sent') return { status: 'already-sent', record: before };
    if (before.state === 'pending' || before.state === 'uncertain') {
      return {
        status: 'uncertain',
        record: before,
        message: `the digest of ${o.month} may already have been mailed: a send started at ${before.at} has no confirmed outcome${before.lastError ? ` (${before.lastError})` : ' (the run stopped before recording it)'}. Check the Sent Items of ${before.sender}; if it is not there, run again with --resend`,
      };
    }
  }
  const sha256 = createHash('sha256').update(o.html, 'utf8').digest('hex');
  const at = o.now.toISOString();
  const record: MailRecord = { state: 'pending', at, sender: o.sender, recipient: o.recipient, subject: o.subject, sha256, attempts: (before?.attempts ?? 0) + 1 };
  const save = (r: MailRecord): Promise<void> => o.store.setState(o.tenantId, key, JSON.stringify(r));
  // The intent is on record before the call.
  await save(record);
  const req = sendMailRequest(o.sender, o.recipient, o.subject, o.html);
  let status: number;
  let error: string | undefined;
  try {
    const res = await o.graph.send('POST', req.url, { body: req.body });
    status = res.status;
    if (status < 200 || status >= 300) {
      const body = res.body as { error?: { code?: string; message?: string } } | undefined;
      error = `POST /users/{sender}/sendMail answered ${status}${body?.error?.code ? ` (${body.error.code}${body.error.message ? `: ${body.error.message}` : ''})` : ''}`;
    }
  } catch (err) {
    if (err instanceof CredentialError) {
      // No token: nothing was sent.
      await save({ ...record, state: 'failed', lastError: err.message.slice(0, 500) });
      throw err;
    }
    status = err instanceof GraphError ? err.status : 0;
    error = (err as Error).message.slice(0, 500);
  }
  if (error === undefined) {
    const sent: MailRecord = { ...record, state: 'sent', sentAt: at };
    await save(sent);
    return { status: 'sent', record: sent };
  }
  if (status !== 0 && definitelyNotSent(status)) {
    const failed: MailRecord = { ...record, state: 'failed', lastError: error };
    await save(failed);
    const fix = status === 403 || status === 401
      ? ` — give the app Mail.Send for ${o.sender} (Exchange RBAC for Applications, see README "CISO digest") or check M365_AUDIT_MAIL_SENDER`
      : status === 404
        ? ` — M365_AUDIT_MAIL_SENDER must name a mailbox of the tenant`
        : '';
    return { status: 'failed', record: failed, message: `the digest of ${o.month} was not mailed: ${error}${fix}; nothing was sent, the next run sends it` };
  }
  const uncertain: MailRecord = { ...record, state: 'uncertain', lastError: error };
  await save(uncertain);
  return {
    status: 'uncertain',
    record: uncertain,
    message: `the digest of ${o.month} may or may not have been mailed (${error}). Check the Sent Items of ${o.sender}; if it is not there, run again with --resend`,
  };
}
