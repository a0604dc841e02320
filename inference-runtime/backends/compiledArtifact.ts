import path from 'node:path';
import type { CompileAndVerifyResult, VerifiedCompilation } from '../compiler/verify.js';
import type { CompiledArtifact, ModelFiles } from '../core/backend.js';

/** How users see a model served by the compiled backend. */
export const COMPILED_BACKEND_NAME = 'onnx (compiled from tfjs-graph)';

/**
 * Compiles a tfjs graph model into its `workDir` and verifies it against tfjs. The result is cached there,
 * keyed by the source digest and the compiler version, so a restart reuses it.
 */
export async function compileVerified(files: ModelFiles): Promise<CompileAndVerifyResult> {
  const { compileAndVerify } = await import('../compiler/verify.js');
  // Named after the source file, not the pool entry: entries sharing a source share its workDir, and a
  // cached rejection's reason must read the same whichever of them compiled it first.
  const modelName = path.basename(files.entryPath, path.extname(files.entryPath));
  return compileAndVerify({ modelJsonPath: files.entryPath, cacheDir: files.workDir, modelName });
}

/** What an inference thread needs from a verified compilation. */
export function artifactOf(result: VerifiedCompilation): CompiledArtifact {
  return {
    onnxPath: result.onnxPath,
    onnxSha256: result.onnxSha256,
    compilerVersion: result.compilerVersion,
    dynamicBatch: result.dynamicBatch,
    staticBatchReasons: result.staticBatchReasons,
  };
}
