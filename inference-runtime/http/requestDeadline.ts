import type { ServerResponse } from 'node:http';
import { RequestTimeout } from '../core/errors.js';
import { timeoutSignal } from '../core/timeoutSignal.js';
import type { CancelSignal } from '../core/cancelSignal.js';

/**
 * The deadline of one request: aborted when its time budget is spent, or as soon as the client goes away
 * before its answer (closed connection, cancelled call). The data plane hands it to the batcher and the
 * worker queue, so work nobody waits for any more leaves the queue before it runs.
 *
 * The deadline (core/timeoutSignal.ts) is held by the response until it closes: a signal that can be
 * collected let a queued request run on past its deadline after a garbage collection.
 */
export function requestDeadline(res: ServerResponse, timeoutMs: number): CancelSignal {
  const deadline = timeoutSignal(timeoutMs);
  res.once('close', () => {
    deadline.clear();
    if (!res.writableFinished) deadline.abort(new RequestTimeout('the client closed the connection before the answer'));
  });
  return deadline.signal;
}
