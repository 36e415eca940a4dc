/**
 * Bad input as a user types it (issue 9, "Bad input and errors"): each is refused or accepted with a
 * clear message naming the field, option or variable, exit code 1 when refused, and never a stack
 * trace. Runs the built CLI (dist/) as a child process, like cli.test.ts.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateDemoTenant } from '../../src/sim/demo-tenant';
import { startTestSim } from '../support/sim';
import { CLI, run, STACK } from '../support/cli';

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'm365-audit-bad-'));
}

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` (npm test does it first)`);
});

describe('policy file', () => {
  it('refuses a YAML alias bomb with a clear message', async () => {
    const cwd = tmp();
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (const [name, prev] of [['b', 'a'], ['c', 'b'], ['d', 'c'], ['e', 'd'], ['f', 'e'], ['g', 'f']]) lines.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
    writeFileSync(join(cwd, 'bomb.yaml'), `${lines.join('\n')}\n`);
    const r = await run(['policy', 'check', 'bomb.yaml'], { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(STACK);
    expect(r.stderr).toMatch(/bomb\.yaml is refused:\n {2}- \(document\): its aliases \(\*name\) expand more than 100 times, as a YAML alias bomb does/);
  });

  it('refuses duplicate department names, naming both entries', async () => {
    const cwd = tmp();
    writeFileSync(
      join(cwd, 'dup.yaml'),
      [
        'organization:',
        '  departments:',
        '    - { name: 総務課, owner: soumu@example.lg.jp }',
        '    - { name: 税務課, owner: zeimu@example.lg.jp }',
        '    - { name: 会計課, owner: kaikei@example.lg.jp }',
        '    - { name: 総務課, owner: other@example.lg.jp }',
        '',
      ].join('\n'),
    );
    const r = await run(['policy', 'check', 'dup.yaml'], { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(STACK);
    expect(r.stderr).toContain('organization.departments[3].name: 総務課 is also organization.departments[0].name');
  });
});

describe('command-line options', () => {
  it('sim --port abc: a clear message and exit 1', async () => {
    const r = await run(['sim', '--port', 'abc'], { cwd: tmp() });
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(STACK);
    expect(r.stderr).toMatch(/option '--port <n>' argument 'abc' is invalid\. must be a whole number from 0 to 65535/);
  });

  it('sim --port on a port in use: a clear message and exit 1', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as AddressInfo).port;
      const r = await run(['sim', '--port', String(port)], { cwd: tmp() });
      expect(r.code).toBe(1);
      expect(r.stderr).not.toMatch(STACK);
      expect(r.stderr).toContain(`--port ${port} cannot be used (EADDRINUSE):\n  - port: another process listens on it; pick another, or 0 for a free one`);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('demo --users abc: a clear message and exit 1, before anything starts', async () => {
    const cwd = tmp();
    const r = await run(['demo', '--users', 'abc'], { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(STACK);
    expect(r.stderr).toMatch(/option '--users <n>' argument 'abc' is invalid\. must be a whole number from 1 to 100000/);
    expect(existsSync(join(cwd, '.m365-audit'))).toBe(false);
  });
});

describe('deployment settings', () => {
  it('an invalid AZURE_STORAGE_CONNECTION_STRING: says what is missing, not a TypeError, and never prints the key', async () => {
    const cwd = tmp();
    const key = 'c2VjcmV0LWtleS12YWx1ZS0xMjM0NTY3OA==';
    const env = { PATH: process.env.PATH, AZURE_STORAGE_CONNECTION_STRING: `DefaultEndpointsProtocol=https;AccountKey=${key}` };
    const r = await run(['tickets', '--tenant-id', 't'], { cwd, env });
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(STACK);
    expect(r.stderr).not.toMatch(/TypeError|toLowerCase/);
    expect(r.stderr).toMatch(/AZURE_STORAGE_CONNECTION_STRING: AccountName is missing/);
    expect(r.stderr).toMatch(/AZURE_STORAGE_CONNECTION_STRING: no endpoint for Blob and Table storage/);
    expect(r.stderr).not.toContain(key);
  });
});

describe('scanning the simulator', () => {
  const count = (text: string, re: RegExp): number => (text.match(new RegExp(re.source, 'g')) ?? []).length;

  it('without its CA: a TLS trust problem naming NODE_EXTRA_CA_CERTS, said once, exit 1', async () => {
    const demo = generateDemoTenant({ seed: 3, users: 20 });
    const t = await startTestSim({ tenant: demo.data, throttle: false });
    try {
      const env = { PATH: process.env.PATH, AZURE_STORAGE_CONNECTION_STRING: process.env.AZURE_STORAGE_CONNECTION_STRING };
      const r = await run(['scan', '--graph-url', t.sim.url, '--tenant-id', demo.data.tenantId, '--lang', 'en'], { cwd: tmp(), env });
      expect(r.code).toBe(1);
      expect(r.stderr).not.toMatch(STACK);
      expect(r.stderr).toMatch(/^[a-zA-Z, ]+: the certificate of the Graph host \(--graph-url\) is not trusted \(TLS trust problem, [A-Z_]+\) — for the simulator, set NODE_EXTRA_CA_CERTS/m);
      // Once in the progress lines (the others say "same cause") and once in the final summary.
      expect(count(r.stderr, /TLS trust problem/)).toBe(2);
      expect(r.stderr).toMatch(/\(same cause as /);
      // Not retried, and no request ever reached the simulator (each failed in the handshake).
      expect(Object.values(t.sim.counts()).reduce((a, b) => a + b, 0)).toBe(0);
    } finally {
      await t.close();
    }
  }, 120_000);

  it('a 401 on every endpoint is reported once, not once per slice', async () => {
    const demo = generateDemoTenant({ seed: 3, users: 20 });
    const t = await startTestSim({ tenant: demo.data, throttle: false, faults: [{ status: 401, code: 'InvalidAuthenticationToken', message: 'Access token validation failure.' }] });
    try {
      const env = { PATH: process.env.PATH, NODE_EXTRA_CA_CERTS: t.sim.caPath, AZURE_STORAGE_CONNECTION_STRING: process.env.AZURE_STORAGE_CONNECTION_STRING };
      const r = await run(['scan', '--graph-url', t.sim.url, '--tenant-id', demo.data.tenantId, '--lang', 'en'], { cwd: tmp(), env });
      expect(r.code).toBe(1);
      expect(r.stderr).not.toMatch(STACK);
      // The token refusal once in the progress lines and once in the summary, naming every slice
      // and endpoint; the sign-in times' own reading of a 401 (Entra ID P1) is a cause of its own.
      const refused = /answered 401 \(InvalidAuthenticationToken: Access token validation failure\.\) — the access token was refused/;
      expect(count(r.stderr, refused)).toBe(2);
      const summary = r.stderr.split('\n').filter((l) => l && !l.startsWith('  ') && !l.startsWith('warning:'));
      expect(summary.find((l) => refused.test(l))).toMatch(/^[a-zA-Z]+(, [a-zA-Z]+){10,}: answered 401 \(InvalidAuthenticationToken: Access token validation failure\.\) — the access token was refused: check AZURE_TENANT_ID \/ AZURE_CLIENT_ID and the credential \(GET \/[^ ]+(, GET \/[^ ]+)+(, and \d+ more)?\)$/);
      expect(summary.length).toBeLessThanOrEqual(2);
    } finally {
      await t.close();
    }
  }, 120_000);
});

describe('ledger close with a ticket id', () => {
  it('accepts the T-… id that `tickets` shows, and says exactly what to pass for an unknown one', async () => {
    const cwd = tmp();
    const env = { PATH: process.env.PATH, AZURE_STORAGE_CONNECTION_STRING: process.env.AZURE_STORAGE_CONNECTION_STRING };
    const demo = await run(['demo', '--users', '20', '--seed', '17', '--out', 'out', '--json'], { cwd, env });
    expect(demo.code).toBe(0);
    const tenantId = generateDemoTenant({ seed: 17, users: 20 }).data.tenantId;
    const list = JSON.parse((await run(['tickets', '--tenant-id', tenantId, '--json'], { cwd, env })).stdout) as Array<{ id: string; findingId: string; ruleId: string }>;
    const ticket = list.find((t) => t.ruleId.startsWith('SIGN-'));
    if (!ticket) throw new Error('the demo opens tickets for sign-in (event) findings');
    const closed = await run(['ledger', 'close', ticket.id, '--note', '本人に確認済み', '--tenant-id', tenantId], { cwd, env });
    expect(closed.stderr).not.toMatch(STACK);
    expect(closed.code).toBe(0);
    expect(closed.stdout).toContain(`${ticket.id} (finding ${ticket.findingId}): 台帳で閉じました`);
    const after = JSON.parse((await run(['tickets', '--status', 'closed', '--tenant-id', tenantId, '--json'], { cwd, env })).stdout) as Array<{ id: string }>;
    expect(after.map((t) => t.id)).toContain(ticket.id);

    const unknown = await run(['ledger', 'close', 'T-000000000000', '--note', 'x', '--tenant-id', tenantId], { cwd, env });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).not.toMatch(STACK);
    expect(unknown.stderr).toMatch(/no ticket T-000000000000 in the ledger of tenant .*\n {2}- finding: pass a ticket id \(T-…, as `m365-audit tickets` lists them\) or a finding id/);
  }, 180_000);
});

describe('policy warnings (stderr, not errors)', () => {
  it('warns of an already-expired exception and of a policy with no owners at all, and still succeeds', async () => {
    const cwd = tmp();
    writeFileSync(
      join(cwd, 'p.yaml'),
      [
        'exceptions:',
        '  - ruleId: ACCT-01',
        '    subject: shared-kiosk@example.lg.jp',
        '    reason: 窓口端末',
        '    approvedBy: ciso@example.lg.jp',
        '    compensatingControl: 端末室の入退室管理',
        '    approvedOn: 2024-04-01',
        '    expiresOn: 2025-03-31',
        '',
      ].join('\n'),
    );
    const r = await run(['policy', 'check', 'p.yaml'], { cwd });
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(STACK);
    expect(r.stdout).toMatch(/ポリシーファイルは有効です/);
    expect(r.stderr).toMatch(/^warning: p\.yaml:$/m);
    expect(r.stderr).toContain('exceptions[0]: ACCT-01 for shared-kiosk@example.lg.jp expired on 2025-03-31 and excepts nothing any more');
    expect(r.stderr).toContain('organization: names no owner at all (no ciso, no systemAdministrators, no departments) — tickets will have no assignee');

    writeFileSync(join(cwd, 'owned.yaml'), 'organization: { ciso: ciso@example.lg.jp }\n');
    const quiet = await run(['policy', 'check', 'owned.yaml'], { cwd });
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).toBe('');
  });
});

describe('long waits', () => {
  it('a Retry-After of several seconds is announced on stderr: what it waits for and how long', async () => {
    const demo = generateDemoTenant({ seed: 3, users: 20 });
    const t = await startTestSim({ tenant: demo.data, throttle: false, faults: [{ endpoint: 'signIns', status: 429, retryAfter: 5, times: 1 }] });
    try {
      const env = { PATH: process.env.PATH, NODE_EXTRA_CA_CERTS: t.sim.caPath, AZURE_STORAGE_CONNECTION_STRING: process.env.AZURE_STORAGE_CONNECTION_STRING };
      const r = await run(['signins', '--graph-url', t.sim.url, '--tenant-id', demo.data.tenantId, '--lang', 'en'], { cwd: tmp(), env });
      expect(r.stderr).not.toMatch(STACK);
      expect(r.code).toBe(0);
      expect(r.stderr).toContain('  waiting 5 s: 429 with Retry-After from GET /auditLogs/signIns (then attempt 2 of 5)');
    } finally {
      await t.close();
    }
  }, 120_000);
});
