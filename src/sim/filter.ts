/**
 * A small OData `$filter` evaluator: comparisons `path op literal` (op eq, ne, ge, gt, le, lt)
 * and `path in (literal, …)`, joined by `and`. That covers what the collectors send (`createdDateTime ge 2026-…Z`) and the
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
/** `path in (literal, …)`: true when the value equals any of them ("Use the $filter query parameter"). */
interface InTerm {
  path: string[];
  op: 'in';
  literals: Literal[];
}

export type ItemFilter = (item: JsonObject) => boolean;

const DATE_LITERAL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})$/i;
const TERM = /^\s*([A-Za-z_]\w*(?:\/[A-Za-z_]\w*)*)\s+(eq|ne|ge|gt|le|lt)\s+('(?:[^']|'')*'|[^\s')(]+)\s*/i;
const IN_TERM = /^\s*([A-Za-z_]\w*(?:\/[A-Za-z_]\w*)*)\s+in\s+\(((?:\s*(?:'(?:[^']|'')*'|[^\s',)(]+)\s*,?)*)\)\s*/i;
const IN_VALUE = /'(?:[^']|'')*'|[^\s',)(]+/g;

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
    // '' and unparsable values (the "never" of signInActivity) match no comparison; nor does the
    // `0001-01-01T00:00:00Z` "never": signInActivity "isn't returned for a user who never signed
    // in" ("user resource type", v1.0), so such a user matches no `le`/`ge` on it.
    const ms = typeof v === 'string' && !v.startsWith('0001-01-01') ? Date.parse(v) : NaN;
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

/** The terms of a `$filter` (comparisons and `in` lists joined by `and`), or why it is not supported. */
function parseTerms(text: string): Array<Term | InTerm> | { error: string } {
  const terms: Array<Term | InTerm> = [];
  let rest = text;
  for (;;) {
    const inMatch = IN_TERM.exec(rest);
    if (inMatch?.[1] && inMatch[2] !== undefined) {
      const literals = (inMatch[2].match(IN_VALUE) ?? []).map(parseLiteral);
      if (!literals.length || literals.some((l) => l === undefined)) {
        return { error: `Unsupported or invalid query filter clause specified: '${text}' (an 'in' list of literals is expected).` };
      }
      terms.push({ path: inMatch[1].split('/'), op: 'in', literals: literals as Literal[] });
      rest = rest.slice(inMatch[0].length);
    } else {
      const m = TERM.exec(rest);
      const literal = m?.[3] === undefined ? undefined : parseLiteral(m[3]);
      if (!m?.[1] || !m[2] || !literal) {
        return { error: `Unsupported or invalid query filter clause specified: '${text}' (the simulator evaluates only 'property op literal' comparisons and 'property in (…)' joined by 'and').` };
      }
      terms.push({ path: m[1].split('/'), op: m[2].toLowerCase() as Op, literal });
      rest = rest.slice(m[0].length);
    }
    if (rest.trim() === '') break;
    const and = /^and\s+/i.exec(rest);
    if (!and) return { error: `Unsupported or invalid query filter clause specified: '${text}' (only 'and' joins terms in the simulator).` };
    rest = rest.slice(and[0].length);
  }
  return terms;
}

function testAny(term: Term | InTerm, item: JsonObject): boolean {
  if (term.op !== 'in') return test(term, item);
  return term.literals.some((literal) => test({ path: term.path, op: 'eq', literal }, item));
}

/**
 * Compiles a `$filter` into a predicate, or returns why it is not supported. With `filterable`,
 * a term on a property or with an operator the endpoint does not document is refused.
 */
export function compileFilter(text: string, filterable?: FilterableProperties): ItemFilter | { error: string } {
  const terms = parseTerms(text);
  if (!Array.isArray(terms)) return terms;
  if (filterable) {
    for (const term of terms) {
      const name = term.path.join('/');
      const ops: readonly string[] | undefined = filterable[name.toLowerCase()];
      if (!ops) return { error: `Invalid filter clause: the property '${name}' does not support filtering.` };
      if (!ops.includes(term.op)) return { error: `Invalid filter clause: the operator '${term.op}' is not supported on '${name}' (supported: ${ops.join(', ')}).` };
    }
  }
  return (item) => terms.every((t) => testAny(t, item));
}

/** At most this many values in an `in` list on /users (see {@link usersFilterRefusal}). */
export const MAX_IN_VALUES = 15;

/**
 * Why `GET /users` refuses a `$filter` the evaluator could run, or undefined:
 * - an `in` list of more than 15 values: "When using the `in` operator, the request is limited to
 *   15 expressions in the filter clause by default" (Microsoft Graph known issues, "Query
 *   parameters"; the advanced-query exception, a 2,048-character URL, is not modelled);
 * - a signInActivity term with any other term, or with `or`: signInActivity "supports $filter (eq,
 *   ne, not, ge, le) but not with any other filterable properties" ("user resource type", v1.0;
 *   `or` of two signInActivity terms "seemed to not work", KelvinTegelaar/CIPP-API#1119).
 * The codes Graph sends are not documented; 400 `Request_UnsupportedQuery` is what /users answers
 * an unsupported query with.
 */
export function usersFilterRefusal(text: string): string | undefined {
  const unquoted = text.replace(/'(?:[^']|'')*'/g, "''");
  const signIn = /signinactivity\//i.test(unquoted);
  if (signIn && /\sor\s/i.test(unquoted)) return `Unsupported query: signInActivity cannot be filtered with 'or' ('${text}').`;
  const terms = parseTerms(text);
  if (!Array.isArray(terms)) return undefined;
  if (signIn && terms.length > 1) return `Unsupported query: signInActivity cannot be filtered together with other properties ('${text}').`;
  const big = terms.find((t): t is InTerm => t.op === 'in' && t.literals.length > MAX_IN_VALUES);
  if (big) return `Unsupported query: the 'in' operator is limited to ${MAX_IN_VALUES} expressions (${big.literals.length} given).`;
  return undefined;
}
