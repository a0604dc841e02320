import { redactText } from './redact.js';

/**
 * Why a model's files could not be fetched or verified. The message is the reason a model is UNAVAILABLE,
 * so it names the file and what went wrong (digest mismatch, HTTP status, timeout, truncation, size cap).
 * Every URL in it is redacted here, once, so no caller can put a presigned URL's token in a status.
 */
export class ModelFetchError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(redactText(message), options);
    this.name = 'ModelFetchError';
  }
}
