/**
 * Ticket sinks. The ledger itself is the built-in sink (every ticket lives in its finding's
 * ledger entry, always); external sinks (Microsoft Planner, a JSON webhook) receive the same
 * ticket. Each sink's delivery state is kept per ticket, so a sink that fails is retried on the
 * next run from that record: nothing is lost and nothing is sent twice.
 */
import type { LedgerEntry, TicketRecord } from '../findings/ledger';

export interface TicketMessage {
  entry: LedgerEntry;
  ticket: TicketRecord;
  title: string;
  body: string;
  /** Why it changed state: the resolution, the exception, a person's note. */
  comment: string;
}

export interface TicketSink {
  readonly name: string;
  /** Creates the ticket; returns the sink's reference to it. */
  open(message: TicketMessage): Promise<string>;
  close(message: TicketMessage, ref: string): Promise<void>;
  reopen(message: TicketMessage, ref: string): Promise<void>;
}
