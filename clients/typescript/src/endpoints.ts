import type { DiscoveryDocument, Tier } from './discovery.js';
import { LatencyWindow } from './latency.js';

export interface BackoffOptions {
  /** First pause after a failure (default 500 ms); doubles with each further failure. */
  baseMs: number;
  /** Longest pause (default 30 s). */
  maxMs: number;
}

export const DEFAULT_BACKOFF: Readonly<BackoffOptions> = Object.freeze({ baseMs: 500, maxMs: 30_000 });

/** What the client knows about one endpoint. */
export class Endpoint {
  /** Round trips of discovery probes (connection reuse makes them close to the network RTT). */
  readonly rtt = new LatencyWindow(16);
  /** Whole request latencies of answered requests, the basis of the hedging budget. */
  readonly latency = new LatencyWindow(100);
  failures = 0;
  /** Calls this endpoint answered (the winning attempt of each call). */
  answers = 0;
  /** Put aside until this time (ms since epoch) after failures. */
  downUntil = 0;
  lastError?: string;
  /** Facts from its discovery document, once read. */
  discovery?: DiscoveryDocument;

  constructor(
    readonly url: string,
    readonly tier: Tier,
  ) {}

  get node(): string | undefined {
    return this.discovery?.node;
  }

  isUp(now: number): boolean {
    return this.downUntil <= now;
  }

  /** Whether this endpoint serves every one of `tasks`; true while its discovery document is unknown. */
  serves(tasks: string | readonly string[] | undefined): boolean {
    const known = this.discovery?.tasks;
    if (!tasks || !known) return true;
    return (typeof tasks === 'string' ? [tasks] : tasks).every((t) => known.includes(t));
  }

  succeeded(): void {
    this.failures = 0;
    this.downUntil = 0;
    this.lastError = undefined;
  }

  /** Puts the endpoint aside with exponential backoff and jitter; `retryAfterMs` (from the server) wins when longer. */
  failed(error: string, now: number, backoff: BackoffOptions, retryAfterMs?: number): void {
    this.failures++;
    this.lastError = error;
    const exp = Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.min(20, this.failures - 1));
    const pause = exp * (0.75 + Math.random() * 0.5);
    this.downUntil = now + Math.max(pause, Math.min(backoff.maxMs, retryAfterMs ?? 0));
  }
}

export interface EndpointView {
  url: string;
  tier: Tier;
  node?: string;
  up: boolean;
  rttMs?: number;
  latencyP50Ms?: number;
  latencyP95Ms?: number;
  failures: number;
  answers: number;
  /** How long a call waits for this endpoint before hedging to the next one. */
  hedgeBudgetMs?: number;
  lastError?: string;
}

export function viewOf(e: Endpoint, now: number, hedgeBudgetMs?: number): EndpointView {
  const view: EndpointView = { url: e.url, tier: e.tier, up: e.isUp(now), failures: e.failures, answers: e.answers };
  if (hedgeBudgetMs !== undefined) view.hedgeBudgetMs = Math.round(hedgeBudgetMs * 100) / 100;
  if (e.node) view.node = e.node;
  const rtt = e.rtt.percentile(50);
  if (rtt !== undefined) view.rttMs = Math.round(rtt * 100) / 100;
  const p50 = e.latency.percentile(50);
  const p95 = e.latency.percentile(95);
  if (p50 !== undefined) view.latencyP50Ms = Math.round(p50 * 100) / 100;
  if (p95 !== undefined) view.latencyP95Ms = Math.round(p95 * 100) / 100;
  if (e.lastError) view.lastError = e.lastError;
  return view;
}

/**
 * The order in which endpoints are tried for a request: those up before those put aside, then those that
 * have answered since their last failure before those that have not, edge before cloud (the cloud is the
 * fallback, whatever its RTT), then by median probe RTT (unknown RTT last, in the order
 * given). Endpoints known not to serve the task (every one of the tasks) are left out. Endpoints put aside still come last, so a
 * request has somewhere to go when everything failed recently, and an endpoint that recovered heals.
 */
export function rankEndpoints(endpoints: readonly Endpoint[], now: number, task?: string | readonly string[]): Endpoint[] {
  const tierOrder: Record<Tier, number> = { edge: 0, cloud: 1 };
  return endpoints
    .map((e, index) => ({ e, index, rtt: e.rtt.percentile(50) ?? Number.POSITIVE_INFINITY }))
    .filter(({ e }) => e.serves(task))
    .sort((a, b) => {
      const up = Number(b.e.isUp(now)) - Number(a.e.isUp(now));
      if (up) return up;
      if (!a.e.isUp(now)) return a.e.downUntil - b.e.downUntil;
      // An endpoint whose pause is over but that has not answered since goes after those that have.
      const suspect = Number(a.e.failures > 0) - Number(b.e.failures > 0);
      if (suspect) return suspect;
      const tier = tierOrder[a.e.tier] - tierOrder[b.e.tier];
      if (tier) return tier;
      if (a.rtt !== b.rtt) return a.rtt - b.rtt;
      return a.index - b.index;
    })
    .map(({ e }) => e);
}
