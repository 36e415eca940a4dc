import { closeByPerson, reconcile, type LedgerEntry, type ScanOutcome } from '../../src/findings/ledger';
import { fingerprint, type Finding } from '../../src/findings/finding';

const T1 = '2026-11-01T00:00:00.000Z';
const T2 = '2026-11-02T00:00:00.000Z';
const T3 = '2026-11-03T00:00:00.000Z';

function state(subjectId: string, over: Partial<Finding> = {}): Finding {
  const subject = { kind: 'user' as const, id: subjectId, name: `${subjectId}@example.lg.jp` };
  return {
    id: fingerprint(over.ruleId ?? 'ACCT-02', subject), ruleId: 'ACCT-02', clauses: ['4-1-2'], kind: 'state', severity: 'medium', area: 'accounts',
    subject, title: { ja: 't', en: 't' }, evidence: { days: 100 }, status: 'open', firstSeen: 'x', lastSeen: 'x', ...over,
  };
}

function event(subjectId: string, occurrences: Array<{ windowStart: string; signInIds: string[] }>): Finding {
  const subject = { kind: 'user' as const, id: subjectId, name: subjectId };
  return {
    id: fingerprint('SIGN-01', subject), ruleId: 'SIGN-01', clauses: ['5-3-3'], kind: 'event', severity: 'high', area: 'signins',
    subject, title: { ja: 't', en: 't' }, evidence: { occurrences }, status: 'open', firstSeen: 'x', lastSeen: 'x',
  };
}

const complete = { accounts: { status: 'complete' as const, items: 10 }, signins: { status: 'complete' as const, items: 10 } };
const scan = (findings: Finding[], at: string, over: Partial<ScanOutcome> = {}): ScanOutcome => ({ findings, coverage: complete, areas: ['accounts', 'signins'], at, ...over });

/** Applies a reconciliation the way the pipeline writes it. */
function apply(ledger: Map<string, LedgerEntry>, s: ScanOutcome) {
  const rec = reconcile(ledger, s);
  for (const e of rec.changed) ledger.set(e.id, e);
  return rec;
}

describe('ledger reconciliation', () => {
  it('resolves nothing held: a whole subject id (a mailbox of a failed shard range) or a prefix ending in / (a drive)', () => {
    const ledger = new Map<string, LedgerEntry>();
    apply(ledger, scan([state('u1'), state('u2'), state('drive-a/item-1'), state('drive-b/item-2'), state('u1x')], T1));
    // A later scan sees none of them; the rule ran on inputs vouched for outside its holds.
    const rec = apply(ledger, scan([], T2, { coverage: { ...complete, accounts: { status: 'partial', items: 3 } }, completeRules: ['ACCT-02'], holds: ['u1', 'drive-a/'] }));
    const status = (subject: string): string | undefined => ledger.get(state(subject).id)?.status;
    expect([status('u1'), status('drive-a/item-1')]).toEqual(['open', 'open']);
    // Not held: an id that merely starts like a held one, another drive, another user.
    expect([status('u1x'), status('drive-b/item-2'), status('u2')]).toEqual(['resolved', 'resolved', 'resolved']);
    expect(rec.resolved).toHaveLength(3);
  });

  it('opens new findings, moves lastSeen, and changes nothing when the same scan is reconciled twice', () => {
    const ledger = new Map<string, LedgerEntry>();
    const first = apply(ledger, scan([state('a')], T1));
    expect(first.opened).toHaveLength(1);
    const again = apply(ledger, scan([state('a')], T1));
    expect(again.changed).toEqual([]);
    const later = apply(ledger, scan([state('a')], T2));
    expect(later.opened).toEqual([]);
    expect([...ledger.values()][0]).toMatchObject({ status: 'open', firstSeen: T1, lastSeen: T2, history: [{ status: 'open', note: 'new' }] });
  });

  it('resolves a state finding only when a complete scan of its area no longer sees it', () => {
    const ledger = new Map<string, LedgerEntry>();
    apply(ledger, scan([state('a')], T1));
    const id = state('a').id;
    expect(apply(ledger, scan([], T2, { coverage: { accounts: { status: 'partial', items: 5 } } })).resolved).toEqual([]);
    expect(apply(ledger, scan([], T2, { coverage: { accounts: { status: 'failed', items: 0 } } })).resolved).toEqual([]);
    expect(apply(ledger, scan([], T2, { areas: ['signins'] })).resolved).toEqual([]);
    expect(ledger.get(id)?.status).toBe('open');
    expect(apply(ledger, scan([], T2)).resolved).toEqual([id]);
    expect(ledger.get(id)).toMatchObject({ status: 'resolved', resolvedAt: T2 });
  });

  it('in a partial area resolves only the findings of rules that ran on complete inputs, never those of a rule that did not run', () => {
    const ledger = new Map<string, LedgerEntry>();
    const ran = state('a', { ruleId: 'ACCT-01' });
    const skipped = state('b', { ruleId: 'ACCT-02' });
    apply(ledger, scan([ran, skipped], T1));
    // No Entra ID P1: accounts partial, ACCT-02 not evaluated, ACCT-01 ran on the complete user list.
    const partial = { coverage: { accounts: { status: 'partial' as const, items: 5, detail: 'not evaluated: ACCT-02' } } };
    expect(apply(ledger, scan([], T2, { ...partial, completeRules: [] })).resolved).toEqual([]);
    const rec = apply(ledger, scan([], T2, { ...partial, completeRules: ['ACCT-01', 'ACCT-03'] }));
    expect(rec.resolved).toEqual([ran.id]);
    expect(ledger.get(ran.id)).toMatchObject({ status: 'resolved', history: expect.arrayContaining([expect.objectContaining({ note: 'not seen by its rule, run on complete inputs' })]) });
    expect(ledger.get(skipped.id)?.status).toBe('open');
    // Not scanned at all: nothing, whatever the rule list says.
    expect(apply(ledger, scan([], T3, { areas: ['signins'], completeRules: ['ACCT-02'] })).resolved).toEqual([]);
    expect(ledger.get(skipped.id)?.status).toBe('open');
  });

  it('reopens the same entry when a resolved finding comes back', () => {
    const ledger = new Map<string, LedgerEntry>();
    apply(ledger, scan([state('a')], T1));
    apply(ledger, scan([], T2));
    const rec = apply(ledger, scan([state('a')], T3));
    expect(rec.reopened).toEqual([state('a').id]);
    expect(ledger.size).toBe(1);
    expect(ledger.get(state('a').id)).toMatchObject({ status: 'open', resolvedAt: null, reopenCount: 1, firstSeen: T1, lastSeen: T3 });
    expect(ledger.get(state('a').id)?.history.map((h) => h.status)).toEqual(['open', 'resolved', 'open']);
  });

  it('follows exceptions: added → excepted, expired → open again', () => {
    const ledger = new Map<string, LedgerEntry>();
    apply(ledger, scan([state('a')], T1));
    expect(apply(ledger, scan([state('a', { status: 'excepted' })], T2)).excepted).toHaveLength(1);
    expect(ledger.get(state('a').id)?.status).toBe('excepted');
    expect(apply(ledger, scan([state('a')], T3)).unexcepted).toHaveLength(1);
    expect(ledger.get(state('a').id)?.status).toBe('open');
  });

  it('never resolves event findings; appends new occurrences once; a person closes them; a new occurrence reopens', () => {
    const ledger = new Map<string, LedgerEntry>();
    const o1 = { windowStart: T1, signInIds: ['s1', 's2'] };
    const o2 = { windowStart: T2, signInIds: ['s3'] };
    apply(ledger, scan([event('u', [o1])], T1));
    const id = event('u', []).id;
    expect(apply(ledger, scan([], T2)).resolved).toEqual([]);
    expect(apply(ledger, scan([event('u', [o1, o2])], T2)).appended).toEqual([id]);
    expect(apply(ledger, scan([event('u', [o2])], T3)).appended).toEqual([]);
    expect(ledger.get(id)?.evidence.occurrences).toEqual([o1, o2]);

    ledger.set(id, closeByPerson(ledger.get(id) as LedgerEntry, '本人の入力ミスと確認', T3));
    expect(ledger.get(id)?.status).toBe('resolved');
    // Re-reading an old occurrence does not reopen it; a new one does.
    expect(apply(ledger, scan([event('u', [o2])], T3)).reopened).toEqual([]);
    const o3 = { windowStart: T3, signInIds: ['s9'] };
    expect(apply(ledger, scan([event('u', [o3])], T3)).reopened).toEqual([id]);
    expect(ledger.get(id)?.history.some((h) => h.note === 'closed by a person: 本人の入力ミスと確認')).toBe(true);
  });

  it('the same sign-ins read again under another window start are not a new occurrence; one new sign-in is', () => {
    const ledger = new Map<string, LedgerEntry>();
    const o1 = { windowStart: T1, signInIds: ['s1', 's2', 's3'] };
    apply(ledger, scan([event('u', [o1])], T1));
    const id = event('u', []).id;
    // The overlap re-reads the burst and the window slid: same sign-ins, other start.
    expect(apply(ledger, scan([event('u', [{ windowStart: T2, signInIds: ['s2', 's3'] }])], T2)).appended).toEqual([]);
    expect(ledger.get(id)?.evidence.occurrences).toEqual([o1]);
    // One sign-in not seen before: a new occurrence.
    const o3 = { windowStart: T2, signInIds: ['s3', 's4'] };
    expect(apply(ledger, scan([event('u', [o3])], T3)).appended).toEqual([id]);
    // A truncated list cannot prove it holds nothing new: kept.
    const o4 = { windowStart: T3, signInIds: ['s1'], signInIdsTruncated: 40 };
    expect(apply(ledger, scan([event('u', [o4])], T3)).appended).toEqual([id]);
    expect(ledger.get(id)?.evidence.occurrences).toEqual([o1, o3, o4]);
  });
  it('the mass-resolution guard resolves nothing in an area losing more than maxShare of its open findings', () => {
    const guard = { maxShare: 0.5, minOpen: 5, confirmed: false };
    const ledger = new Map<string, LedgerEntry>();
    const eight = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((x) => state(x));
    apply(ledger, scan(eight, T1, { guard }));
    // Three of eight (not more than half): resolved as usual.
    expect(apply(ledger, scan(eight.slice(3), T2, { guard })).resolved).toHaveLength(3);
    // All five left at once: held, every entry stays open, the area is named with the counts.
    const held = apply(ledger, scan([], T3, { guard }));
    expect(held.resolved).toEqual([]);
    expect(held.changed).toEqual([]);
    expect(held.held).toEqual([{ area: 'accounts', wouldResolve: 5, open: 5 }]);
    expect([...ledger.values()].filter((e) => e.status === 'open')).toHaveLength(5);
    // An area with fewer than minOpen open findings is not checked.
    const small = new Map<string, LedgerEntry>();
    apply(small, scan(eight.slice(0, 4), T1, { guard }));
    const all = apply(small, scan([], T2, { guard }));
    expect(all.resolved).toHaveLength(4);
    expect(all.held).toBeUndefined();
  });

  it('holds back a mass resolution at minOpen and resolves it when confirmed, also through completeRules', () => {
    const ledger = new Map<string, LedgerEntry>();
    const five = ['a', 'b', 'c', 'd', 'e'].map((x) => state(x));
    apply(ledger, scan(five, T1));
    const partial = { coverage: { accounts: { status: 'partial' as const, items: 5 } }, completeRules: ['ACCT-02' as const] };
    const held = apply(ledger, scan([five[0] as Finding], T2, { ...partial, guard: { maxShare: 0.5, minOpen: 5, confirmed: false } }));
    expect(held.resolved).toEqual([]);
    expect(held.held).toEqual([{ area: 'accounts', wouldResolve: 4, open: 5 }]);
    expect(held.changed.every((e) => e.status === 'open')).toBe(true);
    const confirmed = apply(ledger, scan([five[0] as Finding], T2, { ...partial, guard: { maxShare: 0.5, minOpen: 5, confirmed: true } }));
    expect(confirmed.resolved).toHaveLength(4);
    expect(confirmed.held).toBeUndefined();
  });
});
