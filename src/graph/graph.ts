/**
 * The one module that talks to Microsoft Graph: retries with a cap, request budgets per service
 * family, `@odata.nextLink` / `@odata.deltaLink` paging (followed verbatim, never rebuilt), and
 * `$batch` with per-item retries. Collectors never see HTTP; they get parsed JSON or a
 * {@link GraphError} whose message names the endpoint, the status, Graph's code and the fix.
 *
 * Why our own retries: the SDK's RetryHandler covers only whole requests (3 tries), not throttled
 * items inside a 200 `$batch` answer, and knows nothing of per-family budgets; Functions also have
 * a timeout, so every retry loop here has a cap on attempts.
 */
import type { Client } from '@microsoft/microsoft-graph-client';
import { ResponseType } from '@microsoft/microsoft-graph-client';
import { CredentialError, GraphError } from '../errors';
import { directoryBudget, drawsOf, familyOf, GRAPH_BUDGETS, RequestBudgets, settleProbe, type Budget, type Family, type SignInActivityReading } from './budget';
import { BATCH_ITEMS_AT_ONCE, FAMILY_CONCURRENCY, newPacing, sharedPacing, type Pacing } from './pacing';

/** Options of a {@link Graph}; everything has a production default. */
export interface GraphOptions {
  /** Attempts per request or batch item, first try included (default 5). */
  maxAttempts?: number;
  /** Request budgets per family (default: Graph's documented limits). */
  budgets?: Partial<Record<Family, Budget>>;
  /** Longest Retry-After we honour before giving up on the request (seconds, default 120). */
  maxRetryAfterSeconds?: number;
  /** Back-off when a 429/503/504 carries no Retry-After (ms, doubled per attempt; default 1000). */
  baseBackoffMs?: number;
  /**
   * Concurrent `$batch` calls in flight (default 16). Each family's pacer still decides how many
   * items run at once (a batch holds min(items, 4) of its slots): 16 batches matter only for
   * Outlook on the per-mailbox reading, where 64 inbox-rule reads may run at once (the pacer
   * starts at 4, the per-app reading, and climbs only while no 429 comes back). At 4 batches
   * (16 items) 50,000 mailboxes took over 5 minutes at 100 ms a request (issue 13).
   */
  batchConcurrency?: number;
  clock?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /**
   * The application permissions (`roles` claim) of the access token Graph is called with;
   * undefined when they cannot be read. From {@link GraphClientHandle.grantedRoles}.
   */
  grantedRoles?: () => Promise<readonly string[] | undefined>;
  /** Licences of the tenant (M365_AUDIT_LICENCE_COUNT), to size budgets that depend on it. */
  licenceCount?: number | undefined;
  /**
   * Told of every wait of {@link WAIT_NOTICE_MS} or more before a retry (a Retry-After, a
   * back-off), so that a long silent pause can be explained (the CLI prints it on stderr).
   */
  onWait?: (wait: GraphWait) => void;
  /**
   * The Graph root the client talks to (`https://host[:port]`, {@link normaliseGraphRoot}), kept
   * with stored delta links and watermarks so that state from another root is not followed.
   */
  root?: string | undefined;
  /**
   * Where the client's requests go (`https://host[:port]`), known even when `root` is left unset
   * (tests, which must not tie stored state to one simulator's port). Read only to find a
   * simulator's DNS server for MAIL-02 (collect/dns.ts); defaults to `root`.
   */
  baseUrl?: string | undefined;
  /**
   * The tenant and app this client calls Graph as. With `root`, every client of the same (root,
   * tenant, app) in this process shares one set of budgets and pacers (src/graph/pacing.ts),
   * because Graph's limits are per app per tenant; `budgets`, `clock` and `sleep` of later
   * clients are then ignored. Without it the client has its own.
   */
  share?: { tenantId: string; appId: string } | undefined;
  /**
   * Units of each window this client leaves unused per family, for another process of the same
   * app (the scan leaves 1 of the identity reports' 5 per 10 s to the sign-in watch).
   */
  headroom?: Partial<Record<Family, number>> | undefined;
}

/** A wait before a retry: what it waits for and how long. */
export interface GraphWait {
  /** e.g. `429 with Retry-After from GET /users`. */
  reason: string;
  ms: number;
  /** The attempt that comes after the wait, and the cap. */
  attempt: number;
  maxAttempts: number;
}

/** Waits this long or longer are reported through {@link GraphOptions.onWait}. */
export const WAIT_NOTICE_MS = 5000;

/** What Graph answered. `body` is parsed JSON (undefined for an empty body). */
export interface GraphResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/** One page of a collection. */
export interface Page {
  value: unknown[];
  nextLink?: string;
  deltaLink?: string;
  /** 1-based page number within this enumeration. */
  index: number;
}

/** A request inside `$batch`. `url` is relative to the version root, e.g. `/users/{id}/…`. */
export interface BatchRequest {
  id: string;
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
}

/** The final answer for one batch item after its retries. */
export interface BatchResult {
  id: string;
  status: number;
  headers: Record<string, string>;
  body: unknown;
  attempts: number;
}

/** Counters the benchmarks and the CLI progress read. */
export interface GraphStats {
  requests: number;
  batchCalls: number;
  batchItems: number;
  retries: number;
  throttled: number;
  /** Budget units spent per family, retries included (SharePoint's: resource units). */
  units: Partial<Record<Family, number>>;
}

const RETRYABLE = new Set([429, 503, 504]);

/** Application permission each endpoint needs (graph.md), quoted in 401/403 messages. */
const PERMISSIONS: ReadonlyArray<[RegExp, string]> = [
  [/^\/?domains/i, 'Domain.Read.All'],
  [/^\/?users\/[^/]+\/mailfolders/i, 'MailboxSettings.Read'],
  [/^\/?users\/[^/]+\/sendmail/i, 'Mail.Send'],
  [/^\/?users.*signinactivity/i, 'User.Read.All and AuditLog.Read.All (signInActivity needs Entra ID P1)'],
  [/^\/?users/i, 'User.Read.All'],
  [/^\/?reports\/authenticationmethods/i, 'AuditLog.Read.All (needs Entra ID P1)'],
  [/^\/?rolemanagement\/directory\/roleeligibility/i, 'RoleEligibilitySchedule.Read.Directory (needs Entra ID P2)'],
  [/^\/?rolemanagement/i, 'RoleManagement.Read.Directory'],
  [/^\/?groups/i, 'GroupMember.Read.All'],
  // "List servicePrincipals", "List appRoleAssignments granted to a service principal": Application.Read.All.
  [/^\/?serviceprincipals/i, 'Application.Read.All'],
  // "List oauth2PermissionGrants": Directory.Read.All, least privileged.
  [/^\/?oauth2permissiongrants/i, 'Directory.Read.All'],
  [/^\/?policies|^\/?identity\/conditionalaccess/i, 'Policy.Read.All'],
  // "List signIns" (v1.0) asks for both, least privileged: AuditLog.Read.All and Directory.Read.All.
  [/^\/?auditlogs/i, 'AuditLog.Read.All and Directory.Read.All (sign-ins need Entra ID P1)'],
  [/^\/?admin\/sharepoint/i, 'SharePointTenantSettings.Read.All'],
  [/^\/?(sites|drives)/i, 'Sites.Read.All'],
  // The ticket sink: "List tasks", "Create plannerTask", "Update plannerTask" (Tasks.ReadWrite.All covers all).
  [/^\/?planner/i, 'Tasks.ReadWrite.All'],
];

/** The Graph application permission that an endpoint needs, for error messages. */
export function permissionFor(path: string): string | undefined {
  return PERMISSIONS.find(([re]) => re.test(path))?.[1];
}

/** Removes the origin and long opaque tokens from a URL so it can go into messages and logs. */
export function describeEndpoint(url: string): string {
  const path = url.replace(/^https:\/\/[^/]+\/(v1\.0|beta)/i, '');
  return path.replace(/(\$skiptoken=|token=)[^&)]+/gi, '$1…').slice(0, 200);
}

/** A URL's path and query relative to the version root, decoded where it can be. */
function familyOfUrlPath(url: string): string {
  const path = url.replace(/^https:\/\/[^/]+\/(v1\.0|beta)/i, '');
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

/** The budget family of a URL or path, read from the whole of it (encoded or not). */
export function familyOfUrl(url: string): Family {
  const path = url.replace(/^https:\/\/[^/]+\/(v1\.0|beta)/i, '');
  try {
    return familyOf(decodeURIComponent(path));
  } catch {
    return familyOf(path);
  }
}

/** Parses a Retry-After header (seconds, possibly fractional, or an HTTP date) into ms. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function errorOf(body: unknown): { code?: string; message?: string } {
  if (body && typeof body === 'object' && 'error' in body) {
    const e = (body as { error: unknown }).error;
    if (e && typeof e === 'object') {
      const { code, message } = e as { code?: unknown; message?: unknown };
      return {
        ...(typeof code === 'string' && code ? { code } : {}),
        ...(typeof message === 'string' ? { message } : {}),
      };
    }
  }
  return {};
}

function headerRecord(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((v, k) => {
    out[k.toLowerCase()] = v;
  });
  return out;
}

function lowerKeys(headers: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (headers && typeof headers === 'object') {
    for (const [k, v] of Object.entries(headers)) if (typeof v === 'string' || typeof v === 'number') out[k.toLowerCase()] = String(v);
  }
  return out;
}

/**
 * Builds the error for a final non-2xx answer: endpoint, status, Graph's code and message, and
 * what to do (the permission to grant for 401/403, waiting for 429/5xx).
 */
export function graphErrorFor(method: string, url: string, status: number, body: unknown): GraphError {
  const endpoint = describeEndpoint(url);
  const { code, message } = errorOf(body);
  let fix = '';
  if (status === 401) fix = ' — the access token was refused: check AZURE_TENANT_ID / AZURE_CLIENT_ID and the credential';
  else if (status === 403) {
    const perm = permissionFor(endpoint);
    fix = perm ? ` — grant the app the Graph application permission ${perm} and admin-consent it` : ' — the app lacks a permission or licence for this endpoint';
  } else if (status === 429 || status === 503 || status === 504) fix = ' — Graph kept throttling or was unavailable after every retry; run again later';
  const detail = [code, message].filter(Boolean).join(': ');
  return new GraphError(`${method} ${endpoint} answered ${status}${detail ? ` (${detail})` : ''}${fix}`, {
    status,
    code,
    endpoint,
  });
}

/**
 * Graph access for collectors. One instance per scan: it owns the counters; the budgets and
 * pacers are its own, or shared with every client of the same root, tenant and app in the
 * process ({@link GraphOptions.share}, src/graph/pacing.ts).
 */
export class Graph {
  readonly stats: GraphStats = { requests: 0, batchCalls: 0, batchItems: 0, retries: 0, throttled: 0, units: {} };
  /** Set once no token could be had: every later request fails at once with it (the run stops). */
  fatal: CredentialError | undefined;
  /** Set once the Graph host's certificate was not trusted: every later request fails with it. */
  untrusted: GraphError | undefined;
  private readonly maxAttempts: number;
  private readonly maxRetryAfterMs: number;
  private readonly baseBackoffMs: number;
  private readonly batchConcurrency: number;
  private readonly clock: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly budgets: RequestBudgets;
  private readonly pacing: Pacing;
  private readonly headroom: Partial<Record<Family, number>>;
  private readonly budgetOf: (family: Family) => Budget;
  private readonly rolesOf: (() => Promise<readonly string[] | undefined>) | undefined;
  private readonly onWait: ((wait: GraphWait) => void) | undefined;
  /** The tenant's licence count when configured (sizes SharePoint's resource-unit budget). */
  readonly licenceCount: number | undefined;
  /** The Graph root (origin) of the client, when known; undefined: state is not checked against it. */
  readonly root: string | undefined;
  /** Where requests go (GraphOptions.baseUrl, else `root`); undefined when not told. */
  readonly baseUrl: string | undefined;

  constructor(
    private readonly client: Client,
    options: GraphOptions = {},
  ) {
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 5);
    this.maxRetryAfterMs = (options.maxRetryAfterSeconds ?? 120) * 1000;
    this.baseBackoffMs = options.baseBackoffMs ?? 1000;
    this.batchConcurrency = Math.max(1, options.batchConcurrency ?? 16);
    this.clock = options.clock ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    // Directory resource units follow the tenant's size band (users; the licence count stands in
    // for it when configured, else band S, the strictest).
    const budgets = { ...GRAPH_BUDGETS, directory: directoryBudget(options.licenceCount), ...options.budgets };
    // Clock seam: `clock` and `sleep` (here and in RequestBudgets) are the client's only time reads.
    const own = (): RequestBudgets => new RequestBudgets(budgets, this.clock, this.sleep);
    // Outlook's ceiling is what `batchConcurrency` batches can hold (4 items of each at once).
    const concurrency = { ...FAMILY_CONCURRENCY, outlook: { ...FAMILY_CONCURRENCY.outlook, cap: Math.max(FAMILY_CONCURRENCY.outlook.cap, this.batchConcurrency * BATCH_ITEMS_AT_ONCE) } };
    this.pacing = options.share && options.root ? sharedPacing({ root: options.root, ...options.share }, own, concurrency) : newPacing(own(), concurrency);
    this.budgets = this.pacing.budgets;
    this.headroom = options.headroom ?? {};
    this.budgetOf = (family) => this.budgets.budgetOf(family);
    this.rolesOf = options.grantedRoles;
    this.onWait = options.onWait;
    this.root = options.root;
    this.baseUrl = options.baseUrl ?? options.root;
    this.licenceCount = options.licenceCount;
  }

  /** Replaces a family's budget for the rest of the scan (SharePoint's, sized to the tenant). */
  setBudget(family: Family, budget: Budget): void {
    this.budgets.setBudget(family, budget);
  }

  /** The family's current budget. */
  budget(family: Family): Budget {
    return this.budgetOf(family);
  }

  /**
   * Where the signInActivity reading of this client's budgets stands, and how many probes were
   * sent (src/graph/budget.ts, RequestBudgets; shared by every client of the same app and tenant).
   */
  signInActivityReading(): { reading: SignInActivityReading; probes: number } {
    return { reading: this.budgets.signInActivityReading, probes: this.budgets.probesSent };
  }

  /**
   * The application permissions granted to the app, read from its access token's `roles` claim
   * (never the token itself); undefined when unknown.
   */
  async grantedRoles(): Promise<readonly string[] | undefined> {
    try {
      return this.rolesOf ? await this.rolesOf() : undefined;
    } catch {
      return undefined;
    }
  }

  /** Sleeps before retry `attempt`, telling {@link GraphOptions.onWait} of a long wait first. */
  private async waitBeforeRetry(ms: number, reason: string, attempt: number): Promise<void> {
    if (ms >= WAIT_NOTICE_MS) this.onWait?.({ reason, ms, attempt, maxAttempts: this.maxAttempts });
    await this.sleep(ms);
  }

  private spend(family: Family, cost: number): void {
    this.stats.units[family] = (this.stats.units[family] ?? 0) + cost;
  }

  /**
   * SharePoint's draft RateLimit-* headers (sent when an app nears its resource-unit budget,
   * "Avoid getting throttled or blocked in SharePoint Online"): pace the family by them.
   */
  private observeRateLimit(family: Family, headers: Record<string, string>): void {
    // Entra ID sends x-ms-throttle-limit-percentage once an app has used more than 0.8 of its
    // directory resource units ("Identity and access service limits", "Other headers"): another
    // client of the same app (another process) is drawing too, so this one keeps to what is left
    // of the window, and to nothing at 1.0 or more.
    const used = Number(headers['x-ms-throttle-limit-percentage']);
    if (headers['x-ms-throttle-limit-percentage'] !== undefined && Number.isFinite(used)) {
      const budget = this.budgets.budgetOf('directory');
      this.budgets.observe('directory', Math.floor(Math.max(0, 1 - used) * budget.limit), this.clock() + budget.perSeconds * 1000);
    }
    const remaining = headers['ratelimit-remaining'];
    if (remaining === undefined) return;
    const reset = Number(headers['ratelimit-reset'] ?? '60');
    this.budgets.observe(family, Number(remaining), this.clock() + (Number.isFinite(reset) ? reset : 60) * 1000);
  }

  /**
   * Sends one request, retrying 429/503/504 (honouring Retry-After) and network failures up to
   * the attempt cap. Returns the final answer whatever its status; throws only when no answer
   * could be had or the body is not JSON.
   */
  async send(
    method: BatchRequest['method'],
    url: string,
    options: { headers?: Record<string, string>; body?: unknown; idempotent?: boolean; retryStatuses?: boolean; paced?: boolean } = {},
  ): Promise<GraphResponse> {
    // The whole path and query (not the shortened one of messages): `signInActivity` may come
    // late in a long `$select`.
    const family = familyOfUrl(url);
    // A request that creates something (POST /planner/tasks) may have been carried out when the
    // answer was a gateway timeout or a dropped connection; retrying it could create it twice.
    // 429 and 503 mean it was not processed, so those are always retried.
    const idempotent = options.idempotent ?? method !== 'POST';
    const draws = drawsOf(familyOfUrlPath(url), method);
    // `paced: false`: the caller holds the slots ($batch envelopes: batchChunk, by its items' family).
    const pacer = options.paced === false ? undefined : this.pacing.pacer(family);
    let refreshed = false;
    for (let attempt = 1; ; attempt++) {
      if (this.fatal) throw this.fatal;
      if (this.untrusted) throw this.untrusted;
      // A slot first, then the budget: a start is recorded when the request really goes out.
      const slot = pacer ? await pacer.acquire(1) : undefined;
      // A signInActivity page or a report may go out as the probe of the signInActivity reading
      // (budget.ts, RequestBudgets): its answer settles it.
      const probe = await this.budgets.acquireDraws(draws, this.headroom);
      // The shared draw is the identity reports' accounting of a signInActivity page, not a unit of its own.
      for (const d of draws) if (!d.shared) this.spend(d.family, d.cost);
      this.stats.requests++;
      let response: Response;
      try {
        let request = this.client.api(url).responseType(ResponseType.RAW);
        if (options.headers) request = request.headers(options.headers);
        response = (await (method === 'GET'
          ? request.get()
          : method === 'POST'
            ? request.post(options.body ?? {})
            : method === 'PATCH'
              ? request.patch(options.body ?? {})
              : request.delete())) as Response;
      } catch (err) {
        settleProbe(probe, 0);
        if (pacer && slot) pacer.release(slot, { throttled: 0, succeeded: 0 });
        // A credential failure is not a network failure: retrying cannot cure it.
        const credential = credentialErrorOf(err);
        if (credential) {
          this.fatal = credential;
          throw credential;
        }
        // An untrusted certificate is not a passing failure either: say so once, retry nothing.
        const untrusted = tlsTrustErrorOf(err, method, url);
        if (untrusted) {
          this.untrusted = untrusted;
          throw untrusted;
        }
        if (attempt >= this.maxAttempts || !idempotent) {
          throw new GraphError(
            `${method} ${describeEndpoint(url)}: no answer from Microsoft Graph after ${attempt} attempt(s) (${(err as Error).message}) — check the network and --graph-url`,
            { status: 0, endpoint: describeEndpoint(url) },
            { cause: err },
          );
        }
        this.stats.retries++;
        await this.waitBeforeRetry(this.baseBackoffMs * 2 ** (attempt - 1), `no answer from ${method} ${describeEndpoint(url).split('?')[0]}`, attempt + 1);
        continue;
      }
      settleProbe(probe, response.status);
      if (pacer && slot) pacer.release(slot, { throttled: response.status === 429 ? 1 : 0, succeeded: response.status === 429 ? 0 : 1 });
      const headers = headerRecord(response.headers);
      this.observeRateLimit(family, headers);
      // 401 InvalidAuthenticationToken: the token expired in flight or was revoked ("Microsoft
      // Graph error responses": 401 "Required authentication information is either missing or
      // not valid"). Sent again once with the token the credential hands out now (MSAL refreshes
      // an expired one); a second 401 is final and names the credential.
      if (response.status === 401 && !refreshed && attempt < this.maxAttempts) {
        const body401 = await this.readJsonLenient(response);
        if (errorOf(body401).code === 'InvalidAuthenticationToken' || errorOf(body401).code === undefined) {
          refreshed = true;
          this.stats.retries++;
          continue;
        }
        return { status: response.status, headers, body: body401 };
      }
      // `retryStatuses: false`: the caller retries answers itself ($batch envelopes, with their items).
      const retryable = options.retryStatuses !== false && RETRYABLE.has(response.status) && (idempotent || response.status !== 504);
      if (retryable && attempt < this.maxAttempts) {
        // Decide before reading the body: a Retry-After beyond the cap returns this answer as is.
        const wait = this.retryDelay(response.status, headers['retry-after'], attempt, family);
        if (wait !== undefined) {
          await response.arrayBuffer().catch(() => undefined);
          this.stats.retries++;
          await this.waitBeforeRetry(wait, `${response.status}${headers['retry-after'] !== undefined ? ' with Retry-After' : ''} from ${method} ${describeEndpoint(url).split('?')[0]}`, attempt + 1);
          continue;
        }
      }
      // An answer the caller retries itself (a refused $batch envelope) may come from a gateway
      // as HTML: its body must not decide whether it is retried.
      let body: unknown;
      try {
        body = options.retryStatuses === false && (response.status < 200 || response.status >= 300)
          ? await this.readJsonLenient(response)
          : await this.readJson(response, method, url, headers);
      } catch (err) {
        if (!(err instanceof BodyCutError)) throw err;
        // The connection dropped mid-answer: transient, like a failure before the answer. A
        // complete body that is not JSON (a broken proxy) is not retried: readJson's GraphError.
        if (attempt < this.maxAttempts && idempotent) {
          this.stats.retries++;
          await this.waitBeforeRetry(this.baseBackoffMs * 2 ** (attempt - 1), `the answer of ${method} ${describeEndpoint(url).split('?')[0]} was cut off`, attempt + 1);
          continue;
        }
        throw new GraphError(
          `${method} ${describeEndpoint(url)}: the answer was cut off mid-body after ${attempt} attempt(s) (${err.message}) — the connection dropped each time; check the network (a proxy cutting long answers?) and run again`,
          { status: response.status, endpoint: describeEndpoint(url) },
          { cause: err },
        );
      }
      return { status: response.status, headers, body };
    }
  }

  /** GET that must succeed: returns the JSON body or throws a {@link GraphError}. */
  async get(url: string, headers?: Record<string, string>): Promise<unknown> {
    const res = await this.send('GET', url, headers ? { headers } : {});
    if (res.status < 200 || res.status >= 300) throw graphErrorFor('GET', url, res.status, res.body);
    return res.body;
  }

  /**
   * Pages through a collection, following `@odata.nextLink` verbatim until a page has none, and
   * yields each page as it arrives (so large collections can be processed as a stream). The last
   * page carries `deltaLink` when Graph returned one.
   */
  async *pages(url: string, headers?: Record<string, string>): AsyncGenerator<Page> {
    let next: string | undefined = url;
    let index = 0;
    const seen = new Set<string>();
    while (next) {
      if (index > 0) this.checkLinkHost(next, url);
      // Relative and absolute spellings of one URL are one link (a loop back to page 1 is a loop).
      const key = linkKey(next);
      if (seen.has(key)) {
        throw new GraphError(`GET ${describeEndpoint(url)}: Graph returned the same @odata.nextLink twice; stopping to avoid an endless loop`, {
          status: 200,
          endpoint: describeEndpoint(url),
        });
      }
      seen.add(key);
      const body = await this.get(next, headers);
      index++;
      if (!body || typeof body !== 'object' || !Array.isArray((body as { value?: unknown }).value)) {
        throw new GraphError(`GET ${describeEndpoint(next)}: expected a collection with a "value" array, got ${describeShape(body)}`, {
          status: 200,
          endpoint: describeEndpoint(next),
        });
      }
      const b = body as { value: unknown[]; '@odata.nextLink'?: unknown; '@odata.deltaLink'?: unknown };
      const nextLink = typeof b['@odata.nextLink'] === 'string' ? b['@odata.nextLink'] : undefined;
      const deltaLink = typeof b['@odata.deltaLink'] === 'string' ? b['@odata.deltaLink'] : undefined;
      yield { value: b.value, index, ...(nextLink ? { nextLink } : {}), ...(deltaLink ? { deltaLink } : {}) };
      next = nextLink;
    }
  }

  /**
   * Refuses a nextLink that leaves the Graph root: the SDK attaches the bearer token to every
   * request whose host name is a Graph host or a custom host (the port is not compared), so a
   * link to another port or host could hand the token out. Graph's own nextLinks always stay on
   * the host that was called ("Paging Microsoft Graph data in your app": use the URL as is).
   * Without a known root only non-https links are refused.
   */
  private checkLinkHost(link: string, first: string): void {
    if (!/^[a-z][a-z0-9+.-]*:/i.test(link)) return;
    let origin: string;
    try {
      origin = new URL(link).origin;
    } catch {
      origin = '';
    }
    const expected = this.root ? new URL(this.root).origin : undefined;
    if (!link.toLowerCase().startsWith('https://') || (expected !== undefined && origin !== expected)) {
      throw new GraphError(
        `GET ${describeEndpoint(first)}: Graph returned an @odata.nextLink to another host (${origin || 'an unreadable URL'}, not ${expected ?? 'https'}); not followed, and the access token was not sent there — check --graph-url and any proxy rewriting answers`,
        { status: 200, endpoint: describeEndpoint(first) },
      );
    }
  }

  /** Reads a whole collection into memory (for small ones: domains, roles, policies). */
  async all(url: string, headers?: Record<string, string>): Promise<unknown[]> {
    const out: unknown[] = [];
    for await (const page of this.pages(url, headers)) out.push(...page.value);
    return out;
  }

  /**
   * Runs requests through `POST /$batch`, 20 per call and `batchConcurrency` calls in flight.
   * Items answered 429/503/504 are retried in a later batch after the longest Retry-After among
   * them, up to the attempt cap; every other status is final and returned to the caller (who
   * decides what a 404 means). A refused envelope (429, 5xx, 424) is retried whole under the same
   * cap; past it, every item of that batch comes back with the envelope's answer. Results come
   * back in request order.
   */
  /** A family's adaptive concurrency now: requests allowed in flight, and its ceiling (tests, the bench). */
  concurrencyOf(family: Family): { allowed: number; cap: number; decreases: number } {
    const p = this.pacing.pacer(family);
    return { allowed: p.allowed, cap: p.limit.cap, decreases: p.decreases };
  }

  async batch(requests: readonly BatchRequest[]): Promise<BatchResult[]> {
    const results = new Map<string, BatchResult>();
    await this.batchEach(requests, (r) => {
      results.set(r.id, r);
    });
    return requests.map((r) => results.get(r.id) as BatchResult);
  }

  /**
   * Like {@link batch}, but hands each final answer to `onResult` as its batch completes and
   * keeps none of them: memory stays at one batch per call in flight, whatever the number of
   * requests (50,000 mailboxes' inbox rules).
   */
  async batchEach(requests: readonly BatchRequest[], onResult: (result: BatchResult) => void | Promise<void>): Promise<void> {
    const ids = new Set<string>();
    for (const r of requests) {
      const id = r.id.toLowerCase();
      if (ids.has(id)) throw new GraphError(`$batch: duplicate request id ${r.id} (ids are not case-sensitive)`, { status: 0, endpoint: '/$batch' });
      ids.add(id);
    }
    // Pacing by the family of the requests (src/graph/pacing.ts): a batch in flight holds
    // min(items, 4) of its family's slots. While a full batch fits, batches of 20 go out; when
    // fewer than 4 slots are free beside the batches in flight (the pacer has just added one), a
    // batch of only that many items probes the higher concurrency, so that a probe the service
    // refuses costs one 429, not a whole batch of them. Mixed batches pace by their first item.
    const family = requests[0] ? familyOf(requests[0].url) : 'global';
    const pacer = this.pacing.pacer(family);
    const workers = Math.min(this.batchConcurrency, Math.ceil(requests.length / 20));
    let cursor = 0;
    const worker = async (): Promise<void> => {
      while (cursor < requests.length) {
        await pacer.room();
        if (cursor >= requests.length) return;
        // Another worker may have claimed the room since: look again.
        if (pacer.inFlight > 0 && pacer.free() < 1) continue;
        const free = pacer.free();
        // A small probing batch only beside a full batch in flight, and only while the family can
        // still grow; otherwise a full batch, which waits in batchChunk until its slots are free
        // (behind a retry holding one, say). At its ceiling (SharePoint's 16 from the start) a
        // few free slots are not a probe: filling them with 1-item batches sent one envelope per
        // permission read (43,665 envelopes for 42,014 reads at 10,000 users).
        const probe = pacer.inFlight >= BATCH_ITEMS_AT_ONCE && free < BATCH_ITEMS_AT_ONCE && pacer.allowed < pacer.limit.cap;
        const size = probe ? free : 20;
        const chunk = requests.slice(cursor, cursor + size);
        cursor += chunk.length;
        const results = await this.batchChunk(chunk, family);
        for (const r of results) await onResult(r);
      }
    };
    await Promise.all(Array.from({ length: workers }, worker));
  }

  private async batchChunk(chunk: readonly BatchRequest[], family: Family): Promise<BatchResult[]> {
    const done = new Map<string, BatchResult>();
    const pacer = this.pacing.pacer(family);
    let pending = [...chunk];
    for (let attempt = 1; pending.length; attempt++) {
      // Each attempt claims its slots anew: a retry after a 429 waits until the halved
      // concurrency has room, instead of colliding again with the batches in flight.
      const slot = await pacer.acquire(Math.min(pending.length, BATCH_ITEMS_AT_ONCE));
      let outcome = { throttled: 0, succeeded: 0 };
      // Budget each item by its own family (an inbox-rule item is an Outlook request). Items are
      // never the signInActivity reading's probe: a batch goes out only once every item has its
      // budget, and a probe must go out the moment it is chosen (budget.ts, RequestBudgets).
      for (const r of pending) {
        const draws = drawsOf(r.url, r.method);
        await this.budgets.acquireDraws(draws, this.headroom, { mayProbe: false });
        for (const d of draws) if (!d.shared) this.spend(d.family, d.cost);
      }
      this.stats.batchCalls++;
      this.stats.batchItems += pending.length;
      // A batch of reads may be sent again; one that writes may not.
      const idempotent = pending.every((r) => r.method === 'GET');
      let res: GraphResponse;
      try {
        res = await this.send('POST', '/$batch', {
        idempotent,
        retryStatuses: false,
        paced: false,
        body: {
          requests: pending.map((r) => ({
            id: r.id,
            method: r.method,
            url: r.url.startsWith('/') ? r.url : `/${r.url}`,
            ...(r.headers ? { headers: r.headers } : {}),
            ...(r.body !== undefined ? { body: r.body, headers: { 'Content-Type': 'application/json', ...r.headers } } : {}),
          })),
        },
      });
      } catch (err) {
        pacer.release(slot, outcome);
        throw err;
      }
      if (res.status !== 200) {
        pacer.release(slot, { throttled: res.status === 429 ? 1 : 0, succeeded: 0 });
        // The envelope itself was refused (429, 5xx, 424): the whole batch is retried under the
        // rules of any request (Retry-After, attempt cap). When no retry is left, each item fails
        // with that answer, so the caller marks those items failed (partial coverage) instead of
        // losing its whole area to one thrown error.
        const wait = this.envelopeRetryDelay(res, attempt, idempotent, pending);
        if (wait !== undefined) {
          this.stats.retries++;
          await this.waitBeforeRetry(wait, `${res.status}${res.headers['retry-after'] !== undefined ? ' with Retry-After' : ''} from POST /$batch`, attempt + 1);
          continue;
        }
        // Status 0, never the envelope's own: a 404 from a proxy must not read as "this item is
        // gone" (the files collector would drop a tracked shared item on it), nor a 403 as "no
        // permission for this item". The envelope's status is kept in the error for the detail.
        const { code } = errorOf(res.body);
        const failed = {
          error: {
            code: 'batchEnvelopeFailed',
            message: `the $batch request itself answered ${res.status}${code ? ` (${code})` : ''} after ${attempt} attempt(s); this item was not answered`,
          },
        };
        for (const r of pending) done.set(r.id, { id: r.id, status: 0, headers: res.headers, body: failed, attempts: attempt });
        break;
      }
      let answered: ReturnType<typeof parseBatchResponses>;
      try {
        answered = parseBatchResponses(res.body);
      } catch (err) {
        pacer.release(slot, outcome);
        throw err;
      }
      const throttledItems = pending.filter((r) => answered.get(r.id.toLowerCase())?.status === 429).length;
      outcome = { throttled: throttledItems, succeeded: pending.length - throttledItems };
      pacer.release(slot, outcome);
      const retry: BatchRequest[] = [];
      let waitMs = 0;
      for (const r of pending) {
        const item = answered.get(r.id.toLowerCase());
        if (item) this.observeRateLimit(familyOf(r.url), item.headers);
        if (!item || RETRYABLE.has(item.status)) {
          const wait = item ? parseRetryAfter(item.headers['retry-after'], this.clock()) : undefined;
          if (attempt < this.maxAttempts && (wait === undefined || wait <= this.maxRetryAfterMs)) {
            retry.push(r);
            waitMs = Math.max(waitMs, wait ?? this.baseBackoffMs * 2 ** (attempt - 1));
            if (item?.status === 429) this.stats.throttled++;
            if (item && this.isThrottle(item.status, item.headers['retry-after'])) this.budgets.penalise(familyOf(r.url), this.clock() + (wait ?? 0));
            continue;
          }
          done.set(r.id, item ? { ...item, id: r.id, attempts: attempt } : { id: r.id, status: 0, headers: {}, body: { error: { code: 'missingBatchItem', message: 'the $batch answer had no response for this item' } }, attempts: attempt });
          continue;
        }
        done.set(r.id, { ...item, id: r.id, attempts: attempt });
      }
      pending = retry;
      if (pending.length) {
        this.stats.retries += pending.length;
        await this.waitBeforeRetry(waitMs, `${pending.length} throttled $batch item(s) (${[...new Set(pending.map((r) => `/${r.url.replace(/^\//, '').split(/[/?]/)[0]}`))].join(', ')})`, attempt + 1);
      }
    }
    return chunk.map((r) => done.get(r.id) as BatchResult);
  }

  /**
   * How long to wait before sending a refused `$batch` envelope again, or undefined when it must
   * not be (attempt cap, a Retry-After beyond the cap, a status that is final). 429 and 503 mean
   * nothing was processed; 500/502/504/424 are retried only for batches of reads.
   */
  private envelopeRetryDelay(res: GraphResponse, attempt: number, idempotent: boolean, items: readonly BatchRequest[]): number | undefined {
    if (attempt >= this.maxAttempts) return undefined;
    const always = res.status === 429 || res.status === 503;
    const readsOnly = res.status === 500 || res.status === 502 || res.status === 504 || res.status === 424;
    if (!always && !(readsOnly && idempotent)) return undefined;
    const wait = this.retryDelay(res.status, res.headers['retry-after'], attempt, familyOfUrl('/$batch'));
    // A throttled envelope throttles what it carried: hold back the items' own families too.
    if (wait !== undefined && this.isThrottle(res.status, res.headers['retry-after'])) {
      for (const family of new Set(items.map((r) => familyOf(r.url)))) this.budgets.penalise(family, this.clock() + wait);
    }
    return wait;
  }

  /** 429, or a 503 that says when to come back (SharePoint throttles with both). */
  private isThrottle(status: number, retryAfter: string | undefined): boolean {
    return status === 429 || (status === 503 && parseRetryAfter(retryAfter, this.clock()) !== undefined);
  }

  private retryDelay(status: number, retryAfter: string | undefined, attempt: number, family: Family): number | undefined {
    const now = this.clock();
    const fromHeader = parseRetryAfter(retryAfter, now);
    if (fromHeader !== undefined && fromHeader > this.maxRetryAfterMs) return undefined;
    // Conditional Access answers 429 without Retry-After: back off exponentially instead, and
    // never sooner than the family's own pace (1 s for Conditional Access), or every retry would
    // land inside the same throttling window.
    const budget = this.budgetOf(family);
    const wait = fromHeader ?? Math.max(this.baseBackoffMs * 2 ** (attempt - 1), status === 429 ? Math.ceil((budget.perSeconds * 1000) / budget.limit) : 0);
    if (status === 429) this.stats.throttled++;
    if (this.isThrottle(status, retryAfter)) this.budgets.penalise(family, now + wait);
    return wait;
  }

  /** The JSON body of an error answer, or undefined when it has none or it is not JSON. */
  private async readJsonLenient(response: Response): Promise<unknown> {
    const text = await response.text().catch(() => '');
    try {
      return text.trim() === '' ? undefined : JSON.parse(text);
    } catch {
      return undefined;
    }
  }

  private async readJson(response: Response, method: string, url: string, headers: Record<string, string> = {}): Promise<unknown> {
    let text: string;
    try {
      text = await response.text();
    } catch (err) {
      // undici fails the body read with `TypeError: terminated` when the connection closes
      // before the announced body arrived (nodejs/undici#1688).
      throw new BodyCutError(`${(err as Error).message}${(err as Error).cause instanceof Error ? `: ${((err as Error).cause as Error).message}` : ''}`, { cause: err });
    }
    // Fewer bytes than announced (an uncompressed body): cut off, even if the reader did not notice.
    const announced = Number(headers['content-length']);
    if (!headers['content-encoding'] && Number.isFinite(announced) && Buffer.byteLength(text) < announced) {
      throw new BodyCutError(`${Buffer.byteLength(text)} of ${announced} bytes`);
    }
    if (text.trim() === '') return undefined;
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new GraphError(
        `${method} ${describeEndpoint(url)} answered ${response.status} with a body that is not valid JSON (${(err as Error).message}; ${text.length} bytes) — a proxy or Graph returned a broken response; run again, and report it if it persists`,
        { status: response.status, endpoint: describeEndpoint(url) },
        { cause: err },
      );
    }
  }
}

/**
 * The {@link CredentialError} behind an SDK failure, if it is one. The SDK rewraps what the auth
 * provider throws into its own GraphError, keeping only the name (as `code`) and the message.
 */
/**
 * OpenSSL's verification codes (as Node reports them on the TLS socket error, which undici's
 * `fetch failed` TypeError carries as its cause) that mean "this certificate's issuer is not
 * trusted here": the simulator's own CA not given, or a TLS-inspecting proxy's CA not installed.
 */
const UNTRUSTED_CERT_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
]);

/** Other certificate failures: not a trust-store problem, but no retry cures them either. */
const BAD_CERT_CODES = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_REVOKED']);

/**
 * The error for a request that failed because the server's certificate was refused, or undefined
 * for any other failure. The cause chain is searched (undici wraps the socket error).
 */
export function tlsTrustErrorOf(err: unknown, method: string, url: string): GraphError | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 6 && e && typeof e === 'object'; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (UNTRUSTED_CERT_CODES.has(code) || BAD_CERT_CODES.has(code))) {
      const endpoint = describeEndpoint(url);
      // Collectors pass paths; nextLinks are absolute and name their host.
      const host = /^https:\/\/([^/]+)/i.exec(url)?.[1] ?? 'the Graph host (--graph-url)';
      const fix = UNTRUSTED_CERT_CODES.has(code)
        ? `the certificate of ${host} is not trusted (TLS trust problem, ${code}) — for the simulator, set NODE_EXTRA_CA_CERTS to the CA file \`m365-audit sim\` prints; behind a TLS-inspecting proxy, set NODE_EXTRA_CA_CERTS to the proxy's CA certificate (PEM)`
        : `the certificate of ${host} was refused (${code}) — check the system clock and that --graph-url names the host the certificate is for`;
      return new GraphError(`${method} ${endpoint}: ${fix}; not retried`, { status: 0, code, endpoint }, { cause: err });
    }
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** A link without its origin and version, so that `/users?…` and `https://host/v1.0/users?…` compare equal. */
function linkKey(link: string): string {
  const path = link.replace(/^https:\/\/[^/]+\/(v1\.0|beta)/i, '');
  return path.startsWith('/') ? path : `/${path}`;
}

/** A response body that stopped before its end (a dropped connection): retried like no answer. */
class BodyCutError extends Error {}

function credentialErrorOf(err: unknown): CredentialError | undefined {
  if (err instanceof CredentialError) return err;
  const e = err as { code?: unknown; name?: unknown; message?: unknown } | null;
  if (e && (e.code === 'CredentialError' || e.name === 'CredentialError') && typeof e.message === 'string') return new CredentialError(e.message, { cause: err });
  return undefined;
}

function parseBatchResponses(body: unknown): Map<string, Omit<BatchResult, 'attempts'>> {
  const out = new Map<string, Omit<BatchResult, 'attempts'>>();
  const responses = body && typeof body === 'object' ? (body as { responses?: unknown }).responses : undefined;
  if (!Array.isArray(responses)) {
    throw new GraphError(`POST /$batch: expected {"responses": [...]}, got ${describeShape(body)}`, { status: 200, endpoint: '/$batch' });
  }
  for (const r of responses) {
    if (!r || typeof r !== 'object') continue;
    const { id, status, headers, body: itemBody } = r as { id?: unknown; status?: unknown; headers?: unknown; body?: unknown };
    if (typeof id !== 'string' || typeof status !== 'number') continue;
    // Ids are not case-sensitive (json-batching.md).
    out.set(id.toLowerCase(), { id, status, headers: lowerKeys(headers), body: itemBody });
  }
  return out;
}

/** A short description of a value's shape for error messages (never its content). */
export function describeShape(value: unknown): string {
  if (value === undefined) return 'an empty body';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return `an object with keys ${Object.keys(value).slice(0, 5).join(', ') || '(none)'}`;
  return `a ${typeof value}`;
}
