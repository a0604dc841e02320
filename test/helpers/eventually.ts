// Assertions over time, with deadlines, in place of sleeps in tests.
//   await eventually(async () => expect(await readyReplicas()).to.equal(3), { timeout: 30_000 });
//   await consistently(async () => expect(await podCount()).to.equal(0), { duration: 2_000 });

export interface EventuallyOptions {
  /** Give up after this many milliseconds (default 10 000). */
  readonly timeout?: number;
  /** Wait this long between attempts (default 100). */
  readonly interval?: number;
  /** Prefixed to the error when the deadline passes. */
  readonly message?: string;
}

export interface ConsistentlyOptions {
  /** Keep checking for this many milliseconds (default 2 000). */
  readonly duration?: number;
  readonly interval?: number;
  readonly message?: string;
}

const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

class DeadlineExceeded extends Error {}

/** Runs one attempt, but stops waiting for it at the deadline (a hung request must not hang the test). */
async function attemptBefore<T>(fn: () => T | Promise<T>, deadline: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineExceeded('attempt still running at the deadline')), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([Promise.resolve().then(fn), expired]);
  } finally {
    clearTimeout(timer);
  }
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Calls `fn` until it returns without throwing and resolves with its result. When the timeout passes,
 * rejects with the last failure, so the test shows what was still wrong.
 */
export async function eventually<T>(fn: () => T | Promise<T>, options: EventuallyOptions = {}): Promise<T> {
  const timeout = options.timeout ?? 10_000;
  const interval = options.interval ?? 100;
  const started = Date.now();
  const deadline = started + timeout;
  let attempts = 0;
  let lastError: unknown;
  for (;;) {
    attempts++;
    try {
      return await attemptBefore(fn, deadline);
    } catch (error) {
      if (!(error instanceof DeadlineExceeded) || lastError === undefined) lastError = error;
    }
    if (Date.now() + interval > deadline) {
      const prefix = options.message ? `${options.message}: ` : '';
      const failure = new Error(
        `${prefix}still failing after ${Date.now() - started} ms (${attempts} attempts): ${describeError(lastError)}`,
      );
      failure.cause = lastError;
      throw failure;
    }
    await delay(interval);
  }
}

/** Calls `fn` repeatedly for the whole duration; rejects at the first failure. */
export async function consistently(fn: () => unknown, options: ConsistentlyOptions = {}): Promise<void> {
  const duration = options.duration ?? 2_000;
  const interval = options.interval ?? 100;
  const started = Date.now();
  const end = started + duration;
  let attempts = 0;
  for (;;) {
    attempts++;
    try {
      // An attempt may run at most until the end of the window plus one interval.
      await attemptBefore(fn, Math.max(end, Date.now()) + interval);
    } catch (error) {
      const prefix = options.message ? `${options.message}: ` : '';
      const failure = new Error(`${prefix}failed after ${Date.now() - started} ms (attempt ${attempts}): ${describeError(error)}`);
      failure.cause = error;
      throw failure;
    }
    if (Date.now() >= end) return;
    await delay(Math.min(interval, Math.max(0, end - Date.now())));
  }
}
