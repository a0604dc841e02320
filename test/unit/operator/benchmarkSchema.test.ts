// One wire shape for a model's benchmark: what the runtime measures, what the operator accepts from a pod,
// and what the MLModel CRD stores in status.benchmark.
import { expect } from 'chai';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import * as yaml from 'js-yaml';
import type { ModelBenchmark as SdkBenchmark } from '../../../clients/typescript/src/index.js';
import { MODEL_BENCHMARK_SCHEMA } from '../../../inference-runtime/core/benchmarkSchema.js';
import type { ModelBenchmark } from '../../../inference-runtime/core/registry.js';
import { benchmarkModel } from '../../../inference-runtime/core/loadBenchmark.js';
import { conforms, type ShapeSchema } from '../../../operator/api/jsonShape.js';
import { repoRoot } from '../../env/cacheLayout.js';

interface SchemaNode {
  type?: string;
  properties?: Record<string, SchemaNode>;
  additionalProperties?: boolean;
  required?: string[];
  [k: string]: unknown;
}

/** The CRD cannot say additionalProperties: false next to properties (structural schemas); it prunes instead. */
function structural(schema: SchemaNode): SchemaNode {
  const { additionalProperties: _drop, ...rest } = schema;
  if (rest.properties) rest.properties = Object.fromEntries(Object.entries(rest.properties).map(([k, v]) => [k, structural(v)]));
  return rest;
}

function crdBenchmarkItems(): SchemaNode {
  const crd = yaml.load(readFileSync(path.join(repoRoot, 'crds', 'mlmodels.mloffload.io.yaml'), 'utf8')) as {
    spec: { versions: { schema: { openAPIV3Schema: { properties: { status: { properties: { benchmark: { items: SchemaNode } } } } } } }[] };
  };
  return crd.spec.versions[0]!.schema.openAPIV3Schema.properties.status.properties.benchmark.items;
}

/** The client SDK's own copy of the type (it is a separate package) must stay the runtime's, both ways. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sdkTypeIsTheRuntimes: Same<SdkBenchmark, ModelBenchmark> = true;

describe('benchmark wire shape: runtime, operator, CRD and client SDK agree', () => {
  it('the SDK type equals the runtime type (checked by the compiler)', () => expect(sdkTypeIsTheRuntimes).to.equal(true));

  it("the CRD's status.benchmark items are the runtime's schema plus the operator's version, service and pod", () => {
    const items = crdBenchmarkItems();
    const runtime = structural(MODEL_BENCHMARK_SCHEMA as unknown as SchemaNode);
    const { version, service, pod, ...measured } = items.properties!;
    expect(measured).to.deep.equal(runtime.properties);
    expect(version).to.include({ type: 'string' });
    expect(service).to.include({ type: 'string' });
    expect(pod).to.include({ type: 'string' });
    expect(items.required).to.deep.equal([...runtime.required!, 'version']);
  });

  it('what the runtime measures fits the schema exactly (a new field fails here until schema and CRD follow)', async () => {
    const result = await benchmarkModel(
      {
        signature: { inputs: [{ name: 'x', dtype: 'float32', shape: [-1, 4] }], outputs: [{ name: 'y', dtype: 'float32', shape: [-1, 1] }] },
        run: async () => ({ y: { dtype: 'float32', shape: [1, 1], data: new Float32Array(1) } }),
        backend: 'test',
        runtimeVersion: '0.0.0',
        node: 'edge-0',
        threads: 1,
      },
      { iterations: 5, batchSize: 2, budgetMs: 200 },
    );
    const ajv = new Ajv2020({ strict: false });
    addFormats.default(ajv);
    const validate = ajv.compile(MODEL_BENCHMARK_SCHEMA);
    expect(validate(result), JSON.stringify(validate.errors)).to.equal(true);
    expect(conforms(MODEL_BENCHMARK_SCHEMA as ShapeSchema, result)).to.equal(true);
  });

  it("the operator's shape check agrees with ajv on generated documents", () => {
    const ajv = new Ajv2020({ strict: false });
    addFormats.default(ajv);
    const validate = ajv.compile(MODEL_BENCHMARK_SCHEMA);
    const good = {
      backend: 'onnx',
      runtimeVersion: '0.1.0',
      node: 'edge-0',
      measuredAt: '2026-11-30T11:00:00.000Z',
      iterations: 20,
      latencyMs: { p50: 1.2, p95: 2.5 },
      batchSize: 8,
      throughputPerSec: 900.5,
      threads: 2,
    };
    const value = fc.oneof(fc.string(), fc.double(), fc.integer({ min: -5, max: 5 }), fc.constant(null), fc.constant('2026-01-02T03:04:05Z'), fc.array(fc.integer(), { maxLength: 2 }), fc.constant({ p50: 1, p95: 2 }), fc.constant({ p50: 1 }));
    const mutated = fc.record({ drop: fc.subarray(Object.keys(good), { maxLength: 2 }), set: fc.dictionary(fc.constantFrom(...Object.keys(good), 'extra'), value, { maxKeys: 2 }) }).map(({ drop, set }) => {
      const doc: Record<string, unknown> = { ...good, ...set };
      for (const k of drop) delete doc[k];
      return doc;
    });
    fc.assert(
      fc.property(fc.oneof(mutated, fc.jsonValue()), (doc) => {
        expect(conforms(MODEL_BENCHMARK_SCHEMA as ShapeSchema, doc), JSON.stringify(doc)).to.equal(validate(doc));
      }),
      { numRuns: 500 },
    );
  });
});
