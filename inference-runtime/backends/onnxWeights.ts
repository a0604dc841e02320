import onnxProto from 'onnx-proto';
import type { EngineMemory } from '../core/backend.js';

/**
 * The weights (initializers) an ONNX model carries: how many, and their bytes. onnxruntime does not report
 * its memory, so the backend counts what it gave the engine, the way tfjs counts a model's weight tensors.
 */
export function countInitializers(bytes: Uint8Array): EngineMemory {
  const graph = onnxProto.onnx.ModelProto.decode(bytes).graph;
  let numBytes = 0;
  for (const t of graph?.initializer ?? []) {
    if (t.rawData?.length) numBytes += t.rawData.length;
    else numBytes += 4 * ((t.floatData?.length ?? 0) + (t.int32Data?.length ?? 0)) + 8 * ((t.int64Data?.length ?? 0) + (t.doubleData?.length ?? 0));
  }
  return { numTensors: graph?.initializer?.length ?? 0, numBytes };
}
