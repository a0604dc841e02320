import { loadNativeAddon, nativeAddonFile } from '../core/nativeAddon.js';

/**
 * libjpeg-turbo's decode of a JPEG at its full size, in one libuv pool job (inference-runtime/native/jpegDecode.c).
 *
 * Why: sharp runs a decode through libvips' pipeline (a pool job that builds the operations, a threadpool of
 * its own that hands the image over in strips, objects and buffers per region), which cost 3.7 ms of CPU a
 * request for the flagship's 640x480 photo in the server. The same libjpeg-turbo code alone decodes it in
 * about a third of what that pipeline takes in one process (0.60 against 2.65 ms, bench/preprocessPaired.ts),
 * to the same pixels, bit for bit.
 */
export interface JpegDecoder {
  /** False where the addon is not built (no C compiler or libjpeg at build time) or did not load. */
  readonly available: boolean;
  /** Why it is not available. */
  readonly reason?: string;
  /**
   * Interleaved RGB pixels (width x height x 3) of a JPEG whose header says it is `width` x `height`: 'corrupt'
   * when libjpeg fails or warns (damaged data, a premature end, too many scans), 'unsupported' when it is not
   * an 8-bit YCbCr, RGB or greyscale JPEG of that size (libvips decodes those).
   */
  decode(bytes: Uint8Array, width: number, height: number): Promise<Uint8Array | 'corrupt' | 'unsupported'>;
}

/** What jpegDecode.c's promise resolves with. */
const OUTCOMES = ['decoded', 'corrupt', 'unsupported'] as const;

interface Addon {
  decode(input: Uint8Array, output: Uint8Array, width: number, height: number): Promise<number>;
}

export function loadJpegDecoder(file: string = nativeAddonFile('jpegDecode')): JpegDecoder {
  const loaded = loadNativeAddon<Addon>(file, ['decode']);
  if ('reason' in loaded) {
    const { reason } = loaded;
    return { available: false, reason, decode: () => Promise.resolve('unsupported') };
  }
  const { addon } = loaded;
  return {
    available: true,
    async decode(bytes, width, height) {
      // Not zero-filled: every byte is written by the decode, and a failed decode's buffer is dropped.
      const pixels = Buffer.allocUnsafeSlow(width * height * 3);
      const outcome = OUTCOMES[await addon.decode(bytes, pixels, width, height)] ?? 'corrupt';
      return outcome === 'decoded' ? new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.byteLength) : outcome;
    },
  };
}

let loaded: JpegDecoder | undefined;

/** The process's decoder, loaded on first use. */
export function jpegDecoder(): JpegDecoder {
  return (loaded ??= loadJpegDecoder());
}
