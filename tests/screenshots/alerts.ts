/**
 * Screenshot of a rendered alert card for the README: `npm run build && node
 * dist/tests/screenshots/alerts.js` writes docs/img/alert-card.png. The card is a realistic
 * Japanese run card from the real builder (demo-like findings), written and previewed exactly as
 * the service does (writeAlertFiles → alerts.html), rendered by Microsoft's renderer in headless
 * chromium; it refuses to write a screenshot of a card that did not render cleanly.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildRunCard, envelope } from '../../src/alerts/cards';
import { writeAlertFiles } from '../../src/alerts/preview';
import { demoRunInput, policyJa } from '../support/alert-fixtures';
import { launchChromium } from '../support/browser';

/** The repository root, from dist/tests/screenshots/ (compiled) or tests/screenshots/ (source). */
const ROOT = resolve(__dirname, __dirname.includes(`${join('dist', 'tests')}`) ? '../../..' : '../..');
const TARGET = join(ROOT, 'docs', 'img', 'alert-card.png');

interface RenderResult {
  name: string;
  rendered: boolean;
  errors: string[];
}

async function main(): Promise<void> {
  const card = buildRunCard(demoRunInput(), policyJa);
  if (!card) throw new Error('the run card builder made no card for the demo input');
  const out = await mkdtemp(join(tmpdir(), 'alert-screenshot-'));
  const browser = await launchChromium();
  try {
    const { html } = await writeAlertFiles(out, [{ name: '20261201T000500Z-run', message: envelope(card), caption: 'TEAMS_WEBHOOK_URL が未設定のため送信していません' }], 'ja');
    const context = await browser.newContext({ deviceScaleFactor: 2, viewport: { width: 720, height: 1200 }, locale: 'ja-JP' });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
    });
    await page.goto(pathToFileURL(html).href);
    await page.locator('body:not([data-render-status="pending"])').waitFor({ state: 'attached' });
    const results = (await page.evaluate('window.__alertRender')) as RenderResult[];
    for (const r of results) {
      if (!r.rendered) problems.push(`${r.name}: not rendered`);
      for (const e of r.errors) problems.push(`${r.name}: ${e}`);
    }
    if (problems.length) throw new Error(`the card did not render cleanly, no screenshot written:\n${problems.join('\n')}`);
    await mkdir(join(ROOT, 'docs', 'img'), { recursive: true });
    await page.locator('.teams-frame').first().screenshot({ path: TARGET });
    console.log(`wrote ${TARGET}`);
  } finally {
    await browser.close();
    await rm(out, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exitCode = 1;
});
