/**
 * An error retrying cannot fix (an invalid spec): the reconciler records it in a condition, and the
 * controller neither retries nor backs off; the next change of the object brings it back.
 */
export class TerminalError extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'TerminalError';
  }
}
