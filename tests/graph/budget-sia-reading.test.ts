/**
 * The signInActivity reading of the budgets (src/graph/budget.ts, RequestBudgets): two accountings
 * of the identity reports (reports-only; reports + signInActivity pages), the strict reading
 * first, and one probe that settles it. On an injected clock: no real time passes.
 */
import { drawsOf, GRAPH_BUDGETS, RequestBudgets, settleProbe } from '../../src/graph/budget';
import { virtualTime } from '../support/virtual-time';

const PAGE = drawsOf('/users?$select=id,signInActivity&$top=500');
const REPORT = drawsOf('/reports/authenticationMethods/userRegistrationDetails?$top=1000');


function budgetsOn(t: ReturnType<typeof virtualTime>): RequestBudgets {
  return new RequestBudgets(GRAPH_BUDGETS, t.clock, t.sleep);
}

const total = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

async function ticks(n = 5): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

describe('the strict reading', () => {
  test('a signInActivity page spends one of the identity reports: 3 pages and 2 reports fill the window', async () => {
    const t = virtualTime({ yieldOnSleep: true });
    const b = budgetsOn(t);
    expect(b.signInActivityReading).toBe('strict');
    for (let i = 0; i < 3; i++) expect(await b.acquireDraws(PAGE)).toBeUndefined();
    for (let i = 0; i < 2; i++) expect(await b.acquireDraws(REPORT)).toBeUndefined();
    expect(t.slept).toEqual([]);
  });

  test('while Graph\'s bucket may still hold a unit, a probe\'s 2xx proves nothing; probes go on until one does', async () => {
    const t = virtualTime({ yieldOnSleep: true });
    const b = budgetsOn(t);
    // Five starts two seconds apart: the window is full at 8 s, but a bucket refilled at 0.5 a
    // second would hold about 4 of its 5 units (4.25 at 8.5 s).
    for (let i = 0; i < 5; i++) {
      await b.acquireDraws(i % 2 ? REPORT : PAGE);
      t.advance(2_000);
    }
    t.advance(-1_500); // 8.5 s after the first
    // Each page waits only for the shared accounting: out at once as a probe; its 2xx proves
    // nothing until the strict reading leaves Graph's bucket under half a unit (4.25, 3.25,
    // 2.25, 1.25 before the first four, 0.25 before the fifth).
    for (let i = 1; i <= 4; i++) {
      const probe = await b.acquireDraws(PAGE);
      expect(probe).toBeDefined();
      settleProbe(probe, 200);
      expect(b.signInActivityReading).toBe('strict');
      expect(b.probesSent).toBe(i);
    }
    const fifth = await b.acquireDraws(PAGE);
    settleProbe(fifth, 200);
    expect(b.signInActivityReading).toBe('lenient');
    expect(b.probesSent).toBe(5);
    expect(t.slept).toEqual([]);
  });

  test('a probe refused after ones that proved nothing: strict for good, one 429', async () => {
    const t = virtualTime({ yieldOnSleep: true });
    const b = budgetsOn(t);
    for (let i = 0; i < 5; i++) {
      await b.acquireDraws(PAGE);
      if (i < 4) t.advance(2_000);
    }
    // At 8 s the window is full, the bucket may hold about 4 units: the probe's 2xx proves nothing.
    const first = await b.acquireDraws(REPORT);
    expect(first).toBeDefined();
    settleProbe(first, 200);
    expect(b.signInActivityReading).toBe('strict');
    const second = await b.acquireDraws(REPORT);
    settleProbe(second, 429);
    expect(b.signInActivityReading).toBe('strictConfirmed');
    expect(b.probesSent).toBe(2);
    expect(await b.acquireDraws(REPORT)).toBeUndefined();
    expect(total(t.slept)).toBeGreaterThan(0);
  });
});

describe('the probe', () => {
  test('a report waiting only for the shared accounting goes out at once as the probe; accepted: lenient for good', async () => {
    const t = virtualTime({ yieldOnSleep: true });
    const b = budgetsOn(t);
    for (let i = 0; i < 3; i++) await b.acquireDraws(PAGE);
    for (let i = 0; i < 2; i++) await b.acquireDraws(REPORT);
    const probe = await b.acquireDraws(REPORT); // reports-only: 3 of 5; shared: full, Graph's bucket empty
    expect(probe).toBeDefined();
    expect(t.slept).toEqual([]);
    expect(b.signInActivityReading).toBe('probing');
    expect(b.probesSent).toBe(1);

    // While it is out, a page that needs the shared accounting waits; it is not a second probe.
    let pageDone = false;
    const page = b.acquireDraws(PAGE).then((p) => {
      pageDone = true;
      return p;
    });
    await ticks();
    expect(pageDone).toBe(false);
    expect(t.slept.length).toBeGreaterThan(0);
    const waitedBefore = total(t.slept);

    settleProbe(probe, 200);
    expect(b.signInActivityReading).toBe('lenient');
    expect(await page).toBeUndefined();
    expect(b.probesSent).toBe(1);
    // Freed by the probe's answer, well before the window moved on.
    expect(total(t.slept) - waitedBefore).toBeLessThanOrEqual(250);
    expect(total(t.slept)).toBeLessThan(10_000);

    // From now on pages are not charged to the identity reports: five more pages (8 of the
    // signInActivity family's 10 a minute) and two reports (5 of 5) go out without waiting.
    const before = total(t.slept);
    for (let i = 0; i < 5; i++) expect(await b.acquireDraws(PAGE)).toBeUndefined();
    for (let i = 0; i < 2; i++) expect(await b.acquireDraws(REPORT)).toBeUndefined();
    expect(total(t.slept)).toBe(before);
    // The reports-only window still holds: the sixth report of the window waits.
    await b.acquireDraws(REPORT);
    expect(total(t.slept)).toBeGreaterThan(before);
    expect(b.probesSent).toBe(1);
  });

  test('a page can be the probe too; refused (429): strict for good, never probed again', async () => {
    const t = virtualTime({ yieldOnSleep: true });
    const b = budgetsOn(t);
    for (let i = 0; i < 5; i++) await b.acquireDraws(REPORT);
    // Reports-only is full as well: a report would wait for its own window, so a page probes.
    const probe = await b.acquireDraws(PAGE);
    expect(probe).toBeDefined();
    expect(t.slept).toEqual([]);
    settleProbe(probe, 429);
    expect(b.signInActivityReading).toBe('strictConfirmed');
    // The next page waits for the shared accounting (the probe counted in it: 6 units at 0 s), whose
    // window is now 5% longer: until two have left it, 10.5 s.
    expect(await b.acquireDraws(PAGE)).toBeUndefined();
    expect(total(t.slept)).toBe(10_500);
    // Fill the shared window again in a burst, Graph's bucket empty: still no probe.
    t.advance(20_000);
    for (let i = 0; i < 5; i++) await b.acquireDraws(i < 2 ? PAGE : REPORT);
    const slept = total(t.slept);
    expect(await b.acquireDraws(PAGE)).toBeUndefined();
    expect(total(t.slept)).toBeGreaterThan(slept);
    expect(b.probesSent).toBe(1);
    expect(b.signInActivityReading).toBe('strictConfirmed');
  });

  test('an inconclusive probe (no answer, 5xx) teaches nothing: a later request probes again', async () => {
    const t = virtualTime({ yieldOnSleep: true });
    const b = budgetsOn(t);
    for (let i = 0; i < 5; i++) await b.acquireDraws(PAGE);
    const first = await b.acquireDraws(REPORT);
    expect(first).toBeDefined();
    settleProbe(first, 503);
    expect(b.signInActivityReading).toBe('strict');
    // A settled probe cannot be settled again.
    settleProbe(first, 200);
    expect(b.signInActivityReading).toBe('strict');
    const second = await b.acquireDraws(REPORT);
    expect(second).toBeDefined();
    expect(b.probesSent).toBe(2);
    settleProbe(second, 0);
    expect(b.signInActivityReading).toBe('strict');
  });

  test('a client that leaves headroom probes once its window is full, and may spend its headroom doing so', async () => {
    const t = virtualTime({ yieldOnSleep: true });
    const b = budgetsOn(t);
    const headroom = { identityReports: 1 };
    for (let i = 0; i < 4; i++) expect(await b.acquireDraws(i % 2 ? REPORT : PAGE, headroom)).toBeUndefined();
    // 4 of 5 used: the strict reading leaves Graph's bucket the headroom's unit, so a 2xx of this
    // probe proves nothing; the next one goes out with the bucket empty and does.
    const first = await b.acquireDraws(PAGE, headroom);
    settleProbe(first, 200);
    expect(b.signInActivityReading).toBe('strict');
    const second = await b.acquireDraws(PAGE, headroom);
    settleProbe(second, 200);
    expect(b.signInActivityReading).toBe('lenient');
    expect(b.probesSent).toBe(2);
    expect(t.slept).toEqual([]);
  });
});

describe('$batch items', () => {
  test('never probe: a batch goes out only once all its items have their budget', async () => {
    const t = virtualTime({ yieldOnSleep: true });
    const b = budgetsOn(t);
    for (let i = 0; i < 5; i++) await b.acquireDraws(REPORT);
    // Where a lone page would be the probe (see above), a batch item waits like any strict one.
    expect(await b.acquireDraws(PAGE, {}, { mayProbe: false })).toBeUndefined();
    expect(b.probesSent).toBe(0);
    expect(total(t.slept)).toBe(10_000);
    expect(b.signInActivityReading).toBe('strict');
  });
});

describe('one request, several draws', () => {
  test('its starts are dated to when the last draw was had, so an early draw does not leave its window too soon', async () => {
    const t = virtualTime({ yieldOnSleep: true });
    const b = new RequestBudgets({ ...GRAPH_BUDGETS, signInActivity: { limit: 1, perSeconds: 60 } }, t.clock, t.sleep);
    // The shared window full (a batch item: no probe): the page's shared draw waits 6 s.
    for (let i = 0; i < 5; i++) {
      await b.acquireDraws(REPORT);
      t.advance(1_000);
    }
    t.advance(-1_000);
    const t0 = t.now();
    await b.acquireDraws(PAGE, {}, { mayProbe: false });
    expect(b.probesSent).toBe(0);
    const sent = t.now();
    expect(sent - t0).toBe(6_000);
    // The next page waits for a minute after the first was SENT, not after its own draw was had.
    await b.acquireDraws(PAGE, {}, { mayProbe: false });
    expect(t.now() - sent).toBeGreaterThanOrEqual(60_000);
  });
});
