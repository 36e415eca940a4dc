/**
 * Exactly-once ticket effects under interruption (issue 9, "Done when"): the ticket sync with the
 * Planner sink (against the simulator over HTTPS) and the webhook sink (against a receiver on
 * 127.0.0.1 that de-duplicates on X-M365Audit-Idempotency-Key, as the README asks receivers to),
 * interrupted at every point of a run — after each ledger write, after each Graph answer of the
 * Planner sink, after each accepted delivery — and then rerun to completion.
 *
 * The interruption is a kill, modelled in process: from the crash point on, every ledger write
 * and every sink or Graph call of the interrupted run never returns, so none of its code runs
 * again (no catch, no finally, no "record the failure"): what is durable is exactly what had been
 * written to the ledger before that point. The rerun starts from that ledger, as a new process.
 *
 * Each trial runs three scans — all findings open; two resolved (their tickets close); one back
 * (its ticket reopens) — with one crash somewhere in them, and then checks: one ticket per
 * finding, exactly one Planner task per ticket (in the state of its ticket), every event the
 * uninterrupted run delivers accepted exactly once by the receiver (a key seen twice is a resend
 * of the same event, at most one per crash), and the ledger holding every ticket's sink ids with
 * no pending delivery left.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { validatePolicy } from '../../src/config/policy';
import { fingerprint, type Finding } from '../../src/findings/finding';
import { reconcile, type LedgerEntry } from '../../src/findings/ledger';
import type { Graph } from '../../src/graph/graph';
import type { SimPlannerPlan } from '../../src/sim/server';
import { PlannerSink } from '../../src/tickets/planner';
import type { TicketSink } from '../../src/tickets/sink';
import { syncTickets } from '../../src/tickets/tickets';
import { WebhookSink } from '../../src/tickets/webhook';
import { startTestSim, type TestSim } from '../support/sim';

jest.setTimeout(300_000);

const policy = validatePolicy({ organization: { systemAdministrators: ['sysadmin@example.lg.jp'] } });
const SUBJECTS = ['u-1', 'u-2', 'u-3', 'u-4'];

function finding(subjectId: string): Finding {
  const subject = { kind: 'user' as const, id: subjectId, name: `${subjectId}@example.lg.jp` };
  return {
    id: fingerprint('MFA-02', subject), ruleId: 'MFA-02', clauses: ['5-1-3'], kind: 'state', severity: 'high', area: 'mfa',
    subject, title: { ja: '多要素認証が未登録の職員', en: 'Member without MFA registered' }, evidence: {}, status: 'open', firstSeen: '', lastSeen: '',
  };
}

/** The scans of a trial: which subjects each one sees (a complete mfa area, so the unseen resolve). */
const PHASES: Array<{ at: string; seen: string[] }> = [
  { at: '2026-04-28T01:00:00.000Z', seen: SUBJECTS },
  { at: '2026-04-29T01:00:00.000Z', seen: ['u-3', 'u-4'] },
  { at: '2026-04-30T01:00:00.000Z', seen: ['u-1', 'u-3', 'u-4'] },
];

/** The idempotency keys the three scans deliver: four opened, u-1 and u-2 closed, u-1 reopened. */
function expectedKeys(): string[] {
  const id = (s: string) => finding(s).id;
  return [
    ...SUBJECTS.map((s) => `${id(s)}:ticket.opened:0`),
    `${id('u-1')}:ticket.closed:1`, `${id('u-2')}:ticket.closed:1`, `${id('u-1')}:ticket.reopened:2`,
  ].sort();
}

/** Counts interruption points; at the chosen one, the run is killed: nothing after it ever returns. */
class Crasher {
  points = 0;
  crashed = false;
  private fire: () => void = () => undefined;
  readonly killed = new Promise<void>((resolve) => { this.fire = resolve; });
  constructor(private readonly at: number) {}
  /** A point passed; true when the run is dead from here on. */
  point(): boolean {
    if (this.crashed) return true;
    this.points++;
    if (this.points === this.at) {
      this.crashed = true;
      this.fire();
    }
    return this.crashed;
  }
  /** Runs `fn` unless the run is dead, then counts the point after it. */
  async step<T>(fn: () => Promise<T>): Promise<T> {
    if (this.crashed) return new Promise<T>(() => undefined);
    const value = await fn();
    if (this.point()) return new Promise<T>(() => undefined);
    return value;
  }
}

/** A Graph whose every request is an interruption point (`send` is what every other call goes through). */
function crashingGraph(graph: Graph, crasher: Crasher): Graph {
  return new Proxy(graph, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (prop === 'send') return (...args: Parameters<Graph['send']>) => crasher.step(() => target.send(...args));
      return value;
    },
  });
}

/** A sink whose every call is an interruption point once it returned (the effect happened, nothing else). */
function crashingSink(sink: TicketSink, crasher: Crasher): TicketSink {
  return {
    name: sink.name,
    open: (m, d) => crasher.step(() => sink.open(m, d)),
    close: (m, r, d) => crasher.step(() => sink.close(m, r, d)),
    reopen: (m, r, d) => crasher.step(() => sink.reopen(m, r, d)),
    ...(sink.update ? { update: (m, r) => crasher.step(() => (sink.update as NonNullable<TicketSink['update']>)(m, r)) } : {}),
  };
}

/** The receiver: counts what it accepts, once per idempotency key, and every request it saw. */
interface Receiver {
  accepted: Map<string, { event: string; findingId: string }>;
  seen: Array<{ key: string; event: string; findingId: string }>;
  /** When the receiver has seen this many requests, `kill` runs and the answer is never sent. */
  killAt?: number;
  kill?: () => Promise<void>;
}

describe('ticket sinks under interruption', () => {
  let t: TestSim;
  let server: Server;
  let hookBase = '';
  const receivers = new Map<string, Receiver>();
  const TRIALS = 200;
  const plans: SimPlannerPlan[] = Array.from({ length: TRIALS + 10 }, (_, i) => ({ id: `crashPlan${String(i).padStart(19, '0')}`, title: `trial ${i}`, buckets: [{ id: `crashBucket${String(i).padStart(17, '0')}`, name: 'todo' }] }));

  beforeAll(async () => {
    // Pages of 3 tasks, so that the listing's paging is part of every trial (Planner pages by itself).
    t = await startTestSim({ throttle: false, planner: { plans }, maxPageSize: { plannerPlanTasks: 3 } });
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => { body += c.toString(); });
      req.on('end', () => {
        const r = receivers.get(req.url ?? '');
        const key = String(req.headers['x-m365audit-idempotency-key'] ?? '');
        const event = String(req.headers['x-m365audit-event'] ?? '');
        const findingId = String((JSON.parse(body) as { finding?: { id?: string } }).finding?.id ?? '');
        if (!r || !key) {
          res.writeHead(400).end();
          return;
        }
        r.seen.push({ key, event, findingId });
        // The contract: a key already accepted is answered 2xx again and changes nothing.
        if (!r.accepted.has(key)) r.accepted.set(key, { event, findingId });
        if (r.killAt !== undefined && r.seen.length === r.killAt && r.kill) {
          // Accepted, and the sender dies before it hears so: the delivery it could not record.
          void r.kill().then(() => res.destroy());
          return;
        }
        res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok":true}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    hookBase = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    await t.close();
  });

  /** The invariants a trial must end with, as messages (none when they hold). */
  function check(where: string, r: { ledger: Map<string, LedgerEntry>; receiver: Receiver; planId: string }, expectedKeys: string[]): string[] {
    const failures: string[] = [];
    const entries = [...r.ledger.values()];
    // One ledger entry and one ticket per finding.
    if (entries.length !== SUBJECTS.length) failures.push(`${where}: ${entries.length} ledger entries`);
    const tasks = t.sim.plannerTasks().filter((x) => x.task.planId === r.planId);
    for (const e of entries) {
      const ticket = e.ticket;
      if (!ticket) {
        failures.push(`${where}: ${e.subject.id} has no ticket`);
        continue;
      }
      // Matched on the subject (in every ticket title), not on the ticket id the sink puts there.
      const mine = tasks.filter((x) => String(x.task.title).includes(e.subject.name));
      if (mine.length !== 1) failures.push(`${where}: ${mine.length} Planner tasks for ${ticket.id}`);
      const planner = ticket.sinks.planner;
      const webhook = ticket.sinks.webhook;
      if (!planner?.ref || planner.ref !== mine[0]?.task.id) failures.push(`${where}: the ledger's Planner ref of ${ticket.id} is ${planner?.ref}, the task is ${String(mine[0]?.task.id)}`);
      if (!webhook?.ref) failures.push(`${where}: no webhook ref for ${ticket.id}`);
      for (const [name, s] of Object.entries(ticket.sinks)) {
        if (s.pending) failures.push(`${where}: ${name} still pending for ${ticket.id}`);
        if (s.delivered !== ticket.state) failures.push(`${where}: ${name} delivered ${s.delivered}, ticket ${ticket.state}`);
      }
      const percent = mine[0]?.task.percentComplete;
      if (percent !== (ticket.state === 'closed' ? 100 : 0)) failures.push(`${where}: task of ${ticket.id} at ${String(percent)}% for a ${ticket.state} ticket`);
      if (!String(mine[0]?.details.description ?? '').includes('■')) failures.push(`${where}: task of ${ticket.id} has no description`);
    }
    const expectedStates = { 'u-1': 'open', 'u-2': 'closed', 'u-3': 'open', 'u-4': 'open' } as Record<string, string>;
    for (const e of entries) if (e.ticket?.state !== expectedStates[e.subject.id]) failures.push(`${where}: ${e.subject.id} ticket ${e.ticket?.state}`);
    if (tasks.length !== SUBJECTS.length) failures.push(`${where}: ${tasks.length} Planner tasks in the plan`);
    // Every event accepted exactly once; a repeated key is only a resend of the same event.
    const keys = [...r.receiver.accepted.keys()].sort();
    if (JSON.stringify(keys) !== JSON.stringify(expectedKeys)) failures.push(`${where}: accepted ${JSON.stringify(keys)}`);
    const resends = r.receiver.seen.length - r.receiver.accepted.size;
    if (resends > 1) failures.push(`${where}: ${resends} resends`);
    for (const s of r.receiver.seen) {
      const first = r.receiver.accepted.get(s.key);
      if (first?.event !== s.event || first.findingId !== s.findingId) failures.push(`${where}: key ${s.key} reused for ${s.event} of ${s.findingId}`);
    }
    return failures;
  }

  /** One trial: the three scans on plan `trial`, killed at point `crashAt` (0: never), each killed scan rerun. */
  async function trial(index: number, crashAt: number): Promise<{ points: number; ledger: Map<string, LedgerEntry>; receiver: Receiver; planId: string; crashed: boolean }> {
    const plan = plans[index] as SimPlannerPlan;
    const receiver: Receiver = { accepted: new Map(), seen: [] };
    receivers.set(`/hook/${index}`, receiver);
    /** The durable ledger: what a write put there stays, whatever happens to the run. */
    const ledger = new Map<string, LedgerEntry>();
    const crasher = new Crasher(crashAt);
    const graph = t.graph();
    const run = async (phase: (typeof PHASES)[number], c: Crasher | null): Promise<void> => {
      const write = async (entries: LedgerEntry[]): Promise<void> => {
        const put = async (): Promise<void> => { for (const e of entries) ledger.set(e.id, structuredClone(e)); };
        await (c ? c.step(put) : put());
      };
      const g = c ? crashingGraph(graph, c) : graph;
      const planner = new PlannerSink(g, { planId: plan.id, bucketId: plan.buckets[0]?.id ?? '', userIdOf: () => undefined });
      const webhook = new WebhookSink({ url: `${hookBase}/hook/${index}` });
      const sinks = c ? [crashingSink(planner, c), crashingSink(webhook, c)] : [planner, webhook];
      const rec = reconcile(structuredClone(ledger), {
        findings: phase.seen.map(finding), coverage: { mfa: { status: 'complete', items: SUBJECTS.length } }, areas: ['mfa'], at: phase.at,
      });
      await write(rec.changed);
      await syncTickets(rec.entries.values(), { policy, now: new Date(phase.at), sinks, departmentOf: () => undefined, persist: write });
    };
    for (const phase of PHASES) {
      if (!crasher.crashed) {
        const outcome = await Promise.race([run(phase, crasher).then(() => 'done' as const), crasher.killed.then(() => 'killed' as const)]);
        if (outcome === 'done') continue;
      }
      // Killed in this phase (or earlier): the rerun is a new process on the durable ledger.
      await run(phase, null);
    }
    return { points: crasher.points, ledger, receiver, planId: plan.id, crashed: crasher.crashed };
  }

  it('every interruption point, then a rerun: one ticket per finding, one task per ticket, each event accepted once', async () => {
    // The uninterrupted run: what every trial must end with, and how many points there are.
    const clean = await trial(0, 0);
    const points = clean.points;
    expect(points).toBeGreaterThan(40);
    expect(points).toBeLessThanOrEqual(TRIALS);
    const keys = expectedKeys();
    expect([...clean.receiver.accepted.keys()].sort()).toEqual(keys);
    // 4 opened, 2 closed, 1 reopened.
    expect([...clean.receiver.accepted.values()].map((v) => v.event).sort()).toEqual([
      'ticket.closed', 'ticket.closed', 'ticket.opened', 'ticket.opened', 'ticket.opened', 'ticket.opened', 'ticket.reopened',
    ]);
    expect(clean.receiver.seen).toHaveLength(keys.length);
    expect(check('uninterrupted', clean, keys)).toEqual([]);

    const failures: string[] = [];
    for (let k = 1; k <= points; k++) {
      const r = await trial(k, k);
      const where = `crash at point ${k} of ${points}`;
      if (!r.crashed) failures.push(`${where}: the crash did not happen`);
      failures.push(...check(where, r, keys));
    }
    expect(failures).toEqual([]);
  });

  it('a lost record never duplicates a task: the plan listing (once per run, all pages) finds it and the ticket adopts it', async () => {
    const plan = plans[TRIALS] as SimPlannerPlan;
    const graph = t.graph();
    const sink = () => new PlannerSink(graph, { planId: plan.id, bucketId: plan.buckets[0]?.id ?? '', userIdOf: () => undefined });
    const entries = reconcile(new Map(), { findings: SUBJECTS.map(finding), coverage: {}, areas: [], at: PHASES[0]?.at ?? '' }).changed;
    const first = await syncTickets(entries, { policy, now: new Date(), sinks: [sink()], departmentOf: () => undefined });
    expect(t.sim.plannerTasks().filter((x) => x.task.planId === plan.id)).toHaveLength(4);
    // One task completed by hand in Planner, then every record of the sink lost (an older release
    // recorded every 20 deliveries): a rerun lists the plan (pages of 3) once and adopts all four.
    const done = first.changed[0]?.ticket?.sinks.planner?.ref ?? '';
    const task = (await graph.get(`/planner/tasks/${done}`)) as { '@odata.etag': string };
    await graph.send('PATCH', `/planner/tasks/${done}`, { headers: { 'If-Match': task['@odata.etag'] }, body: { percentComplete: 100 } });
    const lost = first.changed.map((e) => ({ ...e, ticket: e.ticket ? { ...e.ticket, sinks: {} } : null }));
    t.sim.resetCounts();
    const again = await syncTickets(lost, { policy, now: new Date(), sinks: [sink()], departmentOf: () => undefined });
    expect(again.summary.adopted).toHaveLength(4);
    expect(again.summary.failedDeliveries).toEqual([]);
    expect(t.sim.plannerTasks().filter((x) => x.task.planId === plan.id)).toHaveLength(4);
    expect(again.changed.map((e) => e.ticket?.sinks.planner?.ref).sort()).toEqual(first.changed.map((e) => e.ticket?.sinks.planner?.ref).sort());
    // Adopted as open tickets are: the hand-completed task is open again.
    expect(t.sim.plannerTasks().find((x) => x.task.id === done)?.task.percentComplete).toBe(0);
    expect(t.sim.counts().plannerTasks ?? 0).toBe(0);
    expect(t.sim.counts().plannerPlanTasks).toBe(2);
  });

  it('creates no task when the plan cannot be listed, and says which endpoint and permission', async () => {
    const plan = plans[TRIALS] as SimPlannerPlan;
    const before = t.sim.plannerTasks().length;
    t.sim.setFaults([{ endpoint: 'plannerPlanTasks', status: 403, code: 'Forbidden', message: 'Forbidden' }]);
    try {
      const sink = new PlannerSink(t.graph(), { planId: plan.id, bucketId: plan.buckets[0]?.id ?? '', userIdOf: () => undefined });
      const entries = reconcile(new Map(), { findings: ['u-x1', 'u-x2'].map(finding), coverage: {}, areas: [], at: PHASES[0]?.at ?? '' }).changed;
      t.sim.resetCounts();
      const r = await syncTickets(entries, { policy, now: new Date(), sinks: [sink], departmentOf: () => undefined });
      expect(r.summary.failedDeliveries).toHaveLength(2);
      expect(t.sim.plannerTasks().length).toBe(before);
      // Listed once for the run (the failure is remembered), never created.
      expect(t.sim.counts().plannerPlanTasks).toBe(1);
      expect(t.sim.counts().plannerTasks ?? 0).toBe(0);
      const state = r.changed[0]?.ticket?.sinks.planner;
      expect(state?.pending).toMatchObject({ event: 'ticket.opened' });
      expect(state?.lastError).toMatch(/GET \/planner\/plans\/\{id\}\/tasks.*Tasks\.Read\.All or Tasks\.ReadWrite\.All/);
    } finally {
      t.sim.setFaults([]);
    }
  });

  it('a pending webhook event is resent with its own key before the later one, even when the ticket moved on', async () => {
    const receiver: Receiver = { accepted: new Map(), seen: [] };
    receivers.set('/hook/pending', receiver);
    const sink = new WebhookSink({ url: `${hookBase}/hook/pending` });
    const [opened] = reconcile(new Map(), { findings: [finding('u-p')], coverage: {}, areas: [], at: PHASES[0]?.at ?? '' }).changed;
    const first = await syncTickets([opened as LedgerEntry], { policy, now: new Date(), sinks: [sink], departmentOf: () => undefined });
    const entry = first.changed[0] as LedgerEntry;
    const ticket = entry.ticket as NonNullable<LedgerEntry['ticket']>;
    // A run sent the close and died before recording it; then the finding came back before the rerun.
    const closeKey = `${entry.id}:ticket.closed:1`;
    const interrupted: LedgerEntry = {
      ...entry,
      status: 'open',
      reopenCount: 1,
      ticket: { ...ticket, state: 'closed', transitions: 1, sinks: { webhook: { ...(ticket.sinks.webhook as NonNullable<typeof ticket.sinks.webhook>), pending: { event: 'ticket.closed', key: closeKey, at: PHASES[1]?.at ?? '' } } } },
    };
    const rerun = await syncTickets([interrupted], { policy, now: new Date(), sinks: [sink], departmentOf: () => undefined });
    expect(receiver.seen.map((x) => `${x.event} ${x.key}`)).toEqual([
      `ticket.opened ${entry.id}:ticket.opened:0`,
      `ticket.closed ${closeKey}`,
      `ticket.reopened ${entry.id}:ticket.reopened:2`,
    ]);
    expect(rerun.changed[0]?.ticket?.sinks.webhook).toEqual({ ref: entry.id, delivered: 'open', attempts: 0 });
  });

  it('SIGKILL of a real process when the receiver has accepted N events, then a rerun, converges the same way', async () => {
    const CHILD = join(__dirname, 'crash-child.js');
    const failures: string[] = [];
    for (const [i, killAt] of [1, 3, 5, 7].entries()) {
      const plan = plans[TRIALS + 1 + i] as SimPlannerPlan;
      const dir = mkdtempSync(join(tmpdir(), 'm365-crash-'));
      const receiver: Receiver = { accepted: new Map(), seen: [], killAt };
      const path = `/hook/kill-${killAt}`;
      receivers.set(path, receiver);
      let killed = 0;
      try {
        for (const phase of PHASES) {
          for (let attempt = 0; attempt < 2; attempt++) {
            const config = join(dir, 'config.json');
            writeFileSync(config, JSON.stringify({
              simUrl: t.sim.url, caPem: t.sim.caPem, planId: plan.id, bucketId: plan.buckets[0]?.id, hookUrl: `${hookBase}${path}`,
              ledgerFile: join(dir, 'ledger.json'), at: phase.at, seen: phase.seen, all: SUBJECTS,
            }));
            const child = spawn(process.execPath, [CHILD, config], { env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'ignore', 'pipe'] });
            let stderr = '';
            child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
            const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
            receiver.kill = async () => {
              child.kill('SIGKILL');
              await exited;
            };
            const { code, signal } = await exited;
            if (signal === 'SIGKILL') {
              killed++;
              receiver.killAt = undefined; // the rerun runs to the end
              continue;
            }
            if (code !== 0) failures.push(`kill at ${killAt}: the child exited ${code}: ${stderr.slice(0, 500)}`);
            break;
          }
        }
        const ledger = new Map<string, LedgerEntry>(JSON.parse(readFileSync(join(dir, 'ledger.json'), 'utf8')) as Array<[string, LedgerEntry]>);
        if (killed !== 1) failures.push(`kill at ${killAt}: killed ${killed} times`);
        failures.push(...check(`SIGKILL when the receiver had seen ${killAt}`, { ledger, receiver, planId: plan.id }, expectedKeys()));
        // The killed delivery was accepted and never answered: the rerun resent it, once.
        if (receiver.seen.length !== expectedKeys().length + 1) failures.push(`kill at ${killAt}: the receiver saw ${receiver.seen.length} requests`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    expect(failures).toEqual([]);
  });
});

