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
  /** True when running where a managed identity endpoint exists (Azure). */
  managedIdentity: boolean;
  /** M365_AUDIT_DIGEST_URL: the digest's link on its Teams card, `{month}` for YYYY-MM. */
  digestUrl: string | undefined;
  /** The mailbox the CISO digest is sent from (M365_AUDIT_MAIL_SENDER); undefined: the digest is not mailed. */
  mailSender?: string | undefined;
  /** Valid but almost certainly not meant (the CLI prints them; nothing stops). */
  warnings: string[];
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
  if (s.M365_AUDIT_TICKET_WEBHOOK_SECRET && !s.M365_AUDIT_TICKET_WEBHOOK_URL) {
    problems.push('M365_AUDIT_TICKET_WEBHOOK_URL: required with M365_AUDIT_TICKET_WEBHOOK_SECRET');
  }
  // The ledger's storage: checked here so that a malformed string is named before anything runs.
  if (s.AZURE_STORAGE_CONNECTION_STRING) problems.push(...storageConnectionStringProblems(s.AZURE_STORAGE_CONNECTION_STRING, 'AZURE_STORAGE_CONNECTION_STRING'));
  else if (s.AzureWebJobsStorage) problems.push(...storageConnectionStringProblems(s.AzureWebJobsStorage, 'AzureWebJobsStorage'));
  if (problems.length) throw new ConfigError('deployment settings are invalid; fix these environment variables:', problems);
  return {
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
    managedIdentity: Boolean(s.IDENTITY_ENDPOINT || s.MSI_ENDPOINT),
    mailSender: s.M365_AUDIT_MAIL_SENDER,
    digestUrl: s.M365_AUDIT_DIGEST_URL,
    warnings: connectorUrl(s.TEAMS_WEBHOOK_URL)
      ? ['TEAMS_WEBHOOK_URL: is an Office 365 connector URL (webhook.office.com), and those connectors are being retired — create a Workflows webhook for the channel ("Send webhook alerts to a channel", README "Teams alerts") and set its URL instead']
      : [],
  };
}
