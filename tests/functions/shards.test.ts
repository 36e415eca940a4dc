/**
 * Scan shards (issue 14 "Shards"): a scan split into one shard per slice on Azure Storage queues
 * (the test Azurite's queue service), worked by the worker loops of src/jobs/shard-queue.ts (as the
 * Functions host's queue trigger behaves: retries, then the poison queue) or by the Functions
 * handlers called as the host calls them. The simulator serves the demo tenant over HTTPS; each
 * test compares with an unsharded scan of the same demo tenant. Seeds 550-559 and 622 are this file's.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Timer } from '@azure/functions';
import { scanShardHandler } from '../../functions/scan-shard';
import { scanWorkerHandler } from '../../functions/scan-worker';
import { tenantScanHandler } from '../../functions/tenant-scan';
import { scanQueue } from '../../src/jobs/scan-request';
import { scanShardPoisonHandler } from '../../functions/scan-shard-poison';
import { defaultPolicy, validatePolicy } from '../../src/config/policy';
import { docKey, sliceKey } from '../../src/collect/progress';
import { runShardedScanLocally, shardQueue } from '../../src/jobs/shard-queue';
import { outcomeKey, planKey, type ShardMessage } from '../../src/jobs/shards';
import { runScan } from '../../src/pipeline';
import { startShardsAndLog, type JobLogger, type ScanDeps } from '../../src/runtime';
import type { CollectOptions } from '../../src/collect/context';
import { Store } from '../../src/store/store';
import { startTestSim, withSim } from '../support/sim';
import { generateDemoTenant } from '../../src/sim/demo-tenant';
import { context, scanLines } from '../support/functions';
import { CONNECTION, T0, clock, depsFor, failing, findingKey, shardLines, shardedThroughQueues, storedFindings, unsharded, uuid } from '../support/shards';
import { run, STACK } from '../support/cli';

let store: Store;
beforeAll(async () => {
  store = await Store.connect(CONNECTION);
});

describe('a sharded scan', () => {
  it('finds what an unsharded scan of the same tenant finds, reconciles once, and leaves no shard state behind', async () => {
    const expected = (await unsharded(550)).findings;
    await withSim(550, async (t, demo) => {
      const scanId = uuid(550);
      const d = depsFor(t, demo, { store });
      const lines = await shardedThroughQueues(d, scanId, 'test-shards-550', 3);
      // Every slice once, each by its own shard.
      const collected = shardLines(lines).filter((l) => l.outcome === 'collected').map((l) => l.shard);
      expect(new Set(collected).size).toBe(collected.length);
      expect(collected).toEqual(expect.arrayContaining(['directory', 'users', 'mailRules', 'sites', 'sharing', 'signIns']));
      // The slices that wait (sharing needs sites and the directory) read them from the shards' results, not again.
      expect(t.sim.counts().sites).toBe(1);
      const scans = scanLines(lines);
      expect(scans.map((l) => l.outcome)).toEqual(['sharded', 'complete']);
      expect((await store.listScans(demo.data.tenantId, 5)).map((r) => r.scanId)).toEqual([scanId]);
      const doc = await storedFindings(store, demo.data.tenantId, scanId);
      expect(doc.findings).toEqual(expected);
      expect(Object.values(doc.coverage).every((c) => c.status === 'complete')).toBe(true);
      const ledger = [...(await store.getLedger(demo.data.tenantId)).values()];
      expect(ledger.filter((e) => e.status === 'open')).toHaveLength(expected.filter((f) => f.endsWith(' open')).length);
      // Progress, plan and outcomes are gone once the scan is on record.
      for (const k of [docKey(scanId), planKey(scanId), outcomeKey(scanId, 'directory'), sliceKey(scanId, 'directory')]) expect(await store.getStateBlob(demo.data.tenantId, k)).toBeUndefined();
    });
  });

  it('each shard message processed twice (at once) leaves one result per shard and one reconciliation', async () => {
    const expected = (await unsharded(551)).findings;
    await withSim(551, async (t, demo) => {
      const scanId = uuid(551);
      const d = depsFor(t, demo, { store });
      const start = context('tenantScan');
      let pending: ShardMessage[] = await startShardsAndLog(start.ctx, d, { kind: 'run', scanId });
      const all: string[] = [];
      let deliveries = 0;
      // The host delivers every message twice, both copies at once (a visibility timeout that ran out).
      while (pending.length) {
        const m = pending.shift() as ShardMessage;
        const a = context('scanShard');
        const b = context('scanShard');
        await Promise.all([scanShardHandler(async () => d)(m, a.ctx), scanShardHandler(async () => d)(JSON.stringify(m), b.ctx)]);
        deliveries += 2;
        for (const c of [a, b]) {
          all.push(...c.lines);
          pending.push(...((c.ctx.extraOutputs.get(shardQueue) as ShardMessage[] | undefined) ?? []));
        }
      }
      const steps = shardLines(all);
      expect(steps).toHaveLength(deliveries);
      const bySlice = new Map<string, string[]>();
      for (const s of steps) bySlice.set(s.shard, [...(bySlice.get(s.shard) ?? []), s.outcome]);
      // One result per shard: exactly one delivery kept what it collected, the other found it kept
      // (a waiting shard may be queued by both deliveries of the shard it waited for: still one
      // result; a copy that arrives once the scan is on record finds no scan, `unknown`).
      for (const [slice, outcomes] of bySlice) {
        expect([slice, outcomes.length >= 2]).toEqual([slice, true]);
        expect([slice, outcomes.filter((o) => o === 'collected').length]).toEqual([slice, 1]);
        expect([slice, outcomes.filter((o) => o !== 'collected' && o !== 'duplicate' && o !== 'unknown')]).toEqual([slice, []]);
      }
      const reconciled = scanLines(all).filter((l) => l.outcome === 'complete' || l.outcome === 'partial');
      expect(reconciled).toHaveLength(1);
      expect((await store.listScans(demo.data.tenantId, 5)).map((r) => r.scanId)).toEqual([scanId]);
      expect((await storedFindings(store, demo.data.tenantId, scanId)).findings).toEqual(expected);
      const ledger = [...(await store.getLedger(demo.data.tenantId)).values()];
      expect(ledger.filter((e) => e.status === 'open')).toHaveLength(expected.filter((f) => f.endsWith(' open')).length);
      // A delivery after the scan is on record does nothing.
      const late = context('scanShard');
      await scanShardHandler(async () => d)({ scanId, tenantId: demo.data.tenantId, shard: 'directory' }, late.ctx);
      expect(shardLines(late.lines)).toEqual([expect.objectContaining({ shard: 'directory', outcome: 'unknown' })]);
      expect((await store.listScans(demo.data.tenantId, 5))).toHaveLength(1);
    });
  });

  it('a shard whose worker dies mid-shard (after reading, before its result is written) is retried and the scan completes', async () => {
    const expected = (await unsharded(552)).findings;
    await withSim(552, async (t, demo) => {
      const scanId = uuid(552);
      let deaths = 0;
      const dying = failing(store, (k) => k === sliceKey(scanId, 'sharing') && deaths++ === 0);
      const lines = await shardedThroughQueues(depsFor(t, demo, { store: dying }), scanId, 'test-shards-552', 2);
      expect(deaths).toBe(2);
      // The sharing shard read the drives twice (the first read died with its worker), everything else once.
      expect(t.sim.counts().sites).toBe(1);
      expect(shardLines(lines).filter((l) => l.shard === 'sharing').map((l) => l.outcome)).toEqual(['collected']);
      expect(scanLines(lines).map((l) => l.outcome)).toEqual(['sharded', 'complete']);
      expect((await storedFindings(store, demo.data.tenantId, scanId)).findings).toEqual(expected);
    });
  });

  it('a shard that always fails ends on the poison queue: its rules are not evaluated (the area partial), naming the shard, and nothing in it is resolved', async () => {
    await withSim(553, async (t, demo) => {
      const policy = validatePolicy(demo.policy);
      // A first, unsharded scan opens the tenant's findings, inbox-rule ones among them.
      const first = await runScan({ graph: t.graph({ root: t.sim.url }), policy, tenantId: demo.data.tenantId, store, clock });
      const openMail = first.findings.filter((f) => f.area === 'mail' && f.status === 'open').map((f) => f.id);
      expect(openMail.length).toBeGreaterThan(0);
      // The forwarding is fixed in the tenant: a scan that read the mailboxes would resolve these.
      const rules = t.sim.tenant.messageRules;
      for (const id of Object.keys(rules)) rules[id] = [];
      const scanId = uuid(553);
      // Its worker dies every time after reading the mailboxes, before the result is written (the
      // poison step's own record of the failed slice goes through).
      const broken = failing(store, (k, v) => k === sliceKey(scanId, 'mailRules') && !v.includes('poison queue'));
      const later = (): Date => new Date(T0 + 3_600_000);
      const lines = await shardedThroughQueues({ ...depsFor(t, demo, { store: broken }), clock: later }, scanId, 'test-shards-553', 2, { maxDequeueCount: 2 });
      expect(shardLines(lines).filter((l) => l.shard === 'mailRules').map((l) => l.outcome)).toEqual(['failed']);
      const doc = await storedFindings(store, demo.data.tenantId, scanId);
      // MAIL-02 (its own shard, mailAuthentication) still ran: the area is partial, MAIL-01 not evaluated.
      expect(doc.coverage.mail?.status).toBe('partial');
      expect(doc.coverage.mail?.detail).toMatch(/shard mailRules failed and went to the poison queue m365-audit-scan-shards-poison: storage refused the write/);
      expect(doc.coverage.mail?.detail).toContain('not evaluated: MAIL-01 (needs mailRules)');
      // The other areas were read and reconciled.
      expect(doc.coverage.accounts?.status).toBe('complete');
      const ledger = await store.getLedger(demo.data.tenantId);
      for (const id of openMail) expect(ledger.get(id)?.status).toBe('open');
      const [line] = scanLines(lines).filter((l) => l.outcome === 'partial');
      expect(line).toMatchObject({ scanId, coverage: expect.objectContaining({ mail: 'partial' }) });
      expect((line?.ledger as { resolved: number }).resolved).toBe(0);
    });
  });

  it('the poison step of a shard that already has a result changes nothing', async () => {
    await withSim(554, async (t, demo) => {
      const scanId = uuid(554);
      const d = depsFor(t, demo, { store });
      const start = context('tenantScan');
      const [m] = await startShardsAndLog(start.ctx, d, { kind: 'run', scanId, areas: ['accounts'] });
      if (!m) throw new Error('no shard');
      await scanShardHandler(async () => d)(m, context('scanShard').ctx);
      const poison = context('scanShardPoison');
      await scanShardPoisonHandler(async () => d)(m, poison.ctx);
      expect(shardLines(poison.lines)).toEqual([expect.objectContaining({ shard: m.shard, outcome: 'duplicate' })]);
      expect(JSON.parse((await store.getStateBlob(demo.data.tenantId, outcomeKey(scanId, m.shard))) ?? '{}')).toMatchObject({ status: 'done' });
    });
  });
});

describe('tenantScan and scanWorker with M365_AUDIT_SCAN_SHARDS=on', () => {
  it('plan the scan and queue its first shards instead of scanning; a redelivered request is not planned twice', async () => {
    await withSim(556, async (t, demo) => {
      const d: ScanDeps = { ...depsFor(t, demo, { store }), scanShards: true };
      const timer = context('tenantScan');
      await tenantScanHandler(async () => d)({ isPastDue: false, scheduleStatus: { last: '', next: '', lastUpdated: '' } } as Timer, timer.ctx);
      const first = timer.ctx.extraOutputs.get(shardQueue) as ShardMessage[];
      // The shards that wait for nothing; those that wait (sharing, inbox rules) come later.
      expect(first.map((m) => m.shard)).toEqual(expect.arrayContaining(['directory', 'sites', 'domains']));
      expect(first.map((m) => m.shard)).not.toContain('sharing');
      expect(timer.ctx.extraOutputs.get(scanQueue)).toBeUndefined();
      expect(scanLines(timer.lines)).toEqual([expect.objectContaining({ outcome: 'sharded' })]);
      expect(await store.getStateBlob(demo.data.tenantId, planKey(first[0]?.scanId ?? ''))).toBeDefined();
      expect(t.sim.counts().users ?? 0).toBe(0);
      expect(await store.listScans(demo.data.tenantId, 5)).toHaveLength(0);
      const request = { scanId: uuid(556), areas: ['accounts' as const], requestedAt: new Date(T0).toISOString() };
      const a = context('scanWorker');
      await scanWorkerHandler(async () => d)(request, a.ctx);
      expect((a.ctx.extraOutputs.get(shardQueue) as ShardMessage[]).every((m) => m.scanId === request.scanId)).toBe(true);
      const b = context('scanWorker');
      await scanWorkerHandler(async () => d)(request, b.ctx);
      expect(b.ctx.extraOutputs.get(shardQueue)).toBeUndefined();
    });
  });
});

describe("a sharded scan's collect options", () => {
  it('reach every shard: fullSignInActivityRead on a store with incremental state reads every user in full, as an unsharded scan would', async () => {
    // 1,000 users, signInActivity pages of 50: a full read is 20 requests, an incremental one a few.
    const demo = generateDemoTenant({ seed: 622, users: 1000, now: new Date(T0) });
    const t = await startTestSim({ throttle: false, tenant: demo.data, signInActivityPaging: { maxSize: 50, oversize: 'cap' } });
    try {
      const policy = validatePolicy(demo.policy);
      const silent: JobLogger = { log: () => undefined, warn: () => undefined, error: () => undefined };
      // The client's signInActivity budget (~10 a minute) is lifted: this counts requests, not time.
      const graph = () => t.graph({ root: t.sim.url, budgets: { signInActivity: { limit: 10_000, perSeconds: 60 } } });
      /** One sharded scan (2 workers) with these options: the simulator's signInActivity requests and the slice's coverage detail. */
      const sharded = async (n: number, collectOptions: Partial<CollectOptions>): Promise<{ requests: number; detail: string }> => {
        const before = t.sim.counts().signInActivity ?? 0;
        const { result } = await runShardedScanLocally({
          connectionString: CONNECTION,
          workers: 2,
          scanId: uuid(622_000 + n),
          deps: { policy, tenantId: demo.data.tenantId, store, clock, graph: () => ({ graph: graph(), close: async () => undefined }) },
          job: { graph: graph(), policy, tenantId: demo.data.tenantId, store, clock, areas: ['accounts'], collectOptions, reports: async () => undefined },
          logger: silent,
          worker: { pollMs: 50, retryDelaySeconds: 0, idleTimeoutMs: 30_000 },
        });
        expect(result.coverage.accounts?.status).toBe('complete');
        return { requests: (t.sim.counts().signInActivity ?? 0) - before, detail: result.coverage.accounts?.detail ?? '' };
      };
      const first = await sharded(1, {});
      // The state of that full read is stored: a scan without the option reads incrementally.
      const incremental = await sharded(2, {});
      expect(incremental.detail).toMatch(/incremental; last full read/);
      expect(incremental.requests).not.toBe(first.requests);
      // With it, every shard reads in full (before the fix the shards got only the overlap: incremental).
      const full = await sharded(3, { fullSignInActivityRead: true });
      expect(full.detail).not.toMatch(/incremental/);
      expect(full.requests).toBe(first.requests);
      expect(first.requests).toBe(Math.ceil(t.sim.tenant.users.length / 50));
    } finally {
      await t.close();
    }
  }, 120_000);
});

describe('m365-audit scan --workers 2', () => {
  it('runs the scan as shards end to end and writes the same findings as an unsharded scan', async () => {
    const expected = await withSim(555, async (t, demo) => {
      // The CLI runs with the built-in policy (no policy.yaml in its folder).
      const r = await runScan({ graph: t.graph(), policy: defaultPolicy(), tenantId: demo.data.tenantId });
      return r.findings.map(findingKey).sort();
    });
    await withSim(555, async (t, demo) => {
      const cwd = mkdtempSync(join(tmpdir(), 'm365-audit-shards-'));
      const env = { PATH: process.env.PATH, NODE_EXTRA_CA_CERTS: t.sim.caPath, AZURE_STORAGE_CONNECTION_STRING: CONNECTION };
      const r = await run(['scan', '--workers', '2', '--graph-url', t.sim.url, '--tenant-id', demo.data.tenantId, '--lang', 'en'], { cwd, env });
      expect(r.stderr).not.toMatch(STACK);
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/shard\(s\) queued, 2 worker\(s\)/);
      expect(r.stderr).toMatch(/shard mailRules: collected/);
      const doc = JSON.parse(readFileSync(join(cwd, 'out', 'findings.json'), 'utf8')) as { scanId: string; findings: Array<{ ruleId: string; subject: { id: string }; status: string }> };
      expect(doc.findings.map(findingKey).sort()).toEqual(expected);
      expect((await store.listScans(demo.data.tenantId, 5)).map((s) => s.scanId)).toEqual([doc.scanId]);
      // Its queues were its own (named after its scan) and are gone. Only this run's: another
      // test file's CLI run may have its queues on the same Azurite at this moment.
      const { QueueServiceClient } = await import('@azure/storage-queue');
      const names: string[] = [];
      for await (const q of QueueServiceClient.fromConnectionString(CONNECTION).listQueues({ prefix: `m365-audit-scan-shards-cli-${doc.scanId.slice(0, 8)}` })) names.push(q.name);
      expect(names).toEqual([]);
      const bad = await run(['scan', '--workers', '0', '--graph-url', t.sim.url, '--tenant-id', demo.data.tenantId], { cwd, env });
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toMatch(/whole number from 1 to 64/);
    });
  });
});
