/**
 * The pool configuration: the models a runtime serves. Each entry carries the fields of an MLModel's spec
 * plus its name; the operator renders this file from MLModels into a ConfigMap. The schema of both lives in
 * modelSpec.schema.ts; the checks at the end of this file hold these types equal to it.
 */
import type { BACKENDS, BATCHING_SCHEMA, COLOURS, FRAMEWORKS, MODEL_NAME_SCHEMA, MODEL_SPEC_SCHEMA } from './modelSpec.schema.js';
import type { Equals, FromSchema } from './schemaTypes.js';

export type Framework = (typeof FRAMEWORKS)[number];

/** Which engine runs a model: `auto` prefers a verified native (ONNX) path and falls back to tfjs. */
export type BackendPreference = (typeof BACKENDS)[number];

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
  colour: (typeof COLOURS)[number];
  /** Pixel values 0..255 are mapped linearly onto [range[0], range[1]] before mean/std. */
  range?: [number, number];
  /** RGB weights of the grey conversion when `colour` is `grayscale`; ITU-R BT.601 when absent. */
  grayscaleWeights?: [number, number, number];
  /** One value, or one per channel of `colour`. */
  mean?: number[];
  /** One value, or one per channel of `colour`; never 0. */
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

/** An MLModel's spec. */
export interface ModelSpec {
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

export interface PoolModel extends ModelSpec {
  /** The MLModel's name. */
  name: string;
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

// The types above are exactly what the schema accepts; a difference is a compile error here.
export const modelSpecTypeIsTheSchema: Equals<ModelSpec, FromSchema<typeof MODEL_SPEC_SCHEMA>> = true;
export const poolModelTypeIsTheSchema: Equals<
  PoolModel,
  FromSchema<{ type: 'object'; required: ['name', ...(typeof MODEL_SPEC_SCHEMA)['required']]; properties: { name: typeof MODEL_NAME_SCHEMA } & (typeof MODEL_SPEC_SCHEMA)['properties'] }>
> = true;
export const batchingTypeIsTheSchema: Equals<BatchingConfig, FromSchema<typeof BATCHING_SCHEMA>> = true;
