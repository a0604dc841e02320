/**
 * Runs `release` once each time the process turns quiet after a spell of work: at the first check whose CPU
 * time (every thread of the process: event loop, inference workers, decoders) stays under `busyFraction` of
 * one core, after a check that did not. A stream of requests leaves its buffers' memory in the allocator's
 * arenas, as loading does (core/allocatorTrim.ts); releasing it while requests keep coming would only make the
 * next ones fault their pages back in, so the release waits for the quiet, and sparse requests (under the
 * fraction) never trigger one.
 */
export interface QuietReleaseOptions {
  release(): void;
  /** How often the process's CPU time is read (default 5 s). */
  intervalMs?: number;
  /** CPU time per interval, as a fraction of one core, above which the process counts as busy (default 5%). */
  busyFraction?: number;
  /** The process's CPU time so far, ms (default `process.cpuUsage()`: user + system, every thread). */
  cpuMs?: () => number;
}

export interface QuietRelease {
  /** One check: what the timer runs every interval. */
  check(): void;
  stop(): void;
}

const processCpuMs = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

export function releaseWhenQuiet(options: QuietReleaseOptions): QuietRelease {
  const intervalMs = options.intervalMs ?? 5000;
  const busyMs = (options.busyFraction ?? 0.05) * intervalMs;
  const cpuMs = options.cpuMs ?? processCpuMs;
  let last = cpuMs();
  let worked = false;
  const check = (): void => {
    const now = cpuMs();
    const used = now - last;
    last = now;
    if (used > busyMs) worked = true;
    else if (worked) {
      worked = false;
      options.release();
    }
  };
  const timer = setInterval(check, intervalMs);
  // Never what keeps the process alive.
  timer.unref();
  return { check, stop: () => clearInterval(timer) };
}
