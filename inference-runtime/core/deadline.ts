import { RequestTimeout } from './errors.js';
import type { CancelSignal } from './cancelSignal.js';

/**
 * Resolves with `work`, or rejects with RequestTimeout when `signal` aborts first. The work itself keeps
 * running when the engine cannot be interrupted; its late result or error is dropped, never unhandled.
 */
export function raceDeadline<T>(work: Promise<T>, signal: CancelSignal, what = 'the request'): Promise<T> {
  if (signal.aborted) {
    work.catch(() => {});
    return Promise.reject(timeoutError(what));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(timeoutError(what));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

export function timeoutError(what: string): RequestTimeout {
  return new RequestTimeout(`${what} did not complete within the request timeout`);
}
