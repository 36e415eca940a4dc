/**
 * Range shards (issue 14 "per user range for mail; per site or drive range for files"): the inbox
 * rules split into ranges of mailboxes and the files sharing into ranges of sites, on Azure Storage
 * queues (the test Azurite's queue service) worked by the worker loops of src/jobs/shard-queue.ts
 * or by the Functions handlers called as the host calls them, against the simulator over HTTPS.
 * Each test compares with an unsharded scan of the same demo tenant (57 users, 9 sites, 11
 * drives). Seeds 605-614 are this file's.
 */
import { scanShardHandler } from '../../functions/scan-shard';
import { defaultPolicy, validatePolicy } from '../../src/config/policy';
import { mailboxCandidates } from '../../src/collect/mail';
import type { DirectoryEntry, Site } from '../../src/collect/snapshot';
import { shardQueue } from '../../src/jobs/shard-queue';
import { checkpointKey, planKey, rangeOutcomeKey, type RangeSizes, type ShardMessage } from '../../src/jobs/shards';
import { runScan } from '../../src/pipeline';
import { shardAndLog, startShardsAndLog } from '../../src/runtime';
import type { SimFault } from '../../src/sim/types';
import { Store } from '../../src/store/store';
import { withSim, testContext, type TestSim } from '../support/sim';
import { context, scanLines } from '../support/functions';
import { CONNECTION, T0, clock, depsFor, failing, findingKey, shardLines, shardedThroughQueues, storedFindings, unsharded, uuid, type ShardLine } from '../support/shards';
import { run, STACK } from '../support/cli';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** 57 users → about 50 mailbox candidates in ranges of 10; 9 sites in ranges of 3. */
const SMALL: RangeSizes = { mailboxes: 10, sites: 3 };

let store: Store;
beforeAll(async () => {
  store = await Store.connect(CONNECTION);
});

const nameOf = (l: ShardLine): string => (l.range === undefined ? l.shard : `${l.shard}#${l.range}`);

/** The mailbox candidates and the sites in the order the shards split them (the collectors' own reads). */
async function order(t: TestSim): Promise<{ mailboxes: DirectoryEntry[]; sites: Site[] }> {
  const ctx = testContext(t.graph());
  const directory = await ctx.slice('directory');
  const sites = await ctx.slice('sites');
  if (directory.status === 'failed' || sites.status === 'failed') throw new Error('the test tenant could not be read');
  return { mailboxes: mailboxCandidates(directory.data), sites: sites.data };
}

/** The drive ids of sites (from the simulator's tenant). */
function drivesOf(t: TestSim, sites: readonly Site[]): string[] {
  const ids = new Set(sites.map((s) => s.id));
  return t.sim.tenant.sites.filter((s) => ids.has(String(s.site.id))).flatMap((s) => s.drives.map((d) => String(d.drive.id)));
}

describe('range shards', () => {
  it('split inbox rules into mailbox ranges and sharing into site ranges, read each mailbox and site once, and find exactly what an unsharded scan finds', async () => {
    const expected = await unsharded(605);
    await withSim(605, async (t, demo) => {
      const scanId = uuid(605);
      const { mailboxes } = await order(t);
      t.sim.resetCounts();
      const lines = await shardedThroughQueues(depsFor(t, demo, { store, ranges: SMALL }), scanId, 'test-shard-ranges-605', 3);
      const steps = shardLines(lines);
      const collected = steps.filter((l) => l.outcome === 'collected').map(nameOf);
      expect(new Set(collected).size).toBe(collected.length);
      const mailRanges = Math.ceil(mailboxes.length / SMALL.mailboxes);
      expect(mailRanges).toBeGreaterThan(2);
      expect(collected.filter((n) => n.startsWith('mailRules#')).sort()).toEqual(Array.from({ length: mailRanges }, (_, i) => `mailRules#${i}`).sort());
      expect(collected.filter((n) => n.startsWith('sharing#')).sort()).toEqual(['sharing#0', 'sharing#1', 'sharing#2']);
      // No slice is read whole besides its ranges.
      expect(collected).not.toContain('mailRules');
      expect(collected).not.toContain('sharing');
      // Every mailbox once, every site's libraries once, the site list once: as without shards.
      const counts = t.sim.counts();
      expect(counts.messageRules).toBe(expected.counts.messageRules);
      expect(counts.drives).toBe(expected.counts.drives);
      expect(counts.delta).toBe(expected.counts.delta);
      expect(counts.sites).toBe(1);
      expect(scanLines(lines).map((l) => l.outcome)).toEqual(['sharded', 'complete']);
      const doc = await storedFindings(store, demo.data.tenantId, scanId);
      expect(doc.findings).toEqual(expected.findings);
      expect(doc.findings.some((f) => f.startsWith('MAIL-01 '))).toBe(true);
      expect(doc.findings.some((f) => f.startsWith('FILE-'))).toBe(true);
      for (const area of ['mail', 'files'] as const) {
        expect([area, doc.coverage[area]?.status, doc.coverage[area]?.items]).toEqual([area, 'complete', expected.coverage[area]?.items]);
      }
      // The ranges' bookkeeping is gone with the scan's.
      for (const k of [planKey(scanId), rangeOutcomeKey(scanId, 'mailRules', 0), rangeOutcomeKey(scanId, 'sharing', 2), checkpointKey(scanId, 'sharing#1', 'drives')]) {
        expect([k, await store.getStateBlob(demo.data.tenantId, k)]).toEqual([k, undefined]);
      }
    });
  });

  it('a range that always fails: coverage partial naming the range, none of its findings resolved, those of the other ranges resolved', async () => {
    await withSim(606, async (t, demo) => {
      const policy = validatePolicy(demo.policy);
      const tenantId = demo.data.tenantId;
      const first = await runScan({ graph: t.graph({ root: t.sim.url }), policy, tenantId, store, clock });
      const open = (rule: string): string[] => first.findings.filter((f) => f.ruleId.startsWith(rule) && f.status === 'open').map((f) => f.subject.id);
      const { mailboxes, sites } = await order(t);
      // The mailbox range that fails: the one of the first user with an outside forwarding rule.
      const forwarding = open('MAIL-01');
      const failedRange = Math.floor(mailboxes.findIndex((u) => u.id === forwarding[0]) / SMALL.mailboxes);
      const inRange = new Set(mailboxes.slice(failedRange * SMALL.mailboxes, (failedRange + 1) * SMALL.mailboxes).map((u) => u.id));
      const heldMail = forwarding.filter((id) => inRange.has(id));
      const freedMail = forwarding.filter((id) => !inRange.has(id));
      expect(heldMail.length).toBeGreaterThan(0);
      expect(freedMail.length).toBeGreaterThan(0);
      // The sites range that fails: the first (sites 1–3), with every drive of its sites.
      const heldDrives = new Set(drivesOf(t, sites.slice(0, SMALL.sites)));
      const sharedFindings = first.findings.filter((f) => f.area === 'files' && f.subject.kind === 'driveItem' && f.status === 'open');
      const heldFiles = sharedFindings.filter((f) => heldDrives.has(f.subject.id.split('/')[0] ?? ''));
      const outside = sharedFindings.filter((f) => !heldDrives.has(f.subject.id.split('/')[0] ?? ''));
      // A SharePoint library (read every scan), not a OneDrive that today's sweep may leave as of its last read.
      const libraries = new Set(t.sim.tenant.sites.flatMap((s) => s.drives).filter((d) => String(d.drive.driveType) !== 'business' && !String(d.drive.webUrl ?? '').includes('/personal/')).map((d) => String(d.drive.id)));
      const fixed = outside.find((f) => libraries.has(f.subject.id.split('/')[0] ?? ''));
      if (!fixed) throw new Error('no shared item in a library outside the failed range');
      expect(heldFiles.length).toBeGreaterThan(0);
      expect(outside.length).toBeGreaterThan(0);
      // The tenant is fixed everywhere: no forwarding left; a shared item outside the failed range is deleted.
      for (const id of Object.keys(t.sim.tenant.messageRules)) t.sim.tenant.messageRules[id] = [];
      const gone = fixed.subject.id.split('/') as [string, string];
      t.sim.applyDriveChange(gone[0], { deleteItemId: gone[1] });
      // Those two ranges' workers die every time after reading, before their part is kept.
      const scanId = uuid(606);
      const broken = failing(store, (k) => k === `scan-shards-${scanId}-mailRules#${failedRange}-part` || k === `scan-shards-${scanId}-sharing#0-part`);
      const later = (): Date => new Date(T0 + 3_600_000);
      const lines = await shardedThroughQueues({ ...depsFor(t, demo, { store: broken, ranges: SMALL }), clock: later }, scanId, 'test-shard-ranges-606', 2, { maxDequeueCount: 2, confirmResolutions: true });
      const failedSteps = shardLines(lines).filter((l) => l.outcome === 'failed').map(nameOf).sort();
      expect(failedSteps).toEqual([`mailRules#${failedRange}`, 'sharing#0']);
      const doc = await storedFindings(store, tenantId, scanId);
      const from = failedRange * SMALL.mailboxes + 1;
      const to = Math.min(mailboxes.length, (failedRange + 1) * SMALL.mailboxes);
      expect(doc.coverage.mail?.status).toBe('partial');
      expect(doc.coverage.mail?.detail).toContain(`mailboxes ${from}–${to} of ${mailboxes.length} failed: shard mailRules#${failedRange} failed and went to the poison queue m365-audit-scan-shards-poison: storage refused the write`);
      expect(doc.coverage.files?.status).toBe('partial');
      expect(doc.coverage.files?.detail).toContain(`sites 1–3 of ${sites.length} failed: shard sharing#0 failed`);
      expect(doc.coverage.accounts?.status).toBe('complete');
      const ledger = await store.getLedger(tenantId);
      const statusOf = (rule: string, subject: string): string | undefined => [...ledger.values()].find((e) => e.ruleId === rule && e.subject.id === subject)?.status;
      // Not read: held open. Read and fixed: resolved.
      for (const id of heldMail) expect(['held', id, statusOf('MAIL-01', id)]).toEqual(['held', id, 'open']);
      for (const id of freedMail) expect(['freed', id, statusOf('MAIL-01', id)]).toEqual(['freed', id, 'resolved']);
      for (const f of heldFiles) expect(['held', f.id, ledger.get(f.id)?.status]).toEqual(['held', f.id, 'open']);
      expect(ledger.get(fixed.id)?.status).toBe('resolved');
      // Still shared outside the failed range: still open.
      for (const f of outside.filter((f) => !f.subject.id.startsWith(`${gone[0]}/`))) expect(['seen', f.id, ledger.get(f.id)?.status]).toEqual(['seen', f.id, 'open']);
      const [line] = scanLines(lines).filter((l) => l.outcome === 'partial');
      expect(line).toMatchObject({ scanId, coverage: expect.objectContaining({ mail: 'partial', files: 'partial' }) });
    });
  });

  it('a files shard killed midway is redelivered and reads only the drives it had not finished; its findings are those of an unsharded scan', async () => {
    const expected = await unsharded(607, ['files']);
    await withSim(607, async (t, demo) => {
      const scanId = uuid(607);
      const tenantId = demo.data.tenantId;
      // Per-drive request counters on the simulator: a fault that only waits 1 ms, counting down.
      const all = t.sim.tenant.sites.flatMap((s) => s.drives.map((d) => String(d.drive.id)));
      const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\!]/g, '\\$&');
      const faults = new Map<string, SimFault>(all.map((id) => [id, { match: new RegExp(`/drives/(${esc(id)}|${esc(encodeURIComponent(id))})/root/delta`), delayMs: 1, times: 1_000_000 }]));
      t.sim.setFaults([...faults.values()]);
      const reads = (): Map<string, number> => new Map([...faults].map(([id, f]) => [id, 1_000_000 - (f.times ?? 0)]));
      // The worker dies at the checkpoint of its 4th finished drive (the drives in flight finish first).
      let writes = 0;
      const dying = failing(store, (k) => k.includes('-sharing-cp-drive-') && writes++ === 3);
      const d = depsFor(t, demo, { store: dying, ranges: { sites: 200 } });
      const start = context('tenantScan');
      const pending: ShardMessage[] = await startShardsAndLog(start.ctx, d, { kind: 'run', scanId, areas: ['files'] });
      const log: string[] = [];
      let killed: { reads: Map<string, number>; drivesListed: number; kept: Set<string> } | undefined;
      let reconciled = 0;
      while (pending.length) {
        const m = pending.shift() as ShardMessage;
        const c = context('scanShard');
        try {
          const r = await shardAndLog(c.ctx, d, m);
          if (r.run) reconciled++;
          pending.push(...r.step.enqueue);
        } catch (err) {
          expect([m.shard, (err as Error).message]).toEqual(['sharing', expect.stringMatching(/storage refused the write of .*-sharing-cp-drive-/)]);
          expect(killed).toBeUndefined();
          const kept = new Set<string>();
          for (const id of all) if (await store.getStateBlob(tenantId, checkpointKey(scanId, 'sharing', `drive-${id}`))) kept.add(id);
          killed = { reads: reads(), drivesListed: t.sim.counts().drives ?? 0, kept };
          // The queue delivers it again.
          pending.push(m);
        }
        log.push(...c.lines);
      }
      if (!killed) throw new Error('the shard was never killed');
      expect(reconciled).toBe(1);
      expect(killed.kept.size).toBeGreaterThanOrEqual(3);
      expect(killed.kept.size).toBeLessThan(all.length);
      const after = reads();
      for (const id of all) {
        const again = (after.get(id) ?? 0) - (killed.reads.get(id) ?? 0);
        // A drive finished before the kill is not read again; every other is read on the redelivery.
        expect([id, killed.kept.has(id) ? 'kept' : 'unfinished', again > 0]).toEqual([id, killed.kept.has(id) ? 'kept' : 'unfinished', !killed.kept.has(id)]);
      }
      // The libraries were not listed again either.
      expect(t.sim.counts().drives).toBe(killed.drivesListed);
      expect(shardLines(log).filter((l) => l.shard === 'sharing').map((l) => l.outcome)).toEqual(['collected']);
      const doc = await storedFindings(store, tenantId, scanId);
      expect(doc.findings).toEqual(expected.findings);
      expect(doc.coverage.files).toMatchObject({ status: 'complete', items: expected.coverage.files?.items });
      // The inventories went live with the scan (after the ledger write): the next scan reads deltas.
      for (const id of all) expect([id, Boolean(await store.getStateBlob(tenantId, `files-drive-${id}`))]).toEqual([id, true]);
      for (const id of all) expect([id, await store.getStateBlob(tenantId, checkpointKey(scanId, 'sharing', `drive-${id}`))]).toEqual([id, undefined]);
    });
  });

  it('every range message delivered twice at once: one part per range, nothing counted twice, one reconciliation', async () => {
    const expected = await unsharded(608);
    await withSim(608, async (t, demo) => {
      const scanId = uuid(608);
      const d = depsFor(t, demo, { store, ranges: SMALL });
      const start = context('tenantScan');
      const pending: ShardMessage[] = await startShardsAndLog(start.ctx, d, { kind: 'run', scanId });
      const all: string[] = [];
      while (pending.length) {
        const m = pending.shift() as ShardMessage;
        const a = context('scanShard');
        const b = context('scanShard');
        await Promise.all([scanShardHandler(async () => d)(m, a.ctx), scanShardHandler(async () => d)(JSON.stringify(m), b.ctx)]);
        for (const c of [a, b]) {
          all.push(...c.lines);
          pending.push(...((c.ctx.extraOutputs.get(shardQueue) as ShardMessage[] | undefined) ?? []));
        }
      }
      const byShard = new Map<string, string[]>();
      for (const s of shardLines(all)) byShard.set(nameOf(s), [...(byShard.get(nameOf(s)) ?? []), s.outcome]);
      expect([...byShard.keys()].filter((n) => n.startsWith('mailRules#')).length).toBeGreaterThan(2);
      expect([...byShard.keys()].filter((n) => n.startsWith('sharing#')).sort()).toEqual(['sharing#0', 'sharing#1', 'sharing#2']);
      for (const [name, outcomes] of byShard) {
        expect([name, outcomes.filter((o) => o === 'collected').length]).toEqual([name, 1]);
        expect([name, outcomes.filter((o) => o !== 'collected' && o !== 'duplicate' && o !== 'unknown')]).toEqual([name, []]);
      }
      expect(scanLines(all).filter((l) => l.outcome === 'complete' || l.outcome === 'partial')).toHaveLength(1);
      const doc = await storedFindings(store, demo.data.tenantId, scanId);
      expect(doc.findings).toEqual(expected.findings);
      // Mailboxes and shared items counted once though each range was read twice.
      for (const area of ['mail', 'files'] as const) expect([area, doc.coverage[area]?.items]).toEqual([area, expected.coverage[area]?.items]);
      expect((await store.listScans(demo.data.tenantId, 5)).map((s) => s.scanId)).toEqual([scanId]);
      // A range delivered again once the scan is on record does nothing.
      const late = context('scanShard');
      await scanShardHandler(async () => d)({ scanId, tenantId: demo.data.tenantId, shard: 'mailRules', range: 1 }, late.ctx);
      expect(shardLines(late.lines)).toEqual([expect.objectContaining({ shard: 'mailRules', range: 1, outcome: 'unknown' })]);
    });
  });
});

describe('m365-audit scan --workers 2 with M365_AUDIT_SHARD_MAILBOXES and M365_AUDIT_SHARD_SITES', () => {
  it('runs the ranges as shards and writes the findings of an unsharded scan; a bad range size is refused naming the setting', async () => {
    const expected = await withSim(609, async (t, demo) => {
      const r = await runScan({ graph: t.graph(), policy: defaultPolicy(), tenantId: demo.data.tenantId });
      return r.findings.map(findingKey).sort();
    });
    await withSim(609, async (t, demo) => {
      const cwd = mkdtempSync(join(tmpdir(), 'm365-audit-shard-ranges-'));
      const env = { PATH: process.env.PATH, NODE_EXTRA_CA_CERTS: t.sim.caPath, AZURE_STORAGE_CONNECTION_STRING: CONNECTION, M365_AUDIT_SHARD_MAILBOXES: '20', M365_AUDIT_SHARD_SITES: '5' };
      const r = await run(['scan', '--workers', '2', '--graph-url', t.sim.url, '--tenant-id', demo.data.tenantId, '--lang', 'en'], { cwd, env });
      expect(r.stderr).not.toMatch(STACK);
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/shard mailRules#0: collected/);
      expect(r.stderr).toMatch(/shard mailRules#2: collected/);
      expect(r.stderr).toMatch(/shard sharing#1: collected/);
      expect(r.stderr).not.toMatch(/shard mailRules: collected/);
      const doc = JSON.parse(readFileSync(join(cwd, 'out', 'findings.json'), 'utf8')) as { findings: Array<{ ruleId: string; subject: { id: string }; status: string }> };
      expect(doc.findings.map(findingKey).sort()).toEqual(expected);
      const bad = await run(['scan', '--workers', '2', '--graph-url', t.sim.url, '--tenant-id', demo.data.tenantId], { cwd, env: { ...env, M365_AUDIT_SHARD_MAILBOXES: '0' } });
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toMatch(/M365_AUDIT_SHARD_MAILBOXES.*whole number/);
      expect(bad.stderr).not.toMatch(STACK);
    });
  });
});
