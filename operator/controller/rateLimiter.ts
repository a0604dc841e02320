/**
 * How long a failed key waits before its next attempt: per-key exponential backoff combined with a global
 * token bucket (client-go's default controller rate limiter), so one broken object backs off on its own
 * and a mass failure cannot hammer the API server.
 */

export interface RateLimiter {
  /** Delay in ms before `key` may be retried; counts a failure. */
  when(key: string): number;
  /** The key succeeded: reset its backoff. */
  forget(key: string): void;
  failures(key: string): number;
}

/** 5 ms, 10 ms, 20 ms, ... doubling per consecutive failure of the same key, capped. */
export class ExponentialBackoff implements RateLimiter {
  private readonly counts = new Map<string, number>();
  constructor(
    private readonly baseMs = 5,
    private readonly maxMs = 300_000,
  ) {}

  when(key: string): number {
    const n = this.counts.get(key) ?? 0;
    this.counts.set(key, n + 1);
    return Math.min(this.maxMs, this.baseMs * 2 ** Math.min(n, 40));
  }

  forget(key: string): void {
    this.counts.delete(key);
  }

  failures(key: string): number {
    return this.counts.get(key) ?? 0;
  }
}

/** A token bucket over all keys: `qps` retries per second on average, bursts up to `burst`. */
export class TokenBucket implements RateLimiter {
  private tokens: number;
  private last: number;
  constructor(
    private readonly qps = 10,
    private readonly burst = 100,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.last = now();
  }

  when(_key: string): number {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.qps);
    this.last = t;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.qps) * 1000;
  }

  forget(_key: string): void {}

  failures(_key: string): number {
    return 0;
  }
}

/** The longest delay any of the limiters asks for. */
export class MaxOf implements RateLimiter {
  private readonly limiters: RateLimiter[];
  constructor(...limiters: RateLimiter[]) {
    this.limiters = limiters;
  }

  when(key: string): number {
    return Math.max(...this.limiters.map((l) => l.when(key)));
  }

  forget(key: string): void {
    for (const l of this.limiters) l.forget(key);
  }

  failures(key: string): number {
    return Math.max(...this.limiters.map((l) => l.failures(key)));
  }
}

export function defaultRateLimiter(opts: { baseMs?: number; maxMs?: number; qps?: number; burst?: number } = {}): RateLimiter {
  return new MaxOf(new ExponentialBackoff(opts.baseMs ?? 5, opts.maxMs ?? 300_000), new TokenBucket(opts.qps ?? 10, opts.burst ?? 100));
}
