/**
 * Query-string handling and server-driven paging: `$top`, opaque signed `$skiptoken`s and
 * absolute `@odata.nextLink`s on the simulator's own origin.
 */
import { createHmac, randomBytes } from 'node:crypto';

/** One query option: `key` as sent (e.g. `$top`), `name` lower-cased without `$`, `value` decoded. */
export interface QueryParam {
  key: string;
  name: string;
  value: string;
}

/**
 * Parses a raw query string. `+` is kept as is rather than read as a space, so an ISO date with a
 * `+01:00` offset survives; returns undefined when a percent-escape is broken.
 */
export function parseQuery(raw: string): QueryParam[] | undefined {
  const out: QueryParam[] = [];
  for (const piece of raw.split('&')) {
    if (!piece) continue; // the docs print `signIns?&$filter=…`: an empty option is harmless
    const eq = piece.indexOf('=');
    try {
      const key = decodeURIComponent(eq < 0 ? piece : piece.slice(0, eq)).trim();
      const value = eq < 0 ? '' : decodeURIComponent(piece.slice(eq + 1));
      // OData v4 accepts system query options with or without `$`, case-insensitively.
      out.push({ key, name: key.toLowerCase().replace(/^\$/, ''), value });
    } catch {
      return undefined;
    }
  }
  return out;
}

/** The value of the first option named `name` (without `$`, any case), if present. */
export function param(query: readonly QueryParam[], name: string): string | undefined {
  return query.find((p) => p.name === name.toLowerCase())?.value;
}

/** Percent-encodes a query value, leaving `$ , :` readable (they are legal in a query). */
export function encodeQueryValue(value: string): string {
  return encodeURIComponent(value).replace(/%24/g, '$').replace(/%2C/gi, ',').replace(/%3A/gi, ':');
}

/** Rebuilds a query string from options, minus any skiptoken, plus `extra` options at the end. */
export function buildQuery(query: readonly QueryParam[], extra: ReadonlyArray<[string, string]> = []): string {
  const parts = query
    .filter((p) => p.name !== 'skiptoken')
    .map((p) => `${p.key.startsWith('$') ? p.key : encodeQueryValue(p.key)}=${encodeQueryValue(p.value)}`);
  for (const [k, v] of extra) parts.push(`${k}=${v}`);
  return parts.join('&');
}

/** Percent-encodes one path segment but keeps the commas of site ids (`host,guid,guid`) as Graph does. */
export function encodePathSegment(segment: string): string {
  return encodeURIComponent(segment).replace(/%2C/gi, ',');
}

/**
 * Seals paging state into opaque URL-safe tokens: base64url of the payload and an HMAC over the
 * scope and payload, keyed by a secret chosen at start. A token is therefore neither a plain
 * number a client could compute nor transferable to another collection, filter or server run.
 */
export class TokenSealer {
  private readonly secret = randomBytes(32);

  private mac(scope: string, payload: string): string {
    return createHmac('sha256', this.secret).update(`${scope}\n${payload}`).digest('base64url').slice(0, 22);
  }

  /** Seals `payload` for use within `scope`. */
  seal(scope: string, payload: string): string {
    return Buffer.from(`${payload}|${this.mac(scope, payload)}`, 'utf8').toString('base64url');
  }

  /** The payload of a token sealed for `scope`, or undefined when it is forged, damaged or foreign. */
  open(scope: string, token: string): string | undefined {
    if (!/^[A-Za-z0-9_-]+$/.test(token)) return undefined;
    const text = Buffer.from(token, 'base64url').toString('utf8');
    const bar = text.lastIndexOf('|');
    if (bar < 0) return undefined;
    const payload = text.slice(0, bar);
    return text.slice(bar + 1) === this.mac(scope, payload) ? payload : undefined;
  }
}

/** Page sizes of one endpoint: used without `$top`, and the cap on `$top`. */
export interface PageSpec {
  defaultSize: number;
  maxSize: number;
}

/** Reads `$top` against a spec: the page size, or an error message for an invalid value. */
export function pageSize(query: readonly QueryParam[], spec: PageSpec): { size: number } | { error: string } {
  const top = param(query, 'top');
  if (top === undefined) return { size: Math.min(spec.defaultSize, spec.maxSize) };
  if (!/^\s*\d+\s*$/.test(top) || Number(top) < 1) return { error: `Invalid page size specified: '${top}'.` };
  // Graph caps an oversized $top to the endpoint's maximum (user-list.md: "Requests with $top set
  // higher than 120 will return pages with up to 120 users").
  return { size: Math.min(Number(top), spec.maxSize) };
}

export interface PaginateOptions {
  query: readonly QueryParam[];
  sealer: TokenSealer;
  /** Binds tokens to one collection (endpoint, resource, filter). */
  scope: string;
  origin: string;
  /** Path the nextLink points at, from `/v1.0` on (may differ from the request's, as getAllSites does). */
  linkPath: string;
  spec: PageSpec;
}

export type Paged<T> = { items: T[]; nextLink?: string } | { error: string };

/** Cuts one page out of `all` per `$top`/`$skiptoken`, with an absolute nextLink when more remain. */
export function paginate<T>(all: readonly T[], o: PaginateOptions): Paged<T> {
  const size = pageSize(o.query, o.spec);
  if ('error' in size) return size;
  let offset = 0;
  const skiptoken = param(o.query, 'skiptoken');
  if (skiptoken !== undefined) {
    const payload = o.sealer.open(o.scope, skiptoken);
    const m = payload === undefined ? null : /^o=(\d+)$/.exec(payload);
    if (!m?.[1]) return { error: `Invalid $skiptoken value '${skiptoken}'.` };
    offset = Number(m[1]);
  }
  const end = offset + size.size;
  const items = all.slice(offset, end);
  if (end >= all.length) return { items };
  const token = o.sealer.seal(o.scope, `o=${end}`);
  return { items, nextLink: `${o.origin}${o.linkPath}?${buildQuery(o.query, [['$skiptoken', token]])}` };
}
