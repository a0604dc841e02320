/**
 * Entry of a throwaway worker thread that compiles one tfjs graph model and verifies it against tfjs. The
 * compiler, tfjs with its WASM heap (grown to the largest model verified) and the reference model live
 * and die with this thread, so a cold start leaves the serving process no larger than a warm one.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { compileAndVerify, type CompileAndVerifyOptions } from './verify.js';

const port = parentPort;
if (!port) throw new Error('compileThread.ts runs as a worker thread only');
compileAndVerify(workerData as CompileAndVerifyOptions).then(
  (result) => port.postMessage({ ok: true, result }),
  (error: unknown) => port.postMessage({ ok: false, message: error instanceof Error ? error.message : String(error) }),
);
