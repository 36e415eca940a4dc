/**
 * The signInActivity reading against the simulator over HTTPS, under each of its readings
 * (SimOptions.throttleReadings.signInActivity): 12 signInActivity pages and 12 registration-report
 * pages asked for at once by two clients of one app and tenant (a scan's accounts and MFA areas).
 * The client starts strict and one probe settles it (src/graph/budget.ts, RequestBudgets).
 *
 * The probe goes out only when the strict reading says Graph's bucket is empty, which a burst
 * makes certain whatever the machine's load; page chains spread over a loaded machine's slow
 * round trips may leave half a unit and rightly not probe. The compressed clock (timeScale)
 * keeps it short; only outcomes and 429 counts are asserted, never wall time.
 */
import { loadSettings } from '../../src/config/settings';
import { createGraphClient, type GraphClientHandle } from '../../src/graph/client';
import { Graph } from '../../src/graph/graph';
import { clearSharedPacing } from '../../src/graph/pacing';
import { generateDemoTenant } from '../../src/sim/demo-tenant';
import { startSimulator } from '../../src/sim/server';

jest.setTimeout(120_000);

/** Model time runs this much faster (simulator and client alike). */
const SCALE = 5;
const demo = generateDemoTenant({ seed: 913, users: 60 });
const PAGE = 5;

/**
 * `burst`: 24 requests asked for at once. `chains`: two page chains (12 pages each) side by side,
 * each page asked for when the one before it came back, as the collectors read them.
 */
async function workload(reading: 'ownFamily' | 'alsoIdentityReports', shape: 'burst' | 'chains' = 'burst') {
  const sim = await startSimulator({
    tenant: demo.data,
    timeScale: SCALE,
    latencyMs: 20,
    throttleReadings: { signInActivity: reading },
    maxPageSize: { userRegistrationDetails: PAGE },
  });
  const handles: GraphClientHandle[] = [];
  const graphOf = (): Graph => {
    const handle = createGraphClient({ graphUrl: sim.url, settings: loadSettings({}), caPem: sim.caPem, timeScale: SCALE });
    handles.push(handle);
    return new Graph(handle.client, {
      clock: handle.clock.now,
      sleep: handle.clock.sleep,
      baseBackoffMs: 20,
      root: sim.url,
      share: { tenantId: demo.data.tenantId, appId: 'app-sia' },
    });
  };
  try {
    // Two clients of one app and tenant (the accounts and MFA areas, say): one budget registry.
    const accounts = graphOf();
    const mfa = graphOf();
    // Open the connections first (domains draw no identity budget), so that the burst reaches
    // the simulator within a few milliseconds rather than one TLS handshake after another.
    await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? accounts : mfa).get('/domains')));
    let pages: number;
    if (shape === 'burst') {
      const answers = await Promise.all([
        ...Array.from({ length: 12 }, () => accounts.get(`/users?$select=id,signInActivity&$top=${PAGE}`)),
        ...Array.from({ length: 12 }, () => mfa.get(`/reports/authenticationMethods/userRegistrationDetails?$top=${PAGE}`)),
      ]);
      pages = answers.filter((a) => Array.isArray((a as { value?: unknown }).value) && (a as { value: unknown[] }).value.length === PAGE).length;
    } else {
      const [users, registrations] = await Promise.all([
        accounts.all(`/users?$select=id,signInActivity&$top=${PAGE}`),
        mfa.all(`/reports/authenticationMethods/userRegistrationDetails?$top=${PAGE}`),
      ]);
      expect(users).toHaveLength(60);
      expect(registrations).toHaveLength(demo.data.userRegistrationDetails.length);
      pages = Math.ceil(users.length / PAGE) + Math.ceil(registrations.length / PAGE);
    }
    const counts = sim.counts();
    return {
      pages,
      siaPages: counts.signInActivity ?? 0,
      reportPages: counts.userRegistrationDetails ?? 0,
      simThrottled: counts.throttled ?? 0,
      clientThrottled: accounts.stats.throttled + mfa.stats.throttled,
      accounts: accounts.signInActivityReading(),
      mfa: mfa.signInActivityReading(),
      // A later client of the same app and tenant inherits what was learnt.
      later: graphOf().signInActivityReading(),
    };
  } finally {
    await Promise.all(handles.map((h) => h.close()));
    await sim.close();
  }
}

describe('signInActivity reading, learnt from the simulator', () => {
  afterEach(() => clearSharedPacing());

  test('ownFamily: one probe is accepted, the client goes lenient, and no 429 comes back', async () => {
    const r = await workload('ownFamily');
    expect(r.pages).toBe(24);
    expect(r.siaPages).toBe(12);
    expect(r.reportPages).toBe(12);
    expect(r.accounts).toEqual({ reading: 'lenient', probes: 1 });
    expect(r.mfa).toEqual({ reading: 'lenient', probes: 1 });
    expect(r.later).toEqual({ reading: 'lenient', probes: 1 });
    expect(r.simThrottled).toBe(0);
    expect(r.clientThrottled).toBe(0);
  });

  test('chains, ownFamily: probes until one proves the lenient reading, no 429', async () => {
    const r = await workload('ownFamily', 'chains');
    expect(r.siaPages).toBe(12);
    expect(r.accounts.reading).toBe('lenient');
    expect(r.accounts.probes).toBeGreaterThanOrEqual(1);
    expect(r.accounts.probes).toBeLessThanOrEqual(6);
    expect(r.simThrottled).toBe(0);
    expect(r.clientThrottled).toBe(0);
  });

  test('chains, alsoIdentityReports: probes until one is refused, the one 429; strict from then on', async () => {
    const r = await workload('alsoIdentityReports', 'chains');
    expect(r.siaPages).toBe(12);
    expect(r.accounts.reading).toBe('strictConfirmed');
    expect(r.accounts.probes).toBeGreaterThanOrEqual(1);
    expect(r.accounts.probes).toBeLessThanOrEqual(6);
    expect(r.simThrottled).toBe(1);
    expect(r.clientThrottled).toBe(1);
  });

  test('alsoIdentityReports: the probe is refused (the one 429), the client stays strict and paces the rest clean', async () => {
    const r = await workload('alsoIdentityReports');
    expect(r.pages).toBe(24);
    expect(r.siaPages).toBe(12);
    // Report requests are counted refused or not: the refused probe may have been one of them.
    expect(r.reportPages).toBeGreaterThanOrEqual(12);
    expect(r.reportPages).toBeLessThanOrEqual(13);
    expect(r.accounts).toEqual({ reading: 'strictConfirmed', probes: 1 });
    expect(r.later).toEqual({ reading: 'strictConfirmed', probes: 1 });
    expect(r.simThrottled).toBe(1);
    expect(r.clientThrottled).toBe(1);
  });
});
