/**
 * Issue 13, "read less" for MFA registration, against the simulator over HTTPS: the report is
 * read with `$filter=isMfaRegistered eq false` plus the role holders' own records, and MFA-01/02,
 * the access inventory and plausibility come out as they do from the unfiltered read.
 */
import { DEFAULT_COLLECT_OPTIONS } from '../../src/collect/context';
import { collectMfaRegistration, MAX_HOLDER_READS, registrationHolders, registrationReadCost } from '../../src/collect/identity';
import type { MfaRegistration, Slice, SliceData, Snapshot } from '../../src/collect/snapshot';
import { validatePolicy, type Policy } from '../../src/config/policy';
import { accessInventory } from '../../src/digest/inventory';
import { checkPlausibility } from '../../src/findings/plausibility';
import { evaluate } from '../../src/rules/engine';
import { memberWithoutMfa, privilegedWithoutMfa } from '../../src/rules/mfa';
import type { AnyRule } from '../../src/rules/rule';
import { generateDemoTenant } from '../../src/sim/demo-tenant';
import type { DemoTenant, JsonObject } from '../../src/sim/tenant';
import { startTestSim, testContext, type TestSim } from '../support/sim';

const MFA_0102 = [privilegedWithoutMfa, memberWithoutMfa] as unknown as AnyRule[];
/** Refuses the filter as a revision without filtering would: the collector must read unfiltered. */
const REFUSE_FILTER = { endpoint: 'userRegistrationDetails' as const, match: /isMfaRegistered/i, status: 400, code: 'BadRequest' };

const FAST = { identityReports: { limit: 10_000, perSeconds: 1 }, signInActivity: { limit: 10_000, perSeconds: 1 } };

interface Read {
  users: Slice<SliceData['users']>;
  roles: Slice<SliceData['roles']>;
  mfa: Slice<MfaRegistration[]>;
  /** Report pages and one-by-one reads this collection sent. */
  pages: number;
  single: number;
}

/**
 * The MFA cost guard's page-size assumption (CollectOptions.registrationPageSize): 1 makes the
 * whole report always dearer, so these tests exercise the filtered read on small tenants; the
 * guard's own tests below use the simulator's real page size.
 */
async function read(t: TestSim, policy: Policy, registrationPageSize = 1): Promise<Read> {
  // The simulator does not throttle here; the client's own identity-reports pacing (5 / 10 s) is
  // lifted so that the tests measure requests, not waits.
  const ctx = testContext(t.graph({ budgets: FAST }), { policy, options: { ...DEFAULT_COLLECT_OPTIONS, registrationPageSize } });
  const users = await ctx.slice('users');
  const roles = await ctx.slice('roles');
  const before = t.sim.counts();
  const mfa = await collectMfaRegistration(ctx);
  const after = t.sim.counts();
  const diff = (k: string): number => (after[k] ?? 0) - (before[k] ?? 0);
  return { users, roles, mfa, pages: diff('userRegistrationDetails'), single: diff('userRegistrationDetail') };
}

function snapshotOf(r: Read): Snapshot {
  return { tenantId: 'test-tenant', takenAt: new Date(), slices: { users: r.users, roles: r.roles, mfaRegistration: r.mfa } };
}

function mfaFindings(r: Read, policy: Policy): string[] {
  return evaluate(snapshotOf(r), MFA_0102, policy, ['mfa']).findings.map((f) => `${f.ruleId} ${f.subject.id}`).sort();
}

/** Reads the same tenant filtered, then unfiltered (the filter refused), on one simulator. */
async function bothReads(demo: DemoTenant, plant: (t: TestSim, holders: string[]) => void, extra: { maxPageSize?: number } = {}): Promise<{ filtered: Read; unfiltered: Read; t: TestSim; policy: Policy }> {
  const policy = validatePolicy(demo.policy, 'demo policy');
  const faults = [{ ...REFUSE_FILTER, times: 0 }];
  const t = await startTestSim({
    tenant: JSON.parse(JSON.stringify(demo.data)),
    throttle: false,
    faults,
    ...(extra.maxPageSize ? { maxPageSize: { userRegistrationDetails: extra.maxPageSize } } : {}),
  });
  try {
    const first = await read(t, policy);
    if (first.roles.status === 'failed') throw new Error('roles not read');
    plant(t, registrationHolders(first.roles.data));
    const filtered = await read(t, policy);
    faults[0]!.times = Number.MAX_SAFE_INTEGER;
    const unfiltered = await read(t, policy);
    return { filtered, unfiltered, t, policy };
  } catch (err) {
    await t.close();
    throw err;
  }
}

const recordOf = (t: TestSim, id: string): JsonObject | undefined => (t.sim.tenant.userRegistrationDetails as JsonObject[]).find((r) => r.id === id);
const userOf = (t: TestSim, id: string): JsonObject | undefined => (t.sim.tenant.users as JsonObject[]).find((u) => u.id === id);

describe('filtered registration read', () => {
  it('gives the same MFA-01/02 findings as the unfiltered read, with the planted edge cases', async () => {
    const demo = generateDemoTenant({ seed: 520, users: 60 });
    const planted: Record<string, string> = {};
    const { filtered, unfiltered, t, policy } = await bothReads(demo, (sim, holders) => {
      const report = sim.sim.tenant.userRegistrationDetails as JsonObject[];
      const registeredHolders = holders.filter((id) => recordOf(sim, id)?.isMfaRegistered === true);
      // A registered admin, an admin who is not registered, a disabled admin (no record).
      const [registered, unregistered, disabled] = registeredHolders;
      if (!registered || !unregistered || !disabled) throw new Error('the demo tenant has too few registered role holders');
      Object.assign(recordOf(sim, unregistered)!, { isMfaRegistered: false, methodsRegistered: [] });
      userOf(sim, disabled)!.accountEnabled = false;
      report.splice(report.findIndex((r) => r.id === disabled), 1);
      // A disabled unregistered member: the report leaves it out...
      const member = report.find((r) => r.isMfaRegistered === false && !holders.includes(String(r.id)))!;
      userOf(sim, String(member.id))!.accountEnabled = false;
      report.splice(report.indexOf(member), 1);
      // ...and one that a revision including disabled users would list: both reads return it.
      const kept = report.find((r) => r.isMfaRegistered === false && !holders.includes(String(r.id)))!;
      userOf(sim, String(kept.id))!.accountEnabled = false;
      Object.assign(planted, { registered, unregistered, disabled, member: String(member.id), kept: String(kept.id) });
    });
    try {
      expect(filtered.mfa).toMatchObject({ status: 'complete', readFilter: { filter: 'isMfaRegistered eq false' } });
      expect(unfiltered.mfa.status).toBe('complete');
      if (filtered.mfa.status === 'failed' || unfiltered.mfa.status === 'failed') return;
      expect(unfiltered.mfa.readFilter).toBeUndefined();
      const found = mfaFindings(filtered, policy);
      expect(found).toEqual(mfaFindings(unfiltered, policy));
      expect(found).toContain(`MFA-01 ${planted.unregistered}`);
      expect(found.some((f) => f.endsWith(` ${planted.registered}`) || f.endsWith(` ${planted.disabled}`) || f.endsWith(` ${planted.kept}`) || f.endsWith(` ${planted.member}`))).toBe(false);
      // The registered admin's record was read one by one, with its methods (MFA-05, issue 15).
      const reg = filtered.mfa.data.find((r) => r.id === planted.registered);
      expect(reg).toMatchObject({ isMfaRegistered: true });
      expect(reg?.methodsRegistered?.length).toBeGreaterThan(0);
      // The disabled admin has no record either way; it was asked for (404) and counts as covered.
      expect(filtered.mfa.data.some((r) => r.id === planted.disabled)).toBe(false);
      expect(filtered.mfa.readFilter?.alsoRead).toContain(planted.disabled);
      // Every record the filtered read kept is the unfiltered read's record.
      const all = new Map(unfiltered.mfa.data.map((r) => [r.id, r]));
      for (const r of filtered.mfa.data) expect(all.get(r.id)).toEqual(r);
      // What the count counts is said.
      expect(filtered.mfa.detail).toMatch(/^read with \$filter=isMfaRegistered eq false: \d+ unregistered user\(s\), plus \d+ record\(s\) of role holders read one by one/);
    } finally {
      await t.close();
    }
  }, 60_000);

  it('with no unregistered user at all: findings agree (none), the holders are known registered, and 0 is not suspect', async () => {
    const demo = generateDemoTenant({ seed: 521, users: 40 });
    const { filtered, unfiltered, t, policy } = await bothReads(demo, (sim) => {
      for (const r of sim.sim.tenant.userRegistrationDetails as JsonObject[]) Object.assign(r, { isMfaRegistered: true, methodsRegistered: ['mobilePhone'] });
    });
    try {
      expect(mfaFindings(filtered, policy)).toEqual([]);
      expect(mfaFindings(unfiltered, policy)).toEqual([]);
      if (filtered.mfa.status === 'failed') throw new Error('failed');
      expect(filtered.mfa.data.every((r) => r.isMfaRegistered)).toBe(true);
      expect(filtered.mfa.items).toBeGreaterThan(0);
      expect(checkPlausibility({ mfaRegistration: filtered.mfa }, { mfaRegistration: { items: 500, scanId: 's', startedAt: '2026-11-01T00:00:00Z' } }, { minFractionOfLast: 0.5, maxResolvedShare: 0.5, minOpenForShare: 10 })).toEqual([]);
    } finally {
      await t.close();
    }
  }, 60_000);

  it('the access inventory shows registered admins as registered, as from the unfiltered read', async () => {
    const demo = generateDemoTenant({ seed: 522, users: 60 });
    const { filtered, unfiltered, t, policy } = await bothReads(demo, () => undefined);
    try {
      const rows = (r: Read) => accessInventory(snapshotOf(r), policy, 'scan').privileged.rows;
      const a = rows(filtered);
      expect(a).toEqual(rows(unfiltered));
      const users = a.filter((r) => r.principalType === 'user');
      expect(users.some((r) => r.mfaRegistered === true)).toBe(true);
      // A user holder is unknown only when the report has no record of it (disabled).
      for (const r of users.filter((x) => x.mfaRegistered === null)) expect(recordOf(t, r.principalId)).toBeUndefined();
    } finally {
      await t.close();
    }
  }, 60_000);

  it('reads fewer report pages on a larger tenant', async () => {
    const demo = generateDemoTenant({ seed: 523, users: 2000 });
    const { filtered, unfiltered, t, policy } = await bothReads(demo, () => undefined, { maxPageSize: 100 });
    try {
      if (filtered.mfa.status === 'failed' || unfiltered.mfa.status === 'failed') throw new Error('failed');
      const enabled = (t.sim.tenant.userRegistrationDetails as JsonObject[]).length;
      const unregistered = (t.sim.tenant.userRegistrationDetails as JsonObject[]).filter((r) => r.isMfaRegistered === false).length;
      // The unfiltered read here starts with the refused filtered request (400).
      const full = unfiltered.pages - 1;
      expect(full).toBe(Math.ceil(enabled / 100));
      expect(filtered.pages).toBe(Math.ceil(unregistered / 100));
      expect(filtered.pages).toBeLessThan(full / 2);
      // Report pages plus one-by-one holder reads still cost fewer identity-reports requests.
      expect(filtered.single).toBeGreaterThan(0);
      expect(filtered.pages + filtered.single).toBeLessThan(full);
      expect(unfiltered.single).toBe(0);
      expect(mfaFindings(filtered, policy)).toEqual(mfaFindings(unfiltered, policy));
    } finally {
      await t.close();
    }
  }, 120_000);

  it('falls back to the unfiltered read when the service refuses the filter (400), with a note', async () => {
    const demo = generateDemoTenant({ seed: 524, users: 30 });
    const t = await startTestSim({ tenant: JSON.parse(JSON.stringify(demo.data)), throttle: false, faults: [REFUSE_FILTER] });
    try {
      const r = await read(t, validatePolicy(demo.policy, 'demo policy'));
      expect(r.mfa).toMatchObject({ status: 'complete', items: t.sim.tenant.userRegistrationDetails.length });
      if (r.mfa.status === 'failed') return;
      expect(r.mfa.readFilter).toBeUndefined();
      expect(r.mfa.detail).toMatch(/^read unfiltered: the service refused \$filter=isMfaRegistered eq false \(400 BadRequest\)/);
      expect(r.pages).toBe(2);
      expect(r.single).toBe(0);
    } finally {
      await t.close();
    }
  }, 60_000);
});

describe('filtered registration read, when part of it cannot be done', () => {
  it('a role holder\'s record refused (403, not 404) means the unfiltered read, never less', async () => {
    const demo = generateDemoTenant({ seed: 526, users: 30 });
    const t = await startTestSim({ tenant: JSON.parse(JSON.stringify(demo.data)), throttle: false, faults: [{ endpoint: 'userRegistrationDetail', status: 403, code: 'Authorization_RequestDenied', times: 1 }] });
    try {
      const r = await read(t, validatePolicy(demo.policy, 'demo policy'));
      expect(r.mfa).toMatchObject({ status: 'complete', items: t.sim.tenant.userRegistrationDetails.length });
      if (r.mfa.status === 'failed') return;
      expect(r.mfa.readFilter).toBeUndefined();
      expect(r.mfa.detail).toMatch(/^read unfiltered: the record of role holder \S+ could not be read \(403 Authorization_RequestDenied\)/);
      expect(r.single).toBe(1);
    } finally {
      await t.close();
    }
  }, 60_000);

  it('without the roles slice: the filtered read alone, marked as covering no holder', async () => {
    const demo = generateDemoTenant({ seed: 527, users: 30 });
    const t = await startTestSim({ tenant: JSON.parse(JSON.stringify(demo.data)), throttle: false, faults: [{ endpoint: 'roleAssignments', status: 403, code: 'Authorization_RequestDenied' }] });
    try {
      const ctx = testContext(t.graph({ budgets: FAST, maxAttempts: 1 }), { policy: validatePolicy(demo.policy, 'demo policy'), options: { ...DEFAULT_COLLECT_OPTIONS, registrationPageSize: 1 } });
      const mfa = await collectMfaRegistration(ctx);
      const unregistered = (t.sim.tenant.userRegistrationDetails as JsonObject[]).filter((r) => r.isMfaRegistered === false).length;
      expect(mfa).toMatchObject({ status: 'complete', items: unregistered, readFilter: { filter: 'isMfaRegistered eq false', alsoRead: null } });
      if (mfa.status === 'failed') return;
      expect(mfa.detail).toMatch(/role holders' records not read \(the roles slice failed\)/);
      expect(t.sim.counts().userRegistrationDetail ?? 0).toBe(0);
    } finally {
      await t.close();
    }
  }, 60_000);
});

describe('simulator: userRegistrationDetails filters as documented', () => {
  let t: TestSim;
  beforeAll(async () => {
    t = await startTestSim({ tenant: generateDemoTenant({ seed: 525, users: 30 }).data, throttle: false });
  });
  afterAll(async () => t.close());
  const report = '/reports/authenticationMethods/userRegistrationDetails';

  it('serves isMfaRegistered eq true and eq false, which together are the whole report', async () => {
    const g = t.graph({ budgets: FAST });
    const ids = async (filter: string): Promise<string[]> => {
      const out: string[] = [];
      for await (const page of g.pages(`${report}?$filter=${encodeURIComponent(filter)}`)) out.push(...page.value.map((r) => String((r as JsonObject).id)));
      return out;
    };
    const yes = await ids('isMfaRegistered eq true');
    const no = await ids('isMfaRegistered eq false');
    const all = (t.sim.tenant.userRegistrationDetails as JsonObject[]);
    expect(no).toEqual(all.filter((r) => r.isMfaRegistered === false).map((r) => String(r.id)).sort());
    expect([...yes, ...no].sort()).toEqual(all.map((r) => String(r.id)).sort());
    expect(yes.length).toBeGreaterThan(0);
    expect(no.length).toBeGreaterThan(0);
  });

  it.each([
    ['ne (the docs give eq only)', 'isMfaRegistered ne true'],
    ['id (no "Supports $filter")', "id eq '00000000-0000-0000-0000-000000000000'"],
    ['isAdmin (no "Supports $filter")', 'isAdmin eq true'],
  ])('refuses %s with 400', async (_what, filter) => {
    await expect(t.graph({ maxAttempts: 1, budgets: FAST }).get(`${report}?$filter=${encodeURIComponent(filter)}`)).rejects.toMatchObject({ status: 400 });
  });

  it('answers one user\'s record, and 404 for a user the report leaves out', async () => {
    const g = t.graph({ maxAttempts: 1, budgets: FAST });
    const rec = (t.sim.tenant.userRegistrationDetails as JsonObject[])[0]!;
    await expect(g.get(`${report}/${String(rec.id)}`)).resolves.toMatchObject({ id: rec.id, isMfaRegistered: rec.isMfaRegistered });
    const disabled = (t.sim.tenant.users as JsonObject[]).find((u) => u.accountEnabled === false);
    expect(disabled).toBeDefined();
    await expect(g.get(`${report}/${String(disabled!.id)}`)).rejects.toMatchObject({ status: 404 });
  });
});

describe('MFA cost guard: the whole report where it costs fewer identity-report requests', () => {
  it('estimates both costs explicitly', () => {
    // Up front (holders not known yet): only a one-page report is read unfiltered at once.
    expect(registrationReadCost({ enabledUsers: 30, holdersToRead: null })).toMatchObject({ unfilteredRequests: 1, choice: 'unfiltered' });
    expect(registrationReadCost({ enabledUsers: 1000, holdersToRead: null })).toMatchObject({ unfilteredRequests: 1, choice: 'unfiltered' });
    expect(registrationReadCost({ enabledUsers: 1001, holdersToRead: null })).toMatchObject({ unfilteredRequests: 2, choice: 'filtered' });
    expect(registrationReadCost({ enabledUsers: 0, holdersToRead: null })).toMatchObject({ unfilteredRequests: 1, choice: 'unfiltered' });
    // After the filtered read: the holders' reads against the report's pages (a tie: the report).
    expect(registrationReadCost({ enabledUsers: 2000, holdersToRead: 10 })).toMatchObject({ unfilteredRequests: 2, holderRequests: 10, choice: 'unfiltered' });
    expect(registrationReadCost({ enabledUsers: 10_000, holdersToRead: 10 })).toMatchObject({ unfilteredRequests: 10, choice: 'unfiltered' });
    expect(registrationReadCost({ enabledUsers: 10_001, holdersToRead: 10 })).toMatchObject({ unfilteredRequests: 11, choice: 'filtered' });
    expect(registrationReadCost({ enabledUsers: 50_000, holdersToRead: 14 })).toMatchObject({ unfilteredRequests: 50, choice: 'filtered' });
    expect(registrationReadCost({ enabledUsers: 50_000, holdersToRead: 14, pageSize: 5000 })).toMatchObject({ unfilteredRequests: 10, choice: 'unfiltered' });
    // No count of enabled users: the old cap.
    expect(registrationReadCost({ enabledUsers: null, holdersToRead: MAX_HOLDER_READS }).choice).toBe('filtered');
    expect(registrationReadCost({ enabledUsers: null, holdersToRead: MAX_HOLDER_READS + 1 }).choice).toBe('unfiltered');
    expect(registrationReadCost({ enabledUsers: null, holdersToRead: null }).choice).toBe('filtered');
    expect(registrationReadCost({ enabledUsers: 2000, holdersToRead: 10 }).why).toMatch(/10 role holder\(s\) .* whole report \(2 page\(s\) for 2000 enabled user\(s\) at 1000 a page\)/);
  });

  it('a one-page tenant: one unfiltered page, no holder read, the same findings', async () => {
    const demo = generateDemoTenant({ seed: 524, users: 30 });
    const policy = validatePolicy(demo.policy, 'demo policy');
    const t = await startTestSim({ tenant: JSON.parse(JSON.stringify(demo.data)), throttle: false });
    try {
      const guarded = await read(t, policy, 1000);
      const filtered = await read(t, policy, 1);
      if (guarded.mfa.status === 'failed' || filtered.mfa.status === 'failed') throw new Error('failed');
      expect(guarded.pages).toBe(1);
      expect(guarded.single).toBe(0);
      expect(guarded.mfa.readFilter).toBeUndefined();
      expect(guarded.mfa.items).toBe(t.sim.tenant.userRegistrationDetails.length);
      const enabled = (t.sim.tenant.users as JsonObject[]).filter((u) => u.accountEnabled === true).length;
      expect(guarded.mfa.detail).toMatch(new RegExp(`^read unfiltered: ${enabled} enabled user\\(s\\): the whole report is one page`));
      // The filtered read would have cost more requests here.
      expect(filtered.pages + filtered.single).toBeGreaterThan(1);
      expect(mfaFindings(guarded, policy)).toEqual(mfaFindings(filtered, policy));
    } finally {
      await t.close();
    }
  }, 60_000);

  it('more holders to read than report pages: the whole report after the filtered page, never the holders one by one', async () => {
    const demo = generateDemoTenant({ seed: 523, users: 2000 });
    const policy = validatePolicy(demo.policy, 'demo policy');
    const t = await startTestSim({ tenant: JSON.parse(JSON.stringify(demo.data)), throttle: false, maxPageSize: { userRegistrationDetails: 500 } });
    try {
      const guarded = await read(t, policy, 500);
      const filtered = await read(t, policy, 1);
      if (guarded.mfa.status === 'failed' || filtered.mfa.status === 'failed' || guarded.roles.status === 'failed') throw new Error('failed');
      const report = t.sim.tenant.userRegistrationDetails as JsonObject[];
      const unregistered = report.filter((r) => r.isMfaRegistered === false).length;
      const wholePages = Math.ceil(report.length / 500);
      const filteredPages = Math.ceil(unregistered / 500);
      expect(filtered.single).toBeGreaterThan(wholePages);
      expect(guarded.single).toBe(0);
      expect(guarded.pages).toBe(filteredPages + wholePages);
      expect(guarded.pages).toBeLessThan(filtered.pages + filtered.single);
      expect(guarded.mfa.readFilter).toBeUndefined();
      expect(guarded.mfa.detail).toMatch(/^read unfiltered: \d+ role holder\(s\) to read one by one would cost more identity-report requests than the whole report \(\d+ page\(s\) for \d+ enabled user\(s\) at 500 a page\)/);
      expect(mfaFindings(guarded, policy)).toEqual(mfaFindings(filtered, policy));
    } finally {
      await t.close();
    }
  }, 120_000);

  it('the enabled count refused: holders are read one by one as before (at most MAX_HOLDER_READS)', async () => {
    const demo = generateDemoTenant({ seed: 524, users: 30 });
    const policy = validatePolicy(demo.policy, 'demo policy');
    const t = await startTestSim({ tenant: JSON.parse(JSON.stringify(demo.data)), throttle: false, faults: [{ endpoint: 'users', match: /count=true/i, status: 400, code: 'Request_UnsupportedQuery' }] });
    try {
      const r = await read(t, policy, 1000);
      if (r.mfa.status === 'failed') throw new Error('failed');
      expect(r.mfa.readFilter).toMatchObject({ filter: 'isMfaRegistered eq false' });
      expect(r.single).toBeGreaterThan(0);
    } finally {
      await t.close();
    }
  }, 60_000);
});
