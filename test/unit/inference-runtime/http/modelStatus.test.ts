import { expect } from 'chai';
import { ModelNotFound } from '../../../../inference-runtime/core/errors.js';
import type { ModelStatus } from '../../../../inference-runtime/core/registry.js';
import { modelMetadataResponse, modelStatusResponse } from '../../../../inference-runtime/http/tfserving/modelStatus.js';

const base = { task: 'vision/facial-expression', framework: 'tfjs-graph' as const };
const statuses: ModelStatus[] = [
  { ...base, name: 'facial-expression', version: '1', state: 'AVAILABLE' },
  { ...base, name: 'facial-expression', version: '2', state: 'UNAVAILABLE', reason: 'sha256 mismatch' },
  { ...base, name: 'other', version: '1', state: 'LOADING' },
];

describe('TF Serving model status and metadata', () => {
  it('lists every version of a model, a failed load as END with its reason', () => {
    expect(modelStatusResponse(statuses, 'facial-expression')).to.deep.equal({
      model_version_status: [
        { version: '1', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } },
        { version: '2', state: 'END', status: { error_code: 'UNAVAILABLE', error_message: 'sha256 mismatch' } },
      ],
    });
    expect(modelStatusResponse(statuses, 'other', '1').model_version_status).to.have.length(1);
  });

  it('throws ModelNotFound for an unknown model or version', () => {
    expect(() => modelStatusResponse(statuses, 'nope')).to.throw(ModelNotFound, 'Could not find any versions of model nope');
    expect(() => modelStatusResponse(statuses, 'other', '7')).to.throw(ModelNotFound, 'Could not find version 7 of model other');
  });

  it('publishes the signature as a TF Serving signature_def', () => {
    const metadata = modelMetadataResponse('facial-expression', '1', {
      inputs: [{ name: 'input_1:0', dtype: 'float32', shape: [-1, 64, 64, 1] }],
      outputs: [{ name: 'Identity:0', dtype: 'float32', shape: [-1, 7] }],
    });
    expect(metadata).to.deep.equal({
      model_spec: { name: 'facial-expression', signature_name: '', version: '1' },
      metadata: {
        signature_def: {
          signature_def: {
            serving_default: {
              inputs: {
                'input_1:0': {
                  dtype: 'DT_FLOAT',
                  tensor_shape: { dim: ['-1', '64', '64', '1'].map((size) => ({ size, name: '' })), unknown_rank: false },
                  name: 'input_1:0',
                },
              },
              outputs: {
                'Identity:0': {
                  dtype: 'DT_FLOAT',
                  tensor_shape: { dim: ['-1', '7'].map((size) => ({ size, name: '' })), unknown_rank: false },
                  name: 'Identity:0',
                },
              },
              method_name: 'tensorflow/serving/predict',
            },
          },
        },
      },
    });
  });
});
