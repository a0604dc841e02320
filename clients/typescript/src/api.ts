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
  /** Mean probability of the line's characters. */
  confidence: number;
  box: Box;
  /** The four corners `[x, y]`, clockwise from the top-left of the line's first character (tilted for tilted text). */
  polygon: Array<[number, number]>;
}

export interface TextResponse {
  /** In reading order: rows top to bottom, lines in a row left to right. */
  lines: TextLine[];
  /** The lines' texts joined by `\n`; `''` when the image has no text (not an error). */
  text: string;
  image: ImageSize;
  models: ModelInfo[];
  timing: StageTiming;
}

export interface TextOptions {
  /** 0..1, default 0.5: lines below are dropped. */
  minConfidence?: number;
  /** false skips the orientation classifier (upright text only); default true. */
  orientation?: boolean;
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

/** One text or 1..64 texts (exactly one of the two); codes ISO 639-1 (`en`) or 639-3 (`eng`). */
export type TranslationRequest = ({ text: string; texts?: never } | { texts: string[]; text?: never }) & {
  source: string;
  target: string;
  /** The pool model to use when several serve the pair. */
  model?: string;
};

export interface TranslationResponse {
  /** Row for row with the request's texts. Apertium marks unknown words with `*`. */
  translations: Array<{ text: string }>;
  /** Two-letter codes when there is one. */
  source: string;
  target: string;
  model: ModelInfo;
  timing: StageTiming;
}

export interface LanguagePair {
  source: string;
  target: string;
  model: string;
  version: string;
  state: string;
}

export interface Language {
  code: string;
  code3: string;
  code1?: string;
  name: string;
}

export interface LanguagesResponse {
  pairs: LanguagePair[];
  languages: Language[];
}

/** What constrains recognition: one of them; none uses the model's phrase list (or dictation). */
export interface SpeechOptions {
  /** Exactly one of these phrases per utterance (at most 2,000 of 200 characters). */
  phrases?: string[];
  /** JSGF text starting `#JSGF V1.0;` with a public rule (at most 64 KiB). */
  grammar?: string;
  /** Open dictation with the general trigram language model. */
  mode?: 'dictation';
}

export interface RecognisedWord {
  word: string;
  /** Seconds from the start of the audio. */
  start: number;
  end: number;
}

export interface AudioInfo {
  sampleRate: number;
  channels: number;
  encoding: string;
  durationSeconds: number;
}

/** The recognition part of an answer, as `/v1/dialog/voice` nests it. */
export interface Transcription {
  text: string;
  /** 1 for a match under a grammar or phrase list; the mean word posterior in dictation. */
  confidence: number;
  words: RecognisedWord[];
  /** What constrained recognition: `phrases`, `grammar`, `dictation`, `labels`, `corpus`. */
  constraint: string;
  audio: AudioInfo;
}

export interface TranscriptionResponse extends Transcription {
  model: ModelInfo;
  timing: StageTiming;
}

export interface DialogMessage {
  /** 1..500 characters. */
  text: string;
  /** Letters, digits, `. _ : -`, up to 128: the runtime numbers the session's turns. */
  sessionId?: string;
}

export interface DialogEntity {
  entity: string;
  option?: string;
  text?: string;
  start?: number;
  end?: number;
  accuracy?: number;
  [field: string]: unknown;
}

export interface DialogSession {
  id: string;
  turn: number;
  previousIntent?: string;
}

interface DialogAnswer {
  /** `None` when the corpus does not cover the utterance (the answer is the corpus's fallback). */
  intent: { name: string; score: number };
  entities: DialogEntity[];
  answer: string;
  /** With a `sessionId` only. */
  session?: DialogSession;
  timing: StageTiming;
}

export interface DialogResponse extends DialogAnswer {
  text: string;
  model: ModelInfo;
}

export interface VoiceOptions extends SpeechOptions {
  sessionId?: string;
}

export interface VoiceDialogResponse extends DialogAnswer {
  transcription: Transcription;
  /** The speech recogniser, then the dialog model. */
  models: ModelInfo[];
}

/** TF Serving REST `:predict` body: row (`instances`) or columnar (`inputs`) format; `{"b64": ...}` for bytes. */
export type PredictRequest = { signature_name?: string; instances: unknown[] } | { signature_name?: string; inputs: unknown };
export type PredictResponse = { predictions: unknown } | { outputs: unknown };

export interface ModelStatusResponse {
  model_version_status: Array<{ version: string; state: string; status: { error_code: string; error_message: string } }>;
}

/** Open Inference Protocol V2 tensors as they travel in JSON (no `data` when the elements travel binary). */
export interface V2Tensor {
  name: string;
  shape: number[];
  datatype: string;
  data?: unknown[];
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
