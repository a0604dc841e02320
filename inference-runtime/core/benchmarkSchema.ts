/**
 * The wire shape of a model's measured benchmark (`ModelBenchmark`), as JSON Schema: the one description
 * that the runtime's output, the operator's reading of it and the MLModel CRD's `status.benchmark` items
 * are checked against (test/unit/operator/benchmarkSchema.test.ts).
 */
export const MODEL_BENCHMARK_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['backend', 'runtimeVersion', 'node', 'measuredAt', 'iterations', 'latencyMs', 'batchSize', 'throughputPerSec', 'threads'],
  properties: {
    backend: { type: 'string', maxLength: 256, description: 'Engine that ran the model (e.g. tfjs-wasm, onnx (compiled from tfjs-graph)).' },
    runtimeVersion: { type: 'string', maxLength: 64, description: 'Version of the inference runtime that measured.' },
    node: { type: 'string', maxLength: 253, description: 'Node the measurement ran on.' },
    measuredAt: { type: 'string', format: 'date-time', description: 'When the measurement was taken.' },
    iterations: { type: 'integer', minimum: 0, description: 'Single (batch 1) inferences timed for the latency percentiles.' },
    latencyMs: {
      type: 'object',
      additionalProperties: false,
      required: ['p50', 'p95'],
      description: 'Latency percentiles of single inferences, in milliseconds.',
      properties: {
        p50: { type: 'number', minimum: 0 },
        p95: { type: 'number', minimum: 0 },
      },
    },
    batchSize: { type: 'integer', minimum: 1, description: 'Rows per inference in the throughput run (above 1 only with a dynamic batch dimension).' },
    throughputPerSec: { type: 'number', minimum: 0, description: 'Rows per second with every inference thread busy.' },
    threads: { type: 'integer', minimum: 0, description: 'Inference threads the throughput run used.' },
  },
} as const;
