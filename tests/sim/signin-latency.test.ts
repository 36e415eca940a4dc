/**
 * The simulator's sign-in ingestion latency: a sign-in listed in `TenantData.signInAvailableAt`
 * is not served by `GET /auditLogs/signIns` (top level, filtered, paged or inside `$batch`) before
 * its time on the simulator's clock, then is served in its place, in Graph's shape.
 */
import { simClient } from '../support/sim-client';
import { startSimulator, type SimServer } from '../../src/sim/server';
import { signInAvailable, type JsonObject, type TenantData } from '../../src/sim/tenant';

jest.setTimeout(60_000);

const T0 = Date.parse('2026-03-02T03:00:00Z');
const MIN = 60_000;

function signIn(id: string, minutesBefore: number): JsonObject {
  return {
    id,
    createdDateTime: new Date(T0 - minutesBefore * MIN).toISOString(),
    userId: '00000000-0000-0000-0000-000000000001',
    userPrincipalName: 'user1@contoso.com',
    status: { errorCode: 50126, failureReason: 'Invalid username or password.', additionalDetails: null },
  };
}

function tenant(): TenantData {
  return {
    tenantId: 'tenant-latency',
    domains: [{ id: 'contoso.com', isVerified: true, isDefault: true }],
    users: [],
    userRegistrationDetails: [],
    roleAssignments: [],
    roleEligibilitySchedules: [],
    securityDefaults: { id: '00000000-0000-0000-0000-000000000005', displayName: 'Security Defaults', isEnabled: false },
    conditionalAccessPolicies: [],
    messageRules: {},
    // 'late' was created 90 minutes before T0 but reaches the log only 10 minutes after T0.
    signIns: [signIn('early', 100), signIn('late', 90), signIn('recent', 5)],
    signInAvailableAt: { late: new Date(T0 + 10 * MIN).toISOString() },
    sites: [],
    sharepointSettings: { sharingCapability: 'disabled' },
  };
}

describe('sign-in ingestion latency', () => {
  let sim: SimServer;
  let now = T0;
  let c: ReturnType<typeof simClient>;

  beforeAll(async () => {
    sim = await startSimulator({ tenant: tenant(), throttle: false, clock: () => new Date(now) });
    c = simClient(sim);
  });
  afterAll(async () => {
    await c.agent.close();
    await sim.close();
  });

  const ids = (body: { value: JsonObject[] }): string[] => body.value.map((s) => s.id as string);
  const filter = `createdDateTime ge ${new Date(T0 - 120 * MIN).toISOString()} and createdDateTime le ${new Date(T0).toISOString()}`;
  const batch = async (): Promise<string[]> => {
    const res = await c.call('/$batch', { method: 'POST', body: { requests: [{ id: '1', method: 'GET', url: `/auditLogs/signIns?$filter=${encodeURIComponent(filter)}` }] } });
    expect(res.status).toBe(200);
    const [item] = res.json.responses as Array<{ status: number; body: { value: JsonObject[] } }>;
    expect(item?.status).toBe(200);
    return item ? ids(item.body) : [];
  };
  /** Every page of a $top=1 read, following nextLinks. */
  const paged = async (): Promise<string[]> => {
    const out: string[] = [];
    let next: string | undefined = `/auditLogs/signIns?$filter=${encodeURIComponent(filter)}&$top=1`;
    while (next) {
      const a = await c.call(next);
      expect(a.status).toBe(200);
      out.push(...ids(a.json));
      next = a.json['@odata.nextLink'];
    }
    return out;
  };

  test('before its time a late sign-in is not served, though its createdDateTime is in range', async () => {
    now = T0;
    expect(ids((await c.call('/auditLogs/signIns')).json)).toEqual(['recent', 'early']);
    expect(ids((await c.call(`/auditLogs/signIns?$filter=${encodeURIComponent(filter)}`)).json)).toEqual(['recent', 'early']);
    expect(await paged()).toEqual(['recent', 'early']);
    expect(await batch()).toEqual(['recent', 'early']);
    // One millisecond before availableAt is still before.
    now = T0 + 10 * MIN - 1;
    expect(await batch()).toEqual(['recent', 'early']);
  });

  test('from its time on it is served in its createdDateTime place, in the stored (Graph) shape only', async () => {
    now = T0 + 10 * MIN;
    const all = (await c.call('/auditLogs/signIns')).json as { value: JsonObject[] };
    expect(ids(all)).toEqual(['recent', 'late', 'early']);
    // Nothing of the latency model leaks into the served record.
    expect(all.value.find((s) => s.id === 'late')).toEqual(signIn('late', 90));
    expect(await paged()).toEqual(['recent', 'late', 'early']);
    expect(await batch()).toEqual(['recent', 'late', 'early']);
  });

  test('signInAvailable: no entry is available at once, an entry from its time, an unparsable one never', () => {
    const t = tenant();
    const [early, late] = t.signIns as [JsonObject, JsonObject];
    expect(signInAvailable(t, early, new Date(0))).toBe(true);
    expect(signInAvailable(t, late, new Date(T0))).toBe(false);
    expect(signInAvailable(t, late, new Date(T0 + 10 * MIN))).toBe(true);
    expect(signInAvailable({ ...t, signInAvailableAt: { late: 'soon' } }, late, new Date(T0 + 1e12))).toBe(false);
  });
});
