/**
 * The memory a decode of an untrusted image will need, from its header alone, so that the decision to run it
 * (or refuse it) comes before any pixel is allocated. A pixel count is not enough: a 16-bit RGBA PNG costs 8
 * bytes a pixel where 8-bit RGB costs 3, and an interlaced (progressive) image cannot be decoded a strip at a
 * time. Measured with sharp 0.35 on a 6300x6300 16-bit RGBA PNG (2.2 MB of file): interlaced, one decode
 * raised the RSS by 338 MB (its 318 MB frame); the same image not interlaced by 72 MB.
 */
export interface ImageHeader {
  format: 'jpeg' | 'png' | 'webp';
  width: number;
  height: number;
  /** Bands as stored (grey 1, grey+alpha 2, RGB 3, RGBA or CMYK 4). */
  channels: number;
  /** 1 for 8-bit samples, 2 for 16-bit, ... */
  bytesPerSample: number;
  /** Interlaced PNG (Adam7) or progressive JPEG. */
  interlaced: boolean;
}

/**
 * Rows of the source held at once per unit of downscaling when a decode streams: libvips' shrink and the
 * Lanczos window read lines ahead of each output line, on each of its threads. The measured 72 MB for the
 * 50 KB rows of a 6300 px 16-bit RGBA image, shrunk 6.6x, is about 220 rows per unit of shrink.
 */
const STREAMED_ROWS_PER_SHRINK = 256;

/** sharp's raw depth names, for the header sharp reports. */
export function bytesPerSampleOf(depth: string | undefined, bitsPerSample: number | undefined): number {
  if (bitsPerSample !== undefined && bitsPerSample > 8) return Math.ceil(bitsPerSample / 8);
  switch (depth) {
    case 'ushort':
    case 'short':
      return 2;
    case 'uint':
    case 'int':
    case 'float':
      return 4;
    case 'complex':
    case 'double':
      return 8;
    case 'dpcomplex':
      return 16;
    default:
      return 1;
  }
}

/** Bytes of the whole decoded frame as stored. */
export function frameBytes(header: ImageHeader): number {
  return header.width * header.height * header.channels * header.bytesPerSample;
}

/**
 * Bytes a decode to a working copy of `workingWidth` x `workingHeight` (8-bit RGB) will hold at its peak:
 * - interlaced PNG: the whole frame (every pass covers the whole image);
 * - progressive JPEG: libjpeg's coefficient buffer, 2 bytes per sample of the whole frame;
 * - WebP: the whole frame (libwebp decodes into one buffer);
 * - otherwise (baseline JPEG, non-interlaced PNG) the decode streams: a window of source rows per unit of
 *   downscaling, never more than the frame;
 * plus the working copy and one intermediate of its size.
 */
export function decodeBytes(header: ImageHeader, workingWidth: number, workingHeight: number): number {
  const frame = frameBytes(header);
  let source: number;
  if (header.format === 'webp') {
    source = frame;
  } else if (header.interlaced) {
    source = header.format === 'jpeg' ? Math.max(frame, header.width * header.height * header.channels * 2) : frame;
  } else {
    const rowBytes = header.width * header.channels * header.bytesPerSample;
    const shrink = Math.max(1, header.width / workingWidth, header.height / workingHeight);
    source = Math.min(frame, rowBytes * STREAMED_ROWS_PER_SHRINK * Math.ceil(shrink));
  }
  return source + 2 * workingWidth * workingHeight * 3;
}
