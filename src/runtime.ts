/**
 * Wiring for the Azure Functions handlers: builds the dependencies of a scan (settings, policy,
 * Graph, store) from the app settings. Handlers take these as parameters, so tests pass their own
 * (the simulator's Graph, the test Azurite) and production passes these.
 */
import { existsSync } from 'node:fs';
import { defaultPolicy, loadPolicy, type Policy } from './config/policy';
import { loadSettings, type Settings } from './config/settings';
import { ConfigError } from './errors';
import { createGraphClient, graphOptionsFor } from './graph/client';
import { Graph } from './graph/graph';
import type { Family } from './graph/budget';
import { Store } from './store/store';
import type { DirectoryLookup } from './pipeline';
import type { TicketSink } from './tickets/sink';
import { sinksFromSettings } from './tickets/sinks';
import type { AlertOptions } from './alerts/deliver';
import { TeamsWebhookSink, type AlertSink } from './alerts/teams';
import { DefaultAzureCredential } from '@azure/identity';
import { countBySeverity, IMPLEMENTED_AREAS, ScanAlreadyDone, ScanSuspended } from './pipeline';
import type { CollectOptions, SignInStreamBatch } from './collect/context';
import { parseDiagnosticBatch } from './signins/diagnostic';
import type { ScanRequestMessage } from './jobs/scan-request';
import type { Area } from './rules/ids';
import { blobReportWriter, runScanJob, type ScanJobResult } from './jobs/scan';
import { runDigestJob, type DigestJobResult } from './jobs/digest';
import { clearShards, failShard, prepareReconcile, processShard, shardName, startShardedScan, type RangeSizes, type ShardMessage, type ShardStep } from './jobs/shards';

/** What a Graph client is for: a scan, the sign-in watch, or the digest. */
export type GraphPurpose = 'scan' | 'watch' | 'digest';

/**
 * Units of each window a scan leaves unused, for Graph clients in other processes (separate
 * Function instances share no memory, so no budget): 1 of the identity reports' 5 per 10 s
 * ("Microsoft Graph service-specific throttling limits", "Identity and access reports service
 * limits") stays free for the 15-minute sign-in watch, which needs a few pages; Retry-After
 * settles whatever still collides. In one process the budgets are shared outright.
 */
export const SCAN_HEADROOM: Partial<Record<Family, number>> = { identityReports: 1 };

export interface ScanDeps {
  policy: Policy;
  tenantId: string;
  /**
   * A fresh Graph per run (counters are per run; budgets are shared per app and tenant in the
   * process, src/graph/pacing.ts); `close` releases connections. `purpose`: a scan leaves a
   * headroom of the identity reports to the sign-in watch ({@link SCAN_HEADROOM}).
   */
  graph(purpose?: GraphPurpose): { graph: Graph; close(): Promise<void>; sinks?: (directory: DirectoryLookup) => readonly TicketSink[] };
  store: Store;
  clock?: () => Date;
  /** Sign-in watch overlap from M365_AUDIT_SIGNIN_OVERLAP_MINUTES (default 120). */
  signInOverlapMinutes?: number | undefined;
  /**
   * Where sign-ins come from (M365_AUDIT_SIGNIN_SOURCE). With `eventhub` the signInStream function
   * feeds the detector and its state; the Graph watch and the daily scan leave the `signins` area
   * alone, so that two sources never advance one watermark.
   */
  signInSource?: 'graph' | 'eventhub' | undefined;
  /** M365_AUDIT_SCAN_SHARDS=on: the timers and scanWorker split a scan into queue shards (src/jobs/shards.ts). */
  scanShards?: boolean | undefined;
  /**
   * Range sizes of a sharded scan (M365_AUDIT_SHARD_MAILBOXES, M365_AUDIT_SHARD_SITES; default
   * jobs/shards.ts DEFAULT_RANGE_SIZES): inbox rules and files sharing split into ranges this large.
   */
  shardRanges?: Partial<RangeSizes> | undefined;
  /**
   * When a scan's collection must stop, given when the invocation started (default
   * {@link defaultDeadline}); a scan that reaches it is continued through the scan queue.
   */
  deadline?: (invokedAt: Date) => Date;
  /** Teams alerts when TEAMS_WEBHOOK_URL is set (no files in Azure: nobody would open them). */
  alerts?: AlertOptions | undefined;
  /** The digest's sender mailbox (M365_AUDIT_MAIL_SENDER); undefined: the digest is stored, not mailed. */
  mailSender?: string | undefined;
  /** The Teams sink that announces the digest, and where people open it (M365_AUDIT_DIGEST_URL). */
  announce?: { sink: AlertSink; url?: string | undefined } | undefined;
}

/** Builds the scan dependencies of a Functions app from its settings. */
export async function depsFromSettings(settings: Settings = loadSettings()): Promise<ScanDeps> {
  if (!settings.tenantId) throw new ConfigError('app settings are incomplete:', ['AZURE_TENANT_ID: set it to the Entra tenant id being scanned']);
  // A connection string when one is set; else the host storage's identity-based settings with the
  // managed identity (DefaultAzureCredential picks it up in Azure, a developer's login locally).
  const target = settings.storageConnectionString ?? (settings.storageIdentity ? { endpoints: settings.storageIdentity, credential: new DefaultAzureCredential() } : undefined);
  if (!target) {
    throw new ConfigError('app settings are incomplete:', [
      'AzureWebJobsStorage__accountName: set it to the storage account of the ledger (the managed identity needs Storage Table Data Contributor and Storage Blob Data Contributor or Owner), or set AZURE_STORAGE_CONNECTION_STRING',
    ]);
  }
  const policyFile = settings.policyFile ?? 'policy.yaml';
  const policy = settings.policyFile || existsSync(policyFile) ? await loadPolicy(policyFile) : defaultPolicy();
  const store = await Store.connect(target);
  const teams = settings.teamsWebhookUrl ? new TeamsWebhookSink({ url: settings.teamsWebhookUrl }) : undefined;
  return {
    policy,
    tenantId: settings.tenantId,
    store,
    signInOverlapMinutes: settings.signInOverlapMinutes,
    signInSource: settings.signInSource,
    scanShards: settings.scanShards,
    shardRanges: settings.shardRanges,
    mailSender: settings.mailSender,
    announce: teams ? { sink: teams, url: settings.digestUrl } : undefined,
    alerts: teams
      ? {
          sinks: [teams],
          kind: 'run',
          organization: policy.organization.name,
          tenantId: settings.tenantId,
          policy,
          reportUrl: settings.reportUrl,
        }
      : undefined,
    graph: (purpose: GraphPurpose = 'scan') => {
      const handle = createGraphClient({ settings });
      const graph = new Graph(handle.client, { ...graphOptionsFor(handle, settings), ...(purpose === 'scan' ? { headroom: SCAN_HEADROOM } : {}) });
      return { graph, close: () => handle.close(), sinks: sinksFromSettings(settings, graph) };
    },
  };
}

/**
 * How long a Function collects before it stops and continues in a new invocation: host.json's
 * functionTimeout (30 min) less 8 minutes for the reconciliation, reports, tickets and alerts
 * that follow collection (and which are never cut: they run after the deadline check).
 */
export const COLLECT_MINUTES = 22;

/** The default collection deadline: {@link COLLECT_MINUTES} after the invocation started. */
export function defaultDeadline(invokedAt: Date): Date {
  return new Date(invokedAt.getTime() + COLLECT_MINUTES * 60_000);
}

/** What one Functions scan is asked to do (the timers' fixed areas, or a queued request). */
export interface ScanRequest {
  /** `run` (the daily scan's card) or `signin` (the sign-in watch's card). */
  kind: 'run' | 'signin';
  areas?: readonly Area[];
  scanId?: string;
  confirmResolutions?: boolean;
  /** Sign-ins from a stream (the signInStream function) instead of Graph's sign-in log. */
  signInStream?: SignInStreamBatch;
  /** Collect until the deadline and continue in a new invocation (tenantScan, scanWorker); the sign-in watch has none. */
  deadline?: boolean;
  /** Without a scan id: continue the latest unfinished scan of these areas (the daily timer). */
  resume?: boolean;
  /** The final step of a sharded scan: reconcile the shards' slices, read nothing (pipeline.ts). */
  requireProgress?: boolean;
}

/**
 * The areas a Functions scan reads: what it asked for, without `signins` when sign-ins come from
 * the Event Hub (the stream owns the watch's state then). Undefined: every implemented area.
 */
export function areasFor(d: Pick<ScanDeps, 'signInSource'>, request: Pick<ScanRequest, 'areas' | 'signInStream'>): readonly Area[] | undefined {
  if (request.signInStream || d.signInSource !== 'eventhub') return request.areas;
  const areas = (request.areas ?? IMPLEMENTED_AREAS).filter((a) => a !== 'signins');
  if (!areas.length) throw new ConfigError('nothing to scan:', ['areas: sign-ins come from the Event Hub (M365_AUDIT_SIGNIN_SOURCE=eventhub), so the signInStream function reads them; ask for other areas, or set M365_AUDIT_SIGNIN_SOURCE=graph']);
  return areas;
}

/**
 * Runs one scan for a Function: a fresh Graph, the configured ticket sinks and Teams alerts, the
 * reports to blob storage only (there is no folder anybody opens in Azure). Graph is released
 * whatever happens.
 */
export async function scanFromDeps(d: ScanDeps, request: ScanRequest): Promise<ScanJobResult> {
  const { graph, close, sinks } = d.graph(request.kind === 'signin' ? 'watch' : 'scan');
  try {
    const policy = d.policy;
    return await runScanJob({
      graph,
      policy,
      tenantId: d.tenantId,
      store: d.store,
      ...(areasFor(d, request) ? { areas: areasFor(d, request) } : {}),
      ...(request.signInStream ? { signInStream: request.signInStream } : {}),
      ...(request.scanId ? { scanId: request.scanId } : {}),
      ...(request.confirmResolutions ? { confirmResolutions: true } : {}),
      ...(request.deadline ? { deadline: (d.deadline ?? defaultDeadline)((d.clock ?? (() => new Date()))()) } : {}),
      ...(request.resume ? { resume: true } : {}),
      ...(request.requireProgress ? { requireProgress: true } : {}),
      ...(sinks ? { sinks } : {}),
      ...(d.alerts ? { alerts: { ...d.alerts, kind: request.kind } } : {}),
      ...(d.clock ? { clock: d.clock } : {}),
      ...(d.signInOverlapMinutes !== undefined ? { collectOptions: { signInOverlapMinutes: d.signInOverlapMinutes } } : {}),
      reports: blobReportWriter(d.store, { lang: policy.organization.locale, organization: policy.organization.name, timeZone: policy.organization.timeZone }, d.clock),
    });
  } finally {
    await close();
  }
}

/** Builds, stores (blob only), mails and announces last month's digest for a Function. */
export async function digestFromDeps(d: ScanDeps): Promise<DigestJobResult> {
  let handle: ReturnType<ScanDeps['graph']> | undefined;
  try {
    return await runDigestJob({
      store: d.store,
      policy: d.policy,
      tenantId: d.tenantId,
      now: (d.clock ?? (() => new Date()))(),
      lang: d.policy.organization.locale,
      ...(d.mailSender ? { sender: d.mailSender } : {}),
      graph: () => {
        handle ??= d.graph('digest');
        return handle.graph;
      },
      ...(d.announce ? { announce: d.announce } : {}),
    });
  } finally {
    await handle?.close();
  }
}

/**
 * The one log line of a scan (Application Insights): ids, outcome and counts — no finding
 * subjects, names or addresses, no URLs (a webhook's query string is its secret).
 */
export function scanLogRecord(job: ScanJobResult): Record<string, unknown> {
  const r = job.result;
  return {
    event: 'm365-audit.scan',
    scanId: r.scanId,
    tenantId: r.tenantId,
    outcome: job.outcome,
    areas: r.areas,
    coverage: Object.fromEntries(Object.entries(r.coverage).map(([a, c]) => [a, c?.status])),
    open: countBySeverity(r.findings),
    excepted: r.findings.filter((f) => f.status === 'excepted').length,
    ...(r.ledger ? { ledger: r.ledger } : {}),
    ...(r.tickets
      ? { tickets: { opened: r.tickets.opened.length, closed: r.tickets.closed.length, reopened: r.tickets.reopened.length, failedDeliveries: r.tickets.failedDeliveries.length, unrouted: r.tickets.unrouted } }
      : {}),
    ...(r.alerts ? { alerts: { sent: r.alerts.sent.length, resent: r.alerts.resent.length, failed: r.alerts.failed.length } } : {}),
    graphRequests: r.graph.requests,
    ...(r.notes ? { notes: r.notes } : {}),
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
  };
}

/** Where a Function logs (InvocationContext has these; Application Insights in Azure). */
export interface JobLogger {
  log(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

/**
 * What a Function's scan came to: finished (its job), stopped at its deadline (the queue message
 * that continues it: the caller sets it on its scan-queue output), or already reconciled by another
 * run of the same scan id (at-least-once delivery: nothing was written).
 */
export type ScanRun =
  | { kind: 'finished'; job: ScanJobResult }
  | { kind: 'suspended'; scanId: string; continuation: ScanRequestMessage }
  | { kind: 'already-done'; scanId: string };

/**
 * Runs a scan for a Function and logs it: one structured line ({@link scanLogRecord}), a warning
 * per alert that could not be delivered (its news goes on the next run). A scan that read nothing
 * is logged as an error and its reports say it failed; the invocation itself succeeds, because a
 * retry would read the same nothing (the next schedule tries again). A scan that reached its
 * deadline is logged (outcome `continued`) and returned with its continuation message.
 */
export async function scanAndLog(logger: JobLogger, deps: ScanDeps, request: ScanRequest): Promise<ScanRun> {
  let job: ScanJobResult;
  try {
    job = await scanFromDeps(deps, request);
  } catch (err) {
    if (err instanceof ScanSuspended) {
      logger.warn(JSON.stringify({ event: 'm365-audit.scan', scanId: err.scanId, tenantId: deps.tenantId, outcome: 'continued', done: err.done, remaining: err.remaining }));
      const now = (deps.clock ?? (() => new Date()))();
      const continuation: ScanRequestMessage = {
        scanId: err.scanId,
        ...(request.areas ? { areas: [...request.areas] } : {}),
        ...(request.confirmResolutions ? { confirmResolutions: true } : {}),
        requestedAt: now.toISOString(),
      };
      return { kind: 'suspended', scanId: err.scanId, continuation };
    }
    if (err instanceof ScanAlreadyDone) {
      logger.log(JSON.stringify({ event: 'm365-audit.scan', scanId: err.scanId, outcome: 'already-recorded' }));
      return { kind: 'already-done', scanId: err.scanId };
    }
    throw err;
  }
  const line = JSON.stringify(scanLogRecord(job));
  if (job.outcome === 'failed') logger.error(line);
  else if (job.outcome === 'partial') logger.warn(line);
  else logger.log(line);
  // `sink: message`; the sinks' messages never carry the webhook URL (src/alerts/teams.ts).
  for (const f of job.result.alerts?.failed ?? []) logger.warn(`scan ${job.result.scanId}: an alert was not delivered, it goes on the next run: ${f}`);
  return { kind: 'finished', job };
}

/** True when the tenant's recent scans (the last 200) include `scanId`: a redelivered request is not run twice. */
export async function scanRecorded(store: Pick<Store, 'listScans'>, tenantId: string, scanId: string): Promise<boolean> {
  return (await store.listScans(tenantId, 200)).some((s) => s.scanId === scanId);
}

/**
 * Runs the `signins` area on one Event Hub batch for the signInStream function and logs it like a
 * scan. The batch is mapped first (signins/diagnostic.ts): records of other categories are
 * counted, unreadable ones make the run partial. A run that fails throws (the retry policy runs
 * the batch again); an empty batch of sign-ins still runs, so a batch of only other categories
 * is on record too.
 */
export async function streamAndLog(logger: JobLogger, deps: ScanDeps, messages: readonly unknown[], source: string): Promise<ScanRun> {
  const batch = parseDiagnosticBatch(messages, deps.tenantId);
  for (const p of batch.problems.slice(0, 5)) logger.warn(`signInStream: skipped ${p}`);
  return scanAndLog(logger, deps, { kind: 'signin', areas: ['signins'], signInStream: { source, events: batch.events, problems: batch.problems, ignored: batch.ignored } });
}

/**
 * Starts a sharded scan for a Function (M365_AUDIT_SCAN_SHARDS=on): plans it and returns the first
 * shard messages, which the caller sets on its shard-queue output. Logged as `sharded`.
 */
export async function startShardsAndLog(
  logger: JobLogger,
  d: ScanDeps,
  request: Pick<ScanRequest, 'kind' | 'areas' | 'scanId' | 'confirmResolutions'> & {
    scanId: string;
    /** The scan's collect options (the CLI's and the bench's), over the settings' overlap: kept in the plan for every shard. */
    collectOptions?: Partial<CollectOptions> | undefined;
  },
): Promise<ShardMessage[]> {
  const { graph, close } = d.graph();
  try {
    const areas = areasFor(d, request);
    const { messages } = await startShardedScan({
      store: d.store,
      tenantId: d.tenantId,
      scanId: request.scanId,
      policy: d.policy,
      graphRoot: graph.root,
      ...(areas ? { areas } : {}),
      ...(request.confirmResolutions ? { confirmResolutions: true } : {}),
      kind: request.kind,
      ...(d.shardRanges ? { rangeSizes: d.shardRanges } : {}),
      collectOptions: { ...(d.signInOverlapMinutes !== undefined ? { signInOverlapMinutes: d.signInOverlapMinutes } : {}), ...request.collectOptions },
      now: (d.clock ?? (() => new Date()))(),
    });
    logger.log(JSON.stringify({ event: 'm365-audit.scan', scanId: request.scanId, tenantId: d.tenantId, outcome: 'sharded', shards: messages.map((m) => m.shard) }));
    return messages;
  } finally {
    await close();
  }
}

/**
 * One shard message for a Function (scanShard) or the CLI's worker loop: collects the shard (or,
 * from the poison queue, records it failed), and when it settled the scan's last shard, runs the
 * final step — the scan's one reconciliation, logged as a scan. Returns the shard messages to
 * queue next. Throws when the shard must be retried.
 */
export async function shardAndLog(
  logger: JobLogger,
  d: ScanDeps,
  message: ShardMessage,
  poisoned = false,
  /** The final step (default: a Function's scan, reports to blob storage); the CLI passes its own, with its reports and output. */
  finalStep: (request: ScanRequest) => Promise<ScanRun> = (request) => scanAndLog(logger, d, request),
): Promise<{ step: ShardStep; run?: ScanRun }> {
  if (message.tenantId !== d.tenantId) throw new Error(`shard of tenant ${message.tenantId}, but this app scans tenant ${d.tenantId}`);
  let step: ShardStep;
  if (poisoned) {
    step = await failShard({ store: d.store, ...(d.clock ? { clock: d.clock } : {}) }, message);
  } else {
    const { graph, close } = d.graph();
    try {
      step = await processShard({ store: d.store, policy: d.policy, graph, ...(d.clock ? { clock: d.clock } : {}), ...(d.signInOverlapMinutes !== undefined ? { collectOptions: { signInOverlapMinutes: d.signInOverlapMinutes } } : {}) }, message);
    } finally {
      await close();
    }
  }
  logger.log(JSON.stringify({ event: 'm365-audit.shard', scanId: message.scanId, shard: message.shard, ...(message.range !== undefined ? { range: message.range } : {}), outcome: step.outcome, queued: step.enqueue.map(shardName), reconcile: step.reconcile }));
  if (!step.reconcile) return { step };
  const plan = await prepareReconcile(d.store, d.tenantId, message.scanId);
  if (!plan) return { step, run: { kind: 'already-done', scanId: message.scanId } };
  const run = await finalStep({ kind: plan.kind, areas: plan.areas, scanId: plan.scanId, resume: true, requireProgress: true, ...(plan.confirmResolutions ? { confirmResolutions: true } : {}) });
  if (run.kind !== 'suspended') await clearShards(d.store, d.tenantId, plan);
  return { step, run };
}
