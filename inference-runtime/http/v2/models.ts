import { ModelNotFound, NotReady } from '../../core/errors.js';
import type { ModelRegistry, ServingModel } from '../../core/registry.js';

/**
 * What the V2 routes need from the runtime: the registry's lookup, listing and readiness. Kept this narrow so
 * the routes move onto the runtime's data plane by changing what satisfies it, not the routes.
 */
export type V2ModelSource = Pick<ModelRegistry, 'resolve' | 'list' | 'isReady'>;

/**
 * The V2 view of a model lookup, with Triton's wording for an unknown model or version. The registry answers
 * the lookup; the pool's listing is read only to word a failure, not on every request.
 */
export function findModel(source: V2ModelSource, name: string, version?: string): ServingModel {
  try {
    return source.resolve(name, version);
  } catch (error) {
    if (!(error instanceof ModelNotFound)) throw error;
    if (version === undefined || modelVersions(source, name).length === 0) throw new ModelNotFound(`Request for unknown model: '${name}' is not found`, { name });
    throw new ModelNotFound(`Request for unknown model: '${name}' version ${version} is not found`, { name, version });
  }
}

/** The versions of a model the pool holds. */
export function modelVersions(source: V2ModelSource, name: string): string[] {
  return source
    .list()
    .filter((s) => s.name === name)
    .map((s) => s.version);
}

/** Throws NotReady (503) unless the model serves now. */
export function assertModelReady(model: ServingModel): void {
  const { state, reason } = model.status();
  if (state !== 'AVAILABLE') {
    throw new NotReady(`model '${model.name}' version ${model.version} is not ready: ${state}${reason ? ` (${reason})` : ''}`);
  }
}
