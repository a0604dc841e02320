/**
 * The parts of the CRDs that are generated, not written: the MLModel's `spec` (from the runtime's
 * modelSpec.schema.ts), its `status.benchmark` items (the runtime's ModelBenchmark schema plus where the
 * operator read it) and the MLService's `spec.batching` (the pool file's batching). The rest of each CRD file
 * (names, printer columns, conditions, the MLService's own fields and CEL rules) is written in crds/*.yaml.
 * `npm run schemas:generate` rewrites those blocks; test/unit/operator/schemaDrift.test.ts fails when they differ.
 */
import { dump } from 'js-yaml';
import { MODEL_BENCHMARK_SCHEMA } from '../../inference-runtime/core/benchmarkSchema.js';
import { BATCHING_SCHEMA, MODEL_SPEC_SCHEMA } from '../../inference-runtime/config/modelSpec.schema.js';

type Node = Readonly<Record<string, unknown>>;

/** Entries kept per model in status.benchmark (operator/reconcile/benchmarks.ts keeps the newest). */
export const MAX_BENCHMARK_ENTRIES = 16;

/** What the operator adds to a runtime's measurement in MLModel status.benchmark (operator/reconcile/benchmarks.ts). */
export const BENCHMARK_ORIGIN_SCHEMA = {
  type: 'object',
  required: ['version'],
  properties: {
    version: { type: 'string', maxLength: 128, description: 'Model version measured (spec.version at the time).' },
    service: { type: 'string', maxLength: 253, description: 'MLService whose runtime pod measured.' },
    pod: { type: 'string', maxLength: 253, description: 'Runtime pod that measured.' },
  },
} as const;

/**
 * The dialect of modelSpec.schema.ts as a structural schema: a unique list becomes a `set` list (the API
 * server refuses `uniqueItems`), and `additionalProperties: false` goes (the API server prunes instead).
 */
export function structural(node: Node): Node {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'uniqueItems') continue;
    if (key === 'additionalProperties' && value === false) continue;
    if (key === 'properties') {
      out.properties = Object.fromEntries(Object.entries(value as Record<string, Node>).map(([k, v]) => [k, structural(v)]));
    } else if ((key === 'items' || key === 'additionalProperties') && typeof value === 'object' && value !== null) {
      out[key] = structural(value as Node);
    } else {
      out[key] = Array.isArray(value) ? value.map((v: unknown) => (typeof v === 'object' && v !== null ? { ...v } : v)) : value;
    }
  }
  if (node.uniqueItems === true) out['x-kubernetes-list-type'] = 'set';
  return out;
}

export function mlModelSpecSchema(): Node {
  return structural(MODEL_SPEC_SCHEMA);
}

export function benchmarkEntrySchema(): Node {
  const measured = structural(MODEL_BENCHMARK_SCHEMA);
  const origin = structural(BENCHMARK_ORIGIN_SCHEMA);
  return {
    type: 'object',
    description: "One measurement: the runtime's figures (the wire shape of its model listing) plus the model version, MLService and pod they came from.",
    required: [...(measured.required as string[]), ...(origin.required as string[])],
    properties: { ...(measured.properties as object), ...(origin.properties as object) },
  };
}

/** status.benchmark: newest first, one entry per node, as many as the operator keeps. */
export function benchmarkListSchema(): Node {
  return {
    type: 'array',
    maxItems: MAX_BENCHMARK_ENTRIES,
    description:
      'Latency and throughput measured by runtime pods after warm-up, newest first, one entry per node (read by the operator from the pods\' GET /v1/discovery).',
    items: benchmarkEntrySchema(),
  };
}

export function mlServiceBatchingSchema(): Node {
  return structural(BATCHING_SCHEMA);
}

/** The generated blocks a CRD file may hold, by the name its markers carry. */
export const GENERATED_BLOCKS: Readonly<Record<string, { key: string; from: string; schema: () => Node }>> = {
  'mlmodel-spec': { key: 'spec', from: 'inference-runtime/config/modelSpec.schema.ts', schema: mlModelSpecSchema },
  'mlmodel-status-benchmark': { key: 'benchmark', from: 'inference-runtime/core/benchmarkSchema.ts and operator/api/crdSchemas.ts', schema: benchmarkListSchema },
  'mlservice-spec-batching': { key: 'batching', from: 'inference-runtime/config/modelSpec.schema.ts', schema: mlServiceBatchingSchema },
};

const BLOCK = /^( *)# generated: ([a-z-]+)\b.*\n(?:.*\n)*?\1# end generated: \2\n/gm;

/**
 * A CRD file's text with each generated block (between `# generated: <name>` and `# end generated: <name>`
 * at the key's indentation) replaced by what its source says; everything else, comments included, is left
 * as written. The same text when nothing changed.
 */
export function renderCrd(text: string): string {
  return text.replace(BLOCK, (_whole, indent: string, name: string) => {
    const block = GENERATED_BLOCKS[name];
    if (!block) throw new Error(`unknown generated block ${name}`);
    const body = dump({ [block.key]: block.schema() }, { noRefs: true, lineWidth: Math.max(60, 120 - indent.length), quoteStyle: 'double' })
      .trimEnd()
      .split('\n')
      .map((line) => indent + line)
      .join('\n');
    return `${indent}# generated: ${name} from ${block.from} by \`npm run schemas:generate\`: do not edit by hand\n${body}\n${indent}# end generated: ${name}\n`;
  });
}
