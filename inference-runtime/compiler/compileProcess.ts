/**
 * Entry of a throwaway process that compiles one tfjs graph model and verifies it against tfjs. The
 * compiler, tfjs with its WASM heap (grown to the largest model verified), the reference model and the
 * verification's onnxruntime session live and die with this process. A worker thread took its JS heap and
 * WASM memory with it, but not what its native allocations left in the allocator's arenas: a cold start of
 * the vision pool idled some 190 MiB above a warm one.
 *
 * Protocol (IPC, advanced serialization): one CompileAndVerifyOptions in, one reply out, then exit.
 */
import { compileAndVerify, type CompileAndVerifyOptions } from './verify.js';

if (!process.send) throw new Error('compileProcess runs as a child process with an IPC channel only');
// The runtime that asked is gone: nobody will read the answer.
process.once('disconnect', () => process.exit(1));
process.once('message', (options: CompileAndVerifyOptions) => {
  compileAndVerify(options)
    .then(
      (result) => ({ ok: true as const, result }),
      (error: unknown) => ({ ok: false as const, message: error instanceof Error ? error.message : String(error) }),
    )
    .then((reply) => process.send!(reply, () => process.exit(0)));
});
