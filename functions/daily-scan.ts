/**
 * Daily tenant scan (03:00 JST). Registration only: the work is src/pipeline.ts.
 */
import { app, type InvocationContext, type Timer } from '@azure/functions';
import { runScan } from '../src/pipeline';
import { depsFromSettings, type ScanDeps } from '../src/runtime';

/** Builds the handler around its dependencies (tests pass the simulator's). */
export function dailyScanHandler(deps: () => Promise<ScanDeps>) {
  return async (_timer: Timer, context: InvocationContext): Promise<void> => {
    const d = await deps();
    const { graph, close, sinks } = d.graph();
    try {
      const result = await runScan({ graph, policy: d.policy, tenantId: d.tenantId, store: d.store, ...(sinks ? { sinks } : {}), ...(d.alerts ? { alerts: d.alerts } : {}), ...(d.clock ? { clock: d.clock } : {}), ...(d.signInOverlapMinutes !== undefined ? { collectOptions: { signInOverlapMinutes: d.signInOverlapMinutes } } : {}) });
      const open = result.findings.filter((f) => f.status === 'open').length;
      context.log(`scan ${result.scanId}: ${open} open findings, ${result.tickets?.opened.length ?? 0} tickets opened; coverage ${JSON.stringify(result.coverage)}`);
      for (const f of result.alerts?.failed ?? []) context.warn(`scan ${result.scanId}: alert not delivered, it goes on the next run: ${f}`);
      if (result.exitCode !== 0) context.warn(`scan ${result.scanId}: some areas were partial or failed`);
    } finally {
      await close();
    }
  };
}

app.timer('dailyScan', { schedule: '0 0 18 * * *', handler: dailyScanHandler(() => depsFromSettings()) });
