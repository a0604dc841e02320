import { createRequire } from 'node:module';
import path from 'node:path';
import * as tfc from '@tensorflow/tfjs-core';

/**
 * Starts tfjs's WASM backend on tfjs-core. Only tfjs-core is imported here (the one engine every tfjs package
 * registers its backends and kernels on): the verification of a compiled model needs core, the converter and
 * this backend, and importing the whole `@tensorflow/tfjs` (layers, data, the cpu backend) cost a cold start
 * about a second per compilation thread. tfjs-core and tfjs-converter are `@tensorflow/tfjs`'s own pinned
 * dependencies, so they are always its version.
 */
export async function startWasmBackend(): Promise<void> {
  const restoreProcessHandlers = keepProcessHandlers();
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  wasm.setWasmPaths(wasmDistDir());
  let ok = false;
  try {
    ok = await tfc.setBackend('wasm');
  } catch (err) {
    throw new Error(`tfjs WASM backend failed to start: ${(err as Error).message}`, { cause: err });
  } finally {
    restoreProcessHandlers();
  }
  if (!ok || tfc.getBackend() !== 'wasm') {
    throw new Error(`tfjs WASM backend failed to start (active backend: ${tfc.getBackend() ?? 'none'}); refusing the cpu backend`);
  }
  tfc.enableProdMode();
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

/** `.../@tensorflow/tfjs-backend-wasm/dist/`, where the .wasm binaries sit next to the package's main file. */
function wasmDistDir(): string {
  const require = createRequire(import.meta.url);
  return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + path.sep;
}
