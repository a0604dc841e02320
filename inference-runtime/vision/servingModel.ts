import type { ModelSignature } from '../core/backend.js';
import type { PoolModel, Preprocessing } from '../config/types.js';
import type { TensorSpec } from '../core/tensor.js';

/** What the image helpers read of a model: a serving model, or a model being checked at load. */
export interface ImageModel {
  readonly config: PoolModel;
  readonly name: string;
  signature(): ModelSignature;
}

/** The image input of a model: its single NHWC input. */
export function imageInput(model: ImageModel): TensorSpec {
  const inputs = model.signature().inputs;
  if (inputs.length !== 1 || inputs[0].shape.length !== 4) {
    const shapes = inputs.map((i) => `${i.name} [${i.shape.join(', ')}]`).join(', ');
    throw new TypeError(`model ${model.name} takes ${shapes}; an image task needs one NHWC input`);
  }
  return inputs[0];
}

/**
 * The model's preprocessing from its pool entry; where the entry is silent, the input size comes from the
 * signature and the colour and value range from the task's reference pipeline (`fallback`).
 */
export function preprocessingOf(model: ImageModel, fallback: Omit<Preprocessing, 'width' | 'height'>): Preprocessing {
  if (model.config.preprocessing) return model.config.preprocessing;
  const [, height, width] = imageInput(model).shape;
  if (!(height > 0 && width > 0)) throw new TypeError(`model ${model.name} declares no input size and its entry has no preprocessing`);
  return Object.assign({}, fallback, { width, height });
}

/** True when the model takes several images per call (batch dimension unknown or larger than 1). */
export function acceptsBatches(model: ImageModel): boolean {
  const batch = imageInput(model).shape[0];
  return batch === -1 || batch > 1;
}
