/**
 * The embedded Azurite shared per data folder (src/store/azurite.ts acquireAzurite): one process
 * per folder whoever asks, stopped by the last user, and a write made durable with ensureSaved
 * survives Azurite being killed at once (it saves only every 5 s otherwise).
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireAzurite } from '../../src/store/azurite';
import { Store } from '../../src/store/store';
import { alive } from '../support/cli';


async function gone(pid: number): Promise<void> {
  while (alive(pid)) await new Promise((r) => setTimeout(r, 50));
}

const starts = (dir: string): number => (readFileSync(join(dir, 'm365-audit-azurite.log'), 'utf8').match(/^m365-audit: started Azurite/gm) ?? []).length;

describe('acquireAzurite', () => {
  it('starts one Azurite for two users asking at the same moment; the last to leave stops it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'm365-audit-lock-'));
    const notices: string[] = [];
    const [a, b] = await Promise.all([acquireAzurite(dir, (m) => notices.push(m)), acquireAzurite(dir, (m) => notices.push(m))]);
    expect(a.pid).toBe(b.pid);
    expect(a.connectionString).toBe(b.connectionString);
    expect(starts(dir)).toBe(1);
    expect(notices).toEqual([expect.stringMatching(/^using the embedded Azurite already running for .* \(pid \d+, also used by m365-audit pid \d+\)$/)]);
    const lock = JSON.parse(readFileSync(join(dir, 'm365-audit-azurite.json'), 'utf8')) as { pid: number; owners: string[] };
    expect(lock).toMatchObject({ pid: a.pid, owners: [expect.stringMatching(/^\d+:/), expect.stringMatching(/^\d+:/)] });
    await a.stop();
    expect(alive(a.pid)).toBe(true);
    await b.stop();
    expect(alive(a.pid)).toBe(false);
    expect(existsSync(join(dir, 'm365-audit-azurite.json'))).toBe(false);
  }, 60_000);

  it('replaces an Azurite that died (its lock is cleaned up) and keeps what ensureSaved made durable', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'm365-audit-lock-'));
    const first = await acquireAzurite(dir);
    const store = await Store.connect(first.connectionString, { waitForSave: first.waitForSave });
    await store.setState('t1', 'watermark', 'kept-after-a-kill');
    await store.ensureSaved('t1');
    // Killed at once, no time for its 5-second autosave: only what was saved is on disk.
    process.kill(first.pid, 'SIGKILL');
    await gone(first.pid);
    expect(first.explainFailure(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }))?.message).toMatch(
      /^the embedded Azurite \(pid \d+, data in .*\) stopped during the run \(connect ECONNREFUSED 127\.0\.0\.1:1\); .*run again/,
    );
    const notices: string[] = [];
    const second = await acquireAzurite(dir, (m) => notices.push(m));
    expect(second.pid).not.toBe(first.pid);
    expect(notices).toEqual([expect.stringMatching(/\(pid \d+\) is gone; starting a new one$/)]);
    const again = await Store.connect(second.connectionString);
    expect(await again.getState('t1', 'watermark')).toBe('kept-after-a-kill');
    await first.stop(); // the stale handle leaves the new Azurite alone
    expect(alive(second.pid)).toBe(true);
    await second.stop();
    expect(alive(second.pid)).toBe(false);
  }, 60_000);

  it('stops an Azurite whose starter died before it listened (a lock without ports) and starts afresh', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'm365-audit-lock-'));
    const first = await acquireAzurite(dir);
    // What a CLI killed between spawning Azurite and reading its ports leaves behind.
    const lockPath = join(dir, 'm365-audit-azurite.json');
    const { ports: _ports, ...provisional } = JSON.parse(readFileSync(lockPath, 'utf8')) as Record<string, unknown>;
    writeFileSync(lockPath, JSON.stringify({ ...provisional, owners: ['999999999:dead'] }));
    const notices: string[] = [];
    const second = await acquireAzurite(dir, (m) => notices.push(m));
    expect(alive(first.pid)).toBe(false);
    expect(notices).toEqual([expect.stringMatching(/is gone \(its starter died while it started\); starting a new one$/)]);
    expect(starts(dir)).toBe(2);
    await second.stop();
    expect(alive(second.pid)).toBe(false);
  }, 60_000);
});
