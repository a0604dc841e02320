/**
 * The one HTTP primitive the client needs: a subset of the WHATWG `fetch` that both the global `fetch`
 * (browsers, Node 20) and `httpsFetch` from `@mloffload/client/node` (custom CA) satisfy.
 */
export interface RequestInitLike {
  method: string;
  headers: Record<string, string>;
  body?: Uint8Array | string;
  signal?: AbortSignal;
}

export interface ResponseLike {
  readonly status: number;
  readonly ok: boolean;
  readonly headers: { get(name: string): string | null };
  text(): Promise<string>;
  /** The body as bytes (binary tensor responses); read instead of text(), not both. */
  arrayBuffer(): Promise<ArrayBuffer>;
}

export type FetchLike = (url: string, init: RequestInitLike) => Promise<ResponseLike>;

/** The global fetch, looked up at call time so a page or test may replace it. */
export const globalFetch: FetchLike = (url, init) =>
  fetch(url, {
    method: init.method,
    headers: init.headers,
    // A copy over a plain ArrayBuffer: what every fetch accepts as a body.
    body: init.body instanceof Uint8Array ? new Uint8Array(init.body) : init.body,
    signal: init.signal,
  });

/** A signal aborted when any of `signals` aborts (AbortSignal.any is missing from some browsers still in use). */
export function anySignal(signals: ReadonlyArray<AbortSignal | undefined>): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const present = signals.filter((s): s is AbortSignal => s !== undefined);
  const abort = (s: AbortSignal) => () => controller.abort(s.reason);
  const listeners = present.map((s) => [s, abort(s)] as const);
  for (const [s, listener] of listeners) {
    if (s.aborted) {
      controller.abort(s.reason);
      break;
    }
    s.addEventListener('abort', listener, { once: true });
  }
  return {
    signal: controller.signal,
    dispose: () => listeners.forEach(([s, listener]) => s.removeEventListener('abort', listener)),
  };
}
