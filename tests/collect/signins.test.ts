/**
 * The sign-in watch against the simulator over HTTPS with the store on Azurite: a stream over
 * many pages, a run interrupted mid-stream then resumed without gaps or double counts, and a
 * later run that reads only what is new.
 */
import { randomUUID } from 'node:crypto';
import { collectSignIns, commitWatchState, SIGNIN_STATE_KEY } from '../../src/collect/signins';
import { DEFAULT_COLLECT_OPTIONS } from '../../src/collect/context';
import { validatePolicy } from '../../src/config/policy';
import { generateDemoTenant } from '../../src/sim/demo-tenant';
import { signInAvailable, type JsonObject } from '../../src/sim/tenant';
import { Store } from '../../src/store/store';
import { startTestSim, testContext, type TestSim } from '../support/sim';

const demo = generateDemoTenant({ seed: 4, users: 80 });
const policy = validatePolicy(demo.policy);
const expected = demo.groundTruth.filter((g) => g.ruleId.startsWith('SIGN-')).map((g) => `${g.ruleId} ${g.subjectId}`).sort();
const fast = { budgets: { identityReports: { limit: 1000, perSeconds: 1 } } };
/** What the log shows while these tests run (within 10 minutes of `now`): all but the demo's late arrival. */
const visible = demo.data.signIns.filter((s) => signInAvailable(demo.data, s, new Date(demo.now))).length;

let t: TestSim;
let store: Store;
beforeAll(async () => {
  store = await Store.connect(process.env.AZURE_STORAGE_CONNECTION_STRING ?? '');
});
beforeEach(async () => {
  t = await startTestSim({ tenant: JSON.parse(JSON.stringify(demo.data)), throttle: false, maxPageSize: { signIns: 7 } });
});
afterEach(async () => {
  await t.close();
});

/** Collects, then stores the watch state as the pipeline does once the ledger has the detections. */
async function watch(...args: Parameters<typeof testContext>) {
  const ctx = testContext(...args);
  const slice = await collectSignIns(ctx);
  const next = slice.status !== 'failed' ? slice.pending?.[0] : undefined;
  if (next && ctx.store) await commitWatchState(ctx.store, ctx.tenantId, next);
  return slice;
}

function found(slice: Awaited<ReturnType<typeof collectSignIns>>): string[] {
  if (slice.status === 'failed') throw new Error(`sign-ins failed: ${slice.detail}`);
  return slice.data.detections.map((d) => `${d.ruleId} ${d.subject.id}`).sort();
}

describe('sign-in watch', () => {
  it('streams a day of sign-ins over many pages and finds the planted detections', async () => {
    const tenantId = randomUUID();
    const slice = await watch(t.graph(fast), { policy, tenantId, store });
    expect(found(slice)).toEqual(expected);
    if (slice.status === 'failed') return;
    expect(slice.data.read).toBe(visible);
    expect(t.sim.counts().signIns).toBeGreaterThan(Math.ceil(visible / 7));
    const state = JSON.parse((await store.getStateBlob(tenantId, SIGNIN_STATE_KEY)) ?? '{}') as { watermark: string };
    expect(state.watermark).toBe(slice.data.to);
  });

  it('resumes an interrupted run from the old watermark: no gap, no double count', async () => {
    const tenantId = randomUUID();
    const graph = t.graph({ ...fast, maxAttempts: 2 });
    // Every page after the first fails: the run dies mid-stream.
    t.sim.setFaults([{ endpoint: 'signIns', match: /skiptoken/i, status: 503, retryAfter: 0.01 }]);
    await expect(watch(graph, { policy, tenantId, store })).rejects.toThrow(/auditLogs\/signins.* answered 503/i);
    expect(await store.getStateBlob(tenantId, SIGNIN_STATE_KEY)).toBeUndefined();
    t.sim.setFaults([]);
    const resumed = await watch(graph, { policy, tenantId, store });
    expect(found(resumed)).toEqual(expected);
    if (resumed.status !== 'failed') expect(resumed.data.read).toBe(visible);
  });

  it('on the next run reads only from the watermark (minus the overlap), counting re-read sign-ins once', async () => {
    const tenantId = randomUUID();
    const first = await watch(t.graph(fast), { policy, tenantId, store });
    expect(found(first)).toEqual(expected);
    // New activity after the first run: 10 failures of one user within 10 minutes.
    const victim = demo.data.users.find((u) => u.userType === 'Member' && u.accountEnabled === true) as JsonObject;
    const base = Date.now() + 1_000;
    for (let i = 0; i < 10; i++) {
      t.sim.tenant.signIns.push({
        ...(demo.data.signIns[0] as JsonObject),
        id: randomUUID(),
        createdDateTime: new Date(base + i * 60_000).toISOString(),
        userId: victim.id as string,
        userPrincipalName: victim.userPrincipalName as string,
        status: { errorCode: 50126, failureReason: 'Invalid username or password or Invalid on-premise username or password.', additionalDetails: null },
      });
    }
    const later = await watch(t.graph(fast), { policy, tenantId, store, now: new Date(base + 15 * 60_000) });
    expect(found(later)).toEqual([`SIGN-01 ${victim.id as string}`]);
    if (later.status === 'failed') return;
    // Read from the stored watermark minus the overlap (2 hours by default), not the whole day again.
    expect(Date.parse(later.data.from)).toBe(Date.parse(first.status === 'failed' ? '' : first.data.to) - DEFAULT_COLLECT_OPTIONS.signInOverlapMinutes * 60_000);
    expect(DEFAULT_COLLECT_OPTIONS.signInOverlapMinutes).toBe(120);
    expect(later.data.read).toBe(10);
  });

  it('processes a sign-in that arrives late (90 minutes before the watermark) once, completing its pattern', async () => {
    const tenantId = randomUUID();
    const victim = demo.data.users.find((u) => u.userType === 'Member' && u.accountEnabled === true) as JsonObject;
    const failure = (at: number): JsonObject => ({
      ...(demo.data.signIns[0] as JsonObject),
      id: randomUUID(),
      createdDateTime: new Date(at).toISOString(),
      userId: victim.id as string,
      userPrincipalName: victim.userPrincipalName as string,
      status: { errorCode: 50126, failureReason: 'Invalid username or password or Invalid on-premise username or password.', additionalDetails: null },
    });
    const now = Date.now();
    // Nine failures (one short of the threshold of ten in an hour) well before the first run.
    for (let i = 0; i < 9; i++) t.sim.tenant.signIns.push(failure(now - 100 * 60_000 + i * 30_000));
    const first = await watch(t.graph(fast), { policy, tenantId, store, now: new Date(now) });
    expect(found(first)).not.toContain(`SIGN-01 ${victim.id as string}`);
    // The tenth shows up in the log only after the first run, dated 90 minutes before its watermark
    // ("Microsoft Entra monitoring and health FAQ": up to two hours to fully aggregate).
    const late = failure(now - 90 * 60_000);
    t.sim.tenant.signIns.push(late);
    const second = await watch(t.graph(fast), { policy, tenantId, store, now: new Date(now + 15 * 60_000) });
    expect(found(second)).toEqual([`SIGN-01 ${victim.id as string}`]);
    if (second.status === 'failed') return;
    // Only the late sign-in is new; the nine re-read in the overlap are not counted again.
    expect(second.data.read).toBe(1);
    const occurrence = second.data.detections[0]?.occurrences[0];
    expect(occurrence?.failures).toBe(10);
    expect(new Set(occurrence?.signInIds).size).toBe(10);
    expect(occurrence?.signInIds).toContain(late.id);
  });

  it('never moves a stored watermark back when two watches finish out of order', async () => {
    const tenantId = randomUUID();
    const state = (watermark: string) => ({ key: SIGNIN_STATE_KEY, watermark, value: JSON.stringify({ version: 1, watermark, detector: { version: 1, seen: {}, users: {}, ips: {}, open: {} } }) });
    expect(await commitWatchState(store, tenantId, state('2026-11-27T03:15:00.000Z'))).toBe(true);
    expect(await commitWatchState(store, tenantId, state('2026-11-27T03:00:00.000Z'))).toBe(false);
    expect(JSON.parse((await store.getStateBlob(tenantId, SIGNIN_STATE_KEY)) ?? '{}')).toMatchObject({ watermark: '2026-11-27T03:15:00.000Z' });
    expect(await commitWatchState(store, tenantId, state('2026-11-27T03:30:00.000Z'))).toBe(true);
  });

  it('reports missing Entra ID P1 as a failed read, not as "no detections"', async () => {
    t.sim.setFaults([{ endpoint: 'signIns', status: 403, code: 'Authentication_RequestFromNonPremiumTenantOrB2CTenant', message: 'Tenant does not have a SKU required for this request.' }]);
    await expect(watch(t.graph(fast), { policy, tenantId: randomUUID(), store })).rejects.toThrow(/403 \(Authentication_RequestFromNonPremiumTenantOrB2CTenant.*AuditLog\.Read\.All and Directory\.Read\.All \(sign-ins need Entra ID P1\)/);
  });
});
