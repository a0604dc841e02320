import type { ServerResponse } from 'node:http';
import { RequestTimeout } from '../core/errors.js';

/**
 * The deadline of one request: aborted when its time budget is spent, or as soon as the client goes away
 * before its answer (closed connection, cancelled call). The data plane hands it to the batcher and the
 * worker queue, so work nobody waits for any more leaves the queue before it runs.
 */
export function requestDeadline(res: ServerResponse, timeoutMs: number): AbortSignal {
  const left = new AbortController();
  const onClose = (): void => {
    if (!res.writableFinished) left.abort(new RequestTimeout('the client closed the connection before the answer'));
  };
  res.once('close', onClose);
  return AbortSignal.any([AbortSignal.timeout(timeoutMs), left.signal]);
}
