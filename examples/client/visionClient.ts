/**
 * A small typed client for mloffload's vision task APIs. Dependency-free: it uses the global `fetch` of
 * Node 18+ and browsers.
 *
 *   const client = new VisionClient('http://edge-node:8080', { apiKey: process.env.MLOFFLOAD_API_KEY });
 *   const { faces } = await client.facialExpressions(await readFile('photo.jpg'));
 *   for (const f of faces) console.log(f.expression.code, f.expression.label, f.box);
 */

/** Pixels of the image as sent (after its EXIF orientation is applied). */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Point {
  x: number;
  y: number;
}

export interface ModelInfo {
  name: string;
  version: string;
  task: string;
  backend: string;
}

/**
 * Milliseconds per stage: `decode` the image, `detect` faces or objects and `classify` expressions (each with
 * its pre- and post-processing); `inference` is the part of detect + classify spent in the model engines
 * (worker-pool queueing included); `total` runs from the start of decoding to the response.
 */
export interface Timing {
  decode: number;
  detect?: number;
  classify?: number;
  inference: number;
  total: number;
}

export interface ImageSize {
  width: number;
  height: number;
}

export type Landmark = 'rightEye' | 'leftEye' | 'noseTip' | 'mouthCenter' | 'rightEarTragion' | 'leftEarTragion';

export interface Face {
  box: Box;
  score: number;
  /** The person's own right and left (a right eye appears on the left of a frontal photo). */
  landmarks: Record<Landmark, Point>;
}

export interface FacesResponse {
  faces: Face[];
  image: ImageSize;
  models: ModelInfo[];
  timing: Timing;
}

/** FER2013 expression codes. */
export const Expressions = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'] as const;
export type ExpressionLabel = (typeof Expressions)[number];

export interface FaceExpression {
  box: Box;
  /** Detector score; null with `crop: false` (the whole image is the face, no detection ran). */
  score: number | null;
  expression: { code: number; label: ExpressionLabel; confidence: number };
  scores: Record<ExpressionLabel, number>;
}

export interface FacialExpressionsResponse {
  faces: FaceExpression[];
  image: ImageSize;
  models: ModelInfo[];
  timing: Timing;
}

export interface DetectedObject {
  label: string;
  classId: number;
  score: number;
  box: Box;
}

export interface ObjectsResponse {
  objects: DetectedObject[];
  image: ImageSize;
  models: ModelInfo[];
  timing: Timing;
}

export interface FaceOptions {
  /** 0..1, default 0.4. */
  minScore?: number;
  /** 1..100, default 20. */
  maxFaces?: number;
}

export interface ExpressionOptions extends FaceOptions {
  /** false: the image already is one face crop; default true (detect faces first). */
  crop?: boolean;
}

export interface ObjectOptions {
  /** 0..1, default 0.25. */
  minScore?: number;
  /** 1..100, default 20. */
  maxResults?: number;
}

/** An error answer of the API: `status` is the HTTP status, `message` the server's `error` text. */
export class VisionApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(`${status}: ${message}`);
    this.name = 'VisionApiError';
  }
}

export interface ClientOptions {
  /** Sent as `Authorization: Bearer <key>` when the runtime requires API keys. */
  apiKey?: string;
  /** Abort a call after this many milliseconds (default 30 s). */
  timeoutMs?: number;
}

/** The media type of JPEG, PNG and WebP bytes, from their signatures. */
export function imageType(bytes: Uint8Array): string {
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return 'image/jpeg';
  if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'image/png';
  const ascii = (from: number, to: number) => String.fromCharCode(...bytes.subarray(from, to));
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'image/webp';
  return 'application/octet-stream';
}

export class VisionClient {
  private readonly baseUrl: string;

  constructor(
    baseUrl: string,
    private readonly options: ClientOptions = {},
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  faces(image: Uint8Array, options: FaceOptions = {}): Promise<FacesResponse> {
    return this.post('/v1/vision/faces', image, options);
  }

  facialExpressions(image: Uint8Array, options: ExpressionOptions = {}): Promise<FacialExpressionsResponse> {
    return this.post('/v1/vision/facial-expressions', image, options);
  }

  objects(image: Uint8Array, options: ObjectOptions = {}): Promise<ObjectsResponse> {
    return this.post('/v1/vision/objects', image, options);
  }

  /** Sends the image as a raw body with its media type; options go in the query string. */
  private async post<T>(path: string, image: Uint8Array, options: object): Promise<T> {
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(options)) if (v !== undefined) query.set(k, String(v));
    const headers: Record<string, string> = { 'Content-Type': imageType(image) };
    if (this.options.apiKey) headers.Authorization = `Bearer ${this.options.apiKey}`;
    const url = `${this.baseUrl}${path}${query.size > 0 ? `?${query}` : ''}`;
    const response = await fetch(url, {
      method: 'POST',
      headers,
      // A copy typed over a plain ArrayBuffer, which is what fetch accepts as a body.
      body: new Uint8Array(image),
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
    });
    const text = await response.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new VisionApiError(response.status, text.slice(0, 200) || response.statusText);
    }
    if (!response.ok) {
      const message = (body as { error?: unknown }).error;
      throw new VisionApiError(response.status, typeof message === 'string' ? message : response.statusText);
    }
    return body as T;
  }
}
