import type { ModelSignature } from '../../backends/backend.js';
import type { Framework } from '../../config/types.js';
import { runtimeVersion } from '../../core/runtimeInfo.js';
import type { TensorSpec } from '../../core/tensor.js';
import { V2_DATATYPE_OF, type V2Datatype } from './datatypes.js';

/** Protocol extensions this server implements, as `GET /v2` lists them. */
export const V2_EXTENSIONS = ['binary_tensor_data'] as const;

export function serverMetadata(): { name: string; version: string; extensions: string[] } {
  return { name: 'mloffload', version: runtimeVersion(), extensions: [...V2_EXTENSIONS] };
}

/**
 * The `platform` of a model, named as Triton names the formats it shares with this runtime; a framework
 * without a Triton counterpart (a process engine) is named as the pool names it.
 */
const PLATFORM: Readonly<Partial<Record<Framework, string>>> = {
  onnx: 'onnxruntime_onnx',
  'tfjs-graph': 'tensorflowjs_graph',
  'tfjs-layers': 'tensorflowjs_layers',
};

interface TensorMetadata {
  name: string;
  datatype: V2Datatype;
  shape: number[];
}

/** Model metadata: its versions in the pool, its platform, and its tensors with V2 datatypes (-1: any size). */
export function modelMetadata(name: string, versions: string[], framework: Framework, signature: ModelSignature): object {
  return {
    name,
    versions,
    platform: PLATFORM[framework] ?? framework,
    inputs: signature.inputs.map(tensorMetadata),
    outputs: signature.outputs.map(tensorMetadata),
  };
}

function tensorMetadata(spec: TensorSpec): TensorMetadata {
  return { name: spec.name, datatype: V2_DATATYPE_OF[spec.dtype], shape: spec.shape };
}
