/**
 * The pool configuration: the models a runtime serves. Each entry carries the fields of an MLModel's spec
 * (see crds/mlmodel.yaml) plus its name; the operator renders this file from MLModels into a ConfigMap.
 * The JSON Schema in pool.schema.json is the runtime's validation of the same shape.
 */
export type Framework = 'tfjs-graph' | 'tfjs-layers' | 'onnx' | 'pocketsphinx' | 'nlpjs';

/** Which engine runs a model: `auto` prefers a verified native (ONNX) path and falls back to tfjs. */
export type BackendPreference = 'auto' | 'tfjs' | 'onnx';

export interface ModelSource {
  /** `https://`, `http://`, `file://` or `npm:<package>/<path>`; the entry file (model.json, model.onnx). */
  uri: string;
  /**
   * Hex sha256 of the entry file. A pinned tfjs model.json must have every weight shard it names pinned
   * in `shards` too: a pin that covers the entry but not its weights would promise an integrity it lacks.
   */
  sha256?: string;
  /**
   * Hex sha256 of tfjs weight shards, keyed by their path as written in `weightsManifest[].paths`. Shards
   * listed here are verified on every fetch; others are recorded on first fetch and verified from then on.
   */
  shards?: Record<string, string>;
  /**
   * Hosts (`host` or `host:port`) a redirect of an http(s) source may lead to besides the source's own
   * origin, e.g. the object store a CDN redirects to. Absent: redirects stay on the source's origin.
   */
  allowedRedirectHosts?: string[];
}

export interface Preprocessing {
  /** Model input size in pixels. */
  width: number;
  height: number;
  /** Colour the model expects. */
  colour: 'rgb' | 'bgr' | 'grayscale';
  /** Pixel values 0..255 are mapped linearly onto [range[0], range[1]] before mean/std. */
  range?: [number, number];
  /** RGB weights of the grey conversion when `colour` is `grayscale`; ITU-R BT.601 when absent. */
  grayscaleWeights?: [number, number, number];
  mean?: number[];
  std?: number[];
}

export interface ReferenceMetric {
  dataset: string;
  metric: string;
  value: number;
  source?: string;
}

export interface ModelCard {
  description?: string;
  license?: string;
  origin?: string;
  authors?: string;
  metrics?: ReferenceMetric[];
}

export interface PoolModel {
  name: string;
  /** `<category>/<task>`, e.g. `vision/facial-expression`. */
  task: string;
  framework: Framework;
  version: string;
  source: ModelSource;
  labels?: string[];
  preprocessing?: Preprocessing;
  card?: ModelCard;
  backend?: BackendPreference;
}

/**
 * Server-side micro-batching for models whose batch dimension is dynamic: requests arriving within
 * `maxDelayMs` of the first are run together, up to `maxBatchSize` rows.
 */
export interface BatchingConfig {
  maxBatchSize: number;
  maxDelayMs: number;
}

export interface PoolConfig {
  models: PoolModel[];
  batching?: BatchingConfig;
}
