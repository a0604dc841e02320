/**
 * Request and response shapes of the runtime's task APIs, TF Serving REST and the Open Inference Protocol
 * V2. Task API responses name the models that answered and carry a timing breakdown in milliseconds.
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

/** Milliseconds per stage of the other task APIs: `total` always, and the stages each API names. */
export interface StageTiming {
  total: number;
  [stage: string]: number;
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

/** FER2013 expression codes, in code order. */
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

export interface TextLine {
  text: string;
  confidence: number;
  box: Box;
  polygon: Point[];
}

export interface TextResponse {
  lines: TextLine[];
  text: string;
  image?: ImageSize;
  models: ModelInfo[];
  timing: StageTiming;
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

export interface TranslationRequest {
  text?: string;
  texts?: string[];
  source: string;
  target: string;
}

export interface TranslationResponse {
  translations: Array<{ text: string; [field: string]: unknown }>;
  models: ModelInfo[];
  timing: StageTiming;
}

export interface LanguagesResponse {
  pairs?: Array<{ source: string; target: string }>;
  [field: string]: unknown;
}

export interface TranscriptionResponse {
  text: string;
  confidence: number;
  words: Array<{ word: string; start?: number; end?: number; confidence?: number }>;
  models: ModelInfo[];
  timing: StageTiming;
}

export interface DialogMessage {
  text: string;
  sessionId?: string;
}

export interface DialogResponse {
  intent: { name: string; score: number };
  entities: Array<{ entity: string; value: unknown; [field: string]: unknown }>;
  answer: string;
  sessionId?: string;
  models: ModelInfo[];
  timing: StageTiming;
}

export interface VoiceDialogResponse extends DialogResponse {
  transcription: TranscriptionResponse | { text: string; confidence?: number };
}

/** TF Serving REST `:predict` body: row (`instances`) or columnar (`inputs`) format; `{"b64": ...}` for bytes. */
export type PredictRequest = { signature_name?: string; instances: unknown[] } | { signature_name?: string; inputs: unknown };
export type PredictResponse = { predictions: unknown } | { outputs: unknown };

export interface ModelStatusResponse {
  model_version_status: Array<{ version: string; state: string; status: { error_code: string; error_message: string } }>;
}

/** Open Inference Protocol V2 tensors (JSON). */
export interface V2Tensor {
  name: string;
  shape: number[];
  datatype: string;
  data: unknown[];
  parameters?: Record<string, unknown>;
}

export interface V2InferRequest {
  id?: string;
  parameters?: Record<string, unknown>;
  inputs: V2Tensor[];
  outputs?: Array<{ name: string; parameters?: Record<string, unknown> }>;
}

export interface V2InferResponse {
  model_name: string;
  model_version?: string;
  id?: string;
  parameters?: Record<string, unknown>;
  outputs: V2Tensor[];
}

export interface V2ModelMetadata {
  name: string;
  versions?: string[];
  platform: string;
  inputs: Array<{ name: string; datatype: string; shape: number[] }>;
  outputs: Array<{ name: string; datatype: string; shape: number[] }>;
}
