/**
 * App-consent collectors (controls.md APP-01, APP-02). Endpoints and permissions (v1.0 docs,
 * least privileged):
 * - GET /policies/authorizationPolicy — Policy.Read.All ("Get authorizationPolicy").
 * - GET /servicePrincipals — Application.Read.All ("List servicePrincipals").
 * - GET /servicePrincipals/{id}/appRoleAssignments — Application.Read.All ("List appRoleAssignments
 *   granted to a service principal": app roles assigned to a service principal are its
 *   application permissions).
 * - GET /oauth2PermissionGrants — Directory.Read.All ("List oauth2PermissionGrants").
 *
 * At scale: one listing of every service principal (999 a page, only the five properties the
 * rule needs, appRoles included so that an assignment's appRoleId resolves to its value without
 * another request), then app role assignments only for the foreign service principals, 20 a
 * `$batch` call; delegated grants in one filtered listing.
 */
import { GraphError } from '../errors';
import { collectList } from './identity';
import { appRoleAssignmentSchema, authorizationPolicySchema, oauth2PermissionGrantSchema, parseRecords, servicePrincipalSchema, summariseProblems } from './parse';
import type { Collector } from './context';
import type { AppPermission, ForeignApp } from './snapshot';
import type { BatchResult } from '../graph/graph';

/**
 * Tenants whose apps are Microsoft's own. f8cdef31-… is "Microsoft Services", the owner tenant of
 * the Microsoft 365 first-party apps (Exchange Online, SharePoint, Teams, Microsoft Graph);
 * 72f988bf-… is Microsoft's corporate tenant, which owns some first-party tools. Source: the
 * tenant list of Microsoft's "Commonly used Microsoft first-party services" as compiled by
 * M365-Assess (controls/microsoft-first-party-appids.json, PowerShell Gallery) — the docs name
 * no such list; MERGE NOTE: spec gap reported.
 */
export const MICROSOFT_TENANT_IDS: readonly string[] = ['f8cdef31-a31e-4b4a-93e4-5f571e91255a', '72f988bf-86f1-41af-91ab-2d7cd011db47'];

/** The "default access" app role (`00000000-…`): an assignment without a permission. */
const DEFAULT_ACCESS_ROLE = '00000000-0000-0000-0000-000000000000';

/** Properties read of each service principal. */
export const SERVICE_PRINCIPAL_SELECT = 'id,appId,displayName,appOwnerOrganizationId,appRoles';

/**
 * An app owned by another organisation: its owner tenant is known and is neither this tenant nor
 * Microsoft. A null owner (managed identities, some legacy principals) is not foreign: nothing
 * says another organisation wrote it.
 */
export function isForeign(owner: string | null, tenantId: string): owner is string {
  if (!owner) return false;
  const o = owner.toLowerCase();
  return o !== tenantId.toLowerCase() && !MICROSOFT_TENANT_IDS.includes(o);
}

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

/**
 * The foreign apps with their application permissions and tenant-wide delegated grants. A 401/403
 * or any failure of the service principal listing throws (the slice fails: APP-01 is not
 * evaluated). A service principal whose assignments could not be read, an assignment whose role
 * cannot be resolved, or a failed grant listing makes the slice partial and is named.
 */
export const collectAppGrants: Collector<'appGrants'> = async ({ graph, tenantId }) => {
  const listed = await collectList(graph, `/servicePrincipals?$select=${SERVICE_PRINCIPAL_SELECT}&$top=999`, servicePrincipalSchema, 'GET /servicePrincipals');
  if (listed.status === 'failed') return listed;
  const problems: string[] = listed.detail ? [listed.detail] : [];
  const byId = new Map(listed.data.map((s) => [s.id, s]));
  const foreign: ForeignApp[] = listed.data
    .filter((s) => isForeign(s.appOwnerOrganizationId, tenantId))
    .map((s) => ({ id: s.id, appId: s.appId, displayName: s.displayName, appOwnerOrganizationId: s.appOwnerOrganizationId as string, permissions: [] }));
  const label = (a: ForeignApp): string => `${a.displayName ?? a.appId} (${a.id})`;
  const resourceName = (id: string, fallback: string | null): string | null => byId.get(id)?.displayName ?? fallback;

  await graph.batchEach(
    foreign.map((a, i) => ({ id: String(i), method: 'GET' as const, url: `/servicePrincipals/${encodeURIComponent(a.id)}/appRoleAssignments?$select=id,appRoleId,resourceId,resourceDisplayName&$top=999` })),
    async (r: BatchResult) => {
      const app = foreign[Number(r.id)] as ForeignApp;
      const body = r.body as { value?: unknown; '@odata.nextLink'?: unknown } | undefined;
      if (r.status !== 200 || !Array.isArray(body?.value)) {
        problems.push(`${label(app)}: its application permissions could not be read (${r.status}${r.status === 403 ? ', needs Application.Read.All' : ''})`);
        return;
      }
      let values = body.value as unknown[];
      if (typeof body['@odata.nextLink'] === 'string') {
        try {
          values = [...values, ...(await graph.all(body['@odata.nextLink']))];
        } catch (err) {
          problems.push(`${label(app)}: the next page of its application permissions could not be read (${(err as Error).message})`);
        }
      }
      const parsed = parseRecords(appRoleAssignmentSchema, values, `appRoleAssignments of ${label(app)}`);
      problems.push(...parsed.problems);
      for (const a of parsed.records) {
        if (a.appRoleId === DEFAULT_ACCESS_ROLE) continue;
        const value = byId.get(a.resourceId)?.appRoles.find((role) => role.id.toLowerCase() === a.appRoleId.toLowerCase())?.value;
        if (!value) {
          problems.push(`${label(app)}: app role ${a.appRoleId} of resource ${a.resourceDisplayName ?? a.resourceId} could not be resolved to a permission`);
          continue;
        }
        app.permissions.push({ type: 'application', resourceId: a.resourceId, resourceName: resourceName(a.resourceId, a.resourceDisplayName), value });
      }
    },
  );

  // Tenant-wide grants only ("oAuth2PermissionGrant resource type": consentType supports $filter
  // eq); the filter is applied again here, so an answer that ignored it changes nothing.
  const byApp = new Map(foreign.map((a) => [a.id, a]));
  try {
    const grants = await collectList(graph, `/oauth2PermissionGrants?$filter=${encodeURIComponent("consentType eq 'AllPrincipals'")}`, oauth2PermissionGrantSchema, 'GET /oauth2PermissionGrants');
    if (grants.status === 'failed') problems.push(grants.detail);
    else {
      if (grants.detail) problems.push(grants.detail);
      for (const g of grants.data) {
        const app = byApp.get(g.clientId);
        if (!app || g.consentType.toLowerCase() !== 'allprincipals') continue;
        for (const value of g.scopes) app.permissions.push({ type: 'delegated', resourceId: g.resourceId, resourceName: resourceName(g.resourceId, null), value } satisfies AppPermission);
      }
    }
  } catch (err) {
    if (!(err instanceof GraphError)) throw err;
    problems.push(`GET /oauth2PermissionGrants: ${err.message}; tenant-wide delegated grants were not checked`);
  }

  const data = { servicePrincipals: listed.data.length, apps: foreign };
  return problems.length
    ? { status: 'partial', data, items: listed.data.length, detail: summariseProblems(problems) }
    : { status: 'complete', data, items: listed.data.length };
};
