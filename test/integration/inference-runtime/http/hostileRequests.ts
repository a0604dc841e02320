import fc from 'fast-check';
import { deflateSync, gzipSync } from 'node:zlib';
import { pngHeaderOnly } from '../../../unit/inference-runtime/vision/imageFixtures.js';

/**
 * Generators of malformed and hostile HTTP requests for every input channel of the runtime: raw image
 * bodies, multipart forms, JSON with a base64 image, TF Serving `:predict` bodies, V2 `/infer` bodies with
 * JSON tensors, and the framing around them (Content-Type, Content-Encoding, Content-Length, chunked
 * encoding, truncation, header garbage). Requests are built as bytes so nothing between the generator and
 * the server repairs them.
 */

/** The input channels, each a generator of request bodies with the media type they are sent as. */
export const CHANNELS = ['raw-image', 'multipart', 'json-b64', 'tfserving', 'v2-json', 'request-line'] as const;
export type Channel = (typeof CHANNELS)[number];

export interface HostileRequest {
  channel: Channel;
  /** What was generated, for the failure report. */
  label: string;
  bytes: Buffer;
  /** The request is whole as framed; the server owes it an answer (an incomplete one may be cut instead). */
  complete: boolean;
  /** A mutation may have left a request the API serves (a flipped bit a JPEG decoder forgives): 2xx is fine. */
  mayBeValid: boolean;
}

/** Real images and sizes the generators start from, built once by the test. */
export interface Fixtures {
  /** Small decodable images (JPEG, PNG, WebP) above the API's minimum side. */
  images: readonly Buffer[];
  /** Compressed bodies that inflate to several times the runtime's body cap. */
  gzipBomb: Buffer;
  deflateBomb: Buffer;
}

/** The compression bombs for a runtime whose body cap is `maxBodyBytes`. */
export function compressionBombs(maxBodyBytes: number): Pick<Fixtures, 'gzipBomb' | 'deflateBomb'> {
  return { gzipBomb: gzipSync(Buffer.alloc(maxBodyBytes * 4)), deflateBomb: deflateSync(Buffer.alloc(maxBodyBytes * 4, 0x5b)) };
}

interface Body {
  channel: Channel;
  label: string;
  method: string;
  path: string;
  contentType?: string;
  body: Buffer;
  mayBeValid: boolean;
}

const VISION_PATHS = ['/v1/vision/faces', '/v1/vision/facial-expressions', '/v1/vision/objects'];
const MODELS = ['face-detector', 'facial-expression', 'object-detector'];
const PREDICT_PATHS = [
  ...MODELS.map((m) => `/v1/models/${m}:predict`),
  '/v1/models/facial-expression/versions/1:predict',
  '/v1/models/facial-expression/versions/999:predict',
  '/v1/models/facial-expression:classify',
  '/v1/models/facial-expression:regress',
  '/v1/models/no-such-model:predict',
];

const text = (s: string): Buffer => Buffer.from(s, 'utf8');

/** Bytes of a byte string with some positions changed, cut, or spliced: what a bad upload or an attacker sends. */
function mutatedBytes(base: Buffer): fc.Arbitrary<{ bytes: Buffer; how: string }> {
  return fc.oneof(
    fc
      .array(fc.tuple(fc.nat({ max: base.length - 1 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 })
      .map((flips) => {
        const bytes = Buffer.from(base);
        for (const [at, value] of flips) bytes[at] = value;
        return { bytes, how: `${flips.length} bytes changed` };
      }),
    fc.nat({ max: base.length - 1 }).map((at) => ({ bytes: base.subarray(0, at), how: `cut at ${at}` })),
    fc.tuple(fc.nat({ max: base.length }), fc.uint8Array({ minLength: 1, maxLength: 64 })).map(([at, junk]) => ({
      bytes: Buffer.concat([base.subarray(0, at), junk, base.subarray(at)]),
      how: `${junk.length} bytes inserted at ${at}`,
    })),
  );
}

/** An image body: random bytes, a mutated real image, a pixel bomb header, or nothing. */
function imageBytes(fixtures: Fixtures): fc.Arbitrary<{ bytes: Buffer; label: string; mayBeValid: boolean }> {
  // Decodable images run the models, which costs a thousand hostile requests' time each: keep them rare.
  return fc.oneof(
    { weight: 3, arbitrary: fc.uint8Array({ maxLength: 2048 }).map((b) => ({ bytes: Buffer.from(b), label: `${b.length} random bytes`, mayBeValid: false })) },
    {
      weight: 2,
      arbitrary: fc
        .constantFrom(...fixtures.images)
        .chain(mutatedBytes)
        .map(({ bytes, how }) => ({ bytes, label: `image, ${how}`, mayBeValid: true })),
    },
    { weight: 1, arbitrary: fc.constantFrom(...fixtures.images).map((bytes) => ({ bytes, label: 'intact image', mayBeValid: true })) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.integer({ min: 7000, max: 65535 }), fc.integer({ min: 7000, max: 65535 }))
        .map(([w, h]) => ({ bytes: pngHeaderOnly(w, h), label: `PNG header claiming ${w}x${h}`, mayBeValid: false })),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(fc.integer({ min: 0, max: 15 }), fc.integer({ min: 1, max: 64 })).map(([w, h]) => ({
        bytes: pngHeaderOnly(w, h),
        label: `PNG header claiming ${w}x${h}`,
        mayBeValid: false,
      })),
    },
    { weight: 1, arbitrary: fc.constant({ bytes: Buffer.alloc(0), label: 'empty', mayBeValid: false }) },
  );
}

/** A JSON text nested `depth` levels deep, with arrays, objects or both. */
function deepJson(depth: number, shape: 'array' | 'object' | 'mixed'): string {
  let open = '';
  let close = '';
  for (let i = 0; i < depth; i++) {
    const array = shape === 'array' || (shape === 'mixed' && i % 2 === 0);
    open += array ? '[' : '{"k":';
    close = (array ? ']' : '}') + close;
  }
  return `${open}1${close}`;
}

const deepNesting = fc
  .tuple(fc.integer({ min: 65, max: 40_000 }), fc.constantFrom<'array' | 'object' | 'mixed'>('array', 'object', 'mixed'))
  .map(([depth, shape]) => ({ json: deepJson(depth, shape), label: `${shape} nested ${depth} deep` }));

/** A JSON value of any kind, deep nesting included, as text. */
const anyJsonText: fc.Arbitrary<{ json: string; label: string }> = fc.oneof(
  fc.jsonValue({ maxDepth: 6 }).map((v) => ({ json: JSON.stringify(v), label: 'arbitrary JSON value' })),
  deepNesting,
  fc.constantFrom('NaN', 'Infinity', '-Infinity', '1e999', '-0', '"\\ud800"', '9007199254740993').map((json) => ({ json, label: `token ${json}` })),
);

/** Cuts or corrupts a JSON text (not JSON any more, or a different one). */
function mangledJson(json: string): fc.Arbitrary<{ json: string; how: string }> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant({ json, how: 'as is' }) },
    fc.nat({ max: Math.max(0, json.length - 1) }).map((at) => ({ json: json.slice(0, at), how: `cut at ${at}` })),
    fc.tuple(fc.nat({ max: json.length }), fc.string({ unit: 'binary', minLength: 1, maxLength: 8 })).map(([at, junk]) => ({
      json: json.slice(0, at) + junk + json.slice(at),
      how: `junk at ${at}`,
    })),
  );
}

/** Task API bodies: a raw image as one of the image media types. */
function rawImageBodies(fixtures: Fixtures): fc.Arbitrary<Body> {
  return fc
    .tuple(fc.constantFrom(...VISION_PATHS), fc.constantFrom('image/jpeg', 'image/png', 'image/webp', 'image/jpg', 'image/pjpeg'), imageBytes(fixtures))
    .map(([path, contentType, image]) => ({ channel: 'raw-image', label: `${contentType} ${image.label}`, method: 'POST', path, contentType, body: image.bytes, mayBeValid: image.mayBeValid }));
}

const optionNames = ['minScore', 'maxFaces', 'maxResults', 'crop', 'image', '__proto__', 'constructor'];

/** Task API bodies: multipart forms, well formed or broken at every level, the never-ending part included. */
function multipartBodies(fixtures: Fixtures): fc.Arbitrary<Body> {
  const boundary = fc.oneof(fc.stringMatching(/^[A-Za-z0-9'()+_,./:=?-]{1,70}$/), fc.constantFrom('', ' ', '"', '--', 'a'.repeat(200)));
  const part = fc.oneof(
    fc.record({
      kind: fc.constant('file' as const),
      name: fc.oneof(fc.constant('image'), fc.constantFrom(...optionNames), fc.string({ maxLength: 12 })),
      filename: fc.oneof(fc.constant('face.jpg'), fc.string({ maxLength: 20 }), fc.constant('../../etc/passwd')),
      image: imageBytes(fixtures),
    }),
    fc.record({
      kind: fc.constant('field' as const),
      name: fc.constantFrom(...optionNames),
      value: fc.oneof(fc.string({ maxLength: 40 }), anyJsonText.map((j) => j.json.slice(0, 4000))),
    }),
  );
  return fc
    .tuple(
      fc.constantFrom(...VISION_PATHS),
      boundary,
      fc.array(part, { minLength: 0, maxLength: 5 }),
      fc.constantFrom('closed', 'never-ends', 'wrong-boundary', 'no-crlf', 'garbage-headers', 'cut'),
      fc.constantFrom('plain', 'quoted', 'missing', 'duplicated'),
      fc.nat(),
    )
    .map(([path, b, parts, ending, param, cutSeed]) => {
      const chunks: Buffer[] = [];
      for (const p of parts) {
        const head =
          ending === 'garbage-headers'
            ? `--${b}\r\nContent-Disposition form-data name=${p.name}\r\n\u0000\r\n\r\n`
            : p.kind === 'file'
              ? `--${b}\r\nContent-Disposition: form-data; name="${p.name}"; filename="${p.filename}"\r\nContent-Type: image/jpeg\r\n\r\n`
              : `--${b}\r\nContent-Disposition: form-data; name="${p.name}"\r\n\r\n`;
        chunks.push(text(head), p.kind === 'file' ? p.image.bytes : text(p.value), text(ending === 'no-crlf' ? '' : '\r\n'));
      }
      if (ending === 'closed' || ending === 'no-crlf' || ending === 'garbage-headers') chunks.push(text(`--${b}--\r\n`));
      if (ending === 'wrong-boundary') chunks.push(text(`--${b}x--\r\n`));
      let body = Buffer.concat(chunks);
      // The body's last part never reaches its closing boundary: the case that once ended the process.
      if (ending === 'never-ends' && body.length > 0) body = body.subarray(0, Math.max(0, body.length - 2));
      if (ending === 'cut' && body.length > 0) body = body.subarray(0, cutSeed % body.length);
      const contentType =
        param === 'plain'
          ? `multipart/form-data; boundary=${b}`
          : param === 'quoted'
            ? `multipart/form-data; boundary="${b}"`
            : param === 'missing'
              ? 'multipart/form-data'
              : `multipart/form-data; boundary=${b}; boundary=other`;
      const wellFormed = ending === 'closed' && param !== 'missing';
      // Which file part a server takes (the field named image, the first or the last of several, or the only
      // file) is the API's choice: a well-formed body with any valid image in it may be answered.
      return {
        channel: 'multipart' as const,
        label: `multipart ${parts.length} parts, ${ending}, boundary ${param} ${JSON.stringify(b).slice(0, 30)}`,
        method: 'POST',
        path,
        contentType,
        body,
        mayBeValid: wellFormed && parts.some((p) => p.kind === 'file' && p.image.mayBeValid),
      };
    });
}

/** Task API bodies: JSON `{"image": {"b64": ...}}` with every part of it wrong in turn, options included. */
function jsonB64Bodies(fixtures: Fixtures): fc.Arbitrary<Body> {
  const b64 = fc.oneof(
    imageBytes(fixtures).map((i) => ({ value: i.bytes.toString('base64') as unknown, label: `base64 of ${i.label}`, mayBeValid: i.mayBeValid })),
    imageBytes(fixtures).map((i) => ({ value: `data:image/png;base64,${i.bytes.toString('base64url')}` as unknown, label: `data URL of ${i.label}`, mayBeValid: i.mayBeValid })),
    fc.string({ maxLength: 200 }).map((s) => ({ value: s as unknown, label: 'random string', mayBeValid: false })),
    fc.jsonValue({ maxDepth: 3 }).map((v) => ({ value: v, label: 'arbitrary JSON value', mayBeValid: false })),
  );
  const option = fc.tuple(fc.constantFrom(...optionNames), fc.oneof(fc.jsonValue({ maxDepth: 4 }), fc.string({ maxLength: 4000 })));
  return fc
    .tuple(
      fc.constantFrom(...VISION_PATHS),
      b64,
      fc.array(option, { maxLength: 4 }),
      fc.constantFrom('application/json', 'application/vnd.api+json', 'application/json; charset=latin1'),
      fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, deepNesting, anyJsonText),
    )
    .chain(([path, image, options, contentType, replace]) => {
      const fields: Record<string, unknown> = {};
      for (const [name, value] of options) if (name !== 'image') fields[name] = value;
      let json = JSON.stringify({ image: { b64: image.value }, ...fields });
      let label = `JSON b64 ${image.label}, options ${options.map(([n]) => n).join(',')}`;
      if (replace) {
        // A deep or arbitrary value in place of an option, or of the whole body.
        json = options.length > 0 ? json.replace(/}$/, `,"minScore":${replace.json}}`) : replace.json;
        label += `, with ${replace.label}`;
      }
      return mangledJson(json).map(({ json: mangled, how }) => ({
        channel: 'json-b64' as const,
        label: `${label}, ${how}`,
        method: 'POST',
        path,
        contentType,
        body: text(mangled),
        // Junk can be white space, a cut can land after the last brace, and a value put in place of an option
        // can be a fine one: the text may still be a valid request, unless the whole body was replaced.
        mayBeValid: image.mayBeValid && (replace === undefined || options.length > 0),
      }));
    });
}

/** Nested number lists of a random (often ragged) shape, with values TF Serving's adapter must check. */
const tensorValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.double(),
    fc.integer(),
    fc.constantFrom(1e39, -1e39, 2 ** 31, 2 ** 53, true, null, 'x'),
    fc.record({ b64: fc.string({ maxLength: 20 }) }),
    fc.array(tie('value'), { maxLength: 6 }),
  ),
})).value;

/** A well-shaped input for the expression model (1x64x64x1 floats): what a mutation starts from. */
function expressionInstances(value: number): number[][][][] {
  return [Array.from({ length: 64 }, () => Array.from({ length: 64 }, () => [value]))];
}

/** TF Serving `:predict` (and unserved verbs) bodies: keys, shapes, dtypes, tokens and nesting all wrong in turn. */
function tfServingBodies(): fc.Arbitrary<Body> {
  const payload = fc.oneof(
    fc.record({ instances: tensorValue }).map((v) => ({ json: JSON.stringify(v), label: 'instances of random shape', mayBeValid: false })),
    fc.record({ inputs: tensorValue }).map((v) => ({ json: JSON.stringify(v), label: 'inputs of random shape', mayBeValid: false })),
    fc
      .record({ inputs: fc.dictionary(fc.string({ maxLength: 10 }), tensorValue, { maxKeys: 3 }) })
      .map((v) => ({ json: JSON.stringify(v), label: 'named inputs', mayBeValid: false })),
    fc
      .record({ instances: tensorValue, inputs: tensorValue, signature_name: fc.jsonValue({ maxDepth: 2 }) }, { requiredKeys: [] })
      .map((v) => ({ json: JSON.stringify(v), label: 'keys mixed', mayBeValid: false })),
    fc.double({ min: -1, max: 1, noNaN: true }).map((v) => ({
      json: JSON.stringify({ instances: expressionInstances(v) }),
      label: 'well-shaped expression input',
      mayBeValid: true,
    })),
    fc
      .tuple(fc.constantFrom('NaN', 'Infinity', '-Infinity', '"NaN"', '1e400', '[]', '{}', '[[1]]'), fc.nat({ max: 4095 }))
      .map(([token, at]) => {
        const values = Array.from({ length: 4096 }, () => '0.5');
        values[at] = token;
        const rows = Array.from({ length: 64 }, (_, y) => `[${values.slice(y * 64, y * 64 + 64).map((v) => `[${v}]`).join(',')}]`);
        return { json: `{"instances":[[${rows.join(',')}]]}`, label: `expression input with ${token} at ${at}`, mayBeValid: true };
      }),
    deepNesting.map((d) => ({ json: `{"instances":${d.json}}`, label: `instances ${d.label}`, mayBeValid: false })),
    deepNesting.map((d) => ({ json: `{"inputs":{"input_1":${d.json}}}`, label: `named input ${d.label}`, mayBeValid: false })),
    deepNesting.map((d) => ({ json: d.json, label: `body ${d.label}`, mayBeValid: false })),
    anyJsonText.map((j) => ({ ...j, mayBeValid: false })),
  );
  return mangledPosts('tfserving', PREDICT_PATHS, payload, [undefined, 'application/json', 'text/plain', 'application/x-www-form-urlencoded', 'image/png']);
}

/** JSON payloads POSTed to one of `paths` as one of `contentTypes`, each mangled (mangledJson) before it is sent. */
function mangledPosts(
  channel: Channel,
  paths: readonly string[],
  payload: fc.Arbitrary<{ json: string; label: string; mayBeValid: boolean }>,
  contentTypes: readonly (string | undefined)[],
): fc.Arbitrary<Body> {
  return fc.tuple(fc.constantFrom(...paths), payload, fc.constantFrom(...contentTypes)).chain(([path, p, contentType]) =>
    mangledJson(p.json).map(({ json, how }) => ({
      channel,
      label: `${path} ${p.label}, ${how}, ${contentType ?? 'no type'}`,
      method: 'POST',
      path,
      contentType,
      body: text(json),
      mayBeValid: p.mayBeValid,
    })),
  );
}

const V2_INFER_PATHS = [
  '/v2/models/facial-expression/infer',
  '/v2/models/facial-expression/versions/1/infer',
  '/v2/models/face-detector/infer',
  '/v2/models/no-such-model/infer',
];

/**
 * V2 `/infer` bodies with JSON tensors: names, shapes, datatypes, data, requested outputs and parameters all
 * wrong in turn, beside well-formed requests for the expression model (`input_1`, 1x64x64x1 FP32) as the
 * clients write them, which the fast path reads and a mutation then spoils.
 */
function v2JsonBodies(): fc.Arbitrary<Body> {
  const outputs = fc.array(fc.record({ name: fc.constantFrom('Identity', 'other', ''), parameters: fc.record({ binary_data: fc.oneof(fc.boolean(), fc.jsonValue({ maxDepth: 1 })) }) }, { requiredKeys: ['name'] }), { maxLength: 3 });
  const parameters = fc.record({ binary_data_output: fc.oneof(fc.boolean(), fc.jsonValue({ maxDepth: 1 })) });
  const input = fc.record(
    {
      name: fc.oneof(fc.constant('input_1'), fc.string({ maxLength: 10 })),
      shape: fc.oneof(fc.constant([1, 64, 64, 1]), fc.array(fc.integer({ min: -2, max: 70 }), { maxLength: 5 }), fc.jsonValue({ maxDepth: 2 })),
      datatype: fc.constantFrom('FP32', 'FP16', 'FP64', 'INT32', 'BYTES', 'fp32', ''),
      data: tensorValue,
    },
    { requiredKeys: [] },
  );
  const payload = fc.oneof(
    fc
      .record({ id: fc.jsonValue({ maxDepth: 1 }), model_name: fc.jsonValue({ maxDepth: 1 }), inputs: fc.array(input, { maxLength: 3 }), outputs, parameters }, { requiredKeys: ['inputs'] })
      .map((v) => ({ json: JSON.stringify(v), label: 'inputs of random names, shapes, datatypes and data', mayBeValid: false })),
    fc
      .record({ value: fc.double({ min: -1, max: 1, noNaN: true }), outputs: fc.option(fc.constant([{ name: 'Identity', parameters: { binary_data: false } }])), parameters: fc.option(fc.constant({ binary_data_output: true })) })
      .map(({ value, outputs: asked, parameters: p }) => ({
        json: JSON.stringify({
          model_name: 'facial-expression',
          inputs: [{ name: 'input_1', shape: [1, 64, 64, 1], datatype: 'FP32', data: Array.from({ length: 4096 }, () => value) }],
          ...(asked ? { outputs: asked } : {}),
          ...(p ? { parameters: p } : {}),
        }),
        label: 'well-formed expression request',
        mayBeValid: true,
      })),
    fc
      .tuple(fc.constantFrom('NaN', 'Infinity', '"NaN"', '1e400', '-0', '[]', '{}', '[[1]]', 'true', 'null'), fc.nat({ max: 4095 }))
      .map(([token, at]) => {
        const values = Array.from({ length: 4096 }, () => '0.5');
        values[at] = token;
        return { json: `{"inputs":[{"name":"input_1","shape":[1,64,64,1],"datatype":"FP32","data":[${values.join(',')}]}]}`, label: `expression request with ${token} at ${at}`, mayBeValid: true };
      }),
    deepNesting.map((d) => ({ json: `{"inputs":[{"name":"input_1","shape":[1],"datatype":"FP32","data":${d.json}}]}`, label: `data ${d.label}`, mayBeValid: false })),
    anyJsonText.map((j) => ({ ...j, mayBeValid: false })),
  );
  return mangledPosts('v2-json', V2_INFER_PATHS, payload, [undefined, 'application/json', 'text/plain']);
}

/** Requests whose start line or target is wrong: methods, paths, encodings, lengths. */
function requestLineBodies(): fc.Arbitrary<Body> {
  return fc
    .tuple(
      fc.oneof(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'TRACE', 'CONNECT', 'PRI'), fc.stringMatching(/^[A-Z]{1,12}$/)),
      fc.oneof(
        fc.constantFrom(...VISION_PATHS, ...PREDICT_PATHS, '/v1/models', '/metrics', '/readyz', '/demo/../../etc/passwd', '/v1/models/%zz', '/v1/models/%00:predict', '*'),
        fc.webPath(),
        fc.string({ maxLength: 64 }).map((s) => `/${encodeURIComponent(s)}`),
        fc.integer({ min: 1, max: 20_000 }).map((n) => `/v1/models/${'a'.repeat(n)}`),
      ),
      fc.uint8Array({ maxLength: 256 }),
    )
    .map(([method, path, body]) => ({
      channel: 'request-line' as const,
      label: `${method} ${path.slice(0, 60)}`,
      method,
      path,
      contentType: 'application/json',
      body: Buffer.from(body),
      // Probes, metrics and model listings answer 200 by design.
      mayBeValid: true,
    }));
}

type Framing =
  | { kind: 'content-length' }
  | { kind: 'chunked'; chunkSize: number }
  | { kind: 'chunked-bad-size' }
  | { kind: 'chunked-unterminated' }
  | { kind: 'length-too-small'; by: number }
  | { kind: 'length-too-large'; by: number }
  | { kind: 'no-length' }
  | { kind: 'length-invalid'; value: string }
  | { kind: 'length-and-chunked' }
  | { kind: 'cut'; at: number };

const framing: fc.Arbitrary<Framing> = fc.oneof(
  { weight: 6, arbitrary: fc.constant({ kind: 'content-length' as const }) },
  fc.integer({ min: 1, max: 4096 }).map((chunkSize) => ({ kind: 'chunked' as const, chunkSize })),
  fc.constant({ kind: 'chunked-bad-size' as const }),
  fc.constant({ kind: 'chunked-unterminated' as const }),
  fc.integer({ min: 1, max: 64 }).map((by) => ({ kind: 'length-too-small' as const, by })),
  fc.integer({ min: 1, max: 1_000_000 }).map((by) => ({ kind: 'length-too-large' as const, by })),
  fc.constant({ kind: 'no-length' as const }),
  fc.constantFrom('-1', 'abc', '1e3', '0x10', '99999999999999999999', '12, 13', ' ').map((value) => ({ kind: 'length-invalid' as const, value })),
  fc.constant({ kind: 'length-and-chunked' as const }),
  fc.nat().map((at) => ({ kind: 'cut' as const, at })),
);

type Encoding = 'identity' | 'gzip' | 'deflate' | 'gzip-claimed' | 'gzip-bomb' | 'deflate-bomb' | 'unknown';

const encoding: fc.Arbitrary<Encoding> = fc.oneof(
  { weight: 8, arbitrary: fc.constant<Encoding>('identity') },
  fc.constantFrom<Encoding>('gzip', 'deflate', 'gzip-claimed', 'gzip-bomb', 'deflate-bomb', 'unknown'),
);

const oddHeader = fc.constantFrom(
  'Expect: 100-continue',
  'Authorization: Bearer x',
  'X-API-Key: ',
  'Transfer-Encoding: identity',
  'Content-Type: text/plain',
  'Host: other',
  'Connection: close',
  'Connection: keep-alive, Upgrade',
  'Upgrade: websocket',
  'Content-Encoding: gzip, gzip',
  'Content-Encoding: br',
);
const randomHeader = fc
  .tuple(fc.stringMatching(/^[A-Za-z-]{1,20}$/), fc.string({ unit: 'binary', maxLength: 40 }))
  .map(([name, value]) => `${name}: ${value.replace(/[\r\n]/g, '')}`);
const oversizeHeader = fc.integer({ min: 8_000, max: 40_000 }).map((n) => `X-Big: ${'b'.repeat(n)}`);
const invalidHeader = fc.constantFrom('no colon here', ': empty name', 'Bad Name: x', 'X-Ctl: a\u0001b', ' leading: space');

/** Header lines that are odd, invalid or oversized; Node's parser or the API must turn each into a 4xx. */
const extraHeaders: fc.Arbitrary<string[]> = fc.oneof(
  { weight: 4, arbitrary: fc.constant<string[]>([]) },
  fc.array(
    fc.oneof(
      { weight: 3, arbitrary: oddHeader },
      { weight: 3, arbitrary: randomHeader },
      { weight: 1, arbitrary: oversizeHeader },
      { weight: 1, arbitrary: invalidHeader },
    ),
    { minLength: 1, maxLength: 3 },
  ),
);

function encode(body: Buffer, how: Encoding, fixtures: Fixtures): { body: Buffer; header?: string } {
  switch (how) {
    case 'identity':
      return { body };
    case 'gzip':
      return { body: gzipSync(body), header: 'gzip' };
    case 'deflate':
      return { body: deflateSync(body), header: 'deflate' };
    case 'gzip-claimed':
      return { body, header: 'gzip' };
    case 'gzip-bomb':
      return { body: fixtures.gzipBomb, header: 'gzip' };
    case 'deflate-bomb':
      return { body: fixtures.deflateBomb, header: 'deflate' };
    case 'unknown':
      return { body, header: 'compress' };
  }
}

function chunked(body: Buffer, size: number): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < body.length; i += size) {
    const piece = body.subarray(i, i + size);
    parts.push(text(`${piece.length.toString(16)}\r\n`), piece, text('\r\n'));
  }
  parts.push(text('0\r\n\r\n'));
  return Buffer.concat(parts);
}

/** Puts a generated body on the wire with generated framing, encoding and headers. */
function frame(b: Body, how: Framing, enc: Encoding, headers: string[], fixtures: Fixtures): HostileRequest {
  const encoded = encode(b.body, enc, fixtures);
  const lines = [`${b.method} ${b.path} HTTP/1.1`, 'Host: 127.0.0.1'];
  if (b.contentType !== undefined) lines.push(`Content-Type: ${b.contentType}`);
  if (encoded.header) lines.push(`Content-Encoding: ${encoded.header}`);
  lines.push(...headers);
  let payload = encoded.body;
  let complete = true;
  switch (how.kind) {
    case 'content-length':
      lines.push(`Content-Length: ${payload.length}`);
      break;
    case 'chunked':
      lines.push('Transfer-Encoding: chunked');
      payload = chunked(payload, how.chunkSize);
      break;
    case 'chunked-bad-size':
      lines.push('Transfer-Encoding: chunked');
      payload = Buffer.concat([text('zz\r\n'), payload, text('\r\n0\r\n\r\n')]);
      break;
    case 'chunked-unterminated':
      lines.push('Transfer-Encoding: chunked');
      payload = chunked(payload, 1024).subarray(0, -5);
      complete = false;
      break;
    case 'length-too-small':
      lines.push(`Content-Length: ${Math.max(0, payload.length - how.by)}`);
      break;
    case 'length-too-large':
      lines.push(`Content-Length: ${payload.length + how.by}`);
      complete = false;
      break;
    case 'no-length':
      break;
    case 'length-invalid':
      lines.push(`Content-Length: ${how.value}`);
      break;
    case 'length-and-chunked':
      lines.push(`Content-Length: ${payload.length}`, 'Transfer-Encoding: chunked');
      payload = chunked(payload, 512);
      break;
    case 'cut':
      lines.push(`Content-Length: ${payload.length}`);
      break;
  }
  let bytes = Buffer.concat([text(lines.join('\r\n') + '\r\n\r\n'), payload]);
  if (how.kind === 'cut') {
    bytes = bytes.subarray(0, how.at % bytes.length);
    complete = false;
  }
  const untouched = how.kind === 'content-length' || how.kind === 'chunked';
  const request: HostileRequest = {
    channel: b.channel,
    label: `${b.label} | ${how.kind} | ${enc}${headers.length ? ` | ${headers.map((h) => h.slice(0, 30)).join('; ')}` : ''}`,
    bytes,
    complete,
    // A request whose framing was spoiled, or whose encoding lies, is never one to serve, unless the route
    // answers without reading a body (probes, listings, OPTIONS).
    mayBeValid: b.mayBeValid && (b.channel === 'request-line' || (untouched && (enc === 'identity' || enc === 'gzip' || enc === 'deflate'))),
  };
  // A failure report shows what was sent, not a byte array.
  return Object.assign(request, {
    [fc.toStringMethod]: () => `${request.channel} [${request.label}] ${JSON.stringify(bytes.subarray(0, 400).toString('latin1'))}`,
  });
}

/** One hostile request on any channel. */
export function hostileRequest(fixtures: Fixtures): fc.Arbitrary<HostileRequest> {
  const bodies = fc.oneof(rawImageBodies(fixtures), multipartBodies(fixtures), jsonB64Bodies(fixtures), tfServingBodies(), v2JsonBodies(), requestLineBodies());
  return fc.tuple(bodies, framing, encoding, extraHeaders).map(([b, how, enc, headers]) => frame(b, how, enc, headers, fixtures));
}
