import Busboy from 'busboy';
import type { Context } from 'koa';
import { InvalidInput, UnsupportedMediaType } from '../../core/errors.js';
import { readBody } from '../../http/requestBody.js';
import { multipartBoundary } from './multipartBoundary.js';
import { b64Member, isJsonMediaType, jsonObject, parseJsonBody } from './jsonBody.js';
import type { CancelSignal } from '../../core/cancelSignal.js';

/** The media of a task request (an image, audio) and the option fields that came with it in the body. */
export interface MediaRequest {
  bytes: Buffer;
  fields: Record<string, unknown>;
}

/** How a task's API takes its media. */
export interface MediaForm {
  /** The JSON member holding it (`{"<field>": {"b64": "..."}}`), and the file field of a multipart form. */
  readonly field: string;
  /** Media types whose body is the media itself. */
  readonly rawTypes: readonly string[];
  /** Whether a multipart/form-data body is taken (its file field `field`; its other fields are options). */
  readonly multipart: boolean;
  /** What the media is, for messages: "an image", "a WAV file". */
  readonly noun: string;
}

/**
 * Reads the media of a task request in each form `form` allows: a raw body of one of its media types, a
 * multipart form, or JSON `{"<field>": {"b64": "..."}, ...options}`. The whole body is bounded by `maxBytes`
 * (413) and the deadline (504); any other media type is a 415 naming the forms taken.
 */
export async function readMediaRequest(ctx: Context, form: MediaForm, maxBytes: number, signal?: CancelSignal): Promise<MediaRequest> {
  const type = ctx.request.type.toLowerCase();
  if (form.rawTypes.includes(type)) {
    return { bytes: await readBody(ctx.req, { maxBytes, signal }), fields: {} };
  }
  if (form.multipart && type === 'multipart/form-data') {
    multipartBoundary(ctx.get('content-type'));
    const body = await readBody(ctx.req, { maxBytes, signal });
    return parseMultipart(body, ctx.get('content-type'), form.field);
  }
  if (isJsonMediaType(type)) {
    const body = await readBody(ctx.req, { maxBytes, signal });
    const { [form.field]: media, ...fields } = jsonObject(parseJsonBody(body), `{"${form.field}": {"b64": "..."}}`);
    return { bytes: b64Member(media, form.field, `base64 of ${form.noun}`), fields };
  }
  const shown = type === '' ? 'no Content-Type' : `Content-Type ${type}`;
  const multipart = form.multipart ? `, multipart/form-data with a file field "${form.field}"` : '';
  throw new UnsupportedMediaType(`${shown} is not ${form.noun}: send ${form.rawTypes.join(', ')}${multipart}, or application/json {"${form.field}": {"b64": "..."}}`);
}

/**
 * Parses a buffered multipart body. Every stream busboy hands out gets an error listener: a part cut short
 * (no closing boundary) errors the file stream as well as the parser, and an unheard stream error would
 * end the process.
 */
function parseMultipart(body: Buffer, contentType: string, field: string): Promise<MediaRequest> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      outcome();
    };
    const fail = (error: Error): void => settle(() => reject(new InvalidInput(`multipart body cannot be parsed: ${error.message}`)));
    let parser: Busboy.Busboy;
    try {
      parser = Busboy({ headers: { 'content-type': contentType }, limits: { fields: 32, fieldSize: 1024, files: 8, parts: 40 } });
    } catch (error) {
      fail(error as Error);
      return;
    }
    const fields: Record<string, unknown> = {};
    const fileFields: string[] = [];
    let media: Buffer | undefined;
    // The first file named `field` is the media. Claimed when its part starts, not when it ends: a second
    // one may start before the first has been read to its end.
    let claimed = false;
    parser.on('file', (name, stream) => {
      stream.on('error', fail);
      fileFields.push(name);
      if (name !== field || claimed) {
        stream.resume();
        return;
      }
      claimed = true;
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        media = Buffer.concat(chunks);
      });
    });
    parser.on('field', (name, value) => {
      if (name === field) fileFields.push(`${field} (a text field, not a file)`);
      else fields[name] = value;
    });
    parser.on('error', fail);
    parser.on('close', () => {
      const bytes = media;
      if (bytes === undefined) {
        const found = fileFields.length > 0 ? `found ${fileFields.map((f) => `"${f}"`).join(', ')}` : 'found no file';
        settle(() => reject(new InvalidInput(`multipart body has no file field "${field}" (${found})`)));
      } else {
        settle(() => resolve({ bytes, fields }));
      }
    });
    parser.end(body);
  });
}
