import path from 'node:path';
import type { CompileAndVerifyOptions, CompileAndVerifyResult, VerifiedCompilation } from '../compiler/verify.js';
import { startModuleProcess } from '../core/moduleWorker.js';
import type { CompiledArtifact, ModelFiles } from '../core/backend.js';

/** How users see a model served by the compiled backend. */
export const COMPILED_BACKEND_NAME = 'onnx (compiled from tfjs-graph)';

/**
 * Compiles a tfjs graph model into its `workDir` and verifies it against tfjs. The result is cached there,
 * keyed by the source digest, the compiler version and the CPU's channel block, so a restart reuses it.
 */
export async function compileVerified(files: ModelFiles): Promise<CompileAndVerifyResult> {
  const { cachedCompilation } = await import('../compiler/verify.js');
  // Named after the source file, not the pool entry: entries sharing a source share its workDir, and a
  // cached rejection's reason must read the same whichever of them compiled it first.
  const modelName = path.basename(files.entryPath, path.extname(files.entryPath));
  const options: CompileAndVerifyOptions = { modelJsonPath: files.entryPath, cacheDir: files.workDir, modelName };
  return (await cachedCompilation(options)) ?? compileInProcess(options);
}

/**
 * Compiles and verifies in a process of its own that ends with the work: what tfjs, onnxruntime and the
 * compiler allocated goes with it, arenas included (a cold start of the built-in pool otherwise idled at
 * 527 MiB with the work in the main thread, and ~190 MiB above a warm start with it in a worker thread).
 */
function compileInProcess(options: CompileAndVerifyOptions): Promise<CompileAndVerifyResult> {
  return new Promise((resolve, reject) => {
    const child = startModuleProcess(import.meta.url, '../compiler/compileProcess');
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (text: string) => {
      // The end of it says why a crash happened; the rest is not kept.
      stderr = (stderr + text).slice(-2000);
    });
    let answered = false;
    child.once('message', (reply: { ok: true; result: CompileAndVerifyResult } | { ok: false; message: string }) => {
      answered = true;
      if (reply.ok) resolve(reply.result);
      else reject(new Error(reply.message));
    });
    child.once('error', (error) => {
      answered = true;
      child.kill('SIGKILL');
      reject(error);
    });
    child.once('exit', (code, signal) => {
      if (!answered) reject(new Error(`the compiler process stopped (${signal ?? `exit code ${code}`}) before it answered${stderr ? `: ${stderr.trim().split('\n').pop()}` : ''}`));
    });
    child.send(options);
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
