export { sample, samplePath, singleFace640x480 } from '../../../helpers/samplePhotos.js';

/** Faces a person sees in each photo (looked at one by one): every face is clearly visible. */
export const visibleFaces: Record<number, number> = { 1: 3, 2: 3, 3: 3, 4: 4, 5: 5, 6: 4 };

/**
 * Clearly smiling faces, as a point inside each face (image pixels): sample1 the laughing woman on the right,
 * sample3 the two women on the right, sample4 the laughing blonde on the right, sample6 the second from left.
 */
export const smilingFaces: { sample: number; x: number; y: number }[] = [
  { sample: 1, x: 1565, y: 340 },
  { sample: 3, x: 1186, y: 377 },
  { sample: 3, x: 1571, y: 450 },
  { sample: 4, x: 1370, y: 294 },
  { sample: 6, x: 775, y: 502 },
];
