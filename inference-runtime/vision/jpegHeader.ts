/**
 * A JPEG's header read from its bytes, for the checks before a decode: one header parse per upload instead
 * of a libvips call of its own (sharp's `metadata()`: a trip to the libuv pool and back, and 0.1-0.3 ms of CPU
 * per image) ahead of the decode.
 *
 * It answers only what it is sure of, with the fields libvips would report for the file (see
 * `ImageHeader`). Anything unusual (a marker out of place, a segment running past the end, a precision
 * other than 8 bits, lossless, hierarchical or arithmetic coding, a height left to a DNL marker, several
 * frames or several Exif blocks, an Exif block it does not fully understand, an orientation outside 1-8,
 * more segments before the first scan than a real file has)
 * returns undefined, and the caller asks libvips, so every odd file gets libvips' own answer.
 */

/** The fields of sharp's `Metadata` that the decode's checks read. */
export interface ImageHeader {
  format: string;
  width: number;
  height: number;
  /** Colour components as stored: 1 (greyscale), 3 (YCbCr or RGB), 4 (CMYK or YCCK). */
  channels: number;
  depth: 'uchar';
  /** What libvips reports for a JPEG: nothing (the depth says 8 bits). */
  bitsPerSample?: undefined;
  isProgressive: boolean;
  space: 'b-w' | 'srgb' | 'cmyk';
  /** EXIF orientation (1-8) when the file carries one. */
  orientation?: number;
}

/** Start-of-frame markers libjpeg decodes with Huffman coding: baseline, extended sequential, progressive. */
const SOF_BASELINE = 0xc0;
const SOF_EXTENDED = 0xc1;
const SOF_PROGRESSIVE = 0xc2;
const SOS = 0xda;
const APP1 = 0xe1;
const ORIENTATION_TAG = 0x0112;
const SHORT = 3;

const spaces: Record<number, ImageHeader['space']> = { 1: 'b-w', 3: 'srgb', 4: 'cmyk' };
/**
 * Segments read before the first scan at most. A camera JPEG has 10-20 (an ICC profile split over APP2
 * segments adds one per 64 KB); a body of tiny segments is left to libvips, off the event loop.
 */
const MAX_SEGMENTS = 256;
const MAX_FILL = 64;

/** The header of a JPEG file, or undefined when it is not one or not one this reader is sure of. */
export function readJpegHeader(bytes: Uint8Array): ImageHeader | undefined {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return undefined;
  let frame: Omit<ImageHeader, 'orientation'> | undefined;
  let orientation: number | undefined;
  let exifBlocks = 0;
  let p = 2;
  for (let segments = 0; segments < MAX_SEGMENTS; segments++) {
    // A marker: 0xFF, optional 0xFF fill bytes (a few; a run longer than that is left to libvips), then its code.
    if (p >= bytes.length || bytes[p] !== 0xff) return undefined;
    const marks = p;
    while (p < bytes.length && bytes[p] === 0xff && p - marks < MAX_FILL) p++;
    if (p + 2 >= bytes.length || bytes[p] === 0xff) return undefined;
    const marker = bytes[p];
    // Markers without a length (TEM, RSTn, SOI, EOI) have no place in a header.
    if (marker === 0x00 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd9)) return undefined;
    const length = (bytes[p + 1] << 8) | bytes[p + 2];
    const start = p + 3;
    const end = p + 1 + length;
    if (length < 2 || end > bytes.length) return undefined;
    if (marker === SOS) return frame ? Object.assign({}, frame, orientation === undefined ? {} : { orientation }) : undefined;
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      // A start of frame: only the Huffman-coded sequential and progressive ones, once.
      if (frame || (marker !== SOF_BASELINE && marker !== SOF_EXTENDED && marker !== SOF_PROGRESSIVE)) return undefined;
      frame = readFrame(bytes, start, end, marker === SOF_PROGRESSIVE);
      if (!frame) return undefined;
    } else if (marker === APP1 && startsWithExif(bytes, start, end)) {
      // libvips takes every APP1 that opens with "Exif" as the image's Exif; more than one is not for this path.
      if (++exifBlocks > 1) return undefined;
      const read = readOrientation(bytes, start, end);
      if (read === null) return undefined;
      orientation = read;
    }
    p = end;
  }
  return undefined;
}

/** The frame header: precision, height, width, components. */
function readFrame(bytes: Uint8Array, start: number, end: number, progressive: boolean): Omit<ImageHeader, 'orientation'> | undefined {
  if (end - start < 6) return undefined;
  const precision = bytes[start];
  const height = (bytes[start + 1] << 8) | bytes[start + 2];
  const width = (bytes[start + 3] << 8) | bytes[start + 4];
  const components = bytes[start + 5];
  const space = spaces[components];
  if (precision !== 8 || height === 0 || width === 0 || space === undefined || end - start !== 6 + 3 * components) return undefined;
  return { format: 'jpeg', width, height, channels: components, depth: 'uchar', isProgressive: progressive, space };
}

function startsWithExif(bytes: Uint8Array, start: number, end: number): boolean {
  return end - start >= 4 && bytes[start] === 0x45 && bytes[start + 1] === 0x78 && bytes[start + 2] === 0x69 && bytes[start + 3] === 0x66;
}

/**
 * The orientation in an Exif block's first IFD: a number 1-8, undefined when the block has no orientation
 * entry, null when the block is anything but a well-formed "Exif\0\0" TIFF structure with at most one
 * orientation entry of one SHORT in range.
 */
function readOrientation(bytes: Uint8Array, start: number, end: number): number | undefined | null {
  const tiff = start + 6;
  if (end - start < 6 + 8 || bytes[start + 4] !== 0 || bytes[start + 5] !== 0) return null;
  let little: boolean;
  if (bytes[tiff] === 0x49 && bytes[tiff + 1] === 0x49) little = true;
  else if (bytes[tiff] === 0x4d && bytes[tiff + 1] === 0x4d) little = false;
  else return null;
  const u16 = (at: number): number => (little ? bytes[at] | (bytes[at + 1] << 8) : (bytes[at] << 8) | bytes[at + 1]);
  const u32 = (at: number): number => (little ? u16(at) + u16(at + 2) * 0x10000 : u16(at) * 0x10000 + u16(at + 2));
  if (u16(tiff + 2) !== 42) return null;
  const ifd = tiff + u32(tiff + 4);
  if (ifd < tiff + 8 || ifd + 2 > end) return null;
  const count = u16(ifd);
  if (count === 0 || ifd + 2 + 12 * count + 4 > end) return null;
  let orientation: number | undefined;
  for (let i = 0; i < count; i++) {
    const entry = ifd + 2 + 12 * i;
    if (u16(entry) !== ORIENTATION_TAG) continue;
    const value = u16(entry + 8);
    if (orientation !== undefined || u16(entry + 2) !== SHORT || u32(entry + 4) !== 1 || value < 1 || value > 8) return null;
    orientation = value;
  }
  return orientation;
}
