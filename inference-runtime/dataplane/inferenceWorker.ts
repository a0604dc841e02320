/**
 * Entry of an inference worker thread: a ModelHost driven by messages from the worker pool. Each worker
 * runs its own engines (one WASM instance, one onnxruntime session per model), which is how inference uses
 * more than one core.
 */
import { parentPort, threadId, workerData } from 'node:worker_threads';
import { BackendSet, defaultBackendFactories } from '../backends/backendSelection.js';
import { loadAllocatorTrim, type AllocatorTrim } from '../core/allocatorTrim.js';
import { fullGarbageCollector } from '../core/garbageCollector.js';
import { lowerThreadPriority } from '../core/threadPriority.js';
import { ModelHost } from './modelHost.js';
import type { NamedTensors } from '../core/tensor.js';
import { toWire } from '../core/wireErrors.js';
import { transferables, type WorkerInit, type WorkerReply, type WorkerRequest, type WorkerResult } from './workerProtocol.js';

const port = parentPort;
if (!port) throw new Error('inferenceWorker.ts runs as a worker thread only');
const init = workerData as WorkerInit;
// Before any engine starts, so that onnxruntime's intra-op threads inherit it.
const priority = lowerThreadPriority(init.nice);
const host = new ModelHost(new BackendSet(defaultBackendFactories(init.backendOptions)));
/** Loaded at the first memory release. */
let release: { allocator: AllocatorTrim; collect: () => void } | undefined;

async function handle(msg: WorkerRequest): Promise<WorkerResult> {
  switch (msg.op) {
    case 'load':
      return host.load(msg.key, msg.model, msg.files, msg.plan);
    case 'unload':
      await host.unload(msg.key);
      return null;
    case 'infer':
      return host.infer(msg.key, msg.inputs);
    case 'stats':
      return host.stats(init.name, threadId, priority);
    case 'releaseMemory':
      // This thread's dead tensors (among them inputs the event loop allocated, in the event loop's arena) are
      // freed by this thread's collection only; the release then returns this thread's arena top too.
      release ??= { allocator: loadAllocatorTrim(), collect: fullGarbageCollector() };
      release.allocator.release(release.collect);
      return null;
    case 'close':
      await host.close();
      return null;
  }
}

port.on('message', (msg: WorkerRequest) => {
  handle(msg).then(
    (result) => {
      const reply: WorkerReply = { id: msg.id, ok: true, result };
      const transfer = msg.op === 'infer' ? transferables(result as NamedTensors) : [];
      port.postMessage(reply, transfer);
      if (msg.op === 'close') port.close();
    },
    (err: unknown) => {
      const reply: WorkerReply = { id: msg.id, ok: false, error: toWire(err) };
      port.postMessage(reply);
    },
  );
});
