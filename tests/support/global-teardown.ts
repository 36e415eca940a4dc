import { rmSync } from 'node:fs';

export default async function globalTeardown(): Promise<void> {
  const azurite = globalThis.__AZURITE__;
  if (!azurite) return;
  await azurite.stop();
  rmSync(azurite.location, { recursive: true, force: true });
}
