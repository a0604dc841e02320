import path from 'node:path';
import type { CompileAndVerifyOptions, CompileAndVerifyResult, VerifiedCompilation } from '../compiler/verify.js';
import { startModuleWorker } from '../core/moduleWorker.js';
import type { CompiledArtifact, ModelFiles } from '../core/backend.js';

/** How users see a model served by the compiled backend. */
export const COMPILED_BACKEND_NAME = 'onnx (compiled from tfjs-graph)';

/**
 * Compiles a tfjs graph model into its `workDir` and verifies it against tfjs. The result is cached there,
 * keyed by the source digest and the compiler version, so a restart reuses it.
 */
export async function compileVerified(files: ModelFiles): Promise<CompileAndVerifyResult> {
  const { cachedCompilation } = await import('../compiler/verify.js');
  // Named after the source file, not the pool entry: entries sharing a source share its workDir, and a
  // cached rejection's reason must read the same whichever of them compiled it first.
  const modelName = path.basename(files.entryPath, path.extname(files.entryPath));
  const options: CompileAndVerifyOptions = { modelJsonPath: files.entryPath, cacheDir: files.workDir, modelName };
  return (await cachedCompilation(options)) ?? compileInThread(options);
}

/**
 * Compiles and verifies in a thread of its own that ends with the work: what tfjs and the compiler
 * allocated goes with it (a cold start of the built-in pool otherwise idled at 527 MiB, twice a warm one).
 */
function compileInThread(options: CompileAndVerifyOptions): Promise<CompileAndVerifyResult> {
  return new Promise((resolve, reject) => {
    const worker = startModuleWorker(import.meta.url, '../compiler/compileThread', { workerData: options, name: `compile ${options.modelName ?? ''}` });
    let answered = false;
    worker.once('message', (reply: { ok: true; result: CompileAndVerifyResult } | { ok: false; message: string }) => {
      answered = true;
      if (reply.ok) resolve(reply.result);
      else reject(new Error(reply.message));
      void worker.terminate();
    });
    worker.once('error', (error) => {
      answered = true;
      reject(error);
    });
    worker.once('exit', (code) => {
      if (!answered) reject(new Error(`the compiler thread stopped (exit code ${code}) before it answered`));
    });
  });
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
