/**
 * The command line as a user runs it (the compiled dist/, built by `npm test`'s pretest step):
 * exit codes, outputs, and that the demo works from an empty directory with its own Azurite.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

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
    const doc = JSON.parse(readFileSync(join(cwd, 'out', 'findings.json'), 'utf8')) as { coverage: Record<string, { status: string }> };
    expect(Object.values(doc.coverage).every((c) => c.status === 'complete')).toBe(true);
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

  it('exits 1 for an unknown area', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'm365-audit-cli-'));
    const r = await run(['scan', '--areas', 'accounts,bogus', '--graph-url', 'https://127.0.0.1:9', '--tenant-id', 't'], { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/areas: unknown bogus/);
  });
});
