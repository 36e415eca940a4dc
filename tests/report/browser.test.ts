/// <reference lib="dom" />
/**
 * report.html in a real headless browser (Debian chromium through playwright-core, never a
 * download): two demo scans over the simulator on one ledger, the second reading no new sign-in;
 * its report renders, starts with the summary, shows no JSON in any evidence cell, still lists
 * the sign-in findings of the first scan (open until a person closes them), and prints on A4.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { validatePolicy } from '../../src/config/policy';
import { runScan, type ScanResult } from '../../src/pipeline';
import { RunReports } from '../../src/report/output';
import { generateDemoTenant } from '../../src/sim/demo-tenant';
import { MemoryStore } from '../../src/store/memory';
import { launchChromium } from '../support/browser';
import { startTestSim } from '../support/sim';

/** Pages of a PDF, counted from its bytes: `/Type /Page` objects (not the `/Pages` tree). */
function pdfPages(pdf: Buffer): number {
  return (pdf.toString('latin1').match(/\/Type\s*\/Page(?![s\w])/g) ?? []).length;
}

/** The page boxes of a PDF (points). */
function mediaBoxes(pdf: Buffer): Array<[number, number]> {
  return [...pdf.toString('latin1').matchAll(/\/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]/g)].map((m) => [Number(m[1]), Number(m[2])]);
}

let browser: Browser;
let out: string;
let first: ScanResult;
let second: ScanResult;

beforeAll(async () => {
  browser = await launchChromium();
  const demo = generateDemoTenant({ seed: 401, users: 60 });
  const t = await startTestSim({ tenant: demo.data, throttle: false });
  try {
    const store = new MemoryStore();
    const policy = validatePolicy(demo.policy);
    const graph = t.graph({ budgets: { identityReports: { limit: 1000, perSeconds: 1 }, signInActivity: { limit: 1000, perSeconds: 1 }, conditionalAccess: { limit: 1000, perSeconds: 1 } } });
    const scan = (dir: string, fresh: boolean): Promise<ScanResult> => {
      const reports = new RunReports(dir, 'scan', 'ja');
      reports.configure({ lang: 'ja', organization: policy.organization.name, timeZone: policy.organization.timeZone });
      return runScan({
        graph, policy, tenantId: demo.data.tenantId, store, collectOptions: fresh ? { freshState: true } : {},
        beforeCommit: async (r, ledger) => reports.write(r, undefined, ledger),
      });
    };
    first = await scan(mkdtempSync(join(tmpdir(), 'm365-audit-browser-1-')), true);
    out = mkdtempSync(join(tmpdir(), 'm365-audit-browser-2-'));
    second = await scan(out, false);
  } finally {
    await t.close();
  }
}, 120_000);

afterAll(async () => {
  await browser?.close();
});

describe('report.html in chromium', () => {
  it('the second scan saw no sign-in event, the first did (the premise of the ledger test)', () => {
    expect(first.findings.filter((f) => f.ruleId.startsWith('SIGN-')).length).toBeGreaterThan(0);
    expect(second.findings.filter((f) => f.ruleId.startsWith('SIGN-'))).toEqual([]);
  });

  it('renders with inline CSS and no scripts; the summary precedes the findings; evidence cells hold no JSON', async () => {
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<link\b/i);
    // juice inlined the rules: only the print rules (@page, @media print) stay in a style element.
    expect(html.match(/<style/g)).toHaveLength(1);
    expect(html).toMatch(/<td class="ev" style="[^"]+"/);
    const page = await browser.newPage();
    try {
      await page.goto(pathToFileURL(join(out, 'report.html')).href);
      expect(await page.title()).toContain('Microsoft 365 情報セキュリティ点検結果');
      const order = await page.evaluate(() => {
        const summary = document.querySelector('section.summary');
        const findings = document.querySelector('section.findings');
        return {
          h2: Array.from(document.querySelectorAll('h2'), (h) => h.textContent ?? ''),
          precedes: summary && findings ? Boolean(summary.compareDocumentPosition(findings) & Node.DOCUMENT_POSITION_FOLLOWING) : false,
          summaryTop: summary?.getBoundingClientRect().top ?? -1,
          findingsTop: findings?.getBoundingClientRect().top ?? -1,
          findingCount: document.querySelectorAll('section.finding').length,
          manualOpen: (document.querySelector('details.manual') as HTMLDetailsElement | null)?.open ?? null,
        };
      });
      expect(order.h2[0]).toBe('概要');
      expect(order.precedes).toBe(true);
      expect(order.summaryTop).toBeLessThan(order.findingsTop);
      expect(order.findingCount).toBeGreaterThan(20);
      // The uncovered clauses are there, folded.
      expect(order.manualOpen).toBe(false);
      const cells = await page.$$eval('td.ev', (tds) => tds.map((td) => td.textContent ?? ''));
      expect(cells.length).toBeGreaterThan(order.findingCount);
      for (const text of cells) expect(text).not.toMatch(/\{"|":|\[\{/);
    } finally {
      await page.close();
    }
  });

  it('still lists the open sign-in findings of the first scan, marked with when they were last seen', async () => {
    const page = await browser.newPage();
    try {
      await page.goto(pathToFileURL(join(out, 'report.html')).href);
      const sign = await page.$$eval('section.finding', (ss) => ss.map((s) => s.textContent ?? '').filter((t) => /SIGN-0\d/.test(t)));
      const expected = first.findings.filter((f) => f.ruleId.startsWith('SIGN-') && f.status === 'open');
      expect(sign).toHaveLength(expected.length);
      for (const text of sign) {
        expect(text).toMatch(/今回の点検では新たな発生はありません（最終発生 \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} (JST|GMT\+9)）/);
        expect(text).toMatch(/T-[0-9a-f]{12}/);
      }
      // …and the summary counts them among the open findings of their area.
      const signinsRow = await page.$$eval('table.counts tr', (trs) => trs.map((tr) => tr.textContent ?? '').find((t) => t.startsWith('サインイン')) ?? '');
      expect(signinsRow).toContain(String(expected.length));
    } finally {
      await page.close();
    }
  });

  it('prints on A4 with the expected number of pages', async () => {
    const page = await browser.newPage();
    try {
      await page.goto(pathToFileURL(join(out, 'report.html')).href);
      await page.emulateMedia({ media: 'print' });
      const pdf = await page.pdf({ format: 'A4' });
      const boxes = mediaBoxes(pdf);
      expect(boxes.length).toBeGreaterThan(0);
      // A4 is 595 × 842 points.
      for (const [w, h] of boxes) {
        expect(Math.abs(w - 595)).toBeLessThan(2);
        expect(Math.abs(h - 842)).toBeLessThan(2);
      }
      const pages = pdfPages(pdf);
      const findings = await page.$$eval('section.finding', (ss) => ss.length);
      // The summary on its own page(s), then findings whole, about two a page (compact print
      // styles: a finding a page would be twice as many; four a page would mean findings cut).
      expect(pages).toBeGreaterThanOrEqual(Math.ceil(findings / 4) + 1);
      expect(pages).toBeLessThanOrEqual(Math.ceil(findings / 2) + 6);
    } finally {
      await page.close();
    }
  });
});
