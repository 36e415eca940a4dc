/**
 * `m365-audit digest` and the demo's digest, as a user runs the built CLI: the demo writes last
 * month's digest (from its seeded history) and mails it through the simulator once; `digest`
 * regenerates the same document from the ledger and scan records; without a sender it says why
 * nothing was mailed; a bad `--month` is named, with no stack trace.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateDemoTenant } from '../../src/sim/demo-tenant';
import { run, STACK } from '../support/cli';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'm365-digest-cli-'));

describe('m365-audit digest', () => {
  it('the demo writes and mails last month\'s digest once; digest regenerates the same document', async () => {
    const cwd = tmp();
    const env = { PATH: process.env.PATH, AZURE_STORAGE_CONNECTION_STRING: process.env.AZURE_STORAGE_CONNECTION_STRING };
    const first = await run(['demo', '--users', '20', '--seed', '407', '--out', 'out', '--json'], { cwd, env });
    expect(first.stderr).not.toMatch(STACK);
    expect(first.code).toBe(0);
    const out1 = JSON.parse(first.stdout) as { digest: string; digestMail: string };
    expect(out1.digest).toMatch(/out\/digest-\d{4}-\d{2}\.html$/);
    expect(out1.digestMail).toBe('sent');
    const html = readFileSync(out1.digest, 'utf8');
    expect(html).toContain('情報セキュリティ月次報告（CISO 向け）');
    expect(html).toContain('<svg');

    // A second npm start: the mail is on record, so it is not sent again.
    const second = await run(['demo', '--users', '20', '--seed', '407', '--out', 'out', '--json'], { cwd, env });
    expect(second.code).toBe(0);
    expect((JSON.parse(second.stdout) as { digestMail: string }).digestMail).toBe('already-sent');

    const tenantId = generateDemoTenant({ seed: 407, users: 20 }).data.tenantId;
    const month = /digest-(\d{4}-\d{2})\.html$/.exec(out1.digest)?.[1] as string;
    // The demo's policy (its exception register) is the one the digest was made with.
    const regen = await run(['digest', '--tenant-id', tenantId, '--month', month, '--out', 'again', '--policy', 'out/demo-policy.yaml'], { cwd, env });
    expect(regen.stderr).not.toMatch(STACK);
    expect(regen.code).toBe(0);
    expect(readFileSync(join(cwd, 'again', `digest-${month}.html`), 'utf8')).toBe(readFileSync(out1.digest, 'utf8'));
    expect(regen.stdout).toContain(`月次報告 ${month}:`);
    expect(regen.stdout).toContain('送信しませんでした: M365_AUDIT_MAIL_SENDER（送信元メールボックス）が設定されていません');
  }, 240_000);

  it('a bad --month is named and stops the run before storage is opened', async () => {
    const cwd = tmp();
    const r = await run(['digest', '--tenant-id', 't', '--month', '2026/11'], { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(STACK);
    expect(r.stderr).toContain('--month is invalid:\n  - month: "2026/11" is not a month written YYYY-MM, e.g. 2026-11');
    // No embedded Azurite was started for it.
    expect(existsSync(join(cwd, '.m365-audit'))).toBe(false);
  });
});
