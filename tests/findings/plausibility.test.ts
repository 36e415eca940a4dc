/**
 * The plausibility checks (src/findings/plausibility.ts) over literal slices: what is suspect, the
 * message naming both counts, the baselines taken from scan records, and the policy keys.
 */
import type { Snapshot } from '../../src/collect/snapshot';
import { baselinesFrom, checkPlausibility, markSuspects, plausibleCounts, type BaselineSource } from '../../src/findings/plausibility';

const policy = { minFractionOfLast: 0.5, maxResolvedShare: 0.5, minOpenForShare: 5 };
const list = (n: number) => ({ status: 'complete' as const, data: [] as never[], items: n });
const last = { users: { items: 100, scanId: 's1', startedAt: '2026-11-01T00:00:00.000Z' }, sites: { items: 10, scanId: 's1', startedAt: '2026-11-01T00:00:00.000Z' } };

describe('plausibility checks', () => {
  it('zero users or sites is suspect with or without a baseline, and confirming does not accept it', () => {
    const slices: Snapshot['slices'] = { users: list(0), sites: list(0), sharing: { status: 'complete', data: { items: [], drives: 0, resynced: 0 }, items: 0 } };
    expect(checkPlausibility(slices, {}, policy, true).map((s) => s.slice)).toEqual(['users', 'sites', 'sharing']);
    const [users] = checkPlausibility(slices, last, policy);
    expect(users?.reason).toBe(
      'suspect: GET /users answered with 0 users; the last complete scan (2026-11-01T00:00:00.000Z, s1) saw 100, and a tenant always has at least its administrator; nothing is resolved from this answer — check the application\'s permissions and the tenant, then run again',
    );
  });

  it('zero service principals (APP-01) is suspect; half of the last count is not', () => {
    const grants = (n: number): Snapshot['slices'] => ({ appGrants: { status: 'complete', data: { servicePrincipals: n, apps: [] }, items: n } });
    const baseline = { appGrants: { items: 40, scanId: 's1', startedAt: '2026-11-01T00:00:00.000Z' } };
    expect(checkPlausibility(grants(0), {}, policy).map((s) => s.slice)).toEqual(['appGrants']);
    expect(checkPlausibility(grants(0), {}, policy)[0]?.reason).toMatch(/^suspect: GET \/servicePrincipals answered with 0 service principals/);
    expect(checkPlausibility(grants(19), baseline, policy).map((s) => s.slice)).toEqual(['appGrants']);
    expect(checkPlausibility(grants(20), baseline, policy)).toEqual([]);
  });

  it('a drop below minFractionOfLast is suspect; at the fraction, with 0, or confirmed it is not', () => {
    expect(checkPlausibility({ users: list(49) }, last, policy)).toEqual([
      { slice: 'users', reason: expect.stringContaining('answered with 49 users, fewer than 50% (plausibility.minFractionOfLast) of the 100 the last complete scan saw (2026-11-01T00:00:00.000Z, s1)') },
    ]);
    expect(checkPlausibility({ users: list(50) }, last, policy)).toEqual([]);
    expect(checkPlausibility({ users: list(1) }, last, { ...policy, minFractionOfLast: 0 })).toEqual([]);
    expect(checkPlausibility({ users: list(1) }, last, policy, true)).toEqual([]);
    // Role assignments shrink when surplus admins are removed (ACCT-04's remediation): only zero counts.
    expect(checkPlausibility({ roles: { status: 'complete', data: { assignments: [], eligibility: [] }, items: 1 } }, { roles: { items: 40, scanId: 's', startedAt: 't' } }, policy)).toEqual([]);
    // A partial slice is already not trusted: nothing more to say.
    expect(checkPlausibility({ users: { status: 'partial', data: [], items: 0, detail: 'x' } }, last, policy)).toEqual([]);
  });

  it('an incremental signInActivity slice (the candidates only) is neither compared nor kept as a baseline; a full one is', () => {
    const baseline = { signInActivity: { items: 100, scanId: 's1', startedAt: '2026-11-01T00:00:00.000Z' } };
    const incremental = { ...list(3), incremental: { fullReadAt: '2026-11-30T00:00:00.000Z', recentAfter: '2026-09-02T00:00:00Z' } };
    expect(checkPlausibility({ signInActivity: incremental }, baseline, policy)).toEqual([]);
    expect(checkPlausibility({ signInActivity: { ...incremental, items: 0 } }, baseline, policy)).toEqual([]);
    expect(plausibleCounts({ signInActivity: incremental, users: list(100) })).toEqual({ users: 100 });
    // The same count from a full read is a drop below the fraction.
    expect(checkPlausibility({ signInActivity: list(3) }, baseline, policy).map((x) => x.slice)).toEqual(['signInActivity']);
    expect(plausibleCounts({ signInActivity: list(100) })).toEqual({ signInActivity: 100 });
  });

  it('marks suspects partial with the reason and keeps only plausible complete counts as baselines', () => {
    const slices: Snapshot['slices'] = { users: list(0), sites: list(3) };
    const marked = markSuspects(slices, checkPlausibility(slices, {}, policy));
    expect(marked.users).toMatchObject({ status: 'partial', detail: expect.stringMatching(/^suspect: GET \/users answered with 0 users/) });
    expect(marked.sites?.status).toBe('complete');
    expect(plausibleCounts(marked)).toEqual({ sites: 3 });
  });

  it('a filtered registration read (issue 13) may count 0 unregistered users; 0 with role holders asked for is suspect', () => {
    const filtered = (items: number, alsoRead: string[] | null) => ({
      status: 'complete' as const, data: [] as never[], items,
      readFilter: { filter: 'isMfaRegistered eq false', counts: "unregistered users and role holders' records", alsoRead },
    });
    const was = { mfaRegistration: { items: 400, scanId: 's1', startedAt: '2026-11-01T00:00:00.000Z' } };
    // Far below the fraction of an unfiltered baseline: the filtered count is not the population.
    expect(checkPlausibility({ mfaRegistration: filtered(3, ['u1', 'u2']) }, was, policy)).toEqual([]);
    // No role holder to ask for (or the roles unknown): zero unregistered users is a fine answer.
    expect(checkPlausibility({ mfaRegistration: filtered(0, []) }, was, policy)).toEqual([]);
    expect(checkPlausibility({ mfaRegistration: filtered(0, null) }, was, policy)).toEqual([]);
    // Holders asked for, and still nothing: the report cannot have lost its enabled administrator.
    expect(checkPlausibility({ mfaRegistration: filtered(0, ['u1', 'u2']) }, was, policy, true)).toEqual([
      { slice: 'mfaRegistration', reason: expect.stringMatching(/^suspect: GET userRegistrationDetails answered with 0 registration records under \$filter=isMfaRegistered eq false, though the records of 2 role holder\(s\) were asked for too/) },
    ]);
    // The unfiltered read keeps both checks, and only it leaves a baseline.
    expect(checkPlausibility({ mfaRegistration: list(0) }, {}, policy)).toHaveLength(1);
    expect(checkPlausibility({ mfaRegistration: list(100) }, was, policy)).toHaveLength(1);
    expect(plausibleCounts({ mfaRegistration: filtered(3, ['u1']), users: list(9) })).toEqual({ users: 9 });
    expect(plausibleCounts({ mfaRegistration: list(300) })).toEqual({ mfaRegistration: 300 });
  });

  it('takes the newest count per slice from the records, and the primary slice of complete areas from older records', () => {
    const records: BaselineSource[] = [
      { scanId: 'new', startedAt: '3', coverage: { accounts: { status: 'partial', items: 0 } }, slices: { sites: 8 } },
      { scanId: 'mid', startedAt: '2', coverage: { accounts: { status: 'partial', items: 5 }, mail: { status: 'complete', items: 40 } } },
      { scanId: 'old', startedAt: '1', coverage: { accounts: { status: 'complete', items: 60 }, files: { status: 'complete', items: 2 } } },
    ];
    expect(baselinesFrom(records)).toEqual({
      sites: { items: 8, scanId: 'new', startedAt: '3' },
      mailRules: { items: 40, scanId: 'mid', startedAt: '2' },
      users: { items: 60, scanId: 'old', startedAt: '1' },
    });
  });
});
