/**
 * The one home of the MLModel spec schema (a pool entry is the same spec plus its name). From it come:
 * - the pool-file JSON Schema the runtime validates with ajv (poolSchema.ts, published as pool.schema.json),
 * - the MLModel CRD's `spec` openAPIV3Schema, CEL rules included (operator/api/crdSchemas.ts writes
 *   crds/ and the chart's copy: `npm run schemas:generate`),
 * - a compile-time check that the TypeScript types in types.ts are exactly what this schema accepts.
 * test/unit/operator/schemaDrift.test.ts fails when any of them disagrees with this file.
 *
 * The dialect is the JSON Schema both sides understand: type, properties, required, enum, pattern,
 * min/maxLength, minimum/maximum, items, min/maxItems, maxProperties, additionalProperties (as a map's value
 * schema), description, default; `uniqueItems` (a `set` list in the CRD) and `x-kubernetes-validations`
 * (CEL in the CRD; the same rule's `holds` in the runtime). Objects are closed in the pool file and pruned by
 * the API server.
 */

/** Model formats. A new engine's format is one more entry here, then `npm run schemas:generate`. */
export const FRAMEWORKS = ['tfjs-graph', 'tfjs-layers', 'onnx', 'apertium', 'pocketsphinx', 'nlpjs'] as const;
/** Which engine runs a model: `auto` prefers a verified native (ONNX) path and falls back to tfjs. */
export const BACKENDS = ['auto', 'tfjs', 'onnx'] as const;
export const COLOURS = ['rgb', 'bgr', 'grayscale'] as const;

/**
 * A rule across fields, written once: CEL for the API server, `holds` for the runtime. `holds` sees the
 * value as parsed, possibly wrong elsewhere (other keywords report that), so it checks types before it
 * reads and passes what it cannot judge.
 */
export interface CrossFieldRule {
  rule: string;
  message: string;
  /** Where the error points, relative to the object the rule sits on (CEL's fieldPath syntax). */
  fieldPath?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueRequired' | 'FieldValueForbidden' | 'FieldValueDuplicate';
  holds(self: Readonly<Record<string, unknown>>): boolean;
}

const numbers = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => typeof x === 'number');

/** Every cross-field rule, by name; the schema below places them. */
export const CROSS_FIELD_RULES = {
  httpNeedsDigest: {
    rule: "!self.uri.startsWith('http://') || has(self.sha256)",
    message: 'an http:// source must carry a sha256 digest (plain HTTP has no integrity of its own)',
    fieldPath: '.sha256',
    reason: 'FieldValueRequired',
    holds: (s) => typeof s.uri !== 'string' || !s.uri.startsWith('http://') || s.sha256 !== undefined,
  },
  shardPathLength: {
    rule: 'self.all(k, size(k) >= 1 && size(k) <= 1024)',
    message: 'shard paths must be 1 to 1024 characters long',
    holds: (s) => Object.keys(s).every((k) => [...k].length >= 1 && [...k].length <= 1024),
  },
  rangeIncreases: {
    rule: '!has(self.range) || self.range[0] < self.range[1]',
    message: 'range[0] must be less than range[1]',
    fieldPath: '.range',
    holds: (s) => !numbers(s.range) || s.range.length !== 2 || s.range[0]! < s.range[1]!,
  },
  meanFitsColour: {
    rule: "!has(self.mean) || size(self.mean) == 1 || size(self.mean) == (self.colour == 'grayscale' ? 1 : 3)",
    message: 'mean has one value, or one per channel of the colour (1 for grayscale, 3 for rgb and bgr)',
    fieldPath: '.mean',
    holds: (s) => !Array.isArray(s.mean) || s.mean.length === 1 || s.mean.length === (s.colour === 'grayscale' ? 1 : 3),
  },
  stdFitsColour: {
    rule: "!has(self.std) || size(self.std) == 1 || size(self.std) == (self.colour == 'grayscale' ? 1 : 3)",
    message: 'std has one value, or one per channel of the colour (1 for grayscale, 3 for rgb and bgr)',
    fieldPath: '.std',
    holds: (s) => !Array.isArray(s.std) || s.std.length === 1 || s.std.length === (s.colour === 'grayscale' ? 1 : 3),
  },
  stdNonZero: {
    rule: '!has(self.std) || self.std.all(s, s != 0.0)',
    message: 'std values must be non-zero',
    fieldPath: '.std',
    holds: (s) => !numbers(s.std) || s.std.every((x) => x !== 0),
  },
} satisfies Record<string, CrossFieldRule>;

export type CrossFieldRuleName = keyof typeof CROSS_FIELD_RULES;

/** The rule as the schema carries it (JSON, as the CRD writes it); `holds` is looked up by `rule`. */
function placed(name: CrossFieldRuleName): { readonly rule: string; readonly message: string; readonly fieldPath?: string; readonly reason?: string } {
  const { holds: _holds, ...json } = CROSS_FIELD_RULES[name] as CrossFieldRule;
  return json;
}

const SHA256 = { type: 'string', pattern: '^[A-Fa-f0-9]{64}$' } as const;

/** The MLModel spec: a pool entry minus its name. */
export const MODEL_SPEC_SCHEMA = {
  type: 'object',
  description: 'The model as the inference runtime loads it (the fields of a pool entry, minus its name).',
  required: ['task', 'framework', 'version', 'source'],
  properties: {
    task: {
      type: 'string',
      description:
        'What the model does, as <category>/<task>, e.g. vision/face-detection, vision/facial-expression, vision/object-detection. ' +
        'Which tasks exist is the task table\'s business, not the schema\'s.',
      maxLength: 128,
      pattern: '^[a-z]([a-z0-9-]*[a-z0-9])?/[a-z0-9]([a-z0-9-]*[a-z0-9])?$',
    },
    framework: { type: 'string', description: 'The format of the model files.', enum: FRAMEWORKS },
    version: {
      type: 'string',
      description: 'The model version; MLServices may pin it, and it appears in /v1/models/{name}/versions/{version}. Changing it rolls the Deployments that serve it.',
      maxLength: 64,
      pattern: '^[A-Za-z0-9][A-Za-z0-9._+-]*$',
    },
    backend: {
      type: 'string',
      description: 'Which engine runs the model; auto prefers a verified native (ONNX) path and falls back to tfjs.',
      enum: BACKENDS,
      default: 'auto',
    },
    source: {
      type: 'object',
      description: 'Where the runtime fetches the entry file (model.json or model.onnx) from.',
      required: ['uri'],
      properties: {
        uri: {
          type: 'string',
          description: 'https://, http:// (with a sha256), file:///<absolute path> or npm:<package>/<path> of the entry file. tfjs weight shards are resolved relative to the model JSON.',
          maxLength: 2048,
          pattern: '^(https?://[^\\s/]+/\\S*|file:///\\S+|npm:(@[a-z0-9][a-z0-9._~-]*/)?[a-z0-9][a-z0-9._~-]*/\\S+)$',
        },
        sha256: {
          type: 'string',
          description:
            'Hex sha256 of the entry file; the runtime refuses a file whose digest differs. Required for http:// sources. ' +
            'A pinned tfjs model.json must have every weight shard it names pinned in shards too.',
          pattern: SHA256.pattern,
        },
        shards: {
          type: 'object',
          description:
            'Hex sha256 of tfjs weight shards, keyed by their path as written in the model JSON\'s weightsManifest[].paths. ' +
            'Shards listed here are verified on every fetch; others are recorded on first fetch and verified from then on.',
          maxProperties: 4096,
          additionalProperties: SHA256,
          'x-kubernetes-validations': [placed('shardPathLength')],
        },
        allowedRedirectHosts: {
          type: 'array',
          description:
            'Hosts (host or host:port) a redirect of an http(s) source may lead to besides the source\'s own origin, ' +
            'e.g. the object store a CDN redirects to. Absent: same origin only.',
          maxItems: 64,
          uniqueItems: true,
          items: { type: 'string', maxLength: 261, pattern: '^(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)(:[0-9]{1,5})?$' },
        },
      },
      'x-kubernetes-validations': [placed('httpNeedsDigest')],
    },
    labels: {
      type: 'array',
      description:
        'Class names in the order of the model\'s output (e.g. the 7 FER2013 expressions; a text recogniser\'s CTC classes, the blank "" first); unique. Which may be blank is the task\'s rule.',
      maxItems: 16384,
      uniqueItems: true,
      items: { type: 'string', maxLength: 256 },
    },
    preprocessing: {
      type: 'object',
      description: 'How an input image is turned into the model\'s input tensor.',
      required: ['width', 'height', 'colour'],
      properties: {
        width: { type: 'integer', description: 'Model input width in pixels.', minimum: 1, maximum: 8192 },
        height: { type: 'integer', description: 'Model input height in pixels.', minimum: 1, maximum: 8192 },
        colour: { type: 'string', description: 'Colour layout the model expects.', enum: COLOURS },
        range: {
          type: 'array',
          description: 'Pixel values 0..255 are mapped linearly onto [range[0], range[1]] before mean/std.',
          minItems: 2,
          maxItems: 2,
          items: { type: 'number' },
        },
        grayscaleWeights: {
          type: 'array',
          description: 'Weights of R, G and B in the grey conversion when colour is grayscale (default: the ITU-R BT.601 luma weights 0.2989, 0.587, 0.114).',
          minItems: 3,
          maxItems: 3,
          items: { type: 'number', minimum: 0, maximum: 1 },
        },
        mean: {
          type: 'array',
          description: 'Per-channel mean subtracted after the range mapping: one value, or one per channel.',
          maxItems: 3,
          items: { type: 'number' },
        },
        std: {
          type: 'array',
          description: 'Per-channel standard deviation divided after the mean: one value, or one per channel; never 0.',
          maxItems: 3,
          items: { type: 'number' },
        },
      },
      'x-kubernetes-validations': [placed('rangeIncreases'), placed('meanFitsColour'), placed('stdFitsColour'), placed('stdNonZero')],
    },
    card: {
      type: 'object',
      description: 'The model\'s published features (model card).',
      properties: {
        description: { type: 'string', description: 'What the model does and how it was trained.', maxLength: 4096 },
        license: { type: 'string', description: 'Licence of the weights (SPDX identifier where one exists).', maxLength: 256 },
        origin: { type: 'string', description: 'Where the weights come from (project or paper URL).', maxLength: 2048 },
        authors: { type: 'string', description: 'Upstream authors credited for the model.', maxLength: 1024 },
        metrics: {
          type: 'array',
          description: 'Reference metrics published for the model.',
          maxItems: 64,
          items: {
            type: 'object',
            required: ['dataset', 'metric', 'value'],
            properties: {
              dataset: { type: 'string', description: 'Evaluation dataset, e.g. FER2013.', minLength: 1, maxLength: 256 },
              metric: { type: 'string', description: 'Metric name, e.g. accuracy.', minLength: 1, maxLength: 256 },
              value: { type: 'number', description: 'Published value of the metric.' },
              source: { type: 'string', description: 'Where the value was published.', maxLength: 2048 },
            },
          },
        },
      },
    },
  },
} as const;

/** A pool entry's name: the MLModel's metadata.name. */
export const MODEL_NAME_SCHEMA = {
  type: 'string',
  description: 'The MLModel\'s name: a DNS-1123 subdomain. It names the model in URLs and Kubernetes objects.',
  maxLength: 253,
  pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
} as const;

/** Server-side micro-batching: the pool file's `batching` and the MLService's `spec.batching`. */
export const BATCHING_SCHEMA = {
  type: 'object',
  description: 'Server-side micro-batching for models whose batch dimension is dynamic: requests arriving within maxDelayMs of the first run together, up to maxBatchSize rows.',
  required: ['maxBatchSize', 'maxDelayMs'],
  properties: {
    maxBatchSize: { type: 'integer', description: 'Largest batch handed to a model.', minimum: 1, maximum: 1024 },
    maxDelayMs: { type: 'number', description: 'Longest a request waits for a batch to fill, in milliseconds.', minimum: 0, maximum: 10000 },
  },
} as const;
