import { validatePolicy } from '../../src/config/policy';
import type { SignInDetection } from '../../src/collect/snapshot';
import {
  detectorConfig, foreignSignIn, LEGACY_CLIENT_APPS, legacyProtocolSignIn, passwordSpray, SignInDetector, successAfterFailures,
  userFailureBurst, type SignInEvent,
} from '../../src/rules/signins';
import { NOW, TENANT_ID } from './fixture';

const T0 = Date.parse('2026-11-26T00:00:00Z');
const MIN = 60_000;
let seq = 0;

/** A sign-in `minutes` after T0. Defaults: a credential failure (50126) of user u1 from 198.51.100.1 in JP. */
function ev(minutes: number, over: Partial<SignInEvent> & { user?: string } = {}): SignInEvent {
  const user = over.user ?? 'u1';
  return {
    id: over.id ?? `s${++seq}`,
    time: T0 + minutes * MIN,
    userId: user,
    userPrincipalName: `${user}@example.lg.jp`,
    ipAddress: '198.51.100.1',
    errorCode: 50126,
    countryOrRegion: 'JP',
    clientAppUsed: 'Browser',
    appDisplayName: 'Office 365 Exchange Online',
    ...over,
  };
}
const ok = (minutes: number, over: Partial<SignInEvent> & { user?: string } = {}) => ev(minutes, { errorCode: 0, ...over });

function detect(events: SignInEvent[], policy = validatePolicy({})): SignInDetection[] {
  const d = new SignInDetector(detectorConfig(policy));
  for (const e of events) d.process(e);
  return d.results();
}
const ids = (detections: SignInDetection[], ruleId: string) => detections.filter((d) => d.ruleId === ruleId).map((d) => d.subject.id).sort();
const range = (n: number, f: (i: number) => SignInEvent) => Array.from({ length: n }, (_, i) => f(i));

describe('SIGN-01 failures of one user', () => {
  it('fires at 10 failures in a window and not at 9', () => {
    expect(ids(detect(range(10, (i) => ev(i * 5))), 'SIGN-01')).toEqual(['u1']);
    expect(ids(detect(range(9, (i) => ev(i * 5))), 'SIGN-01')).toEqual([]);
  });
  it('uses a half-open 60-minute window: 10 failures spanning exactly 60 minutes do not fire, 59.9 do', () => {
    expect(ids(detect(range(10, (i) => ev((i * 60) / 9))), 'SIGN-01')).toEqual([]);
    expect(ids(detect(range(10, (i) => ev((i * 59.9) / 9))), 'SIGN-01')).toEqual(['u1']);
  });
  it('does not count MFA interrupts or other non-credential errors, and honours the policy codes', () => {
    const interrupts = range(12, (i) => ev(i, { errorCode: i % 2 ? 50074 : 50076 }));
    expect(ids(detect(interrupts), 'SIGN-01')).toEqual([]);
    const custom = validatePolicy({ signIns: { credentialFailureCodes: [50074], userFailureThreshold: 3 } });
    expect(ids(detect(range(3, (i) => ev(i, { errorCode: 50074 })), custom), 'SIGN-01')).toEqual(['u1']);
  });
  it('keeps one occurrence per burst and opens another after a quiet window', () => {
    const events = [...range(15, (i) => ev(i)), ...range(10, (i) => ev(180 + i))];
    const [d] = detect(events).filter((x) => x.ruleId === 'SIGN-01');
    expect(d?.occurrences.map((o) => o.failures)).toEqual([15, 10]);
    expect(d?.occurrences[0]).toMatchObject({ windowStart: new Date(T0).toISOString(), windowEnd: new Date(T0 + 14 * MIN).toISOString(), addresses: ['198.51.100.1'], countries: ['JP'], clientApps: ['Browser'] });
    expect(d?.occurrences[0]?.signInIds).toHaveLength(15);
  });
  it('counts a sign-in seen twice once', () => {
    const events = range(9, (i) => ev(i));
    expect(ids(detect([...events, ...events]), 'SIGN-01')).toEqual([]);
  });
});

describe('SIGN-02 password spray', () => {
  const spray = (users: number, spacing = 2) => range(users, (i) => ev(i * spacing, { user: `v${i}`, ipAddress: '192.0.2.45' }));
  it('fires for 5 distinct users from one address in a window, not for 4', () => {
    expect(ids(detect(spray(5)), 'SIGN-02')).toEqual(['192.0.2.45']);
    expect(ids(detect(spray(4)), 'SIGN-02')).toEqual([]);
  });
  it('does not fire when the 5th user comes exactly one window after the first', () => {
    expect(ids(detect(spray(5, 15)), 'SIGN-02')).toEqual([]);
    expect(ids(detect(spray(5, 14.9)), 'SIGN-02')).toEqual(['192.0.2.45']);
  });
  it('counts users, not failures', () => {
    expect(ids(detect(range(20, (i) => ev(i, { user: `v${i % 4}`, ipAddress: '192.0.2.77' }))), 'SIGN-02')).toEqual([]);
  });
  it('counts failures against unknown accounts by their UPN', () => {
    const unknown = range(5, (i) => ev(i, { user: `ghost${i}`, userId: null, ipAddress: '192.0.2.9' }));
    const d = detect(unknown).find((x) => x.ruleId === 'SIGN-02');
    expect(d?.subject).toEqual({ kind: 'ip', id: '192.0.2.9', name: '192.0.2.9' });
    expect(d?.occurrences[0]?.users).toHaveLength(5);
  });
});

describe('SIGN-03 success after failures', () => {
  it('fires for a success after 5 failures in the window before it, not after 4', () => {
    expect(ids(detect([...range(5, (i) => ev(i)), ok(10)]), 'SIGN-03')).toEqual(['u1']);
    expect(ids(detect([...range(4, (i) => ev(i)), ok(10)]), 'SIGN-03')).toEqual([]);
  });
  it('counts only failures less than one window before the success', () => {
    // The first failure at 0 is exactly one window before a success at 60: it does not count.
    expect(ids(detect([...range(5, (i) => ev(i)), ok(60)]), 'SIGN-03')).toEqual([]);
    expect(ids(detect([...range(5, (i) => ev(i)), ok(59.9)]), 'SIGN-03')).toEqual(['u1']);
  });
  it('ignores failures after the success, but a late-arriving earlier failure completes it', () => {
    expect(ids(detect([ok(0), ...range(5, (i) => ev(1 + i))]), 'SIGN-03')).toEqual([]);
    expect(ids(detect([...range(4, (i) => ev(i)), ok(10), ev(5)]), 'SIGN-03')).toEqual(['u1']);
  });
});

describe('SIGN-04 sign-in from abroad', () => {
  it('fires for a success from a country outside allowedCountries only', () => {
    expect(ids(detect([ok(0, { countryOrRegion: 'US' })]), 'SIGN-04')).toEqual(['u1']);
    expect(ids(detect([ok(0, { countryOrRegion: 'JP' }), ok(1, { countryOrRegion: null }), ev(2, { countryOrRegion: 'NL' })]), 'SIGN-04')).toEqual([]);
    expect(ids(detect([ok(0, { countryOrRegion: 'TW' })], validatePolicy({ signIns: { allowedCountries: ['JP', 'TW'] } })), 'SIGN-04')).toEqual([]);
  });
});

describe('SIGN-05 legacy protocol', () => {
  it.each(LEGACY_CLIENT_APPS)('fires for a success with %s', (app) => {
    expect(ids(detect([ok(0, { clientAppUsed: app })]), 'SIGN-05')).toEqual(['u1']);
  });
  it('does not fire for a failed legacy attempt or a modern client', () => {
    expect(ids(detect([ev(0, { clientAppUsed: 'POP3' }), ok(1, { clientAppUsed: 'Mobile Apps and Desktop clients' }), ok(2)]), 'SIGN-05')).toEqual([]);
  });
});

describe('state across runs', () => {
  it('continues windows across runs and never counts a re-read sign-in twice', () => {
    const config = detectorConfig(validatePolicy({}));
    const first = range(6, (i) => ev(i));
    const run1 = new SignInDetector(config);
    first.forEach((e) => run1.process(e));
    expect(run1.results()).toEqual([]);
    const state = JSON.parse(JSON.stringify(run1.snapshot(T0 + 10 * MIN))) as ReturnType<SignInDetector['snapshot']>;
    // Run 2 re-reads the overlap (the first six again) and three new failures: 9 in all.
    const run2 = new SignInDetector(config, JSON.parse(JSON.stringify(state)));
    [...first, ...range(3, (i) => ev(20 + i))].forEach((e) => run2.process(e));
    expect(run2.processed).toBe(3);
    expect(ids(run2.results(), 'SIGN-01')).toEqual([]);
    // With a fourth new failure, the window holds 10.
    const run3 = new SignInDetector(config, JSON.parse(JSON.stringify(state)));
    range(4, (i) => ev(20 + i)).forEach((e) => run3.process(e));
    expect(ids(run3.results(), 'SIGN-01')).toEqual(['u1']);
    expect(run3.results()[0]?.occurrences[0]?.failures).toBe(10);
  });

  it('continues a burst that goes on across runs without counting its sign-ins twice', () => {
    const config = detectorConfig(validatePolicy({}));
    const run1 = new SignInDetector(config);
    range(10, (i) => ev(i)).forEach((e) => run1.process(e));
    const [o1] = run1.results()[0]?.occurrences ?? [];
    expect(o1?.failures).toBe(10);
    const state = JSON.parse(JSON.stringify(run1.snapshot(T0 + 10 * MIN))) as ReturnType<SignInDetector['snapshot']>;
    const run2 = new SignInDetector(config, state);
    range(5, (i) => ev(15 + i)).forEach((e) => run2.process(e));
    const [o2] = run2.results()[0]?.occurrences ?? [];
    // Only the five new failures, marked as the continuation of run 1's occurrence.
    expect(o2).toMatchObject({ failures: 5, continues: o1?.windowStart });
    expect(o2?.signInIds.some((id) => o1?.signInIds.includes(id))).toBe(false);
  });

  it('caps the lists of an occurrence so a large spray still fits in one ledger entry', () => {
    const spray = range(500, (i) => ev(i / 10, { user: `victim${i}`, ipAddress: '192.0.2.200' }));
    const [d] = detect(spray).filter((x) => x.ruleId === 'SIGN-02');
    expect(d?.occurrences[0]).toMatchObject({ distinctUsers: 500, failures: 500, signInIdsTruncated: 400 });
    expect(d?.occurrences[0]?.users).toHaveLength(100);
  });

  it('keeps only one window of state however long the stream', () => {
    const d = new SignInDetector(detectorConfig(validatePolicy({})));
    // 30 days of sign-ins: 200 users failing once an hour each.
    for (let h = 0; h < 30 * 24; h++) {
      for (let u = 0; u < 200; u++) d.process(ev(h * 60 + (u % 50), { user: `w${u}`, ipAddress: `10.0.${u % 7}.1` }));
      d.pruneBefore(T0 + (h + 1) * 60 * MIN);
    }
    const state = d.snapshot(T0 + 30 * 24 * 60 * MIN);
    const kept = Object.values(state.users).reduce((n, list) => n + list.length, 0);
    expect(d.processed).toBe(30 * 24 * 200);
    expect(kept).toBeLessThanOrEqual(200);
    expect(Object.keys(state.seen).length).toBeLessThanOrEqual(200);
  });
});

describe('SIGN rules', () => {
  it('turn each detection into one finding with its occurrences', () => {
    const detections = detect([...range(6, (i) => ev(i, { ipAddress: '203.0.113.5' })), ok(8, { countryOrRegion: 'US', clientAppUsed: 'IMAP4', ipAddress: '203.0.113.5' })]);
    const signIns = { from: '', to: '', read: 7, detections };
    const ctx = { policy: validatePolicy({}), now: NOW, tenantId: TENANT_ID };
    expect(userFailureBurst.evaluate({ signIns }, ctx)).toEqual([]);
    expect(passwordSpray.evaluate({ signIns }, ctx)).toEqual([]);
    const [s3] = successAfterFailures.evaluate({ signIns }, ctx);
    expect(s3).toMatchObject({ subject: { kind: 'user', id: 'u1', name: 'u1@example.lg.jp' }, evidence: { failures: 6, successes: 1 } });
    expect(foreignSignIn.evaluate({ signIns }, ctx)).toHaveLength(1);
    expect(legacyProtocolSignIn.evaluate({ signIns }, ctx)[0]?.evidence).toMatchObject({ occurrences: [{ clientApps: ['IMAP4'], countries: ['US'] }] });
  });
});
