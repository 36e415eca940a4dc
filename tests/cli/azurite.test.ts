/**
 * One writer per ledger with the embedded storage, as the built CLI runs (dist/, built by
 * `npm test`'s pretest): CLIs in one folder share one Azurite (lock file in its data folder), an
 * orphan left by a killed CLI is reused and stopped, and an Azurite that dies mid-run is reported
 * as a StoreError with exit 1.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { generateDemoTenant } from '../../src/sim/demo-tenant';
import { DEFAULT_PLANNER_BUCKET_ID, DEFAULT_PLANNER_PLAN_ID } from '../../src/sim/planner';
import { acquireAzurite } from '../../src/store/azurite';
import { Store } from '../../src/store/store';
import { startTestSim, type TestSim } from '../support/sim';
import { alive } from '../support/cli';

const CLI = resolve(__dirname, '..', '..', 'dist', 'src', 'cli.js');

interface Run { code: number; stdout: string; stderr: string }

function run(args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<Run> {
  return new Promise((done) => {
    execFile(process.execPath, [CLI, ...args], { cwd: options.cwd, env: options.env, timeout: 180_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      done({ code, stdout, stderr });
    });
  });
}


const dataDir = (cwd: string): string => join(cwd, '.m365-audit', 'azurite');
const lockOf = (cwd: string): { pid: number; owners: string[]; ports?: unknown } | undefined => {
  try {
    return JSON.parse(readFileSync(join(dataDir(cwd), 'm365-audit-azurite.json'), 'utf8')) as { pid: number; owners: string[]; ports?: unknown };
  } catch {
    return undefined;
  }
};
/** The start/stop lines the CLIs wrote to the folder's Azurite log, in order. */
const lifecycle = (cwd: string): string[] =>
  (readFileSync(join(dataDir(cwd), 'm365-audit-azurite.log'), 'utf8').match(/^m365-audit: (started|stopped) Azurite pid \d+/gm) ?? []).map((l) => l.replace(/^m365-audit: /, ''));

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` (npm test does it first)`);
});

describe('the embedded Azurite, one per data folder', () => {
  const demo = generateDemoTenant({ seed: 5, users: 30 });
  let t: TestSim;
  let env: NodeJS.ProcessEnv;
  const scanArgs = (): string[] => ['scan', '--graph-url', t.sim.url, '--tenant-id', demo.data.tenantId, '--lang', 'en', '--json'];
  beforeEach(async () => {
    t = await startTestSim({ tenant: demo.data });
    // No AZURE_STORAGE_CONNECTION_STRING: the default embedded storage. Tickets go to the simulator's Planner plan.
    env = { PATH: process.env.PATH, NODE_EXTRA_CA_CERTS: t.sim.caPath, M365_AUDIT_PLANNER_PLAN_ID: DEFAULT_PLANNER_PLAN_ID, M365_AUDIT_PLANNER_BUCKET_ID: DEFAULT_PLANNER_BUCKET_ID };
  });
  afterEach(() => t.close());

  it('two scans started at once in one folder share one Azurite and end with the ledger and Planner of one run', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'm365-audit-cli-'));
    const [a, b] = await Promise.all([run([...scanArgs(), '--out', 'a'], { cwd, env }), run([...scanArgs(), '--out', 'b'], { cwd, env })]);
    for (const r of [a, b]) {
      expect(r.stderr).not.toMatch(/unexpected error|\n\s+at /);
      expect([0, 2]).toContain(r.code);
    }
    // Never two Azurites on the folder: each start is stopped before the next (one start when the runs overlap).
    const events = lifecycle(cwd);
    events.forEach((e, i) => expect(e).toMatch(i % 2 === 0 ? /^started/ : /^stopped/));
    expect(events.length % 2).toBe(0);
    if (events.length === 2) expect(`${a.stderr}${b.stderr}`).toMatch(/using the embedded Azurite already running for .*\(pid \d+, also used by m365-audit pid \d+\)/);
    expect(lockOf(cwd)).toBeUndefined();
    // One run opened the tickets, the other found them in the ledger: one Planner task per ticket.
    const opened = [a, b].map((r) => (JSON.parse(r.stdout) as { tickets: { opened: string[] } }).tickets.opened.length).sort((x, y) => x - y);
    const list = await run(['tickets', '--tenant-id', demo.data.tenantId, '--status', 'all', '--json'], { cwd, env });
    const tickets = JSON.parse(list.stdout) as Array<{ id: string }>;
    expect(tickets.length).toBeGreaterThan(0);
    expect(opened).toEqual([0, tickets.length]);
    const tasks = t.sim.plannerTasks();
    expect(tasks).toHaveLength(tickets.length);
    expect(new Set(tasks.map((x) => String(x.task.title))).size).toBe(tickets.length);
  }, 240_000);

  it('a CLI killed with SIGKILL leaves its Azurite running; the next run reuses it, says so, and stops it', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'm365-audit-cli-'));
    const child = spawn(process.execPath, [CLI, ...scanArgs(), '--out', 'a'], { cwd, env, stdio: 'ignore' });
    // Killed once the Azurite it started listens (its ports and the CLI's pid are in the lock file).
    await new Promise<void>((ready, fail) => {
      child.once('exit', () => fail(new Error('the scan ended before it could be killed')));
      const poll = (): void => {
        const lock = lockOf(cwd);
        if (lock?.ports && lock.owners.some((o) => o.startsWith(`${child.pid}:`))) ready();
        else setTimeout(poll, 20);
      };
      poll();
    });
    child.removeAllListeners('exit');
    await new Promise<void>((done) => {
      child.once('exit', () => done());
      child.kill('SIGKILL');
    });
    const orphan = lockOf(cwd)?.pid ?? 0;
    expect(alive(orphan)).toBe(true);
    const next = await run([...scanArgs(), '--out', 'b'], { cwd, env });
    expect(next.stderr).not.toMatch(/unexpected error|\n\s+at /);
    expect([0, 2]).toContain(next.code);
    expect(next.stderr).toContain(`using the embedded Azurite left running for ${dataDir(cwd)} by an m365-audit that did not stop it (pid ${orphan}); this run will stop it`);
    expect(lifecycle(cwd)).toEqual([`started Azurite pid ${orphan}`, `stopped Azurite pid ${orphan}`]);
    expect(alive(orphan)).toBe(false);
    expect(lockOf(cwd)).toBeUndefined();
    // Whatever the killed run had delivered, the rerun left one Planner task per ticket.
    const tickets = JSON.parse((await run(['tickets', '--tenant-id', demo.data.tenantId, '--status', 'all', '--json'], { cwd, env })).stdout) as unknown[];
    expect(t.sim.plannerTasks().length).toBeGreaterThanOrEqual(tickets.length);
  }, 240_000);

  it('a run waiting for the ledger lease says for whom; Azurite killed meanwhile → exit 1 with a StoreError, no stack trace', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'm365-audit-cli-'));
    // This test joins the folder's Azurite first and holds the tenant's ledger lease.
    const azurite = await acquireAzurite(dataDir(cwd));
    const store = await Store.connect(azurite.connectionString);
    let release = (): void => undefined;
    const held = store.withLedgerLease(demo.data.tenantId, () => new Promise<void>((r) => { release = r; })).catch(() => undefined);
    try {
      const child = spawn(process.execPath, [CLI, ...scanArgs(), '--out', 'a'], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      const exited = new Promise<number | null>((done) => child.once('exit', (c) => done(c)));
      child.stdout.resume();
      await new Promise<void>((waiting) => {
        child.stderr.on('data', (c: Buffer) => {
          stderr += c.toString();
          if (/waiting for the ledger lease/.test(stderr)) waiting();
        });
      });
      expect(stderr).toContain(`using the embedded Azurite already running for ${dataDir(cwd)} (pid ${azurite.pid}, also used by m365-audit pid ${process.pid})`);
      expect(stderr).toMatch(
        new RegExp(`waiting for the ledger lease of tenant ${demo.data.tenantId}, held by m365-audit pid ${process.pid} on host \\S+ since \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z; waiting up to 1[12]\\d s more`),
      );
      process.kill(azurite.pid, 'SIGKILL');
      expect(await exited).toBe(1);
      expect(stderr).toMatch(new RegExp(`the embedded Azurite \\(pid ${azurite.pid}, data in .*\\) stopped during the run`));
      expect(stderr).not.toMatch(/unexpected error|\n\s+at /);
    } finally {
      release();
      await held;
      await azurite.stop();
    }
    expect(lockOf(cwd)).toBeUndefined();
  }, 240_000);
});
