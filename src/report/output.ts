/**
 * The output folder of a run (`--out`) and what it holds after the run, whatever happens:
 * - before a run changes anything, {@link checkOutputFolder} makes sure the folder can be written
 *   (it is created if missing, and probed with a temporary file);
 * - the scan's reports are written before the ledger is (the pipeline's `beforeCommit`), so a
 *   failure cannot leave tickets committed with no report;
 * - a run that fails afterwards, or could not read anything, or is stopped by a signal, replaces
 *   the report with one that says it failed ({@link RunReports.fail}): the folder never holds a
 *   stale report that reads as current.
 * No console output here: the CLI prints what these return or throw.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import escapeHtml from 'escape-html';
import { OutputError } from '../errors';
import type { ScanResult } from '../pipeline';
import type { Lang } from './labels';
import type { ReportLedger } from './view';
import { localTime, placeReports, renderReports, type KeepReport, type ReportFile, type RunFailure, type WrittenReports } from './report';

/** The report files a run leaves in its folder (demo-policy.yaml and alerts/ are not reports of a scan). */
export const REPORT_FILES = ['findings.json', 'report.html', 'findings.csv'] as const;

/** The nearest existing ancestor of `path` (or `path` itself), with what it is. */
async function nearestExisting(path: string): Promise<{ path: string; isDirectory: boolean } | undefined> {
  for (let p = path; ; p = dirname(p)) {
    const s = await stat(p).catch(() => undefined);
    if (s) return { path: p, isDirectory: s.isDirectory() };
    if (dirname(p) === p) return undefined;
  }
}

/**
 * Makes sure `dir` is a folder this process can write: creates it if missing, then writes and
 * removes a probe file. Throws an {@link OutputError} naming `what` (e.g. `--out`), the path and the
 * fix: a file where the folder should be, a path under a file, a folder that cannot be written.
 * (Permission bits do not stop root, so the probe write is the test, not a mode check.)
 */
export async function checkOutputFolder(dir: string, what: string): Promise<void> {
  const refuse = (problem: string, fix: string, cause?: unknown): never => {
    throw new OutputError(`${what} ${dir} cannot be used for the reports: ${problem} — ${fix}; nothing was scanned or written`, { cause });
  };
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const near = await nearestExisting(dir);
    if (near && !near.isDirectory) {
      if (near.path === dir) refuse('it is a file, not a folder', `pass ${what} a folder (or move the file away)`, err);
      refuse(`${near.path} is a file, so no folder can be made under it`, `pass ${what} a folder that is not under a file`, err);
    }
    refuse(`the folder cannot be created (${code ?? (err as Error).message})`, `create it, make its parent writable, or pass ${what} another folder`, err);
  }
  const s = await stat(dir);
  if (!s.isDirectory()) refuse('it is not a folder', `pass ${what} a folder`);
  const probe = join(dir, `.m365-audit-probe-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await writeFile(probe, 'probe', { flag: 'wx' });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    refuse(
      code === 'EROFS' ? 'it is on a read-only file system' : `a file cannot be written in it (${code ?? (err as Error).message})`,
      `make it writable for this user, or pass ${what} another folder`,
      err,
    );
  }
  await rm(probe, { force: true });
}

/** The scan an earlier report in the folder was of, if it says so (to name what was replaced). */
async function previousReport(dir: string): Promise<{ scanId?: string; finishedAt?: string; outcome?: string } | undefined> {
  try {
    const doc = JSON.parse(await readFile(join(dir, 'findings.json'), 'utf8')) as Record<string, unknown>;
    const pick = (k: string): string | undefined => (typeof doc[k] === 'string' ? (doc[k] as string) : undefined);
    const scanId = pick('scanId');
    const finishedAt = pick('finishedAt');
    const outcome = pick('outcome');
    return { ...(scanId ? { scanId } : {}), ...(finishedAt ? { finishedAt } : {}), ...(outcome ? { outcome } : {}) };
  } catch {
    return undefined;
  }
}

/**
 * The report of a run that failed before it had a scan to report: findings.json has
 * `"outcome": "failed"`, the error and when, and deliberately no `findings` or `coverage`, so a
 * consumer that does not check `outcome` fails loudly instead of reading "no findings" as
 * compliance; report.html says the same in words.
 */
export function renderFailureReport(
  failure: RunFailure,
  context: { command: string; lang: Lang; organization?: string; timeZone?: string; tenantId?: string; previous?: { scanId?: string; finishedAt?: string } },
): ReportFile[] {
  const tz = context.timeZone ?? 'Asia/Tokyo';
  const doc = {
    schemaVersion: 1,
    outcome: 'failed',
    command: context.command,
    ...(context.tenantId ? { tenantId: context.tenantId } : {}),
    failedAt: failure.at,
    error: failure.message,
    ...(context.previous?.scanId ? { replaced: context.previous } : {}),
  };
  const ja = context.lang === 'ja';
  const prev = context.previous?.scanId
    ? ja
      ? `このフォルダにあった前回のレポート（スキャン ${context.previous.scanId}${context.previous.finishedAt ? `、${localTime(context.previous.finishedAt, tz)} 終了` : ''}）は、現在の結果と誤読されないよう置き換えました。`
      : `The earlier report in this folder (scan ${context.previous.scanId}${context.previous.finishedAt ? `, finished ${localTime(context.previous.finishedAt, tz)}` : ''}) was replaced so that it is not read as current.`
    : '';
  const e = (v: string): string => escapeHtml(v);
  const html = `<!DOCTYPE html>
<html lang="${context.lang}">
<head>
<meta charset="utf-8">
<title>${e(ja ? '点検の実行に失敗しました' : 'The check run failed')}${context.organization ? ` — ${e(context.organization)}` : ''}</title>
<style>body{font-family:"Hiragino Sans","Yu Gothic","Meiryo","Noto Sans CJK JP",sans-serif;margin:2rem;color:#222}.failed{background:#f8d7da;padding:.75rem;border-left:4px solid #b00020}pre{white-space:pre-wrap}</style>
</head>
<body>
<h1>${e(ja ? '点検の実行に失敗しました' : 'The check run failed')}</h1>
<p class="failed">${e(ja ? `m365-audit ${context.command} は ${localTime(failure.at, tz)} に失敗しました。この実行の点検結果はありません（指摘ゼロという意味ではありません）。` : `m365-audit ${context.command} failed at ${localTime(failure.at, tz)}. This run has no results (which does not mean no findings).`)}</p>
<pre>${e(failure.message)}</pre>
${prev ? `<p>${e(prev)}</p>` : ''}
<p>${e(ja ? '原因を取り除いて再実行してください。過去のレポートの写しはストレージ（reports/<テナント>/<スキャン>/）に残っています。' : 'Remove the cause and run again. Copies of earlier reports are kept in storage (reports/<tenant>/<scan>/).')}</p>
</body>
</html>
`;
  return [
    { name: 'findings.json', type: 'application/json', content: `${JSON.stringify(doc, null, 2)}\n` },
    { name: 'report.html', type: 'text/html; charset=utf-8', content: html },
  ];
}

/** How a run's reports are rendered, known once the policy is loaded. */
export interface ReportStyle {
  lang: Lang;
  organization: string;
  timeZone: string;
  /** Copies in blob storage of a scan's files, written with them (before the ledger). */
  keep?: (result: ScanResult) => KeepReport;
}

/**
 * The reports of one run in one folder, and what the folder says if the run fails. The CLI makes
 * one per `scan`/`signins`/`demo` run, checks it before anything else changes, hands
 * {@link RunReports.write} to the pipeline as `beforeCommit`, and calls {@link RunReports.fail}
 * on any failure (an error, nothing readable, a stop signal).
 */
export class RunReports {
  private checked = false;
  /** The folder itself was refused: there is nothing to replace in it. */
  private refused = false;
  private style: ReportStyle;
  /** This run's scan, once its reports are in the folder: a later failure re-marks them. */
  private written: ScanResult | undefined;
  /** The reconciled ledger the written reports showed (a failure re-marks them with it). */
  private ledger: ReportLedger | undefined;
  private tenantId: string | undefined;

  constructor(readonly dir: string, private readonly command: string, lang: Lang = 'ja') {
    this.style = { lang, organization: '', timeZone: 'Asia/Tokyo' };
  }

  /** The policy's language, organisation and time zone, and where copies are kept. */
  configure(style: ReportStyle, tenantId?: string): void {
    this.style = style;
    this.tenantId = tenantId;
  }

  /** {@link checkOutputFolder} under the option's name. */
  async check(what: string): Promise<void> {
    try {
      await checkOutputFolder(this.dir, what);
    } catch (err) {
      this.refused = true;
      throw err;
    }
    this.checked = true;
  }

  /**
   * Writes the scan's reports; with `failure`, marked as a run that failed after reading this;
   * with `ledger` (runScan's `beforeCommit` passes it), listing what is open in the ledger.
   */
  async write(result: ScanResult, failure?: RunFailure, ledger?: ReportLedger): Promise<WrittenReports> {
    try {
      await placeReports(this.dir, renderReports(result, this.style.lang, this.style.organization, this.style.timeZone, failure, ledger), this.style.keep?.(result));
    } catch (err) {
      if (err instanceof OutputError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      throw new OutputError(
        code
          ? `the reports could not be written to ${this.dir} (${code}: ${(err as Error).message.split('\n')[0]}) — free space or make the folder writable, and run again; nothing was written to the ledger`
          : `the reports could not be kept (${(err as Error).message.split('\n')[0]}) — check the storage, and run again; nothing was written to the ledger`,
        { cause: err },
      );
    }
    this.written = result;
    this.ledger = ledger;
    return { json: join(this.dir, 'findings.json'), html: join(this.dir, 'report.html'), csv: join(this.dir, 'findings.csv') };
  }

  /**
   * Replaces the folder's report with one saying the run failed, and why: this run's own reports
   * re-marked as failed if it wrote them, else a failure report (findings.csv removed, so no stale
   * rows remain). A folder this run did not check is changed only if it holds a report already
   * (a bad policy does not litter an empty folder, and does not leave yesterday's report current).
   * Resolves to the report's path, or undefined when there was nothing to replace; never throws:
   * `problem` says why the folder could not be changed.
   */
  async fail(message: string, at: Date = new Date()): Promise<{ path?: string; problem?: string }> {
    const failure: RunFailure = { at: at.toISOString(), message };
    if (this.refused) return {};
    try {
      const exists = await stat(this.dir).then((s) => s.isDirectory(), () => false);
      if (!exists) return {};
      if (this.written) {
        await placeReports(this.dir, renderReports(this.written, this.style.lang, this.style.organization, this.style.timeZone, failure, this.ledger));
        return { path: join(this.dir, 'report.html') };
      }
      const previous = await previousReport(this.dir);
      const hasReport = previous !== undefined || (await stat(join(this.dir, 'report.html')).then(() => true, () => false));
      if (!this.checked && !hasReport) return {};
      const files = renderFailureReport(failure, {
        command: this.command,
        lang: this.style.lang,
        ...(this.style.organization ? { organization: this.style.organization } : {}),
        timeZone: this.style.timeZone,
        ...(this.tenantId ? { tenantId: this.tenantId } : {}),
        ...(previous && previous.outcome !== 'failed' ? { previous } : {}),
      });
      await placeReports(this.dir, files, undefined, ['findings.csv']);
      return { path: join(this.dir, 'report.html') };
    } catch (err) {
      return { problem: `${(err as NodeJS.ErrnoException).code ?? ''} ${(err as Error).message.split('\n')[0]}`.trim() };
    }
  }
}
