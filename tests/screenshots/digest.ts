/**
 * Screenshot of the CISO digest for the README (docs/img/digest.png): the digest of the test
 * fixture's November 2026 (tests/digest/fixture.ts), rendered by Debian's chromium. Not a jest
 * test: run `npm run build && node dist/tests/screenshots/digest.js`.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { accessInventory } from '../../src/digest/inventory';
import { digestModel } from '../../src/digest/model';
import { renderDigestHtml } from '../../src/digest/render';
import { launchChromium } from '../support/browser';
import { TENANT, ledger, policy, scans, snapshot } from '../digest/fixture';

async function main(): Promise<void> {
  const p = policy();
  const model = digestModel({ month: '2026-11', tenantId: TENANT, entries: ledger(), scans: scans(), inventory: accessInventory(snapshot(), p, 's-11b'), policy: p, now: new Date('2026-12-01T03:00:00Z') });
  const html = await renderDigestHtml(model, 'ja');
  const out = join(__dirname, '..', '..', '..', 'docs', 'img');
  await mkdir(out, { recursive: true });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 820, height: 1400 }, deviceScaleFactor: 1 });
    await page.setContent(html, { waitUntil: 'load' });
    const file = join(out, 'digest.png');
    // The first screens: summary, changes, tickets and the start of the access review.
    await page.screenshot({ path: file, fullPage: process.argv.includes("--full") });
    process.stdout.write(`${file}\n`);
  } finally {
    await browser.close();
  }
}

void main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
