/// <reference lib="dom" />
/**
 * Screenshot of report.html for the README (not a jest test): scans the demo tenant over the
 * simulator into a MemoryStore — twice, so that the second report shows the ledger at work (the
 * first scan's sign-in findings still open) — renders the report in headless chromium and
 * writes the page from its top to the end of the summary to docs/img/report.png.
 *
 *   npm run build && node dist/tests/screenshots/report.js [out.png]
 */
import { mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { validatePolicy } from '../../src/config/policy';
import { runScan } from '../../src/pipeline';
import { RunReports } from '../../src/report/output';
import { generateDemoTenant } from '../../src/sim/demo-tenant';
import { MemoryStore } from '../../src/store/memory';
import { launchChromium } from '../support/browser';
import { startTestSim } from '../support/sim';

/** Tallest picture written (pixels at scale 1): the summary, not the whole report. */
const MAX_HEIGHT = 3600;

async function main(): Promise<void> {
  const target = resolve(process.argv[2] ?? join(__dirname, '..', '..', '..', 'docs', 'img', 'report.png'));
  const demo = generateDemoTenant({ seed: 1, users: 60 });
  const policy = validatePolicy(demo.policy);
  const t = await startTestSim({ tenant: demo.data, throttle: false });
  const out = mkdtempSync(join(tmpdir(), 'm365-audit-screenshot-'));
  try {
    const store = new MemoryStore();
    const graph = t.graph({ budgets: { identityReports: { limit: 1000, perSeconds: 1 }, signInActivity: { limit: 1000, perSeconds: 1 }, conditionalAccess: { limit: 1000, perSeconds: 1 } } });
    for (const fresh of [true, false]) {
      const reports = new RunReports(out, 'scan', 'ja');
      reports.configure({ lang: 'ja', organization: policy.organization.name, timeZone: policy.organization.timeZone });
      await runScan({
        graph, policy, tenantId: demo.data.tenantId, store, collectOptions: fresh ? { freshState: true } : {},
        beforeCommit: async (r, ledger) => reports.write(r, undefined, ledger),
      });
    }
  } finally {
    await t.close();
  }
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 1200 } });
    await page.goto(pathToFileURL(join(out, 'report.html')).href);
    const end = await page.$eval('section.summary', (s) => s.getBoundingClientRect().bottom + window.scrollY);
    mkdirSync(dirname(target), { recursive: true });
    await page.screenshot({ path: target, fullPage: true, clip: { x: 0, y: 0, width: 1100, height: Math.min(Math.ceil(end) + 16, MAX_HEIGHT) } });
    process.stdout.write(`${target}\n`);
  } finally {
    await browser.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
