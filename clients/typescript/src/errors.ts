/** An answer of the API that is the request's fault or final (4xx): `status` is the HTTP status, `message` the server's `error`. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    message: string,
    /** The endpoint that answered. */
    readonly endpoint: string,
  ) {
    super(`${status}: ${message}`);
  }
}

/** No endpoint answered: every one failed, was put aside, or the deadline passed first. `attempts` says why, per endpoint. */
export class NoEndpointError extends Error {
  override name = 'NoEndpointError';
  constructor(
    message: string,
    readonly attempts: ReadonlyArray<{ endpoint: string; error: string }>,
  ) {
    super(attempts.length ? `${message}: ${attempts.map((a) => `${a.endpoint}: ${a.error}`).join('; ')}` : message);
  }
}
