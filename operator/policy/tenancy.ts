/**
 * What an MLService may ask of the cluster on its author's behalf. Whoever may create an MLService in a
 * namespace gets a pod the operator writes with the operator's rights; without a policy that pod could run
 * any image, mount any node directory writable, and schedule anywhere a toleration reaches. The policy
 * limits the pod to what the runtime needs: runtime images from an allow-list, a hostPath cache under one
 * prefix, and placement on the keys the admin allows. (Secrets are mounted by the keys the runtime reads
 * only; the Deployment builder does that, the key names are checked here.)
 *
 * Admission (CEL rules in crds/mlservices.mloffload.io.yaml) refuses what is wrong whatever the operator's
 * settings; this module decides what depends on them, and a violation leaves the MLService Degraded with
 * reason PolicyViolation and nothing applied.
 */
import type { MLService } from '../api/types.js';
import { EDGE_ROLE_LABEL } from '../builders/metadata.js';
import { imageAllowed, normaliseImagePattern, repositoryOf } from './imageReference.js';

export const POLICY_VIOLATION = 'PolicyViolation';
/** The model cache default of the CRD lives under it: /var/lib/mloffload/models. */
export const DEFAULT_HOST_PATH_PREFIX = '/var/lib/mloffload';
/** Placement keys an author may use by default: the edge role, which the operator already requires. */
export const DEFAULT_PLACEMENT_KEYS: readonly string[] = [EDGE_ROLE_LABEL];
/** Secret data keys (core/v1 validation): the same pattern guards spec.auth.apiKeySecretKey in the CRD. */
export const SECRET_KEY_PATTERN = '^[-._a-zA-Z0-9]+$';

export interface TenancySettings {
  /** Repositories (any tag/digest), `registry/path/*` prefixes, or `*`. Default: the runtime image's repository. */
  allowedImages?: readonly string[];
  /** hostPath caches must lie under it; '' forbids hostPath caches. Default /var/lib/mloffload. */
  hostPathPrefix?: string;
  /** Toleration keys an MLService may add: exact keys, `prefix*`, or `*`. Default: the edge role. */
  allowedTolerationKeys?: readonly string[];
  /** nodeSelector keys an MLService may add, same forms. Default: the edge role. */
  allowedNodeSelectorKeys?: readonly string[];
}

export interface TenancyPolicy {
  allowedImages: readonly string[];
  /** Normalised; undefined when hostPath caches are forbidden. */
  hostPathPrefix?: string;
  allowedTolerationKeys: readonly string[];
  allowedNodeSelectorKeys: readonly string[];
}

export interface PolicyViolation {
  /** The offending field, e.g. spec.placement.tolerations[1].key. */
  field: string;
  message: string;
}

/** An absolute path in normal form: no empty, `.` or `..` segment, no trailing slash (except `/`). */
export function isNormalisedAbsolutePath(p: string): boolean {
  if (!p.startsWith('/') || p.includes('\0')) return false;
  if (p === '/') return true;
  return p
    .slice(1)
    .split('/')
    .every((seg) => seg !== '' && seg !== '.' && seg !== '..');
}

/** Whether the normalised `path` is `prefix` or below it. */
export function isUnderPrefix(path: string, prefix: string): boolean {
  return prefix === '/' || path === prefix || path.startsWith(`${prefix}/`);
}

function normaliseKeyPattern(p: string, what: string): string {
  const k = p.trim();
  // A key is at most a 253-character DNS prefix, a slash and a 63-character name.
  if (!/^(\*|[A-Za-z0-9][-A-Za-z0-9_./]{0,316}\*?)$/.test(k)) throw new Error(`${what}: not a key or key pattern: ${JSON.stringify(p)}`);
  return k;
}

export function keyAllowed(key: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => p === '*' || p === key || (p.endsWith('*') && key.startsWith(p.slice(0, -1))));
}

/** The policy from operator settings; throws on a setting that cannot be meant (a typo must not open it up). */
export function tenancyPolicy(settings: TenancySettings, runtimeImage: string): TenancyPolicy {
  const defaultRepo = repositoryOf(runtimeImage);
  if (!defaultRepo) throw new Error(`runtime image: not an image reference: ${JSON.stringify(runtimeImage)}`);
  const allowedImages = (settings.allowedImages ?? [defaultRepo]).map((p) => {
    const n = normaliseImagePattern(p);
    if (!n) throw new Error(`allowed images: not a repository, repository/* prefix or *: ${JSON.stringify(p)}`);
    return n;
  });
  const prefixSetting = settings.hostPathPrefix ?? DEFAULT_HOST_PATH_PREFIX;
  let hostPathPrefix: string | undefined;
  if (prefixSetting !== '') {
    if (!isNormalisedAbsolutePath(prefixSetting)) throw new Error(`host path prefix: not a normalised absolute path: ${JSON.stringify(prefixSetting)}`);
    hostPathPrefix = prefixSetting;
  }
  return {
    allowedImages,
    ...(hostPathPrefix !== undefined ? { hostPathPrefix } : {}),
    allowedTolerationKeys: (settings.allowedTolerationKeys ?? DEFAULT_PLACEMENT_KEYS).map((k) => normaliseKeyPattern(k, 'allowed toleration keys')),
    allowedNodeSelectorKeys: (settings.allowedNodeSelectorKeys ?? DEFAULT_PLACEMENT_KEYS).map((k) => normaliseKeyPattern(k, 'allowed node-selector keys')),
  };
}

const list = (xs: readonly string[]) => (xs.length ? xs.join(', ') : 'none');

/** Every way `svc` asks for more than `policy` allows (empty when it complies). */
export function checkTenancy(svc: MLService, policy: TenancyPolicy): PolicyViolation[] {
  const out: PolicyViolation[] = [];
  const spec = svc.spec;
  if (spec.image !== undefined && !imageAllowed(spec.image, policy.allowedImages)) {
    out.push({ field: 'spec.image', message: `image ${JSON.stringify(spec.image)} is not in the operator's allowed runtime images (${list(policy.allowedImages)})` });
  }
  const cache = spec.modelCache;
  if (!cache?.emptyDir) {
    // No cache setting means the CRD's default hostPath: the same rule applies to it.
    const path = cache?.hostPath?.path;
    if (policy.hostPathPrefix === undefined) {
      out.push({ field: 'spec.modelCache.hostPath', message: 'hostPath model caches are not allowed by the operator; use modelCache.emptyDir' });
    } else if (path !== undefined && !isNormalisedAbsolutePath(path)) {
      out.push({ field: 'spec.modelCache.hostPath.path', message: `host path ${JSON.stringify(path)} is not a normalised absolute path` });
    } else if (path !== undefined && !isUnderPrefix(path, policy.hostPathPrefix)) {
      out.push({ field: 'spec.modelCache.hostPath.path', message: `host path ${JSON.stringify(path)} is not under the allowed prefix ${policy.hostPathPrefix}` });
    }
  }
  const secretKey = spec.auth?.apiKeySecretKey;
  if (secretKey !== undefined && (!new RegExp(SECRET_KEY_PATTERN).test(secretKey) || secretKey === '.' || secretKey === '..')) {
    out.push({ field: 'spec.auth.apiKeySecretKey', message: `${JSON.stringify(secretKey)} is not a Secret key` });
  }
  (spec.placement?.tolerations ?? []).forEach((t, i) => {
    const key = t.key ?? '';
    // An empty key with operator Exists tolerates every taint: only a `*` policy allows it.
    const allowed = key === '' ? policy.allowedTolerationKeys.includes('*') : keyAllowed(key, policy.allowedTolerationKeys);
    if (!allowed) {
      out.push({
        field: `spec.placement.tolerations[${i}].key`,
        message: `toleration of ${key === '' ? 'every taint (no key)' : `taint key ${JSON.stringify(key)}`} is not allowed (allowed keys: ${list(policy.allowedTolerationKeys)})`,
      });
    }
  });
  for (const key of Object.keys(spec.placement?.nodeSelector ?? {})) {
    if (!keyAllowed(key, policy.allowedNodeSelectorKeys)) {
      out.push({ field: `spec.placement.nodeSelector[${JSON.stringify(key)}]`, message: `node label key ${JSON.stringify(key)} is not allowed (allowed keys: ${list(policy.allowedNodeSelectorKeys)})` });
    }
  }
  return out;
}

/** One condition message naming each field and the rule it breaks. */
export function describeViolations(violations: readonly PolicyViolation[]): string {
  return `${violations.map((v) => `${v.field}: ${v.message}`).join('; ')}. Nothing was applied; the running pods, if any, keep the last applied spec.`;
}
