import sharp, { type Metadata, type OutputInfo } from 'sharp';
import { DomainError, InvalidInput, PayloadTooLarge, UnsupportedMediaType } from '../core/errors.js';
import type { DecodeAdmission } from './decodeAdmission.js';
import { bytesPerSampleOf, decodeBytes } from './decodeCost.js';
import { jpegDecoder, type JpegDecoder } from './jpegDecoder.js';
import { readJpegHeader, type ImageHeader } from './jpegHeader.js';
import type { VisionLimits } from './limits.js';
import type { CancelSignal } from '../core/cancelSignal.js';

// libvips' operation cache would keep the pixels of recent decodes: after four 6300x6300 16-bit decodes the
// process stayed at 1.3 GB with it and went back to 127 MB without. Decodes of untrusted uploads are never
// repeated, so the cache only holds memory.
sharp.cache(false);

/** Interleaved 8-bit RGB pixels. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

export interface DecodedImage {
  /** Size of the image as the user sees it (after EXIF orientation), in the pixels of the image as sent. */
  width: number;
  height: number;
  format: 'jpeg' | 'png' | 'webp';
  /** Upright sRGB pixels, alpha flattened onto white, downscaled to at most `workingMaxSide`. */
  pixels: RgbImage;
  /** Image pixels per working pixel (>= 1): multiply working coordinates by them to get image coordinates. */
  scaleX: number;
  scaleY: number;
}

const acceptedFormats = new Set(['jpeg', 'png', 'webp']);

/** EXIF orientations 5-8 turn the image by 90 degrees, so width and height trade places. */
function uprightSize(width: number, height: number, orientation: number | undefined): [number, number] {
  return orientation !== undefined && orientation >= 5 && orientation <= 8 ? [height, width] : [width, height];
}

/**
 * JPEG shrink-on-load: libjpeg decodes at 1/2, 1/4 or 1/8 scale straight from the DCT coefficients for a
 * fraction of a full decode's CPU. sharp asks for scale 1/d only when the image shrinks by at least d + 1
 * on both axes (it steps down a factor when the shrink is within rounding of d).
 */
const dctFactors = [8, 4, 2];

/**
 * The size of the working copy: the image shrunk so its longer side is at most `maxSide`. A JPEG that
 * shrinks by 2-3x (or 4-5x, 8-9x) is shrunk a little further, to the size at which libjpeg's DCT scaling
 * applies: a 1920 px photo then decodes at 1/2 scale and lands at 640 px instead of being decoded at full
 * size and resampled to 960 px, at about 40% of the CPU. 640 px still leaves a face the 256 px detector
 * finds in it (>= ~40 px) near the expression model's 64 px.
 */
export function workingSize(width: number, height: number, format: string, maxSide: number): [number, number] {
  let shrink = Math.max(1, Math.max(width, height) / maxSide);
  if (format === 'jpeg') {
    const factor = dctFactors.find((d) => shrink >= d);
    if (factor !== undefined && shrink < factor + 1) shrink = factor + 1;
  }
  if (shrink === 1) return [width, height];
  // Rounded down, so both axes shrink by at least `shrink` and the DCT scale applies.
  return [Math.max(1, Math.floor(width / shrink)), Math.max(1, Math.floor(height / shrink))];
}

/**
 * Decodes an untrusted image. The header is read first so a decompression bomb is refused (413) before any
 * pixel is allocated: by pixel count, and by the bytes the decode will need (bit depth, channels and
 * interlacing counted). With `admission`, the decode then waits for its turn and its memory (503 when
 * neither comes). The image is decoded upright (EXIF orientation), converted to sRGB (greyscale and CMYK
 * inputs too; an embedded RGB profile is not applied, see `ignoresIccProfile`), flattened onto white, and
 * shrunk to the working size in the same pass. A JPEG that needs none of that but the colour conversion
 * (upright, not CMYK, within the working size) is decoded by libjpeg-turbo alone (`native`, see
 * vision/jpegDecoder.ts), to the same pixels; libvips decodes the rest.
 */
export async function decodeImage(
  bytes: Uint8Array,
  limits: Omit<VisionLimits, 'maxConcurrentDecodes' | 'maxWaitingDecodes'>,
  admission?: { gate: DecodeAdmission; signal?: CancelSignal },
  native: JpegDecoder = jpegDecoder(),
): Promise<DecodedImage> {
  if (bytes.length === 0) throw new InvalidInput('the request carries no image (empty body)');
  const header = readJpegHeader(bytes);
  let meta: ImageHeader | Metadata | undefined = header;
  try {
    meta ??= await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch {
    throw new InvalidInput('not a decodable image: send a JPEG, PNG or WebP file');
  }
  if (meta.format === undefined || !acceptedFormats.has(meta.format)) {
    throw new UnsupportedMediaType(`image format '${meta.format ?? 'unknown'}' is not supported: send JPEG, PNG or WebP`);
  }
  const [width, height] = uprightSize(meta.width ?? 0, meta.height ?? 0, meta.orientation);
  if (width * height > limits.maxPixels) {
    throw new PayloadTooLarge(`image is ${width}x${height} pixels; at most ${limits.maxPixels} pixels are accepted`);
  }
  if (width < limits.minSide || height < limits.minSide) {
    throw new InvalidInput(`image is ${width}x${height} pixels; the smallest accepted is ${limits.minSide}x${limits.minSide}`);
  }
  const [targetWidth, targetHeight] = workingSize(width, height, meta.format, limits.workingMaxSide);
  const needs = decodeBytes(
    {
      format: meta.format as DecodedImage['format'],
      width,
      height,
      channels: meta.channels,
      bytesPerSample: bytesPerSampleOf(meta.depth, meta.bitsPerSample),
      interlaced: meta.isProgressive,
    },
    targetWidth,
    targetHeight,
  );
  if (needs > limits.maxDecodeBytes) {
    const depth = meta.bitsPerSample ?? 8 * bytesPerSampleOf(meta.depth, undefined);
    throw new PayloadTooLarge(
      `image is ${width}x${height} pixels, ${meta.channels} channels of ${depth} bits${meta.isProgressive ? ', interlaced' : ''}: decoding it needs about ${mib(needs)} MiB; at most ${mib(limits.maxDecodeBytes)} MiB are accepted`,
    );
  }
  const withLibvips = (): Promise<{ data: Uint8Array; info: Pick<OutputInfo, 'width' | 'height' | 'channels'> }> =>
    sharp(bytes, { limitInputPixels: limits.maxPixels, failOn: 'warning', ignoreIcc: ignoresIccProfile(meta) })
      .rotate()
      .resize(targetWidth, targetHeight, { fit: 'fill', kernel: 'lanczos3' })
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
  const nativeFits =
    native.available && header !== undefined && header.space !== 'cmyk' && (header.orientation ?? 1) === 1 && targetWidth === width && targetHeight === height;
  const run = !nativeFits
    ? withLibvips
    : async (): Promise<{ data: Uint8Array; info: Pick<OutputInfo, 'width' | 'height' | 'channels'> }> => {
        const pixels = await native.decode(bytes, width, height);
        if (pixels === 'unsupported') return withLibvips();
        // Caught below, as libvips' refusals are.
        if (pixels === 'corrupt') throw new Error('libjpeg refused the image');
        return { data: pixels, info: { width, height, channels: 3 } };
      };
  let raw: Awaited<ReturnType<typeof run>>;
  try {
    raw = admission ? await admission.gate.run(needs, admission.signal, run) : await run();
  } catch (error) {
    if (error instanceof DomainError) throw error;
    throw new InvalidInput(`not a decodable image: the ${meta.format.toUpperCase()} data is corrupt or truncated`);
  }
  if (raw.info.channels !== 3) {
    throw new InvalidInput(`not a decodable image: ${raw.info.channels} colour channels after conversion to sRGB`);
  }
  return {
    width,
    height,
    format: meta.format as DecodedImage['format'],
    pixels: {
      data: new Uint8Array(raw.data.buffer, raw.data.byteOffset, raw.data.byteLength),
      width: raw.info.width,
      height: raw.info.height,
    },
    // The rounded working size may differ from width/scale by a fraction of a pixel; use the exact ratios.
    scaleX: width / raw.info.width,
    scaleY: height / raw.info.height,
  };
}

/**
 * Whether the decode leaves an embedded ICC profile unapplied: the pixels then come out as stored, which is
 * how the models' reference pipelines read images (TensorFlow's decode_jpeg, PIL and OpenCV apply no
 * profile), and colour management is most of a photo's decode: a 1920x1280 JPEG carrying the common 3 KB
 * sRGB profile costs about four times the CPU with the transform (bench/preprocess.ts). CMYK keeps its profile:
 * its conversion to RGB needs one.
 */
export function ignoresIccProfile(meta: Pick<Metadata, 'space'>): boolean {
  return meta.space !== 'cmyk';
}

function mib(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(0);
}
