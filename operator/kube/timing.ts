/** Sleep and jitter helpers shared by the informer and leader election. */

/** A random duration in [0.5 * ms, 1.5 * ms), so many retrying clients spread out. */
export function jittered(ms: number): number {
  return ms * (0.5 + Math.random());
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
