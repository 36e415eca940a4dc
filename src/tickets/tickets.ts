/**
 * Ticket lifecycle: one ticket per finding, ever. It opens with the finding (routed, dated),
 * closes when the finding is resolved or excepted, and the same ticket reopens if the finding
 * comes back. The ticket record lives in the finding's ledger entry (the built-in sink); each
 * external sink is then brought to the ticket's state one delivery at a time: the intent is
 * written to the ledger before the call (`pending`: event, idempotency key, time) and the outcome
 * right after it. A run that stops anywhere leaves at most one delivery per sink and ticket
 * unresolved, and the next run resolves it first, by the sink's own idempotence (Planner finds the
 * task by its ticket id; the webhook resends the same key) — so nothing is lost or sent twice.
 */
import type { Policy } from '../config/policy';
import type { LedgerEntry, SinkDelivery, SinkState, TicketRecord } from '../findings/ledger';
import { ticketBody, ticketTitle } from './body';
import { dueFor } from './due';
import { routeTicket } from './routing';
import { deliveryKey, type TicketMessage, type TicketSink } from './sink';

export interface TicketContext {
  policy: Policy;
  now: Date;
  sinks: readonly TicketSink[];
  /** user object id → department (for routing). */
  departmentOf: (userId: string) => string | null | undefined;
  /**
   * Writes entries to the ledger. Called before each sink call (the intent) and after it (the
   * outcome), so that whatever stops the run, every delivery made is on record or resolvable.
   * Changes that send nothing are written together, before the next intent and at the end. An
   * error it throws stops the sync: nothing is sent that could not be recorded.
   */
  persist?: (entries: LedgerEntry[]) => Promise<void>;
}

export interface TicketSummary {
  opened: string[];
  closed: string[];
  reopened: string[];
  /** Deliveries that failed this run (retried next run): `sink: ticket id`. */
  failedDeliveries: string[];
  /** Tickets whose sink already had them (a record lost before): `sink: ticket id`. Optional for older summaries. */
  adopted?: string[];
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

/** The next call a sink needs for this ticket, or a state to record without a call, or nothing. */
type Step = { kind: 'open' | 'close' | 'reopen'; delivery: SinkDelivery } | { kind: 'record'; state: SinkState } | null;

function nextStep(state: SinkState, ticket: TicketRecord, entry: LedgerEntry, at: string): Step {
  const p = state.pending;
  if (p) {
    // An earlier run started this delivery and did not record its outcome: finish it first, with
    // the same key, whatever the ticket's state is now (a later event follows it).
    if (p.event === 'ticket.opened') return state.ref ? { kind: 'record', state: withoutPending(state) } : { kind: 'open', delivery: p };
    if (!state.ref) return { kind: 'record', state: withoutPending(state) }; // cannot happen: close/reopen always had a ref
    return { kind: p.event === 'ticket.closed' ? 'close' : 'reopen', delivery: p };
  }
  const transitions = ticket.transitions ?? 0;
  if (!state.ref) {
    // Never started and already closed: nothing to tell the sink.
    if (ticket.state === 'closed') return state.delivered === 'closed' ? null : { kind: 'record', state: { ...state, delivered: 'closed' } };
    return { kind: 'open', delivery: { event: 'ticket.opened', key: deliveryKey(entry, 'ticket.opened', transitions), at } };
  }
  if (state.delivered === ticket.state) return null;
  const event = ticket.state === 'closed' ? 'ticket.closed' : 'ticket.reopened';
  return { kind: ticket.state === 'closed' ? 'close' : 'reopen', delivery: { event, key: deliveryKey(entry, event, transitions), at } };
}

function withoutPending(state: SinkState): SinkState {
  const { pending: _pending, ...rest } = state;
  return rest;
}

/** What a ticket opened for an entry now would be: its id, title, routing and due date. */
export type PlannedTicket = Pick<TicketRecord, 'id' | 'title' | 'assignees' | 'routed' | 'dueDate' | 'dueDateTime'>;

/**
 * The ticket {@link syncTickets} opens for an entry that has none yet, as a pure function of the
 * entry, policy, departments and time: the report uses it for entries whose ticket opens after
 * the reports are written, so the report and the ticket cannot disagree.
 */
export function plannedTicket(entry: LedgerEntry, policy: Policy, departmentOf: TicketContext['departmentOf'], now: Date): PlannedTicket {
  const route = routeTicket(entry, policy, departmentOf);
  const due = dueFor(entry.severity, now, policy);
  return {
    id: `T-${entry.id.slice(0, 12)}`,
    title: ticketTitle(entry, policy.organization.locale),
    assignees: route.assignees,
    routed: route.routed,
    dueDate: due.date,
    dueDateTime: due.dueDateTime,
  };
}

/**
 * Brings every entry's ticket to its finding's status and delivers pending changes to the sinks.
 * Returns the entries whose ticket changed (all of them already written through `persist`).
 */
export async function syncTickets(entries: Iterable<LedgerEntry>, ctx: TicketContext): Promise<{ changed: LedgerEntry[]; summary: TicketSummary }> {
  const summary: TicketSummary = { opened: [], closed: [], reopened: [], failedDeliveries: [], adopted: [], unrouted: 0 };
  const changed = new Map<string, LedgerEntry>();
  const at = ctx.now.toISOString();
  // Entries changed without any call yet: written together before the next intent (so a sink
  // never holds what the ledger does not) and at the end.
  const unsaved = new Map<string, LedgerEntry>();
  const flush = async (also?: LedgerEntry): Promise<void> => {
    if (also) unsaved.set(also.id, also);
    if (!ctx.persist || unsaved.size === 0) return;
    const batch = [...unsaved.values()];
    unsaved.clear();
    await ctx.persist(batch);
  };
  for (const original of entries) {
    const want = wantedState(original);
    if (want === null) continue;
    let entry = original;
    let dirty = false;
    if (!entry.ticket) {
      const ticket: TicketRecord = {
        ...plannedTicket(entry, ctx.policy, ctx.departmentOf, ctx.now),
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
    const current = (): LedgerEntry => ({ ...entry, ticket: { ...ticket, sinks: { ...sinks } } });
    for (const sink of ctx.sinks) {
      let state: SinkState = sinks[sink.name] ?? { delivered: null, attempts: 0 };
      let called = false;
      // Each pass makes at most one call; a pending intent is resolved, then the wanted state follows.
      for (let guard = 0; guard < 4; guard++) {
        const step = nextStep(state, ticket, entry, at);
        if (!step) break;
        if (step.kind === 'record') {
          state = step.state;
          sinks[sink.name] = state;
          dirty = true;
          continue;
        }
        // The intent is on record before the call.
        if (state.pending?.key !== step.delivery.key) {
          state = { ...state, pending: step.delivery };
          sinks[sink.name] = state;
          dirty = true;
        }
        await flush(current());
        const delivery = { event: step.delivery.event, key: step.delivery.key };
        try {
          if (step.kind === 'open') {
            const created = await sink.open(message(), delivery);
            if (created.adopted) summary.adopted?.push(`${sink.name}: ${ticket.id}`);
            state = { ref: created.ref, delivered: 'open', attempts: 0, ...(created.complete ? {} : { incomplete: true, lastError: 'created, but its text could not be written yet' }) };
          } else if (step.kind === 'close') {
            await sink.close(message(), state.ref as string, delivery);
            state = { ref: state.ref as string, delivered: 'closed', attempts: 0 };
          } else {
            await sink.reopen(message(), state.ref as string, delivery);
            state = { ref: state.ref as string, delivered: 'open', attempts: 0 };
          }
        } catch (err) {
          // Not accepted (or not known to be): the intent stays, and the next run resolves it
          // with the same key. Recorded with the next write.
          state = { ...state, attempts: state.attempts + 1, lastError: (err as Error).message.slice(0, 500) };
          sinks[sink.name] = state;
          summary.failedDeliveries.push(`${sink.name}: ${ticket.id}`);
          unsaved.set(entry.id, current());
          dirty = true;
          break;
        }
        sinks[sink.name] = state;
        dirty = true;
        called = true;
        // The outcome is on record as soon as the sink accepted it.
        await flush(current());
      }
      // Delivered on an earlier run, but created incomplete (its text failed): finish it.
      if (!called && !state.pending && state.delivered === ticket.state && state.incomplete && state.ref && sink.update) {
        try {
          await sink.update(message(), state.ref);
          state = { ref: state.ref, delivered: state.delivered, attempts: 0 };
        } catch (err) {
          state = { ...state, attempts: state.attempts + 1, lastError: (err as Error).message.slice(0, 500) };
          summary.failedDeliveries.push(`${sink.name}: ${ticket.id}`);
        }
        sinks[sink.name] = state;
        dirty = true;
      }
    }
    if (dirty) {
      const done = current();
      changed.set(done.id, done);
      unsaved.set(done.id, done);
    }
  }
  await flush();
  return { changed: [...changed.values()], summary };
}
