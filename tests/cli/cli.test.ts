/**
 * The command line as a user runs it (the compiled dist/, built by `npm test`'s pretest step):
 * exit codes, outputs, and that the demo works from an empty directory with its own Azurite.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { generateDemoTenant } from '../../src/sim/demo-tenant';
import { signInAvailable } from '../../src/sim/tenant';
import { startTestSim } from '../support/sim';
import { Hook, SECRET } from '../support/teams-hook';
import { launchChromium } from '../support/browser';

const CLI = resolve(__dirname, '..', '..', 'dist', 'src', 'cli.js');

interface Run { code: number; stdout: string; stderr: string }

function run(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<Run> {
  return new Promise((done) => {
    execFile(process.execPath, [CLI, ...args], { cwd: options.cwd, env: options.env ?? { PATH: process.env.PATH }, timeout: 180_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      done({ code, stdout, stderr });
    });
  });
}

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` (npm test does it first)`);
});

describe('m365-audit demo', () => {
  it('starts the simulated tenant and its own Azurite, scans, and writes the reports', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'm365-audit-cli-'));
    const r = await run(['demo', '--out', 'out'], { cwd });
    expect(r.stderr).not.toMatch(/unexpected error/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/デモ検証: 仕込んだ違反 (\d+) 件中 \1 件を検出、想定外の検出 0 件/);
    for (const f of ['findings.json', 'report.html', 'findings.csv', 'demo-policy.yaml']) expect(existsSync(join(cwd, 'out', f))).toBe(true);
    expect(existsSync(join(cwd, '.m365-audit', 'azurite'))).toBe(true);
    const doc = JSON.parse(readFileSync(join(cwd, 'out', 'findings.json'), 'utf8')) as { coverage: Record<string, { status: string }>; findings: Array<{ status: string }> };
    expect(Object.values(doc.coverage).every((c) => c.status === 'complete')).toBe(true);
    const open = doc.findings.filter((f) => f.status === 'open').length;
    expect(r.stdout).toContain(`チケット: 新規 ${open} 件`);
    expect(r.stdout).toMatch(new RegExp(`今回起票したチケット \\(${open} 件、Planner にも登録\\):\\n  T-[0-9a-f]{12}  緊急`));
    // Japanese lines name areas, states and severities in Japanese, and say what to do about unrouted tickets.
    expect(r.stdout).toContain('点検範囲: アカウント=完了 多要素認証=完了 特権ロール=完了 メール=完了 サインイン=完了 ファイル共有=完了');
    expect(r.stdout).toMatch(/指摘: \d+ \(未対応: 緊急 \d+, 高 \d+, 中 \d+, 低 \d+; 例外: \d+\)/);
    expect(r.stdout).toMatch(/担当未割当 [1-9]\d* 件\n  → 担当未割当のチケットは情報システム管理者に割り当てています。ポリシーの organization\.departments に部署と情報セキュリティ責任者（owner）を追加してください/);
    expect(r.stderr).toMatch(/^  \S+ +完了 +\d+$/m);
    // The report and the CSV speak Japanese too.
    expect(readFileSync(join(cwd, 'out', 'findings.csv'), 'utf8')).toMatch(/^\uFEFFチケット ID,重要度,状態,領域,ルール,/);
    // No webhook: the run's card is written for a person to look at.
    const alertFiles = () => readdirSync(join(cwd, 'out', 'alerts')).filter((f) => f.endsWith('.json') && f.includes('-run-'));
    expect(alertFiles()).toHaveLength(1);
    expect(alertFiles()[0]).toMatch(/^\d{8}-\d{6}-run-[0-9a-f]{8}\.json$/);
    const card = JSON.parse(readFileSync(join(cwd, 'out', 'alerts', alertFiles()[0] as string), 'utf8')) as { type: string; attachments: Array<{ content: { version: string } }> };
    expect(card.type).toBe('message');
    expect(card.attachments[0]?.content.version).toBe('1.5');
    expect(r.stdout).toContain('Teams 通知（TEAMS_WEBHOOK_URL 未設定のためファイルに出力）');
    // …and out/alerts.html shows every card there (the run's and the digest's announcement) as
    // Microsoft's renderer draws it, without a renderer error.
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(`file://${join(cwd, 'out', 'alerts.html')}`);
      await page.locator('body:not([data-render-status="pending"])').waitFor({ state: 'attached' });
      const rendered = (await page.evaluate('window.__alertRender')) as Array<{ name: string; rendered: boolean; errors: string[] }>;
      expect(rendered.map((x) => x.name).some((n) => n.includes('-run-'))).toBe(true);
      expect(rendered.map((x) => x.name).some((n) => n.includes('-digest-'))).toBe(true);
      for (const x of rendered) expect(x).toMatchObject({ rendered: true, errors: [] });
      expect(await page.getAttribute('body', 'data-render-status')).toBe('ok');
    } finally {
      await browser.close();
    }

    // A second run on the same ledger opens nothing new: the same findings keep their tickets.
    const again = await run(['demo', '--out', 'out'], { cwd });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('チケット: 新規 0 件');
    expect(again.stdout).toContain('今回新たに起票したチケットはありません');
    // …and alerts nothing new: the news of the first run was recorded as alerted.
    expect(alertFiles()).toHaveLength(1);
    expect(again.stdout).not.toContain('Teams 通知');

    // The tickets are in the ledger; `tickets` lists them.
    const tenant = /--tenant-id ([0-9a-f-]{36})/.exec(again.stdout)?.[1] ?? '';
    const list = await run(['tickets', '--tenant-id', tenant, '--json'], { cwd });
    expect(list.code).toBe(0);
    const tickets = JSON.parse(list.stdout) as Array<{ id: string; state: string; dueDate: string; assignees: string[]; sinks: Record<string, { delivered: string }> }>;
    expect(tickets).toHaveLength(open);
    for (const t of tickets) expect(t).toMatchObject({ state: 'open', dueDate: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/), sinks: { planner: { delivered: 'open' } } });
    // The listing follows the language: Japanese by default, English with --lang en.
    const ja = await run(['tickets', '--tenant-id', tenant], { cwd });
    expect(ja.stdout).toMatch(/^T-[0-9a-f]{12}  未対応 +緊急 +\S+ +期限 \d{4}-\d{2}-\d{2}/m);
    expect(ja.stdout).toContain(`チケット ${open} 件\n`);
    const en = await run(['tickets', '--tenant-id', tenant, '--lang', 'en'], { cwd });
    expect(en.stdout).toMatch(/^T-[0-9a-f]{12}  open +critical +\S+ +due \d{4}-\d{2}-\d{2}/m);
    expect(en.stdout).toContain(`${open} ticket(s)\n`);
  }, 180_000);

  it('speaks English with --lang en and gives machine output with --json', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'm365-audit-cli-'));
    const r = await run(['demo', '--out', 'out', '--lang', 'en', '--json'], { cwd });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { planted: number; found: number; unexpected: number; exitCode: number };
    expect(out.found).toBe(out.planted);
    expect(out.unexpected).toBe(0);
    expect(readFileSync(join(cwd, 'out', 'report.html'), 'utf8')).toContain('<html lang="en">');
  }, 180_000);
});

describe('m365-audit --version', () => {
  it('prints the version of package.json', async () => {
    const pkg = JSON.parse(readFileSync(resolve(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
    const r = await run(['--version'], { cwd: mkdtempSync(join(tmpdir(), 'm365-audit-cli-')) });
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });
});

describe('m365-audit policy check', () => {
  it('accepts a valid file and lists every problem of a bad one with exit code 1', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'm365-audit-cli-'));
    writeFileSync(join(cwd, 'good.yaml'), 'organization: { name: テスト組合 }\n');
    writeFileSync(join(cwd, 'bad.yaml'), 'accounts:\n  inactiveDays: zero\n  maxGlobalAdmin: 3\n');
    const good = await run(['policy', 'check', 'good.yaml'], { cwd });
    expect(good.code).toBe(0);
    expect(good.stdout).toMatch(/ポリシーファイルは有効です/);
    const bad = await run(['policy', 'check', 'bad.yaml'], { cwd });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/accounts\.inactiveDays: /);
    expect(bad.stderr).toMatch(/accounts\.maxGlobalAdmin: unknown key/);
  });
});

describe('m365-audit scan', () => {
  it('exits 1 with a clear message when there are no credentials for a real Graph', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'm365-audit-cli-'));
    const r = await run(['scan', '--tenant-id', '00000000-0000-0000-0000-000000000001'], { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no credentials for https:\/\/graph\.microsoft\.com/);
    expect(existsSync(join(cwd, 'out'))).toBe(false);
  });

  it('exits 1 at once, naming the variable to fix, when the certificate file is not PEM (no retries, no areas reported)', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'm365-audit-cli-'));
    writeFileSync(join(cwd, 'app.pfx'), Buffer.from([0x30, 0x82, 0x0a, 0x1f, 0x02, 0x01, 0x03]));
    const env = {
      PATH: process.env.PATH,
      AZURE_STORAGE_CONNECTION_STRING: process.env.AZURE_STORAGE_CONNECTION_STRING,
      AZURE_TENANT_ID: '00000000-0000-0000-0000-000000000001',
      AZURE_CLIENT_ID: '00000000-0000-0000-0000-000000000002',
      AZURE_CLIENT_CERTIFICATE_PATH: join(cwd, 'app.pfx'),
    };
    const r = await run(['scan'], { cwd, env });
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(/unexpected error/);
    expect(r.stderr).toMatch(/no access token for Microsoft Graph: AZURE_CLIENT_CERTIFICATE_PATH: .*PEM/);
    expect(r.stderr).not.toMatch(/no answer from Microsoft Graph after/);
    expect(existsSync(join(cwd, 'out'))).toBe(false);
  });

  it('exits 1 for an unknown area', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'm365-audit-cli-'));
    const r = await run(['scan', '--areas', 'accounts,bogus', '--graph-url', 'https://127.0.0.1:9', '--tenant-id', 't'], { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/areas: unknown bogus/);
  });
});

describe('m365-audit scan against a running simulator', () => {
  it('exits 2 and writes partial coverage when PIM data is forbidden', async () => {
    const demo = generateDemoTenant({ seed: 5, users: 30 });
    const t = await startTestSim({ tenant: demo.data, faults: [{ endpoint: 'roleEligibilitySchedules', status: 403 }] });
    try {
      const cwd = mkdtempSync(join(tmpdir(), 'm365-audit-cli-'));
      const env = { PATH: process.env.PATH, NODE_EXTRA_CA_CERTS: t.sim.caPath, AZURE_STORAGE_CONNECTION_STRING: process.env.AZURE_STORAGE_CONNECTION_STRING };
      const r = await run(['scan', '--graph-url', t.sim.url, '--tenant-id', demo.data.tenantId, '--lang', 'en'], { cwd, env });
      expect(r.code).toBe(2);
      expect(r.stdout).toMatch(/coverage: accounts=complete mfa=partial roles=partial/);
      const doc = JSON.parse(readFileSync(join(cwd, 'out', 'findings.json'), 'utf8')) as { coverage: Record<string, { status: string; detail?: string }> };
      expect(doc.coverage.roles).toMatchObject({ status: 'partial', detail: expect.stringMatching(/needs Entra ID P2/) });
      // The CLI used the configured storage: no embedded Azurite was started.
      expect(existsSync(join(cwd, '.m365-audit'))).toBe(false);
    } finally {
      await t.close();
    }
  }, 120_000);
});

describe('m365-audit scan: plausibility before resolution', () => {
  it('exits 2 on an empty user list and on a mass resolution, and --confirm-resolutions lets the latter through', async () => {
    const demo = generateDemoTenant({ seed: 906, users: 30 });
    const t = await startTestSim({ tenant: JSON.parse(JSON.stringify(demo.data)), throttle: false });
    try {
      const cwd = mkdtempSync(join(tmpdir(), 'm365-audit-cli-'));
      const env = { PATH: process.env.PATH, NODE_EXTRA_CA_CERTS: t.sim.caPath, AZURE_STORAGE_CONNECTION_STRING: process.env.AZURE_STORAGE_CONNECTION_STRING };
      const args = ['scan', '--graph-url', t.sim.url, '--tenant-id', demo.data.tenantId, '--lang', 'en'];
      const help = await run(['scan', '--help'], { cwd });
      expect(help.stdout).toContain('--confirm-resolutions');
      const first = await run(args, { cwd, env });
      expect(first.code).toBe(0);

      const users = t.sim.tenant.users;
      t.sim.tenant.users = [];
      const empty = await run(args, { cwd, env });
      expect(empty.code).toBe(2);
      expect(empty.stdout).toContain(', 0 resolved');
      expect(empty.stderr).toMatch(/^accounts: .*suspect: GET \/users answered with 0 users; the last complete scan \(.*\) saw \d+/m);
      expect(empty.stderr).not.toMatch(/at .*\.js:\d+/);
      const doc = JSON.parse(readFileSync(join(cwd, 'out', 'findings.json'), 'utf8')) as { coverage: Record<string, { status: string; detail?: string }> };
      expect(doc.coverage.accounts).toMatchObject({ status: 'partial', detail: expect.stringContaining('0 users') });

      t.sim.tenant.users = users;
      // Everyone registers a FIDO2 key: MFA-01, MFA-02 and MFA-05 would all resolve at once.
      for (const r of t.sim.tenant.userRegistrationDetails) {
        r.isMfaRegistered = true;
        r.methodsRegistered = [...((r.methodsRegistered as string[] | undefined) ?? []), 'fido2SecurityKey'];
      }
      const held = await run(args, { cwd, env });
      expect(held.code).toBe(2);
      expect(held.stderr).toMatch(/^mfa: .*would resolve \d+ of the area's \d+ open findings at once/m);
      const confirmed = await run([...args, '--confirm-resolutions'], { cwd, env });
      expect(confirmed.stderr).not.toContain('suspect:');
      expect(confirmed.code).toBe(0);
    } finally {
      await t.close();
    }
  }, 180_000);
});

describe('m365-audit scan of a tenant without Entra ID P1', () => {
  it('exits 2: accounts and mfa partial naming the rules not evaluated, sign-ins failed', async () => {
    const demo = generateDemoTenant({ seed: 5, users: 30 });
    const t = await startTestSim({ tenant: demo.data, licence: 'free' });
    try {
      const cwd = mkdtempSync(join(tmpdir(), 'm365-audit-cli-'));
      const env = { PATH: process.env.PATH, NODE_EXTRA_CA_CERTS: t.sim.caPath, AZURE_STORAGE_CONNECTION_STRING: process.env.AZURE_STORAGE_CONNECTION_STRING };
      const r = await run(['scan', '--graph-url', t.sim.url, '--tenant-id', demo.data.tenantId, '--lang', 'en'], { cwd, env });
      expect(r.stderr).not.toMatch(/unexpected error/);
      expect(r.code).toBe(2);
      const doc = JSON.parse(readFileSync(join(cwd, 'out', 'findings.json'), 'utf8')) as { coverage: Record<string, { status: string; detail?: string }> };
      expect(doc.coverage.accounts).toMatchObject({ status: 'partial', detail: expect.stringMatching(/Entra ID P1.*not evaluated: ACCT-02 .*ACCT-06/) });
      expect(doc.coverage.mfa).toMatchObject({ status: 'partial', detail: expect.stringMatching(/not evaluated: MFA-01 .*MFA-02/) });
      expect(doc.coverage.signins?.status).toBe('failed');
    } finally {
      await t.close();
    }
  }, 120_000);
});

describe('m365-audit signins', () => {
  it('posts its detections to TEAMS_WEBHOOK_URL on their own card, once, and never prints the URL', async () => {
    const demo = generateDemoTenant({ seed: 405, users: 30 });
    const t = await startTestSim({ tenant: demo.data, throttle: false });
    const hook = new Hook();
    await hook.start();
    try {
      const cwd = mkdtempSync(join(tmpdir(), 'm365-audit-cli-'));
      const env = { PATH: process.env.PATH, NODE_EXTRA_CA_CERTS: t.sim.caPath, AZURE_STORAGE_CONNECTION_STRING: process.env.AZURE_STORAGE_CONNECTION_STRING, TEAMS_WEBHOOK_URL: hook.url };
      const args = ['signins', '--graph-url', t.sim.url, '--tenant-id', demo.data.tenantId];
      const first = await run(args, { cwd, env });
      expect(first.code).toBe(0);
      expect(hook.received).toHaveLength(1);
      const card = JSON.stringify(hook.received[0]?.body);
      expect(card).toContain('サインイン監視の新しい検知');
      const planted = demo.groundTruth.filter((g) => g.ruleId.startsWith('SIGN-'));
      expect(planted.length).toBeGreaterThan(0);
      for (const g of planted) expect(card).toContain(g.ruleId);
      expect(first.stdout).toMatch(/Teams 通知: 1 件送信（指摘 \d+ 件）/);
      // Nothing new on the next run: nothing posted.
      const second = await run(args, { cwd, env });
      expect(second.code).toBe(0);
      expect(hook.requests).toBe(1);
      // The flow is switched off: the run still completes, says the alert waits, and leaks no URL.
      hook.replies = [{ status: 404 }];
      const third = await run([...args, '--backfill-hours', '48'], { cwd, env: { ...env, TEAMS_WEBHOOK_URL: hook.url } });
      const outputs = [first.stdout, first.stderr, second.stdout, second.stderr, third.stdout, third.stderr, ...readdirSync(join(cwd, 'out')).filter((f) => !f.includes('.')).map(() => '')];
      for (const f of readdirSync(join(cwd, 'out'))) if (/\.(json|html|csv)$/.test(f)) outputs.push(readFileSync(join(cwd, 'out', f), 'utf8'));
      for (const o of outputs) {
        expect(o).not.toContain(SECRET);
        expect(o).not.toContain(hook.url);
      }
    } finally {
      await hook.close();
      await t.close();
    }
  }, 180_000);

  it('runs the watch alone, then continues from its watermark', async () => {
    const demo = generateDemoTenant({ seed: 6, users: 30 });
    const t = await startTestSim({ tenant: demo.data, throttle: false });
    try {
      const cwd = mkdtempSync(join(tmpdir(), 'm365-audit-cli-'));
      const env = { PATH: process.env.PATH, NODE_EXTRA_CA_CERTS: t.sim.caPath, AZURE_STORAGE_CONNECTION_STRING: process.env.AZURE_STORAGE_CONNECTION_STRING };
      const args = ['signins', '--graph-url', t.sim.url, '--tenant-id', demo.data.tenantId, '--lang', 'en'];
      const first = await run(args, { cwd, env });
      expect(first.code).toBe(0);
      const doc = JSON.parse(readFileSync(join(cwd, 'out', 'findings.json'), 'utf8')) as { coverage: Record<string, { status: string; items: number }>; findings: Array<{ ruleId: string; subject: { id: string } }> };
      expect(Object.keys(doc.coverage)).toEqual(['signins']);
      // The demo's late-arriving sign-in is not in the log yet (the run is within 10 minutes of `now`).
      expect(doc.coverage.signins).toEqual({ status: 'complete', items: demo.data.signIns.filter((s) => signInAvailable(demo.data, s, new Date(demo.now))).length });
      const planted = demo.groundTruth.filter((g) => g.ruleId.startsWith('SIGN-')).map((g) => `${g.ruleId} ${g.subjectId}`).sort();
      expect(doc.findings.map((f) => `${f.ruleId} ${f.subject.id}`).sort()).toEqual(planted);
      // The second run starts from the stored watermark: nothing new, nothing reported twice.
      const second = await run(args, { cwd, env });
      expect(second.code).toBe(0);
      const again = JSON.parse(readFileSync(join(cwd, 'out', 'findings.json'), 'utf8')) as { findings: unknown[] };
      expect(again.findings).toEqual([]);
    } finally {
      await t.close();
    }
  }, 120_000);

  it('refuses a backfill beyond the 30 days Graph keeps', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'm365-audit-cli-'));
    const r = await run(['signins', '--graph-url', 'https://127.0.0.1:9', '--tenant-id', 't', '--backfill-hours', '721'], { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/backfill-hours: must be a whole number of hours from 1 to 720/);
  });
});

describe('m365-audit ledger close', () => {
  it('closes an event finding with a note, and refuses a state finding', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'm365-audit-cli-'));
    const r = await run(['demo', '--out', 'out', '--json'], { cwd });
    expect(r.code).toBe(0);
    const doc = JSON.parse(readFileSync(join(cwd, 'out', 'findings.json'), 'utf8')) as { tenantId: string; findings: Array<{ id: string; kind: string; ruleId: string }> };
    const event = doc.findings.find((f) => f.kind === 'event');
    const state = doc.findings.find((f) => f.kind === 'state');
    if (!event || !state) throw new Error('the demo has both kinds of finding');
    const closed = await run(['ledger', 'close', event.id, '--note', '本人に確認、パスワード変更済み', '--tenant-id', doc.tenantId], { cwd });
    expect(closed.code).toBe(0);
    expect(closed.stdout).toContain(`${event.id}: 台帳で閉じました`);
    const list = JSON.parse((await run(['tickets', '--status', 'closed', '--tenant-id', doc.tenantId, '--json'], { cwd })).stdout) as Array<{ findingId: string; state: string }>;
    expect(list).toEqual([expect.objectContaining({ findingId: event.id, state: 'closed' })]);
    const refused = await run(['ledger', 'close', state.id, '--note', 'x', '--tenant-id', doc.tenantId], { cwd });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/is a state finding .*resolved by the next complete scan/s);
  }, 180_000);
});

describe('Ctrl-C', () => {
  it('stops the embedded Azurite and the simulator before exiting', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'm365-audit-cli-'));
    // 10,000 users: the users read alone takes about a minute under Graph's signInActivity budget.
    const child = spawn(process.execPath, [CLI, 'demo', '--users', '10000'], { cwd, env: { PATH: process.env.PATH } });
    let stderr = '';
    await new Promise<void>((ready, fail) => {
      const timer = setTimeout(() => fail(new Error(`demo did not start: ${stderr}`)), 60_000);
      child.stderr.on('data', (c: Buffer) => {
        stderr += c.toString();
        // The progress line of the first finished slice: Azurite and the simulator are both up.
        if (/conditionalAccess\s+完了/.test(stderr)) {
          clearTimeout(timer);
          ready();
        }
      });
    });
    // Any process whose command line names this demo's Azurite folder (read from /proc, no pgrep needed).
    const azuriteRunning = () =>
      readdirSync('/proc').filter((d) => /^\d+$/.test(d)).some((pid) => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(`${cwd}/.m365-audit/azurite`);
        } catch {
          return false;
        }
      });
    expect(azuriteRunning()).toBe(true);
    const code = await new Promise<number | null>((done) => {
      child.once('exit', (c) => done(c));
      child.kill('SIGINT');
    });
    expect(code).toBe(130);
    expect(azuriteRunning()).toBe(false);
  }, 120_000);
});
