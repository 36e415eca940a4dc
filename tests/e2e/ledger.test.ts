/**
 * The ledger and tickets end to end: the real pipeline, the simulator (with its Planner) and the
 * ledger on Azurite. Covers open → resolved → reopened with one ticket, partial coverage resolving
 * nothing, event findings appending, an exception added then expired, a failing sink catching up
 * without duplicates, and two reconciliations at once.
 */
import { validatePolicy, type Policy } from '../../src/config/policy';
import { StoreError } from '../../src/errors';
import { runScan, type ScanResult } from '../../src/pipeline';
import { DEFAULT_PLANNER_BUCKET_ID, DEFAULT_PLANNER_PLAN_ID } from '../../src/sim/server';
import type { DemoTenant, JsonObject } from '../../src/sim/tenant';
import { Store } from '../../src/store/store';
import { PlannerSink } from '../../src/tickets/planner';
import { withSim, type TestSim } from '../support/sim';

let store: Store;
beforeAll(async () => {
  store = await Store.connect(process.env.AZURE_STORAGE_CONNECTION_STRING ?? '');
});


function scan(t: TestSim, demo: DemoTenant, over: { policy?: Policy; clock?: () => Date; fresh?: boolean } = {}): Promise<ScanResult> {
  const graph = t.graph({ budgets: { identityReports: { limit: 1000, perSeconds: 1 }, signInActivity: { limit: 1000, perSeconds: 1 }, conditionalAccess: { limit: 1000, perSeconds: 1 } } });
  return runScan({
    graph,
    policy: over.policy ?? validatePolicy(demo.policy),
    tenantId: demo.data.tenantId,
    store,
    sinks: (directory) => [new PlannerSink(graph, { planId: DEFAULT_PLANNER_PLAN_ID, bucketId: DEFAULT_PLANNER_BUCKET_ID, userIdOf: (a) => directory.userIdOf(a) })],
    ...(over.clock ? { clock: over.clock } : {}),
    collectOptions: { freshState: over.fresh ?? false },
  });
}

/** The planted MFA-02 user (not privileged, no MFA) and a way to fix or break it in the simulator. */
function mfa02(t: TestSim, demo: DemoTenant) {
  const g = demo.groundTruth.find((x) => x.ruleId === 'MFA-02' && !demo.groundTruth.some((y) => y.subjectId === x.subjectId && y.ruleId !== 'MFA-02'));
  if (!g) throw new Error('the demo tenant lacks a plain MFA-02 case');
  const reg = t.sim.tenant.userRegistrationDetails.find((r) => r.id === g.subjectId) as JsonObject;
  return { id: g.subjectId, set: (registered: boolean) => { reg.isMfaRegistered = registered; } };
}

describe('ledger and tickets', () => {
  it('open → resolved → reopened keeps one ledger entry and one ticket (and one Planner task)', async () => {
    await withSim(31, async (t, demo) => {
      const user = mfa02(t, demo);
      const first = await scan(t, demo, { fresh: true });
      const finding = first.findings.find((f) => f.ruleId === 'MFA-02' && f.subject.id === user.id);
      expect(finding).toBeDefined();
      const id = finding?.id ?? '';
      expect(first.tickets?.opened.length).toBe(first.findings.filter((f) => f.status === 'open').length);
      const tasks = () => t.sim.plannerTasks().filter((x) => String(x.task.title).includes(user.id) || String(x.details.description).includes(id));
      expect(tasks()).toHaveLength(1);

      user.set(true);
      const fixed = await scan(t, demo);
      expect(fixed.findings.some((f) => f.id === id)).toBe(false);
      expect(fixed.ledger?.resolved).toBeGreaterThanOrEqual(1);
      let entry = await store.getLedgerEntry(demo.data.tenantId, id);
      expect(entry).toMatchObject({ status: 'resolved', ticket: { state: 'closed', sinks: { planner: { delivered: 'closed' } } } });
      expect(tasks()[0]?.task.percentComplete).toBe(100);

      user.set(false);
      const broken = await scan(t, demo);
      expect(broken.ledger?.reopened).toBe(1);
      entry = await store.getLedgerEntry(demo.data.tenantId, id);
      expect(entry).toMatchObject({ status: 'open', reopenCount: 1, ticket: { state: 'open', id: `T-${id.slice(0, 12)}` } });
      expect(entry?.history.map((h) => h.status)).toEqual(['open', 'resolved', 'open']);
      expect(tasks()).toHaveLength(1);
      expect(tasks()[0]?.task.percentComplete).toBe(0);
      // findings.json dates come from the ledger.
      expect(broken.findings.find((f) => f.id === id)?.firstSeen).toBe(first.startedAt);
    });
  });

  it('without PIM data (roles partial) resolves no role-dependent finding; MFA-02 alone may resolve', async () => {
    await withSim(32, async (t, demo) => {
      const user = mfa02(t, demo);
      const first = await scan(t, demo, { fresh: true });
      user.set(true);
      t.sim.setFaults([{ endpoint: 'roleEligibilitySchedules', status: 403 }]);
      const partial = await scan(t, demo);
      expect(partial.coverage.mfa?.status).toBe('partial');
      expect(partial.coverage.roles?.status).toBe('partial');
      const ledger = await store.getLedger(demo.data.tenantId);
      // Eligible holders are unknown now, so their MFA-01 / ACCT-05 findings are not seen: they
      // must stay open, as must ACCT-04, which cannot count them.
      const roleDependent = first.findings.filter((f) => ['MFA-01', 'ACCT-04', 'ACCT-05'].includes(f.ruleId));
      expect(roleDependent.length).toBeGreaterThan(0);
      for (const f of roleDependent) expect(ledger.get(f.id)?.status).not.toBe('resolved');
      // The member who registered: MFA-02 read complete users and registration, so it resolves.
      const resolved = [...ledger.values()].filter((e) => e.status === 'resolved');
      expect(resolved.map((e) => `${e.ruleId} ${e.subject.id}`)).toEqual([`MFA-02 ${user.id}`]);
      expect(partial.ledger?.resolved).toBe(1);
    });
  });

  it('keeps event findings open and appends new occurrences', async () => {
    await withSim(33, async (t, demo) => {
      const first = await scan(t, demo, { fresh: true });
      const event = first.findings.find((f) => f.ruleId === 'SIGN-01');
      if (!event) throw new Error('no SIGN-01 in the demo tenant');
      // A new burst of failures for the same user, after the watermark.
      const base = Date.now() + 1000;
      const template = t.sim.tenant.signIns.find((s) => s.userId === event.subject.id) as JsonObject;
      for (let i = 0; i < 10; i++) t.sim.tenant.signIns.push({ ...template, id: `burst2-${i}`, createdDateTime: new Date(base + i * 1000).toISOString(), status: { errorCode: 50126, failureReason: null, additionalDetails: null } });
      const second = await scan(t, demo, { clock: () => new Date(base + 60_000) });
      expect(second.ledger?.appended).toBeGreaterThanOrEqual(1);
      const entry = await store.getLedgerEntry(demo.data.tenantId, event.id);
      expect(entry?.status).toBe('open');
      expect((entry?.evidence.occurrences as unknown[]).length).toBe(2);
      expect(entry?.ticket?.state).toBe('open');
    });
  });

  it('an exception closes the ticket; when it expires the finding and its ticket open again', async () => {
    await withSim(34, async (t, demo) => {
      const user = mfa02(t, demo);
      const now = new Date();
      const first = await scan(t, demo, { fresh: true, clock: () => now });
      const id = first.findings.find((f) => f.ruleId === 'MFA-02' && f.subject.id === user.id)?.id ?? '';
      const day = (d: number) => new Date(now.getTime() + d * 86_400_000).toISOString().slice(0, 10);
      const withException = validatePolicy({
        ...demo.policy,
        exceptions: [{ ruleId: 'MFA-02', subject: user.id, reason: '端末未配備', approvedBy: 'sysadmin@example.lg.jp', compensatingControl: '窓口端末のみ利用', approvedOn: day(-1), expiresOn: day(5) }],
      });
      const excepted = await scan(t, demo, { policy: withException, clock: () => now });
      expect(excepted.findings.find((f) => f.id === id)?.status).toBe('excepted');
      expect(await store.getLedgerEntry(demo.data.tenantId, id)).toMatchObject({ status: 'excepted', ticket: { state: 'closed' } });
      const later = new Date(now.getTime() + 10 * 86_400_000);
      const expired = await scan(t, demo, { policy: withException, clock: () => later });
      expect(expired.findings.find((f) => f.id === id)?.status).toBe('open');
      expect(expired.ledger?.unexcepted).toBeGreaterThanOrEqual(1);
      expect(await store.getLedgerEntry(demo.data.tenantId, id)).toMatchObject({ status: 'open', ticket: { state: 'open', sinks: { planner: { delivered: 'open' } } } });
    });
  });

  it('a sink that fails catches up on the next run, without duplicates', async () => {
    await withSim(35, async (t, demo) => {
      t.sim.setFaults([{ endpoint: 'plannerTasks', status: 503, retryAfter: 0.01 }]);
      const first = await scan(t, demo, { fresh: true });
      const open = first.findings.filter((f) => f.status === 'open').length;
      expect(first.tickets?.failedDeliveries).toHaveLength(open);
      expect(t.sim.plannerTasks()).toHaveLength(0);
      expect((await store.getLedger(demo.data.tenantId)).size).toBe(first.findings.length);
      t.sim.setFaults([]);
      const second = await scan(t, demo);
      expect(second.tickets?.failedDeliveries).toEqual([]);
      expect(second.tickets?.opened).toEqual([]);
      expect(t.sim.plannerTasks()).toHaveLength(open);
      await scan(t, demo);
      expect(t.sim.plannerTasks()).toHaveLength(open);
    });
  });

  it('a run whose ledger write fails does not move the sign-in watermark: the next run finds the same detections', async () => {
    await withSim(37, async (t, demo) => {
      const planted = demo.groundTruth.filter((g) => g.ruleId.startsWith('SIGN-')).map((g) => `${g.ruleId} ${g.subjectId}`).sort();
      const failing = new Proxy(store, {
        get(target, prop, receiver) {
          if (prop === 'putLedgerEntries') return async () => { throw new Error('table service unavailable'); };
          const value = Reflect.get(target, prop, receiver) as unknown;
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      });
      const graph = t.graph({ budgets: { identityReports: { limit: 1000, perSeconds: 1 } } });
      await expect(runScan({ graph, policy: validatePolicy(demo.policy), tenantId: demo.data.tenantId, store: failing, areas: ['signins'] })).rejects.toThrow(/table service unavailable/);
      const again = await runScan({ graph, policy: validatePolicy(demo.policy), tenantId: demo.data.tenantId, store, areas: ['signins'] });
      expect(again.findings.map((f) => `${f.ruleId} ${f.subject.id}`).sort()).toEqual(planted);
      expect(again.ledger?.opened).toBe(planted.length);
    });
  });

  it('a run whose ledger write fails stores no drive inventory: the next run reads every drive again and finds the same sharing', async () => {
    await withSim(440, async (t, demo) => {
      const planted = demo.groundTruth.filter((g) => g.ruleId.startsWith('FILE-')).map((g) => `${g.ruleId} ${g.subjectId}`).sort();
      expect(planted.length).toBeGreaterThan(0);
      const stateWrites: string[] = [];
      const failing = new Proxy(store, {
        get(target, prop, receiver) {
          if (prop === 'putLedgerEntries') return async () => { throw new Error('table service unavailable'); };
          if (prop === 'putStateBlob') return async (tenant: string, key: string, value: string) => { stateWrites.push(key); await target.putStateBlob(tenant, key, value); };
          const value = Reflect.get(target, prop, receiver) as unknown;
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      });
      const policy = validatePolicy(demo.policy);
      await expect(runScan({ graph: t.graph(), policy, tenantId: demo.data.tenantId, store: failing, areas: ['files'] })).rejects.toThrow(/table service unavailable/);
      expect(stateWrites.filter((k) => k.startsWith('files-drive-'))).toEqual([]);
      const again = await runScan({ graph: t.graph(), policy, tenantId: demo.data.tenantId, store, areas: ['files'] });
      expect(again.findings.filter((f) => f.ruleId.startsWith('FILE-')).map((f) => `${f.ruleId} ${f.subject.id}`).sort()).toEqual(planted);
      // Now that the findings are on record, every drive read has its inventory stored.
      const drives = demo.data.sites.flatMap((s) => s.drives.map((d) => String(d.drive.id)));
      for (const id of drives) expect(await store.getStateBlob(demo.data.tenantId, `files-drive-${id}`)).toBeDefined();
    });
  });

  it('two reconciliations at once never corrupt the ledger or duplicate a ticket', async () => {
    await withSim(36, async (t, demo) => {
      const [a, b] = await Promise.all([scan(t, demo, { fresh: true }), scan(t, demo, { fresh: true })]);
      const opened = (a.tickets?.opened.length ?? 0) + (b.tickets?.opened.length ?? 0);
      const open = a.findings.filter((f) => f.status === 'open').length;
      expect(opened).toBe(open);
      expect(t.sim.plannerTasks()).toHaveLength(open);
      const ledger = await store.getLedger(demo.data.tenantId);
      expect(ledger.size).toBe(a.findings.length);
      // A run that cannot get the lease in time gives up with a clear message and writes nothing.
      let release: () => void = () => undefined;
      const holder = store.withLedgerLease(demo.data.tenantId, () => new Promise<void>((r) => { release = r; }));
      await new Promise((r) => setTimeout(r, 200));
      await expect(store.withLedgerLease(demo.data.tenantId, async () => 'never', 1000)).rejects.toThrow(StoreError);
      await expect(store.withLedgerLease(demo.data.tenantId, async () => 'never', 1000)).rejects.toThrow(/another run is reconciling the ledger/);
      release();
      await holder;
    });
  });
});
