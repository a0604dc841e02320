/**
 * The data plane's one error type: every failure carries its HTTP status, and each protocol maps it to its
 * own error shape (TF Serving's and V2's `{"error": "..."}`, a task API's). Anything else becomes a 500 whose
 * body does not leak internals. Messages use the runtime's own words; protocol vocabulary (TF Serving's
 * "Servable not found") is added by the protocol's adapter.
 */
export class DomainError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** 400: the request is malformed or does not fit the model's signature. */
export class InvalidInput extends DomainError {
  constructor(message: string) {
    super(message, 400);
  }
}

/** 401: no valid API key. */
export class Unauthorized extends DomainError {
  constructor(message = 'a valid API key is required (Authorization: Bearer <key> or X-API-Key)') {
    super(message, 401);
  }
}

/** 404: unknown model, version or route. */
export class ModelNotFound extends DomainError {
  constructor(
    message: string,
    /** The model (and version) asked for, when a model lookup failed: protocols phrase their own message from it. */
    readonly lookup?: { name: string; version?: string },
  ) {
    super(message, 404);
  }
}

/** 413: body or decoded image too large. */
export class PayloadTooLarge extends DomainError {
  constructor(message: string) {
    super(message, 413);
  }
}

/** 415: a body whose media type cannot be handled. */
export class UnsupportedMediaType extends DomainError {
  constructor(message: string) {
    super(message, 415);
  }
}

/** 503: the model exists but is not loaded (yet), or the server is draining. */
export class NotReady extends DomainError {
  constructor(message: string) {
    super(message, 503);
  }
}

/** 503: too many requests queued, or not enough memory for the work now; the client may retry after a while. */
export class Overloaded extends DomainError {
  constructor(
    message: string,
    /** Sent as `Retry-After`: the pressure is transient, so tell well-behaved clients when to come back. */
    readonly retryAfterSeconds = 1,
  ) {
    super(message, 503);
  }
}

/** 504: the request took longer than the configured timeout. */
export class RequestTimeout extends DomainError {
  constructor(message: string) {
    super(message, 504);
  }
}
