/** The runtime's pool file rendered from the MLModels an MLService references, and its content hash. */
import { createHash } from 'node:crypto';
import { dump } from 'js-yaml';
import type { PoolConfig, PoolModel } from '../../inference-runtime/config/types.js';
import type { MLModel, MLService } from '../api/types.js';

export const POOL_FILE = 'pool.yaml';

/**
 * A pool entry is the MLModel's spec plus its name, field for field (one schema for both): copied whole, so a
 * field the schema gains reaches the runtime without an edit here. The API server has pruned unknown fields.
 */
export function poolModelFor(model: MLModel): PoolModel {
  return { name: model.metadata.name, ...structuredClone(model.spec) };
}

/** `models` must be the MLModels named in svc.spec.models; entries follow the order of the spec. */
export function poolConfigFor(svc: MLService, models: MLModel[]): PoolConfig {
  const byName = new Map(models.map((m) => [m.metadata.name, m]));
  const pool: PoolConfig = {
    models: svc.spec.models.map((ref) => {
      const m = byName.get(ref.name);
      if (!m) throw new Error(`MLModel ${ref.name} missing from the pool input`);
      return poolModelFor(m);
    }),
  };
  if (svc.spec.batching) pool.batching = { maxBatchSize: svc.spec.batching.maxBatchSize, maxDelayMs: svc.spec.batching.maxDelayMs };
  return pool;
}

export function renderPool(pool: PoolConfig): string {
  return dump(pool, { noRefs: true, lineWidth: 120 });
}

export function contentHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}
