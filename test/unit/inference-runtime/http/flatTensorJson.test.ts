import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { buildAddon, NATIVE_SOURCES } from '../../../../deploy/nativeAddons.js';
import type { TensorSpec } from '../../../../inference-runtime/core/tensor.js';
import type { NativeReadLists } from '../../../../inference-runtime/http/floatLists.js';
import { parseFlatPredict } from '../../../../inference-runtime/http/tfserving/flatTensorJson.js';
import { parsePredictRequest, type PredictRequest } from '../../../../inference-runtime/http/tfserving/jsonTensor.js';
import { parseTfServingJson } from '../../../../inference-runtime/http/tfserving/jsonText.js';
import { buildNativeReadLists } from '../../../helpers/floatListsAddon.js';

const image: TensorSpec = { name: 'input_1:0', dtype: 'float32', shape: [-1, 64, 64, 1] };
const MAX_ROWS = 64;

/** What the general path makes of the body: the request, or the error it answers with. */
function general(text: string, spec: TensorSpec = image): PredictRequest | Error {
  try {
    return parsePredictRequest(parseTfServingJson(text), [spec], Buffer.byteLength(text), MAX_ROWS);
  } catch (error) {
    return error as Error;
  }
}

function plain(request: PredictRequest): unknown {
  const t = request.inputs[image.name]!;
  return { format: request.format, signatureName: request.signatureName, shape: t.shape, dtype: t.dtype, data: Array.from(t.data as Float32Array) };
}

let native: NativeReadLists | null = null;

/**
 * The fast path's answer, read by the JavaScript reader and by the native one: the two must be the same (the
 * same tensor, or both stepping aside) for every body.
 */
function parseFlat(body: string | Buffer, spec: TensorSpec = image, maxRows = MAX_ROWS): PredictRequest | undefined {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  const js = parseFlatPredict(bytes, [spec], maxRows, null);
  const c = parseFlatPredict(bytes, [spec], maxRows, native);
  expect(c === undefined ? undefined : plain(c), `native reader on ${bytes.toString().slice(0, 80)}`).to.deep.equal(js === undefined ? undefined : plain(js));
  return js;
}

/** Nested lists of one shape, the numbers as JSON writes doubles and as clients write float32. */
const floats = fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true, min: -3.4e38, max: 3.4e38 }), fc.float({ noNaN: true, noDefaultInfinity: true }), fc.integer({ min: -1000, max: 1000 }));
const nested = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 }).chain((shape) => {
  const count = shape.reduce((a, d) => a * d, 1);
  return fc.array(floats, { minLength: count, maxLength: count }).map((values) => {
    let k = 0;
    const build = (level: number): unknown => (level === shape.length ? values[k++] : Array.from({ length: shape[level]! }, () => build(level + 1)));
    return build(0);
  });
});

/** JSON numbers as any client may write them: 1-25 significant digits, leading zeros, exponents near float32's ends. */
const numberTexts = fc
  .tuple(fc.boolean(), fc.stringMatching(/^(0|[1-9][0-9]{0,24})$/), fc.option(fc.stringMatching(/^[0-9]{1,25}$/)), fc.option(fc.tuple(fc.constantFrom('e', 'E', 'e+', 'e-', 'E-'), fc.integer({ min: 0, max: 60 }))))
  .map(([minus, whole, fraction, exponent]) => `${minus ? '-' : ''}${whole}${fraction === null ? '' : `.${fraction}`}${exponent === null ? '' : `${exponent[0]}${exponent[1]}`}`);

describe('TF Serving :predict, flat float reader', function () {
  before(function () {
    // Without a C compiler there is no native reader to compare (CI installs one: .ci/run).
    const built = buildNativeReadLists();
    if (!built) this.skip();
    native = built;
  });

  it('reads well-formed bodies into the same tensor as the general path, whatever the numbers and spacing', () => {
    fc.assert(
      fc.property(nested, fc.constantFrom('instances', 'inputs'), fc.boolean(), fc.boolean(), (value, key, spaced, signature) => {
        const body = { ...(signature ? { signature_name: 'serving_default' } : {}), [key]: value };
        const text = JSON.stringify(body, null, spaced ? 1 : undefined);
        const fast = parseFlat(text);
        const slow = general(text);
        if (slow instanceof Error) {
          // Only the rows limit can refuse a well-formed body; the reader leaves that to the general path.
          expect(fast).to.equal(undefined);
          return;
        }
        expect(fast, text.slice(0, 80)).to.not.equal(undefined);
        expect(plain(fast!)).to.deep.equal(plain(slow));
      }),
      { numRuns: 500 },
    );
  });

  it('reads numbers of any length and exponent to the float32 of the value JSON.parse makes of them', () => {
    fc.assert(
      fc.property(fc.array(numberTexts, { minLength: 1, maxLength: 40 }), fc.constantFrom(', ', ',', ' ,\n'), (numbers, separator) => {
        const text = `{"instances": [${numbers.map((n) => `[${n}]`).join(separator)}]}`;
        const fast = parseFlat(text, image, Number.POSITIVE_INFINITY);
        const values = numbers.map((n) => Number(n));
        if (values.some((v) => Math.abs(v) > 3.4028234663852886e38)) {
          expect(fast, text).to.equal(undefined);
          return;
        }
        expect(fast, text).to.not.equal(undefined);
        expect(Array.from(fast!.inputs[image.name]!.data as Float32Array), text).to.deep.equal(Array.from(Float32Array.from(values)));
      }),
      { numRuns: 1000 },
    );
  });

  it('reads bodies of more values than a row holds (the room it reserves grows)', () => {
    const rows = Array.from({ length: 3 }, (_, r) => Array.from({ length: 64 }, (_, y) => Array.from({ length: 64 }, (_, x) => [(r * 4096 + y * 64 + x) / 7])));
    const text = JSON.stringify({ instances: rows });
    const fast = parseFlat(text);
    expect(fast?.inputs[image.name]?.shape).to.deep.equal([3, 64, 64, 1]);
    expect(plain(fast!)).to.deep.equal(plain(general(text) as PredictRequest));
  });

  it('agrees with the general path or steps aside on mangled bodies: never a different tensor, never a throw', () => {
    fc.assert(
      fc.property(nested, fc.constantFrom('instances', 'inputs'), fc.nat(), fc.nat(), fc.constantFrom('', '[', ']', ',', '{', '}', '"', 'NaN', '-', '.', 'e', '1', ' ', '[]', '"b64"', '\\', '\u00e9', '1e999', '0.1e-400'), (value, key, a, b, insert) => {
        const text = JSON.stringify({ [key]: value });
        const [from, to] = [a % (text.length + 1), b % (text.length + 1)].sort((x, y) => x - y);
        const mangled = text.slice(0, from) + insert + text.slice(to);
        const fast = parseFlat(mangled);
        if (fast === undefined) return;
        const slow = general(mangled);
        expect(slow, mangled).to.not.be.instanceOf(Error);
        expect(plain(fast)).to.deep.equal(plain(slow as PredictRequest));
      }),
      { numRuns: 2000 },
    );
  });

  it('answers as the JavaScript reader on any text made of the characters of the lists grammar, near misses included', () => {
    const token = fc.constantFrom('[', ']', ',', ' ', '\n', '-', '+', '.', 'e', 'E', '0', '1', '5', '9', '12345678', '0.5', '1e5', '}', '"', 'x');
    fc.assert(
      fc.property(fc.array(token, { maxLength: 60 }), fc.constantFrom('instances', 'inputs'), (tokens, key) => {
        const text = `{"${key}": [${tokens.join('')}}`;
        const fast = parseFlat(text);
        if (fast === undefined) return;
        expect(plain(fast)).to.deep.equal(plain(general(text) as PredictRequest));
      }),
      { numRuns: 3000 },
    );
  });

  it('reads nothing past the body: the native reader under AddressSanitizer, on bodies in buffers of their exact size', function () {
    const cc = process.env.CC || 'cc';
    const libasan = spawnSync(cc, ['-print-file-name=libasan.so'], { encoding: 'utf8' }).stdout?.trim() ?? '';
    // GCC ships libasan with the compiler (Debian: libasan8, a dependency of gcc); CI installs gcc (.ci/run).
    if (!path.isAbsolute(libasan) || !existsSync(libasan)) this.skip();
    const dir = mkdtempSync(path.join(tmpdir(), 'mloffload-floatlists-asan-'));
    try {
      const file = path.join(dir, 'floatLists.node');
      buildAddon(path.join(NATIVE_SOURCES, 'floatLists.c'), file, ['-fsanitize=address', '-g']);
      const helper = fileURLToPath(new URL('../../../helpers/floatListsUnderAsan.ts', import.meta.url));
      const run = spawnSync(process.execPath, ['--import', 'tsx', helper, file, '50000'], {
        env: { ...process.env, LD_PRELOAD: libasan, ASAN_OPTIONS: 'detect_leaks=0' },
        encoding: 'utf8',
        timeout: 120_000,
      });
      expect(run.status, `${run.stderr}`.slice(0, 3000)).to.equal(0);
      expect((JSON.parse(run.stdout) as { cases: number }).cases).to.be.greaterThan(50_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('leaves ragged lists, NaN, out-of-range numbers, other keys and other input types to the general path', () => {
    const cases = [
      '{"instances": [[1, 2], [3]]}',
      '{"instances": [[1, 2], 3]}',
      '{"instances": [NaN]}',
      '{"instances": [1e39]}',
      '{"instances": []}',
      '{"instances": [[]]}',
      '{"instances": [1], "inputs": [1]}',
      '{"instances": [1], "instances": [2]}',
      '{"instances": [1], "other": 1}',
      '{"signature_name": "other", "instances": [1]}',
      '{"instances": [{"b64": "AAAA"}]}',
      '{"instances": [01]}',
      '{"instances": [1.]}',
      '{"instances": [1]} x',
      '{"inputs": 1}',
    ];
    for (const text of cases) expect(parseFlat(text), text).to.equal(undefined);
    expect(parseFlat('{"instances": [1]}', { ...image, dtype: 'int32' })).to.equal(undefined);
  });

  it('steps aside once the rows exceed the limit, without reading the rest, so the general path answers 413', () => {
    const rows = JSON.stringify({ instances: Array.from({ length: MAX_ROWS + 1 }, () => [0.5]) });
    expect(parseFlat(rows)).to.equal(undefined);
    expect(general(rows)).to.be.instanceOf(Error).with.property('message').that.matches(/at most 64 rows/);
    const atLimit = JSON.stringify({ instances: Array.from({ length: MAX_ROWS }, () => [0.5]) });
    expect(parseFlat(atLimit)?.inputs[image.name]?.shape).to.deep.equal([MAX_ROWS, 1]);
  });

  it('reads long numbers and digits without stack or precision trouble', () => {
    const long = `{"instances": [${'1'.repeat(38)}, 0.${'3'.repeat(5000)}, ${'0'.repeat(1)}.000000000000000000000000000001e-5]}`;
    const fast = parseFlat(long);
    expect(plain(fast!)).to.deep.equal(plain(general(long) as PredictRequest));
    // Around the float32 rounding boundary between 1 and the next float32 (1 + 2^-24): either side of it.
    const ties = '{"instances": [1.0000000596046448, 1.0000000596046446, 1.00000005960464477539, 1.0000000596046447753906250, -1.0000000596046448]}';
    expect(plain(parseFlat(ties)!)).to.deep.equal(plain(general(ties) as PredictRequest));
    const deep = `{"instances": ${'['.repeat(100_000)}`;
    expect(parseFlat(deep)).to.equal(undefined);
  });
});
