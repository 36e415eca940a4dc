/**
 * The digest model and the access inventory, each section computed from the ledger, scan records
 * and snapshot of tests/digest/fixture.ts (November 2026 in Tokyo).
 */
import { accessInventory, inventoryComplete, loadInventory, recordInventory, replacesStored } from '../../src/digest/inventory';
import { digestModel, lastFullMonth, monthBounds, statusAt } from '../../src/digest/model';
import { MemoryStore } from '../../src/store/memory';
import { GA, TENANT, ledger, policy, scans, snapshot } from './fixture';

const NOW = new Date('2026-12-01T03:00:00.000Z');

function model(over: { now?: Date; month?: string } = {}) {
  const p = policy();
  return digestModel({ month: over.month ?? '2026-11', tenantId: TENANT, entries: ledger(), scans: scans(), inventory: accessInventory(snapshot(), p, 's-11b'), policy: p, now: over.now ?? NOW });
}

describe('month boundaries in the organisation time zone', () => {
  it('November in Tokyo is 2026-10-31T15:00Z to 2026-11-30T15:00Z', () => {
    expect(monthBounds('2026-11', 'Asia/Tokyo')).toEqual({ start: '2026-10-31T15:00:00.000Z', end: '2026-11-30T15:00:00.000Z' });
  });
  it('the last full month at 00:30 JST on 1 December is November; at 23:30 JST on 30 November it is October', () => {
    expect(lastFullMonth(new Date('2026-11-30T15:30:00Z'), 'Asia/Tokyo')).toBe('2026-11');
    expect(lastFullMonth(new Date('2026-11-30T14:30:00Z'), 'Asia/Tokyo')).toBe('2026-10');
  });
  it('status as of an instant comes from the history, not the current status', () => {
    const d = ledger().find((e) => e.id === 'd-acct02-december');
    if (!d) throw new Error('fixture');
    expect(d.status).toBe('resolved');
    expect(statusAt(d, Date.parse('2026-11-30T15:00:00Z'))).toBe('open');
    expect(statusAt(d, Date.parse('2026-12-06T00:00:00Z'))).toBe('resolved');
    expect(statusAt(d, Date.parse('2026-07-01T00:00:00Z'))).toBeUndefined();
  });
});

describe('digestModel (November 2026)', () => {
  const m = model();

  it('open findings at the month end, by severity and by area; December entries left out', () => {
    // a (critical, mfa), c (high, files, reopened), d (medium, accounts, resolved only in December), h (high, SIGN-02, open).
    expect(m.open.bySeverity).toEqual({ critical: 1, high: 2, medium: 1, low: 0 });
    expect(m.open.total).toBe(4);
    expect(m.open.excepted).toBe(1);
    expect(m.open.byArea.mfa).toEqual({ critical: 1, high: 0, medium: 0, low: 0 });
    expect(m.open.byArea.files).toEqual({ critical: 0, high: 1, medium: 0, low: 0 });
    expect(m.open.byArea.accounts).toEqual({ critical: 0, high: 0, medium: 1, low: 0 });
    expect(m.open.byArea.signins).toEqual({ critical: 0, high: 1, medium: 0, low: 0 });
  });

  it('opened, resolved and reopened in the month, with the JST turn of the month', () => {
    // a (00:30 JST 1 Nov) is November's; b (23:30 JST 31 Oct) is October's.
    expect(m.changes.opened.map((i) => i.id)).toEqual(['a-mfa01-november', 'g-sign01', 'h-sign02']);
    expect(m.changes.resolved.map((i) => [i.id, i.byPerson ?? false])).toEqual([['g-sign01', true], ['b-acct01-october', false]]);
    expect(m.changes.reopened.map((i) => [i.id, i.at])).toEqual([['c-file02-reopened', '2026-11-20T01:00:00.000Z']]);
  });

  it('overdue tickets at the month end, with the responsible person and days overdue', () => {
    expect(m.overdue.map((t) => [t.findingId, t.assignees, t.dueDate, t.daysOverdue])).toEqual([
      ['c-file02-reopened', ['admin@example.lg.jp'], '2026-09-08', 84],
      ['a-mfa01-november', ['soumu-kacho@example.lg.jp'], '2026-11-02', 29],
    ]);
    // d's ticket is due on 25 December: open at the month end, not overdue.
    expect(m.overdue.some((t) => t.findingId === 'd-acct02-december')).toBe(false);
  });

  it('unrouted tickets', () => {
    expect(m.unrouted.map((t) => [t.ticketId, t.routed])).toEqual([['T-c-file02-reo', false]]);
  });

  it('exceptions: active, expiring within 30 days, expired (in the month); one approved later is left out', () => {
    expect(m.exceptions.expired.map((x) => [x.subject, x.expiredInMonth])).toEqual([['shared-reception@example.lg.jp', true]]);
    expect(m.exceptions.expiring.map((x) => [x.subject, x.expiresOn, x.covering])).toEqual([['shared-gikai@example.lg.jp', '2026-12-20', 1]]);
    expect(m.exceptions.active.map((x) => x.subject)).toEqual(['kiosk@example.lg.jp']);
  });

  it("the month's sign-in detections: per rule, top addresses and countries, October's occurrence left out", () => {
    const byRule = Object.fromEntries(m.signIns.byRule.map((r) => [r.ruleId, [r.occurrences, r.subjects, r.failures]]));
    expect(byRule).toEqual({ 'SIGN-01': [1, 1, 12], 'SIGN-02': [1, 1, 30], 'SIGN-03': [0, 0, 0], 'SIGN-04': [0, 0, 0], 'SIGN-05': [0, 0, 0] });
    expect(m.signIns.topAddresses).toEqual([{ address: '203.0.113.5', occurrences: 2 }]);
    expect(m.signIns.topCountries).toEqual([{ country: 'US', occurrences: 2 }, { country: 'NL', occurrences: 1 }]);
    expect(m.signIns.coverage).toBe('complete');
  });

  it("six-month trend from each month's last full scan; a month without one is a gap; the 23:59 JST scan is October's", () => {
    expect(m.trend.map((p) => [p.month, p.counts?.critical ?? null, p.scanId ?? null, p.partial])).toEqual([
      ['2026-06', 3, 's-06', false],
      ['2026-07', 2, 's-07', false],
      ['2026-08', null, null, false],
      ['2026-09', 2, 's-09', false],
      ['2026-10', 1, 's-10b', false],
      // The sign-in watch of 29 November is not a full scan: the 28th's (partial) is the point.
      ['2026-11', 1, 's-11b', true],
    ]);
  });

  it("coverage of the month's scans per area", () => {
    const files = m.coverage.areas.find((a) => a.area === 'files');
    const signins = m.coverage.areas.find((a) => a.area === 'signins');
    expect(m.coverage.scans).toBe(3);
    expect(files).toEqual({ area: 'files', complete: 1, partial: 1, failed: 0, last: 'partial', detail: 'drive b!x: 503 after 5 attempts' });
    expect(signins).toMatchObject({ complete: 3, partial: 0, failed: 0, last: 'complete' });
  });

  it('the clauses no check covers are listed', () => {
    expect(m.manualClauses.length).toBeGreaterThan(10);
    expect(m.manualClauses.map((c) => c.id)).not.toContain('5-1-3');
  });

  it('a past month does not depend on when it is computed', () => {
    expect(model({ now: new Date('2027-03-01T00:00:00Z') })).toEqual(m);
    expect(m.inProgress).toBe(false);
    expect(m.asOf).toBe('2026-11-30T15:00:00.000Z');
  });

  it('the month in progress is as of now, and says so', () => {
    const mid = model({ now: new Date('2026-11-15T00:00:00Z') });
    expect(mid.inProgress).toBe(true);
    expect(mid.changes.reopened).toEqual([]);
    // c was resolved in October and reopens only on 20 November.
    expect(mid.open.byArea.files.high).toBe(0);
    // The reception exception ends at 23:59:59 JST on 15 November: still in force, and expiring.
    expect(mid.exceptions.expiring.map((x) => x.subject)).toContain('shared-reception@example.lg.jp');
  });

  it('the shares of the inventory carry when their finding was first seen', () => {
    const row = m.inventory?.shares.rows.find((r) => r.subjectId === 'b!z/i2');
    expect(row?.firstSeen).toBe('2026-09-03T01:00:00.000Z');
  });
});

describe('accessInventory', () => {
  const inv = accessInventory(snapshot(), policy(), 's-11b');

  it('a Global Administrator held through a group: the member, its group, MFA and last sign-in', () => {
    expect(inv.privileged.rows).toEqual([
      expect.objectContaining({ principalId: 'u-admin', principalName: 'yamada@example.lg.jp', role: 'Global Administrator', roleId: GA, via: 'active', group: 'Tenant Admins', mfaRegistered: false, lastSignIn: '2026-11-27T23:00:00Z', lastSignInKnown: true }),
      expect.objectContaining({ principalId: 'u-direct', role: 'SharePoint Administrator', via: 'active', group: null, mfaRegistered: true, lastSignIn: null, lastSignInKnown: true }),
    ]);
  });

  it('says the privileged list is partial when eligibility could not be read', () => {
    expect(inv.privileged.status).toBe('partial');
    expect(inv.privileged.detail).toContain('roles: partial (roleEligibilitySchedules: 403 (needs Entra ID P2))');
    expect(inventoryComplete(inv)).toBe(false);
  });

  it('every guest, with its state and last sign-in', () => {
    expect(inv.guests.status).toBe('complete');
    expect(inv.guests.rows.map((g) => [g.id, g.accountEnabled, g.externalUserState, g.lastSignIn])).toEqual([
      ['u-guest2', false, 'PendingAcceptance', null],
      ['u-guest', true, 'Accepted', '2026-10-01T03:00:00Z'],
    ]);
  });

  it('after an incremental signInActivity read, a guest not read signed in after its cut-off; one read keeps its time', () => {
    const s = snapshot();
    const activity = s.slices.signInActivity;
    if (!activity || activity.status === 'failed') throw new Error('fixture');
    s.slices.signInActivity = { ...activity, data: activity.data.filter((u) => u.id !== 'u-guest'), incremental: { fullReadAt: '2026-11-28T00:00:00.000Z', recentAfter: '2026-09-01T00:00:00Z' } };
    const rows = accessInventory(s, policy(), 'x').guests.rows;
    expect(rows.find((g) => g.id === 'u-guest')).toMatchObject({ lastSignIn: null, lastSignInKnown: false, lastSignInAfter: '2026-09-01T00:00:00Z' });
    expect(rows.find((g) => g.id === 'u-guest2')).not.toHaveProperty('lastSignInAfter');
    // A full read says nothing of the kind.
    expect(inv.guests.rows.some((g) => 'lastSignInAfter' in g)).toBe(false);
  });

  it('anonymous and external access on class I/II only, expired links and internal grants left out', () => {
    expect(inv.shares.rows.map((s) => [s.subjectId, s.class, s.kind, s.who, s.expires])).toEqual([
      ['b!j/i1', 'I', 'anonymous', ['anyone'], null],
      ['b!z/i2', 'II', 'external', ['partner@vendor.example'], '2027-03-31T15:00:00Z'],
    ]);
    expect(inv.shares.rows[0]?.path).toBe('/sites/jinji/Shared Documents/人事評価.xlsx');
  });

  it('every shared account and the exception that allows it (in force or expired)', () => {
    expect(inv.sharedAccounts.rows.map((a) => [a.userPrincipalName, a.exception?.expiresOn ?? null, a.exception?.inForce ?? null])).toEqual([
      ['shared-gikai@example.lg.jp', '2026-12-20', true],
      ['shared-reception@example.lg.jp', '2026-11-15', false],
    ]);
  });

  it('a slice not read makes its section failed, never an empty complete list', () => {
    const s = snapshot();
    delete s.slices.sharing;
    const partialInv = accessInventory(s, policy(), 'x');
    expect(partialInv.shares.status).toBe('failed');
    expect(partialInv.shares.detail).toContain('sharing: not read by this scan');
    expect(partialInv.shares.rows).toEqual([]);
  });
});

describe('recordInventory: the month keeps its most complete inventory', () => {
  it('a later, less complete scan does not replace a complete one; a later complete one does', async () => {
    const store = new MemoryStore();
    const p = policy();
    const complete = (() => {
      const s = snapshot();
      s.slices.roles = { ...(s.slices.roles as NonNullable<typeof s.slices.roles>), status: 'complete' } as typeof s.slices.roles;
      return accessInventory(s, p, 'first');
    })();
    expect(inventoryComplete(complete)).toBe(true);
    expect(await recordInventory(store, complete, 'Asia/Tokyo')).toBe(true);
    const watch = accessInventory({ tenantId: TENANT, takenAt: new Date('2026-11-29T00:00:00Z'), slices: {} }, p, 'watch');
    expect(replacesStored(complete, watch)).toBe(false);
    expect(await recordInventory(store, watch, 'Asia/Tokyo')).toBe(false);
    expect((await loadInventory(store, TENANT, '2026-11'))?.scanId).toBe('first');
    const later = { ...complete, scanId: 'later', takenAt: '2026-11-29T01:00:00.000Z' };
    expect(await recordInventory(store, later, 'Asia/Tokyo')).toBe(true);
    expect((await loadInventory(store, TENANT, '2026-11'))?.scanId).toBe('later');
    // 00:30 JST on 1 December belongs to December's inventory.
    const december = { ...complete, scanId: 'dec', takenAt: '2026-11-30T15:30:00.000Z' };
    await recordInventory(store, december, 'Asia/Tokyo');
    expect((await loadInventory(store, TENANT, '2026-12'))?.scanId).toBe('dec');
    expect((await loadInventory(store, TENANT, '2026-11'))?.scanId).toBe('later');
  });
});
