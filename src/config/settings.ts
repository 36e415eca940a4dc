/**
 * Deployment settings: what is not policy (tenant, credentials, storage, webhook, Graph root).
 * They come from environment variables / Function App settings, are validated with zod like the
 * policy file, and never appear in any output: error messages name the variable, never its value.
 */
import { z } from 'zod';
import { ConfigError } from '../errors';
import { storageConnectionStringProblems } from './connection-string';
import { formatIssues } from './policy';

const httpsUrl = z.string().url('must be a URL').refine((u) => u.startsWith('https://'), 'must start with https://');
const nonEmpty = z.string().trim().min(1);

/**
 * https anywhere, plain http only to this machine: 127.0.0.0/8, [::1] or localhost, with or
 * without a port or a path (`http://127.0.0.1:8080` is as local as `http://127.0.0.1:8080/hook`).
 * Parsed as a URL, not matched as text, so that IPv6 loopback and a bare origin pass.
 */
function httpsOrLoopbackHttp(text: string): boolean {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return false;
  }
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && (url.hostname === 'localhost' || url.hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(url.hostname));
}

/** Field ranges of a 6-field NCRONTAB expression: second minute hour day month day-of-week. */
const NCRONTAB_FIELDS: ReadonlyArray<{ name: string; min: number; max: number; names?: readonly string[] }> = [
  { name: 'second', min: 0, max: 59 },
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] },
  { name: 'day-of-week', min: 0, max: 6, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] },
];

/**
 * Why `text` is not a 6-field NCRONTAB expression (`{second} {minute} {hour} {day} {month}
 * {day-of-week}`, each `*`, a number, a range `a-b`, a list `a,b` or a step `…/n`), or undefined
 * when it is one. Checked here because the host only says "invalid schedule" when it loads.
 */
export function ncrontabProblem(text: string): string | undefined {
  const fields = text.trim().split(/\s+/);
  if (fields.length !== 6) return `must be an NCRONTAB expression of 6 fields ({second} {minute} {hour} {day} {month} {day-of-week}), got ${fields.length}`;
  for (const [i, field] of fields.entries()) {
    const spec = NCRONTAB_FIELDS[i];
    if (!spec) break;
    const value = (v: string): number | undefined => {
      const named = spec.names?.indexOf(v.toUpperCase()) ?? -1;
      if (named >= 0) return named + spec.min;
      return /^\d+$/.test(v) ? Number(v) : undefined;
    };
    for (const item of field.split(',')) {
      const m = /^(\*|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)?)(?:\/(\d+))?$/.exec(item);
      const range = m?.[1];
      if (!m || range === undefined || (m[2] !== undefined && Number(m[2]) < 1)) return `the ${spec.name} field "${field}" is not *, a number, a range a-b, a list a,b or a step */n`;
      if (range === '*') continue;
      const [from, to] = range.split('-').map(value);
      const bounds = range.includes('-') ? [from, to] : [from];
      if (bounds.some((b) => b === undefined || b < spec.min || b > spec.max)) return `the ${spec.name} field "${field}" must be from ${spec.min} to ${spec.max}`;
    }
  }
  return undefined;
}

const ncrontab = z
  .string()
  .trim()
  .superRefine((t, ctx) => {
    const problem = ncrontabProblem(t);
    if (problem) ctx.addIssue({ code: 'custom', message: `${problem}; write it in UTC (WEBSITE_TIME_ZONE is not supported on Linux / Flex Consumption)` });
  });

/**
 * The timer schedules and their defaults, NCRONTAB in UTC (the app runs on Linux / Flex
 * Consumption, where WEBSITE_TIME_ZONE is not supported, so JST is written beside each).
 */
export const SCHEDULE_DEFAULTS = {
  /** 18:00:00 UTC every day = 03:00 JST the next morning. */
  M365_AUDIT_SCHEDULE_TENANT_SCAN: '0 0 18 * * *',
  /** Every 15 minutes (:00, :15, :30, :45), the same in JST. */
  M365_AUDIT_SCHEDULE_SIGNIN_WATCH: '0 */15 * * * *',
  /** 00:00:00 UTC on the 1st of each month = 09:00 JST on the 1st. */
  M365_AUDIT_SCHEDULE_MONTHLY_DIGEST: '0 0 0 1 * *',
} as const;

/** The name of a schedule app setting. */
export type ScheduleSetting = keyof typeof SCHEDULE_DEFAULTS;

/**
 * A timer's schedule at registration: the app setting when set (`process.env.X || default`),
 * else the default. Only this one variable is read, so an unrelated bad setting does not stop a
 * timer from registering (the run itself reports it).
 * @throws ConfigError naming the variable, the problem and the default, when it is not NCRONTAB.
 */
export function scheduleFromEnv(name: ScheduleSetting, env: NodeJS.ProcessEnv = process.env): string {
  const text = env[name]?.trim() || SCHEDULE_DEFAULTS[name];
  const problem = ncrontabProblem(text);
  if (problem) throw new ConfigError(`app setting ${name} is invalid:`, [`${name}: ${problem}; set a 6-field NCRONTAB in UTC (default ${SCHEDULE_DEFAULTS[name]}), or leave it empty for the default`]);
  return text;
}

const storageAccountName = z.string().trim().regex(/^[a-z0-9]{3,24}$/, 'must be a storage account name (3 to 24 lowercase letters and digits), not a URL or a connection string');

const settingsSchema = z.object({
  AZURE_TENANT_ID: nonEmpty.optional(),
  AZURE_CLIENT_ID: nonEmpty.optional(),
  AZURE_CLIENT_SECRET: nonEmpty.optional(),
  AZURE_CLIENT_CERTIFICATE_PATH: nonEmpty.optional(),
  AZURE_CLIENT_CERTIFICATE_PASSWORD: z.string().optional(),
  AZURE_STORAGE_CONNECTION_STRING: nonEmpty.optional(),
  /** The Functions host's own storage; used when AZURE_STORAGE_CONNECTION_STRING is not set. */
  AzureWebJobsStorage: nonEmpty.optional(),
  /** Policy file for the Functions app (path relative to the app root). */
  M365_AUDIT_POLICY_FILE: nonEmpty.optional(),
  /** Teams Workflows webhook of the alerts channel (a secret: its query string carries the signature). */
  TEAMS_WEBHOOK_URL: z
    .string()
    .url('must be a URL')
    .refine(httpsOrLoopbackHttp, 'must start with https:// (plain http only on loopback: 127.x.x.x, [::1] or localhost)')
    .optional(),
  /**
   * Where people open the scan report (a SharePoint library, a blob behind Entra sign-in): the
   * alert card links to it. Not a SAS URL: the card would carry the token to every channel member.
   */
  M365_AUDIT_REPORT_URL: z
    .string()
    .url('must be a URL')
    .refine((u) => u.startsWith('https://'), 'must start with https://')
    .refine((u) => !/[?&](sig|se|sv|sp)=/i.test(u), 'looks like a SAS URL (it carries sig=/se=/sv=): a card would hand its token to every channel member; link to a location people open with their own sign-in (SharePoint, or blob storage with Entra authentication) instead')
    .optional(),
  /** Microsoft Planner ticket sink: the plan and bucket tasks go to (both or neither). */
  M365_AUDIT_PLANNER_PLAN_ID: nonEmpty.optional(),
  M365_AUDIT_PLANNER_BUCKET_ID: nonEmpty.optional(),
  /** Generic JSON webhook ticket sink, and the secret its HMAC signature uses. */
  M365_AUDIT_TICKET_WEBHOOK_URL: z
    .string()
    .url('must be a URL')
    .refine(httpsOrLoopbackHttp, 'must start with https:// (plain http only on loopback: 127.x.x.x, [::1] or localhost)')
    .optional(),
  M365_AUDIT_TICKET_WEBHOOK_SECRET: nonEmpty.optional(),
  /** Graph root override (the simulator, a national cloud): `https://host[:port]`. */
  M365_AUDIT_GRAPH_URL: httpsUrl.optional(),
  // Sizes SharePoint's resource-unit budget (README, "RU pacing"); unset: estimated from the directory.
  M365_AUDIT_LICENCE_COUNT: z.string().regex(/^\d+$/, 'a whole number of licences, e.g. 1200').optional(),
  /**
   * Token authority for a national cloud (`https://login.microsoftonline.us`, …); default: derived
   * from the Graph host (graph.microsoft.us → login.microsoftonline.us, …).
   */
  AZURE_AUTHORITY_HOST: httpsUrl.optional(),
  /** Minutes each sign-in watch re-reads before its watermark (late sign-ins; default 120). */
  M365_AUDIT_SIGNIN_OVERLAP_MINUTES: z
    .string()
    .regex(/^\d+$/, 'must be a whole number of minutes')
    .transform(Number)
    .refine((n) => n >= 0 && n <= 1440, 'must be from 0 to 1440 minutes (sign-ins can arrive up to 2 hours late; 120 is the default)')
    .optional(),
  /**
   * Where the sign-in watch takes sign-ins from: `graph` (the default: auditLogs/signIns every 15
   * minutes) or `eventhub` (Entra diagnostic settings streamed to an Event Hub, for volumes above
   * Graph's identity-reports limit; the signInStream function, README "Sign-ins at volume").
   */
  M365_AUDIT_SIGNIN_SOURCE: z.enum(['graph', 'eventhub'], { message: 'must be graph or eventhub' }).optional(),
  /**
   * `on`: the daily and on-demand scans are split into shards, one per slice, on the queue
   * m365-audit-scan-shards (src/jobs/shards.ts; README "Shards"); default `off`: one invocation.
   */
  M365_AUDIT_SCAN_SHARDS: z.enum(['on', 'off'], { message: 'must be on or off' }).optional(),
  /**
   * Range sizes of a sharded scan (src/jobs/shards.ts, README "Shards"): mailboxes per inbox-rules
   * shard (default 1000) and sites per files-sharing shard (default 200); a slice no larger is one shard.
   */
  M365_AUDIT_SHARD_MAILBOXES: z.string().regex(/^[1-9][0-9]{0,6}$/, { message: 'must be a whole number from 1 to 9999999 (mailboxes per inbox-rules shard; default 1000)' }).optional(),
  M365_AUDIT_SHARD_SITES: z.string().regex(/^[1-9][0-9]{0,6}$/, { message: 'must be a whole number from 1 to 9999999 (sites per files-sharing shard; default 200)' }).optional(),
  /** With the Event Hub source: the event hub the diagnostic setting streams to, and the consumer group read. */
  M365_AUDIT_EVENTHUB_NAME: nonEmpty.optional(),
  M365_AUDIT_EVENTHUB_CONSUMER_GROUP: nonEmpty.optional(),
  /** The mailbox the CISO digest is sent from (Graph sendMail; Mail.Send scoped to it, README "CISO digest"). */
  /**
   * Where people open a month's digest, `{month}` standing for YYYY-MM (a SharePoint library the
   * digests are copied to, or blob storage behind Entra sign-in): the digest's Teams card links it.
   */
  M365_AUDIT_DIGEST_URL: z
    .string()
    .url('must be a URL')
    .refine((u) => u.startsWith('https://'), 'must start with https://')
    .refine((u) => !/[?&](sig|se|sv|sp)=/i.test(u), 'looks like a SAS URL (it carries sig=/se=/sv=): a card would hand its token to every channel member; link to a location people open with their own sign-in instead')
    .optional(),
  M365_AUDIT_MAIL_SENDER: z.string().trim().regex(/^[^@\s]+@[^@\s]+\.[^@\s]+$/, 'must be the address (UPN) of the mailbox the digest is sent from, e.g. m365-audit@example.lg.jp').optional(),
  /** Timer schedules (NCRONTAB in UTC; see SCHEDULE_DEFAULTS for the defaults and their JST meaning). */
  M365_AUDIT_SCHEDULE_TENANT_SCAN: ncrontab.optional(),
  M365_AUDIT_SCHEDULE_SIGNIN_WATCH: ncrontab.optional(),
  M365_AUDIT_SCHEDULE_MONTHLY_DIGEST: ncrontab.optional(),
  /**
   * Identity-based host storage (Microsoft Learn "Connecting to host storage with an identity"):
   * the account name, or the service URIs (sovereign clouds, custom domains). The ledger uses
   * them with the managed identity when no connection string is set.
   */
  AzureWebJobsStorage__accountName: storageAccountName.optional(),
  AzureWebJobsStorage__blobServiceUri: httpsUrl.optional(),
  AzureWebJobsStorage__tableServiceUri: httpsUrl.optional(),
  AzureWebJobsStorage__queueServiceUri: httpsUrl.optional(),
  /** Set by App Service / Functions when a managed identity is available. */
  IDENTITY_ENDPOINT: z.string().optional(),
  MSI_ENDPOINT: z.string().optional(),
});

/** Every environment variable / app setting the code reads (the infra templates are checked against it). */
export const SETTING_NAMES = Object.keys(settingsSchema.shape) as readonly (keyof typeof settingsSchema.shape)[];

/** The validated deployment settings. */
export interface Settings {
  tenantId: string | undefined;
  clientId: string | undefined;
  clientSecret: string | undefined;
  clientCertificatePath: string | undefined;
  clientCertificatePassword: string | undefined;
  storageConnectionString: string | undefined;
  policyFile: string | undefined;
  teamsWebhookUrl: string | undefined;
  /** M365_AUDIT_REPORT_URL: the report link on alert cards. */
  reportUrl: string | undefined;
  planner: { planId: string; bucketId: string } | undefined;
  ticketWebhook: { url: string; secret: string | undefined } | undefined;
  graphUrl: string | undefined;
  /** Licences of the tenant (M365_AUDIT_LICENCE_COUNT), for SharePoint's resource-unit band. */
  licenceCount: number | undefined;
  /** Token authority override (national clouds); undefined: derived from the Graph host. */
  authorityHost: string | undefined;
  /** Sign-in watch overlap in minutes; undefined: the default (120). */
  signInOverlapMinutes: number | undefined;
  /** Where the watch takes sign-ins from (M365_AUDIT_SIGNIN_SOURCE; default graph). */
  signInSource: 'graph' | 'eventhub';
  /** M365_AUDIT_SCAN_SHARDS=on: scans are split into queue shards (src/jobs/shards.ts). */
  scanShards: boolean;
  /** M365_AUDIT_SHARD_MAILBOXES / M365_AUDIT_SHARD_SITES; absent: the defaults. */
  shardRanges?: { mailboxes?: number; sites?: number } | undefined;
  /** True when running where a managed identity endpoint exists (Azure). */
  managedIdentity: boolean;
  /** M365_AUDIT_DIGEST_URL: the digest's link on its Teams card, `{month}` for YYYY-MM. */
  digestUrl: string | undefined;
  /** The mailbox the CISO digest is sent from (M365_AUDIT_MAIL_SENDER); undefined: the digest is not mailed. */
  mailSender?: string | undefined;
  /**
   * The storage account's service endpoints for identity-based access (AzureWebJobsStorage__*);
   * used with the managed identity when `storageConnectionString` is not set.
   */
  storageIdentity?: StorageEndpoints | undefined;
  /** Valid but almost certainly not meant (the CLI prints them; nothing stops). */
  warnings: string[];
}

/** A storage account's endpoints (identity-based access: no key, no connection string). */
export interface StorageEndpoints {
  blobServiceUri: string;
  tableServiceUri: string;
  queueServiceUri: string;
}

/** AzureWebJobsStorage__* → the endpoints, or the problems naming the variables. */
function storageEndpoints(
  s: { AzureWebJobsStorage__accountName?: string | undefined; AzureWebJobsStorage__blobServiceUri?: string | undefined; AzureWebJobsStorage__tableServiceUri?: string | undefined; AzureWebJobsStorage__queueServiceUri?: string | undefined },
  problems: string[],
): StorageEndpoints | undefined {
  const account = s.AzureWebJobsStorage__accountName;
  const blob = s.AzureWebJobsStorage__blobServiceUri;
  const table = s.AzureWebJobsStorage__tableServiceUri;
  const queue = s.AzureWebJobsStorage__queueServiceUri;
  if (account) {
    return {
      blobServiceUri: blob ?? `https://${account}.blob.core.windows.net`,
      tableServiceUri: table ?? `https://${account}.table.core.windows.net`,
      queueServiceUri: queue ?? `https://${account}.queue.core.windows.net`,
    };
  }
  if (!blob && !table && !queue) return undefined;
  // The ledger needs both tables and blobs; the host's queues are the host's business.
  if (!blob) problems.push('AzureWebJobsStorage__blobServiceUri: required with AzureWebJobsStorage__tableServiceUri/__queueServiceUri (the report blobs), or set AzureWebJobsStorage__accountName instead');
  if (!table) problems.push('AzureWebJobsStorage__tableServiceUri: required with AzureWebJobsStorage__blobServiceUri (the ledger tables), or set AzureWebJobsStorage__accountName instead');
  if (!blob || !table) return undefined;
  return { blobServiceUri: blob, tableServiceUri: table, queueServiceUri: queue ?? blob.replace('.blob.', '.queue.') };
}

/**
 * An Office 365 connector ("incoming webhook") URL: `*.webhook.office.com/webhookb2/…`. Microsoft
 * is retiring these connectors in favour of Workflows; a Workflows URL is on
 * `*.logic.azure.com`, `*.powerautomate.com` or `*.powerplatform.com`.
 */
function connectorUrl(url: string | undefined): boolean {
  if (!url) return false;
  try {
    const u = new URL(url);
    return /(^|\.)webhook\.office\.com$/i.test(u.hostname) || /\/webhookb2\//i.test(u.pathname);
  } catch {
    return false;
  }
}

/**
 * Reads and validates the deployment settings from an environment.
 * @throws ConfigError naming every invalid variable (never its value).
 */
export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  // Empty strings count as unset: app settings often exist with no value.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = settingsSchema.safeParse(present);
  if (!result.success) {
    throw new ConfigError('deployment settings are invalid; fix these environment variables:', formatIssues(result.error.issues));
  }
  const s = result.data;
  const problems: string[] = [];
  if ((s.AZURE_CLIENT_SECRET || s.AZURE_CLIENT_CERTIFICATE_PATH) && !s.AZURE_CLIENT_ID) {
    problems.push('AZURE_CLIENT_ID: required with AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH (the app registration id)');
  }
  if ((s.AZURE_CLIENT_SECRET || s.AZURE_CLIENT_CERTIFICATE_PATH) && !s.AZURE_TENANT_ID) {
    problems.push('AZURE_TENANT_ID: required with client credentials (the Entra tenant id)');
  }
  if (s.AZURE_CLIENT_SECRET && s.AZURE_CLIENT_CERTIFICATE_PATH) {
    problems.push('AZURE_CLIENT_SECRET: set either a secret or AZURE_CLIENT_CERTIFICATE_PATH, not both (prefer the certificate)');
  }
  if (Boolean(s.M365_AUDIT_PLANNER_PLAN_ID) !== Boolean(s.M365_AUDIT_PLANNER_BUCKET_ID)) {
    problems.push('M365_AUDIT_PLANNER_BUCKET_ID: set both M365_AUDIT_PLANNER_PLAN_ID and M365_AUDIT_PLANNER_BUCKET_ID, or neither');
  }
  if (s.M365_AUDIT_SIGNIN_SOURCE === 'eventhub') {
    if (!s.M365_AUDIT_EVENTHUB_NAME) problems.push('M365_AUDIT_EVENTHUB_NAME: required with M365_AUDIT_SIGNIN_SOURCE=eventhub (the event hub the Entra diagnostic setting streams SignInLogs to)');
    if (!s.M365_AUDIT_EVENTHUB_CONSUMER_GROUP) problems.push('M365_AUDIT_EVENTHUB_CONSUMER_GROUP: required with M365_AUDIT_SIGNIN_SOURCE=eventhub (a consumer group of that event hub that only m365-audit reads)');
  }
  if (s.M365_AUDIT_TICKET_WEBHOOK_SECRET && !s.M365_AUDIT_TICKET_WEBHOOK_URL) {
    problems.push('M365_AUDIT_TICKET_WEBHOOK_URL: required with M365_AUDIT_TICKET_WEBHOOK_SECRET');
  }
  // The ledger's storage: checked here so that a malformed string is named before anything runs.
  if (s.AZURE_STORAGE_CONNECTION_STRING) problems.push(...storageConnectionStringProblems(s.AZURE_STORAGE_CONNECTION_STRING, 'AZURE_STORAGE_CONNECTION_STRING'));
  else if (s.AzureWebJobsStorage) problems.push(...storageConnectionStringProblems(s.AzureWebJobsStorage, 'AzureWebJobsStorage'));
  const storageIdentity = storageEndpoints(s, problems);
  if (problems.length) throw new ConfigError('deployment settings are invalid; fix these environment variables:', problems);
  return {
    storageIdentity,
    tenantId: s.AZURE_TENANT_ID,
    clientId: s.AZURE_CLIENT_ID,
    clientSecret: s.AZURE_CLIENT_SECRET,
    clientCertificatePath: s.AZURE_CLIENT_CERTIFICATE_PATH,
    clientCertificatePassword: s.AZURE_CLIENT_CERTIFICATE_PASSWORD,
    storageConnectionString: s.AZURE_STORAGE_CONNECTION_STRING ?? s.AzureWebJobsStorage,
    policyFile: s.M365_AUDIT_POLICY_FILE,
    teamsWebhookUrl: s.TEAMS_WEBHOOK_URL,
    reportUrl: s.M365_AUDIT_REPORT_URL,
    planner: s.M365_AUDIT_PLANNER_PLAN_ID && s.M365_AUDIT_PLANNER_BUCKET_ID ? { planId: s.M365_AUDIT_PLANNER_PLAN_ID, bucketId: s.M365_AUDIT_PLANNER_BUCKET_ID } : undefined,
    ticketWebhook: s.M365_AUDIT_TICKET_WEBHOOK_URL ? { url: s.M365_AUDIT_TICKET_WEBHOOK_URL, secret: s.M365_AUDIT_TICKET_WEBHOOK_SECRET } : undefined,
    graphUrl: s.M365_AUDIT_GRAPH_URL,
    licenceCount: s.M365_AUDIT_LICENCE_COUNT === undefined ? undefined : Number(s.M365_AUDIT_LICENCE_COUNT),
    authorityHost: s.AZURE_AUTHORITY_HOST?.replace(/\/+$/, ''),
    signInOverlapMinutes: s.M365_AUDIT_SIGNIN_OVERLAP_MINUTES,
    signInSource: s.M365_AUDIT_SIGNIN_SOURCE ?? 'graph',
    scanShards: s.M365_AUDIT_SCAN_SHARDS === 'on',
    ...(s.M365_AUDIT_SHARD_MAILBOXES || s.M365_AUDIT_SHARD_SITES
      ? { shardRanges: { ...(s.M365_AUDIT_SHARD_MAILBOXES ? { mailboxes: Number(s.M365_AUDIT_SHARD_MAILBOXES) } : {}), ...(s.M365_AUDIT_SHARD_SITES ? { sites: Number(s.M365_AUDIT_SHARD_SITES) } : {}) } }
      : {}),
    managedIdentity: Boolean(s.IDENTITY_ENDPOINT || s.MSI_ENDPOINT),
    mailSender: s.M365_AUDIT_MAIL_SENDER,
    digestUrl: s.M365_AUDIT_DIGEST_URL,
    warnings: connectorUrl(s.TEAMS_WEBHOOK_URL)
      ? ['TEAMS_WEBHOOK_URL: is an Office 365 connector URL (webhook.office.com), and those connectors are being retired — create a Workflows webhook for the channel ("Send webhook alerts to a channel", README "Teams alerts") and set its URL instead']
      : [],
  };
}
