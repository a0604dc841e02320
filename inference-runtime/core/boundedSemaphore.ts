import { Overloaded, RequestTimeout } from './errors.js';
import type { CancelSignal } from './cancelSignal.js';

interface Waiter {
  grant(): void;
  onAbort?: () => void;
}

/**
 * At most `permits` holders at a time and at most `maxWaiting` callers waiting for one; a caller beyond
 * that is refused at once with Overloaded (503 + Retry-After) instead of joining a queue that only grows.
 * A waiter whose signal aborts (its request's deadline) leaves the queue with RequestTimeout.
 */
export class BoundedSemaphore {
  private holders = 0;
  private readonly waiting: Waiter[] = [];

  constructor(
    readonly permits: number,
    readonly maxWaiting: number,
    /** Names the guarded work in the refusal ("image decodes"). */
    private readonly what: string,
    private readonly retryAfterSeconds = 1,
  ) {
    if (!Number.isSafeInteger(permits) || permits < 1) throw new RangeError(`permits must be an integer >= 1, got ${permits}`);
    if (!Number.isSafeInteger(maxWaiting) || maxWaiting < 0) throw new RangeError(`maxWaiting must be an integer >= 0, got ${maxWaiting}`);
  }

  get active(): number {
    return this.holders;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /** Resolves with a release function (idempotent) once a permit is held. */
  acquire(signal?: CancelSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(this.timedOut());
    if (this.holders < this.permits) {
      this.holders++;
      return Promise.resolve(this.releaser());
    }
    if (this.waiting.length >= this.maxWaiting) {
      return Promise.reject(
        new Overloaded(`too many ${this.what} at once (${this.permits} running, ${this.waiting.length} waiting); retry later`, this.retryAfterSeconds),
      );
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        grant: () => {
          if (waiter.onAbort) signal?.removeEventListener('abort', waiter.onAbort);
          resolve(this.releaser());
        },
      };
      if (signal) {
        waiter.onAbort = () => {
          const i = this.waiting.indexOf(waiter);
          if (i >= 0) this.waiting.splice(i, 1);
          reject(this.timedOut());
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.waiting.push(waiter);
    });
  }

  private timedOut(): RequestTimeout {
    return new RequestTimeout(`waiting for a turn among ${this.what} did not complete within the request timeout`);
  }

  private releaser(): () => void {
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      const next = this.waiting.shift();
      // The permit passes straight to the next waiter, so the count of holders does not change.
      if (next) next.grant();
      else this.holders--;
    };
  }
}
