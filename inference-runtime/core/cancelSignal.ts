/**
 * What the runtime's waits read of a cancellation: the part of AbortSignal they use, so a real AbortSignal
 * (the registry's, a caller's) fits wherever a CancelSignal is taken. Listeners run at most once, when the
 * signal aborts; a listener added after that never runs (read `aborted` first, as with AbortSignal).
 */
export interface CancelSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/**
 * A CancelSignal and its abort, as one small object: the signal of every request's deadline.
 *
 * Not an AbortController, for the garbage collector's sake. Node 20 builds each AbortSignal by swapping the
 * prototype of a fresh EventTarget and then adding fields, which gives every signal a map (hidden class) of
 * its own, allocated in V8's old generation. The signals and whatever they hold then survive the young
 * generation's collections: one AbortSignal per request gives a bare `node:http` server twice the full
 * collections, and in the runtime's `:predict` route, one request at a time, it was ~170 KB of the ~410 KB
 * every scavenge found alive (bench/abortSignalGc.ts, bench/predictGc.ts, docs/benchmarks.md). Later Node.js
 * releases build signals without the swap (nodejs/node#52644 was closed as already fixed); Node 20 swaps.
 *
 * `toAbortSignal()` gives a real AbortSignal that follows this one, for the Node APIs that need one (fetch,
 * streams); it is made on first use only.
 */
export class CancelController implements CancelSignal {
  #aborted = false;
  #reason: unknown = undefined;
  #listeners: (() => void)[] = [];
  #abortSignal?: AbortSignal;

  get aborted(): boolean {
    return this.#aborted;
  }

  get reason(): unknown {
    return this.#reason;
  }

  /** The signal side; the controller is its own signal (pass it where a CancelSignal is taken). */
  get signal(): CancelSignal {
    return this;
  }

  addEventListener(type: 'abort', listener: () => void): void {
    if (type !== 'abort' || this.#aborted || this.#listeners.includes(listener)) return;
    this.#listeners.push(listener);
  }

  removeEventListener(type: 'abort', listener: () => void): void {
    if (type !== 'abort') return;
    const at = this.#listeners.indexOf(listener);
    if (at >= 0) this.#listeners.splice(at, 1);
  }

  /** Aborts with `reason` and runs the listeners once each, in the order they were added; later calls do nothing. */
  abort(reason: unknown = new DOMException('This operation was aborted', 'AbortError')): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    const listeners = this.#listeners;
    this.#listeners = [];
    let failure: { error: unknown } | undefined;
    for (const listener of listeners) {
      try {
        listener();
      } catch (error) {
        failure ??= { error };
      }
    }
    // Every listener ran; the first failure surfaces as a listener's throw from an AbortSignal would.
    if (failure) throw failure.error;
  }

  /** A real AbortSignal that aborts with this one (with its reason), made on the first call. */
  toAbortSignal(): AbortSignal {
    if (!this.#abortSignal) {
      const controller = new AbortController();
      this.#abortSignal = controller.signal;
      if (this.#aborted) controller.abort(this.#reason);
      else this.addEventListener('abort', () => controller.abort(this.#reason));
    }
    return this.#abortSignal;
  }
}
