import { CancelController, type CancelSignal } from './cancelSignal.js';

/**
 * A deadline as one CancelController and a plain timer, both held by whoever holds the returned handle. A
 * signal made by `AbortSignal.timeout` or `AbortSignal.any` is referenced only weakly by its listeners and,
 * once garbage-collected, never fires (Node 20): work waiting on it (a queued request, a stalled download)
 * then runs on past its deadline.
 */
export interface TimeoutSignal {
  readonly signal: CancelSignal;
  /** Whether the time ran out (not the parent, not `abort`). */
  readonly timedOut: boolean;
  /** Aborts now with this reason (the timer is stopped). */
  abort(reason: unknown): void;
  /** Stops the timer and lets go of the parent; the signal stays as it is. Call it when the work is over. */
  clear(): void;
  /** `signal` as a real AbortSignal, for Node APIs that take one (fetch, streams); made on the first call. */
  toAbortSignal(): AbortSignal;
}

/** Aborts after `timeoutMs` with a `TimeoutError` DOMException (as `AbortSignal.timeout`), or when `parent` aborts, with its reason. */
export function timeoutSignal(timeoutMs: number, parent?: CancelSignal): TimeoutSignal {
  return new Timeout(timeoutMs, parent);
}

/**
 * A class, not an object literal with a `timedOut` getter: each such literal gets a map of its own (its getter
 * is a new closure), which V8 keeps in the old generation, and one per request kept the request's objects
 * alive through young-generation collections (core/cancelSignal.ts).
 */
class Timeout implements TimeoutSignal {
  readonly #controller = new CancelController();
  readonly #timer: NodeJS.Timeout;
  readonly #parent?: CancelSignal;
  readonly #onParent = (): void => {
    this.clear();
    this.#controller.abort(this.#parent?.reason);
  };
  #timedOut = false;

  constructor(timeoutMs: number, parent?: CancelSignal) {
    this.#parent = parent;
    this.#timer = setTimeout(() => {
      this.#timedOut = true;
      this.#controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
    }, timeoutMs);
    if (parent?.aborted) this.#onParent();
    else parent?.addEventListener('abort', this.#onParent, { once: true });
  }

  get signal(): CancelSignal {
    return this.#controller;
  }

  get timedOut(): boolean {
    return this.#timedOut;
  }

  abort(reason: unknown): void {
    this.clear();
    this.#controller.abort(reason);
  }

  clear(): void {
    clearTimeout(this.#timer);
    this.#parent?.removeEventListener('abort', this.#onParent);
  }

  toAbortSignal(): AbortSignal {
    return this.#controller.toAbortSignal();
  }
}
