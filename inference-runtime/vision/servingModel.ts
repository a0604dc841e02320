import type { Preprocessing } from '../config/types.js';
import type { ServingModel } from '../core/registry.js';
import type { TensorSpec } from '../core/tensor.js';

/** How a response names the model that answered. */
export interface ModelInfo {
  name: string;
  version: string;
  task: string;
  backend: string;
}

export function modelInfo(model: ServingModel): ModelInfo {
  return { name: model.name, version: model.version, task: model.config.task, backend: model.status().backend ?? 'unknown' };
}

/** The image input of a model: its single NHWC input. */
export function imageInput(model: ServingModel): TensorSpec {
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
export function preprocessingOf(model: ServingModel, fallback: Omit<Preprocessing, 'width' | 'height'>): Preprocessing {
  if (model.config.preprocessing) return model.config.preprocessing;
  const [, height, width] = imageInput(model).shape;
  if (!(height > 0 && width > 0)) throw new TypeError(`model ${model.name} declares no input size and its entry has no preprocessing`);
  return { ...fallback, width, height };
}

/** True when the model takes several images per call (batch dimension unknown or larger than 1). */
export function acceptsBatches(model: ServingModel): boolean {
  const batch = imageInput(model).shape[0];
  return batch === -1 || batch > 1;
}
