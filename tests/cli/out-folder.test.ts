/**
 * `--out` and what it holds after a run (issue 9, "Bad input and errors"), as a user runs the built
 * CLI against a simulator: an unusable output folder stops the run before anything changes (no
 * Graph read, no ledger entry, no ticket), and a run that fails replaces the previous report with
 * one that says it failed, never leaving a stale report that reads as current.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateDemoTenant } from '../../src/sim/demo-tenant';
import { startTestSim } from '../support/sim';
import { CLI, run, STACK } from '../support/cli';

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` (npm test does it first)`);
});

interface FindingsDoc { outcome?: string; error?: string; scanId?: string; findings?: unknown[]; replaced?: { scanId: string } }
const readDoc = (dir: string): FindingsDoc => JSON.parse(readFileSync(join(dir, 'findings.json'), 'utf8')) as FindingsDoc;

describe('an unusable --out', () => {
  it('stops the run before it reads Graph or writes the ledger: exit 1, the message names --out, no ticket', async () => {
    const demo = generateDemoTenant({ seed: 941, users: 30 });
    const t = await startTestSim({ tenant: demo.data, throttle: false });
    try {
      const cwd = mkdtempSync(join(tmpdir(), 'm365-audit-out-'));
      // Tests run as root, whom permission bits do not stop: a file is in the way instead.
      writeFileSync(join(cwd, 'report-file'), 'not a folder');
      const env = { PATH: process.env.PATH, NODE_EXTRA_CA_CERTS: t.sim.caPath, AZURE_STORAGE_CONNECTION_STRING: process.env.AZURE_STORAGE_CONNECTION_STRING };
      const args = ['scan', '--graph-url', t.sim.url, '--tenant-id', demo.data.tenantId, '--lang', 'en'];

      const under = await run([...args, '--out', 'report-file/out'], { cwd, env });
      expect(under.code).toBe(1);
      expect(under.stderr).not.toMatch(STACK);
      expect(under.stderr).toMatch(/^--out .*report-file\/out cannot be used for the reports: .*report-file is a file, so no folder can be made under it — pass --out a folder that is not under a file; nothing was scanned or written$/m);

      const file = await run([...args, '--out', 'report-file'], { cwd, env });
      expect(file.code).toBe(1);
      expect(file.stderr).not.toMatch(STACK);
      expect(file.stderr).toMatch(/^--out .*report-file cannot be used for the reports: it is a file, not a folder — pass --out a folder \(or move the file away\)/m);
      expect(readFileSync(join(cwd, 'report-file'), 'utf8')).toBe('not a folder');

      // Nothing was read from Graph, and the ledger has no entry and no ticket for the tenant.
      expect(t.sim.counts().total ?? 0).toBe(0);
      const tickets = await run(['tickets', '--status', 'all', '--tenant-id', demo.data.tenantId, '--json'], { cwd, env });
      expect(tickets.code).toBe(0);
      expect(JSON.parse(tickets.stdout)).toEqual([]);
      expect(t.sim.plannerTasks()).toHaveLength(0);
    } finally {
      await t.close();
    }
  }, 120_000);
});

describe('a failed run', () => {
  it('replaces the previous good report with one that says it failed (every endpoint 401, then a bad policy)', async () => {
    const demo = generateDemoTenant({ seed: 942, users: 30 });
    const t = await startTestSim({ tenant: demo.data, throttle: false });
    try {
      const cwd = mkdtempSync(join(tmpdir(), 'm365-audit-out-'));
      const env = { PATH: process.env.PATH, NODE_EXTRA_CA_CERTS: t.sim.caPath, AZURE_STORAGE_CONNECTION_STRING: process.env.AZURE_STORAGE_CONNECTION_STRING };
      const args = ['scan', '--graph-url', t.sim.url, '--tenant-id', demo.data.tenantId, '--lang', 'en'];
      const good = await run(args, { cwd, env });
      expect(good.code).toBe(0);
      const first = readDoc(join(cwd, 'out'));
      expect(first.outcome).toBe('complete');
      expect(first.findings?.length).toBeGreaterThan(0);

      // Every endpoint refuses the token: exit 1, and out/ no longer shows the good scan as current.
      t.sim.setFaults([{ status: 401, code: 'InvalidAuthenticationToken', message: 'Access token validation failure.' }]);
      const refused = await run(args, { cwd, env });
      expect(refused.code).toBe(1);
      expect(refused.stderr).not.toMatch(STACK);
      expect(refused.stderr).toMatch(/report\.html says this run failed/);
      const failed = readDoc(join(cwd, 'out'));
      expect(failed.outcome).toBe('failed');
      expect(failed.scanId).not.toBe(first.scanId);
      expect(failed.error).toMatch(/answered 401 \(InvalidAuthenticationToken/);
      expect(failed.findings).toEqual([]);
      expect(readFileSync(join(cwd, 'out', 'report.html'), 'utf8')).toMatch(/This run failed at \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} .*answered 401/);

      // A good run again, then one that fails before it can scan (its policy is invalid).
      t.sim.setFaults([]);
      expect((await run(args, { cwd, env })).code).toBe(0);
      const again = readDoc(join(cwd, 'out'));
      writeFileSync(join(cwd, 'bad.yaml'), 'accounts:\n  inactiveDays: zero\n');
      const bad = await run([...args, '--policy', 'bad.yaml'], { cwd, env });
      expect(bad.code).toBe(1);
      expect(bad.stderr).not.toMatch(STACK);
      expect(bad.stderr).toMatch(/accounts\.inactiveDays/);
      const replaced = readDoc(join(cwd, 'out'));
      expect(replaced).toMatchObject({ outcome: 'failed', error: expect.stringMatching(/accounts\.inactiveDays/), replaced: { scanId: again.scanId } });
      expect(replaced.findings).toBeUndefined();
      expect(existsSync(join(cwd, 'out', 'findings.csv'))).toBe(false);
      expect(readFileSync(join(cwd, 'out', 'report.html'), 'utf8')).toContain('m365-audit scan failed at');
    } finally {
      await t.close();
    }
  }, 180_000);

  it('stopped by Ctrl-C, replaces the previous report with one that says it was stopped', async () => {
    const demo = generateDemoTenant({ seed: 943, users: 30 });
    const t = await startTestSim({ tenant: demo.data, throttle: false });
    try {
      const cwd = mkdtempSync(join(tmpdir(), 'm365-audit-out-'));
      const env = { PATH: process.env.PATH, NODE_EXTRA_CA_CERTS: t.sim.caPath, AZURE_STORAGE_CONNECTION_STRING: process.env.AZURE_STORAGE_CONNECTION_STRING };
      const args = ['scan', '--graph-url', t.sim.url, '--tenant-id', demo.data.tenantId, '--lang', 'en'];
      expect((await run(args, { cwd, env })).code).toBe(0);
      const first = readDoc(join(cwd, 'out'));
      // The user list is throttled with a long Retry-After: the run waits, and says so; stop it then.
      t.sim.setFaults([{ endpoint: 'users', status: 429, retryAfter: 120 }]);
      const child = spawn(process.execPath, [CLI, ...args], { cwd, env });
      let stderr = '';
      const code = await new Promise<number | null>((done) => {
        child.once('exit', (c) => done(c));
        child.stderr.on('data', (c: Buffer) => {
          stderr += c.toString();
          if (!child.killed && /waiting \d+ s/.test(stderr)) child.kill('SIGINT');
        });
      });
      expect(code).toBe(130);
      const stopped = readDoc(join(cwd, 'out'));
      expect(stopped).toMatchObject({ outcome: 'failed', error: expect.stringMatching(/stopped by SIGINT before the run finished/), replaced: { scanId: first.scanId } });
      expect(stopped.findings).toBeUndefined();
    } finally {
      await t.close();
    }
  }, 120_000);

  it('leaves no out/ behind when it fails before checking it and there was none', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'm365-audit-out-'));
    writeFileSync(join(cwd, 'bad.yaml'), 'accounts:\n  inactiveDays: zero\n');
    const r = await run(['scan', '--policy', 'bad.yaml', '--graph-url', 'https://127.0.0.1:9', '--tenant-id', 't'], { cwd });
    expect(r.code).toBe(1);
    expect(existsSync(join(cwd, 'out'))).toBe(false);
  });
});
