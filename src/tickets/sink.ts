/**
 * Ticket sinks. The ledger itself is the built-in sink (every ticket lives in its finding's
 * ledger entry, always); external sinks (Microsoft Planner, a JSON webhook) receive the same
 * ticket. Each sink's delivery state is kept per ticket: an intent (`pending`) is on record
 * before each call and the outcome right after it, so a run that stops anywhere is resumed by
 * the next one. Sinks are idempotent by construction, so that even a lost record can never
 * duplicate a ticket: Planner adopts the task that already carries the ticket id, and each
 * webhook event carries a stable idempotency key for the receiver to de-duplicate on.
 */
import type { LedgerEntry, SinkDelivery, TicketRecord } from '../findings/ledger';

export type TicketEvent = SinkDelivery['event'];

export interface TicketMessage {
  entry: LedgerEntry;
  ticket: TicketRecord;
  title: string;
  body: string;
  /** Why it changed state: the resolution, the exception, a person's note. */
  comment: string;
}

/** What one call delivers: the event and its idempotency key (the same on every retry of it). */
export type Delivery = Pick<SinkDelivery, 'event' | 'key'>;

export interface TicketSink {
  readonly name: string;
  /**
   * Creates the ticket — or adopts the one already there for this ticket id — and returns the
   * sink's reference to it. `complete: false` when the ticket exists but part of it (a
   * description) could not be written: `update` finishes it next run. `adopted` when it existed.
   */
  open(message: TicketMessage, delivery: Delivery): Promise<{ ref: string; complete: boolean; adopted?: boolean }>;
  close(message: TicketMessage, ref: string, delivery: Delivery): Promise<void>;
  reopen(message: TicketMessage, ref: string, delivery: Delivery): Promise<void>;
  /** Rewrites the ticket's text (used to finish an incomplete creation). */
  update?(message: TicketMessage, ref: string): Promise<void>;
}

/** The idempotency key of a ticket event: `<finding id>:<event>:<ticket state changes>`. */
export function deliveryKey(entry: Pick<LedgerEntry, 'id'>, event: TicketEvent, transitions: number): string {
  return `${entry.id}:${event}:${transitions}`;
}
