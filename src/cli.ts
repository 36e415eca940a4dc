#!/usr/bin/env node
/**
 * m365-audit command line (outputs.md). The only place that prints or exits: everything under
 * src/ returns values or throws typed errors, so the Functions handlers can call the same code.
 *
 * Exit codes: 0 the scan was complete; 2 it finished but some area was partial or failed;
 * 1 it could not run (bad policy or settings, Graph unreachable, authentication refused).
 */
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { stringify as toYaml } from 'yaml';
import { defaultPolicy, loadPolicy, validatePolicy, type Policy } from './config/policy';
import { loadSettings, type Settings } from './config/settings';
import { policyWarnings } from './config/warnings';
import { AuditError, ConfigError, CredentialError } from './errors';
import { RunReports } from './report/output';
import { createGraphClient, graphOptionsFor } from './graph/client';
import { Graph, type GraphWait } from './graph/graph';
import { IMPLEMENTED_AREAS, countBySeverity, type ScanResult } from './pipeline';
import { exitCodeOf, runScanJob, type ScanJobResult } from './jobs/scan';
import { runShardedScanLocally } from './jobs/shard-queue';
import type { JobLogger, ScanDeps } from './runtime';
import { shardName } from './jobs/shards';
import { runDigestJob } from './jobs/digest';
import { causeOf, collapseCauses, withoutQueries } from './report/causes';
import type { KeepReport, WrittenReports } from './report/report';
import { LABELS, type Lang } from './report/labels';
import { AREAS, SEVERITIES, type Area } from './rules/ids';
import { RULES } from './rules/index';
import { generateDemoTenant } from './sim/demo-tenant';
import { startSimulator } from './sim/server';
import { DEFAULT_PLANNER_BUCKET_ID, DEFAULT_PLANNER_PLAN_ID } from './sim/planner';
import { closeByPerson } from './findings/ledger';
import { sinksFromSettings } from './tickets/sinks';
import { syncTickets } from './tickets/tickets';
import { acquireAzurite, type SharedAzurite } from './store/azurite';
import type { AlertOptions, AlertSummary } from './alerts/deliver';
import { FileAlertSink } from './alerts/file-sink';
import { TeamsWebhookSink, type AlertSink } from './alerts/teams';
import { writeAlertFiles } from './alerts/preview';
import { Store } from './store/store';
import { verifyEvidence, type ChainIssue, type ChainIssueKind, type ChainVerification } from './store/evidence';
import { DateTime } from 'luxon';
import type { DigestCommandResult } from './digest/command';
import { checkMonth } from './digest/run';
import { loadInventory, monthOf } from './digest/inventory';
import { seedDemoHistory } from './sim/demo-history';

/** Local state (embedded Azurite data) lives here, relative to the working directory. */
const STATE_DIR = '.m365-audit';

type Cleanup = () => Promise<void>;
const cleanups: Cleanup[] = [];

async function runCleanups(): Promise<void> {
  while (cleanups.length) {
    const c = cleanups.pop();
    await c?.().catch(() => undefined);
  }
}

// Ctrl-C or a stop signal: stop the embedded Azurite and the simulator before leaving.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`\n${signal}: stopping…\n`);
    // A stopped run does not leave the previous report (or its own, half-committed) as if current.
    const failed = current?.fail(`stopped by ${signal} before the run finished; run again`) ?? Promise.resolve({});
    void failed.then(runCleanups).finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  });
}

const MSG = {
  ja: {
    coverage: '点検範囲',
    findings: '指摘',
    open: '未対応',
    excepted: '例外',
    reports: 'レポート',
    demoCheck: (found: number, planted: number, extra: number) => `デモ検証: 仕込んだ違反 ${planted} 件中 ${found} 件を検出、想定外の検出 ${extra} 件`,
    simReady: 'シミュレータ起動',
    policyOk: 'ポリシーファイルは有効です',
    tickets: (o: number, c: number, r: number, f: number, u: number) => `チケット: 新規 ${o} 件、クローズ ${c} 件、再開 ${r} 件、配信失敗 ${f} 件（次回再送）、担当未割当 ${u} 件`,
    ledger: (o: number, r: number, res: number) => `台帳: 新規 ${o} 件、再発 ${r} 件、解消 ${res} 件`,
    closed: '台帳で閉じました',
    alerts: (sent: number, items: number, resent: number) => `Teams 通知: ${sent} 件送信（指摘 ${items} 件）${resent ? `、再送 ${resent} 件` : ''}`,
    alertFiles: (path: string) => `Teams 通知（TEAMS_WEBHOOK_URL 未設定のためファイルに出力）: ${path}`,
    alertFailed: (m: string) => `Teams 通知を送れませんでした（次回の実行で送ります）: ${m}`,
    unroutedHint: '担当未割当のチケットは情報システム管理者に割り当てています。ポリシーの organization.departments に部署と情報セキュリティ責任者（owner）を追加してください（ファイル・サイトは files.assets）',
    policyCounts: (a: number, x: number, d: number) => `資産 ${a} 件、例外 ${x} 件、部署 ${d} 件`,
    simUsers: (n: number) => `利用者 ${n} 人`,
    tenant: 'テナント',
    caCert: 'CA 証明書',
    simDns: 'DNS（UDP、MAIL-02 用。ループバックの --graph-url なら自動で使われます）',
    tenantId: 'テナント ID',
    scanFrom: '別のシェルから次のように点検できます:',
    stop: 'Ctrl-C で停止します。',
    due: '期限',
    overdue: '期限超過',
    undelivered: '未配信',
    ticketCount: (n: number) => `チケット ${n} 件`,
    states: { open: '未対応', closed: '完了' } as Record<string, string>,
    more: (n: number) => `… ほか ${n} 件`,
  },
  en: {
    coverage: 'coverage',
    findings: 'findings',
    open: 'open',
    excepted: 'excepted',
    reports: 'reports',
    demoCheck: (found: number, planted: number, extra: number) => `demo check: found ${found} of ${planted} planted violations, ${extra} unexpected`,
    simReady: 'simulator running',
    policyOk: 'the policy file is valid',
    tickets: (o: number, c: number, r: number, f: number, u: number) => `tickets: ${o} opened, ${c} closed, ${r} reopened, ${f} deliveries failed (retried next run), ${u} unrouted`,
    ledger: (o: number, r: number, res: number) => `ledger: ${o} new, ${r} reopened, ${res} resolved`,
    closed: 'closed in the ledger',
    alerts: (sent: number, items: number, resent: number) => `Teams alerts: ${sent} sent (${items} findings)${resent ? `, ${resent} resent` : ''}`,
    alertFiles: (path: string) => `Teams alerts (TEAMS_WEBHOOK_URL is not set, so written to files): ${path}`,
    alertFailed: (m: string) => `a Teams alert could not be sent (it goes on the next run): ${m}`,
    unroutedHint: 'unrouted tickets went to the system administrators: add the department and its security officer (owner) to organization.departments in the policy (files and sites: files.assets)',
    policyCounts: (a: number, x: number, d: number) => `assets ${a}, exceptions ${x}, departments ${d}`,
    simUsers: (n: number) => `${n} users`,
    tenant: 'tenant',
    caCert: 'CA certificate',
    simDns: 'DNS (UDP, for MAIL-02; a scan with this loopback --graph-url uses it by itself)',
    tenantId: 'tenant id',
    scanFrom: 'scan it from another shell with:',
    stop: 'Ctrl-C stops it.',
    due: 'due',
    overdue: 'OVERDUE',
    undelivered: 'undelivered',
    ticketCount: (n: number) => `${n} ticket(s)`,
    states: { open: 'open', closed: 'closed' } as Record<string, string>,
    more: (n: number) => `… ${n} more`,
  },
} as const;

interface CommonOptions {
  policy?: string;
  out: string;
  graphUrl?: string;
  lang?: Lang;
  json?: boolean;
  tenantId?: string;
  areas?: string;
  backfillHours?: string;
  /** `scan --confirm-resolutions`: accept a large drop or a mass resolution (plausibility.ts). */
  confirmResolutions?: boolean;
  /** `scan --workers N`: shards on queues, N worker loops (src/jobs/shards.ts). */
  workers?: string;
}

/** `--backfill-hours`: how far back the first sign-in watch reads (Graph keeps 30 days). */
function parseBackfill(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const hours = Number(text);
  if (!Number.isInteger(hours) || hours < 1 || hours > 720) {
    throw new ConfigError('--backfill-hours is invalid:', ['backfill-hours: must be a whole number of hours from 1 to 720 (Graph keeps sign-ins 30 days)']);
  }
  return hours;
}

async function resolvePolicy(file: string | undefined): Promise<Policy> {
  if (file) return warned(await loadPolicy(file), file);
  if (existsSync('policy.yaml')) return warned(await loadPolicy('policy.yaml'), 'policy.yaml');
  return warned(defaultPolicy(), 'the built-in policy (no policy.yaml here)');
}

/** Prints the policy's warnings on stderr (they do not stop the run) and returns it. */
function warned(policy: Policy, source: string): Policy {
  const warnings = policyWarnings(policy);
  if (warnings.length) process.stderr.write(`warning: ${source}:\n${warnings.map((w) => `  - ${w}`).join('\n')}\n`);
  return policy;
}

function parseAreas(text: string | undefined): Area[] {
  if (!text) return [...IMPLEMENTED_AREAS];
  const areas = text.split(',').map((a) => a.trim()).filter(Boolean);
  const bad = areas.filter((a) => !(AREAS as readonly string[]).includes(a));
  if (bad.length) throw new ConfigError('--areas is invalid:', [`areas: unknown ${bad.join(', ')} (choose from ${AREAS.join(', ')})`]);
  const later = areas.filter((a) => !IMPLEMENTED_AREAS.includes(a as Area));
  if (later.length) throw new ConfigError('--areas is invalid:', [`areas: ${later.join(', ')} not implemented in this release (available: ${IMPLEMENTED_AREAS.join(', ')})`]);
  return areas as Area[];
}

/** Opens storage: the configured account, or an embedded Azurite under ./.m365-audit/. */
async function openStore(settings: Settings): Promise<Store> {
  const onLeaseWait = (message: string): void => void process.stderr.write(`${message}\n`);
  if (settings.storageConnectionString) {
    storeConnection = settings.storageConnectionString;
    return Store.connect(settings.storageConnectionString, { onLeaseWait });
  }
  // One Azurite per data folder, shared with any other CLI running here (see acquireAzurite).
  const azurite = await acquireAzurite(resolve(STATE_DIR, 'azurite'), (message) => process.stderr.write(`${message}\n`));
  embedded = azurite;
  storeConnection = azurite.connectionString;
  cleanups.push(() => azurite.stop());
  return Store.connect(azurite.connectionString, { onLeaseWait, waitForSave: azurite.waitForSave });
}

/** The connection string of the store this run opened (the shard queues of `scan --workers` live beside it). */
let storeConnection: string | undefined;

/** The embedded Azurite this run uses, if any: a failure after it died is explained as such. */
let embedded: SharedAzurite | undefined;

/** A long wait before a Graph retry, said on stderr so that a silent pause is explained. */
function printWait(w: GraphWait): void {
  process.stderr.write(`  waiting ${Math.round(w.ms / 1000)} s: ${w.reason} (then attempt ${w.attempt} of ${w.maxAttempts})\n`);
}

/**
 * The reports of the running scan/signins/demo: checked before anything changes, written before
 * the ledger (runScan's `beforeCommit`), replaced by a failure report if the run fails.
 */
let current: RunReports | undefined;

/** Starts a run's reports in `--out` (a failure from here on replaces the report there). */
function reportsFor(opts: CommonOptions, command: string): RunReports {
  current = new RunReports(resolve(opts.out), command, opts.lang ?? 'ja');
  return current;
}

/** Slices that ended with a detail (failed or partial), in the order they finished: for the failure lines of a run that read nothing (src/jobs/scan.ts couldNotRun). */
const sliceDetails: Array<{ label: string; message: string }> = [];

function progress(json: boolean | undefined, lang: Lang = 'en'): (e: { slice: string; status: string; items: number; detail?: string }) => void {
  const statuses = LABELS[lang].statuses as Record<string, string>;
  // One message per cause: a slice failing as an earlier one did says so instead of repeating it.
  const seen = new Map<string, string>();
  return (e) => {
    if (e.detail) sliceDetails.push({ label: e.slice, message: e.detail });
    if (json) return;
    let detail = e.detail ? withoutQueries(e.detail).slice(0, 240) : '';
    if (e.detail) {
      const { cause } = causeOf(e.detail);
      const earlier = seen.get(cause);
      if (earlier) detail = `(same cause as ${earlier})`;
      else seen.set(cause, e.slice);
    }
    process.stderr.write(`  ${e.slice.padEnd(18)} ${(statuses[e.status] ?? e.status).padEnd(8)} ${String(e.items).padStart(6)}${detail ? `  ${detail}` : ''}\n`);
  };
}

function summarise(result: ScanResult, lang: Lang, paths: { json: string; html: string; csv: string }): string {
  const m = MSG[lang];
  const L = LABELS[lang];
  const counts = countBySeverity(result.findings);
  const excepted = result.findings.filter((f) => f.status === 'excepted').length;
  // English keeps the area ids (scripts grep them); Japanese names areas and states in Japanese.
  const area = (a: string): string => (lang === 'ja' ? (L.areas as Record<string, string>)[a] ?? a : a);
  const state = (s: string | undefined): string => (lang === 'ja' ? (L.statuses as Record<string, string>)[s ?? 'failed'] ?? String(s) : String(s));
  const lines = [
    `${m.coverage}: ${Object.entries(result.coverage).map(([a, c]) => `${area(a)}=${state(c?.status)}`).join(' ')}`,
    `${m.findings}: ${result.findings.length} (${m.open}: ${SEVERITIES.map((s) => `${L.severities[s]} ${counts[s]}`).join(', ')}; ${m.excepted}: ${excepted})`,
    ...(result.ledger ? [m.ledger(result.ledger.opened, result.ledger.reopened, result.ledger.resolved)] : []),
    ...(result.tickets
      ? [m.tickets(result.tickets.opened.length, result.tickets.closed.length, result.tickets.reopened.length, result.tickets.failedDeliveries.length, result.tickets.unrouted)]
      : []),
    ...(result.tickets?.unrouted ? [`  → ${m.unroutedHint}`] : []),
    `${m.reports}: ${paths.html}`,
    `           ${paths.json}`,
    `           ${paths.csv}`,
  ];
  return lines.join('\n');
}

/**
 * Where this run's alert goes: the Teams webhook when TEAMS_WEBHOOK_URL is set, else files in
 * `--out` (alerts/*.json and alerts.html) for a person to look at. The demo always writes files:
 * a simulated tenant's findings do not belong in a real channel.
 */
function alertSink(settings: Settings, out: string, lang: Lang, useWebhook: boolean): AlertSink {
  return useWebhook && settings.teamsWebhookUrl
    ? new TeamsWebhookSink({ url: settings.teamsWebhookUrl, onWait: printWait })
    : new FileAlertSink(async (name, message) => {
        // <out>/alerts/<name>.json, and alerts.html rebuilt from every card there (src/alerts/preview.ts).
        await writeAlertFiles(out, [{ name, message, caption: lang === 'ja' ? '未送信（TEAMS_WEBHOOK_URL 未設定、またはデモ）' : 'not sent (TEAMS_WEBHOOK_URL is not set, or the demo)' }], lang);
      });
}

function alertOptions(settings: Settings, policy: Policy, tenantId: string, kind: 'run' | 'signin', out: string, lang: Lang, useWebhook: boolean): AlertOptions {
  const sink = alertSink(settings, out, lang, useWebhook);
  return {
    sinks: [sink],
    kind,
    organization: policy.organization.name,
    tenantId,
    // Cards speak the organisation's language (policy locale), whatever this operator's --lang.
    policy,
    reportUrl: settings.reportUrl,
  };
}

/** The alert lines of a run's summary (stderr for failures). */
function alertLines(alerts: AlertSummary | undefined, lang: Lang, out: string, toFiles: boolean): string[] {
  if (!alerts) return [];
  const m = MSG[lang];
  for (const f of alerts.failed) process.stderr.write(`${m.alertFailed(f.replace(/^[a-z]+: /, ''))}\n`);
  if (alerts.sent.length + alerts.resent.length === 0) return [];
  return [toFiles ? m.alertFiles(join(out, 'alerts.html')) : m.alerts(alerts.sent.length, alerts.items, alerts.resent.length)];
}

async function scanCommand(opts: CommonOptions, fixedAreas?: Area[]): Promise<number> {
  const reports = reportsFor(opts, fixedAreas ? 'signins' : 'scan');
  const settings = loadSettings();
  for (const w of settings.warnings) process.stderr.write(`warning: ${w}\n`);
  const policy = await resolvePolicy(opts.policy);
  const lang: Lang = opts.lang ?? policy.organization.locale;
  const areas = fixedAreas ?? parseAreas(opts.areas);
  const backfill = parseBackfill(opts.backfillHours);
  const tenantId = opts.tenantId ?? settings.tenantId;
  if (!tenantId) throw new ConfigError('no tenant id:', ['AZURE_TENANT_ID: set it (or pass --tenant-id) to the Entra tenant id being scanned']);
  const handle = createGraphClient({ graphUrl: opts.graphUrl, settings });
  cleanups.push(() => handle.close());
  // Everything the run needs is checked before it changes anything or calls Graph: the options,
  // policy and settings above, the credential (a certificate that is not PEM stops here; a network
  // failure on the way to Entra is left to the scan, which reports it as usual), then the output
  // folder, then storage (Store.connect answers).
  await handle.grantedRoles().catch((err: unknown) => {
    if (err instanceof CredentialError) throw err;
  });
  await reports.check('--out');
  const store = await openStore(settings);
  reports.configure({ lang, organization: policy.organization.name, timeZone: policy.organization.timeZone, keep: (r) => keepIn(store, r) }, tenantId);
  const graph = new Graph(handle.client, { ...graphOptionsFor(handle, settings), onWait: printWait });
  let paths: WrittenReports | undefined;
  const job: Parameters<typeof runScanJob>[0] = {
    graph,
    policy,
    tenantId,
    areas,
    store,
    sinks: sinksFromSettings(settings, graph),
    alerts: alertOptions(settings, policy, tenantId, fixedAreas ? 'signin' : 'run', resolve(opts.out), lang, true),
    onProgress: progress(opts.json, lang),
    // The reports go out before the ledger changes; a run that read nothing says it failed.
    reports: async (r, ledger, failed) => {
      paths = await reports.write(r, failed ? { at: new Date().toISOString(), message: failureLines(r).join('\n') } : undefined, ledger);
    },
    ...(opts.confirmResolutions ? { confirmResolutions: true } : {}),
    collectOptions: {
      ...(backfill ? { signInBackfillHours: backfill } : {}),
      ...(settings.signInOverlapMinutes !== undefined ? { signInOverlapMinutes: settings.signInOverlapMinutes } : {}),
    },
  };
  const { result, outcome } = opts.workers ? await shardedScan(opts, job, Number(opts.workers), { store, graph, policy, tenantId, shardRanges: settings.shardRanges }) : await runScanJob(job);
  if (!paths) throw new Error('unreachable: runScan returned without writing the reports');
  if (outcome === 'failed') {
    for (const line of failureLines(result)) process.stderr.write(`${line}\n`);
    process.stderr.write(`  → ${paths.html} says this run failed\n`);
    return exitCodeOf(outcome);
  }
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ ...paths, exitCode: result.exitCode, coverage: result.coverage, findings: result.findings.length, ledger: result.ledger, tickets: result.tickets, alerts: result.alerts })}\n`);
  }
  else process.stdout.write(`${[summarise(result, lang, paths), ...alertLines(result.alerts, lang, resolve(opts.out), !settings.teamsWebhookUrl)].join('\n')}\n`);
  // An implausible answer or a held mass resolution: say why it exits 2 (plausibility.ts).
  for (const [area, c] of Object.entries(result.coverage)) if (c?.detail?.includes('suspect:')) process.stderr.write(`${area}: ${c.detail}\n`);
  return exitCodeOf(outcome);
}

/**
 * `scan --workers N`: the scan split into shards (one per slice) on queues beside the store
 * (Azurite, or the account of AZURE_STORAGE_CONNECTION_STRING), worked by N loops in this process
 * as the Functions' scanShard/scanShardPoison would (src/jobs/shard-queue.ts); the queues are
 * this run's own and deleted at the end. The final step is this command's scan job: the same
 * reports, ledger, tickets and alerts as without --workers.
 */
async function shardedScan(
  opts: CommonOptions,
  job: Parameters<typeof runScanJob>[0],
  workers: number,
  d: { store: Store; graph: Graph; policy: Policy; tenantId: string; shardRanges?: ScanDeps['shardRanges'] },
): Promise<ScanJobResult> {
  if (!storeConnection) throw new ConfigError('--workers needs a storage connection string:', ['AZURE_STORAGE_CONNECTION_STRING: set it, or unset it to use the embedded Azurite']);
  const say = (text: string): void => {
    if (!opts.json) process.stderr.write(`${text}\n`);
  };
  // Shard lines as progress; the final step's scan line is the summary printed below instead.
  const logger: JobLogger = {
    log: (line: unknown) => {
      const e = JSON.parse(String(line)) as { event?: string; scanId?: string; shard?: string; range?: number; outcome?: string; queued?: string[]; shards?: string[] };
      if (e.event === 'm365-audit.shard') say(`  shard ${e.shard}${e.range !== undefined ? `#${e.range}` : ''}: ${e.outcome}${e.queued?.length ? ` (queued ${e.queued.join(', ')})` : ''}`);
      if (e.event === 'm365-audit.scan' && e.outcome === 'sharded') say(`scan ${e.scanId}: ${e.shards?.length ?? 0} shard(s) queued, ${workers} worker(s)`);
    },
    warn: (line: unknown) => logger.log(line),
    error: (line: unknown) => logger.log(line),
  };
  return runShardedScanLocally({
    connectionString: storeConnection,
    workers,
    deps: { policy: d.policy, tenantId: d.tenantId, store: d.store, graph: () => ({ graph: d.graph, close: async () => undefined }), ...(d.shardRanges ? { shardRanges: d.shardRanges } : {}) },
    job,
    logger,
    worker: { onFailure: (m, attempt, err) => say(`  shard ${m ? shardName(m) : '?'}: attempt ${attempt} failed: ${err.message}`) },
  });
}

/** Each cause once, naming the slices and endpoints it hit (a 401 everywhere is one line). */
function failureLines(result: ScanResult): string[] {
  return sliceDetails.length
    ? collapseCauses(sliceDetails)
    : Object.values(result.coverage).flatMap((c) => (c?.detail ? [c.detail] : []));
}

/** Keeps a copy of each report in blob storage: `reports/<tenant>/<scan>/<file>`. */
function keepIn(store: Store, result: ScanResult): KeepReport {
  return (name, content, type) => store.putReport(result.tenantId, result.scanId, name, content, type);
}

async function demoCommand(opts: CommonOptions & { users: string; seed: string }): Promise<number> {
  const reports = reportsFor(opts, 'demo');
  const settings = loadSettings();
  const demo = generateDemoTenant({ seed: Number(opts.seed), users: Number(opts.users) });
  const policy = opts.policy ? warned(await loadPolicy(opts.policy), opts.policy) : validatePolicy(demo.policy, 'demo policy');
  const lang: Lang = opts.lang ?? policy.organization.locale;
  await reports.check('--out');
  const sim = await startSimulator({ tenant: demo.data });
  cleanups.push(() => sim.close());
  const out = resolve(opts.out);
  if (!opts.json) process.stderr.write(`${MSG[lang].simReady}: ${sim.url} (${MSG[lang].tenant} ${demo.data.tenantId}, ${MSG[lang].simUsers(demo.data.users.length)})\n`);
  const handle = createGraphClient({ graphUrl: sim.url, settings: { ...settings, graphUrl: undefined }, caPem: sim.caPem });
  cleanups.push(() => handle.close());
  const store = await openStore(settings);
  reports.configure({ lang, organization: policy.organization.name, timeZone: policy.organization.timeZone, keep: (r) => keepIn(store, r) }, demo.data.tenantId);
  // The simulated tenant is generated afresh each run (its sign-ins move with the clock, its delta
  // tokens belong to that simulator process), so the demo reads it afresh instead of continuing
  // from the last run's sign-in watermark and drive delta links.
  const graph = new Graph(handle.client, { ...graphOptionsFor(handle, settings), onWait: printWait });
  let paths: WrittenReports | undefined;
  // Tickets go to the simulated tenant's Planner plan (and a webhook, when one is configured).
  const demoSettings = { ...settings, planner: settings.planner ?? { planId: DEFAULT_PLANNER_PLAN_ID, bucketId: DEFAULT_PLANNER_BUCKET_ID } };
  const { result } = await runScanJob({
    graph,
    policy,
    tenantId: demo.data.tenantId,
    store,
    sinks: sinksFromSettings(demoSettings, graph),
    alerts: alertOptions(settings, policy, demo.data.tenantId, 'run', out, lang, false),
    onProgress: progress(opts.json, lang),
    collectOptions: { freshState: true },
    // The demo tenant's domains are fictional: MAIL-02 asks the simulator's DNS, whatever the policy says.
    dnsServers: [sim.dnsServer],
    reports: async (r, ledger) => {
      paths = await reports.write(r, undefined, ledger);
    },
  });
  if (!paths) throw new Error('unreachable: runScan returned without writing the reports');
  await writeFile(join(out, 'demo-policy.yaml'), toYaml(demo.policy), 'utf8');
  const implemented = new Set(RULES.map((r) => r.id as string));
  const planted = new Set(demo.groundTruth.filter((g) => implemented.has(g.ruleId)).map((g) => `${g.ruleId}|${g.subjectId}`));
  const found = new Set(result.findings.map((f) => `${f.ruleId}|${f.subject.id}`));
  const hit = [...planted].filter((k) => found.has(k)).length;
  const extra = [...found].filter((k) => !planted.has(k)).length;
  // The tickets as this run opened them, listed before the demo history backdates some of them.
  const opened = opts.json ? '' : ticketLines(await store.getLedger(demo.data.tenantId), new Set(result.tickets?.opened ?? []), lang, demo.data.tenantId);
  const digest = await demoDigest(store, policy, demo.data.tenantId, out, lang, graph, settings);
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ ...paths, exitCode: result.exitCode, planted: planted.size, found: hit, unexpected: extra, ledger: result.ledger, tickets: result.tickets, alerts: result.alerts, plannerTasks: sim.plannerTasks().length, digest: digest.path, digestMail: digest.mail.status })}\n`);
  }
  else {
    process.stdout.write(`${[summarise(result, lang, paths), ...alertLines(result.alerts, lang, out, true)].join('\n')}\n${MSG[lang].demoCheck(hit, planted.size, extra)}\n`);
    process.stdout.write(opened);
    process.stdout.write(`${digest.lines.join('\n')}\n`);
  }
  return result.exitCode;
}

/**
 * The demo's CISO digest: seeds the demo tenant's history once (src/sim/demo-history.ts), then
 * writes last month's digest to `out/` and mails it through the simulator (from the first system
 * administrator who is not the CISO, unless M365_AUDIT_MAIL_SENDER says otherwise).
 */
async function demoDigest(store: Store, policy: Policy, tenantId: string, out: string, lang: Lang, graph: Graph, settings: Settings): Promise<DigestCommandResult> {
  const now = new Date();
  const [latest] = await store.listScans(tenantId, 1);
  if (latest) {
    const inventory = await loadInventory(store, tenantId, monthOf(latest.startedAt, policy.organization.timeZone));
    await seedDemoHistory(store, { tenantId, policy, now, latest, ...(inventory ? { inventory } : {}) });
  }
  const ciso = policy.organization.ciso;
  const sender = settings.mailSender ?? policy.organization.systemAdministrators.find((a) => a !== ciso);
  // The announcement card goes to out/alerts/ like the run's card (never to a real channel).
  return runDigestJob({ store, policy, tenantId, now, lang, outDir: out, ...(sender ? { sender } : {}), graph: () => graph, announce: { sink: alertSink(settings, out, lang, false) } });
}

async function digestCommand(opts: { tenantId?: string; month?: string; policy?: string; out: string; graphUrl?: string; lang?: Lang; json?: boolean; resend?: boolean }): Promise<number> {
  const settings = loadSettings();
  const policy = await resolvePolicy(opts.policy);
  const lang: Lang = opts.lang ?? policy.organization.locale;
  const tenantId = opts.tenantId ?? settings.tenantId;
  if (!tenantId) throw new ConfigError('no tenant id:', ['AZURE_TENANT_ID: set it (or pass --tenant-id) to the Entra tenant id whose digest to make']);
  // A bad --month stops the run before storage is opened.
  if (opts.month !== undefined) checkMonth(opts.month, new Date(), policy.organization.timeZone);
  const store = await openStore(settings);
  const graph = (): Graph => {
    const handle = createGraphClient({ graphUrl: opts.graphUrl, settings });
    cleanups.push(() => handle.close());
    return new Graph(handle.client, { ...graphOptionsFor(handle, settings), onWait: printWait });
  };
  const r = await runDigestJob({
    store,
    policy,
    tenantId,
    ...(opts.month !== undefined ? { month: opts.month } : {}),
    now: new Date(),
    lang,
    outDir: resolve(opts.out),
    ...(settings.mailSender ? { sender: settings.mailSender } : {}),
    graph,
    ...(opts.resend ? { resend: true } : {}),
    announce: { sink: alertSink(settings, resolve(opts.out), lang, true), url: settings.digestUrl },
  });
  if (opts.json) process.stdout.write(`${JSON.stringify({ month: r.month, path: r.path, stored: r.stored, mail: r.mail.status, exitCode: r.exitCode })}\n`);
  else process.stdout.write(`${r.lines.join('\n')}\n`);
  if (r.mail.status === 'failed' || r.mail.status === 'uncertain') process.stderr.write(`${r.mail.message ?? r.mail.status}\n`);
  return r.exitCode;
}

/** The demo's ticket listing: the tickets this run opened (at most 12), and how to see them all. */
function ticketLines(ledger: Map<string, import('./findings/ledger').LedgerEntry>, opened: Set<string>, lang: Lang, tenantId: string): string {
  const rows = [...ledger.values()].filter((e) => e.ticket && opened.has(e.ticket.id)).sort((a, b) => SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity));
  const sev = LABELS[lang].severities;
  const lines = rows.slice(0, 12).map((e) => `  ${e.ticket?.id}  ${sev[e.severity].padEnd(lang === 'ja' ? 3 : 8)} ${e.ruleId.padEnd(8)} ${MSG[lang].due} ${e.ticket?.dueDate}  → ${e.ticket?.assignees.join(', ') || '-'}  ${e.subject.name}`);
  if (rows.length > 12) lines.push(`  ${MSG[lang].more(rows.length - 12)}`);
  const all = `npx m365-audit tickets --tenant-id ${tenantId}`;
  const head = lang === 'ja' ? `今回起票したチケット (${rows.length} 件、Planner にも登録):` : `tickets opened by this run (${rows.length}, also in Planner):`;
  const tail = lang === 'ja' ? `全件: ${all}` : `all of them: ${all}`;
  const none = lang === 'ja'
    ? '今回新たに起票したチケットはありません（同じ指摘のチケットは起票済みで、重複して起票しません）。'
    : 'No new tickets this run (the same findings already have theirs; tickets are never duplicated).';
  return rows.length ? `${head}\n${lines.join('\n')}\n${tail}\n` : `${none}\n${tail}\n`;
}

async function simCommand(opts: { users: string; seed: string; port: string; lang?: Lang }): Promise<number> {
  const m = MSG[opts.lang ?? 'ja'];
  const demo = generateDemoTenant({ seed: Number(opts.seed), users: Number(opts.users) });
  const sim = await startSimulator({ tenant: demo.data, port: Number(opts.port), certDir: resolve(STATE_DIR, 'sim') }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'EADDRINUSE' || err.code === 'EACCES') {
      throw new ConfigError(`--port ${opts.port} cannot be used (${err.code}):`, [`port: ${err.code === 'EADDRINUSE' ? 'another process listens on it' : 'it needs privileges'}; pick another, or 0 for a free one`]);
    }
    throw err;
  });
  cleanups.push(() => sim.close());
  process.stdout.write(
    [
      `${m.simReady}: ${sim.url}`,
      `${m.caCert}: ${sim.caPath}`,
      `${m.simDns}: ${sim.dnsServer}`,
      `${m.tenantId}: ${demo.data.tenantId}`,
      '',
      m.scanFrom,
      `  NODE_EXTRA_CA_CERTS=${sim.caPath} npx m365-audit scan --graph-url ${sim.url} --tenant-id ${demo.data.tenantId}${opts.lang ? ` --lang ${opts.lang}` : ''}`,
      '',
      m.stop,
      '',
    ].join('\n'),
  );
  await new Promise<never>(() => undefined);
  return 0;
}

async function policyCheckCommand(file: string, opts: { lang?: Lang }): Promise<number> {
  const policy = warned(await loadPolicy(file), file);
  const lang = opts.lang ?? policy.organization.locale;
  process.stdout.write(
    `${MSG[lang].policyOk}: ${file} (${MSG[lang].policyCounts(policy.files.assets.length, policy.exceptions.length, policy.organization.departments.length)})\n`,
  );
  return 0;
}

async function ticketsCommand(opts: { tenantId?: string; status: string; json?: boolean; lang?: Lang; policy?: string }): Promise<number> {
  const settings = loadSettings();
  const policy = await resolvePolicy(opts.policy);
  const lang: Lang = opts.lang ?? policy.organization.locale;
  const tenantId = opts.tenantId ?? settings.tenantId;
  if (!tenantId) throw new ConfigError('no tenant id:', ['AZURE_TENANT_ID: set it (or pass --tenant-id)']);
  if (!['open', 'closed', 'all'].includes(opts.status)) throw new ConfigError('--status is invalid:', ['status: one of open, closed, all']);
  const store = await openStore(settings);
  const today = new Date().toISOString().slice(0, 10);
  const rows = [...(await store.getLedger(tenantId)).values()]
    .filter((e) => e.ticket && (opts.status === 'all' || e.ticket.state === opts.status))
    .sort((a, b) => (a.ticket?.dueDate ?? '').localeCompare(b.ticket?.dueDate ?? '') || a.id.localeCompare(b.id));
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(rows.map((e) => ({ ...e.ticket, findingId: e.id, ruleId: e.ruleId, severity: e.severity, subject: e.subject, findingStatus: e.status })), null, 2)}\n`);
    return 0;
  }
  for (const e of rows) {
    const t = e.ticket;
    if (!t) continue;
    const m = MSG[lang];
    const overdue = t.state === 'open' && t.dueDate < today ? ` ${m.overdue}` : '';
    const pending = Object.entries(t.sinks).filter(([, s]) => s.delivered !== t.state).map(([n]) => n);
    const width = lang === 'ja' ? 4 : 8;
    process.stdout.write(
      `${t.id}  ${(m.states[t.state] ?? t.state).padEnd(lang === 'ja' ? 4 : 6)} ${LABELS[lang].severities[e.severity].padEnd(width)} ${e.ruleId.padEnd(8)} ${m.due} ${t.dueDate}${overdue}  ${t.assignees.join(',') || '-'}  ${e.subject.name}${pending.length ? `  (${m.undelivered}: ${pending.join(',')})` : ''}\n`,
    );
  }
  process.stdout.write(`${MSG[lang].ticketCount(rows.length)}\n`);
  return 0;
}

async function ledgerCloseCommand(findingId: string, opts: { note?: string; tenantId?: string; policy?: string; graphUrl?: string; lang?: Lang }): Promise<number> {
  const settings = loadSettings();
  const policy = await resolvePolicy(opts.policy);
  const tenantId = opts.tenantId ?? settings.tenantId;
  if (!tenantId) throw new ConfigError('no tenant id:', ['AZURE_TENANT_ID: set it (or pass --tenant-id)']);
  if (!opts.note?.trim()) throw new ConfigError('--note is required:', ['note: say what was found and done (5-3-3: cause and containment); it is kept in the ledger']);
  const store = await openStore(settings);
  const sinks = settings.planner || settings.ticketWebhook
    ? (() => {
        const handle = createGraphClient({ graphUrl: opts.graphUrl, settings });
        cleanups.push(() => handle.close());
        return sinksFromSettings(settings, new Graph(handle.client))({ userIdOf: () => undefined });
      })()
    : [];
  return store.withLedgerLease(tenantId, async () => {
    // `tickets` lists ticket ids (T-…): accept one and close the finding that ticket is for.
    const byTicket = /^T-/i.test(findingId)
      ? [...(await store.getLedger(tenantId)).values()].find((e) => e.ticket?.id.toLowerCase() === findingId.toLowerCase())
      : undefined;
    const entry = byTicket ?? (await store.getLedgerEntry(tenantId, findingId));
    if (!entry) {
      throw new ConfigError(`no ${/^T-/i.test(findingId) ? 'ticket' : 'finding'} ${findingId} in the ledger of tenant ${tenantId}`, [
        'finding: pass a ticket id (T-…, as `m365-audit tickets` lists them) or a finding id (the `id` of a finding in findings.json, or `findingId` in `m365-audit tickets --json`)',
      ]);
    }
    const label = byTicket ? `${byTicket.ticket?.id ?? findingId} (finding ${entry.id})` : entry.id;
    findingId = entry.id;
    if (entry.kind !== 'event') {
      throw new ConfigError(`finding ${findingId} is a state finding (${entry.ruleId}):`, ['finding: state findings are resolved by the next complete scan that no longer sees them; fix the configuration instead']);
    }
    if (entry.status === 'resolved') throw new ConfigError(`finding ${findingId} is already closed`);
    const closed = closeByPerson(entry, opts.note?.trim() ?? '', new Date().toISOString());
    await store.putLedgerEntries(tenantId, [closed]);
    const sync = await syncTickets([closed], { policy, now: new Date(), sinks, departmentOf: () => undefined, persist: (e) => store.putLedgerEntries(tenantId, e) });
    const m = MSG[opts.lang ?? policy.organization.locale];
    process.stdout.write(`${label}: ${m.closed}${sync.summary.failedDeliveries.length ? ` (${m.undelivered}: ${sync.summary.failedDeliveries.join(', ')})` : ''}\n`);
    return 0;
  });
}

/** `evidence verify` wording (kinds as store/evidence.ts names them). */
const EVIDENCE_MSG = {
  ja: {
    kinds: { gap: '欠番', reordered: '順序不正', altered: '改ざん', foreign: '不明なファイル', 'no-scan-record': 'スキャン記録なし', 'no-evidence': '証跡なし' } as Record<ChainIssueKind, string>,
    head: (t: string, n: number, range: string) => `証跡チェーン（テナント ${t}）: ${n} 件を検証${range ? `（連番 ${range}）` : ''}`,
    anchor: (seq: number, from: string) => `  起点: ${from} 以降最初の記録（連番 ${seq}）の前レコードハッシュを信頼しています（それ以前は検証していません）`,
    skipped: (n: number, from: string) => `  ${from} の 1 日以上前に追記された ${n} 件は読み込んでいません（追記時刻の二分探索で読み始めの位置を決めています）`,
    issue: (i: ChainIssue): string => {
      const where = i.sequence !== undefined ? `連番 ${i.sequence}` : '';
      switch (i.kind) {
        case 'gap': return `連番 ${i.sequence}${(i.count ?? 1) > 1 ? `–${(i.sequence ?? 0) + (i.count ?? 1) - 1}` : ''} の記録がありません`;
        case 'reordered': return `${where}（${i.name}）: 直前の記録とつながっていません（${i.detail}）`;
        case 'altered': return `${where}（${i.name}）: 内容がハッシュと一致しません`;
        case 'foreign': return `${i.name}: 記録の名前ではありません`;
        case 'no-scan-record': return `${where}: スキャン ${i.scanId} のスキャン記録がありません（記録の間でスキャンが停止したか、偽造された記録）`;
        case 'no-evidence': return `スキャン ${i.scanId}: スキャン記録はありますが証跡の記録がありません`;
      }
    },
    intact: (seq: number, hash: string) => `結果: 問題なし。先頭は連番 ${seq}、ハッシュ ${hash}`,
    empty: '結果: 証跡の記録はまだありません',
    broken: (n: number) => `結果: 問題 ${n} 件。証跡が改ざん、削除または並べ替えられた可能性があります`,
  },
  en: {
    kinds: { gap: 'gap', reordered: 'reordered', altered: 'altered', foreign: 'foreign', 'no-scan-record': 'no scan record', 'no-evidence': 'no evidence' } as Record<ChainIssueKind, string>,
    head: (t: string, n: number, range: string) => `evidence chain of tenant ${t}: ${n} record(s) checked${range ? ` (sequence ${range})` : ''}`,
    anchor: (seq: number, from: string) => `  anchor: the previous-record hash of the first record on/after ${from} (sequence ${seq}) is trusted; nothing before it was checked`,
    skipped: (n: number, from: string) => `  ${n} record(s) appended a day or more before ${from} were not read (a binary search over append times found where to start reading)`,
    issue: (i: ChainIssue): string => i.detail,
    intact: (seq: number, hash: string) => `result: intact; head is sequence ${seq}, hash ${hash}`,
    empty: 'result: no evidence record yet',
    broken: (n: number) => `result: ${n} problem(s): records were altered, deleted or reordered`,
  },
};

/** `evidence verify`: walks the chain; exit 0 intact, 1 not (and 1 for bad input, as every command). */
async function evidenceVerifyCommand(opts: { from?: string; tenantId?: string; policy?: string; lang?: Lang; json?: boolean }): Promise<number> {
  const settings = loadSettings();
  const policy = await resolvePolicy(opts.policy);
  const lang: Lang = opts.lang ?? policy.organization.locale;
  const tenantId = opts.tenantId ?? settings.tenantId;
  if (!tenantId) throw new ConfigError('no tenant id:', ['AZURE_TENANT_ID: set it (or pass --tenant-id)']);
  let from: Date | undefined;
  if (opts.from !== undefined) {
    // A date (or date and time) in the organisation's time zone: 2026-11-01 is its midnight there.
    const d = DateTime.fromISO(opts.from, { zone: policy.organization.timeZone });
    if (!/^\d{4}-\d{2}-\d{2}/.test(opts.from) || !d.isValid) throw new ConfigError('--from is invalid:', [`from: ${JSON.stringify(opts.from)} is not a date written YYYY-MM-DD (or an ISO date and time), e.g. 2026-11-01`]);
    from = d.toJSDate();
  }
  const store = await openStore(settings);
  const v: ChainVerification = await verifyEvidence(store, tenantId, { ...(from ? { from } : {}), scans: await store.listScans(tenantId, Number.MAX_SAFE_INTEGER) });
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ ...v, exitCode: v.ok ? 0 : 1 }, null, 2)}\n`);
    return v.ok ? 0 : 1;
  }
  const m = EVIDENCE_MSG[lang];
  const range = v.first && v.head ? `${v.first.sequence}–${v.head.sequence}` : '';
  const lines = [m.head(tenantId, v.records, range)];
  if (v.anchor && opts.from) lines.push(m.anchor(v.anchor.sequence, opts.from));
  if (v.skipped && opts.from) lines.push(m.skipped(v.skipped, opts.from));
  for (const i of v.issues) lines.push(`  [${m.kinds[i.kind]}] ${m.issue(i)}`);
  lines.push(!v.ok ? m.broken(v.issues.length) : v.head ? m.intact(v.head.sequence, v.head.hash) : m.empty);
  process.stdout.write(`${lines.join('\n')}\n`);
  return v.ok ? 0 : 1;
}

/**
 * An integer option parser for commander: a bad value ends the run with commander's own
 * `error: option '--port <n>' argument 'abc' is invalid. …` and exit 1, before anything starts.
 */
function wholeNumber(min: number, max: number, what: string): (text: string) => string {
  return (text) => {
    const n = Number(text);
    if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`must be a whole number from ${min} to ${max} (${what})`);
    }
    return String(n);
  };
}

function withCommon(cmd: Command): Command {
  return cmd
    .option('--policy <file>', 'policy file (default: policy.yaml if present, else built-in defaults)')
    .option('--out <dir>', 'output directory', './out')
    .option('--graph-url <url>', 'Graph root, e.g. the simulator https://127.0.0.1:PORT (loopback needs no credentials)')
    .addOption(new Option('--lang <lang>', 'output language').choices(['ja', 'en']))
    .option('--json', 'machine output on stdout');
}

/** Runs an action, mapping errors to exit codes and cleaning up. */
function action<A extends unknown[]>(fn: (...args: A) => Promise<number>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    let code: number;
    try {
      code = await fn(...args);
    } catch (caught) {
      const err = embedded?.explainFailure(caught) ?? caught;
      process.stderr.write(`${err instanceof AuditError ? err.message : `unexpected error: ${(err as Error).stack ?? String(err)}`}\n`);
      code = 1;
      // The report in --out must not read as current: it now says this run failed, and why.
      const failed = await current?.fail(err instanceof AuditError ? err.message : `unexpected error: ${(err as Error).message ?? String(err)}`);
      if (failed?.path) process.stderr.write(`  → ${failed.path} says this run failed\n`);
      if (failed?.problem) process.stderr.write(`the report in ${current?.dir} could not be replaced (${failed.problem}): do not read it as this run's\n`);
    }
    current = undefined;
    await runCleanups();
    process.exitCode = code;
  };
}

/** The version in package.json (dist/src/cli.js → ../../package.json; src/cli.ts under ts-node → ../package.json). */
function packageVersion(): string {
  for (const path of [join(__dirname, '..', '..', 'package.json'), join(__dirname, '..', 'package.json')]) {
    try {
      const pkg = JSON.parse(readFileSync(path, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'm365-audit' && pkg.version) return pkg.version;
    } catch {
      // not there: try the next place
    }
  }
  return 'unknown';
}

const program = new Command();
program.name('m365-audit').description('Keeps a Microsoft 365 / Entra ID tenant in line with the organisation\'s information-security standard');
program.version(packageVersion(), '-V, --version', 'print the version of m365-audit');

withCommon(program.command('scan').description('one tenant scan'))
  .option('--areas <list>', `comma-separated areas (${IMPLEMENTED_AREAS.join(',')})`)
  .option('--tenant-id <id>', 'tenant id (default: AZURE_TENANT_ID)')
  .option('--backfill-hours <n>', 'first sign-in watch: hours to read back (1-720, default 24)')
  .option('--confirm-resolutions', 'the tenant really changed: accept counts below plausibility.minFractionOfLast of the last scan and resolutions above plausibility.maxResolvedShare of an area')
  .option('--workers <n>', 'split the scan into shards (one per slice; inbox rules and files sharing per range of mailboxes/sites: M365_AUDIT_SHARD_MAILBOXES, M365_AUDIT_SHARD_SITES) on storage queues, worked by n loops (1-64); without it: one run', wholeNumber(1, 64, 'worker loops'))
  .action(action((opts: CommonOptions) => scanCommand(opts)));

withCommon(program.command('signins').description('the incremental sign-in watch (from the stored watermark)'))
  .option('--tenant-id <id>', 'tenant id (default: AZURE_TENANT_ID)')
  .option('--backfill-hours <n>', 'first run only: hours to read back (1-720, default 24)')
  .action(action((opts: CommonOptions) => scanCommand(opts, ['signins'])));

withCommon(program.command('demo').description('scan the embedded simulated tenant and write everything under ./out'))
  .option('--users <n>', 'size of the demo tenant', wholeNumber(1, 100_000, 'users in the demo tenant'), '60')
  .option('--seed <n>', 'seed of the demo tenant', wholeNumber(0, 2 ** 31 - 1, 'the demo tenant\'s seed'), '1')
  .action(action(demoCommand));

program
  .command('sim')
  .description('run the simulated tenant alone and print its URL and CA path')
  .option('--users <n>', 'size of the demo tenant', wholeNumber(1, 100_000, 'users in the demo tenant'), '60')
  .option('--seed <n>', 'seed of the demo tenant', wholeNumber(0, 2 ** 31 - 1, 'the demo tenant\'s seed'), '1')
  .option('--port <n>', 'port (default: a free one)', wholeNumber(0, 65_535, 'a TCP port; 0 picks a free one'), '0')
  .addOption(new Option('--lang <lang>', 'output language').choices(['ja', 'en']))
  .action(action(simCommand));

program
  .command('digest')
  .description('the CISO monthly digest: writes <out>/digest-YYYY-MM.html, keeps it in blob storage and mails it to organization.ciso once')
  .option('--month <YYYY-MM>', 'the month (default: the last full month in the organisation\'s time zone)')
  .option('--tenant-id <id>', 'tenant id (default: AZURE_TENANT_ID)')
  .option('--policy <file>', 'policy file (default: policy.yaml if present, else built-in defaults)')
  .option('--out <dir>', 'output directory', './out')
  .option('--graph-url <url>', 'Graph root for sendMail, e.g. the simulator https://127.0.0.1:PORT')
  .option('--resend', 'mail it even though it was (or may have been) mailed before')
  .addOption(new Option('--lang <lang>', 'output language').choices(['ja', 'en']))
  .option('--json', 'machine output on stdout')
  .action(action(digestCommand));

program
  .command('tickets')
  .description('list remediation tickets from the ledger')
  .option('--status <status>', 'open, closed or all', 'open')
  .option('--tenant-id <id>', 'tenant id (default: AZURE_TENANT_ID)')
  .option('--policy <file>', 'policy file')
  .addOption(new Option('--lang <lang>', 'output language').choices(['ja', 'en']))
  .option('--json', 'machine output on stdout')
  .action(action(ticketsCommand));

program
  .command('ledger')
  .description('ledger tools')
  .command('close <id>')
  .description('close an event finding after checking its cause (the note is kept); <id> is its ticket id (T-…) or finding id')
  .requiredOption('--note <text>', 'what was found and done')
  .option('--tenant-id <id>', 'tenant id (default: AZURE_TENANT_ID)')
  .option('--policy <file>', 'policy file')
  .option('--graph-url <url>', 'Graph root (for the Planner sink)')
  .addOption(new Option('--lang <lang>', 'output language').choices(['ja', 'en']))
  .action(action(ledgerCloseCommand));

program
  .command('evidence')
  .description('the evidence trail (standard 5-3-2)')
  .command('verify')
  .description('walk the evidence chain and report any gap, reordering or alteration; exit 0 when intact, 1 when not')
  .option('--from <date>', 'start at the first record on/after this date (YYYY-MM-DD, organisation time zone), trusting its previous-record hash')
  .option('--tenant-id <id>', 'tenant id (default: AZURE_TENANT_ID)')
  .option('--policy <file>', 'policy file')
  .addOption(new Option('--lang <lang>', 'output language').choices(['ja', 'en']))
  .option('--json', 'machine output on stdout')
  .action(action(evidenceVerifyCommand));

program
  .command('policy')
  .description('policy file tools')
  .command('check <file>')
  .description('validate a policy file and print every problem')
  .addOption(new Option('--lang <lang>', 'output language').choices(['ja', 'en']))
  .action(action(policyCheckCommand));

void program.parseAsync(process.argv);
