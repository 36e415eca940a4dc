/**
 * The bench's simulator in a process of its own (issue 13), so the scanner's peak RSS is
 * measured alone. Started with child_process.fork; it generates the bench tenant itself from
 * (seed, users) — lazily (src/sim/bench-tenant.ts), so 50,000 users fit — and no tenant JSON
 * crosses the pipe. Talks over IPC:
 *   → { type: 'ready', url, caPem, tenantId, policy, counts, truth } once listening
 *   ← { type: 'counts' } → { type: 'counts', counts }     ← { type: 'reset' } → { type: 'reset' }
 *   ← { type: 'timeScale', value } → { type: 'timeScale' }: the compressed clock's factor from now on
 *   ← { type: 'close' } → closes the server and exits 0.
 * Argument: one JSON object { seed, users, latencyMs, timeScale?, sweepDays?, readings? }.
 */
import { sweepBucket, todaysBucket } from '../../src/collect/files';
import { generateBenchTenant } from '../../src/sim/bench-tenant';
import { startSimulator, type SimOptions } from '../../src/sim/server';
import type { GroundTruth, JsonObject, TenantData } from '../../src/sim/tenant';
import type { TenantCounts } from './model';

export interface SimProcessArgs {
  seed: number;
  users: number;
  latencyMs: number;
  /** compressed clock (SimOptions.timeScale) */
  timeScale?: number;
  /** the policy's files.oneDriveSweepDays the daily scan uses (default 7), for `oneDrivesDueToday` */
  sweepDays?: number;
  /**
   * Which reading of the ambiguous limits the simulator plays (SimOptions.throttleReadings; model.ts
   * READINGS): Outlook's 4 concurrent per mailbox or per app, and whether signInActivity pages also
   * draw on the identity reports' limit. Default: the simulator's (perMailbox, ownFamily).
   */
  readings?: { outlook?: 'perMailbox' | 'perApp'; signInActivity?: 'ownFamily' | 'alsoIdentityReports' };
}

/** What the ready message carries about the tenant. */
export interface SimTruth {
  /** planted findings per rule id */
  perRule: Record<string, number>;
  /** the planted findings themselves, when there are at most 5,000 of them */
  list?: GroundTruth[];
}

/**
 * What the incremental accounts read and the filtered MFA read must fetch on this tenant
 * (collect/identity.ts): the users at or before the cut-off of each signInActivity query (default
 * policy: 90 days), those with no sign-in recorded, the role holders, and the unregistered users.
 */
function identityCounts(t: TenantData): Pick<TenantCounts, 'staleBySuccess' | 'staleByAny' | 'neverSignedIn' | 'roleHolders' | 'registrationsToRead' | 'unregistered' | 'enabledUsers'> {
  const cutoff = Date.now() - 90 * 86_400_000;
  const at = (v: unknown): number | null => {
    const ms = typeof v === 'string' && v !== '' ? Date.parse(v) : NaN;
    return Number.isFinite(ms) && ms > Date.parse('1900-01-01') ? ms : null;
  };
  let staleBySuccess = 0;
  let staleByAny = 0;
  let neverSignedIn = 0;
  for (const u of t.users) {
    const a = (u.signInActivity ?? {}) as JsonObject;
    const success = at(a.lastSuccessfulSignInDateTime);
    const any = at(a.lastSignInDateTime);
    if (success !== null && success <= cutoff) staleBySuccess++;
    if (any !== null && any <= cutoff) staleByAny++;
    if (success === null && any === null) neverSignedIn++;
  }
  // Users holding a role, directly or through a (nested) group: the collectors read registration
  // records and last sign-ins of users only (service principals and groups have neither).
  const userIds = new Set(t.users.map((u) => String(u.id)));
  const holders = new Set<string>();
  const expand = (id: string, seen: Set<string>): void => {
    if (userIds.has(id)) holders.add(id);
    else if (!seen.has(id)) {
      seen.add(id);
      for (const m of t.groupMembers?.[id] ?? []) expand(m, seen);
    }
  };
  for (const r of [...t.roleAssignments, ...t.roleEligibilitySchedules]) expand(String(r.principalId), new Set());
  const unregistered = t.userRegistrationDetails.filter((r) => r.isMfaRegistered === false).length;
  // The holders the filtered registration read does not return (registered, or without a record), read by id.
  const unregisteredIds = new Set(t.userRegistrationDetails.filter((r) => r.isMfaRegistered === false).map((r) => String(r.id)));
  const registrationsToRead = [...holders].filter((id) => !unregisteredIds.has(id)).length;
  const enabledUsers = t.users.filter((u) => u.accountEnabled === true).length;
  return { staleBySuccess, staleByAny, neverSignedIn, roleHolders: holders.size, registrationsToRead, unregistered, enabledUsers };
}

/** The bench's names of the readings, as the simulator's options spell them. */
function throttleReadingsOf(readings: NonNullable<SimProcessArgs['readings']>): NonNullable<SimOptions['throttleReadings']> {
  return {
    ...(readings.outlook ? { outlookConcurrency: readings.outlook } : {}),
    ...(readings.signInActivity ? { signInActivity: readings.signInActivity } : {}),
  };
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '{}') as SimProcessArgs;
  const bench = generateBenchTenant({ seed: args.seed, users: args.users });
  const sweepDays = args.sweepDays ?? 7;
  const today = todaysBucket(new Date(), sweepDays);
  let libraries = 0;
  let oneDrives = 0;
  let due = 0;
  for (const s of bench.data.sites) {
    const personal = /-my\.sharepoint\./i.test(String(s.site.webUrl)) && String(s.site.webUrl).toLowerCase().includes('/personal/');
    for (const d of s.drives) {
      libraries++;
      if (personal || d.drive.driveType === 'business') {
        oneDrives++;
        if (sweepBucket(String(d.drive.id), sweepDays) === today) due++;
      }
    }
  }
  // Shared items: the lazy libraries' 4 each, plus the demo's (counted from its eager data).
  const demoShared = bench.data.sites.slice(0, bench.shape.demoSites).reduce((n, s) => n + s.drives.reduce((m, d) => m + d.items.filter((i) => i.shared !== undefined).length, 0), 0);
  const counts: TenantCounts = { sites: bench.data.sites.length, libraries, oneDrives, oneDrivesDueToday: due, sharedItems: demoShared + bench.shape.lazyLibraries * 4, ...identityCounts(bench.data) };
  const perRule: Record<string, number> = {};
  for (const g of bench.groundTruth) perRule[g.ruleId] = (perRule[g.ruleId] ?? 0) + 1;
  const truth: SimTruth = { perRule, ...(bench.groundTruth.length <= 5000 ? { list: bench.groundTruth } : {}) };
  const sim = await startSimulator({
    tenant: bench.data,
    latencyMs: args.latencyMs,
    licenceCount: args.users,
    ...(args.timeScale !== undefined && args.timeScale !== 1 ? { timeScale: args.timeScale } : {}),
    ...(args.readings ? { throttleReadings: throttleReadingsOf(args.readings) } : {}),
  });
  // The bench process went away (killed, crashed): do not outlive it.
  process.on('disconnect', () => process.exit(0));
  process.on('message', (m: { type: string }) => {
    if (m.type === 'counts') process.send?.({ type: 'counts', counts: sim.counts() });
    else if (m.type === 'reset') {
      sim.resetCounts();
      sim.resetThrottling();
      process.send?.({ type: 'reset' });
    } else if (m.type === 'timeScale') {
      sim.setTimeScale((m as { type: string; value: number }).value);
      process.send?.({ type: 'timeScale' });
    } else if (m.type === 'close') {
      void sim.close().then(() => process.exit(0));
    }
  });
  process.send?.({ type: 'ready', url: sim.url, caPem: sim.caPem, tenantId: bench.data.tenantId, policy: bench.policy, counts, truth, now: bench.now });
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
