/**
 * The digest's Teams announcement (issue 11: "announced with a short Teams card linking to it"),
 * once per tenant and month per alert sink. As for the run alerts (src/alerts/deliver.ts): the
 * intent (`sending`, with the alert id) is recorded before the post and `sent` after it. A run
 * that finds `sending` does not know whether the card arrived and posts it again with the same
 * alert id — a repeated announcement is harmless, a missing one leaves the CISO's digest
 * unannounced. A post that failed is recorded as such and tried again by the next run.
 */
import { randomUUID } from 'node:crypto';
import type { TeamsMessage } from '../alerts/cards';
import type { AlertSink } from '../alerts/teams';
import type { StatePort } from '../store/ports';

interface AnnounceRecord {
  alertId: string;
  state: 'sending' | 'sent' | 'failed';
  at: string;
  sentAt?: string;
  lastError?: string;
}

export type AnnounceOutcome =
  | { status: 'sent'; alertId: string; resent: boolean }
  | { status: 'already-sent'; alertId: string; sentAt: string }
  | { status: 'failed'; alertId: string; message: string };

/** The state key of a month's announcement on a sink. */
export function announceKey(sink: string, month: string): string {
  return `digest-card-${sink}/${month}`;
}

/** Posts the month's card unless it was posted already; `message` is built by the caller. */
export async function announceDigest(o: { sink: AlertSink; store: StatePort; tenantId: string; month: string; message: (alertId: string) => TeamsMessage; now: Date }): Promise<AnnounceOutcome> {
  const key = announceKey(o.sink.name, o.month);
  const text = await o.store.getState(o.tenantId, key);
  let record: AnnounceRecord | undefined;
  try {
    record = text ? (JSON.parse(text) as AnnounceRecord) : undefined;
  } catch {
    record = undefined; // unreadable: post (a repeat at worst)
  }
  if (record?.state === 'sent') return { status: 'already-sent', alertId: record.alertId, sentAt: record.sentAt ?? record.at };
  const resent = record?.state === 'sending';
  const alertId = resent && record ? record.alertId : randomUUID();
  const at = o.now.toISOString();
  await o.store.setState(o.tenantId, key, JSON.stringify({ alertId, state: 'sending', at } satisfies AnnounceRecord));
  try {
    await o.sink.send(o.message(alertId), { alertId, kind: 'digest', createdAt: at });
  } catch (err) {
    const message = (err as Error).message;
    await o.store.setState(o.tenantId, key, JSON.stringify({ alertId, state: 'failed', at, lastError: message.slice(0, 500) } satisfies AnnounceRecord));
    return { status: 'failed', alertId, message };
  }
  await o.store.setState(o.tenantId, key, JSON.stringify({ alertId, state: 'sent', at, sentAt: new Date().toISOString() } satisfies AnnounceRecord));
  return { status: 'sent', alertId, resent };
}
