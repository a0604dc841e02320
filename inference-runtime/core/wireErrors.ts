import {
  DomainError,
  InvalidInput,
  ModelNotFound,
  NotReady,
  Overloaded,
  PayloadTooLarge,
  RequestTimeout,
  UnsupportedMediaType,
} from './errors.js';

/** An error as it crosses a worker-thread boundary (structured clone drops class identity). */
export interface WireError {
  name: string;
  message: string;
  status?: number;
}

const DOMAIN: Record<string, new (message: string) => DomainError> = {
  InvalidInput,
  ModelNotFound,
  NotReady,
  Overloaded,
  PayloadTooLarge,
  RequestTimeout,
  UnsupportedMediaType,
};

export function toWire(err: unknown): WireError {
  if (err instanceof DomainError) return { name: err.name, message: err.message, status: err.status };
  if (err instanceof Error) return { name: err.name, message: err.message };
  return { name: 'Error', message: String(err) };
}

/** Rebuilds DomainErrors with their class (and so their HTTP status); anything else is a plain Error. */
export function fromWire(w: WireError): Error {
  const Domain = DOMAIN[w.name];
  if (Domain) return new Domain(w.message);
  const err = new Error(w.message);
  err.name = w.name;
  return err;
}
