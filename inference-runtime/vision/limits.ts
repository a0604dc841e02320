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
   * spans more than the expression model's 64 px. JPEGs of 4x this size or more are decoded at reduced scale
   * directly (shrink-on-load).
   */
  workingMaxSide: number;
}

export const defaultVisionLimits: VisionLimits = {
  maxBodyBytes: 10 * 1024 * 1024,
  maxPixels: 40_000_000,
  minSide: 16,
  workingMaxSide: 960,
};
