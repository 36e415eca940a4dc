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
  /**
   * Creates the ticket and returns the sink's reference to it. `complete: false` when the ticket
   * exists but part of it (a description) could not be written: `update` finishes it next run.
   */
  open(message: TicketMessage): Promise<{ ref: string; complete: boolean }>;
  close(message: TicketMessage, ref: string): Promise<void>;
  reopen(message: TicketMessage, ref: string): Promise<void>;
  /** Rewrites the ticket's text (used to finish an incomplete creation). */
  update?(message: TicketMessage, ref: string): Promise<void>;
}
