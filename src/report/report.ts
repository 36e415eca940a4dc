/**
 * Scan outputs (outputs.md): `findings.json` (the contract), `report.html` (readable, Japanese
 * by default) and `findings.csv` (UTF-8 with BOM so that Excel shows Japanese correctly).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import escapeHtml from 'escape-html';
import juice from 'juice';
import type { ScanResult } from '../pipeline';
import { SEVERITIES } from '../rules/ids';
import { clause, manualClauses } from '../standard/catalogue';
import { evidenceFields, evidenceText, findingSentence, personName, type EvidenceContext } from './evidence';
import { LABELS, type Lang } from './labels';
import { remediationFor } from './remediation';
import { localTime } from './time';
import { reportView, type ReportLedger, type ReportRow, type ReportView, type RowTicket } from './view';
import { WORDING } from './wording';

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

const e = (v: unknown): string => escapeHtml(String(v ?? ''));

/** The evidence context of a report: language, time zone, names from the scan's directory. */
function evidenceContext(lang: Lang, timeZone: string, view: ReportView): EvidenceContext {
  return { lang, timeZone, nameOf: view.displayNameOf };
}

/** Assignees as read: names with addresses when the directory knows them. */
function ownersText(ticket: RowTicket, ctx: EvidenceContext): string {
  return ticket.assignees.length ? ticket.assignees.map((a) => personName(a, ctx)).join(ctx.lang === 'ja' ? '、' : ', ') : '-';
}

/**
 * findings.csv for Excel: UTF-8 with BOM, headers and values in the organisation's language,
 * local times, one row per finding listed in the report (open in the ledger, or this scan's
 * findings without one) with its ticket, owner, due date, remediation and readable evidence.
 */
export function renderCsv(result: ScanResult, lang: Lang, timeZone = 'Asia/Tokyo', ledger?: ReportLedger): string {
  const L = LABELS[lang];
  const W = WORDING[lang];
  const view = reportView(result, ledger);
  const ctx = evidenceContext(lang, timeZone, view);
  const rows = view.rows.map((r) => [
    r.ticket?.id ?? '',
    L.severities[r.severity],
    r.status === 'excepted' ? L.excepted : L.open,
    L.areas[r.area],
    r.ruleId,
    r.title[lang],
    findingSentence(r, ctx),
    r.subject.kind === 'user' ? personName(r.subject.name, ctx) : r.subject.name,
    W.subjectKinds[r.subject.kind],
    r.ticket ? ownersText(r.ticket, ctx) : '',
    r.ticket?.dueDate ?? '',
    r.ticket ? (r.ticket.overdue ? W.yes : W.no) : '',
    localTime(r.firstSeen, timeZone),
    localTime(r.lastSeen, timeZone),
    r.seenThisScan ? W.yes : W.no,
    remediationFor(r.ruleId, lang),
    evidenceText(r.ruleId, r.evidence, ctx),
    r.clauses.join(' '),
    r.id,
  ]);
  return `\uFEFF${stringify([[...W.csv], ...rows], { record_delimiter: 'windows' })}`;
}

export { localTime } from './time';

/** The evidence of a row as a table of labelled fields (class `ev`: never JSON). */
function evidenceHtml(r: ReportRow, ctx: EvidenceContext): string {
  const fields = evidenceFields(r.ruleId, r.evidence, ctx);
  const body = fields.map((f) => {
    const value = f.href ? `<a href="${e(f.href)}">${e(f.lines[0])}</a>` : f.lines.length > 1 ? `<ul class="lines">${f.lines.map((l) => `<li>${e(l)}</li>`).join('')}</ul>` : e(f.lines[0]);
    return `<tr><th>${e(f.label)}</th><td class="ev">${value}</td></tr>`;
  });
  // Roles held through a group are named in the role and holder lines themselves ("via グループ …").
  return body.join('');
}

/** Remediation steps "1) … 2) …" as an ordered list. */
function stepsHtml(text: string): string {
  const steps = text.split(/\s*\d\)\s+/).map((s) => s.trim()).filter(Boolean);
  return steps.length > 1 ? `<ol class="steps">${steps.map((s) => `<li>${e(s)}</li>`).join('')}</ol>` : `<p>${e(text)}</p>`;
}

const SEV_STYLE: Record<string, string> = {
  critical: 'background:#b00020;color:#fff',
  high: 'background:#e65100;color:#fff',
  medium: 'background:#f9a825;color:#222',
  low: 'background:#e0e0e0;color:#222',
};

function badge(sev: string, text: string): string {
  return `<span class="badge sev-${e(sev)}">${e(text)}</span>`;
}

function findingHtml(r: ReportRow, lang: Lang, timeZone: string, ctx: EvidenceContext, fromLedger: boolean): string {
  const L = LABELS[lang];
  const W = WORDING[lang];
  const kv = (label: string, value: string, cls = ''): string => `<tr${cls ? ` class="${cls}"` : ''}><th>${e(label)}</th><td>${value}</td></tr>`;
  const rows: string[] = [];
  if (r.ticket) {
    const t = r.ticket;
    rows.push(kv(W.ticket, `${e(t.id)}${t.planned ? ` <small>(${e(W.planned)})</small>` : ''}`));
    rows.push(kv(W.owner, `${e(ownersText(t, ctx))}${t.routed ? '' : `<p class="warn">${e(W.unrouted)}</p>`}`));
    rows.push(kv(W.due, `${e(t.dueDate)}${t.overdue ? ` <strong class="overdue">${e(W.overdue)}</strong>` : ''}`, t.overdue ? 'overdue-row' : ''));
  } else {
    rows.push(kv(W.ticket, e(r.status === 'excepted' ? W.noTicket : fromLedger ? '-' : W.noTicketNoLedger)));
  }
  const state = [r.status === 'excepted' ? L.excepted : L.open, ...(r.change ? [W.change[r.change]] : [])].join(' / ');
  const last = localTime(r.lastSeen, timeZone);
  const notSeenText = r.kind === 'event' ? W.notSeenEvent(last) : r.areaRead ? W.notSeenState(last) : W.notRead(last);
  const notSeen = r.seenThisScan ? '' : `<p class="warn">${e(notSeenText)}</p>`;
  rows.push(kv(W.status, `${e(state)}${notSeen}`));
  rows.push(kv(L.subject, `${e(W.subjectKinds[r.subject.kind])}: ${e(r.subject.kind === 'user' ? personName(r.subject.name, ctx) : r.subject.name)}`));
  rows.push(kv(`${W.firstSeen} / ${W.lastSeen}`, `${e(localTime(r.firstSeen, timeZone))} / ${e(localTime(r.lastSeen, timeZone))}`));
  rows.push(kv(L.clauses, r.clauses.map((c) => e(`${c} ${clause(c)?.title[lang] ?? ''}`.trim())).join('<br>')));
  const evidence = evidenceHtml(r, ctx);
  return `<section class="finding" id="f-${e(r.id)}">
<h3>${badge(r.severity, L.severities[r.severity])} ${e(r.ruleId)} ${e(r.title[lang])}${r.ticket?.overdue ? ` <strong class="overdue">${e(W.overdue)}</strong>` : ''}</h3>
<p class="what">${e(findingSentence(r, ctx))}</p>
<table class="kv"><tbody>${rows.join('')}<tr class="sub"><th colspan="2">${e(L.evidence)}</th></tr>${evidence}</tbody></table>
<div class="remedy"><h4>${e(W.remediation)}</h4>${stepsHtml(remediationFor(r.ruleId, lang))}</div>
</section>`;
}

/** Items of a "what changed" list shown in the summary. */
const CHANGES_SHOWN = 12;

/** The summary: what to fix first, counts by area and severity, what changed, coverage. */
function summaryHtml(result: ScanResult, view: ReportView, lang: Lang, timeZone: string, ctx: EvidenceContext): string {
  const L = LABELS[lang];
  const W = WORDING[lang];
  const areaName = (a: string): string => L.areas[a as keyof typeof L.areas] ?? a;
  // Coverage first among the warnings: a partial or failed area must never read as compliant.
  const incomplete = Object.entries(result.coverage).filter(([, c]) => c?.status !== 'complete');
  const warning = incomplete.length
    ? `<p class="failed">${e(W.coverageNotComplete(incomplete.map(([a, c]) => `${areaName(a)}（${L.statuses[c?.status ?? 'failed']}）`).join(lang === 'ja' ? '、' : ', ')))}</p>`
    : '';
  // What to fix first: open critical/high, grouped by who is responsible.
  const urgent = view.rows.filter((r) => r.status === 'open' && (r.severity === 'critical' || r.severity === 'high'));
  const groups = new Map<string, ReportRow[]>();
  for (const r of urgent) {
    const key = r.ticket ? ownersText(r.ticket, ctx) : '-';
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const first = urgent.length
    ? `<table class="list"><thead><tr><th>${e(W.ticket)}</th><th>${e(L.severity)}</th><th>${e(W.finding)}</th><th>${e(L.subject)}</th><th>${e(W.due)}</th></tr></thead>${[...groups.entries()]
        .map(([owner, rs]) => `<tbody><tr class="owner"><th colspan="5">${e(W.owner)}: ${e(owner)} (${rs.length})${rs.some((r) => r.ticket && !r.ticket.routed) ? ` — ${e(W.unrouted)}` : ''}</th></tr>${rs
          .map((r) => `<tr><td class="nowrap"><a href="#f-${e(r.id)}">${e(r.ticket?.id ?? r.ruleId)}</a></td><td class="nowrap">${badge(r.severity, L.severities[r.severity])}</td><td>${e(r.ruleId)} ${e(r.title[lang])}</td><td>${e(r.subject.kind === 'tenant' ? W.subjectKinds.tenant : r.subject.name)}</td><td class="nowrap">${e(r.ticket?.dueDate ?? '')}${r.ticket?.overdue ? ` <strong class="overdue">${e(W.overdue)}</strong>` : ''}</td></tr>`)
          .join('')}</tbody>`)
        .join('')}</table>`
    : `<p>${e(W.fixFirstNone)}</p>`;
  // Counts by area and severity (open), excepted apart; an incomplete area says its count is a lower bound.
  const areas = [...new Set([...Object.keys(result.coverage), ...view.rows.map((r) => r.area)])];
  const countRows = areas.map((a) => {
    const rs = view.rows.filter((r) => r.area === a);
    const open = rs.filter((r) => r.status === 'open');
    const c = result.coverage[a as keyof typeof result.coverage];
    const cov = !c ? W.areaNotRead : c.status === 'complete' ? L.statuses.complete : c.status === 'partial' ? W.incompleteCount : W.failedCount;
    return `<tr${c && c.status !== 'complete' ? ` class="cov-${e(c.status)}"` : ''}><th>${e(areaName(a))}</th>${SEVERITIES.map((s) => `<td class="num">${open.filter((r) => r.severity === s).length}</td>`).join('')}<td class="num">${open.length}</td><td class="num">${rs.length - open.length}</td><td>${e(cov)}</td></tr>`;
  });
  const openAll = view.rows.filter((r) => r.status === 'open');
  const totals = `<tr class="total"><th>${e(W.total)}</th>${SEVERITIES.map((s) => `<td class="num">${openAll.filter((r) => r.severity === s).length}</td>`).join('')}<td class="num">${openAll.length}</td><td class="num">${view.rows.length - openAll.length}</td><td></td></tr>`;
  const counts = `<table class="list counts"><thead><tr><th>${e(L.area)}</th>${SEVERITIES.map((s) => `<th>${e(L.severities[s])}</th>`).join('')}<th>${e(W.total)}</th><th>${e(W.excepted)}</th><th>${e(L.coverage)}</th></tr></thead><tbody>${countRows.join('')}${totals}</tbody></table>`;
  // What changed since the last scan.
  const item = (r: { ruleId: string; title: { ja: string; en: string }; subject: { name: string }; severity: string }, href?: string, ticket?: string): string =>
    `<li>${badge(r.severity, L.severities[r.severity as keyof typeof L.severities])} ${ticket ? `${href ? `<a href="${href}">${e(ticket)}</a>` : e(ticket)} ` : ''}${e(r.ruleId)} ${e(r.title[lang])} — ${e(r.subject.name)}</li>`;
  // A long list is cut by whole items: every finding is in the findings section anyway, marked.
  const changeList = (label: string, items: string[]): string => {
    const shown = items.slice(0, CHANGES_SHOWN);
    const rest = items.length - shown.length;
    const more = rest > 0 ? `<li>${e(W.moreChanges(rest))}</li>` : '';
    return `<h4>${e(label)} (${items.length})</h4>${items.length ? `<ul class="changes">${shown.join('')}${more}</ul>` : `<p>${e(W.noChanges)}</p>`}`;
  };
  const changes = view.fromLedger
    ? [
        changeList(W.opened, view.rows.filter((r) => r.change === 'new').map((r) => item(r, `#f-${r.id}`, r.ticket?.id))),
        changeList(W.reopened, view.rows.filter((r) => r.change === 'reopened').map((r) => item(r, `#f-${r.id}`, r.ticket?.id))),
        changeList(W.resolved, view.resolved.map((r) => item(r, undefined, r.ticketId))),
      ].join('\n')
    : `<p>${e(W.noLedger)}</p>`;
  const coverageRows = Object.entries(result.coverage).map(
    ([area, c]) => `<tr class="cov-${e(c?.status)}"><td>${e(areaName(area))}</td><td>${e(L.statuses[c?.status ?? 'failed'])}</td><td class="num">${e(c?.items)}</td><td>${e(c?.detail ?? '')}</td></tr>`,
  );
  void timeZone;
  return `<section class="summary" id="summary">
<h2>${e(W.summaryTitle)}</h2>
${warning}
<h3>${e(W.fixFirst)}</h3>
${first}
<h3>${e(W.byArea)}</h3>
${counts}
<h3>${e(W.changes)}</h3>
${changes}
<h3>${e(L.coverage)}</h3>
<table class="list"><thead><tr><th>${e(L.area)}</th><th>${e(L.status)}</th><th>${e(L.items)}</th><th>${e(L.detail)}</th></tr></thead><tbody>${coverageRows.join('\n')}</tbody></table>
</section>`;
}

/** Screen and print (A4) styles; juice inlines the plain rules, the @page/@media ones stay. */
const STYLE = `
body{font-family:"Hiragino Sans","Yu Gothic","Meiryo","Noto Sans CJK JP","IPAPGothic","IPAGothic",sans-serif;margin:2rem auto;max-width:60rem;color:#222;line-height:1.5;font-size:14px}
h1{font-size:1.6rem;margin:0 0 .5rem}h2{font-size:1.3rem;border-bottom:2px solid #444;padding-bottom:.2rem;margin-top:2rem}h3{font-size:1.05rem;margin:1.2rem 0 .4rem}h4{font-size:.95rem;margin:.6rem 0 .2rem}
table{border-collapse:collapse;width:100%;margin:.4rem 0}th,td{border:1px solid #ccc;padding:.25rem .45rem;vertical-align:top;text-align:left}
th{background:#f3f3f3;font-weight:bold}td{overflow-wrap:anywhere}
table.kv th{width:11em}table.kv td ul.lines{margin:0;padding-left:1.1rem}
td.num{text-align:right}tr.total th,tr.total td{font-weight:bold;border-top:2px solid #888}tr.owner th{background:#e8eef7}tr.sub th{background:#e8e8e8;text-align:left}.nowrap{white-space:nowrap}
.badge{display:inline-block;padding:0 .45em;border-radius:3px;font-size:.85em;font-weight:bold}
.sev-critical{${SEV_STYLE.critical}}.sev-high{${SEV_STYLE.high}}.sev-medium{${SEV_STYLE.medium}}.sev-low{${SEV_STYLE.low}}
.finding{border:1px solid #bbb;border-radius:4px;padding:.5rem .8rem;margin:1rem 0}.finding h3{margin:.2rem 0 .4rem}
.what{font-weight:bold;margin:.2rem 0 .4rem}.remedy ol.steps{margin:.2rem 0;padding-left:1.4rem}.remedy p{margin:.2rem 0}
.overdue{color:#b00020}.failed{background:#f8d7da;padding:.6rem;border-left:4px solid #b00020;font-weight:bold}
.warn{background:#fff3cd;padding:.4rem .6rem;border-left:4px solid #f0ad4e;margin:.3rem 0}
.cov-partial td,.cov-partial th{background:#fff3cd}.cov-failed td,.cov-failed th{background:#f8d7da}
ul.changes{margin:.2rem 0;padding-left:1.2rem}small{color:#666}code{font-size:.85em}
details{margin-top:2rem}summary{font-weight:bold;font-size:1.1rem}
`;

/** Rules juice must not inline: page size and print behaviour. */
const PRINT_STYLE = `@page{size:A4;margin:12mm 10mm}
@media print{body{margin:0!important;max-width:none!important;font-size:8.5pt!important;line-height:1.3!important}
h1{font-size:14pt!important}h2{font-size:12pt!important;margin-top:.6rem!important}h3{font-size:10pt!important;margin:.4rem 0 .2rem!important}h4{font-size:9pt!important;margin:.3rem 0 .1rem!important}
th,td{padding:1px 4px!important}.finding{margin:0 0 6px!important;padding:3px 6px!important;break-inside:avoid;page-break-inside:avoid}
thead{display:table-header-group}tr,li{break-inside:avoid;page-break-inside:avoid}h2,h3,h4{break-after:avoid;page-break-after:avoid}
.summary{page-break-after:always;break-after:page}a{color:inherit!important;text-decoration:none!important}.warn,.failed{padding:2px 6px!important}}`;

/**
 * report.html: a self-contained page (no scripts, no external resources, CSS inlined by juice)
 * that reads on screen and prints on A4. With the reconciled `ledger` it lists every open entry of
 * the ledger with its ticket; without one (no store), this scan's findings.
 */
export function renderHtml(result: ScanResult, lang: Lang, organization: string, timeZone = 'Asia/Tokyo', failure?: RunFailure, ledger?: ReportLedger): string {
  const L = LABELS[lang];
  const W = WORDING[lang];
  const view = reportView(result, ledger);
  const ctx = evidenceContext(lang, timeZone, view);
  // A run that failed after its scan: the findings are what was read, but the run did not finish.
  const failed = failure
    ? `<p class="failed">${e(lang === 'ja'
      ? `この実行は ${localTime(failure.at, timeZone)} に失敗しました: ${failure.message}。以下は失敗前に読み取った結果です。台帳とチケットは更新途中の可能性があります。原因を取り除いて再実行してください。`
      : `This run failed at ${localTime(failure.at, timeZone)}: ${failure.message}. What follows is what it read before failing; the ledger and tickets may be only partly updated. Remove the cause and run again.`)}</p>`
    : '';
  const manual = manualClauses().filter((c) => c.level !== 'chapter');
  const findings = view.rows.map((r) => findingHtml(r, lang, timeZone, ctx, view.fromLedger));
  const html = `<!DOCTYPE html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(L.title)} — ${e(organization)}</title>
<style data-embed>${PRINT_STYLE}</style>
<style>${STYLE}</style>
</head>
<body>
<h1>${e(L.title)}</h1>
${failed}
<p>${e(organization)} — ${e(L.basis)}</p>
<table class="kv"><tbody>
<tr><th>${e(L.tenant)}</th><td>${e(result.tenantId)}</td></tr>
<tr><th>${e(L.scan)}</th><td>${e(result.scanId)}</td></tr>
<tr><th>${e(L.started)}</th><td>${e(localTime(result.startedAt, timeZone))}</td></tr>
<tr><th>${e(L.finished)}</th><td>${e(localTime(result.finishedAt, timeZone))}</td></tr>
<tr><th>${e(L.graph)}</th><td>${e(result.graph.requests)}</td></tr>
</tbody></table>
${summaryHtml(result, view, lang, timeZone, ctx)}
<section class="findings" id="findings">
<h2>${e(view.fromLedger ? W.findingsTitle : W.findingsTitleNoLedger)} (${view.rows.length})</h2>
${findings.length ? findings.join('\n') : `<p>${e(L.none)}</p>`}
</section>
${result.skipped.length ? `<h2>${e(L.skipped)}</h2><ul>${result.skipped.map((s) => `<li>${e(s.ruleId)}: ${e(s.reason)}</li>`).join('')}</ul>` : ''}
${'mail' in result.coverage ? `<h2>${e(L.notes)}</h2><p class="warn">${e(L.mailboxForwarding)}</p>` : ''}
<details class="manual"><summary>${e(W.manualCount(manual.length))}</summary>
<p>${e(L.manualNote)}</p>
<ul>${manual.map((c) => `<li>${e(c.id)} ${e(c.title[lang])}</li>`).join('')}</ul>
</details>
</body>
</html>
`;
  return juice(html, { preserveMediaQueries: true, removeStyleTags: true });
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
export function renderReports(result: ScanResult, lang: Lang, organization: string, timeZone = 'Asia/Tokyo', failure?: RunFailure, ledger?: ReportLedger): ReportFile[] {
  return [
    { name: 'findings.json', type: 'application/json', content: `${JSON.stringify(findingsDocument(result, failure), null, 2)}\n` },
    { name: 'report.html', type: 'text/html; charset=utf-8', content: renderHtml(result, lang, organization, timeZone, failure, ledger) },
    { name: 'findings.csv', type: 'text/csv; charset=utf-8', content: renderCsv(result, lang, timeZone, ledger) },
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
  ledger?: ReportLedger,
): Promise<WrittenReports> {
  await placeReports(outDir, renderReports(result, lang, organization, timeZone, failure, ledger), keep);
  return { json: join(outDir, 'findings.json'), html: join(outDir, 'report.html'), csv: join(outDir, 'findings.csv') };
}
