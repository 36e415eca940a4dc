/**
 * A clock that moves only when slept on (or advanced), for pacing tests on an injected clock.
 * `yieldOnSleep`: each sleep also yields to the event loop once, so concurrent waiters interleave
 * as they would on a real clock.
 */
export function virtualTime(options: { yieldOnSleep?: boolean } = {}) {
  let now = 1_000_000;
  const slept: number[] = [];
  return {
    clock: () => now,
    sleep: async (ms: number) => {
      slept.push(ms);
      now += ms;
      if (options.yieldOnSleep) await new Promise((r) => setImmediate(r));
    },
    slept,
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}
