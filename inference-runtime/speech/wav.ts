import { InvalidInput, PayloadTooLarge } from '../core/errors.js';

/** Mono samples in [-1, 1] at the file's own rate. */
export interface DecodedAudio {
  samples: Float32Array;
  sampleRate: number;
  /** Channels in the file (averaged into `samples`). */
  channels: number;
  /** `pcm8`, `pcm16`, `pcm24`, `pcm32`, `float32`, `float64`. */
  encoding: string;
  durationSeconds: number;
}

export interface WavLimits {
  /** Longest audio accepted, in seconds (413 beyond). */
  maxSeconds: number;
}

const FORMAT_PCM = 1;
const FORMAT_FLOAT = 3;
const FORMAT_EXTENSIBLE = 0xfffe;
const MIN_RATE = 4_000;
const MAX_RATE = 192_000;
const MAX_CHANNELS = 8;

/**
 * Reads a RIFF/WAVE file: PCM 8/16/24/32-bit or IEEE float 32/64-bit, plain or WAVE_FORMAT_EXTENSIBLE, 1 to 8
 * channels (averaged to mono). Every field that sizes an allocation is checked against the bytes actually
 * present and against `limits` before anything is allocated, so a lying header costs nothing.
 * Chunks other than `fmt ` and `data` (LIST, fact, cue) are skipped. A `data` chunk whose declared size runs
 * past the end of the file (streamed writers leave 0 or 0xFFFFFFFF there) is read up to the last whole frame.
 */
export function decodeWav(bytes: Uint8Array, limits: WavLimits): DecodedAudio {
  if (bytes.length < 12) throw new InvalidInput(`the audio is not a WAV file: ${bytes.length} bytes is shorter than a RIFF header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (at: number): string => String.fromCharCode(bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]);
  if (tag(0) !== 'RIFF' || tag(8) !== 'WAVE') {
    throw new InvalidInput('the audio is not a WAV file (no RIFF/WAVE header); send PCM or float WAV as audio/wav');
  }
  let format: { code: number; channels: number; rate: number; blockAlign: number; bits: number } | undefined;
  let offset = 12;
  while (offset + 8 <= bytes.length) {
    const id = tag(offset);
    const size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > bytes.length) throw new InvalidInput('the WAV fmt chunk is truncated');
      let code = view.getUint16(body, true);
      const channels = view.getUint16(body + 2, true);
      const rate = view.getUint32(body + 4, true);
      const blockAlign = view.getUint16(body + 12, true);
      const bits = view.getUint16(body + 14, true);
      if (code === FORMAT_EXTENSIBLE) {
        if (size < 40 || body + 40 > bytes.length) throw new InvalidInput('the WAV fmt chunk (WAVE_FORMAT_EXTENSIBLE) is truncated');
        // The sub-format GUID starts with the plain format code.
        code = view.getUint16(body + 24, true);
      }
      format = { code, channels, rate, blockAlign, bits };
    } else if (id === 'data') {
      if (!format) throw new InvalidInput('the WAV data chunk comes before its fmt chunk');
      return decodeData(bytes.subarray(body, Math.min(bytes.length, body + size)), format, limits);
    }
    // Chunks are padded to an even size.
    offset = body + size + (size % 2);
  }
  throw new InvalidInput(format ? 'the WAV file has no data chunk (truncated?)' : 'the WAV file has no fmt chunk (truncated?)');
}

function decodeData(
  data: Uint8Array,
  f: { code: number; channels: number; rate: number; blockAlign: number; bits: number },
  limits: WavLimits,
): DecodedAudio {
  const encoding = encodingOf(f.code, f.bits);
  if (f.channels < 1 || f.channels > MAX_CHANNELS) throw new InvalidInput(`WAV with ${f.channels} channels is not supported (1 to ${MAX_CHANNELS})`);
  if (f.rate < MIN_RATE || f.rate > MAX_RATE) throw new InvalidInput(`a sample rate of ${f.rate} Hz is not supported (${MIN_RATE} to ${MAX_RATE})`);
  const bytesPerSample = f.bits / 8;
  if (f.blockAlign !== bytesPerSample * f.channels) {
    throw new InvalidInput(`the WAV block align ${f.blockAlign} does not fit ${f.channels} channels of ${f.bits}-bit samples`);
  }
  const frames = Math.floor(data.length / f.blockAlign);
  if (frames === 0) throw new InvalidInput('the WAV file holds no audio samples');
  const seconds = frames / f.rate;
  if (seconds > limits.maxSeconds) {
    throw new PayloadTooLarge(`the audio lasts ${seconds.toFixed(1)} s; the limit is ${limits.maxSeconds} s`);
  }
  const view = new DataView(data.buffer, data.byteOffset, frames * f.blockAlign);
  const read = reader(encoding, view);
  const samples = new Float32Array(frames);
  for (let i = 0; i < frames; i++) {
    let sum = 0;
    for (let c = 0; c < f.channels; c++) sum += read(i * f.blockAlign + c * bytesPerSample);
    const v = sum / f.channels;
    // Float files may carry NaN or values past full scale; the recogniser gets clean, bounded input.
    samples[i] = Number.isFinite(v) ? Math.max(-1, Math.min(1, v)) : 0;
  }
  return { samples, sampleRate: f.rate, channels: f.channels, encoding, durationSeconds: seconds };
}

function encodingOf(code: number, bits: number): string {
  if (code === FORMAT_PCM && (bits === 8 || bits === 16 || bits === 24 || bits === 32)) return `pcm${bits}`;
  if (code === FORMAT_FLOAT && (bits === 32 || bits === 64)) return `float${bits}`;
  throw new InvalidInput(`WAV format ${code} with ${bits}-bit samples is not supported; use PCM 8/16/24/32-bit or float 32/64-bit`);
}

function reader(encoding: string, v: DataView): (at: number) => number {
  switch (encoding) {
    case 'pcm8':
      return (at) => (v.getUint8(at) - 128) / 128;
    case 'pcm16':
      return (at) => v.getInt16(at, true) / 32768;
    case 'pcm24':
      return (at) => ((v.getUint8(at) | (v.getUint8(at + 1) << 8) | (v.getInt8(at + 2) << 16)) / 8388608);
    case 'pcm32':
      return (at) => v.getInt32(at, true) / 2147483648;
    case 'float32':
      return (at) => v.getFloat32(at, true);
    default:
      return (at) => v.getFloat64(at, true);
  }
}

/** A 16-bit PCM mono WAV file (tests, the demo page's encoder mirrors it). */
export function encodeWav16(samples: Float32Array, sampleRate: number): Buffer {
  const out = Buffer.alloc(44 + samples.length * 2);
  out.write('RIFF', 0, 'ascii');
  out.writeUInt32LE(36 + samples.length * 2, 4);
  out.write('WAVEfmt ', 8, 'ascii');
  out.writeUInt32LE(16, 16);
  out.writeUInt16LE(FORMAT_PCM, 20);
  out.writeUInt16LE(1, 22);
  out.writeUInt32LE(sampleRate, 24);
  out.writeUInt32LE(sampleRate * 2, 28);
  out.writeUInt16LE(2, 32);
  out.writeUInt16LE(16, 34);
  out.write('data', 36, 'ascii');
  out.writeUInt32LE(samples.length * 2, 40);
  for (let i = 0; i < samples.length; i++) out.writeInt16LE(Math.round(Math.max(-1, Math.min(1, samples[i])) * 32767), 44 + i * 2);
  return out;
}
