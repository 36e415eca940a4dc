/**
 * Microsoft Planner sink through Graph (Tasks.ReadWrite.All application permission; the plan
 * and bucket come from settings). A ticket becomes a task: title, assignee, due date, and the
 * 7-3-1 body as the task description; resolution completes it (percentComplete 100) and a
 * regression reopens it (0). Planner versions every resource: PATCH needs the current etag in
 * If-Match, so each update reads the resource first (planner-overview, 17-planner.json).
 *
 * Idempotent by construction: the task title starts with the ticket id (`T-…`), and before the
 * first creation of a run the plan's tasks are listed once ("List tasks",
 * `GET /planner/plans/{id}/tasks`, Tasks.Read.All or Tasks.ReadWrite.All, server-driven pages
 * followed to the end). A ticket whose task is already there — created by a run that stopped
 * before recording it, or whose answer was lost — adopts that task (the oldest, should there be
 * several) and brings it to the wanted state instead of creating a second one. Without a
 * successful listing no task is created: a late ticket is better than a duplicate.
 */
import { SinkError } from '../errors';
import type { Graph } from '../graph/graph';
import type { Delivery, TicketMessage, TicketSink } from './sink';

export interface PlannerOptions {
  planId: string;
  bucketId: string;
  /** Maps an assignee address to a user object id (Planner assigns by id). */
  userIdOf: (address: string) => string | undefined;
}

function etagOf(body: unknown): string {
  const etag = (body as { '@odata.etag'?: unknown } | undefined)?.['@odata.etag'];
  if (typeof etag !== 'string') throw new SinkError('planner sink: the task has no @odata.etag; cannot update it safely');
  return etag;
}

/** A ticket id as the task title carries it (`T-` + 12 hex digits of the finding id). */
const TICKET_ID = /\b(T-[0-9a-f]{12})\b/;

/** The Planner task title: the ticket id first (what the listing matches on), then the ticket title. */
export function plannerTitle(m: Pick<TicketMessage, 'ticket' | 'title'>): string {
  return `${m.ticket.id} ${m.title}`.slice(0, 255);
}

interface ListedTask {
  id: string;
  createdDateTime: string;
  percentComplete: number;
}

export class PlannerSink implements TicketSink {
  readonly name = 'planner';
  /** The plan's tasks by ticket id, listed once per run (per sink instance), on first need. */
  private listing: Promise<Map<string, ListedTask>> | undefined;

  constructor(
    private readonly graph: Graph,
    private readonly options: PlannerOptions,
  ) {}

  private tasksByTicket(): Promise<Map<string, ListedTask>> {
    this.listing ??= this.listPlan();
    return this.listing;
  }

  private async listPlan(): Promise<Map<string, ListedTask>> {
    let tasks: unknown[];
    try {
      tasks = await this.graph.all(`/planner/plans/${encodeURIComponent(this.options.planId)}/tasks`);
    } catch (err) {
      throw new SinkError(
        `planner sink: listing the plan's tasks (GET /planner/plans/{id}/tasks, permission Tasks.Read.All or Tasks.ReadWrite.All) failed: ${(err as Error).message.slice(0, 300)}; ` +
          'no task is created without that check (it finds tasks an interrupted run created), so the ticket is retried on the next run',
      );
    }
    const out = new Map<string, ListedTask>();
    for (const raw of tasks) {
      const t = raw as { id?: unknown; title?: unknown; createdDateTime?: unknown; percentComplete?: unknown };
      if (typeof t.id !== 'string' || typeof t.title !== 'string') continue;
      const ticketId = TICKET_ID.exec(t.title)?.[1];
      if (!ticketId) continue;
      const task: ListedTask = { id: t.id, createdDateTime: typeof t.createdDateTime === 'string' ? t.createdDateTime : '', percentComplete: typeof t.percentComplete === 'number' ? t.percentComplete : 0 };
      const seen = out.get(ticketId);
      // Duplicates left by older releases: keep to the oldest, the one people have seen longest.
      if (!seen || task.createdDateTime < seen.createdDateTime) out.set(ticketId, task);
    }
    return out;
  }

  async open(m: TicketMessage, _delivery?: Delivery): Promise<{ ref: string; complete: boolean; adopted?: boolean }> {
    const existing = await this.tasksByTicket();
    const found = existing.get(m.ticket.id);
    if (found) {
      // Adopted: the ticket is open, so is its task; its text is rewritten as a creation would.
      if (found.percentComplete !== 0) await this.setComplete(found.id, 0);
      const complete = await this.describe(found.id, m.body).then(
        () => true,
        () => false,
      );
      return { ref: found.id, complete, adopted: true };
    }
    const assignments: Record<string, unknown> = {};
    for (const address of m.ticket.assignees) {
      const id = this.options.userIdOf(address);
      if (id) assignments[id] = { '@odata.type': '#microsoft.graph.plannerAssignment', orderHint: ' !' };
    }
    // Not retried on a gateway timeout or a lost connection: the task may exist already. The
    // ticket stays pending and the next run's listing finds the task if it was created.
    const created = await this.graph.send('POST', '/planner/tasks', {
      idempotent: false,
      body: { planId: this.options.planId, bucketId: this.options.bucketId, title: plannerTitle(m), dueDateTime: m.ticket.dueDateTime, assignments },
    });
    const id = (created.body as { id?: unknown } | undefined)?.id;
    if (created.status !== 201 || typeof id !== 'string') throw new SinkError(`planner sink: creating the task answered ${created.status}; it is retried on the next run`);
    existing.set(m.ticket.id, { id, createdDateTime: '', percentComplete: 0 });
    // The task exists now: its id must be recorded whatever happens next, or a retry would create
    // a second task. A description that fails is written by `update` on the next run.
    const complete = await this.describe(id, m.body).then(
      () => true,
      () => false,
    );
    return { ref: id, complete };
  }

  async update(m: TicketMessage, ref: string): Promise<void> {
    await this.describe(ref, m.body);
  }

  async close(m: TicketMessage, ref: string): Promise<void> {
    await this.setComplete(ref, 100);
    await this.describe(ref, `${m.body}\n\n■ ${m.comment}`);
  }

  async reopen(m: TicketMessage, ref: string): Promise<void> {
    await this.setComplete(ref, 0);
    await this.describe(ref, `${m.body}\n\n■ ${m.comment}`);
  }

  private async setComplete(taskId: string, percentComplete: number): Promise<void> {
    const task = await this.graph.get(`/planner/tasks/${taskId}`);
    const res = await this.graph.send('PATCH', `/planner/tasks/${taskId}`, { headers: { 'If-Match': etagOf(task) }, body: { percentComplete } });
    if (res.status < 200 || res.status >= 300) throw new SinkError(`planner sink: updating task ${taskId} answered ${res.status}; it is retried on the next run`);
  }

  private async describe(taskId: string, description: string): Promise<void> {
    const details = await this.graph.get(`/planner/tasks/${taskId}/details`);
    const res = await this.graph.send('PATCH', `/planner/tasks/${taskId}/details`, {
      headers: { 'If-Match': etagOf(details) },
      body: { description: description.slice(0, 32_000), previewType: 'description' },
    });
    if (res.status < 200 || res.status >= 300) throw new SinkError(`planner sink: describing task ${taskId} answered ${res.status}; it is retried on the next run`);
  }
}
