/**
 * A Microsoft Graph v1.0 simulator over HTTPS on 127.0.0.1, serving a `TenantData` through the
 * endpoints of shared/spec/graph.md with Graph's paging, throttling, `$batch` and error shapes,
 * plus fault injection for tests. Graph itself is unreachable from the build machines, so this is
 * what the collectors, the CLI demo and the benchmarks talk to.
 *
 * HTTPS is not optional: the Graph SDK follows absolute nextLinks and attaches the bearer token
 * only on https, so a self-signed certificate is generated at start and handed out (`caPem`,
 * `caPath` for NODE_EXTRA_CA_CERTS).
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import type { TenantData } from './tenant';
import { ENDPOINT_NAMES, type EndpointName, type SimFault, type SimOptions, type SimRequest, type SimResponse, type SimServer } from './types';
import { runBatch } from './batch';
import { startDnsServer, type DnsServer } from './dns-server';
import { DeltaLog } from './delta';
import { parseQuery, TokenSealer } from './paging';
import { defaultError, graphError, MALFORMED_BODY, ODATA_JSON, tooManyRequests } from './responses';
import { PlannerStore } from './planner';
import { findDrive, handleRoute, mailboxOf, matchRoute, throttleKeys, type RouteContext } from './routes';
import { directoryHeaders, formatRetryAfter, rateLimitHeaders, resolveLimits, Throttler } from './throttle';
import { rolesOfBearer } from './delta';

export type { DriveChange, EndpointName, SimFault, SimOptions, SimPlannerPlan, SimServer, ThrottleFamily, ThrottleLimit } from './types';
export { DEFAULT_PLANNER_BUCKET_ID, DEFAULT_PLANNER_BUCKET_NAME, DEFAULT_PLANNER_PLAN_ID, DEFAULT_PLANNER_PLAN_TITLE, PLANNER_CALLER_ID } from './planner';
export { DEFAULT_THROTTLE_LIMITS, directoryRuLimit, throttleModel } from './throttle';

/** The application id the simulator names in `x-ms-throttle-scope` (it does not read the token's). */
const SIM_APP_ID = '00000000-0000-0000-0000-00000000a0d1';
export type { FamilyModel, ThrottleReadings } from './throttle';

/** Largest request body accepted; Graph's own cap on JSON payloads is 4 MB. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

function sleep(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}

/** What a matching fault answers instead of the real handler. */
function faultResponse(req: SimRequest, fault: SimFault): SimResponse {
  if (fault.reset) return { status: 0, headers: {}, reset: true };
  if (fault.cut) return { status: 200, headers: { 'Content-Type': ODATA_JSON }, malformed: MALFORMED_BODY, cut: true };
  if (fault.malformed) return { status: 200, headers: { 'Content-Type': ODATA_JSON }, malformed: MALFORMED_BODY };
  const status = fault.status ?? 500;
  const def = defaultError(status);
  if (status === 429) {
    // retryAfter: undefined → 1 s, null → no header at all (how Conditional Access throttles).
    const ra = fault.retryAfter === undefined ? 1 : fault.retryAfter;
    return tooManyRequests(req, ra === null ? null : String(ra), fault.code ?? def.code, fault.message ?? def.message);
  }
  const headers: Record<string, string> = {};
  if (fault.retryAfter !== undefined && fault.retryAfter !== null) headers['Retry-After'] = String(fault.retryAfter);
  return graphError(req, status, fault.code ?? def.code, fault.message ?? def.message, headers);
}

/** True when the fault answers itself; false when it only delays or rewrites the real answer. */
function answersItself(fault: SimFault): boolean {
  return fault.status !== undefined || fault.malformed === true || fault.cut === true || fault.reset === true;
}

/**
 * The real answer with its `@odata.nextLink` rewritten by a `nextLink` fault: back to the
 * request's own URL ('loop'), or onto another origin.
 */
function rewriteNextLink(res: SimResponse, how: string, origin: string, req: SimRequest): SimResponse {
  const body = res.body as Record<string, unknown> | undefined;
  if (!body || typeof body !== 'object' || typeof body['@odata.nextLink'] !== 'string') return res;
  const link = body['@odata.nextLink'];
  const rewritten = how === 'loop' ? `${origin}${req.path}${req.query ? `?${req.query}` : ''}` : link.replace(/^https:\/\/[^/]+/, how.replace(/\/+$/, ''));
  return { ...res, body: { ...body, '@odata.nextLink': rewritten } };
}

/** Creates the self-signed certificate: RSA 2048, sha256, for 127.0.0.1 and localhost. */
async function makeCertificate(): Promise<{ key: string; cert: string }> {
  const day = 24 * 60 * 60 * 1000;
  // Valid from yesterday, so a client clock a little behind ours still accepts it.
  const notBeforeDate = new Date(Date.now() - day);
  const notAfterDate = new Date(notBeforeDate.getTime() + 30 * day);
  const pems = await generate(
    [
      { name: 'commonName', value: 'localhost' },
      { name: 'organizationName', value: 'm365-audit Graph simulator' },
    ],
    {
      keyType: 'rsa',
      keySize: 2048,
      algorithm: 'sha256',
      notBeforeDate,
      notAfterDate,
      extensions: [
        // Self-signed and handed to clients as "the CA": mark it as one so strict verifiers accept it as a trust anchor.
        { name: 'basicConstraints', cA: true, critical: true },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true, critical: true },
        { name: 'extKeyUsage', serverAuth: true },
        { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }, { type: 2, value: 'localhost' }] },
      ],
    },
  );
  return { key: pems.private, cert: pems.cert };
}

function readBody(req: IncomingMessage): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(c);
    });
    req.on('end', () => resolve(tooLarge ? 'too-large' : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function lowerHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined) continue;
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

/**
 * Starts the simulator on 127.0.0.1 (a free port unless `options.port`), after generating its
 * certificate and writing it to `caPath`. Close it with `close()`.
 */
export async function startSimulator(options: SimOptions): Promise<SimServer> {
  const pems = await makeCertificate();
  const ownCertDir = options.certDir === undefined;
  const certDir = options.certDir ?? mkdtempSync(join(tmpdir(), 'm365-graph-sim-'));
  mkdirSync(certDir, { recursive: true });
  const caPath = join(certDir, 'graph-sim-ca.pem');
  writeFileSync(caPath, pems.cert);

  let tenant: TenantData = options.tenant;
  const counts: Record<string, number> = {};
  const resetCounts = (): void => {
    for (const name of [...ENDPOINT_NAMES, 'throttled', 'total', 'resourceUnits', 'signInActivity']) counts[name] = 0;
  };
  resetCounts();
  const bump = (name: string): void => {
    counts[name] = (counts[name] ?? 0) + 1;
  };
  const agents = new Set<string>();
  const mail: Array<{ sender: string; message: unknown }> = [];
  // The caller's fault objects are kept (not copied): `times` counts down on them, so a test can
  // see how many uses a fault has left.
  let faults: SimFault[] = [...(options.faults ?? [])];
  // The compressed clock: model ms = origin + real ms elapsed × timeScale (see SimOptions.timeScale).
  // setTimeScale changes the factor between runs: model time stays continuous (buckets keep their
  // timestamps), it only advances at the new rate from then on.
  let timeScale = options.timeScale !== undefined && options.timeScale > 0 ? options.timeScale : 1;
  let clockOrigin = Date.now();
  let modelOrigin = clockOrigin;
  const modelNow = (): number => modelOrigin + (Date.now() - clockOrigin) * timeScale;
  // The directory's resource units follow the tenant's size band, read from the tenant it starts with.
  const throttler = new Throttler(resolveLimits(options.throttle, options.licenceCount, options.tenant.users.length), modelNow, options.throttleReadings);
  const sealer = new TokenSealer();
  const deltaLog = new DeltaLog();
  const planner = new PlannerStore(options.planner);
  // Model ms for Retry-After values; `sleep(latency / timeScale)` is the real wait.
  const latency = Math.max(0, options.latencyMs ?? 0);
  let realLatency = latency / timeScale;
  let batches = 0;
  let origin = '';

  const context = (): RouteContext => ({
    origin,
    tenant,
    options,
    sealer,
    deltaLog,
    recordMail: (sender, message) => mail.push({ sender, message }),
    planner,
  });

  /** The first fault with uses left that matches, decrementing its `times`. */
  const takeFault = (endpoint: EndpointName | undefined, pathAndQuery: string): SimFault | undefined => {
    for (const f of faults) {
      if (f.times !== undefined && f.times <= 0) continue;
      if (f.endpoint !== undefined && f.endpoint !== endpoint) continue;
      if (f.match) {
        f.match.lastIndex = 0; // a /g or /y RegExp would otherwise remember the last match
        if (!f.match.test(pathAndQuery)) continue;
      }
      if (f.times !== undefined) f.times -= 1;
      return f;
    }
    return undefined;
  };

  /** Routes one request (top level or batch item): count, fault, method, throttle, latency, handler. */
  const route = async (req: SimRequest): Promise<SimResponse> => {
    if (req.inBatch && req.headers['user-agent'] !== undefined) agents.add(req.headers['user-agent']);
    const routed = matchRoute(req.path);
    const endpoint = 'match' in routed ? routed.match.endpoint : undefined;
    if (endpoint) bump(endpoint);
    const fault = takeFault(endpoint, req.query ? `${req.path}?${req.query}` : req.path);
    if (fault?.delayMs) await sleep(fault.delayMs);
    if (fault && answersItself(fault)) {
      if (endpoint !== 'batch') await sleep(realLatency);
      return faultResponse(req, fault);
    }
    const answer = await serve(req, routed);
    return fault?.nextLink ? rewriteNextLink(answer, fault.nextLink, origin, req) : answer;
  };

  /** The real answer to a routed request: method, throttle, latency, handler. */
  const serve = async (req: SimRequest, routed: ReturnType<typeof matchRoute>): Promise<SimResponse> => {
    if (!('match' in routed)) {
      await sleep(realLatency);
      return graphError(req, routed.status, routed.code, routed.message);
    }
    const m = routed.match;
    if (!(m.methods as readonly string[]).includes(req.method)) {
      return graphError(req, 405, 'Request_BadRequest', 'Specified HTTP method is not allowed for the request target.');
    }
    if (m.endpoint === 'batch') {
      if (req.inBatch) return graphError(req, 400, 'BadRequest', 'A batch request cannot contain another batch request.');
      // The envelope costs no latency of its own: its items' groups do.
      batches += 1;
      // Items go through `dispatch`, so their 429s are counted and their errors contained.
      return runBatch(req, dispatch, batches);
    }
    if (req.bodyInvalid) {
      return graphError(req, 400, 'BadRequest', 'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.');
    }
    const query = parseQuery(req.query);
    if (!query) return graphError(req, 400, 'BadRequest', `Invalid query string '${req.query}'.`);
    const ctx = context();
    const keys = throttleKeys(ctx, m, query);
    const verdict = throttler.take(keys);
    if (verdict) {
      // Conditional Access throttles without Retry-After (graph.md); the rest say when to come back.
      const refused = tooManyRequests(req, verdict.family === 'conditionalAccess' ? null : formatRetryAfter(verdict.retryAfterSeconds));
      if (verdict.family === 'sharepoint') Object.assign(refused.headers, rateLimitHeaders(throttler.state('sharepoint'), true));
      const dirKey = keys.find((k) => k.family === 'directory');
      if (dirKey) {
        const scope = verdict.family === 'directory' ? { appId: SIM_APP_ID, tenantId: tenant.tenantId } : undefined;
        Object.assign(refused.headers, directoryHeaders(throttler.state('directory'), dirKey.cost ?? 1, scope));
      }
      return refused;
    }
    // Requests of the ~10-a-minute signInActivity family (routes.ts throttleKeys), counted apart from `users`.
    if (keys.some((k) => k.family === 'signInActivity')) bump('signInActivity');
    counts.resourceUnits = (counts.resourceUnits ?? 0) + keys.reduce((n, k) => n + (k.family === 'sharepoint' ? (k.cost ?? 1) : 0), 0);
    // SharePoint's draft RateLimit-* headers once 80% of the minute's resource units are spent.
    const spHeaders = keys.some((k) => k.family === 'sharepoint') ? rateLimitHeaders(throttler.state('sharepoint'), false) : {};
    const dirKey = keys.find((k) => k.family === 'directory');
    if (dirKey) Object.assign(spHeaders, directoryHeaders(throttler.state('directory'), dirKey.cost ?? 1, undefined));
    const mailbox = mailboxOf(ctx, m);
    if (mailbox !== undefined && !throttler.acquireMailbox(mailbox)) {
      // Outlook's concurrency refusal (docs silent on the body; this is what Exchange sends).
      // A slot frees when a request in flight finishes, i.e. after about one latency.
      return tooManyRequests(req, formatRetryAfter(Math.max(latency, 100) / 1000), 'ApplicationThrottled', 'Application is over its MailboxConcurrency limit.');
    }
    try {
      await sleep(realLatency);
      const answer = handleRoute(context(), req, m, query);
      Object.assign(answer.headers, spHeaders);
      return answer;
    } finally {
      if (mailbox !== undefined) throttler.releaseMailbox(mailbox);
    }
  };

  /** `route`, plus the 429 count and a 500 for anything a handler throws. */
  const dispatch = async (req: SimRequest): Promise<SimResponse> => {
    let res: SimResponse;
    try {
      res = await route(req);
    } catch (err) {
      res = graphError(req, 500, 'generalException', `Simulator error: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (res.status === 429) bump('throttled');
    return res;
  };

  const onRequest = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    bump('total');
    const headers = lowerHeaders(req);
    agents.add(headers['user-agent'] ?? '');
    const requestId = randomUUID();
    const clientRequestId = headers['client-request-id'] || requestId;
    const url = req.url ?? '/';
    const qi = url.indexOf('?');
    const simReq: SimRequest = {
      method: (req.method ?? 'GET').toUpperCase(),
      path: qi < 0 ? url : url.slice(0, qi),
      query: qi < 0 ? '' : url.slice(qi + 1),
      headers,
      body: undefined,
      requestId,
      clientRequestId,
      inBatch: false,
    };
    const roles = rolesOfBearer(headers.authorization ?? '');
    if (roles) simReq.appRoles = roles;
    let out: SimResponse;
    try {
      const raw = await readBody(req);
      const auth = headers.authorization ?? '';
      if (!/^Bearer\s+\S+/i.test(auth)) {
        out = graphError(simReq, 401, 'InvalidAuthenticationToken', auth.trim() === '' || /^Bearer\s*$/i.test(auth) ? 'Access token is empty.' : 'Access token validation failure. Invalid audience.', {
          'WWW-Authenticate': 'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"',
        });
      } else if (raw === 'too-large') {
        out = graphError(simReq, 413, 'RequestEntityTooLarge', `The request body exceeds ${MAX_BODY_BYTES} bytes.`);
      } else {
        if (raw.length > 0) {
          try {
            simReq.body = JSON.parse(raw.toString('utf8'));
          } catch {
            simReq.bodyInvalid = true;
          }
        }
        out = await dispatch(simReq);
      }
    } catch (err) {
      out = graphError(simReq, 500, 'generalException', `Simulator error: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (out.reset) {
      // A connection reset: no status line at all.
      req.socket.destroy();
      return;
    }
    const payload = out.malformed ?? (out.body === undefined ? '' : JSON.stringify(out.body));
    if (out.cut) {
      // A dropped connection: more announced than sent, then the socket goes away.
      res.writeHead(out.status, { ...out.headers, 'request-id': requestId, 'client-request-id': clientRequestId, 'Content-Length': Buffer.byteLength(payload) + 4096 });
      res.write(payload, () => res.socket?.destroy());
      return;
    }
    res.writeHead(out.status, {
      ...out.headers,
      'request-id': requestId,
      'client-request-id': clientRequestId,
      'Content-Length': Buffer.byteLength(payload),
    });
    res.end(payload);
  };

  const server: Server = createServer({ key: pems.key, cert: pems.cert }, (req, res) => {
    void onRequest(req, res);
  });
  const listen = (port: number): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  // DNS (MAIL-02) on the same port number over UDP, so that a scan knows where to ask from the
  // Graph root alone (collect/dns.ts); a free TCP port whose UDP twin is taken is given up.
  let dns: DnsServer | undefined;
  for (let attempt = 1; !dns; attempt++) {
    await listen(options.port ?? 0);
    const port = (server.address() as AddressInfo).port;
    try {
      dns = await startDnsServer({ zone: () => tenant.dnsZone ?? {}, port, tcp: false });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || options.port || attempt >= 5) {
        server.close();
        throw err;
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }
  const dnsServer = dns;
  origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const driveOrThrow = (driveId: string) => {
    const drive = findDrive(tenant, driveId);
    if (!drive) throw new Error(`Graph simulator: no drive ${driveId} in the tenant data`);
    return drive;
  };

  return {
    url: origin,
    dnsServer: dnsServer.address,
    dnsQueries: () => dnsServer.queries(),
    caPem: pems.cert,
    caPath,
    get tenant(): TenantData {
      return tenant;
    },
    set tenant(t: TenantData) {
      tenant = t;
    },
    counts: () => ({ ...counts }),
    resetCounts,
    setFaults: (f) => {
      faults = [...f];
    },
    userAgents: () => [...agents],
    sentMail: () => mail.map((m) => ({ ...m })),
    plannerTasks: () => planner.snapshot(),
    plannerPlans: () => planner.planList(),
    applyDriveChange: (driveId, change) => deltaLog.apply(driveId, driveOrThrow(driveId), change),
    expireDeltaTokens: (driveId) => {
      driveOrThrow(driveId);
      deltaLog.expire(driveId);
    },
    resetThrottling: () => throttler.reset(),
    setTimeScale: (n: number) => {
      if (!Number.isFinite(n) || n <= 0) throw new RangeError(`timeScale must be a positive number, not ${n}`);
      modelOrigin = modelNow();
      clockOrigin = Date.now();
      timeScale = n;
      realLatency = latency / timeScale;
    },
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive sockets would hold close() open until they time out.
        server.closeAllConnections();
      });
      await dnsServer.close();
      if (ownCertDir) rmSync(certDir, { recursive: true, force: true });
    },
  };
}
