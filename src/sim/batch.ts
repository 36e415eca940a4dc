/**
 * `POST /$batch` (concepts/json-batching.md, reference/graph/09-batch.json): at most 20 requests
 * with unique ids, each dispatched through the same router as a top-level request (so faults,
 * throttling and counts apply per item), answered in one 200 whose `responses` come in a
 * different order than the requests, as Graph warns they may.
 */
import { randomUUID } from 'node:crypto';
import type { SimRequest, SimResponse } from './types';
import { graphError, jsonOk, ODATA_JSON } from './responses';

/** Graph's cap on requests per batch. */
export const MAX_BATCH_REQUESTS = 20;

/**
 * Items run in groups of this many, one group after another: Outlook runs at most 4 requests of
 * a batch in parallel, so a batch of 20 costs five rounds of latency. Applied to every item
 * rather than only to Outlook ones, which keeps the cost model simple and errs on the slow side.
 */
export const BATCH_PARALLELISM = 4;

interface BatchItem {
  id: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
  dependsOn: string[];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function badBatch(req: SimRequest, message: string): SimResponse {
  return graphError(req, 400, 'BadRequest', message);
}

/** Validates one request of the batch; a string is the reason the whole batch is refused. */
function parseItem(raw: unknown, index: number): BatchItem | string {
  if (!isObject(raw)) return `Invalid batch payload format: request ${index} is not an object.`;
  const { id, method, url } = raw;
  if (typeof id !== 'string' || id === '') return `Invalid batch payload format: request ${index} has no string 'id'.`;
  if (typeof method !== 'string' || method === '') return `Invalid batch payload format: request '${id}' has no 'method'.`;
  if (typeof url !== 'string' || url === '') return `Invalid batch payload format: request '${id}' has no 'url'.`;
  const headers: Record<string, string> = {};
  if (raw.headers !== undefined) {
    if (!isObject(raw.headers)) return `Invalid batch payload format: request '${id}' has invalid 'headers'.`;
    for (const [k, v] of Object.entries(raw.headers)) if (typeof v === 'string') headers[k.toLowerCase()] = v;
  }
  let dependsOn: string[] = [];
  if (raw.dependsOn !== undefined) {
    if (!Array.isArray(raw.dependsOn) || !raw.dependsOn.every((d): d is string => typeof d === 'string')) {
      return `Invalid batch payload format: request '${id}' has invalid 'dependsOn'.`;
    }
    dependsOn = raw.dependsOn;
  }
  // json-batching.md: "When the body is supplied, a Content-Type header must be included."
  if (raw.body !== undefined && headers['content-type'] === undefined) {
    return `Invalid batch payload format: request '${id}' has a body but no Content-Type header.`;
  }
  return { id, method: method.toUpperCase(), url, headers, body: raw.body, dependsOn };
}

/** A deterministic permutation of 0..n-1 from `seed` that is never the identity when n > 1. */
export function batchOrder(n: number, seed: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  // mulberry32: a tiny seeded PRNG, so a run's batches reorder the same way every time.
  let s = (seed * 0x9e3779b9) >>> 0;
  const rand = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const a = order[i] ?? i;
    order[i] = order[j] ?? j;
    order[j] = a;
  }
  if (n > 1 && order.every((v, i) => v === i)) order.reverse();
  return order;
}

/**
 * Runs a batch. `dispatch` answers one item (the server's router); `seed` picks the response
 * order. A malformed-JSON fault on any item truncates the whole batch answer, since a cut-off
 * body can only happen to the HTTP response as a whole.
 */
export async function runBatch(req: SimRequest, dispatch: (item: SimRequest) => Promise<SimResponse>, seed: number): Promise<SimResponse> {
  if (req.bodyInvalid) {
    return badBatch(req, 'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.');
  }
  const body = req.body;
  if (!isObject(body) || !Array.isArray(body.requests)) return badBatch(req, "Invalid batch payload format: expected an object with a 'requests' array.");
  const raws: unknown[] = body.requests;
  if (raws.length === 0) return badBatch(req, 'Invalid batch payload format: the batch holds no requests.');
  if (raws.length > MAX_BATCH_REQUESTS) {
    return badBatch(req, `The number of requests in the batch (${raws.length}) exceeds the limit of ${MAX_BATCH_REQUESTS}.`);
  }
  const items: BatchItem[] = [];
  const seen = new Set<string>();
  for (const [i, raw] of raws.entries()) {
    const item = parseItem(raw, i);
    if (typeof item === 'string') return badBatch(req, item);
    // Ids are not case-sensitive and must be unique, "otherwise, the batch request fails with a 400".
    const key = item.id.toLowerCase();
    if (seen.has(key)) return badBatch(req, `Batch request contains duplicate request id '${item.id}'.`);
    seen.add(key);
    items.push(item);
  }
  for (const item of items) {
    const unknown = item.dependsOn.find((d) => !seen.has(d.toLowerCase()));
    if (unknown !== undefined) return badBatch(req, `Request '${item.id}' depends on unknown request '${unknown}'.`);
  }

  const toRequest = (item: BatchItem): SimRequest => {
    // `url` is relative to the version root, with or without a leading slash (the docs show both).
    const rel = item.url.replace(/^\/+/, '');
    const q = rel.indexOf('?');
    return {
      method: item.method,
      path: `/v1.0/${q < 0 ? rel : rel.slice(0, q)}`,
      query: q < 0 ? '' : rel.slice(q + 1),
      headers: item.headers,
      body: item.body,
      requestId: randomUUID(),
      clientRequestId: item.headers['client-request-id'] ?? req.clientRequestId,
      inBatch: true,
      // Items run with the envelope's access token.
      ...(req.appRoles ? { appRoles: req.appRoles } : {}),
    };
  };
  const runOne = async (item: BatchItem): Promise<SimResponse> => {
    const itemReq = toRequest(item);
    // Absolute URLs are refused: Graph resolves item urls against the version root only.
    if (/^[a-z][a-z0-9+.-]*:/i.test(item.url)) return graphError(itemReq, 400, 'BadRequest', `Invalid request URL '${item.url}': batch item urls must be relative.`);
    return dispatch(itemReq);
  };

  const results = new Map<string, SimResponse>();
  if (items.some((i) => i.dependsOn.length > 0)) {
    // dependsOn makes the batch sequential; a failed dependency fails its dependants with 424.
    for (const item of items) {
      const failed = item.dependsOn.find((d) => (results.get(d.toLowerCase())?.status ?? 424) >= 400);
      results.set(
        item.id.toLowerCase(),
        failed === undefined ? await runOne(item) : graphError(toRequest(item), 424, 'FailedDependency', `The request depends on request '${failed}', which failed.`),
      );
    }
  } else {
    for (let i = 0; i < items.length; i += BATCH_PARALLELISM) {
      const group = items.slice(i, i + BATCH_PARALLELISM);
      const answers = await Promise.all(group.map(runOne));
      group.forEach((item, k) => {
        const a = answers[k];
        if (a) results.set(item.id.toLowerCase(), a);
      });
    }
  }

  // A reset can only happen to the connection, i.e. to the whole envelope.
  if ([...results.values()].some((r) => r.reset)) return { status: 0, headers: {}, reset: true };
  let malformed = false;
  const responses = batchOrder(items.length, seed).map((index) => {
    const item = items[index] as BatchItem;
    const r = results.get(item.id.toLowerCase()) as SimResponse;
    if (r.malformed !== undefined) malformed = true;
    const out: Record<string, unknown> = { id: item.id, status: r.status, headers: r.headers };
    // Items without a body (202 sendMail) carry no `body` property.
    if (r.body !== undefined) out.body = r.body;
    return out;
  });
  if (malformed) {
    const full = JSON.stringify({ responses });
    return { status: 200, headers: { 'Content-Type': ODATA_JSON }, malformed: full.slice(0, Math.max(1, Math.floor(full.length / 2))) };
  }
  return jsonOk({ responses });
}
