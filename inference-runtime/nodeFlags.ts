/**
 * Node.js (V8) options the runtime is started with: by `npm start`, by the image's ENTRYPOINT, and by the
 * benchmarks and tests that start it. A unit test holds package.json and the Dockerfile to this list, and the
 * runtime names any it was started without in its `starting` log line.
 *
 * `--initial-old-space-size=64`: the event loop's heap holds ~15 MB of live objects, so V8 sizes its old
 * generation limit at about twice that; every request then hands ~2 MB of ArrayBuffers to libvips, the
 * inference threads and the socket (decoded pixels, tensors, bodies), which count against that limit until a
 * collection sweeps them, and V8 kept starting a full mark-compact every ~8 flagship requests (86 in 30 s of
 * one client, ~37 ms of event-loop time and more on V8's helper threads each). Declaring an initial old
 * generation takes V8 off that schedule: 1-3 full collections in the same run, and about a quarter less CPU
 * per flagship request (docs/benchmarks.md). 64 rather than 32: with 32 the TF Serving `:predict` route (89 KB
 * bodies) still ran one every ~90 requests, with 64 one in 10 s of load. The heap still starts small and is
 * still collected (and compacted when traffic stops, main.ts); 64 MB is a starting limit, not a reservation.
 */
export const RUNTIME_NODE_FLAGS: readonly string[] = ['--initial-old-space-size=64'];

/** The flags of RUNTIME_NODE_FLAGS that this process was not started with. */
export function missingNodeFlags(execArgv: readonly string[] = process.execArgv): string[] {
  return RUNTIME_NODE_FLAGS.filter((flag) => !execArgv.includes(flag));
}
