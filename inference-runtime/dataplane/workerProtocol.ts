import type { LoadPlan, ModelFiles } from '../core/backend.js';
import type { BackendOptions } from '../backends/backendSelection.js';
import type { PoolModel } from '../config/types.js';
import type { EngineStats, HostedModelInfo } from './modelHost.js';
import type { NamedTensors } from '../core/tensor.js';
import type { WireError } from '../core/wireErrors.js';

/** Messages between the worker pool (main thread) and an inference worker. */
export type WorkerRequest =
  | { id: number; op: 'load'; key: string; model: PoolModel; files: ModelFiles; plan: LoadPlan }
  | { id: number; op: 'unload'; key: string }
  | { id: number; op: 'infer'; key: string; inputs: NamedTensors }
  | { id: number; op: 'stats' }
  | { id: number; op: 'releaseMemory' }
  | { id: number; op: 'close' };

/** A request before the pool numbers it. */
export type WorkerCall = WorkerRequest extends infer R ? (R extends WorkerRequest ? Omit<R, 'id'> : never) : never;

export type WorkerResult = HostedModelInfo | NamedTensors | EngineStats | null;

export type WorkerReply = { id: number; ok: true; result: WorkerResult } | { id: number; ok: false; error: WireError };

export interface WorkerInit {
  name: string;
  backendOptions: BackendOptions;
  /** Nice steps the worker runs below the event loop (core/threadPriority.ts). */
  nice: number;
}

/** Buffers a message may hand over without copying: whole, unshared ArrayBuffers only. */
export function transferables(tensors: NamedTensors): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  for (const t of Object.values(tensors)) {
    if (Array.isArray(t.data)) continue;
    const view = t.data as ArrayBufferView;
    const buf = view.buffer;
    if (buf instanceof ArrayBuffer && view.byteOffset === 0 && view.byteLength === buf.byteLength) out.add(buf);
  }
  return [...out];
}
