/**
 * App-consent collectors (controls.md APP-01, APP-02). Endpoints and permissions:
 * GET /policies/authorizationPolicy (Policy.Read.All; "Get authorizationPolicy", v1.0).
 */
import { authorizationPolicySchema, parseRecords, summariseProblems } from './parse';
import type { Collector } from './context';

/**
 * The tenant's authorization policy. "Get authorizationPolicy" (v1.0) returns "the single
 * authorizationPolicy object"; older revisions of the page (and the beta endpoint) show a
 * collection with one object in `value`. Both are accepted: a bare object, or the first (only)
 * element of `value`. Anything else fails the slice, so APP-02 is never passed on an answer we
 * could not read. A 401/403 (no Policy.Read.All) throws, and the pipeline records the slice as
 * failed with the permission named (graph/graph.ts PERMISSIONS).
 */
export const collectAuthorizationPolicy: Collector<'authorizationPolicy'> = async ({ graph }) => {
  const body = (await graph.get('/policies/authorizationPolicy')) as Record<string, unknown> | undefined;
  const wrapped = body && Array.isArray(body.value) ? (body.value as unknown[]) : undefined;
  if (wrapped && wrapped.length !== 1) {
    return { status: 'failed', items: 0, detail: `GET /policies/authorizationPolicy: expected one policy object, the answer's value holds ${wrapped.length}` };
  }
  const parsed = parseRecords(authorizationPolicySchema, [wrapped ? wrapped[0] : body], 'GET /policies/authorizationPolicy');
  const record = parsed.records[0];
  if (!record) return { status: 'failed', items: 0, detail: summariseProblems(parsed.problems) };
  return { status: 'complete', data: record, items: 1 };
};
