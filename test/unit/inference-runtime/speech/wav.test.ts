import { expect } from 'chai';
import fc from 'fast-check';
import { DomainError, InvalidInput, PayloadTooLarge } from '../../../../inference-runtime/core/errors.js';
import { decodeWav, encodeWav16 } from '../../../../inference-runtime/speech/wav.js';

type Encoding = 'pcm8' | 'pcm16' | 'pcm24' | 'pcm32' | 'float32' | 'float64';
const BITS: Record<Encoding, number> = { pcm8: 8, pcm16: 16, pcm24: 24, pcm32: 32, float32: 32, float64: 64 };

/** A WAV file written independently of the parser: the reference the parser must agree with. */
function wavFile(frames: number[][], rate: number, encoding: Encoding, options: { extensible?: boolean; extraChunk?: boolean } = {}): Buffer {
  const channels = frames[0]?.length ?? 1;
  const bytes = BITS[encoding] / 8;
  const data = Buffer.alloc(frames.length * channels * bytes);
  let at = 0;
  for (const frame of frames) {
    for (const v of frame) {
      switch (encoding) {
        case 'pcm8': data.writeUInt8(Math.round(v * 127) + 128, at); break;
        case 'pcm16': data.writeInt16LE(Math.round(v * 32767), at); break;
        case 'pcm24': data.writeIntLE(Math.round(v * 8388607), at, 3); break;
        case 'pcm32': data.writeInt32LE(Math.round(v * 2147483647), at); break;
        case 'float32': data.writeFloatLE(v, at); break;
        case 'float64': data.writeDoubleLE(v, at); break;
      }
      at += bytes;
    }
  }
  const code = encoding.startsWith('float') ? 3 : 1;
  const fmt = Buffer.alloc(options.extensible ? 40 : 16);
  fmt.writeUInt16LE(options.extensible ? 0xfffe : code, 0);
  fmt.writeUInt16LE(channels, 2);
  fmt.writeUInt32LE(rate, 4);
  fmt.writeUInt32LE(rate * channels * bytes, 8);
  fmt.writeUInt16LE(channels * bytes, 12);
  fmt.writeUInt16LE(BITS[encoding], 14);
  if (options.extensible) {
    fmt.writeUInt16LE(22, 16);
    fmt.writeUInt16LE(BITS[encoding], 18);
    fmt.writeUInt16LE(code, 24);
  }
  const chunk = (id: string, body: Buffer): Buffer => {
    const head = Buffer.alloc(8);
    head.write(id, 0, 'ascii');
    head.writeUInt32LE(body.length, 4);
    return Buffer.concat([head, body, body.length % 2 ? Buffer.alloc(1) : Buffer.alloc(0)]);
  };
  const chunks = [chunk('fmt ', fmt), ...(options.extraChunk ? [chunk('LIST', Buffer.from('INFOISFT\x05\x00\x00\x00test\x00'))] : []), chunk('data', data)];
  const body = Buffer.concat([Buffer.from('WAVE'), ...chunks]);
  const riff = Buffer.alloc(8);
  riff.write('RIFF', 0, 'ascii');
  riff.writeUInt32LE(body.length, 4);
  return Buffer.concat([riff, body]);
}

const limits = { maxSeconds: 30 };
const encodings = fc.constantFrom<Encoding>('pcm8', 'pcm16', 'pcm24', 'pcm32', 'float32', 'float64');
const rates = fc.constantFrom(8_000, 11_025, 16_000, 22_050, 44_100, 48_000);
/** Quantisation step of each encoding (the tolerance of a round trip; samples come back as float32). */
const STEP: Record<Encoding, number> = { pcm8: 2 / 128, pcm16: 2 / 32768, pcm24: 2 / 8388608, pcm32: 1e-6, float32: 1e-6, float64: 1e-6 };

describe('WAV parser', () => {
  it('reads every supported encoding, rate and channel count back as the mono average (property)', () => {
    fc.assert(
      fc.property(
        encodings,
        rates,
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 300 }),
        fc.boolean(),
        fc.boolean(),
        fc.integer(),
        (encoding, rate, channels, n, extensible, extraChunk, seed) => {
          let x = seed >>> 0 || 1;
          const frames = Array.from({ length: n }, () =>
            Array.from({ length: channels }, () => {
              x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
              return (x / 4294967296) * 1.8 - 0.9;
            }),
          );
          const audio = decodeWav(wavFile(frames, rate, encoding, { extensible, extraChunk }), limits);
          expect(audio).to.include({ sampleRate: rate, channels, encoding });
          expect(audio.samples.length).to.equal(n);
          frames.forEach((f, i) => {
            const mean = f.reduce((s, v) => s + v, 0) / channels;
            expect(Math.abs(audio.samples[i] - mean)).to.be.at.most(STEP[encoding] * 2);
          });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('answers any byte string with samples or a 4xx DomainError, never another error (property)', () => {
    const valid = wavFile([[0.1], [0.2], [-0.3]], 16_000, 'pcm16');
    const mutated = fc.tuple(fc.integer({ min: 0, max: valid.length - 1 }), fc.integer({ min: 0, max: 255 })).map(([i, b]) => {
      const copy = Buffer.from(valid);
      copy[i] = b;
      return copy;
    });
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), mutated, fc.integer({ min: 0, max: valid.length }).map((k) => valid.subarray(0, k))), (bytes) => {
        try {
          const audio = decodeWav(bytes, limits);
          expect(audio.samples.length).to.be.greaterThan(0);
          for (const s of audio.samples) expect(Math.abs(s)).to.be.at.most(1);
        } catch (err) {
          expect(err).to.be.instanceOf(DomainError);
          expect((err as DomainError).status).to.be.within(400, 499);
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('never allocates for a data size the file does not hold (a lying header)', () => {
    const valid = wavFile([[0.5], [0.5]], 16_000, 'pcm16');
    valid.writeUInt32LE(0xffffffff, 40);
    const audio = decodeWav(valid, limits);
    expect(audio.samples.length).to.equal(2);
  });

  it('refuses truncated files, other containers and unsupported formats with messages that say what is wrong', () => {
    const valid = wavFile([[0.5], [0.25]], 16_000, 'pcm16');
    expect(() => decodeWav(valid.subarray(0, 30), limits)).to.throw(InvalidInput, /fmt chunk is truncated|no fmt chunk/);
    expect(() => decodeWav(valid.subarray(0, 44), limits)).to.throw(InvalidInput, /no audio samples/);
    expect(() => decodeWav(Buffer.from('OggS\0\x02\0\0\0\0\0\0\0\0\0\0'), limits)).to.throw(InvalidInput, /not a WAV file/);
    const alaw = Buffer.from(valid);
    alaw.writeUInt16LE(6, 20);
    expect(() => decodeWav(alaw, limits)).to.throw(InvalidInput, /format 6 with 16-bit samples is not supported/);
    const badAlign = Buffer.from(valid);
    badAlign.writeUInt16LE(3, 32);
    expect(() => decodeWav(badAlign, limits)).to.throw(InvalidInput, /block align/);
  });

  it('refuses audio over the length limit with 413 before decoding it', () => {
    const long = encodeWav16(new Float32Array(16_000 * 31), 16_000);
    expect(() => decodeWav(long, limits)).to.throw(PayloadTooLarge, /lasts 31\.0 s; the limit is 30 s/);
  });
});
