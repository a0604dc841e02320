/**
 * The runtime's HTTP server over a pool holding only facial-expression, for bench/predict.ts: the same app,
 * server and registry as `main`, without the other models' load time. Prints one JSON line when ready.
 */
import { Registry } from 'prom-client';
import { FACIAL_EXPRESSION } from '../inference-runtime/config/defaultPool.js';
import { createModelRegistry } from '../inference-runtime/dataplane/modelRegistry.js';
import { createApp } from '../inference-runtime/http/app.js';
import { startServer } from '../inference-runtime/server.js';
import type { BackendPreference } from '../inference-runtime/config/types.js';

const cacheDir = process.argv[2];
const backend = (process.argv[3] ?? 'auto') as BackendPreference;
const onnxMemoryArena = process.argv.includes('--onnx-memory-arena');
const registry = createModelRegistry({ models: [{ ...FACIAL_EXPRESSION, backend }] }, { repository: cacheDir ? { cacheDir } : undefined, backendOptions: { onnxMemoryArena } });
const app = createApp({ registry, metrics: new Registry(), queueDepth: () => registry.queueDepth() });
const server = await startServer(app.callback(), { port: 0, host: '127.0.0.1' });
await registry.whenSettled();
if (!registry.isReady()) {
  process.stderr.write(`${JSON.stringify(registry.list())}\n`);
  process.exitCode = 1;
  await server.close();
  await registry.close();
} else {
  process.stdout.write(`${JSON.stringify({ event: 'ready', url: server.url, threads: registry.executor.threads, backend: registry.list()[0]!.backend })}\n`);
  process.once('SIGTERM', () => {
    void server.close().then(() => registry.close());
  });
}
