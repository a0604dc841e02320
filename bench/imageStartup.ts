/**
 * Time to ready of the inference-runtime image in podman: from `podman run` to the first 200 from /readyz,
 * with the built-in pool (no pool file) as uid 1000 on a read-only root, first with an empty model cache
 * (every model compiled to ONNX and verified) and then restarted on the same cache. Also the time from
 * SIGTERM to exit. Builds the image first unless build/images holds an up-to-date archive.
 *
 *   npx tsx bench/imageStartup.ts [runs=2]
 */
import { chmodSync, chownSync } from 'node:fs';
import { buildImages } from '../deploy/images/build.js';
import { RUNTIME_MODEL_CACHE } from '../deploy/images/images.js';
import { runImage, scratchDir, useImage } from '../test/helpers/containerImages.js';
import { freePort } from '../test/env/processes.js';

const runs = Number(process.argv[2] ?? 2);

async function readyAfter(url: string, deadlineMs: number): Promise<void> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    try {
      if ((await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) })).status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > end) throw new Error(`${url}/readyz not 200 within ${deadlineMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function main(): Promise<void> {
  await buildImages(['inference-runtime']);
  const image = await useImage('inference-runtime');
  if (!image) throw new Error('podman cannot run here');
  const rows: string[] = [];
  for (let run = 0; run < runs; run++) {
    const cache = scratchDir('mloffload-bench-cache-');
    const tmp = scratchDir('mloffload-bench-tmp-');
    chownSync(cache.dir, 1000, 1000);
    chmodSync(tmp.dir, 0o1777);
    try {
      for (const state of ['empty cache', 'warm cache'] as const) {
        const port = await freePort();
        const started = performance.now();
        const container = runImage({
          image,
          name: `mloffload-bench-${process.pid}-${run}`,
          flags: ['--user', '1000:1000', '--read-only', '--read-only-tmpfs=false', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges',
            '--volume', `${cache.dir}:${RUNTIME_MODEL_CACHE}`, '--volume', `${tmp.dir}:/tmp`, '--publish', `127.0.0.1:${port}:8080`],
          args: ['--host', '0.0.0.0', '--port', '8080', '--model-cache', RUNTIME_MODEL_CACHE],
        });
        try {
          await readyAfter(`http://127.0.0.1:${port}`, 600_000);
          const ready = (performance.now() - started) / 1000;
          const stop = await container.stopGracefully(30);
          rows.push(`| ${run + 1} | ${state} | ${ready.toFixed(1)} s | ${(stop.ms / 1000).toFixed(1)} s (exit ${stop.exitCode}) |`);
        } finally {
          await container.stop();
        }
      }
    } finally {
      cache.remove();
      tmp.remove();
    }
  }
  process.stdout.write(`| run | model cache | podman run -> /readyz 200 | SIGTERM -> exit |\n|---|---|---|---|\n${rows.join('\n')}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
