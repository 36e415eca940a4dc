/**
 * Builds the Microsoft Graph SDK client: `@microsoft/microsoft-graph-client` with
 * `TokenCredentialAuthenticationProvider` over an `@azure/identity` credential.
 *
 * - In Azure: managed identity. Elsewhere: a client certificate (preferred) or secret from
 *   `AZURE_*`. Nothing configured: a {@link ConfigError} that says what to set.
 * - `--graph-url https://127.0.0.1:PORT` (any loopback host) is the simulator: a placeholder token
 *   and no credentials. A non-loopback URL without credentials is an error, so a typo can never
 *   send a real tenant's traffic without authentication.
 * - The SDK attaches the token only to Graph hosts and `customHosts` (host names, no port), and
 *   recognises absolute nextLinks only on https, so the simulator speaks https too. Its
 *   certificate is trusted per client (an undici dispatcher with `ca`), because the CLI generates
 *   it at run time, after NODE_EXTRA_CA_CERTS could have been read.
 */
import type { TokenCredential } from '@azure/identity';
import { ClientCertificateCredential, ClientSecretCredential, ManagedIdentityCredential } from '@azure/identity';
import { AuthenticationHandler, Client, type Context, type Middleware } from '@microsoft/microsoft-graph-client';
import { TokenCredentialAuthenticationProvider } from '@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials';
import { Agent, fetch as undiciFetch } from 'undici';
import { ConfigError } from '../errors';
import type { Settings } from '../config/settings';

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

/**
 * The `roles` claim of a JWT access token (its payload decoded, not verified: this only tells
 * the app what it was granted). Undefined when the token is not a JWT or carries no roles array.
 */
export function rolesOfToken(token: string): string[] | undefined {
  const part = token.split('.')[1];
  if (!part) return undefined;
  try {
    const payload = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as { roles?: unknown };
    return Array.isArray(payload.roles) ? payload.roles.filter((r): r is string => typeof r === 'string') : undefined;
  } catch {
    return undefined;
  }
}

/** A credential for the simulator: a placeholder JWT claiming `roles`. */
function placeholderCredential(roles: readonly string[]): TokenCredential {
  return {
    getToken: async () => ({ token: simulatorToken(roles), expiresOnTimestamp: Date.now() + 3_600_000 }),
  };
}

/**
 * Chooses the credential for a Graph root from the deployment settings. On loopback (the
 * simulator) a placeholder token claiming `simulatorRoles` (default {@link SIMULATOR_DEFAULT_ROLES}).
 */
export function chooseCredential(graphUrl: string, settings: Settings, simulatorRoles: readonly string[] = SIMULATOR_DEFAULT_ROLES): TokenCredential {
  if (isLoopbackUrl(graphUrl)) return placeholderCredential(simulatorRoles);
  if (settings.clientCertificatePath && settings.tenantId && settings.clientId) {
    return new ClientCertificateCredential(settings.tenantId, settings.clientId, {
      certificatePath: settings.clientCertificatePath,
      ...(settings.clientCertificatePassword ? { certificatePassword: settings.clientCertificatePassword } : {}),
    });
  }
  if (settings.clientSecret && settings.tenantId && settings.clientId) {
    return new ClientSecretCredential(settings.tenantId, settings.clientId, settings.clientSecret);
  }
  if (settings.managedIdentity) {
    return settings.clientId ? new ManagedIdentityCredential({ clientId: settings.clientId }) : new ManagedIdentityCredential();
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
    context.response = (await undiciFetch(url, {
      ...(options as object),
      headers: { 'User-Agent': USER_AGENT, ...(options.headers as Record<string, string> | undefined) },
      dispatcher: this.dispatcher,
      signal: (options.signal as AbortSignal | undefined) ?? AbortSignal.timeout(this.timeoutMs),
    } as Parameters<typeof undiciFetch>[1])) as unknown as Response;
  }
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
  close(): Promise<void>;
}

/** Creates the Graph SDK client for a root URL with the right credential. */
export function createGraphClient(options: ClientOptions): GraphClientHandle {
  const graphUrl = (options.graphUrl ?? options.settings.graphUrl ?? GRAPH_ROOT).replace(/\/+$/, '');
  if (!graphUrl.startsWith('https://')) {
    throw new ConfigError('--graph-url is invalid:', [`graph-url: must start with https:// (the Graph SDK attaches tokens and follows nextLinks only on https)`]);
  }
  const credential = chooseCredential(graphUrl, options.settings, options.simulatorRoles);
  const origin = new URL(graphUrl).origin;
  const scope = isLoopbackUrl(graphUrl) ? `${GRAPH_ROOT}/.default` : `${origin}/.default`;
  const grantedRoles = async (): Promise<string[] | undefined> => {
    const token = await credential.getToken(scope);
    return token ? rolesOfToken(token.token) : undefined;
  };
  const authProvider = new TokenCredentialAuthenticationProvider(credential, { scopes: [scope] });
  const dispatcher = new Agent({
    connections: 16,
    connect: options.caPem ? { ca: options.caPem } : {},
  });
  const client = Client.initWithMiddleware({
    middleware: [new AuthenticationHandler(authProvider), new UndiciFetchHandler(dispatcher, options.timeoutMs ?? 100_000)],
    baseUrl: graphUrl,
    defaultVersion: 'v1.0',
    customHosts: new Set([new URL(graphUrl).hostname]),
  });
  return { client, graphUrl, grantedRoles, close: () => dispatcher.close() };
}

/** The Graph options that come from the client and the deployment settings (roles, licences). */
export function graphOptionsFor(handle: GraphClientHandle, settings: Settings): { grantedRoles: () => Promise<string[] | undefined>; licenceCount: number | undefined } {
  return { grantedRoles: handle.grantedRoles, licenceCount: settings.licenceCount };
}
