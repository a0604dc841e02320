import { DEFAULT_MAX_ROWS_PER_REQUEST } from '../core/rowLimit.js';

/** Limits and access rules of the HTTP API. */
export interface HttpOptions {
  /** Largest request body accepted, after decompression (413 beyond). */
  maxBodyBytes: number;
  /** Time a request may take from arrival to response, inference included (504 beyond). */
  requestTimeoutMs: number;
  /** Accepted API keys; empty means the API is open. */
  apiKeys: readonly string[];
  /** Whether `/metrics` needs an API key too (probes never do). */
  protectMetrics: boolean;

  // Memory limits
  /** Rows (batch dimension) of one inference request, in any protocol (413 beyond). */
  maxRowsPerRequest: number;
  /** Origins of browser apps allowed to call the API cross-origin; `*` for any, empty for none. */
  corsOrigins: readonly string[];
}

export const DEFAULT_HTTP_OPTIONS: Readonly<HttpOptions> = Object.freeze({
  // A 512x512x3 float image in JSON is about 6 MB; row batches of small images stay well below.
  maxBodyBytes: 16 * 1024 * 1024,
  requestTimeoutMs: 30_000,
  apiKeys: [],
  protectMetrics: false,
  maxRowsPerRequest: DEFAULT_MAX_ROWS_PER_REQUEST,
  corsOrigins: ['*'],
});

export function resolveHttpOptions(partial: Partial<HttpOptions> = {}): HttpOptions {
  const options = { ...DEFAULT_HTTP_OPTIONS, ...partial };
  if (!Number.isSafeInteger(options.maxBodyBytes) || options.maxBodyBytes <= 0) {
    throw new RangeError(`maxBodyBytes must be a positive integer, got ${options.maxBodyBytes}`);
  }
  if (!Number.isFinite(options.requestTimeoutMs) || options.requestTimeoutMs <= 0) {
    throw new RangeError(`requestTimeoutMs must be positive, got ${options.requestTimeoutMs}`);
  }
  if (!Number.isSafeInteger(options.maxRowsPerRequest) || options.maxRowsPerRequest <= 0) {
    throw new RangeError(`maxRowsPerRequest must be a positive integer, got ${options.maxRowsPerRequest}`);
  }
  return options;
}
