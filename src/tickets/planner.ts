/**
 * Microsoft Planner sink through Graph (Tasks.ReadWrite.All application permission; the plan
 * and bucket come from settings). A ticket becomes a task: title, assignee, due date, and the
 * 7-3-1 body as the task description; resolution completes it (percentComplete 100) and a
 * regression reopens it (0). Planner versions every resource: PATCH needs the current etag in
 * If-Match, so each update reads the resource first (planner-overview, 17-planner.json).
 */
import { SinkError } from '../errors';
import type { Graph } from '../graph/graph';
import type { TicketMessage, TicketSink } from './sink';

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

export class PlannerSink implements TicketSink {
  readonly name = 'planner';
  constructor(
    private readonly graph: Graph,
    private readonly options: PlannerOptions,
  ) {}

  async open(m: TicketMessage): Promise<{ ref: string; complete: boolean }> {
    const assignments: Record<string, unknown> = {};
    for (const address of m.ticket.assignees) {
      const id = this.options.userIdOf(address);
      if (id) assignments[id] = { '@odata.type': '#microsoft.graph.plannerAssignment', orderHint: ' !' };
    }
    // Not retried on a gateway timeout or a lost connection: the task may exist already. The
    // ticket stays undelivered and the next run tries again (a rare duplicate beats a lost ticket).
    const created = await this.graph.send('POST', '/planner/tasks', {
      idempotent: false,
      body: { planId: this.options.planId, bucketId: this.options.bucketId, title: m.title, dueDateTime: m.ticket.dueDateTime, assignments },
    });
    const id = (created.body as { id?: unknown } | undefined)?.id;
    if (created.status !== 201 || typeof id !== 'string') throw new SinkError(`planner sink: creating the task answered ${created.status}; it is retried on the next run`);
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
