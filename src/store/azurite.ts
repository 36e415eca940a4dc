/**
 * Embedded Azurite: the local Azure Storage emulator, started when no
 * AZURE_STORAGE_CONNECTION_STRING is set, so that `npm start` and the CLI keep their ledger and
 * scan records between runs without an Azure account. Loopback only, free ports, telemetry off,
 * data under a folder of ours.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
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

/**
 * Starts Azurite with its data under `location` and resolves once the Blob, Queue and Table
 * services listen. Reject after `timeoutMs` with what Azurite printed.
 */
export async function startAzurite(location: string, timeoutMs = 30_000): Promise<EmbeddedAzurite> {
  mkdirSync(location, { recursive: true });
  const child: ChildProcess = spawn(
    process.execPath,
    [
      azuriteScript(),
      '--silent',
      '--disableTelemetry',
      '--skipApiVersionCheck',
      '--location', location,
      '--blobHost', '127.0.0.1', '--blobPort', '0',
      '--queueHost', '127.0.0.1', '--queuePort', '0',
      '--tableHost', '127.0.0.1', '--tablePort', '0',
    ],
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
