import type { ServerResponse } from 'node:http';
import { RequestTimeout } from '../core/errors.js';

/**
 * The deadline of one request: aborted when its time budget is spent, or as soon as the client goes away
 * before its answer (closed connection, cancelled call). The data plane hands it to the batcher and the
 * worker queue, so work nobody waits for any more leaves the queue before it runs.
 *
 * One controller and a plain timer, both held by the response until it closes: a signal made by
 * `AbortSignal.timeout` or `AbortSignal.any` is referenced only weakly by its listeners and, once collected,
 * never fires (Node 20), which let a queued request run on past its deadline after a garbage collection.
 */
export function requestDeadline(res: ServerResponse, timeoutMs: number): AbortSignal {
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')), timeoutMs);
  res.once('close', () => {
    clearTimeout(timer);
    if (!res.writableFinished) deadline.abort(new RequestTimeout('the client closed the connection before the answer'));
  });
  return deadline.signal;
}
