import type { Context } from 'koa';
import { InvalidInput } from '../../core/errors.js';
import { parseJsonInput } from '../../http/jsonInput.js';
import { readJsonBytes } from '../../http/requestBody.js';
import type { CancelSignal } from '../../core/cancelSignal.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Media types a route that also takes raw bytes (an image, audio) reads as JSON. A route whose body is
 * always JSON takes any JSON-compatible type instead (`readJsonRequest`), as `curl -d` sends form-urlencoded.
 */
export function isJsonMediaType(type: string): boolean {
  return type === 'application/json' || type.endsWith('+json');
}

/** The value of a JSON body: 400 when its bytes are not UTF-8 or not JSON (nesting depth bounded). */
export function parseJsonBody(body: Buffer): unknown {
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw new InvalidInput('the request body is not valid UTF-8: send text as UTF-8 JSON');
  }
  return parseJsonInput(text);
}

/**
 * The JSON body of a task request whose body is always JSON: 415 for another media type, 413 beyond
 * `maxBytes`, 504 when the deadline passes while it is read, 400 when it is not UTF-8 JSON.
 */
export async function readJsonRequest(ctx: Context, maxBytes: number, signal?: CancelSignal): Promise<unknown> {
  return parseJsonBody(await readJsonBytes(ctx, { maxBytes, signal }));
}

/** `value` as a JSON object; 400 showing `shape`, the object the route expects, otherwise. */
export function jsonObject(value: unknown, shape: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidInput(`the body must be a JSON object: ${shape}`);
  return value as Record<string, unknown>;
}

const base64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/**
 * The bytes of a `{"b64": "..."}` member named `field` (`image`, `audio`): standard or URL-safe base64,
 * with whitespace and a data URL prefix allowed (browsers hand out `data:image/jpeg;base64,...`).
 */
export function b64Member(value: unknown, field: string, what: string): Buffer {
  const b64 = typeof value === 'object' && value !== null ? (value as Record<string, unknown>).b64 : undefined;
  if (typeof b64 !== 'string') throw new InvalidInput(`the JSON body needs "${field}": {"b64": "<${what}>"}`);
  const payload = b64.replace(/^data:[^,]*;base64,/, '').replace(/\s+/g, '');
  if (!base64.test(payload)) throw new InvalidInput(`"${field}.b64" is not base64`);
  return Buffer.from(payload, payload.includes('-') || payload.includes('_') ? 'base64url' : 'base64');
}
