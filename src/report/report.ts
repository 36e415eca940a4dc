/**
 * Scan outputs (outputs.md): `findings.json` (the contract), `report.html` (readable, Japanese
 * by default) and `findings.csv` (UTF-8 with BOM so that Excel shows Japanese correctly).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import escapeHtml from 'escape-html';
import { DateTime } from 'luxon';
import type { Finding } from '../findings/finding';
import { countBySeverity, type ScanResult } from '../pipeline';
import { SEVERITIES } from '../rules/ids';
import { manualClauses } from '../standard/catalogue';
import { groupHoldingLine } from './holdings';
import { LABELS, type Lang } from './labels';

/**
 * Why a run failed, for a report that must not read as a current, successful one: `at` when it
 * failed (ISO), `message` the error as the CLI printed it.
 */
export interface RunFailure {
  at: string;
  message: string;
}

/**
 * The findings.json document (schemaVersion 1). `outcome` says what the run came to: `complete`
 * (exit 0), `partial` (exit 2) or `failed` (exit 1; `error` and `failedAt` say why and when).
 */
export function findingsDocument(result: ScanResult, failure?: RunFailure): Record<string, unknown> {
  return {
    schemaVersion: result.schemaVersion,
    outcome: failure ? 'failed' : result.exitCode === 0 ? 'complete' : 'partial',
    ...(failure ? { failedAt: failure.at, error: failure.message } : {}),
    tenantId: result.tenantId,
    scanId: result.scanId,
    startedAt: result.startedAt,
    finishedAt: result.finishedAt,
    coverage: result.coverage,
    findings: result.findings.map((f) => ({
      id: f.id,
      ruleId: f.ruleId,
      clauses: f.clauses,
      kind: f.kind,
      severity: f.severity,
      area: f.area,
      subject: f.subject,
      title: f.title,
      evidence: f.evidence,
      status: f.status,
      firstSeen: f.firstSeen,
      lastSeen: f.lastSeen,
    })),
  };
}

const CSV_COLUMNS = ['id', 'ruleId', 'severity', 'status', 'kind', 'area', 'subjectKind', 'subjectId', 'subjectName', 'title', 'clauses', 'firstSeen', 'lastSeen', 'evidence'];

/** findings.csv: one row per finding, UTF-8 with BOM. */
export function renderCsv(findings: readonly Finding[], lang: Lang): string {
  const rows = findings.map((f) => [
    f.id, f.ruleId, f.severity, f.status, f.kind, f.area, f.subject.kind, f.subject.id, f.subject.name,
    f.title[lang], f.clauses.join(' '), f.firstSeen, f.lastSeen, JSON.stringify(f.evidence),
  ]);
  return `\uFEFF${stringify([CSV_COLUMNS, ...rows], { record_delimiter: 'windows' })}`;
}

const e = (v: unknown): string => escapeHtml(String(v ?? ''));

/** A timestamp as the organisation reads it: local time with its zone, e.g. 2026-11-27 11:44:44 JST. */
export function localTime(iso: string, timeZone: string): string {
  const t = DateTime.fromISO(iso, { zone: 'utc' }).setZone(timeZone);
  return t.isValid ? `${t.toFormat('yyyy-MM-dd HH:mm:ss')} ${t.offsetNameShort ?? timeZone}` : iso;
}

function evidenceHtml(evidence: Record<string, unknown>, lang: Lang): string {
  const items = Object.entries(evidence).map(([k, v]) => {
    const text = typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || v === null ? String(v) : JSON.stringify(v);
    return `<li><code>${e(k)}</code>: ${e(text.length > 600 ? `${text.slice(0, 600)}…` : text)}</li>`;
  });
  // Roles held through a group: say which group in words ("via グループ …").
  const via = groupHoldingLine(evidence, lang);
  if (via) items.push(`<li>${e(via.label)}: ${e(via.text.length > 600 ? `${via.text.slice(0, 600)}…` : via.text)}</li>`);
  return `<ul class="ev">${items.join('')}</ul>`;
}

/** report.html: a self-contained page (no scripts, no external resources). */
export function renderHtml(result: ScanResult, lang: Lang, organization: string, timeZone = 'Asia/Tokyo', failure?: RunFailure): string {
  const L = LABELS[lang];
  // A run that failed after its scan: the findings are what was read, but the run did not finish.
  const failed = failure
    ? `<p class="failed">${e(lang === 'ja'
      ? `この実行は ${localTime(failure.at, timeZone)} に失敗しました: ${failure.message}。以下は失敗前に読み取った結果です。台帳とチケットは更新途中の可能性があります。原因を取り除いて再実行してください。`
      : `This run failed at ${localTime(failure.at, timeZone)}: ${failure.message}. What follows is what it read before failing; the ledger and tickets may be only partly updated. Remove the cause and run again.`)}</p>`
    : '';
  const counts = countBySeverity(result.findings);
  const coverageRows = Object.entries(result.coverage).map(
    ([area, c]) =>
      `<tr class="cov-${e(c?.status)}"><td>${e(L.areas[area as keyof typeof L.areas] ?? area)}</td><td>${e(L.statuses[c?.status ?? 'failed'])}</td><td>${e(c?.items)}</td><td>${e(c?.detail ?? '')}</td></tr>`,
  );
  const incomplete = Object.values(result.coverage).some((c) => c?.status !== 'complete');
  const findingRows = result.findings.map(
    (f) =>
      `<tr class="sev-${e(f.severity)}${f.status === 'excepted' ? ' excepted' : ''}"><td>${e(L.severities[f.severity])}</td><td>${e(f.ruleId)}<br>${e(f.title[lang])}</td><td>${e(f.clauses.join(', '))}</td><td>${e(f.subject.name)}<br><small>${e(f.subject.kind)}: ${e(f.subject.id)}</small></td><td>${e(f.status === 'excepted' ? L.excepted : L.open)}</td><td>${evidenceHtml(f.evidence, lang)}</td></tr>`,
  );
  const manual = manualClauses().filter((c) => c.level !== 'chapter');
  return `<!DOCTYPE html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(L.title)} — ${e(organization)}</title>
<style>
body{font-family:"Hiragino Sans","Yu Gothic","Meiryo","Noto Sans CJK JP",sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse;width:100%;margin:1rem 0}th,td{border:1px solid #ccc;padding:.35rem .5rem;vertical-align:top;text-align:left}
th{background:#f3f3f3}table.findings{table-layout:fixed}table.findings col.sev{width:4.5em}table.findings col.rule{width:14em}
table.findings col.cl{width:6.5em}table.findings col.subj{width:22em}table.findings col.st{width:6em}td{overflow-wrap:anywhere}.sev-critical td:first-child{background:#b00020;color:#fff}.sev-high td:first-child{background:#e65100;color:#fff}
.sev-medium td:first-child{background:#f9a825}.sev-low td:first-child{background:#e0e0e0}.excepted{opacity:.65}
.failed{background:#f8d7da;padding:.75rem;border-left:4px solid #b00020;font-weight:bold}.cov-partial td:nth-child(2){background:#fff3cd}.cov-failed td:nth-child(2){background:#f8d7da}.warn{background:#fff3cd;padding:.75rem;border-left:4px solid #f0ad4e}
ul.ev{margin:0;padding-left:1rem}code{font-size:.85em}small{color:#666}
</style>
</head>
<body>
<h1>${e(L.title)}</h1>
${failed}
<p>${e(organization)} — ${e(L.basis)}</p>
<table><tbody>
<tr><th>${e(L.tenant)}</th><td>${e(result.tenantId)}</td></tr>
<tr><th>${e(L.scan)}</th><td>${e(result.scanId)}</td></tr>
<tr><th>${e(L.started)}</th><td>${e(localTime(result.startedAt, timeZone))}</td></tr>
<tr><th>${e(L.finished)}</th><td>${e(localTime(result.finishedAt, timeZone))}</td></tr>
<tr><th>${e(L.graph)}</th><td>${e(result.graph.requests)}</td></tr>
</tbody></table>
<h2>${e(L.coverage)}</h2>
${incomplete ? `<p class="warn">${e(L.partialWarning)}</p>` : ''}
<table><thead><tr><th>${e(L.area)}</th><th>${e(L.status)}</th><th>${e(L.items)}</th><th>${e(L.detail)}</th></tr></thead><tbody>${coverageRows.join('\n')}</tbody></table>
<h2>${e(L.summary)}</h2>
<table><thead><tr>${SEVERITIES.map((s) => `<th>${e(L.severities[s])}</th>`).join('')}</tr></thead><tbody><tr>${SEVERITIES.map((s) => `<td>${counts[s]}</td>`).join('')}</tr></tbody></table>
<h2>${e(L.findings)} (${result.findings.length})</h2>
${result.findings.length ? `<table class="findings"><colgroup><col class="sev"><col class="rule"><col class="cl"><col class="subj"><col class="st"><col></colgroup><thead><tr><th>${e(L.severity)}</th><th>${e(L.rule)}</th><th>${e(L.clauses)}</th><th>${e(L.subject)}</th><th>${e(L.status)}</th><th>${e(L.evidence)}</th></tr></thead><tbody>${findingRows.join('\n')}</tbody></table>` : `<p>${e(L.none)}</p>`}
${result.skipped.length ? `<h2>${e(L.skipped)}</h2><ul>${result.skipped.map((s) => `<li>${e(s.ruleId)}: ${e(s.reason)}</li>`).join('')}</ul>` : ''}
${'mail' in result.coverage ? `<h2>${e(L.notes)}</h2><p class="warn">${e(L.mailboxForwarding)}</p>` : ''}
<h2>${e(L.manual)}</h2>
<p>${e(L.manualNote)}</p>
<ul>${manual.map((c) => `<li>${e(c.id)} ${e(c.title[lang])}</li>`).join('')}</ul>
</body>
</html>
`;
}

export interface WrittenReports {
  json: string;
  html: string;
  csv: string;
}

/** Also hands each rendered file to `keep` (e.g. a copy in blob storage), without reading it back. */
export type KeepReport = (name: string, content: string, contentType: string) => Promise<unknown>;

/** A report file as rendered: its name in the folder, content type and content. */
export interface ReportFile {
  name: string;
  type: string;
  content: string;
}

/** The three report files of a scan (marked failed when `failure` is given). */
export function renderReports(result: ScanResult, lang: Lang, organization: string, timeZone = 'Asia/Tokyo', failure?: RunFailure): ReportFile[] {
  return [
    { name: 'findings.json', type: 'application/json', content: `${JSON.stringify(findingsDocument(result, failure), null, 2)}\n` },
    { name: 'report.html', type: 'text/html; charset=utf-8', content: renderHtml(result, lang, organization, timeZone, failure) },
    { name: 'findings.csv', type: 'text/csv; charset=utf-8', content: renderCsv(result.findings, lang) },
  ];
}

/**
 * Puts `files` into `outDir` so that a reader never sees half a file: each is written to a
 * temporary name beside its place first, all of them, and only then renamed over the old one
 * (a rename within a folder is atomic). `keep` (blob copies) runs between the two, so a copy that
 * fails leaves the folder as it was. `remove`: files of an earlier report that must not stay.
 */
export async function placeReports(outDir: string, files: readonly ReportFile[], keep?: KeepReport, remove: readonly string[] = []): Promise<void> {
  await mkdir(outDir, { recursive: true });
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const staged = files.map((f) => ({ ...f, temp: join(outDir, `.${f.name}.${tag}.tmp`) }));
  try {
    await Promise.all(staged.map((f) => writeFile(f.temp, f.content, 'utf8')));
    if (keep) for (const f of files) await keep(f.name, f.content, f.type);
    for (const f of staged) await rename(f.temp, join(outDir, f.name));
  } finally {
    await Promise.all(staged.map((f) => rm(f.temp, { force: true }).catch(() => undefined)));
  }
  for (const name of remove) await rm(join(outDir, name), { force: true });
}

/** Writes findings.json, report.html and findings.csv into `outDir` (atomically, {@link placeReports}). */
export async function writeReports(
  outDir: string,
  result: ScanResult,
  lang: Lang,
  organization: string,
  timeZone = 'Asia/Tokyo',
  keep?: KeepReport,
  failure?: RunFailure,
): Promise<WrittenReports> {
  await placeReports(outDir, renderReports(result, lang, organization, timeZone, failure), keep);
  return { json: join(outDir, 'findings.json'), html: join(outDir, 'report.html'), csv: join(outDir, 'findings.csv') };
}
