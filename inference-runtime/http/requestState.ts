import type { CancelSignal } from '../core/cancelSignal.js';
/**
 * What a route records on `ctx.state` for the middleware around it. Task routes mounted through
 * `createApp({ routers })` fill in the same fields, so metrics and deadlines work for them unchanged.
 */
export interface RequestState {
  /** Aborted when the request's time budget is spent; hand it to anything that waits. */
  deadline: CancelSignal;
  /** The model that answered, which labels the request's metrics. */
  model?: { name: string; version: string };
  /** Seconds spent in model inference for this request. */
  inferenceSeconds?: number;
}
