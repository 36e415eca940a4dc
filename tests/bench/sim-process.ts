/**
 * The bench's simulator in a process of its own (issue 13), so the scanner's peak RSS is
 * measured alone. Started with child_process.fork; it generates the tenant itself from (seed,
 * users), so no 50,000-user JSON crosses the pipe, and talks over IPC:
 *   → { type: 'ready', url, caPem } once listening
 *   ← { type: 'counts' } → { type: 'counts', counts }     ← { type: 'reset' } → { type: 'reset' }
 *   ← { type: 'close' } → closes the server and exits 0.
 * Argument: one JSON object { seed, users, latencyMs, timeScale? }.
 */
import { generateDemoTenant } from '../../src/sim/demo-tenant';
import { startSimulator } from '../../src/sim/server';
import type { SimOptions } from '../../src/sim/types';

export interface SimProcessArgs {
  seed: number;
  users: number;
  latencyMs: number;
  /** compressed clock; passed only if the simulator has the option (MERGE NOTE: pacing's `timeScale`) */
  timeScale?: number;
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '{}') as SimProcessArgs;
  const demo = generateDemoTenant({ seed: args.seed, users: args.users });
  const options: SimOptions & { timeScale?: number } = { tenant: demo.data, latencyMs: args.latencyMs, licenceCount: args.users };
  // Thin adapter: today's SimOptions has no timeScale; an unknown option is ignored by startSimulator.
  if (args.timeScale !== undefined && args.timeScale !== 1) options.timeScale = args.timeScale;
  const sim = await startSimulator(options);
  process.on('message', (m: { type: string }) => {
    if (m.type === 'counts') process.send?.({ type: 'counts', counts: sim.counts() });
    else if (m.type === 'reset') {
      sim.resetCounts();
      sim.resetThrottling();
      process.send?.({ type: 'reset' });
    } else if (m.type === 'close') {
      void sim.close().then(() => process.exit(0));
    }
  });
  process.send?.({ type: 'ready', url: sim.url, caPem: sim.caPem, tenantId: demo.data.tenantId, policy: demo.policy });
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
