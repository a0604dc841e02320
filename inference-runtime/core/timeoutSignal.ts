/**
 * A deadline as one AbortController and a plain timer, both held by whoever holds the returned handle. A
 * signal made by `AbortSignal.timeout` or `AbortSignal.any` is referenced only weakly by its listeners and,
 * once garbage-collected, never fires (Node 20): work waiting on it (a queued request, a stalled download)
 * then runs on past its deadline.
 */
export interface TimeoutSignal {
  readonly signal: AbortSignal;
  /** Whether the time ran out (not the parent, not `abort`). */
  readonly timedOut: boolean;
  /** Aborts now with this reason (the timer is stopped). */
  abort(reason: unknown): void;
  /** Stops the timer and lets go of the parent; the signal stays as it is. Call it when the work is over. */
  clear(): void;
}

/** Aborts after `timeoutMs` with a `TimeoutError` DOMException (as `AbortSignal.timeout`), or when `parent` aborts, with its reason. */
export function timeoutSignal(timeoutMs: number, parent?: AbortSignal): TimeoutSignal {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
  }, timeoutMs);
  const onParent = (): void => {
    clear();
    controller.abort(parent?.reason);
  };
  const clear = (): void => {
    clearTimeout(timer);
    parent?.removeEventListener('abort', onParent);
  };
  if (parent?.aborted) onParent();
  else parent?.addEventListener('abort', onParent, { once: true });
  return {
    signal: controller.signal,
    get timedOut() {
      return timedOut;
    },
    abort(reason: unknown) {
      clear();
      controller.abort(reason);
    },
    clear,
  };
}
