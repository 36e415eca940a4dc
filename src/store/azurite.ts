/**
 * Embedded Azurite: the local Azure Storage emulator, started when no
 * AZURE_STORAGE_CONNECTION_STRING is set, so that `npm start` and the CLI keep their ledger and
 * scan records between runs without an Azure account. Loopback only, free ports, telemetry off,
 * data under a folder of ours.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { dirname, join } from 'node:path';
import { StoreError } from '../errors';

/** Azurite's documented development account (public, not a secret). */
const DEV_ACCOUNT = 'devstoreaccount1';
const DEV_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface EmbeddedAzurite {
  connectionString: string;
  location: string;
  stop(): Promise<void>;
}

function azuriteScript(): string {
  try {
    const pkg = require.resolve('azurite/package.json');
    return join(dirname(pkg), 'dist', 'src', 'azurite.js');
  } catch {
    throw new StoreError(
      'AZURE_STORAGE_CONNECTION_STRING is not set and the embedded Azurite is not installed: run `npm ci` in the project (Azurite is a development dependency), or set AZURE_STORAGE_CONNECTION_STRING to a storage account',
    );
  }
}

/** Azurite on loopback, free ports, no telemetry (it would try to reach out), data in `location`. */
function azuriteArgs(location: string): string[] {
  return [
    azuriteScript(),
    '--silent',
    '--disableTelemetry',
    '--skipApiVersionCheck',
    '--location', location,
    '--blobHost', '127.0.0.1', '--blobPort', '0',
    '--queueHost', '127.0.0.1', '--queuePort', '0',
    '--tableHost', '127.0.0.1', '--tablePort', '0',
  ];
}

/**
 * Starts Azurite with its data under `location` and resolves once the Blob, Queue and Table
 * services listen. Reject after `timeoutMs` with what Azurite printed.
 */
export async function startAzurite(location: string, timeoutMs = 30_000): Promise<EmbeddedAzurite> {
  mkdirSync(location, { recursive: true });
  const child: ChildProcess = spawn(
    process.execPath,
    azuriteArgs(location),
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const ports: Partial<Record<'Blob' | 'Queue' | 'Table', string>> = {};
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new StoreError(`the embedded Azurite did not start within ${timeoutMs / 1000} s: ${output.slice(-500)}`));
    }, timeoutMs);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      for (const m of output.matchAll(/Azurite (Blob|Queue|Table) service is successfully listening at http:\/\/127\.0\.0\.1:(\d+)/g)) {
        ports[m[1] as 'Blob' | 'Queue' | 'Table'] = m[2];
      }
      if (ports.Blob && ports.Queue && ports.Table) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (c: Buffer) => {
      output += c.toString();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new StoreError(`the embedded Azurite exited (code ${code}) before it listened: ${output.slice(-500)}`));
    });
  });
  child.removeAllListeners('exit');
  // Keep draining its output so a full pipe never blocks it.
  child.stdout?.resume();
  child.stderr?.resume();
  const endpoint = (service: 'Blob' | 'Queue' | 'Table'): string => `http://127.0.0.1:${ports[service]}/${DEV_ACCOUNT}`;
  const connectionString =
    `DefaultEndpointsProtocol=http;AccountName=${DEV_ACCOUNT};AccountKey=${DEV_KEY};` +
    `BlobEndpoint=${endpoint('Blob')};QueueEndpoint=${endpoint('Queue')};TableEndpoint=${endpoint('Table')};`;
  let stopped: Promise<void> | undefined;
  return {
    connectionString,
    location,
    stop: () =>
      (stopped ??= new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
        child.once('exit', () => {
          clearTimeout(kill);
          resolve();
        });
        child.kill('SIGTERM');
      })),
  };
}

/**
 * One embedded Azurite per data folder, shared by every CLI that runs in it.
 *
 * Why: two Azurites on one folder each keep their own in-memory copy of the data (Azurite keeps
 * its metadata in LokiJS and writes it to the folder, "Add an option to use only in-memory
 * persistence", Azurite design doc): leases taken in one are invisible to the other, and the
 * last to save overwrites the other's ledger. So the first CLI starts Azurite, detached from
 * its own process group, and writes `m365-audit-azurite.json` (pid, ports, owning CLI pids) in the
 * data folder; later CLIs join it; the last one to leave stops it with SIGTERM (Azurite then
 * closes its databases, which writes them) and waits for it to exit. Every read-modify-write of
 * that file happens under a mutex: a directory created with mkdir, which is atomic, so two CLIs
 * started at the same moment cannot both start one.
 */
export interface SharedAzurite extends EmbeddedAzurite {
  /** Azurite's pid. */
  pid: number;
  /** Waits until everything written so far is in Azurite's table database file (see {@link waitForSave}). */
  waitForSave(write: (marker: string) => Promise<void>): Promise<void>;
  /** A StoreError explaining `err` when Azurite is gone (killed, crashed); undefined while it runs. */
  explainFailure(err: unknown): StoreError | undefined;
}

/** What the lock file in the data folder holds. */
interface LockState {
  pid: number;
  /** Absent while it starts: a lock without ports is an Azurite whose starter died starting it. */
  ports?: { blob: number; queue: number; table: number };
  /** `pid:token` of each CLI using it (a token each, so one process may hold it twice). */
  owners: string[];
  startedAt: string;
  startedBy: number;
}

const LOCK_FILE = 'm365-audit-azurite.json';
const LOG_FILE = 'm365-audit-azurite.log';
/** Azurite's table service database (constants.js DEFAULT_TABLE_LOKI_DB_PATH): the ledger lives there. */
const TABLE_DB = '__azurite_db_table__.json';

/** Azurites this process started that have exited (a child not yet reaped would still look alive). */
const exitedChildren = new Set<number>();

function alive(pid: number): boolean {
  if (exitedChildren.has(pid)) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Holds the folder's mutex (a directory holding the holder's pid) while `fn` runs. A mutex left
 * by a dead process (killed while starting Azurite) is removed; the holder is re-read just before,
 * so a live holder's fresh mutex is not taken.
 */
async function withFolderMutex<T>(location: string, fn: () => Promise<T>, timeoutMs = 60_000): Promise<T> {
  const dir = join(location, 'm365-audit-azurite.mutex');
  const owner = join(dir, 'pid');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(dir);
      writeFileSync(owner, String(process.pid));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new StoreError(`cannot lock the embedded Azurite's folder ${location}: ${(err as Error).message}`);
      const holder = Number(readText(owner));
      if (holder && !alive(holder) && Number(readText(owner)) === holder) {
        rmSync(dir, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new StoreError(`the embedded Azurite's folder ${location} stayed locked by pid ${holder || '?'} for ${timeoutMs / 1000} s; if no m365-audit runs there, remove ${dir}`);
      }
      await sleep(50);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function readLock(location: string): LockState | undefined {
  const text = readText(join(location, LOCK_FILE));
  if (!text) return undefined;
  try {
    return JSON.parse(text) as LockState;
  } catch {
    return undefined;
  }
}

function writeLock(location: string, state: LockState): void {
  const path = join(location, LOCK_FILE);
  writeFileSync(`${path}.tmp`, JSON.stringify(state, null, 2));
  renameSync(`${path}.tmp`, path);
}

/** True when something answers HTTP on the port (Azurite answers any request, if only with 400). */
function answers(port: number): Promise<boolean> {
  return new Promise((done) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/', method: 'GET', timeout: 2_000 }, (res) => {
      res.resume();
      done(true);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => done(false));
    req.end();
  });
}

function connectionStringFor(ports: NonNullable<LockState['ports']>): string {
  const endpoint = (service: string, port: number): string => `http://127.0.0.1:${port}/${DEV_ACCOUNT}`;
  return (
    `DefaultEndpointsProtocol=http;AccountName=${DEV_ACCOUNT};AccountKey=${DEV_KEY};` +
    `BlobEndpoint=${endpoint('Blob', ports.blob)};QueueEndpoint=${endpoint('Queue', ports.queue)};TableEndpoint=${endpoint('Table', ports.table)};`
  );
}

/** Stops Azurite gracefully (SIGTERM: it closes and so writes its databases), SIGKILL after `graceMs`. */
async function stopPid(pid: number, graceMs = 15_000): Promise<void> {
  if (!alive(pid)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (alive(pid)) {
    if (Date.now() > deadline) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone meanwhile */
      }
    }
    await sleep(50);
  }
}

/**
 * Starts Azurite detached (its own process group, so a Ctrl-C meant for one CLI does not stop it
 * under another), its output in a log file in the folder (a pipe would break once the starting
 * CLI is gone), and reads the ports it chose from that log.
 */
async function spawnDetached(location: string, timeoutMs: number, onPid: (pid: number) => void): Promise<{ pid: number; ports: NonNullable<LockState['ports']> }> {
  const logPath = join(location, LOG_FILE);
  const from = existsSync(logPath) ? statSync(logPath).size : 0;
  const fd = openSync(logPath, 'a');
  const child = spawn(
    process.execPath,
    azuriteArgs(location),
    { stdio: ['ignore', fd, fd], detached: true },
  );
  closeSync(fd);
  let exited: number | null | undefined;
  const pid = child.pid;
  child.once('exit', (code) => {
    exited = code;
    if (pid !== undefined) exitedChildren.add(pid);
  });
  child.unref();
  if (pid === undefined) throw new StoreError('the embedded Azurite could not be started (no process id): check that node can run node_modules/azurite');
  // Recorded at once, so that a CLI killed while Azurite starts leaves a trace the next one cleans up.
  onPid(pid);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = (readText(logPath) ?? '').slice(from);
    const ports: Partial<Record<'Blob' | 'Queue' | 'Table', number>> = {};
    for (const m of text.matchAll(/Azurite (Blob|Queue|Table) service is successfully listening at http:\/\/127\.0\.0\.1:(\d+)/g)) {
      ports[m[1] as 'Blob' | 'Queue' | 'Table'] = Number(m[2]);
    }
    if (ports.Blob && ports.Queue && ports.Table) {
      appendFileSync(logPath, `m365-audit: started Azurite pid ${pid} for CLI pid ${process.pid} at ${new Date().toISOString()}\n`);
      return { pid, ports: { blob: ports.Blob, queue: ports.Queue, table: ports.Table } };
    }
    if (exited !== undefined) throw new StoreError(`the embedded Azurite exited (code ${exited}) before it listened: ${text.slice(-500)} (log: ${logPath})`);
    if (Date.now() > deadline) {
      await stopPid(pid, 1_000);
      throw new StoreError(`the embedded Azurite did not start within ${timeoutMs / 1000} s: ${text.slice(-500)} (log: ${logPath})`);
    }
    await sleep(50);
  }
}

/**
 * Joins the data folder's Azurite, starting it if none runs there. `notice` hears, for the
 * operator, that a running one is reused or an orphan replaced.
 */
export async function acquireAzurite(location: string, notice: (message: string) => void = () => undefined, timeoutMs = 30_000): Promise<SharedAzurite> {
  mkdirSync(location, { recursive: true });
  const me = `${process.pid}:${randomUUID()}`;
  const live = (owners: readonly string[]): string[] => owners.filter((o) => o !== me && alive(Number(o.split(':')[0])));
  const state = await withFolderMutex(location, async () => {
    const found = readLock(location);
    if (found?.ports && alive(found.pid) && (await answers(found.ports.blob))) {
      const others = live(found.owners);
      notice(
        others.length
          ? `using the embedded Azurite already running for ${location} (pid ${found.pid}, also used by m365-audit pid ${[...new Set(others.map((o) => o.split(':')[0]))].join(', ')})`
          : `using the embedded Azurite left running for ${location} by an m365-audit that did not stop it (pid ${found.pid}); this run will stop it`,
      );
      const next = { ...found, owners: [...others, me] };
      writeLock(location, next);
      return next;
    }
    if (found) {
      // A dead Azurite, or a live process that does not answer on its port (hung, or the pid
      // reused): stop it if it is still ours, then start afresh on the folder.
      if (alive(found.pid) && /azurite/.test(readText(`/proc/${found.pid}/cmdline`) ?? 'azurite')) await stopPid(found.pid, 5_000);
      notice(`the embedded Azurite recorded in ${join(location, LOCK_FILE)} (pid ${found.pid}) is gone${found.ports ? '' : ' (its starter died while it started)'}; starting a new one`);
      rmSync(join(location, LOCK_FILE), { force: true });
    }
    const startedAt = new Date().toISOString();
    const started = await spawnDetached(location, timeoutMs, (pid) => writeLock(location, { pid, owners: [me], startedAt, startedBy: process.pid }));
    const next: LockState = { pid: started.pid, ports: started.ports, owners: [me], startedAt, startedBy: process.pid };
    writeLock(location, next);
    return next;
  });
  let released: Promise<void> | undefined;
  const release = (): Promise<void> =>
    (released ??= withFolderMutex(location, async () => {
      const now = readLock(location);
      if (!now || now.pid !== state.pid) return;
      const owners = live(now.owners);
      if (owners.length) return writeLock(location, { ...now, owners });
      await stopPid(now.pid);
      rmSync(join(location, LOCK_FILE), { force: true });
      appendFileSync(join(location, LOG_FILE), `m365-audit: stopped Azurite pid ${now.pid} (CLI pid ${process.pid}) at ${new Date().toISOString()}\n`);
    }));
  const ports = state.ports;
  if (!ports) throw new StoreError(`the embedded Azurite in ${location} has no ports on record; remove ${join(location, LOCK_FILE)} and run again`);
  return {
    connectionString: connectionStringFor(ports),
    location,
    pid: state.pid,
    stop: release,
    waitForSave: (write) => waitForSave(location, write, () => alive(state.pid)),
    explainFailure: (err) => {
      if (err instanceof StoreError || alive(state.pid)) return undefined;
      const first = ((err as Error | undefined)?.message ?? String(err)).split('\n')[0];
      return new StoreError(
        `the embedded Azurite (pid ${state.pid}, data in ${location}) stopped during the run (${first}); what it had saved is kept, and the ledger was not left half-written by design — run again (log: ${join(location, LOG_FILE)})`,
        { cause: err },
      );
    },
  };
}

/**
 * Azurite saves its LokiJS databases every 5 s (autosaveInterval 5000 in its metadata stores, not
 * configurable) and when it closes; a write it acknowledged lives only in its memory until then.
 * This writes a fresh marker through the store (after everything to be kept) and waits until the
 * table database file holds it: the file is written whole, in order, so then everything written
 * before the marker is on disk too. A save that raced the marker (LokiJS clears its dirty flag when
 * a save ends) is covered by writing a new marker after 6 s.
 */
export async function waitForSave(location: string, write: (marker: string) => Promise<void>, running: () => boolean = () => true, timeoutMs = 30_000): Promise<void> {
  const file = join(location, TABLE_DB);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const marker = `m365-audit-saved-${process.pid}-${randomUUID()}`;
    await write(marker);
    const rewrite = Date.now() + 6_000;
    let seen = -1;
    while (Date.now() < rewrite) {
      const mtime = existsSync(file) ? statSync(file).mtimeMs : -1;
      if (mtime !== seen) {
        seen = mtime;
        if ((readText(file) ?? '').includes(marker)) return;
      }
      if (!running()) throw new StoreError(`the embedded Azurite (data in ${location}) stopped before it saved this run's ledger writes to disk; run again`);
      if (Date.now() > deadline) throw new StoreError(`the embedded Azurite did not save its data to ${file} within ${timeoutMs / 1000} s; check the disk and ${join(location, LOG_FILE)}`);
      await sleep(100);
    }
  }
}
