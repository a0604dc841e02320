import type { Writable } from 'node:stream';
import { redactText } from '../repository/redact.js';

export type LogFields = Record<string, unknown>;

/** Structured events, one JSON object per line, with every URL in it redacted (tokens, passwords). */
export interface Logger {
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
}

export function jsonLineLogger(stream: Writable = process.stdout): Logger {
  const write = (level: string, event: string, fields: LogFields = {}): void => {
    // Redacting the finished line covers every field, nested errors and causes included.
    stream.write(`${redactText(JSON.stringify({ time: new Date().toISOString(), level, event, ...fields }, errorAware))}\n`);
  };
  return {
    info: (event, fields) => write('info', event, fields),
    warn: (event, fields) => write('warn', event, fields),
    error: (event, fields) => write('error', event, fields),
  };
}

export const silentLogger: Logger = { info: () => {}, warn: () => {}, error: () => {} };

function errorAware(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack };
  return value;
}
