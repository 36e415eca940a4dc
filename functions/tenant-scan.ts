/**
 * tenantScan: the daily tenant scan (every implemented area), timer. Registration only: the work
 * is src/jobs/scan.ts through src/runtime.ts. A scan that reaches its deadline continues through
 * the scan queue (scanWorker). Default schedule `0 0 18 * * *` = 18:00 UTC =
 * 03:00 JST (M365_AUDIT_SCHEDULE_TENANT_SCAN overrides it; NCRONTAB in UTC).
 */
import { app, type InvocationContext, type Timer } from '@azure/functions';
import { scheduleFromEnv } from '../src/config/settings';
import { randomUUID } from 'node:crypto';
import { scanQueue } from '../src/jobs/scan-request';
import { shardQueue } from '../src/jobs/shard-queue';
import { depsFromSettings, scanAndLog, startShardsAndLog, type ScanDeps } from '../src/runtime';

/** Builds the handler around its dependencies (tests pass the simulator's and the test Azurite). */
export function tenantScanHandler(deps: () => Promise<ScanDeps>) {
  return async (timer: Timer, context: InvocationContext): Promise<void> => {
    // A late (past-due) or repeated delivery is harmless: the ledger lease serialises runs and
    // tickets/alerts are idempotent, so it simply scans again — or continues the last scan when
    // that one stopped (crashed) with its progress saved (src/collect/progress.ts).
    if (timer.isPastDue) context.warn('tenantScan: the timer is past due (the app was stopped or busy); scanning now');
    const d = await deps();
    // M365_AUDIT_SCAN_SHARDS=on: one shard per slice on the shard queue (scanShard), README "Shards".
    if (d.scanShards) {
      context.extraOutputs.set(shardQueue, await startShardsAndLog(context, d, { kind: 'run', scanId: randomUUID() }));
      return;
    }
    const run = await scanAndLog(context, d, { kind: 'run', deadline: true, resume: true });
    // Stopped at the host's time limit: scanWorker continues it (same scan id) from its progress.
    if (run.kind === 'suspended') context.extraOutputs.set(scanQueue, run.continuation);
  };
}

app.timer('tenantScan', { schedule: scheduleFromEnv('M365_AUDIT_SCHEDULE_TENANT_SCAN'), extraOutputs: [scanQueue, shardQueue], handler: tenantScanHandler(() => depsFromSettings()) });
