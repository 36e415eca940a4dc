/**
 * Exactly-once tickets at the level of the real CLI (issue 9, "Done when"): the built
 * `m365-audit scan` (dist/, built by `npm test`'s pretest) with the Planner sink (the simulator's
 * default plan) and the webhook sink (a receiver on 127.0.0.1 that de-duplicates on
 * X-M365Audit-Idempotency-Key, as the README asks receivers to), on the embedded Azurite, killed
 * while it delivers and rerun until it completes:
 *
 * - SIGKILL, when the receiver has accepted the first event (before it answers), when the plan has
 *   a middle number of tasks, and when the receiver has accepted the last event;
 * - SIGINT (Ctrl-C), at the first task, a middle event and the last task;
 * - the embedded Azurite itself killed (SIGKILL; its pid is in the lock file) mid-delivery, so that
 *   the ledger writes it had not yet saved to disk are lost.
 *
 * Each set runs in a folder of its own against a fresh simulator, one kill per run (the counts go
 * on across runs: a killed run's deliveries stay delivered), then a run to completion (exit 0),
 * then the invariants: one ledger entry per finding and one ticket per open finding, exactly one
 * Planner task per ticket, every event accepted exactly once, nothing resolved (the tenant did not
 * change), and no Azurite left running. A reference folder, never killed, gives the expected
 * tickets and shows that a second scan of the unchanged tenant opens nothing and sends nothing.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { LedgerEntry } from '../../src/findings/ledger';
import { generateDemoTenant } from '../../src/sim/demo-tenant';
import { DEFAULT_PLANNER_BUCKET_ID, DEFAULT_PLANNER_PLAN_ID } from '../../src/sim/planner';
import { BlobServiceClient } from '@azure/storage-blob';
import { acquireAzurite } from '../../src/store/azurite';
import { Store } from '../../src/store/store';
import { startTestSim, type TestSim } from '../support/sim';
import { alive } from '../support/cli';

jest.setTimeout(600_000);

const CLI = resolve(__dirname, '..', '..', 'dist', 'src', 'cli.js');
const demo = generateDemoTenant({ seed: 5, users: 30 });
const TENANT = demo.data.tenantId;
/** Azurite's documented development account key (public, not a secret). */
const DEV_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

const dataDir = (cwd: string): string => join(cwd, '.m365-audit', 'azurite');
function lockOf(cwd: string): { pid: number; ports?: { blob: number } } | undefined {
  try {
    return JSON.parse(readFileSync(join(dataDir(cwd), 'm365-audit-azurite.json'), 'utf8')) as { pid: number; ports?: { blob: number } };
  } catch {
    return undefined;
  }
}

/** The receiver of one set: what it accepted (once per key) and how many requests repeated a key. */
interface Receiver {
  accepted: Map<string, { event: string; findingId: string }>;
  requests: number;
  /** Called once a request is accepted, before it is answered: resolves when the answer may go. */
  onAccept?: (acceptedCount: number, res: ServerResponse) => Promise<'answer' | 'drop'>;
}

/** Where a run is killed: when the receiver accepted `n` events, or the plan holds `n` tasks. */
type KillPoint = { at: 'accepted' | 'tasks'; n: number; target: 'cli' | 'azurite'; signal: NodeJS.Signals };

interface CliRun { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; killed: boolean }

describe('the CLI killed while it delivers tickets, then rerun', () => {
  let server: Server;
  let hookBase = '';
  const receivers = new Map<string, Receiver>();

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` (npm test does it first)`);
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => { body += c.toString(); });
      req.on('end', () => {
        const r = receivers.get(req.url ?? '');
        const key = String(req.headers['x-m365audit-idempotency-key'] ?? '');
        if (!r || !key) {
          res.writeHead(400).end();
          return;
        }
        r.requests++;
        // The receiver's contract (README): a key already accepted is answered 2xx and changes nothing.
        if (r.accepted.has(key)) {
          res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"duplicate":true}');
          return;
        }
        const findingId = String((JSON.parse(body) as { finding?: { id?: string } }).finding?.id ?? '');
        r.accepted.set(key, { event: String(req.headers['x-m365audit-event'] ?? ''), findingId });
        void (r.onAccept ? r.onAccept(r.accepted.size, res) : Promise.resolve('answer' as const)).then((what) => {
          if (what === 'drop') res.destroy();
          else res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok":true}');
        });
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    hookBase = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  const envFor = (t: TestSim, hook: string): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH,
    NODE_EXTRA_CA_CERTS: t.sim.caPath,
    M365_AUDIT_PLANNER_PLAN_ID: DEFAULT_PLANNER_PLAN_ID,
    M365_AUDIT_PLANNER_BUCKET_ID: DEFAULT_PLANNER_BUCKET_ID,
    M365_AUDIT_TICKET_WEBHOOK_URL: `${hookBase}${hook}`,
  });

  /** One `m365-audit scan` in `cwd`, killed at `kill` when given (the run then must not finish on its own). */
  async function scan(t: TestSim, cwd: string, hook: string, kill?: KillPoint): Promise<CliRun> {
    const receiver = receivers.get(hook) as Receiver;
    const args = [CLI, 'scan', '--graph-url', t.sim.url, '--tenant-id', TENANT, '--lang', 'en', '--json', '--out', 'out'];
    const child = spawn(process.execPath, args, { cwd, env: envFor(t, hook), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.on('exit', (code, signal) => done({ code, signal })));
    let killed = false;
    const fire = async (point: KillPoint): Promise<void> => {
      if (killed) return;
      killed = true;
      if (point.target === 'azurite') {
        const pid = lockOf(cwd)?.pid;
        if (!pid) throw new Error('no Azurite pid in the lock file');
        process.kill(pid, point.signal);
        return;
      }
      child.kill(point.signal);
      await exited;
    };
    let poll: NodeJS.Timeout | undefined;
    if (kill?.at === 'accepted') {
      // Accepted, and the sender is killed before it hears so (for the CLI): the delivery it could not record.
      receiver.onAccept = async (count) => {
        if (count !== kill.n) return 'answer';
        await fire(kill);
        return kill.target === 'cli' ? 'drop' : 'answer';
      };
    } else if (kill?.at === 'tasks') {
      poll = setInterval(() => {
        if (t.sim.plannerTasks().length >= kill.n) void fire(kill);
      }, 2);
    }
    const started = Date.now();
    const { code, signal } = await exited;
    if (process.env.CRASH_TIMES) process.stderr.write(`${hook} ${kill ? `${kill.signal} ${kill.target} at ${kill.at}=${kill.n}` : 'to the end'}: exit ${code ?? signal} after ${Date.now() - started} ms\n${process.env.CRASH_TIMES === 'all' ? stderr : ''}`);
    if (poll) clearInterval(poll);
    receiver.onAccept = undefined;
    return { code, signal, stdout, stderr, killed };
  }

  /** Reads the folder's ledger through its Azurite (started for the read, stopped after). */
  async function ledgerOf(cwd: string): Promise<Map<string, LedgerEntry>> {
    const azurite = await acquireAzurite(dataDir(cwd));
    try {
      return await (await Store.connect(azurite.connectionString)).getLedger(TENANT);
    } finally {
      await azurite.stop();
    }
  }

  /**
   * Stands for the 60 s after which the ledger lease of a SIGKILLed holder lapses (store.ts): breaks
   * it, through the folder's Azurite (the orphan still running, or one started for this and stopped
   * after), so that the rerun does not wait out the lapse. What the rerun finds is otherwise untouched.
   */
  async function lapseLease(cwd: string): Promise<void> {
    const lock = lockOf(cwd);
    const orphan = lock?.ports && alive(lock.pid) ? lock.ports : undefined;
    const azurite = orphan ? undefined : await acquireAzurite(dataDir(cwd));
    const connection = azurite?.connectionString ??
      `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${DEV_KEY};BlobEndpoint=http://127.0.0.1:${orphan?.blob}/devstoreaccount1;`;
    try {
      const blob = BlobServiceClient.fromConnectionString(connection).getContainerClient('state').getBlockBlobClient(`${TENANT}/ledger.lock`);
      if ((await blob.getProperties()).leaseState === 'leased') await blob.getBlobLeaseClient().breakLease(0);
    } finally {
      await azurite?.stop();
    }
  }

  /** The invariants after a set converged; `expected`: the finding ids and open finding ids of the reference. */
  async function check(where: string, t: TestSim, cwd: string, receiver: Receiver, expected: { findings: string[]; open: string[] }): Promise<string[]> {
    const failures: string[] = [];
    const ledger = await ledgerOf(cwd);
    const entries = [...ledger.values()];
    // One ledger entry per finding, one ticket per open finding, nothing resolved.
    const ids = entries.map((e) => e.id).sort();
    if (JSON.stringify(ids) !== JSON.stringify(expected.findings)) failures.push(`${where}: ledger ${ids.length} entries, expected ${expected.findings.length}`);
    for (const e of entries) if (e.status === 'resolved' || e.resolvedAt) failures.push(`${where}: ${e.id} (${e.ruleId}) resolved`);
    const ticketed = entries.filter((e) => e.ticket);
    const open = ticketed.map((e) => e.id).sort();
    if (JSON.stringify(open) !== JSON.stringify(expected.open)) failures.push(`${where}: tickets for ${open.length} findings, expected ${expected.open.length}`);
    const ticketIds = ticketed.map((e) => e.ticket?.id ?? '');
    if (new Set(ticketIds).size !== ticketIds.length) failures.push(`${where}: a ticket id twice in the ledger`);
    // Exactly one Planner task per ticket (the ticket id starts every title), the one the ledger names.
    const tasks = t.sim.plannerTasks().filter((x) => x.task.planId === DEFAULT_PLANNER_PLAN_ID);
    const titled = tasks.map((x) => /^(T-[0-9a-f]{12}) /.exec(String(x.task.title))?.[1] ?? '?');
    if (tasks.length !== ticketIds.length) failures.push(`${where}: ${tasks.length} Planner tasks for ${ticketIds.length} tickets`);
    if (JSON.stringify([...titled].sort()) !== JSON.stringify([...ticketIds].sort())) failures.push(`${where}: the tasks' ticket ids are not the ledger's`);
    for (const e of ticketed) {
      const ticket = e.ticket as NonNullable<LedgerEntry['ticket']>;
      const task = tasks.find((x) => String(x.task.title).startsWith(`${ticket.id} `));
      if (ticket.sinks.planner?.ref !== task?.task.id) failures.push(`${where}: ${ticket.id} records task ${ticket.sinks.planner?.ref}, the plan has ${String(task?.task.id)}`);
      for (const [name, s] of Object.entries(ticket.sinks)) {
        if (s.pending) failures.push(`${where}: ${name} delivery still pending for ${ticket.id}`);
        if (s.delivered !== 'open') failures.push(`${where}: ${name} delivered ${s.delivered} for ${ticket.id}`);
      }
    }
    // Every event accepted exactly once: one ticket.opened per ticket, under its finding's key.
    const keys = [...receiver.accepted.keys()].sort();
    const wanted = expected.open.map((id) => `${id}:ticket.opened:0`).sort();
    if (JSON.stringify(keys) !== JSON.stringify(wanted)) failures.push(`${where}: accepted ${keys.length} keys, expected ${wanted.length}: ${keys.filter((k) => !wanted.includes(k)).join(', ')}`);
    for (const [key, v] of receiver.accepted) if (v.event !== 'ticket.opened' || !key.startsWith(`${v.findingId}:`)) failures.push(`${where}: key ${key} for ${v.event} of ${v.findingId}`);
    // No orphan: the last run stopped the folder's Azurite.
    const lock = lockOf(cwd);
    if (lock && alive(lock.pid)) failures.push(`${where}: Azurite pid ${lock.pid} still running`);
    return failures;
  }

  /** The findings of the last complete run in `cwd` (out/findings.json): all ids, and those that are open. */
  function findingsOf(cwd: string): { findings: string[]; open: string[] } {
    const doc = JSON.parse(readFileSync(join(cwd, 'out', 'findings.json'), 'utf8')) as { findings: Array<{ id: string; status: string }> };
    return { findings: doc.findings.map((f) => f.id).sort(), open: doc.findings.filter((f) => f.status === 'open').map((f) => f.id).sort() };
  }

  /** Runs the kills in order (one per run, each rerun continuing), then a run to completion. */
  async function killSet(name: string, points: (tickets: number) => KillPoint[], expected: { findings: string[]; open: string[] }): Promise<{ failures: string[]; resends: number; runs: CliRun[] }> {
    const t = await startTestSim({ tenant: demo.data });
    const cwd = mkdtempSync(join(tmpdir(), 'm365-audit-crash-'));
    const hook = `/hook/${name}`;
    const receiver: Receiver = { accepted: new Map(), requests: 0 };
    receivers.set(hook, receiver);
    const failures: string[] = [];
    const runs: CliRun[] = [];
    try {
      for (const point of points(expected.open.length)) {
        const r = await scan(t, cwd, hook, point);
        runs.push(r);
        const what = `${name}: ${point.signal} of the ${point.target} at ${point.at} = ${point.n}`;
        if (!r.killed) failures.push(`${what}: the run ended (exit ${r.code}) before the point: ${r.stderr.slice(-400)}`);
        if (/unexpected error|\n\s+at /.test(r.stderr)) failures.push(`${what}: ${r.stderr.slice(-600)}`);
        if (point.target === 'cli' && point.signal === 'SIGINT' && r.code !== 130) failures.push(`${what}: exit ${r.code} ${r.signal}, expected 130`);
        if (point.target === 'azurite' && r.code !== 1) failures.push(`${what}: exit ${r.code}, expected 1 (a StoreError)`);
        if (point.signal === 'SIGKILL') await lapseLease(cwd);
      }
      const last = await scan(t, cwd, hook);
      runs.push(last);
      if (last.code !== 0) failures.push(`${name}: the rerun exited ${last.code}: ${last.stderr.slice(-600)}`);
      failures.push(...(await check(name, t, cwd, receiver, expected)));
      return { failures, resends: receiver.requests - receiver.accepted.size, runs };
    } finally {
      await t.close();
      rmSync(cwd, { recursive: true, force: true });
    }
  }

  let expected: { findings: string[]; open: string[] } = { findings: [], open: [] };

  it('an uninterrupted scan opens one ticket per finding; a second scan of the unchanged tenant opens none and sends nothing', async () => {
    const t = await startTestSim({ tenant: demo.data });
    const cwd = mkdtempSync(join(tmpdir(), 'm365-audit-crash-'));
    const receiver: Receiver = { accepted: new Map(), requests: 0 };
    receivers.set('/hook/reference', receiver);
    try {
      const first = await scan(t, cwd, '/hook/reference');
      expect(first.stderr).not.toMatch(/unexpected error/);
      expect(first.code).toBe(0);
      expected = findingsOf(cwd);
      expect(expected.open.length).toBeGreaterThanOrEqual(6);
      expect((JSON.parse(first.stdout) as { tickets: { opened: string[] } }).tickets.opened).toHaveLength(expected.open.length);
      expect(receiver.requests).toBe(expected.open.length);
      const tasks = t.sim.plannerTasks().length;
      const again = await scan(t, cwd, '/hook/reference');
      expect(again.code).toBe(0);
      const out = JSON.parse(again.stdout) as { tickets: { opened: string[]; closed: string[]; reopened: string[] }; ledger: { opened: number; resolved: number } };
      expect(out.tickets).toMatchObject({ opened: [], closed: [], reopened: [] });
      expect(out.ledger).toMatchObject({ opened: 0, resolved: 0 });
      expect(receiver.requests).toBe(expected.open.length);
      expect(t.sim.plannerTasks()).toHaveLength(tasks);
      expect(await check('reference', t, cwd, receiver, expected)).toEqual([]);
    } finally {
      await t.close();
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  it('SIGKILL at the first event, a middle task and the last event; the reruns converge', async () => {
    const r = await killSet('sigkill', (n) => [
      { at: 'accepted', n: 1, target: 'cli', signal: 'SIGKILL' },
      { at: 'tasks', n: Math.ceil(n / 2), target: 'cli', signal: 'SIGKILL' },
      { at: 'accepted', n, target: 'cli', signal: 'SIGKILL' },
    ], expected);
    expect(r.failures).toEqual([]);
    // Azurite outlived each kill: only the deliveries in flight are resent, at most one per kill.
    expect(r.resends).toBeLessThanOrEqual(3);
  });

  it('SIGINT (Ctrl-C) at the first task, a middle event and the last task; the reruns converge', async () => {
    const r = await killSet('sigint', (n) => [
      { at: 'tasks', n: 1, target: 'cli', signal: 'SIGINT' },
      { at: 'accepted', n: Math.ceil(n / 2), target: 'cli', signal: 'SIGINT' },
      { at: 'tasks', n, target: 'cli', signal: 'SIGINT' },
    ], expected);
    expect(r.failures).toEqual([]);
  });

  it('the embedded Azurite killed mid-delivery (its unsaved writes lost): the rerun adopts and resends, never duplicates', async () => {
    const r = await killSet('azurite', (n) => [{ at: 'accepted', n: Math.ceil(n / 2), target: 'azurite', signal: 'SIGKILL' }], expected);
    expect(r.failures).toEqual([]);
  });
});
