/**
 * Which engine serves a model, decided once per model in the main thread before any inference thread loads
 * it. For a tfjs graph model that may run compiled, this is where it is compiled to ONNX and verified
 * against tfjs (`compileAndVerify`); the threads then only open the verified file, so they never race on
 * the cache or repeat the work.
 */
import type { BackendPreference, PoolModel } from '../config/types.js';
import type { CompileAndVerifyResult } from '../compiler/verify.js';
import type { CompilationStatus, LoadPlan, ModelFiles } from '../core/backend.js';

export type { CompilationStatus };
import { artifactOf, COMPILED_BACKEND_NAME, compileVerified } from './compiledArtifact.js';
import { backendCandidates, engines, type BackendKind } from './backendSelection.js';

export interface EnginePlan {
  plan: LoadPlan;
  /** Why a preferred engine was passed over, or what limits the chosen one (a fixed batch). */
  note?: string;
  compilation?: CompilationStatus;
  /** What to load instead when the threads cannot open the compiled model (`auto` only). */
  fallback?: { plan: LoadPlan; note: string };
}

export interface PlanOptions {
  /** Runtime-wide choice (`MLOFFLOAD_BACKEND`) that replaces the pool's where the model's framework allows it. */
  override?: BackendPreference;
  /** Stand-in for `compileAndVerify` (tests). */
  compile?: (files: ModelFiles) => Promise<CompileAndVerifyResult>;
}

/**
 * The backend preference in force for a model: the runtime-wide override applies to the models it can
 * apply to (`tfjs` to tfjs models, `onnx` to tfjs graph models, which it compiles), the pool entry otherwise.
 */
export function effectivePreference(model: Pick<PoolModel, 'framework' | 'backend'>, override?: BackendPreference): BackendPreference {
  if (override === 'tfjs' && (model.framework === 'tfjs-graph' || model.framework === 'tfjs-layers')) return 'tfjs';
  if (override === 'onnx' && model.framework === 'tfjs-graph') return 'onnx';
  if (override === 'auto' && model.framework !== 'onnx') return 'auto';
  return model.backend ?? 'auto';
}

/**
 * Decides the engine. Throws when the configured choice is impossible, including `backend: onnx` for a
 * tfjs graph model whose compiled form is not verified: the model is then UNAVAILABLE with that reason.
 */
export async function planEngine(model: PoolModel, files: ModelFiles, options: PlanOptions = {}): Promise<EnginePlan> {
  const backend = effectivePreference(model, options.override);
  const candidates: BackendKind[] = backendCandidates({ ...model, backend }, new Set(Object.keys(engines) as BackendKind[]));
  if (candidates[0] !== 'compiled') return { plan: { kind: candidates[0] } };
  const canFallBack = candidates.includes('tfjs');

  let result: CompileAndVerifyResult;
  try {
    result = await (options.compile ?? compileVerified)(files);
  } catch (err) {
    // The source could not be read as a tfjs graph, or onnxruntime is missing: not a verdict to cache.
    result = { verified: false, reason: `compilation failed: ${(err as Error).message}`, fromCache: false };
  }
  if (!result.verified) {
    if (!canFallBack) throw new Error(`backend onnx: no verified compiled model: ${result.reason}`);
    return { plan: { kind: 'tfjs' }, note: `${COMPILED_BACKEND_NAME} not used: ${result.reason}` };
  }
  const compilation: CompilationStatus = {
    compilerVersion: result.compilerVersion,
    maxAbsDiff: result.maxAbsDiff,
    tolerance: result.tolerance,
    comparedInputs: result.comparedInputs,
    dynamicBatch: result.dynamicBatch,
    ...(result.staticBatchReasons.length ? { staticBatchReasons: result.staticBatchReasons } : {}),
    fromCache: result.fromCache,
    ...(result.rebuiltBecause ? { rebuiltBecause: result.rebuiltBecause } : {}),
  };
  const note = result.dynamicBatch ? undefined : `batch fixed at 1: ${summariseBatchReasons(result.staticBatchReasons)}`;
  return {
    plan: { kind: 'compiled', compiled: artifactOf(result) },
    ...(note ? { note } : {}),
    compilation,
    ...(canFallBack ? { fallback: { plan: { kind: 'tfjs' }, note: `${COMPILED_BACKEND_NAME} not used` } } : {}),
  };
}

function summariseBatchReasons(reasons: string[]): string {
  if (!reasons.length) return 'the source model declares a fixed batch';
  const shown = reasons.slice(0, 2).join('; ');
  return reasons.length > 2 ? `${shown}; and ${reasons.length - 2} more` : shown;
}
