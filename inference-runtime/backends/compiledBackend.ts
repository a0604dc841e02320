import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Framework, PoolModel } from '../config/types.js';
import type { Backend, CompiledArtifact, EngineMemory, LoadedModel, LoadPlan, ModelFiles } from '../core/backend.js';
import { artifactOf, COMPILED_BACKEND_NAME, compileVerified } from './compiledArtifact.js';
import { OnnxBackend, type OnnxBackendOptions } from './onnxBackend.js';

/**
 * tfjs graph models compiled to ONNX and run on onnxruntime-node. The compilation and its verification
 * against tfjs happen once, before any thread loads the model (`planEngine`, in the main thread): a thread gets
 * the verified file's path and digest in its load plan, checks the digest and opens a session.
 */
export class CompiledBackend implements Backend {
  readonly name = COMPILED_BACKEND_NAME;

  private constructor(private readonly onnx: OnnxBackend) {}

  static async create(options: OnnxBackendOptions = {}): Promise<CompiledBackend> {
    return new CompiledBackend(await OnnxBackend.create(options));
  }

  supports(framework: Framework): boolean {
    return framework === 'tfjs-graph';
  }

  memory(): EngineMemory {
    return this.onnx.memory();
  }

  async load(model: PoolModel, files: ModelFiles, plan?: LoadPlan): Promise<LoadedModel> {
    if (model.framework !== 'tfjs-graph') throw new Error(`only tfjs-graph models are compiled, not ${model.framework}`);
    // Without a plan (a ModelHost used on its own), compile and verify here; the registry never does this.
    const artifact = plan?.compiled ?? (await compileHere(files));
    const bytes = await readFile(artifact.onnxPath);
    const digest = createHash('sha256').update(bytes).digest('hex');
    if (digest !== artifact.onnxSha256) {
      throw new Error(`compiled model ${artifact.onnxPath} changed after verification (sha256 ${digest.slice(0, 12)}..., verified ${artifact.onnxSha256.slice(0, 12)}...)`);
    }
    return this.onnx.loadSession(bytes, COMPILED_BACKEND_NAME);
  }
}

async function compileHere(files: ModelFiles): Promise<CompiledArtifact> {
  const result = await compileVerified(files);
  if (!result.verified) throw new Error(result.reason);
  return artifactOf(result);
}
