import * as tfjs from '@tensorflow/tfjs';
import { startWasmBackend } from './tfjsWasm.js';

export type Tf = typeof tfjs;

/** The tfjs namespace in use and which engine runs it. */
export interface TfjsEngine {
  tf: Tf;
  /** `tfjs-node` (native TensorFlow) or `tfjs-wasm`. */
  name: 'tfjs-node' | 'tfjs-wasm';
  version: string;
}

let engine: Promise<TfjsEngine> | undefined;

/**
 * Initialises tfjs once per thread: `@tensorflow/tfjs-node` when it is installed and loads, otherwise the
 * WASM backend. The pure-JS `cpu` backend is ~40x slower than WASM, so it is never an acceptable fallback:
 * if WASM cannot start, this rejects and the models that need tfjs are reported UNAVAILABLE.
 */
export function tfjsEngine(options: { allowNode?: boolean } = {}): Promise<TfjsEngine> {
  engine ??= start(options.allowNode ?? true).catch((err: unknown) => {
    engine = undefined;
    throw err;
  });
  return engine;
}

async function start(allowNode: boolean): Promise<TfjsEngine> {
  if (allowNode) {
    const node = await tryTfjsNode();
    if (node) return node;
  }
  await startWasmBackend();
  return { tf: tfjs, name: 'tfjs-wasm', version: tfjs.version_core };
}

/** tfjs-node is optional (native, large): it is used when present and skipped silently otherwise. */
async function tryTfjsNode(): Promise<TfjsEngine | undefined> {
  const specifier = '@tensorflow/tfjs-node';
  try {
    const mod = (await import(specifier)) as Tf & { default?: Tf };
    const tf = mod.default ?? mod;
    if (tf.getBackend() !== 'tensorflow') {
      const ok = await tf.setBackend('tensorflow');
      if (!ok) return undefined;
    }
    tf.enableProdMode();
    return { tf, name: 'tfjs-node', version: tf.version_core };
  } catch {
    return undefined;
  }
}
