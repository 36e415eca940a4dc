/**
 * Builds the Microsoft Graph SDK client: `@microsoft/microsoft-graph-client` with
 * `TokenCredentialAuthenticationProvider` over an `@azure/identity` credential.
 *
 * - In Azure: managed identity. Elsewhere: a client certificate (preferred) or secret from
 *   `AZURE_*`. Nothing configured: a {@link ConfigError} that says what to set. A credential that
 *   fails (unreadable or non-PEM certificate, refused secret, no identity) is a
 *   {@link CredentialError}: the run stops, it is not retried.
 * - National clouds: the token authority follows the Graph host (or `AZURE_AUTHORITY_HOST`) and
 *   the scope is `<Graph origin>/.default`.
 * - `--graph-url https://127.0.0.1:PORT` (any loopback host) is the simulator: a placeholder token
 *   and no credentials. A non-loopback URL without credentials is an error, so a typo can never
 *   send a real tenant's traffic without authentication.
 * - The SDK attaches the token only to Graph hosts and `customHosts` (host names, no port), and
 *   recognises absolute nextLinks only on https, so the simulator speaks https too. Its
 *   certificate is trusted per client (an undici dispatcher with `ca`), because the CLI generates
 *   it at run time, after NODE_EXTRA_CA_CERTS could have been read.
 */
import type { GetTokenOptions, TokenCredential } from '@azure/identity';
import { AzureAuthorityHosts, ClientCertificateCredential, ClientSecretCredential, ManagedIdentityCredential } from '@azure/identity';
import { AuthenticationHandler, Client, type Context, type Middleware } from '@microsoft/microsoft-graph-client';
import { TokenCredentialAuthenticationProvider } from '@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials';
import { Agent, fetch as undiciFetch } from 'undici';
import { ConfigError, CredentialError } from '../errors';
import type { Settings } from '../config/settings';
import { rolesOfToken } from './token';
import { modelClock, type ModelClock } from './clock';

export { rolesOfToken } from './token';

/** Microsoft Graph's global root. */
export const GRAPH_ROOT = 'https://graph.microsoft.com';

/** `ISV|<org>|<app>/<version>`: SharePoint throttles undecorated traffic first (graph.md). */
export const USER_AGENT = `ISV|m365-audit|m365-audit/${readVersion()}`;

function readVersion(): string {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require('../../../package.json') as { version: string }).version;
  } catch {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      return (require('../../package.json') as { version: string }).version;
    } catch {
      return '0.0.0';
    }
  }
}

/** True for https URLs whose host is loopback (127.0.0.0/8, ::1, localhost). */
export function isLoopbackUrl(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return false;
  }
  return host === 'localhost' || host === '[::1]' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * The application permissions the simulator's placeholder token claims by default: everything
 * the README's permission table asks for, Sites.FullControl.All included (so that incremental
 * sharing changes are visible, as with a fully consented app).
 */
export const SIMULATOR_DEFAULT_ROLES: readonly string[] = [
  'Application.Read.All',
  'AuditLog.Read.All',
  'Directory.Read.All',
  'Domain.Read.All',
  'GroupMember.Read.All',
  'MailboxSettings.Read',
  'Mail.Send',
  'Policy.Read.All',
  'RoleEligibilitySchedule.Read.Directory',
  'RoleManagement.Read.Directory',
  'SharePointTenantSettings.Read.All',
  'Sites.FullControl.All',
  'Sites.Read.All',
  'Tasks.ReadWrite.All',
  'User.Read.All',
];

function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}

/**
 * An unsigned JWT (`alg: none`) claiming `roles` for the simulator: JWT-shaped like Entra's
 * app-only tokens, so that the collectors read their granted roles the same way everywhere and
 * the simulator answers by them (e.g. sharing changes in delta only for Sites.FullControl.All).
 */
export function simulatorToken(roles: readonly string[], nowMs: number = Date.now()): string {
  const iat = Math.floor(nowMs / 1000);
  const header = base64url(JSON.stringify({ typ: 'JWT', alg: 'none' }));
  const payload = base64url(JSON.stringify({ aud: GRAPH_ROOT, iss: 'https://sts.windows.net/simulator/', iat, nbf: iat, exp: iat + 3600, idtyp: 'app', roles: [...roles] }));
  return `${header}.${payload}.`;
}

/** A credential for the simulator: a placeholder JWT claiming `roles`. */
function placeholderCredential(roles: readonly string[]): TokenCredential {
  return {
    getToken: async () => ({ token: simulatorToken(roles), expiresOnTimestamp: Date.now() + 3_600_000 }),
  };
}

/**
 * The token authority of each Graph host ("Microsoft Graph national cloud deployments": US
 * Government L4 and L5 (DOD) sign in at login.microsoftonline.us, 21Vianet at
 * login.chinacloudapi.cn). @azure/identity defaults to the global authority, whose tokens the
 * national Graph hosts refuse.
 */
export const AUTHORITY_BY_GRAPH_HOST: Readonly<Record<string, string>> = {
  'graph.microsoft.com': AzureAuthorityHosts.AzurePublicCloud,
  'graph.microsoft.us': AzureAuthorityHosts.AzureGovernment,
  'dod-graph.microsoft.us': AzureAuthorityHosts.AzureGovernment,
  'microsoftgraph.chinacloudapi.cn': AzureAuthorityHosts.AzureChina,
};

/**
 * The authority to get Graph tokens from: `AZURE_AUTHORITY_HOST` when set, else the one of the
 * Graph host (undefined for a host we do not know: @azure/identity's default, the global one).
 * @throws ConfigError when AZURE_AUTHORITY_HOST names another cloud than a known Graph host's.
 */
export function authorityHostFor(graphUrl: string, override?: string): string | undefined {
  const host = new URL(graphUrl).hostname.toLowerCase();
  const derived = AUTHORITY_BY_GRAPH_HOST[host];
  if (override === undefined) return derived;
  const wanted = override.replace(/\/+$/, '');
  if (derived && new URL(wanted).hostname.toLowerCase() !== new URL(derived).hostname) {
    throw new ConfigError('AZURE_AUTHORITY_HOST does not match the Graph host:', [
      `AZURE_AUTHORITY_HOST: ${host} takes tokens from ${derived}; set that, or leave the variable unset to derive it`,
    ]);
  }
  return wanted;
}

/** Error names of @azure/identity that no retry can cure. */
const CREDENTIAL_ERROR_NAMES = new Set(['CredentialUnavailableError', 'AuthenticationRequiredError', 'AuthenticationError', 'AggregateAuthenticationError']);

/** Signs of a network failure on the way to the token authority, in codes or messages. */
const NETWORK_SIGNS = /\b(network_error|endpoints_resolution_error|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ESOCKETTIMEDOUT|ENOTFOUND|EAI_AGAIN|ENETUNREACH|EHOSTUNREACH|UND_ERR_[A-Z_]+|socket hang up)\b/;

/**
 * True when a token failure was the network's, not the credential's. @azure/identity wraps MSAL's
 * network errors as CredentialUnavailableError (`endpoints_resolution_error`) or
 * AuthenticationRequiredError (`network_error`), so the error's name alone would stop a long scan
 * on a passing outage of login.microsoftonline.com; such a failure is retried like any network
 * failure instead. The error and its causes are searched.
 */
export function isNetworkFailure(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; depth < 6 && e && typeof e === 'object'; depth++) {
    const { code, errorCode, message } = e as { code?: unknown; errorCode?: unknown; message?: unknown };
    if ([code, errorCode, message].some((v) => typeof v === 'string' && NETWORK_SIGNS.test(v))) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * What went wrong getting a token, as a fix naming the variable (never its value), or undefined
 * for a failure that is not the credential's (a network error on the way to the authority).
 */
function credentialProblem(err: unknown, fix: string, certificate: boolean): string | undefined {
  const e = err as { name?: unknown; message?: unknown; code?: unknown; syscall?: unknown };
  const message = typeof e.message === 'string' ? e.message.split('\n')[0]?.slice(0, 300) ?? '' : '';
  const named = typeof e.name === 'string' && CREDENTIAL_ERROR_NAMES.has(e.name);
  // ClientCertificateCredential reads and parses its file at the first getToken, and fails with
  // a plain Error then (checked with @azure/identity 4.13: a missing file, a non-PEM or PFX file,
  // an encrypted key with the wrong password).
  if (certificate && !named) {
    // Any file-system failure reading the file (ENOENT, EACCES, ENOTDIR, ELOOP, …): its message
    // holds the path, so only the code is shown.
    if (typeof e.code === 'string' && (['ENOENT', 'EACCES', 'EISDIR', 'EPERM'].includes(e.code) || (typeof e.syscall === 'string' && /^E[A-Z]+$/.test(e.code)))) {
      return `AZURE_CLIENT_CERTIFICATE_PATH: the certificate file cannot be read (${e.code}); point it at the PEM file of the app registration's certificate`;
    }
    if (typeof e.code === 'string' && e.code.startsWith('ERR_OSSL')) {
      return `AZURE_CLIENT_CERTIFICATE_PASSWORD: the private key in the AZURE_CLIENT_CERTIFICATE_PATH file could not be decrypted (${e.code}); set the key's password, or use an unencrypted PEM key`;
    }
    if (/\bPEM\b/.test(message)) {
      return `AZURE_CLIENT_CERTIFICATE_PATH: ${message} — it must be a PEM file holding the certificate and its private key; convert a .pfx/.p12 with \`openssl pkcs12 -in app.pfx -out app.pem -nodes\``;
    }
  }
  if (named) return `${e.name as string}: ${message} — ${fix}`;
  return undefined;
}

/**
 * Wraps a credential so that a credential failure becomes a {@link CredentialError} (the Graph
 * layer stops the run on it instead of retrying it as a network failure).
 */
export function guardCredential(inner: TokenCredential, fix: string, options: { certificate?: boolean } = {}): TokenCredential {
  return {
    getToken: async (scopes: string | string[], getTokenOptions?: GetTokenOptions) => {
      try {
        return await inner.getToken(scopes, getTokenOptions);
      } catch (err) {
        if (isNetworkFailure(err)) throw err;
        const problem = credentialProblem(err, fix, options.certificate === true);
        if (problem) throw new CredentialError(`no access token for Microsoft Graph: ${problem}`, { cause: err });
        throw err;
      }
    },
  };
}

/**
 * Chooses the credential for a Graph root from the deployment settings. On loopback (the
 * simulator) a placeholder token claiming `simulatorRoles` (default {@link SIMULATOR_DEFAULT_ROLES}).
 */
export function chooseCredential(graphUrl: string, settings: Settings, simulatorRoles: readonly string[] = SIMULATOR_DEFAULT_ROLES): TokenCredential {
  if (isLoopbackUrl(graphUrl)) return placeholderCredential(simulatorRoles);
  const authorityHost = authorityHostFor(graphUrl, settings.authorityHost);
  const authority = authorityHost ? { authorityHost } : {};
  const cloud = authorityHost && authorityHost !== AzureAuthorityHosts.AzurePublicCloud ? ` registered in the cloud of ${authorityHost} (AZURE_AUTHORITY_HOST)` : '';
  if (settings.clientCertificatePath && settings.tenantId && settings.clientId) {
    return guardCredential(
      new ClientCertificateCredential(settings.tenantId, settings.clientId, {
        certificatePath: settings.clientCertificatePath,
        ...(settings.clientCertificatePassword ? { certificatePassword: settings.clientCertificatePassword } : {}),
        ...authority,
      }),
      `check AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_CERTIFICATE_PATH (a PEM file with the certificate and its private key; the certificate must be uploaded to that app registration${cloud})`,
      { certificate: true },
    );
  }
  if (settings.clientSecret && settings.tenantId && settings.clientId) {
    return guardCredential(
      new ClientSecretCredential(settings.tenantId, settings.clientId, settings.clientSecret, authority),
      `check AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (a current secret of that app registration${cloud})`,
    );
  }
  if (settings.managedIdentity) {
    return guardCredential(
      settings.clientId ? new ManagedIdentityCredential({ clientId: settings.clientId }) : new ManagedIdentityCredential(),
      'enable the Function App\'s managed identity (or set AZURE_CLIENT_ID to the client id of its user-assigned identity) and grant it the Graph permissions',
    );
  }
  throw new ConfigError(`no credentials for ${new URL(graphUrl).origin}:`, [
    'AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_CERTIFICATE_PATH (or AZURE_CLIENT_SECRET): set them for an app registration with the Graph permissions listed in the README',
    'or run in Azure with a managed identity',
    'or point --graph-url at the simulator (https://127.0.0.1:PORT, see `m365-audit sim`)',
  ]);
}

/**
 * Terminal middleware: sends the request with undici's fetch through our own dispatcher (trusted
 * CA for the simulator, connection limits, timeouts) instead of the global fetch.
 */
class UndiciFetchHandler implements Middleware {
  constructor(
    private readonly dispatcher: Agent,
    private readonly timeoutMs: number,
  ) {}

  async execute(context: Context): Promise<void> {
    const options = (context.options ?? {}) as Record<string, unknown>;
    const url = typeof context.request === 'string' ? context.request : context.request.url;
    try {
      context.response = (await undiciFetch(url, {
        ...(options as object),
        headers: { 'User-Agent': USER_AGENT, ...(options.headers as Record<string, string> | undefined) },
        dispatcher: this.dispatcher,
        signal: (options.signal as AbortSignal | undefined) ?? AbortSignal.timeout(this.timeoutMs),
      } as Parameters<typeof undiciFetch>[1])) as unknown as Response;
    } catch (err) {
      // AbortSignal.timeout's DOMException reaches the Graph layer without its message through the
      // SDK: name the timeout, so a run stopped by slow answers says so.
      if ((err as { name?: unknown } | null)?.name === 'TimeoutError' && options.signal === undefined) {
        const timeout = new Error(`no answer within ${this.timeoutMs} ms (the client's per-request timeout)`, { cause: err });
        timeout.name = 'TimeoutError';
        throw timeout;
      }
      throw withCauseCode(err);
    }
  }
}

/**
 * undici's `fetch failed` TypeError keeps the reason (ECONNREFUSED, an untrusted certificate's
 * DEPTH_ZERO_SELF_SIGNED_CERT, …) in its `cause`, which the Graph SDK's error handler drops: it
 * keeps only the name and message. So the reason is lifted into both (the name becomes the SDK
 * error's `code`), for the Graph layer to tell a TLS trust failure from a passing outage.
 */
function withCauseCode(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  let e: unknown = err.cause;
  for (let depth = 0; depth < 6 && e && typeof e === 'object'; depth++) {
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && code) {
      const lifted = new Error(`${err.message}: ${code}${typeof message === 'string' && message && message !== code ? ` (${message.split('\n')[0]?.slice(0, 200)})` : ''}`, { cause: err });
      lifted.name = code;
      return lifted;
    }
    e = (e as { cause?: unknown }).cause;
  }
  return err;
}

export interface ClientOptions {
  /** Graph root (`https://graph.microsoft.com` or the simulator's URL). */
  graphUrl?: string | undefined;
  settings: Settings;
  /** Extra CA certificate (PEM) to trust: the simulator's. */
  caPem?: string | undefined;
  /** Per-request timeout in ms (default 100 s, Graph's own gateway timeout). */
  timeoutMs?: number;
  /** Simulator only: the roles its placeholder token claims (default {@link SIMULATOR_DEFAULT_ROLES}). */
  simulatorRoles?: readonly string[];
  /** A credential to use instead of the one the settings choose (tests, embedding). */
  credential?: TokenCredential | undefined;
  /**
   * Benchmark only: the compressed clock (graph/clock.ts). Every wait of a Graph built with
   * {@link graphOptionsFor} (Retry-After, budget pacing, back-off) is in model time, divided by
   * this factor in real time, and so is the per-request timeout. Default 1 (real time).
   */
  timeScale?: number;
}

/** A Graph SDK client plus the dispatcher to close when the scan is done. */
export interface GraphClientHandle {
  client: Client;
  graphUrl: string;
  /**
   * The application permissions granted to the app, from its access token's `roles` claim
   * (the token itself is neither returned nor logged); undefined when unreadable.
   */
  grantedRoles(): Promise<string[] | undefined>;
  /** The client's clock ({@link ClientOptions.timeScale}); Graph takes its `now`/`sleep`. */
  clock: ModelClock;
  close(): Promise<void>;
}

/**
 * The token scope: `<Graph origin>/.default` ("Access national cloud deployments with the
 * Microsoft Graph SDKs": a scope naming the Graph domain must use the national cloud's), the
 * global one for the simulator.
 */
export function graphScope(graphUrl: string): string {
  return isLoopbackUrl(graphUrl) ? `${GRAPH_ROOT}/.default` : `${new URL(graphUrl).origin}/.default`;
}

/**
 * The Graph root as the SDK wants it: `https://host[:port]`, no version, no trailing slash. A root
 * copied with its version (`https://graph.microsoft.com/v1.0/`, as Graph's own docs write request
 * URLs) is accepted, the version stripped: the SDK adds `v1.0` itself, and would otherwise ask for
 * `/v1.0/v1.0/users`. Any other path, `/beta` included, is refused (the audit reads v1.0 only).
 * @throws ConfigError naming the option or variable.
 */
export function normaliseGraphRoot(text: string, name: 'graph-url' | 'M365_AUDIT_GRAPH_URL' = 'graph-url'): string {
  const label = name === 'graph-url' ? '--graph-url' : name;
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new ConfigError(`${label} is invalid:`, [`${name}: is not a URL (e.g. https://graph.microsoft.com, or the simulator's https://127.0.0.1:PORT)`]);
  }
  if (url.protocol !== 'https:') {
    throw new ConfigError(`${label} is invalid:`, [`${name}: must start with https:// (the Graph SDK attaches tokens and follows nextLinks only on https)`]);
  }
  const path = url.pathname.replace(/\/+$/, '').replace(/^\/v1\.0$/i, '');
  if (path || url.search || url.hash) {
    throw new ConfigError(`${label} is invalid:`, [
      `${name}: give the Graph root only, https://${url.host} (the version is v1.0 and added by the client${/^\/beta\b/i.test(path) ? '; beta is not used' : ''})`,
    ]);
  }
  return url.origin;
}

/**
 * The per-request timeout in real ms under the compressed clock: model ms ÷ timeScale, but never
 * below 10 s of real time when compressed — the machine's own CPU time does not compress, and a
 * bench on a loaded box would otherwise time out answers that are merely slow to serialise.
 */
function scaledTimeout(timeoutMs: number, timeScale: number): number {
  return timeScale === 1 ? timeoutMs : Math.max(Math.min(timeoutMs, 10_000), Math.round(timeoutMs / timeScale));
}

/** Creates the Graph SDK client for a root URL with the right credential. */
export function createGraphClient(options: ClientOptions): GraphClientHandle {
  const graphUrl = normaliseGraphRoot(options.graphUrl ?? options.settings.graphUrl ?? GRAPH_ROOT, options.graphUrl !== undefined ? 'graph-url' : 'M365_AUDIT_GRAPH_URL');
  const credential = options.credential ?? chooseCredential(graphUrl, options.settings, options.simulatorRoles);
  const scope = graphScope(graphUrl);
  const grantedRoles = async (): Promise<string[] | undefined> => {
    const token = await credential.getToken(scope);
    return token ? rolesOfToken(token.token) : undefined;
  };
  const authProvider = new TokenCredentialAuthenticationProvider(credential, { scopes: [scope] });
  const clock = modelClock(options.timeScale ?? 1);
  const dispatcher = new Agent({
    connections: 16,
    connect: options.caPem ? { ca: options.caPem } : {},
  });
  const client = Client.initWithMiddleware({
    middleware: [new AuthenticationHandler(authProvider), new UndiciFetchHandler(dispatcher, scaledTimeout(options.timeoutMs ?? 100_000, clock.timeScale))],
    baseUrl: graphUrl,
    defaultVersion: 'v1.0',
    customHosts: new Set([new URL(graphUrl).hostname]),
  });
  return { client, graphUrl, grantedRoles, clock, close: () => dispatcher.close() };
}

/**
 * The Graph options that come from the client and the deployment settings (roles, licences, the
 * client's clock, and the tenant and app whose budgets every client of this process shares:
 * Graph's limits are per app per tenant, src/graph/pacing.ts).
 */
export function graphOptionsFor(
  handle: GraphClientHandle,
  settings: Settings,
): { grantedRoles: () => Promise<string[] | undefined>; licenceCount: number | undefined; root: string; clock: () => number; sleep: (ms: number) => Promise<void>; share?: { tenantId: string; appId: string } } {
  const share = settings.tenantId && settings.clientId ? { share: { tenantId: settings.tenantId, appId: settings.clientId } } : {};
  return { grantedRoles: handle.grantedRoles, licenceCount: settings.licenceCount, root: handle.graphUrl, clock: handle.clock.now, sleep: handle.clock.sleep, ...share };
}
