/**
 * Reports before the ledger (issue 9, "Bad input and errors"): the real pipeline against the
 * simulator, on a MemoryStore that fails where we say, with the CLI's report writer (RunReports).
 * A failure can never leave tickets committed without a report: the reports are written before
 * the first ledger write, a report that cannot be written stops the run with nothing in the
 * ledger and no Planner task, and a failure after the reports re-marks them as failed.
 */
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validatePolicy } from '../../src/config/policy';
import { OutputError } from '../../src/errors';
import { runScan } from '../../src/pipeline';
import { checkOutputFolder, RunReports } from '../../src/report/output';
import { generateDemoTenant } from '../../src/sim/demo-tenant';
import { DEFAULT_PLANNER_BUCKET_ID, DEFAULT_PLANNER_PLAN_ID } from '../../src/sim/server';
import type { DemoTenant } from '../../src/sim/tenant';
import { MemoryStore, type MemoryWrite } from '../../src/store/memory';
import { PlannerSink } from '../../src/tickets/planner';
import { startTestSim, type TestSim } from '../support/sim';

async function withSim<T>(seed: number, fn: (t: TestSim, demo: DemoTenant) => Promise<T>): Promise<T> {
  const demo = generateDemoTenant({ seed, users: 30 });
  const t = await startTestSim({ tenant: demo.data, throttle: false });
  try {
    return await fn(t, demo);
  } finally {
    await t.close();
  }
}

function scan(t: TestSim, demo: DemoTenant, store: MemoryStore, beforeCommit: Parameters<typeof runScan>[0]['beforeCommit']) {
  const graph = t.graph({ budgets: { identityReports: { limit: 1000, perSeconds: 1 }, signInActivity: { limit: 1000, perSeconds: 1 }, conditionalAccess: { limit: 1000, perSeconds: 1 } } });
  return runScan({
    graph,
    policy: validatePolicy(demo.policy),
    tenantId: demo.data.tenantId,
    store,
    sinks: (directory) => [new PlannerSink(graph, { planId: DEFAULT_PLANNER_PLAN_ID, bucketId: DEFAULT_PLANNER_BUCKET_ID, userIdOf: (a) => directory.userIdOf(a) })],
    collectOptions: { freshState: true },
    beforeCommit,
  });
}

function reportsIn(dir: string): RunReports {
  const r = new RunReports(dir, 'scan', 'en');
  r.configure({ lang: 'en', organization: 'Test', timeZone: 'Asia/Tokyo' });
  return r;
}

describe('reports before the ledger', () => {
  it('writes the reports before the first ledger write, with the findings the ledger gets', async () => {
    await withSim(931, async (t, demo) => {
      const out = mkdtempSync(join(tmpdir(), 'm365-audit-out-'));
      const reports = reportsIn(out);
      const order: string[] = [];
      const store = new MemoryStore({ onWrite: (w: MemoryWrite) => void order.push(w.op) });
      const result = await scan(t, demo, store, async (r) => {
        order.push('reports');
        await reports.write(r);
      });
      // Collectors keep their own state (delta links) as they read; the ledger comes after the reports.
      const reported = order.indexOf('reports');
      expect(reported).toBeGreaterThanOrEqual(0);
      expect(order.slice(0, reported).filter((o) => o === 'putLedgerEntries' || o === 'saveScan')).toEqual([]);
      expect(order.slice(reported)).toContain('putLedgerEntries');
      expect(order.filter((o) => o === 'reports')).toHaveLength(1);
      const doc = JSON.parse(readFileSync(join(out, 'findings.json'), 'utf8')) as { outcome: string; scanId: string; findings: Array<{ id: string; firstSeen: string }> };
      expect(doc).toMatchObject({ outcome: 'complete', scanId: result.scanId });
      expect(doc.findings.map((f) => f.id)).toEqual(result.findings.map((f) => f.id));
      expect(doc.findings.length).toBeGreaterThan(0);
      expect(result.tickets?.opened.length).toBeGreaterThan(0);
    });
  }, 60_000);

  it('a report that cannot be written stops the run: nothing in the ledger, no Planner task, no scan record', async () => {
    await withSim(932, async (t, demo) => {
      const store = new MemoryStore();
      const parent = mkdtempSync(join(tmpdir(), 'm365-audit-out-'));
      writeFileSync(join(parent, 'in-the-way'), 'x');
      // The folder became unusable after the preflight (here: it never was one): the write fails.
      const reports = reportsIn(join(parent, 'in-the-way'));
      await expect(scan(t, demo, store, (r) => reports.write(r))).rejects.toThrow(OutputError);
      expect((await store.getLedger(demo.data.tenantId)).size).toBe(0);
      expect(await store.listScans(demo.data.tenantId)).toEqual([]);
      expect(t.sim.plannerTasks()).toHaveLength(0);
    });
  }, 60_000);

  it('a failure after the reports (a ledger write refused) leaves them marked failed, not current', async () => {
    await withSim(933, async (t, demo) => {
      let writes = 0;
      // The reconciliation is written; the first ticket's delivery intent is refused.
      const store = new MemoryStore({ onWrite: (w) => { if (w.op === 'putLedgerEntries' && ++writes === 2) throw new Error('storage refused the write'); } });
      const out = mkdtempSync(join(tmpdir(), 'm365-audit-out-'));
      const reports = reportsIn(out);
      const failed = await scan(t, demo, store, (r) => reports.write(r)).catch((err: Error) => err);
      expect(failed).toBeInstanceOf(Error);
      // Tickets may be committed by now: the folder holds this run's report, saying it failed.
      expect((await store.getLedger(demo.data.tenantId)).size).toBeGreaterThan(0);
      expect(await reports.fail((failed as Error).message)).toEqual({ path: join(out, 'report.html') });
      const doc = JSON.parse(readFileSync(join(out, 'findings.json'), 'utf8')) as { outcome: string; error: string; findings: unknown[] };
      expect(doc).toMatchObject({ outcome: 'failed', error: 'storage refused the write' });
      expect(doc.findings.length).toBeGreaterThan(0);
      expect(readFileSync(join(out, 'report.html'), 'utf8')).toMatch(/This run failed at .*: storage refused the write/);
      expect(existsSync(join(out, 'findings.csv'))).toBe(true);
    });
  }, 60_000);
});

describe('the output folder', () => {
  it('is created when missing and refused, naming the option, when a file is in the way', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'm365-audit-out-'));
    await checkOutputFolder(join(parent, 'new', 'out'), '--out');
    expect(existsSync(join(parent, 'new', 'out'))).toBe(true);
    writeFileSync(join(parent, 'file'), 'x');
    await expect(checkOutputFolder(join(parent, 'file'), '--out')).rejects.toThrow(/^--out .*file cannot be used for the reports: it is a file, not a folder — pass --out a folder/);
    await expect(checkOutputFolder(join(parent, 'file', 'a', 'b'), '--out')).rejects.toThrow(/^--out .*b cannot be used for the reports: .*file is a file, so no folder can be made under it/);
  });

  it('a failed run that never wrote its reports replaces an earlier report with a failure report', async () => {
    const out = mkdtempSync(join(tmpdir(), 'm365-audit-out-'));
    writeFileSync(join(out, 'findings.json'), JSON.stringify({ schemaVersion: 1, outcome: 'complete', scanId: 'older-scan', finishedAt: '2026-11-30T01:00:00.000Z', coverage: {}, findings: [{ id: 'x' }] }));
    writeFileSync(join(out, 'report.html'), '<p>old</p>');
    writeFileSync(join(out, 'findings.csv'), 'old');
    const reports = new RunReports(out, 'scan', 'ja');
    expect(await reports.fail('no answer from Microsoft Graph', new Date('2026-12-01T00:00:00Z'))).toEqual({ path: join(out, 'report.html') });
    const doc = JSON.parse(readFileSync(join(out, 'findings.json'), 'utf8')) as Record<string, unknown>;
    expect(doc).toEqual({ schemaVersion: 1, outcome: 'failed', command: 'scan', failedAt: '2026-12-01T00:00:00.000Z', error: 'no answer from Microsoft Graph', replaced: { scanId: 'older-scan', finishedAt: '2026-11-30T01:00:00.000Z', outcome: 'complete' } });
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toMatch(/m365-audit scan は 2026-12-01 09:00:00 (JST|GMT\+9) に失敗しました/);
    expect(existsSync(join(out, 'findings.csv'))).toBe(false);
    // A folder with no report, which this run did not check, is left alone.
    const empty = mkdtempSync(join(tmpdir(), 'm365-audit-out-'));
    expect(await new RunReports(empty, 'scan').fail('x')).toEqual({});
    expect(existsSync(join(empty, 'findings.json'))).toBe(false);
  });
});
