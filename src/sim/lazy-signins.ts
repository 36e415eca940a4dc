/**
 * `GET /auditLogs/signIns` over a tenant with lazy sign-ins (TenantData.lazySignIns, the bench
 * tenant of issue 13): the eager `signIns` and the lazy sequence merged newest first, filtered and
 * paged exactly like routes.ts `list` pages an array (same skiptoken scope, same nextLink), but
 * building only the records of the page asked for. The collectors' `createdDateTime ge/le`
 * windows are answered by binary search on the lazy sequence's times; any other filter falls back
 * to testing every lazy record (correct, just slow).
 */
import { compileFilter, type ItemFilter } from './filter';
import { buildQuery, pageSize, param, type PageSpec, type QueryParam, type TokenSealer } from './paging';
import { graphError, jsonOk } from './responses';
import type { JsonObject, LazySignIns } from './tenant';
import type { SimRequest, SimResponse } from './types';

const WINDOW_TERM = /^\s*createdDateTime\s+(ge|gt|le|lt)\s+(\S+)\s*$/i;

/** First index in [lo, hi) where `pred` holds (pred monotone false…true), else hi. */
function firstTrue(lo: number, hi: number, pred: (i: number) => boolean): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (pred(mid)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** The lazy index range [lo, hi) a pure createdDateTime window selects, or undefined for any other filter. */
function windowRange(filter: string | undefined, lazy: LazySignIns): [number, number] | undefined {
  if (filter === undefined || filter.trim() === '') return [0, lazy.count];
  let lo = 0;
  let hi = lazy.count;
  for (const term of filter.split(/\s+and\s+/i)) {
    const m = WINDOW_TERM.exec(term);
    if (!m?.[1] || !m[2]) return undefined;
    const ms = Date.parse(m[2].replace(/^'|'$/g, ''));
    if (Number.isNaN(ms)) return undefined;
    const op = m[1].toLowerCase();
    // Times fall as the index grows: an upper bound moves lo up, a lower bound moves hi down.
    if (op === 'le') lo = Math.max(lo, firstTrue(0, lazy.count, (i) => lazy.timeOf(i) <= ms));
    else if (op === 'lt') lo = Math.max(lo, firstTrue(0, lazy.count, (i) => lazy.timeOf(i) < ms));
    else if (op === 'ge') hi = Math.min(hi, firstTrue(0, lazy.count, (i) => lazy.timeOf(i) < ms));
    else hi = Math.min(hi, firstTrue(0, lazy.count, (i) => lazy.timeOf(i) <= ms));
  }
  return [lo, Math.max(lo, hi)];
}

export interface LazySignInPage {
  req: SimRequest;
  query: readonly QueryParam[];
  /** The eager sign-ins already in the log, newest first (unfiltered). */
  eager: readonly JsonObject[];
  lazy: LazySignIns;
  sealer: TokenSealer;
  origin: string;
  spec: PageSpec;
}

export function lazySignInsResponse(a: LazySignInPage): SimResponse {
  const filterText = param(a.query, 'filter');
  let f: ItemFilter | undefined;
  if (filterText !== undefined && filterText.trim() !== '') {
    const compiled = compileFilter(filterText);
    if (typeof compiled !== 'function') return graphError(a.req, 400, 'Request_UnsupportedQuery', compiled.error);
    f = compiled;
  }
  const eager = f ? a.eager.filter(f) : [...a.eager];
  // Lazy indices that pass: a contiguous range for a window, else the full list tested one by one.
  const range = windowRange(filterText, a.lazy);
  let lazyAt: (k: number) => JsonObject;
  let lazyTime: (k: number) => number;
  let lazyCount: number;
  if (range) {
    const [lo, hi] = range;
    lazyCount = hi - lo;
    lazyAt = (k) => a.lazy.at(lo + k);
    lazyTime = (k) => a.lazy.timeOf(lo + k);
  } else {
    const kept: number[] = [];
    for (let i = 0; i < a.lazy.count; i++) if (!f || f(a.lazy.at(i))) kept.push(i);
    lazyCount = kept.length;
    lazyAt = (k) => a.lazy.at(kept[k]!);
    lazyTime = (k) => a.lazy.timeOf(kept[k]!);
  }
  // Merge position of each eager record: its rank plus the lazy records strictly newer (eager first on a tie).
  const mergePos = eager.map((e, k) => {
    const t = Date.parse(String(e.createdDateTime ?? ''));
    return k + (Number.isNaN(t) ? lazyCount : firstTrue(0, lazyCount, (j) => lazyTime(j) <= t));
  });
  const total = eager.length + lazyCount;
  const size = pageSize(a.query, a.spec);
  if ('error' in size) return graphError(a.req, 400, 'Request_BadRequest', size.error);
  const scope = `signIns||${filterText ?? ''}`;
  let offset = 0;
  const skiptoken = param(a.query, 'skiptoken');
  if (skiptoken !== undefined) {
    const m = /^o=(\d+)$/.exec(a.sealer.open(scope, skiptoken) ?? '');
    if (!m?.[1]) return graphError(a.req, 400, 'Request_BadRequest', `Invalid $skiptoken value '${skiptoken}'.`);
    offset = Number(m[1]);
  }
  const end = Math.min(total, offset + size.size);
  let k = mergePos.filter((p) => p < offset).length;
  let used = offset - k;
  const value: JsonObject[] = [];
  for (let p = offset; p < end; p++) {
    if (k < eager.length && mergePos[k] === p) value.push(eager[k++]!);
    else value.push(lazyAt(used++));
  }
  const body: Record<string, unknown> = { '@odata.context': `${a.origin}/v1.0/$metadata#auditLogs/signIns` };
  if (end < total) body['@odata.nextLink'] = `${a.origin}/v1.0/auditLogs/signins?${buildQuery(a.query, [['$skiptoken', a.sealer.seal(scope, `o=${end}`)]])}`;
  body.value = value;
  return jsonOk(body);
}
