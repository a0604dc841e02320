/** The runtime's pool file rendered from the MLModels an MLService references, and its content hash. */
import { createHash } from 'node:crypto';
import { dump } from 'js-yaml';
import type { PoolConfig, PoolModel } from '../../inference-runtime/config/types.js';
import type { MLModel, MLService } from '../api/types.js';

export const POOL_FILE = 'pool.yaml';

export function poolModelFor(model: MLModel): PoolModel {
  const s = model.spec;
  const entry: PoolModel = { name: model.metadata.name, task: s.task, framework: s.framework, version: s.version, source: { uri: s.source.uri } };
  if (s.source.sha256) entry.source.sha256 = s.source.sha256;
  if (s.source.shards) entry.source.shards = { ...s.source.shards };
  if (s.source.allowedRedirectHosts) entry.source.allowedRedirectHosts = [...s.source.allowedRedirectHosts];
  if (s.labels) entry.labels = [...s.labels];
  if (s.preprocessing) entry.preprocessing = s.preprocessing;
  if (s.card) entry.card = s.card;
  if (s.backend) entry.backend = s.backend;
  return entry;
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
