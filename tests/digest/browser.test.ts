/**
 * The digest in a real headless browser (Debian's chromium through playwright-core, never a
 * download): it renders, the chart SVG is there with its lines, no cell shows JSON, nothing asks
 * the network, and an A4 print has the expected number of pages.
 */
import type { Browser } from 'playwright-core';
import { accessInventory } from '../../src/digest/inventory';
import { digestModel } from '../../src/digest/model';
import { renderDigestHtml } from '../../src/digest/render';
import { launchChromium } from '../support/browser';
import { TENANT, ledger, policy, scans, snapshot } from './fixture';

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

async function html(lang: 'ja' | 'en'): Promise<string> {
  const p = policy();
  const model = digestModel({ month: '2026-11', tenantId: TENANT, entries: ledger(), scans: scans(), inventory: accessInventory(snapshot(), p, 's-11b'), policy: p, now: new Date('2026-12-01T03:00:00Z') });
  return renderDigestHtml(model, lang);
}

/** Pages of a PDF: its page objects (`/Type /Page`, not `/Pages`). */
function pageCount(pdf: Buffer): number {
  return (pdf.toString('latin1').match(/\/Type\s*\/Page(?![s\w])/g) ?? []).length;
}

describe.each(['ja', 'en'] as const)('the digest in chromium (%s)', (lang) => {
  it('renders its sections and the chart, with no JSON in any cell and no request leaving the page', async () => {
    const page = await browser.newPage({ viewport: { width: 820, height: 1200 } });
    const requests: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith('data:') && r.url() !== 'about:blank') requests.push(r.url());
    });
    try {
      await page.setContent(await html(lang), { waitUntil: 'load' });
      const h2 = await page.locator('h2').allInnerTexts();
      expect(h2).toHaveLength(10);
      expect(h2[0]).toMatch(lang === 'ja' ? /概要/ : /Summary/);
      // The chart: an SVG with one line per severity, drawn at a real size.
      const svg = page.locator('div.chart svg');
      expect(await svg.count()).toBe(1);
      const box = await svg.boundingBox();
      expect(box?.width).toBeGreaterThan(400);
      expect(box?.height).toBeGreaterThan(150);
      expect(await page.locator('div.chart svg path[aria-roledescription="line mark"]').count()).toBe(4);
      const cells = await page.locator('td').allInnerTexts();
      expect(cells.length).toBeGreaterThan(100);
      expect(cells.filter((c) => /[{[]\s*"|"\s*:\s*["{[]/.test(c))).toEqual([]);
      // Nothing overflows the 760-px page (a table too wide for Outlook's reading pane).
      const widths = await page.locator('table.grid').evaluateAll((tables) => tables.map((t) => (t as unknown as { getBoundingClientRect(): { width: number } }).getBoundingClientRect().width));
      const widest = Math.max(...widths);
      expect(widest).toBeLessThanOrEqual(760);
      expect(requests).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('prints on A4 in a known number of pages', async () => {
    const page = await browser.newPage();
    try {
      await page.setContent(await html(lang), { waitUntil: 'load' });
      const pages = pageCount(await page.pdf({ format: 'A4', printBackground: true }));
      // Measured 7 for this fixture in both languages: a layout that falls apart (a table per
      // page, a page per row) or loses its content lands outside.
      expect(pages).toBeGreaterThanOrEqual(5);
      expect(pages).toBeLessThanOrEqual(9);
    } finally {
      await page.close();
    }
  });
});
