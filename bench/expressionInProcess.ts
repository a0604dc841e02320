/**
 * The in-process side of bench/v2.ts in a process of its own, so it can be pinned to the cores the server is
 * pinned to (`--pin`) while the load generator stays on the others. Same registry set-up as the server
 * (bench/predictServer.ts): facial-expression alone, engine `auto`, the default inference threads.
 *
 * Prints `{"event":"ready","threads":..,"backend":..}` once the model serves, then answers each stdin line
 * `{"concurrency":n,"seconds":s}` with one line holding the segment (latencies in ms, seconds, errors).
 *
 *   node --import tsx bench/expressionInProcess.ts <cache dir>
 */
import { FACIAL_EXPRESSION } from '../inference-runtime/config/defaultPool.js';
import type { NamedTensors } from '../inference-runtime/core/tensor.js';
import { createModelRegistry } from '../inference-runtime/dataplane/modelRegistry.js';
import { answerSegments, inProcessLoad } from './expressionLoad.js';

const cacheDir = process.argv[2];
const registry = createModelRegistry({ models: [FACIAL_EXPRESSION] }, { repository: cacheDir ? { cacheDir } : undefined });
await registry.whenSettled();
if (!registry.isReady()) {
  process.stderr.write(`${JSON.stringify(registry.list())}\n`);
  await registry.close();
  process.exit(1);
}
const model = registry.resolve(FACIAL_EXPRESSION.name);
const input = model.signature().inputs[0]!.name;
const infer = (tensors: NamedTensors): Promise<NamedTensors> => model.infer(tensors, { transfer: true });
process.stdout.write(`${JSON.stringify({ event: 'ready', threads: registry.executor.threads, backend: registry.list()[0]!.backend })}\n`);

await answerSegments((concurrency, seconds) => inProcessLoad(infer, input, concurrency, seconds));
await registry.close();
