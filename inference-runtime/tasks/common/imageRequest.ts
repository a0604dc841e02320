import Busboy from 'busboy';
import type { Context } from 'koa';
import { InvalidInput, UnsupportedMediaType } from '../../core/errors.js';
import { readBody } from '../../http/requestBody.js';
import { b64Member, isJsonMediaType, jsonObject, parseJsonBody } from './jsonBody.js';

/** The image of a task request and the option fields that came with it in the body (multipart or JSON). */
export interface ImageRequest {
  bytes: Buffer;
  fields: Record<string, unknown>;
}

const rawImageTypes = new Set(['image/jpeg', 'image/jpg', 'image/pjpeg', 'image/png', 'image/webp']);

const accepted = 'send image/jpeg, image/png or image/webp, multipart/form-data with a file field "image", or application/json {"image": {"b64": "..."}}';

/**
 * Reads the image of a task request in any of its three forms: a raw image body, a multipart form whose file
 * field is `image`, or JSON `{"image": {"b64": "..."}}`. The whole body is bounded by `maxBytes` (413).
 */
export async function readImageRequest(ctx: Context, maxBytes: number, signal?: AbortSignal): Promise<ImageRequest> {
  const type = ctx.request.type.toLowerCase();
  if (rawImageTypes.has(type)) {
    return { bytes: await readBody(ctx.req, { maxBytes, signal }), fields: {} };
  }
  if (type === 'multipart/form-data') {
    const body = await readBody(ctx.req, { maxBytes, signal });
    return parseMultipart(body, ctx.get('content-type'));
  }
  if (isJsonMediaType(type)) {
    const body = await readBody(ctx.req, { maxBytes, signal });
    return parseJson(body);
  }
  const shown = type === '' ? 'no Content-Type' : `Content-Type ${type}`;
  throw new UnsupportedMediaType(`${shown} is not an image: ${accepted}`);
}

/**
 * Parses a buffered multipart body. Every stream busboy hands out gets an error listener: a part cut short
 * (no closing boundary) errors the file stream as well as the parser, and an unheard stream error would
 * end the process.
 */
function parseMultipart(body: Buffer, contentType: string): Promise<ImageRequest> {
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
    let image: Buffer | undefined;
    // The first file named "image" is the image. Claimed when its part starts, not when it ends: a second
    // one may start before the first has been read to its end.
    let claimed = false;
    parser.on('file', (name, stream) => {
      stream.on('error', fail);
      fileFields.push(name);
      if (name !== 'image' || claimed) {
        stream.resume();
        return;
      }
      claimed = true;
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        image = Buffer.concat(chunks);
      });
    });
    parser.on('field', (name, value) => {
      if (name === 'image') fileFields.push('image (a text field, not a file)');
      else fields[name] = value;
    });
    parser.on('error', fail);
    parser.on('close', () => {
      const bytes = image;
      if (bytes === undefined) {
        const found = fileFields.length > 0 ? `found ${fileFields.map((f) => `"${f}"`).join(', ')}` : 'found no file';
        settle(() => reject(new InvalidInput(`multipart body has no file field "image" (${found})`)));
      } else {
        settle(() => resolve({ bytes, fields }));
      }
    });
    parser.end(body);
  });
}

function parseJson(body: Buffer): ImageRequest {
  const { image, ...fields } = jsonObject(parseJsonBody(body), '{"image": {"b64": "..."}}');
  return { bytes: b64Member(image, 'image', 'base64 image bytes'), fields };
}
