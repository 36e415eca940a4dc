/**
 * A small OData `$filter` evaluator: comparisons `path op literal` (op eq, ne, ge, gt, le, lt)
 * joined by `and`. That covers what the collectors send (`createdDateTime ge 2026-…Z`) and the
 * docs' examples (`roleDefinitionId eq '…'`). Anything else is refused with 400 rather than
 * ignored, so a collector relying on an unsupported filter fails loudly instead of silently
 * reading unfiltered data.
 */
import type { Json, JsonObject } from './tenant';

type Literal = { kind: 'string'; value: string } | { kind: 'date'; ms: number } | { kind: 'number'; value: number } | { kind: 'bool'; value: boolean } | { kind: 'null' };
export type Op = 'eq' | 'ne' | 'ge' | 'gt' | 'le' | 'lt';
interface Term {
  path: string[];
  op: Op;
  literal: Literal;
}

export type ItemFilter = (item: JsonObject) => boolean;

const DATE_LITERAL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})$/i;
const TERM = /^\s*([A-Za-z_]\w*(?:\/[A-Za-z_]\w*)*)\s+(eq|ne|ge|gt|le|lt)\s+('(?:[^']|'')*'|[^\s')(]+)\s*/i;

function parseLiteral(text: string): Literal | undefined {
  if (text.startsWith("'")) return { kind: 'string', value: text.slice(1, -1).replace(/''/g, "'") };
  const lower = text.toLowerCase();
  if (lower === 'null') return { kind: 'null' };
  if (lower === 'true' || lower === 'false') return { kind: 'bool', value: lower === 'true' };
  if (/^-?\d+(?:\.\d+)?$/.test(text)) return { kind: 'number', value: Number(text) };
  if (DATE_LITERAL.test(text)) {
    const ms = Date.parse(text);
    return Number.isNaN(ms) ? undefined : { kind: 'date', ms };
  }
  // Directory GUID properties are compared as strings even when a client leaves off the quotes.
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(text)) return { kind: 'string', value: text };
  return undefined;
}

/** Looks a property path up case-insensitively, as OData property names are matched by Graph. */
export function lookup(item: JsonObject, path: readonly string[]): Json | undefined {
  let cur: Json | undefined = item;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    const obj: { [key: string]: Json } = cur;
    const key: string | undefined = Object.keys(obj).find((k) => k.toLowerCase() === seg.toLowerCase());
    cur = key === undefined ? undefined : obj[key];
  }
  return cur;
}

function compare(a: number | string, b: number | string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function test(term: Term, item: JsonObject): boolean {
  const v = lookup(item, term.path);
  const lit = term.literal;
  if (lit.kind === 'null') {
    const isNull = v === null || v === undefined;
    return term.op === 'eq' ? isNull : term.op === 'ne' ? !isNull : false;
  }
  let c: number;
  if (lit.kind === 'date') {
    // '' and unparsable values (the "never" of signInActivity) match no comparison.
    const ms = typeof v === 'string' ? Date.parse(v) : NaN;
    if (Number.isNaN(ms)) return term.op === 'ne';
    c = compare(ms, lit.ms);
  } else if (lit.kind === 'string') {
    if (typeof v !== 'string') return term.op === 'ne';
    // Directory string comparisons are case-insensitive.
    c = compare(v.toLowerCase(), lit.value.toLowerCase());
  } else if (lit.kind === 'number') {
    if (typeof v !== 'number') return term.op === 'ne';
    c = compare(v, lit.value);
  } else {
    if (typeof v !== 'boolean') return term.op === 'ne';
    c = v === lit.value ? 0 : 1;
    if (term.op !== 'eq' && term.op !== 'ne') return false;
  }
  switch (term.op) {
    case 'eq':
      return c === 0;
    case 'ne':
      return c !== 0;
    case 'ge':
      return c >= 0;
    case 'gt':
      return c > 0;
    case 'le':
      return c <= 0;
    case 'lt':
      return c < 0;
  }
}

/**
 * Which properties an endpoint documents as filterable, and with which operators (lower-case
 * property name → operators). An endpoint without such a table accepts any comparison the
 * evaluator understands.
 */
export type FilterableProperties = Readonly<Record<string, readonly Op[]>>;

/**
 * userRegistrationDetails ("userRegistrationDetails resource type", v1.0): the boolean report
 * flags "Support `$filter` (`eq`)" — `eq` only, so `ne` is refused. `id`, `isAdmin`, `userType`
 * and `lastUpdatedDateTime` carry no "Supports `$filter`" in that table and are refused too (the
 * metadata's FilterRestrictions only say the entity set is Filterable). The `any(...)` lambdas on
 * the method lists and `startsWith` on names are documented but not evaluated here (no collector
 * sends them), so they are refused like any other unsupported clause.
 */
export const USER_REGISTRATION_FILTERABLE: FilterableProperties = {
  ismfacapable: ['eq'],
  ismfaregistered: ['eq'],
  ispasswordlesscapable: ['eq'],
  isssprcapable: ['eq'],
  isssprenabled: ['eq'],
  isssprregistered: ['eq'],
  issystempreferredauthenticationmethodenabled: ['eq'],
  userdisplayname: ['eq'],
  userprincipalname: ['eq'],
};

/**
 * Compiles a `$filter` into a predicate, or returns why it is not supported. With `filterable`,
 * a term on a property or with an operator the endpoint does not document is refused.
 */
export function compileFilter(text: string, filterable?: FilterableProperties): ItemFilter | { error: string } {
  const terms: Term[] = [];
  let rest = text;
  for (;;) {
    const m = TERM.exec(rest);
    const literal = m?.[3] === undefined ? undefined : parseLiteral(m[3]);
    if (!m?.[1] || !m[2] || !literal) {
      return { error: `Unsupported or invalid query filter clause specified: '${text}' (the simulator evaluates only 'property op literal' comparisons joined by 'and').` };
    }
    const term: Term = { path: m[1].split('/'), op: m[2].toLowerCase() as Op, literal };
    if (filterable) {
      const ops = filterable[term.path.join('/').toLowerCase()];
      if (!ops) return { error: `Invalid filter clause: the property '${m[1]}' does not support filtering.` };
      if (!ops.includes(term.op)) return { error: `Invalid filter clause: the operator '${term.op}' is not supported on '${m[1]}' (supported: ${ops.join(', ')}).` };
    }
    terms.push(term);
    rest = rest.slice(m[0].length);
    if (rest.trim() === '') break;
    const and = /^and\s+/i.exec(rest);
    if (!and) return { error: `Unsupported or invalid query filter clause specified: '${text}' (only 'and' joins terms in the simulator).` };
    rest = rest.slice(and[0].length);
  }
  return (item) => terms.every((t) => test(t, item));
}
