/**
 * The simulator's compressed clock changed mid-run (SimServer.setTimeScale; the bench runs the
 * weekly read compressed and the daily scan at 1 on the same simulator): buckets refill at the
 * new rate from then on, model time does not jump, and latency follows the new factor.
 */
import { simClient } from '../support/sim-client';
import { startSimulator } from '../../src/sim/server';
import { generateDemoTenant } from '../../src/sim/demo-tenant';

jest.setTimeout(30_000);

const demo = generateDemoTenant({ seed: 625, users: 12 });
const REPORT = '/reports/authenticationMethods/userRegistrationDetails';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('setTimeScale: the identity reports bucket refills at the new rate; a bad factor is refused', async () => {
  // 5 per 10 s of model time: at 10x a whole token comes back every 200 ms of real time.
  const sim = await startSimulator({ tenant: demo.data, timeScale: 10 });
  const { agent, call } = simClient(sim);
  try {
    await call('/domains'); // warm the TLS connection
    const drain = async (): Promise<number[]> => {
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) statuses.push((await call(REPORT)).status);
      return statuses;
    };
    const first = await drain();
    expect(first.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(first).toContain(429);

    sim.setTimeScale(1);
    // Right after the change the bucket is as empty as before (model time did not jump ahead)…
    const refused = await call(REPORT);
    expect(refused.status).toBe(429);
    // …and 400 ms of real time is 0.4 model seconds now (0.2 of a token, so at most one whole one
    // with what was left), not 4 (2 tokens, two admitted).
    await sleep(400);
    const two = [(await call(REPORT)).status, (await call(REPORT)).status];
    expect(two).toContain(429);

    sim.setTimeScale(100);
    // At 100x, 300 ms real is 30 model seconds: the bucket is full again.
    await sleep(300);
    const again = await drain();
    expect(again.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);

    expect(() => sim.setTimeScale(0)).toThrow(/positive number/);
    expect(() => sim.setTimeScale(Number.NaN)).toThrow(/positive number/);
  } finally {
    await agent.close();
    await sim.close();
  }
});

test('setTimeScale: latency is latencyMs / the new factor', async () => {
  const sim = await startSimulator({ tenant: demo.data, latencyMs: 400, timeScale: 10 });
  const { agent, call } = simClient(sim);
  try {
    await call('/domains');
    sim.setTimeScale(1);
    const t = performance.now();
    await call('/domains');
    expect(performance.now() - t).toBeGreaterThanOrEqual(390);
  } finally {
    await agent.close();
    await sim.close();
  }
});
