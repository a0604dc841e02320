import type { V1ConfigMap } from '@kubernetes/client-node';
import type { MLModel, MLService } from '../api/types.js';
import { childMeta } from './metadata.js';
import { POOL_FILE, poolConfigFor, renderPool } from './poolConfig.js';

/** The ConfigMap holding the runtime's pool file. */
export function configMapFor(svc: MLService, models: MLModel[]): V1ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: childMeta(svc),
    data: { [POOL_FILE]: renderPool(poolConfigFor(svc, models)) },
  };
}
