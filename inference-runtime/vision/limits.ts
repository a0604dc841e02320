import { availableCores } from '../core/containerLimits.js';

/** What a vision request may cost; every value is checked before the work it bounds starts. */
export interface VisionLimits {
  /** Largest request body (raw image, multipart or JSON) in bytes. */
  maxBodyBytes: number;
  /** Largest decoded image, width x height, checked from the header before decoding (decompression bombs). */
  maxPixels: number;
  /** Images narrower or shorter than this are rejected with 400: nothing can be recognised in them. */
  minSide: number;
  /**
   * Longest side of the working copy the pipelines run on. Detectors see 256-512 px and expression crops
   * 64 px, so decoding a 12-megapixel photo at full size only costs time; boxes are still reported in the
   * pixels of the image as sent. At 960, a face that the 256 px detector can find in a typical photo still
   * spans more than the expression model's 64 px. A JPEG two or more times this size is decoded at reduced
   * scale directly (shrink-on-load), and may land below it (down to 2/3 of it, see `workingSize`).
   */
  workingMaxSide: number;

  // Memory limits
  /**
   * Most bytes one decode may need (vision/decodeCost.ts: bit depth, alpha and interlacing counted), checked
   * from the header (413 beyond).
   */
  maxDecodeBytes: number;
  /** Decodes running at once; more wait (libvips already spreads one decode over the cores). */
  maxConcurrentDecodes: number;
  /** Decodes waiting for a turn; more are refused with 503 + Retry-After. */
  maxWaitingDecodes: number;
}

const maxPixels = 40_000_000;
const workingMaxSide = 960;

export const defaultVisionLimits: VisionLimits = {
  maxBodyBytes: 10 * 1024 * 1024,
  maxPixels,
  minSide: 16,
  workingMaxSide,
  // Any 8-bit image within the pixel cap, RGBA and interlaced included (plus its working copy), as before the
  // cap counted bytes; 16 bits per sample halve the pixels allowed.
  maxDecodeBytes: maxPixels * 4 + 2 * workingMaxSide * workingMaxSide * 3,
  maxConcurrentDecodes: availableCores(),
  maxWaitingDecodes: 8,
};
