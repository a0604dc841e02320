import type { ModelSignature } from '../../core/backend.js';
import { ModelNotFound } from '../../core/errors.js';
import type { ModelState, ModelStatus } from '../../core/registry.js';
import type { TensorSpec } from '../../core/tensor.js';
import { DEFAULT_SIGNATURE, TF_DTYPE } from './jsonTensor.js';

/** GetModelStatusResponse as TF Serving's REST API prints it. */
export interface ModelStatusResponse {
  model_version_status: Array<{
    version: string;
    state: TfServingState;
    status: { error_code: string; error_message: string };
  }>;
}

/** TF Serving's ModelVersionStatus.State values. */
export type TfServingState = 'UNKNOWN' | 'START' | 'LOADING' | 'AVAILABLE' | 'UNLOADING' | 'END';

/**
 * Status of every version of a model, or of one version. A model that failed to fetch or load is reported
 * the way TF Serving reports a failed load: state END with an error code and the reason, because TF
 * Serving clients only know its six states; the pool listing shows our own UNAVAILABLE state.
 */
export function modelStatusResponse(statuses: readonly ModelStatus[], name: string, version?: string): ModelStatusResponse {
  const ofModel = statuses.filter((s) => s.name === name);
  if (ofModel.length === 0) throw new ModelNotFound(`Could not find any versions of model ${name}`);
  const selected = version === undefined ? ofModel : ofModel.filter((s) => s.version === version);
  if (selected.length === 0) throw new ModelNotFound(`Could not find version ${version} of model ${name}`);
  return {
    model_version_status: selected.map((s) => {
      const failed = s.state === 'UNAVAILABLE';
      return {
        version: s.version,
        state: tfServingState(s.state),
        status: failed ? { error_code: 'UNAVAILABLE', error_message: s.reason ?? 'the model could not be loaded' } : { error_code: 'OK', error_message: '' },
      };
    }),
  };
}

function tfServingState(state: ModelState): TfServingState {
  return state === 'UNAVAILABLE' ? 'END' : state;
}

interface TensorInfoJson {
  dtype: string;
  tensor_shape: { dim: Array<{ size: string; name: string }>; unknown_rank: boolean };
  name: string;
}

/**
 * GetModelMetadataResponse with the `signature_def` metadata, as TF Serving's REST API prints it, plus a
 * `backend` entry naming the engine that serves the model (TF Serving clients read `signature_def` only).
 */
export function modelMetadataResponse(name: string, version: string, signature: ModelSignature, backend?: { name: string; note?: string }): object {
  return {
    model_spec: { name, signature_name: '', version },
    metadata: {
      signature_def: {
        signature_def: {
          [DEFAULT_SIGNATURE]: {
            inputs: tensorInfoMap(signature.inputs),
            outputs: tensorInfoMap(signature.outputs),
            method_name: 'tensorflow/serving/predict',
          },
        },
      },
      ...(backend ? { backend } : {}),
    },
  };
}

function tensorInfoMap(specs: readonly TensorSpec[]): Record<string, TensorInfoJson> {
  const map: Record<string, TensorInfoJson> = {};
  for (const spec of specs) {
    map[spec.name] = {
      dtype: TF_DTYPE[spec.dtype],
      // int64 fields print as strings in proto3 JSON, hence "size": "-1".
      tensor_shape: { dim: spec.shape.map((size) => ({ size: String(size), name: '' })), unknown_rank: false },
      name: spec.name,
    };
  }
  return map;
}
