/**
 * The compressed clock (issue 13, the benchmark): one seam through which every wait of the Graph
 * client runs in *model* time. With `timeScale` N, the clock advances N model milliseconds per
 * real millisecond and `sleep(ms)` of model time sleeps ms / N real milliseconds, so budget
 * pacing (budget.ts), Retry-After waits and back-off (graph.ts) keep their documented values in
 * model time while a bench run finishes N times sooner. The simulator takes the same factor
 * (SimOptions.timeScale: token buckets refill N times faster, latency is latency / N), so ratios
 * to the model's lower bound do not depend on N; a run reports model seconds = wall × N.
 *
 * Production never sets it: timeScale 1 is Date.now and a plain setTimeout.
 * MERGE NOTE (pacing): budget.ts / graph.ts already take `clock`/`sleep` by injection
 * (GraphOptions); this file only supplies them, so adaptive pacing composes with it unchanged.
 */

export interface ModelClock {
  /** Model time in ms (epoch-based, so Retry-After HTTP dates still compare sensibly at scale 1). */
  now: () => number;
  /** Waits `ms` of model time. */
  sleep: (ms: number) => Promise<void>;
  timeScale: number;
}

/** A clock running `timeScale` times faster than real time (1: real time). */
export function modelClock(timeScale = 1): ModelClock {
  if (!Number.isFinite(timeScale) || timeScale <= 0) throw new RangeError(`timeScale must be a positive number, not ${timeScale}`);
  if (timeScale === 1) {
    return { now: Date.now, sleep: (ms) => new Promise((r) => setTimeout(r, ms)), timeScale };
  }
  const origin = Date.now();
  return {
    now: () => origin + (Date.now() - origin) * timeScale,
    sleep: (ms) => new Promise((r) => setTimeout(r, Math.max(0, ms / timeScale))),
    timeScale,
  };
}
