/**
 * Ticket lifecycle: one ticket per finding, ever. It opens with the finding (routed, dated),
 * closes when the finding is resolved or excepted, and the same ticket reopens if the finding
 * comes back. The ticket record lives in the finding's ledger entry (the built-in sink); each
 * external sink is then brought to the ticket's state, and its delivery state is recorded, so a
 * failed delivery is retried on the next run and a delivered one is never sent again.
 */
import type { Policy } from '../config/policy';
import type { LedgerEntry, SinkState, TicketRecord } from '../findings/ledger';
import { ticketBody, ticketTitle } from './body';
import { dueFor } from './due';
import { routeTicket } from './routing';
import type { TicketMessage, TicketSink } from './sink';

export interface TicketContext {
  policy: Policy;
  now: Date;
  sinks: readonly TicketSink[];
  /** user object id → department (for routing). */
  departmentOf: (userId: string) => string | null | undefined;
  /**
   * Writes changed entries as the sync goes (every `persistEvery`), so that deliveries already
   * made are on record even if the run stops half-way: nothing is sent twice.
   */
  persist?: (entries: LedgerEntry[]) => Promise<void>;
  persistEvery?: number;
}

export interface TicketSummary {
  opened: string[];
  closed: string[];
  reopened: string[];
  /** Deliveries that failed this run (retried next run): `sink: ticket id`. */
  failedDeliveries: string[];
  /** Open tickets no owner matched (they went to the system administrators). */
  unrouted: number;
}

const COMMENTS = {
  ja: { resolved: '点検で解消を確認しました。', excepted: '例外措置が承認されたため、対応を終了します。', reopened: '再び検出されたため、再開します。', person: '担当者が対応完了として閉じました' },
  en: { resolved: 'A scan confirmed it is resolved.', excepted: 'An approved exception now covers it.', reopened: 'Detected again: reopened.', person: 'Closed by a person' },
};

function wantedState(entry: LedgerEntry): 'open' | 'closed' | null {
  if (entry.status === 'open') return 'open';
  return entry.ticket ? 'closed' : null;
}

/** The comment explaining the ticket's latest state change. */
function commentFor(entry: LedgerEntry, policy: Policy): string {
  const c = COMMENTS[policy.organization.locale];
  const last = entry.history[entry.history.length - 1];
  if (entry.status === 'open') return entry.reopenCount > 0 ? c.reopened : '';
  if (entry.status === 'excepted') return c.excepted;
  if (last?.note.startsWith('closed by a person:')) return `${c.person}: ${last.note.slice('closed by a person:'.length).trim()}`;
  return c.resolved;
}

/**
 * Brings every entry's ticket to its finding's status and delivers pending changes to the sinks.
 * Returns the entries whose ticket changed (to be written back).
 */
export async function syncTickets(entries: Iterable<LedgerEntry>, ctx: TicketContext): Promise<{ changed: LedgerEntry[]; summary: TicketSummary }> {
  const summary: TicketSummary = { opened: [], closed: [], reopened: [], failedDeliveries: [], unrouted: 0 };
  const changed: LedgerEntry[] = [];
  let unsaved = 0;
  const at = ctx.now.toISOString();
  const lang = ctx.policy.organization.locale;
  for (const original of entries) {
    const want = wantedState(original);
    if (want === null) continue;
    let entry = original;
    let dirty = false;
    if (!entry.ticket) {
      const route = routeTicket(entry, ctx.policy, ctx.departmentOf);
      const due = dueFor(entry.severity, ctx.now, ctx.policy);
      const ticket: TicketRecord = {
        id: `T-${entry.id.slice(0, 12)}`,
        title: ticketTitle(entry, lang),
        assignees: route.assignees,
        routed: route.routed,
        dueDate: due.date,
        dueDateTime: due.dueDateTime,
        state: 'open',
        transitions: 0,
        openedAt: at,
        closedAt: null,
        sinks: {},
      };
      entry = { ...entry, ticket };
      summary.opened.push(ticket.id);
      dirty = true;
    } else if (entry.ticket.state !== want) {
      entry = { ...entry, ticket: { ...entry.ticket, state: want, closedAt: want === 'closed' ? at : null, transitions: (entry.ticket.transitions ?? 0) + 1 } };
      (want === 'closed' ? summary.closed : summary.reopened).push(entry.ticket?.id ?? '');
      dirty = true;
    }
    const ticket = entry.ticket as TicketRecord;
    if (ticket.state === 'open' && !ticket.routed) summary.unrouted++;
    // Rendered only when a sink has something to do: most entries need nothing on most runs.
    let rendered: TicketMessage | undefined;
    const message = (): TicketMessage =>
      (rendered ??= { entry, ticket, title: ticket.title, body: ticketBody(entry, ticket, ctx.policy), comment: commentFor(entry, ctx.policy) });
    const sinks: Record<string, SinkState> = { ...ticket.sinks };
    for (const sink of ctx.sinks) {
      const state: SinkState = sinks[sink.name] ?? { delivered: null, attempts: 0 };
      if (state.delivered === ticket.state) {
        // Delivered, but created incomplete (its text failed): finish it.
        if (state.incomplete && state.ref && sink.update) {
          try {
            await sink.update(message(), state.ref);
            sinks[sink.name] = { ref: state.ref, delivered: state.delivered, attempts: 0 };
          } catch (err) {
            sinks[sink.name] = { ...state, attempts: state.attempts + 1, lastError: (err as Error).message.slice(0, 500) };
            summary.failedDeliveries.push(`${sink.name}: ${ticket.id}`);
          }
          dirty = true;
        }
        continue;
      }
      // Never created and already closed: nothing to tell the sink.
      if (!state.ref && ticket.state === 'closed') {
        sinks[sink.name] = { ...state, delivered: 'closed' };
        dirty = true;
        continue;
      }
      try {
        if (!state.ref) {
          const created = await sink.open(message());
          sinks[sink.name] = { ref: created.ref, delivered: 'open', attempts: 0, ...(created.complete ? {} : { incomplete: true, lastError: 'created, but its text could not be written yet' }) };
        }
        else if (ticket.state === 'closed') {
          await sink.close(message(), state.ref);
          sinks[sink.name] = { ref: state.ref, delivered: 'closed', attempts: 0 };
        } else {
          await sink.reopen(message(), state.ref);
          sinks[sink.name] = { ref: state.ref, delivered: 'open', attempts: 0 };
        }
      } catch (err) {
        sinks[sink.name] = { ...state, attempts: state.attempts + 1, lastError: (err as Error).message.slice(0, 500) };
        summary.failedDeliveries.push(`${sink.name}: ${ticket.id}`);
      }
      dirty = true;
    }
    if (dirty) {
      changed.push({ ...entry, ticket: { ...ticket, sinks } });
      unsaved++;
      if (ctx.persist && unsaved >= (ctx.persistEvery ?? 20)) {
        await ctx.persist(changed.slice(-unsaved));
        unsaved = 0;
      }
    }
  }
  if (ctx.persist && unsaved > 0) await ctx.persist(changed.slice(-unsaved));
  return { changed, summary };
}
