import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import zlib from 'node:zlib';
import type { Context } from 'koa';
import { InvalidInput, PayloadTooLarge, UnsupportedMediaType } from '../core/errors.js';
import { timeoutError } from './deadline.js';
import { parseTfServingJson } from './tfserving/jsonText.js';
import type { CancelSignal } from '../core/cancelSignal.js';

export interface BodyLimits {
  maxBytes: number;
  /** Aborts the read (504) when the request's deadline passes. */
  signal?: CancelSignal;
}

/**
 * Media types a JSON body may arrive with. Besides JSON itself: no type at all, `text/plain`, and
 * `application/x-www-form-urlencoded`, which is what `curl -d` sends and what TF Serving's own examples use.
 */
export function isJsonCompatible(type: string): boolean {
  return type === '' || type === 'application/json' || type.endsWith('+json') || type === 'text/plain' || type === 'application/x-www-form-urlencoded';
}

/** Reads and parses a JSON body under the size cap: 415 for other media types, 413 when too large, 400 when not JSON. */
export async function readJsonBody(ctx: Context, limits: BodyLimits): Promise<{ value: unknown; bytes: number }> {
  const body = await readJsonBytes(ctx, limits);
  return { value: parseTfServingJson(body.toString('utf8')), bytes: body.length };
}

/** The bytes of a JSON body (415 for another Content-Type), for a reader that parses them itself. */
export async function readJsonBytes(ctx: { req: IncomingMessage }, limits: BodyLimits): Promise<Buffer> {
  const type = mediaType(ctx.req).toLowerCase();
  if (!isJsonCompatible(type)) {
    throw new UnsupportedMediaType(`Content-Type ${type} is not supported here; send the body as application/json`);
  }
  return readBody(ctx.req, limits);
}

/** The media type of a request's body as sent, without parameters (koa's `ctx.request.type`). */
function mediaType(req: IncomingMessage): string {
  const type = req.headers['content-type'];
  return type ? type.split(';')[0]! : '';
}

/**
 * Reads a request body, decompressing gzip/deflate, and stops at `maxBytes` of decoded data so neither a
 * large upload nor a compression bomb is buffered. On error the rest of the upload is read and dropped, so
 * a client still writing its body sees the error response; the server bounds how long that lasts and
 * closes the connection (see `connectionLimits.ts`).
 */
export function readBody(req: IncomingMessage, limits: BodyLimits): Promise<Buffer> {
  const { maxBytes, signal } = limits;
  const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  const declared = Number(req.headers['content-length']);
  if ((encoding === 'identity' || encoding === '') && Number.isFinite(declared) && declared > maxBytes) {
    return Promise.reject(tooLarge(maxBytes));
  }
  let source: Readable;
  switch (encoding) {
    case '':
    case 'identity':
      source = req;
      break;
    case 'gzip':
    case 'x-gzip':
      source = req.pipe(zlib.createGunzip());
      break;
    case 'deflate':
      source = req.pipe(zlib.createInflate());
      break;
    default:
      return Promise.reject(new UnsupportedMediaType(`Content-Encoding ${encoding} is not supported; use gzip, deflate or none`));
  }
  if (signal?.aborted) return Promise.reject(timeoutError('reading the request body'));

  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    // A body that comes in one chunk is that chunk. From a second one on, an identity body that announced its
    // length goes into one buffer of that size as it arrives, instead of being held and joined at the end (a
    // second copy of every body).
    const announced = source === req && Number.isSafeInteger(declared) ? declared : 0;
    let whole: Buffer | undefined;
    let settled = false;
    const settle = (error: Error | undefined): void => {
      if (settled) return;
      settled = true;
      // The error listeners stay: a decompressor or socket may still fail after the outcome is known, and
      // an unheard stream error ends the process.
      source.off('data', onData);
      source.off('end', onEnd);
      req.off('aborted', onAborted);
      signal?.removeEventListener('abort', onAbort);
      if (error) {
        if (source !== req) {
          req.unpipe();
          (source as zlib.Gunzip).destroy();
        }
        req.resume();
        reject(error);
      } else {
        resolve(body());
      }
    };
    const body = (): Buffer => (whole ? whole.subarray(0, size) : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    const onData = (chunk: Buffer): void => {
      const at = size;
      size += chunk.length;
      if (size > maxBytes) {
        settle(tooLarge(maxBytes));
        return;
      }
      if (!whole && chunks.length === 1 && size <= announced) {
        whole = Buffer.allocUnsafe(announced);
        chunks[0]!.copy(whole, 0);
        chunks.length = 0;
      }
      if (whole && size <= whole.length) {
        chunk.copy(whole, at);
      } else if (whole) {
        // Longer than announced (the HTTP parser does not let that happen): keep every byte all the same.
        chunks.push(whole.subarray(0, at), chunk);
        whole = undefined;
      } else {
        chunks.push(chunk);
      }
    };
    const onEnd = (): void => settle(undefined);
    const onReadError = (error: Error): void => settle(new InvalidInput(`request body could not be read: ${error.message}`));
    const onDecodeError = (): void => settle(new InvalidInput(`request body is not valid ${encoding} data`));
    const onAborted = (): void => settle(new InvalidInput('the client closed the connection before the body was complete'));
    const onAbort = (): void => settle(timeoutError('reading the request body'));
    source.on('data', onData);
    source.once('end', onEnd);
    req.on('error', onReadError);
    if (source !== req) source.on('error', onDecodeError);
    req.once('aborted', onAborted);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function tooLarge(maxBytes: number): PayloadTooLarge {
  return new PayloadTooLarge(`request body exceeds the limit of ${maxBytes} bytes`);
}
