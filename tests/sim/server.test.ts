/**
 * The Graph simulator against a tiny hand-made tenant, over real HTTPS with undici trusting the
 * simulator's certificate.
 */
import { simClient, type Answer } from '../support/sim-client';
import { simulatorToken } from '../../src/graph/client';
import { startSimulator, type SimServer } from '../../src/sim/server';
import { resolveLimits } from '../../src/sim/throttle';
import type { JsonObject, TenantData } from '../../src/sim/tenant';

jest.setTimeout(60_000);

const DRIVE_ID = 'b!drive-one_X';
const SITE_IDS = [
  'contoso.sharepoint.com,00000000-0000-0000-0000-0000000000a1,00000000-0000-0000-0000-0000000000b1',
  'contoso.sharepoint.com,00000000-0000-0000-0000-0000000000a2,00000000-0000-0000-0000-0000000000b2',
  'contoso.sharepoint.com,00000000-0000-0000-0000-0000000000a3,00000000-0000-0000-0000-0000000000b3',
];

function userId(n: number): string {
  return `00000000-0000-0000-0000-${String(n).padStart(12, '0')}`;
}

function makeUser(n: number): JsonObject {
  return {
    id: userId(n),
    displayName: `User ${n}`,
    userPrincipalName: `user${n}@contoso.com`,
    mail: `user${n}@contoso.com`,
    userType: 'Member',
    accountEnabled: true,
    createdDateTime: '2024-01-01T00:00:00Z',
    signInActivity: {
      lastSignInDateTime: '2026-01-10T10:00:00Z',
      lastSignInRequestId: `req-${n}`,
      lastNonInteractiveSignInDateTime: '0001-01-01T00:00:00Z',
      lastNonInteractiveSignInRequestId: '',
    },
  };
}

function item(id: string, name: string, parent: string | null, extra: JsonObject = {}): JsonObject {
  const base: JsonObject = { id, name };
  if (parent) base.parentReference = { driveId: DRIVE_ID, driveType: 'documentLibrary', id: parent };
  return { ...base, ...extra };
}

/** Five users (user 3 without a mailbox), three sites, one drive with a folder hierarchy. */
function makeTenant(userCount = 5): TenantData {
  const users = Array.from({ length: userCount }, (_, i) => makeUser(i + 1));
  return {
    tenantId: 'tenant-1',
    domains: [{ id: 'contoso.com', isVerified: true, isDefault: true }],
    users,
    userRegistrationDetails: users.map((u) => ({ id: u.id ?? null, userPrincipalName: u.userPrincipalName ?? null, isMfaRegistered: true, userType: 'member' })),
    roleAssignments: [
      { id: 'ra-1', principalId: userId(1), resourceScope: '/', directoryScopeId: '/', roleDefinitionId: '62e90394-69f5-4237-9190-012177145e10' },
      { id: 'ra-2', principalId: 'sp-unknown', resourceScope: '/', directoryScopeId: '/', roleDefinitionId: '62e90394-69f5-4237-9190-012177145e10' },
    ],
    roleEligibilitySchedules: [],
    securityDefaults: { id: '00000000-0000-0000-0000-000000000005', displayName: 'Security Defaults', isEnabled: false },
    conditionalAccessPolicies: [{ id: 'ca-1', displayName: 'Require MFA', state: 'enabled' }],
    messageRules: {
      [userId(1)]: [{ id: 'AQAAAJ5dZp8=', displayName: 'Forward', sequence: 1, isEnabled: true, actions: { forwardTo: [] } }],
      [userId(2)]: [],
      [userId(4)]: [],
      [userId(5)]: [],
    },
    signIns: [
      { id: 's-old', createdDateTime: '2026-01-01T08:00:00Z', userId: userId(1) },
      { id: 's-new', createdDateTime: '2026-01-03T08:00:00.1234567Z', userId: userId(2) },
      { id: 's-mid', createdDateTime: '2026-01-02T08:00:00Z', userId: userId(1) },
    ],
    sites: [
      {
        site: { id: SITE_IDS[1] ?? '', name: 'Site A', webUrl: 'https://contoso.sharepoint.com/sites/a' },
        drives: [
          {
            drive: { id: DRIVE_ID, name: 'Documents', driveType: 'documentLibrary' },
            items: [
              item('root', 'root', null, { root: {}, folder: { childCount: 2 } }),
              item('f1', 'Projects', 'root', { folder: { childCount: 2 }, shared: { scope: 'organization' } }),
              item('i1', 'plan.docx', 'f1', { file: {} }),
              item('i2', 'budget.xlsx', 'f1', { file: {} }),
              item('i3', 'readme.txt', 'root', { file: {} }),
            ],
            permissions: {
              f1: [{ id: 'p1', roles: ['read'], link: { scope: 'organization', type: 'view', webUrl: 'https://x' } }],
            },
          },
        ],
      },
      { site: { id: SITE_IDS[0] ?? '', name: 'Root', root: {}, webUrl: 'https://contoso.sharepoint.com' }, drives: [] },
      { site: { id: SITE_IDS[2] ?? '', name: 'Site B', webUrl: 'https://contoso.sharepoint.com/sites/b' }, drives: [] },
    ],
    sharepointSettings: { sharingCapability: 'externalUserAndGuestSharing' },
  };
}

const UA = 'ISV|Contoso|m365-audit/0.1.0';

function client(sim: SimServer) {
  const { agent, call } = simClient(sim, { userAgent: UA });
  /** Follows nextLinks verbatim; returns every page's body. */
  const pages = async (first: string, init: { headers?: Record<string, string> } = {}): Promise<Answer[]> => {
    const out: Answer[] = [];
    let next: string | undefined = first;
    while (next) {
      const a = await call(next, init);
      expect(a.status).toBe(200);
      out.push(a);
      next = a.json['@odata.nextLink'];
    }
    return out;
  };
  return { agent, call, pages };
}

describe('Graph simulator (throttling off)', () => {
  let sim: SimServer;
  let c: ReturnType<typeof client>;

  beforeAll(async () => {
    sim = await startSimulator({ tenant: makeTenant(), throttle: false });
    c = client(sim);
  });
  afterAll(async () => {
    await c.agent.close();
    await sim.close();
  });
  beforeEach(() => {
    sim.setFaults([]);
    sim.resetCounts();
  });

  test('serves https on 127.0.0.1 with a CA file', () => {
    expect(sim.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(sim.caPem).toContain('BEGIN CERTIFICATE');
    expect(sim.caPath).toMatch(/graph-sim-ca\.pem$/);
  });

  test('401 InvalidAuthenticationToken without a bearer token', async () => {
    const none = await c.call('/users', { token: null });
    expect(none.status).toBe(401);
    expect(none.json.error.code).toBe('InvalidAuthenticationToken');
    expect(none.json.error.innerError['request-id']).toBe(none.headers.get('request-id'));
    expect(none.headers.get('client-request-id')).toBeTruthy();
    const empty = await c.call('/users', { headers: { Authorization: 'Bearer ' }, token: null });
    expect(empty.status).toBe(401);
  });

  test('unknown paths answer 404 Graph errors', async () => {
    const a = await c.call('/nothing/here');
    expect(a.status).toBe(404);
    expect(a.json.error.code).toBe('Request_ResourceNotFound');
    const b = await c.call('/drives/nope/root/delta');
    expect(b.status).toBe(404);
    expect(b.json.error.code).toBe('itemNotFound');
  });

  test('users page with $top=2 across nextLinks followed verbatim', async () => {
    const pages = await c.pages('/users?$top=2');
    expect(pages.map((p) => p.json.value.length)).toEqual([2, 2, 1]);
    const first = pages[0]?.json;
    expect(first['@odata.context']).toBe(`${sim.url}/v1.0/$metadata#users`);
    const link = new URL(first['@odata.nextLink']);
    expect(first['@odata.nextLink'].startsWith(`${sim.url}/v1.0/users?`)).toBe(true);
    expect(link.searchParams.get('$top')).toBe('2');
    const token = link.searchParams.get('$skiptoken') ?? '';
    expect(token).not.toMatch(/^\d+$/);
    const ids = pages.flatMap((p) => p.json.value.map((u: JsonObject) => u.id));
    expect(ids).toEqual([1, 2, 3, 4, 5].map(userId));
    // Default property set: no signInActivity unless selected.
    expect(pages[0]?.json.value[0].signInActivity).toBeUndefined();
    expect(pages[0]?.json.value[0].businessPhones).toEqual([]);
  });

  test('users with $select=…signInActivity keep the selection across pages', async () => {
    const pages = await c.pages('/users?$select=displayName,signInActivity&$top=2');
    expect(pages).toHaveLength(3);
    expect(pages[0]?.json['@odata.context']).toBe(`${sim.url}/v1.0/$metadata#users(displayName,signInActivity)`);
    for (const p of pages) {
      for (const u of p.json.value) {
        expect(Object.keys(u).sort()).toEqual(['displayName', 'id', 'signInActivity']);
        expect(u.signInActivity.lastNonInteractiveSignInDateTime).toBe('0001-01-01T00:00:00Z');
      }
    }
    const bad = await c.call('/users?$select=nope');
    expect(bad.status).toBe(400);
  });

  test('an invalid or foreign $skiptoken is a 400', async () => {
    expect((await c.call('/users?$skiptoken=2')).status).toBe(400);
    const first = await c.call('/users?$top=2');
    const token = new URL(first.json['@odata.nextLink']).searchParams.get('$skiptoken') ?? '';
    expect((await c.call(`/roleManagement/directory/roleAssignments?$skiptoken=${token}`)).status).toBe(400);
  });

  test('messageRules: rules, MailboxNotEnabledForRESTAPI, ErrorInvalidUser', async () => {
    const ok = await c.call(`/users/${userId(1)}/mailFolders/inbox/messageRules`);
    expect(ok.status).toBe(200);
    expect(ok.json.value).toHaveLength(1);
    const noMailbox = await c.call(`/users/${userId(3)}/mailFolders/inbox/messageRules`);
    expect(noMailbox.status).toBe(404);
    expect(noMailbox.json.error.code).toBe('MailboxNotEnabledForRESTAPI');
    expect(noMailbox.json.error.message).toBe('The mailbox is either inactive, soft-deleted, or is hosted on-premise.');
    const unknown = await c.call('/users/nobody/mailFolders/inbox/messageRules');
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.code).toBe('ErrorInvalidUser');
  });

  test('$batch: >20 items or duplicate ids refuse the whole batch', async () => {
    const many = Array.from({ length: 21 }, (_, i) => ({ id: String(i + 1), method: 'GET', url: '/domains' }));
    const tooMany = await c.call('/$batch', { method: 'POST', body: { requests: many } });
    expect(tooMany.status).toBe(400);
    expect(tooMany.json.error.code).toBe('BadRequest');
    const dup = await c.call('/$batch', {
      method: 'POST',
      body: { requests: [{ id: 'a', method: 'GET', url: '/domains' }, { id: 'A', method: 'GET', url: '/domains' }] },
    });
    expect(dup.status).toBe(400);
    expect(sim.counts().domains).toBe(0);
  });

  test('$batch: items reordered, one throttled inside a 200 with its own Retry-After', async () => {
    sim.setFaults([{ endpoint: 'messageRules', match: new RegExp(userId(2)), status: 429, retryAfter: 2.128, times: 1 }]);
    const requests = [1, 2, 3, 4, 5].map((n) => ({
      id: String(n),
      method: 'GET',
      // The docs show urls with and without the leading slash.
      url: `${n % 2 ? '/' : ''}users/${userId(n)}/mailFolders/inbox/messageRules`,
    }));
    const res = await c.call('/$batch', { method: 'POST', body: { requests } });
    expect(res.status).toBe(200);
    const responses: Array<{ id: string; status: number; headers: Record<string, string>; body: any }> = res.json.responses;
    expect(responses.map((r) => r.id).sort()).toEqual(['1', '2', '3', '4', '5']);
    expect(responses.map((r) => r.id)).not.toEqual(['1', '2', '3', '4', '5']);
    const byId = new Map(responses.map((r) => [r.id, r]));
    expect(byId.get('1')?.status).toBe(200);
    expect(byId.get('1')?.body.value).toHaveLength(1);
    expect(byId.get('2')?.status).toBe(429);
    expect(byId.get('2')?.headers['Retry-After']).toBe('2.128');
    expect(byId.get('2')?.body.error.code).toBe('TooManyRequests');
    expect(byId.get('2')?.body.error.innerError.status).toBe('429');
    expect(byId.get('3')?.status).toBe(404);
    expect(byId.get('3')?.body.error.code).toBe('MailboxNotEnabledForRESTAPI');
    const counts = sim.counts();
    expect(counts.messageRules).toBe(5);
    expect(counts.batch).toBe(1);
    expect(counts.throttled).toBe(1);
    expect(counts.total).toBe(1);
  });

  test('a malformed-JSON fault answers 200 with an unparsable body, then stops', async () => {
    const fault = { endpoint: 'domains' as const, malformed: true, times: 1 };
    sim.setFaults([fault]);
    const bad = await c.call('/domains');
    expect(fault.times).toBe(0);
    expect(bad.status).toBe(200);
    expect(() => JSON.parse(bad.text)).toThrow();
    const good = await c.call('/domains');
    expect(good.json.value[0].id).toBe('contoso.com');
  });

  test('status faults carry default Graph codes', async () => {
    sim.setFaults([
      { endpoint: 'roleEligibilitySchedules', status: 403 },
      { match: /identitySecurityDefaults/, status: 503, retryAfter: 3, times: 1 },
    ]);
    const denied = await c.call('/roleManagement/directory/roleEligibilitySchedules');
    expect(denied.status).toBe(403);
    expect(denied.json.error.code).toBe('Authorization_RequestDenied');
    expect(denied.json.error.message).toBe('Insufficient privileges to complete the operation.');
    const down = await c.call('/policies/identitySecurityDefaultsEnforcementPolicy');
    expect(down.status).toBe(503);
    expect(down.headers.get('retry-after')).toBe('3');
    const up = await c.call('/policies/identitySecurityDefaultsEnforcementPolicy');
    expect(up.status).toBe(200);
    expect(up.json.isEnabled).toBe(false);
    expect(up.json.value).toBeUndefined();
    expect(up.headers.get('content-type')).toContain('odata.metadata=minimal');
  });

  test('roleAssignments $expand=principal embeds the trimmed user', async () => {
    const a = await c.call('/roleManagement/directory/roleAssignments?$expand=principal');
    expect(a.json['@odata.context']).toMatch(/#roleManagement\/directory\/roleAssignments\(principal\(\)\)$/);
    const ra1 = a.json.value.find((r: JsonObject) => r.id === 'ra-1');
    expect(ra1.principal).toEqual({
      '@odata.type': '#microsoft.graph.user',
      id: userId(1),
      accountEnabled: true,
      displayName: 'User 1',
      imAddresses: [],
      mail: 'user1@contoso.com',
      mailNickname: 'user1',
      userType: 'Member',
    });
  });

  test('signIns newest first, filtered, nextLink under lower-case signins', async () => {
    const a = await c.call('/auditLogs/signIns?$filter=createdDateTime ge 2026-01-02T00:00:00Z&$top=1');
    expect(a.json.value.map((s: JsonObject) => s.id)).toEqual(['s-new']);
    expect(a.json['@odata.nextLink']).toMatch(new RegExp(`^${sim.url.replace(/\./g, '\\.')}/v1\\.0/auditLogs/signins\\?`));
    const b = await c.call(a.json['@odata.nextLink']);
    expect(b.json.value.map((s: JsonObject) => s.id)).toEqual(['s-mid']);
    expect(b.json['@odata.nextLink']).toBeUndefined();
    const all = await c.call('/auditLogs/signIns');
    expect(all.json.value.map((s: JsonObject) => s.id)).toEqual(['s-new', 's-mid', 's-old']);
  });

  test('getAllSites pages continue under sites/oneDrive.getAllSites, links after value', async () => {
    const first = await c.call('/sites/getAllSites?$top=2');
    expect(Object.keys(first.json)).toEqual(['value', '@odata.nextLink']);
    expect(first.json['@odata.nextLink'].startsWith(`${sim.url}/v1.0/sites/oneDrive.getAllSites?`)).toBe(true);
    expect(first.json['@odata.nextLink']).toContain('$skiptoken=');
    const second = await c.call(first.json['@odata.nextLink']);
    expect(second.json.value).toHaveLength(1);
    const ids = [...first.json.value, ...second.json.value].map((s: JsonObject) => s.id);
    expect(ids).toEqual([...SITE_IDS].sort());
  });

  test('site drives and item permissions', async () => {
    const drives = await c.call(`/sites/${SITE_IDS[1]}/drives`);
    expect(drives.json.value.map((d: JsonObject) => d.id)).toEqual([DRIVE_ID]);
    const perms = await c.call(`/drives/${encodeURIComponent(DRIVE_ID)}/items/f1/permissions`);
    expect(perms.json.value[0].link.scope).toBe('organization');
    expect((await c.call(`/drives/${encodeURIComponent(DRIVE_ID)}/items/nope/permissions`)).status).toBe(404);
  });

  test('sharepoint settings are the bare object', async () => {
    const s = await c.call('/admin/sharepoint/settings');
    expect(s.json.sharingCapability).toBe('externalUserAndGuestSharing');
  });

  test('delta: pages to a deltaLink, then only changes, then 410 after expiry', async () => {
    const prefer = { headers: { Prefer: 'hierarchicalsharing' } };
    const base = `/drives/${encodeURIComponent(DRIVE_ID)}/root/delta`;
    const linkPrefix = `${sim.url}/v1.0/drives/${encodeURIComponent(DRIVE_ID)}/root/delta?token=`;
    const pages: Answer[] = [];
    let next: string | undefined = `${base}?$top=2`;
    let deltaLink: string | undefined;
    while (next) {
      const p = await c.call(next, prefer);
      expect(p.status).toBe(200);
      expect(p.json['@odata.context']).toBeUndefined();
      pages.push(p);
      next = p.json['@odata.nextLink'];
      if (next) {
        expect(Object.keys(p.json)).toEqual(['value', '@odata.nextLink']);
        expect(next.startsWith(linkPrefix)).toBe(true);
      } else {
        expect(Object.keys(p.json)).toEqual(['value', '@odata.deltaLink']);
        deltaLink = p.json['@odata.deltaLink'];
      }
    }
    expect(pages.map((p) => p.json.value.length)).toEqual([2, 2, 1]);
    expect(pages.flatMap((p) => p.json.value.map((i: JsonObject) => i.id))).toEqual(['root', 'f1', 'i1', 'i2', 'i3']);
    // Only the item the tenant data marks keeps the shared facet.
    expect(pages.flatMap((p) => p.json.value).filter((i: JsonObject) => i.shared).map((i: JsonObject) => i.id)).toEqual(['f1']);
    expect(deltaLink?.startsWith(linkPrefix)).toBe(true);

    /** One delta round from a deltaLink: every page's items (the $top=2 of the first call sticks) and the new deltaLink. */
    const round = async (link: string): Promise<{ items: JsonObject[]; deltaLink: string }> => {
      const items: JsonObject[] = [];
      let at: string | undefined = link;
      for (;;) {
        const p: Answer = await c.call(at ?? '', prefer);
        expect(p.status).toBe(200);
        items.push(...p.json.value);
        if (p.json['@odata.deltaLink']) return { items, deltaLink: p.json['@odata.deltaLink'] };
        at = p.json['@odata.nextLink'];
      }
    };

    // Nothing changed: an empty round.
    const quiet = await round(deltaLink ?? '');
    expect(quiet.items).toEqual([]);

    sim.applyDriveChange(DRIVE_ID, { upsert: item('i3', 'readme.txt', 'root', { file: {}, shared: { scope: 'anonymous' } }) });
    const changed = await round(quiet.deltaLink);
    // The changed item's parent (here the root) comes back with it, in hierarchy order.
    expect(changed.items.map((i) => i.id)).toEqual(['root', 'i3']);
    expect(changed.items[1]?.shared).toEqual({ scope: 'anonymous' });

    sim.applyDriveChange(DRIVE_ID, { deleteItemId: 'f1' });
    const deleted = await round(changed.deltaLink);
    expect(deleted.items.map((i) => i.id)).toEqual(['root', 'f1', 'i1', 'i2']);
    for (const d of deleted.items.slice(1)) {
      expect(d.deleted).toEqual({});
      expect(Object.keys(d).every((k) => ['id', 'name', 'parentReference', 'deleted'].includes(k))).toBe(true);
    }
    expect((await c.call(`/drives/${encodeURIComponent(DRIVE_ID)}/items/f1/permissions`)).status).toBe(404);

    sim.expireDeltaTokens(DRIVE_ID);
    const gone = await c.call(deleted.deltaLink);
    expect(gone.status).toBe(410);
    expect(gone.json.error.code).toBe('resyncRequired');
    const location = gone.headers.get('location') ?? '';
    expect(location.startsWith(linkPrefix)).toBe(true);
    const restart = await c.call(location);
    expect(restart.status).toBe(200);
    expect(restart.json.value.map((i: JsonObject) => i.id)).toEqual(['root', 'i3']);
    expect(restart.json['@odata.deltaLink']).toBeDefined();
  });

  test('a sharing-only drive change comes back in delta only to Sites.FullControl.All with the sharing Prefer values', async () => {
    const base = `/drives/${encodeURIComponent(DRIVE_ID)}/root/delta`;
    const latest = await c.call(`${base}?token=latest`);
    expect(latest.json.value).toEqual([]);
    sim.applyDriveChange(DRIVE_ID, { itemId: 'i3', permissions: [{ id: 'p9', roles: ['read'], link: { scope: 'anonymous', type: 'view' } }] });
    const prefer = { Prefer: 'hierarchicalsharing, deltashowsharingchanges, deltashowremovedasdeleted, deltatraversepermissiongaps' };
    const fullControl = simulatorToken(['Sites.FullControl.All']);
    // An opaque token, a JWT with Sites.Read.All only, or FullControl without the Prefer values: nothing.
    expect((await c.call(latest.json['@odata.deltaLink'], { headers: prefer })).json.value).toEqual([]);
    expect((await c.call(latest.json['@odata.deltaLink'], { headers: prefer, token: simulatorToken(['Sites.Read.All']) })).json.value).toEqual([]);
    expect((await c.call(latest.json['@odata.deltaLink'], { token: fullControl, headers: { Prefer: 'hierarchicalsharing' } })).json.value).toEqual([]);
    const after = await c.call(latest.json['@odata.deltaLink'], { headers: prefer, token: fullControl });
    // Its parent comes too, without the annotation (msgraph-sdk-java#2548).
    expect(after.json.value.map((i: JsonObject) => i.id)).toEqual(['root', 'i3']);
    expect(after.json.value[0]['@microsoft.graph.sharedChanged']).toBeUndefined();
    expect(after.json.value[1]['@microsoft.graph.sharedChanged']).toBe('True');
    const perms = await c.call(`/drives/${encodeURIComponent(DRIVE_ID)}/items/i3/permissions`);
    expect(perms.json.value[0].link.scope).toBe('anonymous');
    expect(() => sim.applyDriveChange(DRIVE_ID, { itemId: 'nope', permissions: null })).toThrow();
  });

  test('incremental delta returns a changed item\'s ancestors unless deltaExcludeParent is sent, in the form the options honour', async () => {
    const base = `/drives/${encodeURIComponent(DRIVE_ID)}/root/delta`;
    const plain = { Prefer: 'hierarchicalsharing' };
    const prefer = { Prefer: 'hierarchicalsharing, deltaExcludeParent' };
    const header = { Prefer: 'hierarchicalsharing', deltaExcludeParent: 'true' };
    /** The ids of one incremental round after an edit of i1 (under f1), for each of `headers`. */
    const roundsAfterEdit = async (mode: 'header' | 'prefer' | 'either' | 'ignored' | undefined): Promise<string[][]> => {
      const s = await startSimulator({ tenant: makeTenant(), throttle: false, ...(mode ? { deltaExcludeParent: mode } : {}) });
      const cc = client(s);
      try {
        const out: string[][] = [];
        for (const headers of [plain, prefer, header]) {
          const latest = await cc.call(`${base}?token=latest`);
          s.applyDriveChange(DRIVE_ID, { upsert: item('i1', 'plan.docx', 'f1', { file: {}, size: out.length }) });
          const r = await cc.call(latest.json['@odata.deltaLink'], { headers });
          out.push(r.json.value.map((i: JsonObject) => i.id));
        }
        return out;
      } finally {
        await cc.agent.close();
        await s.close();
      }
    };
    const all = ['root', 'f1', 'i1'];
    // Default ('either'): both forms leave the parents out.
    expect(await roundsAfterEdit(undefined)).toEqual([all, ['i1'], ['i1']]);
    expect(await roundsAfterEdit('header')).toEqual([all, all, ['i1']]);
    expect(await roundsAfterEdit('prefer')).toEqual([all, ['i1'], all]);
    expect(await roundsAfterEdit('ignored')).toEqual([all, all, all]);
  });

  test('a wrong method on a known path is a 405', async () => {
    const a = await c.call('/$batch');
    expect(a.status).toBe(405);
    expect(a.json.error.code).toBe('Request_BadRequest');
  });

  test('sendMail answers 202 with no body and records the message', async () => {
    const message = { subject: 'Digest', body: { contentType: 'Text', content: 'hi' }, toRecipients: [{ emailAddress: { address: 'a@contoso.com' } }] };
    const sent = await c.call(`/users/${userId(1)}/sendMail`, { method: 'POST', body: { message, saveToSentItems: false } });
    expect(sent.status).toBe(202);
    expect(sent.text).toBe('');
    expect(sim.sentMail()).toEqual([{ sender: userId(1), message }]);
    const bad = await c.call(`/users/${userId(1)}/sendMail`, { method: 'POST', body: { subject: 'no wrapper' } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('ErrorInvalidRequest');
  });

  test('counts() per endpoint, batch items under their endpoint; user agents recorded', async () => {
    await c.call('/domains');
    await c.call('/users');
    await c.call('/$batch', {
      method: 'POST',
      body: {
        requests: [
          { id: '1', method: 'GET', url: '/domains' },
          { id: '2', method: 'GET', url: 'identity/conditionalAccess/policies' },
        ],
      },
    });
    const counts = sim.counts();
    expect(counts).toMatchObject({ domains: 2, users: 1, conditionalAccess: 1, batch: 1, throttled: 0, total: 3 });
    expect(sim.userAgents()).toContain(UA);
  });
});

describe('Graph simulator page cap with signInActivity', () => {
  let sim: SimServer;
  let c: ReturnType<typeof client>;
  beforeAll(async () => {
    sim = await startSimulator({ tenant: makeTenant(1200) });
    c = client(sim);
  });
  afterAll(async () => {
    await c.agent.close();
    await sim.close();
  });

  test('$top=999 gives 999 users; with signInActivity an oversize $top is refused with 400 by default', async () => {
    const plain = await c.call('/users?$select=id,displayName&$top=999');
    expect(plain.json.value).toHaveLength(999);
    const refused = await c.call('/users?$select=id,signInActivity&$top=999');
    expect(refused.status).toBe(400);
    expect(refused.json.error.message).toBe('Cannot query data for more than 500 users at a time.');
    const ok = await c.call('/users?$select=id,signInActivity&$top=500');
    expect(ok.json.value).toHaveLength(500);
  });

  test('capped instead (the older doc revision), and with the other limit of 120', async () => {
    const capped = await startSimulator({ tenant: makeTenant(1200), signInActivityPaging: { oversize: 'cap' } });
    const cc = client(capped);
    try {
      const sia = await cc.call('/users?$select=id,signInActivity&$top=999');
      expect(sia.json.value).toHaveLength(500);
      expect(sia.json['@odata.nextLink']).toContain('$top=999');
      const rest = await cc.pages(sia.json['@odata.nextLink']);
      expect(rest.map((p) => p.json.value.length)).toEqual([500, 200]);
    } finally {
      await cc.agent.close();
      await capped.close();
    }
    const small = await startSimulator({ tenant: makeTenant(300), signInActivityPaging: { maxSize: 120 } });
    const sc = client(small);
    try {
      expect((await sc.call('/users?$select=id,signInActivity&$top=500')).status).toBe(400);
      expect((await sc.call('/users?$select=id,signInActivity&$top=120')).json.value).toHaveLength(120);
    } finally {
      await sc.agent.close();
      await small.close();
    }
  });

  test('a tenant without Entra ID P1 answers 403 on signInActivity, the registration report and sign-ins, not on the plain list', async () => {
    const free = await startSimulator({ tenant: makeTenant(10), licence: 'free' });
    const fc = client(free);
    try {
      for (const path of ['/users?$select=id,signInActivity', '/reports/authenticationMethods/userRegistrationDetails', '/auditLogs/signIns']) {
        const r = await fc.call(path);
        expect(r.status).toBe(403);
        expect(r.json.error).toMatchObject({ code: 'Authentication_RequestFromNonPremiumTenantOrB2CTenant', message: "Neither tenant is B2C or tenant doesn't have premium license" });
      }
      expect((await fc.call('/users?$select=id,displayName')).status).toBe(200);
    } finally {
      await fc.agent.close();
      await free.close();
    }
  });
});

describe('Graph simulator throttling (default limits)', () => {
  let sim: SimServer;
  let c: ReturnType<typeof client>;
  beforeAll(async () => {
    sim = await startSimulator({ tenant: makeTenant() });
    c = client(sim);
  });
  afterAll(async () => {
    await c.agent.close();
    await sim.close();
  });
  beforeEach(() => {
    sim.resetThrottling();
    sim.resetCounts();
  });

  test('Conditional Access: a second quick call is a 429 without Retry-After', async () => {
    const first = await c.call('/identity/conditionalAccess/policies');
    expect(first.status).toBe(200);
    expect(first.json['@odata.context']).toBe(`${sim.url}/v1.0/$metadata#conditionalAccess/policies`);
    const second = await c.call('/identity/conditionalAccess/policies');
    expect(second.status).toBe(429);
    expect(second.headers.get('retry-after')).toBeNull();
    expect(second.json.error.code).toBe('TooManyRequests');
    expect(sim.counts().throttled).toBe(1);
  });

  test('identity reports: the sixth call within 10 s is a 429 with a fractional-capable Retry-After', async () => {
    const statuses: number[] = [];
    let last: Answer | undefined;
    for (let i = 0; i < 6; i++) {
      last = await c.call(i % 2 ? '/auditLogs/signIns' : '/reports/authenticationMethods/userRegistrationDetails');
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    const retryAfter = Number(last?.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(2);
    expect(last?.headers.get('retry-after')).toMatch(/^\d+(\.\d{1,3})?$/);
    expect(last?.json.error.innerError.code).toBe('429');
    expect(sim.counts()).toMatchObject({ signIns: 3, userRegistrationDetails: 3, throttled: 1 });
  });

  test('users with signInActivity: 10 a minute', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await c.call('/users?$select=id,signInActivity')).status);
    expect(statuses.filter((s) => s === 429)).toHaveLength(1);
    expect((await c.call('/users?$select=id')).status).toBe(200);
  });
});

describe('Graph simulator latency', () => {
  let sim: SimServer;
  let c: ReturnType<typeof client>;
  beforeAll(async () => {
    sim = await startSimulator({ tenant: makeTenant(), throttle: false, latencyMs: 100 });
    c = client(sim);
  });
  afterAll(async () => {
    await c.agent.close();
    await sim.close();
  });

  test('a batch runs its items in groups of 4: 8 items cost two latencies, not eight', async () => {
    await c.call('/domains'); // warm the TLS connection
    const requests = Array.from({ length: 8 }, (_, i) => ({ id: String(i + 1), method: 'GET', url: '/domains' }));
    const started = Date.now();
    const res = await c.call('/$batch', { method: 'POST', body: { requests } });
    const took = Date.now() - started;
    expect(res.status).toBe(200);
    // Causal bounds, not a speed target: two sequential groups cannot take less than two
    // latencies, and eight sequential items could not take less than eight.
    expect(took).toBeGreaterThanOrEqual(190);
    expect(took).toBeLessThan(800);
  });
});

describe('Graph simulator: SharePoint permissions, shared facet and resource units', () => {
  const perms = (id: string) => `/drives/${encodeURIComponent(DRIVE_ID)}/items/${id}/permissions`;
  const delta = `/drives/${encodeURIComponent(DRIVE_ID)}/root/delta`;

  test('a child lists its ancestors\' permissions under the same ids, without inheritedFrom on a business drive, with it on a personal one', async () => {
    const tenant = makeTenant();
    const sim = await startSimulator({ tenant, throttle: false });
    const c = client(sim);
    try {
      const child = await c.call(perms('i1'));
      expect(child.json.value).toEqual([{ id: 'p1', roles: ['read'], link: { scope: 'organization', type: 'view', webUrl: 'https://x' } }]);
      expect((await c.call(perms('i3'))).json.value).toEqual([]);
      const drive = sim.tenant.sites[0]?.drives[0];
      if (!drive) throw new Error('fixture changed');
      drive.drive.driveType = 'personal';
      expect((await c.call(perms('i1'))).json.value[0].inheritedFrom).toEqual({ driveId: DRIVE_ID, id: 'f1' });
      expect((await c.call(perms('f1'))).json.value[0].inheritedFrom).toBeUndefined();
    } finally {
      await c.agent.close();
      await sim.close();
    }
  });

  test('omitSharedFacet leaves `shared` out of delta for those items only', async () => {
    const sim = await startSimulator({ tenant: makeTenant(), throttle: false, omitSharedFacet: ['f1'] });
    const c = client(sim);
    try {
      const items = (await c.pages(delta)).flatMap((a) => a.json.value as JsonObject[]);
      expect(items.find((i) => i.id === 'f1')?.shared).toBeUndefined();
      expect(items.find((i) => i.id === 'f1')?.folder).toBeDefined();
      expect((await c.call(perms('f1'))).json.value).toHaveLength(1);
    } finally {
      await c.agent.close();
      await sim.close();
    }
  });

  test('resource units: a permission read costs 5, RateLimit-* near the limit, then 429 with Retry-After; batch items count one by one', async () => {
    // 12 RU refilled over 10 minutes: nothing refills noticeably during the test.
    const sim = await startSimulator({ tenant: makeTenant(), throttle: { sharepoint: { limit: 12, perSeconds: 600 } } });
    const c = client(sim);
    try {
      const first = await c.call(perms('f1'));
      expect(first.status).toBe(200);
      expect(first.headers.get('ratelimit-remaining')).toBeNull(); // 7 of 12 left: above 20%
      const second = await c.call(perms('f1'));
      expect(second.status).toBe(200);
      expect(second.headers.get('ratelimit-limit')).toBe('12');
      expect(second.headers.get('ratelimit-remaining')).toBe('2');
      expect(Number(second.headers.get('ratelimit-reset'))).toBeGreaterThan(0);
      const third = await c.call(perms('f1'));
      expect(third.status).toBe(429);
      expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(third.headers.get('ratelimit-remaining')).toBe('2');
      // Other families are not affected.
      expect((await c.call('/domains')).status).toBe(200);

      sim.resetThrottling();
      const batch = await c.call('/$batch', { method: 'POST', body: { requests: ['f1', 'i1', 'i3'].map((id, n) => ({ id: String(n), method: 'GET', url: perms(id) })) } });
      const statuses = (batch.json.responses as Array<{ id: string; status: number }>).sort((a, b) => a.id.localeCompare(b.id)).map((r) => r.status);
      expect(statuses.filter((s) => s === 200)).toHaveLength(2);
      expect(statuses.filter((s) => s === 429)).toHaveLength(1);
    } finally {
      await c.agent.close();
      await sim.close();
    }
  });

  test('resource units: a delta without a token costs 2, with one 1', async () => {
    const sim = await startSimulator({ tenant: makeTenant(), throttle: { sharepoint: { limit: 3, perSeconds: 600 } } });
    const c = client(sim);
    try {
      const fresh = await c.call(delta);
      expect(fresh.status).toBe(200);
      const link = fresh.json['@odata.deltaLink'] as string;
      // 1 RU left: a second fresh enumeration (2) is refused, the deltaLink (1) is not.
      expect((await c.call(delta)).status).toBe(429);
      const next = await c.call(link);
      expect(next.status).toBe(200);
      expect(next.headers.get('ratelimit-remaining')).toBe('0');
      expect((await c.call(link)).status).toBe(429);
    } finally {
      await c.agent.close();
      await sim.close();
    }
  });

  test('the licence count sizes the resource-unit band', () => {
    expect(resolveLimits(undefined)).toMatchObject({ sharepoint: { limit: 1_200, perSeconds: 60 } });
    expect(resolveLimits(undefined, 999)).toMatchObject({ sharepoint: { limit: 1_200 } });
    expect(resolveLimits(undefined, 1_000)).toMatchObject({ sharepoint: { limit: 2_400 } });
    expect(resolveLimits(undefined, 14_999)).toMatchObject({ sharepoint: { limit: 3_600 } });
    expect(resolveLimits(undefined, 20_000)).toMatchObject({ sharepoint: { limit: 4_800 } });
    expect(resolveLimits(undefined, 80_000)).toMatchObject({ sharepoint: { limit: 6_000 } });
    expect(resolveLimits({ sharepoint: { limit: 5, perSeconds: 1 } }, 80_000)).toMatchObject({ sharepoint: { limit: 5, perSeconds: 1 } });
  });
});
