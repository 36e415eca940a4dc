/**
 * Jest global setup: one Azurite for the whole run (loopback, free ports, telemetry off, data in
 * a temp dir), handed to the test workers through AZURE_STORAGE_CONNECTION_STRING.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAzurite, type EmbeddedAzurite } from '../../src/store/azurite';

declare global {
  // eslint-disable-next-line no-var
  var __AZURITE__: EmbeddedAzurite | undefined;
}

export default async function globalSetup(): Promise<void> {
  const azurite = await startAzurite(mkdtempSync(join(tmpdir(), 'm365-audit-azurite-')));
  globalThis.__AZURITE__ = azurite;
  process.env.AZURE_STORAGE_CONNECTION_STRING = azurite.connectionString;
}
