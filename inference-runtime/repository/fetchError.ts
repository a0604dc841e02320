/**
 * Why a model's files could not be fetched or verified. The message is the reason a model is UNAVAILABLE,
 * so it names the file and what went wrong (digest mismatch, HTTP status, timeout, truncation, size cap).
 */
export class ModelFetchError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ModelFetchError';
  }
}
