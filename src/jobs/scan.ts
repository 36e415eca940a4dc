/**
 * The scan job: one entry point for every caller of a scan (the CLI's `scan`/`signins`/`demo`, the
 * Functions' timers and queue worker). It runs the pipeline with the caller's sinks and alerts,
 * hands the reports to the caller's writer before the ledger changes, and says what the run came
 * to as an outcome (`complete | partial | failed`, as findings.json does) — never an exit code:
 * the CLI maps outcomes to 0/2/1 ({@link exitCodeOf}), a Function logs them.
 */
import { runScan, type ScanOptions, type ScanResult } from '../pipeline';
import { collapseCauses } from '../report/causes';
import { renderReports, type RunFailure } from '../report/report';
import type { ReportLedger } from '../report/view';
import type { Lang } from '../report/labels';

/** What a run came to: findings.json's `outcome`. */
export type ScanOutcome = 'complete' | 'partial' | 'failed';

/** True when nothing could be read at all: Graph unreachable or authentication refused. */
export function couldNotRun(result: Pick<ScanResult, 'coverage'>): boolean {
  const entries = Object.values(result.coverage);
  return entries.length > 0 && entries.every((c) => c?.status === 'failed');
}

/** The outcome of a finished scan: failed when nothing was read, partial when some area was not complete. */
export function outcomeOf(result: Pick<ScanResult, 'coverage' | 'exitCode'>): ScanOutcome {
  if (couldNotRun(result)) return 'failed';
  return result.exitCode === 0 ? 'complete' : 'partial';
}

/** The CLI's exit code for an outcome (outputs.md): 0 complete, 2 partial, 1 failed. */
export function exitCodeOf(outcome: ScanOutcome): 0 | 1 | 2 {
  return outcome === 'complete' ? 0 : outcome === 'partial' ? 2 : 1;
}

/** The failure text of a run that read nothing: each cause once, naming the areas it hit. */
export function coverageFailure(result: Pick<ScanResult, 'coverage'>): string {
  const details = Object.entries(result.coverage).flatMap(([area, c]) => (c?.detail ? [{ label: area, message: c.detail }] : []));
  return details.length ? collapseCauses(details).join('\n') : 'no area could be read';
}

/**
 * Writes a scan's reports (called once, before the first ledger write). `failed` is true when the
 * scan read nothing at all: the reports must then say the run failed, never "no findings".
 */
export type ReportWriter = (result: ScanResult, ledger: ReportLedger | undefined, failed: boolean) => Promise<unknown>;

export interface ScanJobOptions extends Omit<ScanOptions, 'beforeCommit'> {
  /** Where the reports go: the CLI's `--out` folder (with blob copies), or blob storage only. */
  reports: ReportWriter;
}

export interface ScanJobResult {
  result: ScanResult;
  outcome: ScanOutcome;
}

/** Runs one scan end to end: pipeline, reports before the ledger, tickets, alerts; returns the outcome. */
export async function runScanJob(options: ScanJobOptions): Promise<ScanJobResult> {
  const { reports, ...scan } = options;
  const result = await runScan({ ...scan, beforeCommit: (r, ledger) => reports(r, ledger, couldNotRun(r)) });
  return { result, outcome: outcomeOf(result) };
}

/** The store a Function keeps reports in: `reports/<tenant>/<scan>/<file>` (src/store/store.ts). */
export interface ReportBlobs {
  putReport(tenantId: string, scanId: string, name: string, content: string, contentType: string): Promise<unknown>;
}

/**
 * A {@link ReportWriter} for the Functions: findings.json, report.html and findings.csv to blob
 * storage only (no folder exists there that anybody would open), in the organisation's language.
 */
export function blobReportWriter(store: ReportBlobs, style: { lang: Lang; organization: string; timeZone: string }, now: () => Date = () => new Date()): ReportWriter {
  return async (result, ledger, failed) => {
    const failure: RunFailure | undefined = failed ? { at: now().toISOString(), message: coverageFailure(result) } : undefined;
    for (const f of renderReports(result, style.lang, style.organization, style.timeZone, failure, ledger)) {
      await store.putReport(result.tenantId, result.scanId, f.name, f.content, f.type);
    }
  };
}
