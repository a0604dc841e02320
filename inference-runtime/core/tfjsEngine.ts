import { createRequire } from 'node:module';
import path from 'node:path';
import * as tfjs from '@tensorflow/tfjs';

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
  const restoreProcessHandlers = keepProcessHandlers();
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  wasm.setWasmPaths(wasmDistDir());
  let ok = false;
  try {
    ok = await tfjs.setBackend('wasm');
  } catch (err) {
    throw new Error(`tfjs WASM backend failed to start: ${(err as Error).message}`, { cause: err });
  } finally {
    restoreProcessHandlers();
  }
  if (!ok || tfjs.getBackend() !== 'wasm') {
    throw new Error(`tfjs WASM backend failed to start (active backend: ${tfjs.getBackend() ?? 'none'}); refusing the cpu backend`);
  }
  tfjs.enableProdMode();
  return { tf: tfjs, name: 'tfjs-wasm', version: tfjs.version_core };
}

/**
 * The Emscripten glue of the WASM backend installs process-wide `uncaughtException` and
 * `unhandledRejection` listeners that rethrow, which would turn any stray rejection in the server (a client
 * hanging up mid-response, say) into a crash of the whole process. Remove whatever listeners its start-up
 * added; the server's own error handling stays in charge.
 */
function keepProcessHandlers(): () => void {
  const events: ('uncaughtException' | 'unhandledRejection')[] = ['uncaughtException', 'unhandledRejection'];
  type Listener = (...args: unknown[]) => void;
  const listeners = (e: string): Listener[] => (process as NodeJS.EventEmitter).listeners(e) as Listener[];
  const before = new Map(events.map((e) => [e, new Set(listeners(e))]));
  return () => {
    for (const e of events) {
      for (const listener of listeners(e)) {
        if (!before.get(e)?.has(listener)) process.removeListener(e, listener);
      }
    }
  };
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

/** `.../@tensorflow/tfjs-backend-wasm/dist/`, where the .wasm binaries sit next to the package's main file. */
function wasmDistDir(): string {
  const require = createRequire(import.meta.url);
  return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + path.sep;
}
