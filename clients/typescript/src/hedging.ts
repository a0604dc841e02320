import type { Endpoint } from './endpoints.js';

export interface HedgeOptions {
  /** Send the same request to the next endpoint when the first has not answered within this budget. */
  enabled: boolean;
  /**
   * A fixed budget in ms; when absent, the budget is `percentile` of the endpoint's observed latency. 0 sends
   * every hedgeable call to `maxInFlight` endpoints at once.
   */
  afterMs?: number;
  /** Percentile of the endpoint's answered-request latency used as budget (default 95). */
  percentile: number;
  /** Bounds of the learned budget (default 5 ms .. 2000 ms). */
  minMs: number;
  maxMs: number;
  /**
   * Budget while fewer than `minSamples` latencies are known; default 4 x the endpoint's probe RTT + 50 ms
   * (250 ms before any probe). Kept short on purpose: a slow answer that wins because the first budget was
   * long would enter the observed latencies and lift every later budget.
   */
  initialMs?: number;
  minSamples: number;
  /** Requests in flight at once for one call, the first included (default 2). */
  maxInFlight: number;
}

export const DEFAULT_HEDGE: Readonly<HedgeOptions> = Object.freeze({
  enabled: true,
  percentile: 95,
  minMs: 5,
  maxMs: 2000,
  minSamples: 8,
  maxInFlight: 2,
});

/** How long to wait for `endpoint` before hedging to the next one. */
export function hedgeBudget(endpoint: Endpoint, options: HedgeOptions): number {
  if (options.afterMs !== undefined) return options.afterMs;
  const bound = (ms: number) => Math.min(options.maxMs, Math.max(options.minMs, ms));
  if (endpoint.latency.count < options.minSamples) {
    if (options.initialMs !== undefined) return options.initialMs;
    const rtt = endpoint.rtt.percentile(50);
    return bound(rtt === undefined ? 250 : 4 * rtt + 50);
  }
  return bound(endpoint.latency.percentile(options.percentile)!);
}

/** What one attempt on one endpoint came to. */
export type AttemptOutcome<T> =
  | { kind: 'answer'; value: T }
  /** The request's own fault or a final answer (4xx): no other endpoint would answer differently. */
  | { kind: 'final'; error: Error }
  /** The endpoint failed (network, 5xx, overloaded): another endpoint may answer. */
  | { kind: 'retry'; error: string; retryAfterMs?: number };

export interface HedgedRunOptions<T> {
  candidates: readonly Endpoint[];
  attempt(endpoint: Endpoint, signal: AbortSignal): Promise<AttemptOutcome<T>>;
  budget(endpoint: Endpoint): number;
  hedging: boolean;
  maxInFlight: number;
  /** The caller's deadline and cancellation. */
  signal: AbortSignal;
  onSuccess(endpoint: Endpoint, ms: number): void;
  onFailure(endpoint: Endpoint, error: string, retryAfterMs?: number): void;
  /** Called when a hedge is sent (metrics). */
  onHedge?(from: Endpoint, to: Endpoint): void;
  now(): number;
}

export interface RunFailure {
  endpoint: string;
  error: string;
}

/**
 * Runs one logical request over ranked endpoints. The first candidate gets it; when it has not answered
 * within its budget, the next candidate gets the same request (a hedge); when an attempt fails, the next
 * candidate gets it at once (failover). The first answer wins and the others are aborted. Resolves with the
 * answer, rejects with the final error, or with the list of failures when no endpoint answered.
 */
export function runHedged<T>(options: HedgedRunOptions<T>): Promise<T> {
  const { candidates } = options;
  return new Promise<T>((resolve, reject) => {
    let next = 0;
    let settled = false;
    let hedgeTimer: ReturnType<typeof setTimeout> | undefined;
    const inFlight = new Map<Endpoint, AbortController>();
    const failures: RunFailure[] = [];

    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      if (hedgeTimer !== undefined) clearTimeout(hedgeTimer);
      options.signal.removeEventListener('abort', onAbort);
      for (const controller of inFlight.values()) controller.abort(new DOMException('another endpoint answered first', 'AbortError'));
      inFlight.clear();
      fn();
    };
    const giveUp = () => finish(() => reject(new NoAnswer(failures)));
    const onAbort = () => finish(() => reject(options.signal.reason instanceof Error ? options.signal.reason : new DOMException('aborted', 'AbortError')));

    const scheduleHedge = (from: Endpoint) => {
      if (hedgeTimer !== undefined) clearTimeout(hedgeTimer);
      hedgeTimer = undefined;
      if (!options.hedging || next >= candidates.length || inFlight.size >= options.maxInFlight) return;
      const hedge = () => {
        hedgeTimer = undefined;
        if (settled || next >= candidates.length || inFlight.size >= options.maxInFlight) return;
        options.onHedge?.(from, candidates[next]!);
        launch();
      };
      const budget = options.budget(from);
      // A budget of 0 sends the hedge together with the attempt it doubles (once that attempt has been sent),
      // not after a timer tick that a fast answer could beat.
      if (budget <= 0) queueMicrotask(hedge);
      else hedgeTimer = setTimeout(hedge, budget);
    };

    const launch = (): void => {
      if (settled) return;
      if (next >= candidates.length) {
        if (inFlight.size === 0) giveUp();
        return;
      }
      const endpoint = candidates[next++]!;
      const controller = new AbortController();
      inFlight.set(endpoint, controller);
      const started = options.now();
      scheduleHedge(endpoint);
      options.attempt(endpoint, controller.signal).then(
        (outcome) => {
          if (settled) return;
          inFlight.delete(endpoint);
          if (outcome.kind === 'answer') {
            options.onSuccess(endpoint, options.now() - started);
            finish(() => resolve(outcome.value));
          } else if (outcome.kind === 'final') {
            // The endpoint works: it answered, the request is what it refused.
            options.onSuccess(endpoint, options.now() - started);
            finish(() => reject(outcome.error));
          } else {
            options.onFailure(endpoint, outcome.error, outcome.retryAfterMs);
            failures.push({ endpoint: endpoint.url, error: outcome.error });
            launch();
          }
        },
        (error: unknown) => {
          if (settled) return;
          inFlight.delete(endpoint);
          const message = error instanceof Error ? error.message : String(error);
          options.onFailure(endpoint, message);
          failures.push({ endpoint: endpoint.url, error: message });
          launch();
        },
      );
    };

    if (options.signal.aborted) return onAbort();
    options.signal.addEventListener('abort', onAbort, { once: true });
    launch();
  });
}

/** Every candidate failed. */
export class NoAnswer extends Error {
  constructor(readonly failures: RunFailure[]) {
    super('no endpoint answered');
  }
}
