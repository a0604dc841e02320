import { nativeFunction } from '../core/nativeAddon.js';
import type { TensorSpec } from '../core/tensor.js';

/**
 * The scanner under the fast paths of JSON inference bodies (TF Serving `:predict` in
 * tfserving/flatTensorJson.ts, V2 `/infer` in v2/flatInferJson.ts): nested lists of numbers read from the
 * body's bytes straight into a Float32Array, and the few plain keys and strings around them. `JSON.parse`
 * would first build a JS array per row and a heap number per value (4,096 floats of a 64x64 image cost more
 * CPU than the model's inference), then the tensor adapter would walk them again.
 *
 * A fast path answers only what it is sure of: whatever this scanner does not read (an escaped string, NaN, a
 * ragged or empty list, a number outside float32, a duplicate key, a grammar error) throws `notFlat`, and
 * the fast path answers undefined so that the body takes its protocol's general path, which has the one set
 * of rules and error messages.
 */

/** Nesting that the protocols' rank limits (32) allow; deeper bodies take the general path. */
const MAX_RANK = 32;
const FLOAT32_MAX = 3.4028234663852886e38;
/** Powers of ten a double holds exactly: with a mantissa below 2^53, m * 10^e and m / 10^e round correctly. */
const EXACT_POWERS = Array.from({ length: 23 }, (_, i) => 10 ** i);
const MAX_EXACT_MANTISSA = 2 ** 53;
/** Relative width of the band around a value that must round to one float32 for an inexact conversion to stand. */
const GUARD = 2 ** -40;

const enum Ch {
  Tab = 0x09,
  Lf = 0x0a,
  Cr = 0x0d,
  Space = 0x20,
  Quote = 0x22,
  Plus = 0x2b,
  Comma = 0x2c,
  Minus = 0x2d,
  Dot = 0x2e,
  Zero = 0x30,
  Nine = 0x39,
  Colon = 0x3a,
  OpenBracket = 0x5b,
  Backslash = 0x5c,
  CloseBracket = 0x5d,
  LowerE = 0x65,
  UpperE = 0x45,
  OpenBrace = 0x7b,
  CloseBrace = 0x7d,
}

/** Thrown inside the scanner to leave it; never escapes a fast path (see flatBody). */
class NotFlat extends Error {}
export const notFlat = new NotFlat();

export class Scanner {
  pos = 0;
  private readonly text: Buffer;
  constructor(readonly bytes: Uint8Array) {
    this.text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  slice(start: number, end: number): string {
    return this.text.toString('latin1', start, end);
  }

  skipSpace(): void {
    const b = this.bytes;
    let p = this.pos;
    while (p < b.length) {
      const c = b[p];
      if (c !== Ch.Space && c !== Ch.Lf && c !== Ch.Cr && c !== Ch.Tab) break;
      p++;
    }
    this.pos = p;
  }

  peek(): number {
    this.skipSpace();
    return this.pos < this.bytes.length ? this.bytes[this.pos] : -1;
  }

  expect(c: number): void {
    if (this.peek() !== c) throw notFlat;
    this.pos++;
  }

  /** A string without escapes (keys and the signature name); anything else is not for this path. */
  plainString(): string {
    this.expect(Ch.Quote);
    const b = this.bytes;
    const start = this.pos;
    let p = start;
    while (p < b.length && b[p] !== Ch.Quote) {
      if (b[p] === Ch.Backslash || b[p] < 0x20 || b[p] >= 0x80) throw notFlat;
      p++;
    }
    if (p >= b.length) throw notFlat;
    this.pos = p + 1;
    return this.slice(start, p);
  }

  /** `true` or `false`. */
  boolean(): boolean {
    this.skipSpace();
    const b = this.bytes;
    const p = this.pos;
    if (b[p] === 0x74 && b[p + 1] === 0x72 && b[p + 2] === 0x75 && b[p + 3] === 0x65) {
      this.pos = p + 4;
      return true;
    }
    if (b[p] === 0x66 && b[p + 1] === 0x61 && b[p + 2] === 0x6c && b[p + 3] === 0x73 && b[p + 4] === 0x65) {
      this.pos = p + 5;
      return false;
    }
    throw notFlat;
  }

  /** After an element: true when `close` ends the list or object, false after a comma; anything else is not for this path. */
  private closes(close: number): boolean {
    const c = this.peek();
    this.pos++;
    if (c === close) return true;
    if (c !== Ch.Comma) throw notFlat;
    return false;
  }

  /** A list of at least one element, each read by `element`. */
  list(element: () => void): void {
    this.expect(Ch.OpenBracket);
    do element();
    while (!this.closes(Ch.CloseBracket));
  }

  /** An object: `member` reads the value of each key (after its colon); a key given twice is not for this path. */
  object(member: (key: string) => void): void {
    this.expect(Ch.OpenBrace);
    const seen = new Set<string>();
    for (;;) {
      const key = this.plainString();
      if (seen.has(key)) throw notFlat;
      seen.add(key);
      this.expect(Ch.Colon);
      member(key);
      if (this.closes(Ch.CloseBrace)) return;
    }
  }

  /** A list of at most `max` integers from 0 to 2^31 - 1, plainly written (a shape); an empty list too. */
  integers(max: number): number[] {
    this.expect(Ch.OpenBracket);
    const out: number[] = [];
    if (this.peek() === Ch.CloseBracket) {
      this.pos++;
      return out;
    }
    const b = this.bytes;
    for (;;) {
      this.skipSpace();
      let p = this.pos;
      let value = 0;
      if (b[p] === Ch.Zero) p++;
      else if (b[p] > Ch.Zero && b[p] <= Ch.Nine) {
        while (b[p] >= Ch.Zero && b[p] <= Ch.Nine && p - this.pos < 10) value = value * 10 + (b[p++] - Ch.Zero);
      } else throw notFlat;
      if (value > 0x7fff_ffff || (b[p] >= Ch.Zero && b[p] <= Ch.Nine) || b[p] === Ch.Dot || b[p] === Ch.LowerE || b[p] === Ch.UpperE) throw notFlat;
      this.pos = p;
      out.push(value);
      if (out.length > max) throw notFlat;
      if (this.closes(Ch.CloseBracket)) return out;
    }
  }
}

/** Float32 values with a capacity that doubles; the scan does not know the count until it ends. */
export class FloatSink {
  data: Float32Array;
  length = 0;
  constructor(initial: number) {
    this.data = new Float32Array(Math.max(16, initial));
  }
  grow(): void {
    const grown = new Float32Array(this.data.length * 2);
    grown.set(this.data);
    this.data = grown;
  }
  finish(): Float32Array {
    return this.length === this.data.length ? this.data : this.data.slice(0, this.length);
  }
}

/**
 * Reads nested lists of numbers (from just after the outermost `[`): the shape comes from the first list
 * closed at each depth and every other list must match it; values go to `sink`. `maxOuter` bounds the
 * outermost list (the rows). One loop over the bytes with the position in a local: this runs once per byte
 * of an 89 KB body, so the per-byte cost is the route's cost. It reads without bounds checks: the caller has
 * made sure the body ends with `}`, which ends every run of digits or spaces and is no list element, so no
 * read goes past it.
 */
function readNested(s: Scanner, sink: FloatSink, maxOuter: number): number[] {
  const shape: number[] = [];
  /** Commas seen so far in the list open at each level (0 = outermost). */
  const commas: number[] = [0];
  let rank = -1;
  let depth = 1;
  const b = s.bytes;
  let p = s.pos;
  let data = sink.data;
  let length = sink.length;
  for (;;) {
    // An element of the innermost open list: a list or a number (an empty list is left to the general path).
    let c = b[p];
    while (c === Ch.Space || c === Ch.Lf || c === Ch.Cr || c === Ch.Tab) c = b[++p];
    if (c === Ch.OpenBracket) {
      if ((rank !== -1 && depth >= rank) || depth >= MAX_RANK) throw notFlat;
      p++;
      commas[depth] = 0;
      depth++;
      continue;
    }
    if (rank === -1) rank = depth;
    else if (depth !== rank) throw notFlat;

    // A JSON number (strict grammar) as a double that rounds to the same float32 as the number itself.
    const start = p;
    let negative = false;
    if (c === Ch.Minus) {
      negative = true;
      c = b[++p];
    }
    // Digits go into a small integer eight at a time (integer arithmetic), then into the double mantissa.
    let mantissa = 0;
    let digits = 0;
    let scale = 0;
    if (c === Ch.Zero) {
      c = b[++p];
    } else if (c > Ch.Zero && c <= Ch.Nine) {
      const from = p;
      let chunk = 0;
      let inChunk = 0;
      do {
        chunk = chunk * 10 + (c - Ch.Zero);
        if (++inChunk === 8) {
          mantissa = mantissa * 1e8 + chunk;
          chunk = 0;
          inChunk = 0;
        }
        c = b[++p];
      } while (c >= Ch.Zero && c <= Ch.Nine);
      mantissa = mantissa * EXACT_POWERS[inChunk] + chunk;
      digits = p - from;
    } else {
      throw notFlat;
    }
    if (c === Ch.Dot) {
      c = b[++p];
      if (!(c >= Ch.Zero && c <= Ch.Nine)) throw notFlat;
      const from = p;
      // Zeros before the first significant digit add scale, not precision.
      if (mantissa === 0) {
        while (c === Ch.Zero) c = b[++p];
      }
      const significant = p;
      let chunk = 0;
      let inChunk = 0;
      while (c >= Ch.Zero && c <= Ch.Nine) {
        chunk = chunk * 10 + (c - Ch.Zero);
        if (++inChunk === 8) {
          mantissa = mantissa * 1e8 + chunk;
          chunk = 0;
          inChunk = 0;
        }
        c = b[++p];
      }
      mantissa = mantissa * EXACT_POWERS[inChunk] + chunk;
      digits += p - significant;
      scale = from - p;
    }
    if (c === Ch.LowerE || c === Ch.UpperE) {
      c = b[++p];
      let expNegative = false;
      if (c === Ch.Plus || c === Ch.Minus) {
        expNegative = c === Ch.Minus;
        c = b[++p];
      }
      if (!(c >= Ch.Zero && c <= Ch.Nine)) throw notFlat;
      let exponent = 0;
      do {
        // Capped: the value is then far outside float32 either way and the general path reports it.
        if (exponent < 100_000) exponent = exponent * 10 + (c - Ch.Zero);
        c = b[++p];
      } while (c >= Ch.Zero && c <= Ch.Nine);
      scale += expNegative ? -exponent : exponent;
    }
    let v = Number.NaN;
    if (digits <= 19 && scale >= -22 && scale <= 22) {
      const value = scale < 0 ? mantissa / EXACT_POWERS[-scale] : mantissa * EXACT_POWERS[scale];
      // Up to 15 digits this is the correctly rounded double (one exact division or product). Up to 19 it is
      // within 2^-49 of it: it then rounds to the same float32 unless a float32 rounding boundary lies within
      // 2^-40 of it, which the two probes below detect (about one value in 10^5).
      if ((digits <= 15 && mantissa < MAX_EXACT_MANTISSA) || (value < 3.4e38 && Math.fround(value * (1 + GUARD)) === Math.fround(value * (1 - GUARD)))) {
        v = negative ? -value : value;
      }
    }
    // Long mantissas, large exponents and near ties: the engine's own conversion.
    if (v !== v) v = Number(s.slice(start, p));
    if (!(v <= FLOAT32_MAX && v >= -FLOAT32_MAX)) throw notFlat;
    if (length === data.length) {
      sink.length = length;
      sink.grow();
      data = sink.data;
    }
    data[length++] = v;

    // After an element: a comma and the next element, or the lists that close here.
    for (;;) {
      while (c === Ch.Space || c === Ch.Lf || c === Ch.Cr || c === Ch.Tab) c = b[++p];
      if (c === Ch.Comma) {
        p++;
        commas[depth - 1]++;
        if (depth === 1 && commas[0] >= maxOuter) throw notFlat;
        break;
      }
      if (c !== Ch.CloseBracket) throw notFlat;
      p++;
      depth--;
      const count = commas[depth] + 1;
      if (shape[depth] === undefined) shape[depth] = count;
      else if (shape[depth] !== count) throw notFlat;
      if (depth === 0) {
        if (shape.length !== rank) throw notFlat;
        s.pos = p;
        sink.length = length;
        return shape;
      }
      c = b[p];
    }
  }
}

/**
 * native/floatLists.c's `readLists`: `readNested` in C, the same answers for every body (a property test
 * holds them to it) at a third of the CPU. It reads from `start` (after the outermost `[`) into `out` and
 * answers the count of values, -1 where `readNested` steps aside, or FULL when `out` is too small; `meta`
 * receives the position after the outermost `]`, the rank and the shape.
 */
export type NativeReadLists = (body: Uint8Array, start: number, maxOuter: number, out: Float32Array, meta: Int32Array) => number;
const FULL = -2;

const addon = nativeFunction<NativeReadLists>('floatLists', 'readLists');

/** The addon's `readLists` from `file`, or null. */
export const loadNativeReadLists = (file: string): NativeReadLists | null => addon.load(file);

/** The process's native lists reader, loaded on first use (null: `readNested` runs). */
export const nativeReadLists = (): NativeReadLists | null => addon.get();

/** Why the process has no native lists reader; undefined when it has one. */
export const nativeReadListsMissing = (): string | undefined => addon.missing();

/** The outermost list at `s` read by the addon where it is built, else by `readNested`. */
export function readLists(s: Scanner, sink: FloatSink, maxOuter: number, native: NativeReadLists | null): number[] {
  s.expect(Ch.OpenBracket);
  if (!native) return readNested(s, sink, maxOuter);
  const meta = new Int32Array(2 + MAX_RANK);
  const outer = Math.max(0, Math.min(Math.ceil(maxOuter), 0xffff_ffff));
  let count = native(s.bytes, s.pos, outer, sink.data, meta);
  // Each value takes a digit and a separator but the last, so half the body's bytes (plus one) bound the
  // count: the second call cannot be full.
  if (count === FULL) {
    sink.data = new Float32Array((s.bytes.length >> 1) + 1);
    count = native(s.bytes, s.pos, outer, sink.data, meta);
  }
  if (count < 0) throw notFlat;
  sink.length = count;
  s.pos = meta[0];
  return Array.from(meta.subarray(2, 2 + meta[1]));
}

/**
 * Room for one row of the input when its shape says how many values a row holds (a one-row request then
 * fills it exactly and is handed over without a copy), else a guess from the body's size. Two or more bytes
 * per value ("0,") bound the count either way, so a small body never reserves a large array.
 */
export function rowCapacity(spec: TensorSpec, bodyBytes: number): number {
  const row = spec.shape.slice(1).reduce((n, d) => (d > 0 && n > 0 ? n * d : 0), 1);
  return Math.min(row > 0 ? row : 1 << 16, bodyBytes >> 1);
}

/**
 * `read` over the body, or undefined where it (or the check of the body's end) steps aside. The body must end
 * with `}` (after spaces), which bounds every scan of readNested and the addon, and hold nothing after what
 * `read` reads.
 */
export function flatBody<T>(body: Uint8Array, read: (s: Scanner) => T): T | undefined {
  let last = body.length - 1;
  while (last >= 0 && (body[last] === Ch.Space || body[last] === Ch.Lf || body[last] === Ch.Cr || body[last] === Ch.Tab)) last--;
  if (last < 0 || body[last] !== Ch.CloseBrace) return undefined;
  const s = new Scanner(body);
  try {
    const value = read(s);
    return s.peek() === -1 ? value : undefined;
  } catch (error) {
    if (error === notFlat) return undefined;
    throw error;
  }
}
