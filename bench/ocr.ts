/**
 * OCR latency: `POST /v1/vision/text` on a 1280x720 JPEG photo of a sign with a few lines of text, served by
 * the built-in pool's PP-OCRv4 models on one inference worker thread, requests one at a time. Prints the
 * p50/p95 of the whole request and the median of each stage of the response's timing block. Run it pinned to
 * one core for the one-core figure:
 *
 *   taskset -c 0 npx tsx bench/ocr.ts --requests 30
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ocrModels } from '../inference-runtime/config/defaultPool.js';
import { percentile } from '../inference-runtime/core/loadBenchmark.js';
import { createModelRegistry } from '../inference-runtime/dataplane/modelRegistry.js';
import { createApp } from '../inference-runtime/http/app.js';
import { startServer } from '../inference-runtime/server.js';
import { textRecognitionTask } from '../inference-runtime/tasks/vision/textRecognition.js';
import { defaultVisionLimits } from '../inference-runtime/vision/limits.js';
import type { TextResponse } from '../inference-runtime/tasks/vision/textRouter.js';
import { renderText } from '../test/helpers/textImages.js';

const { values } = parseArgs({ options: { requests: { type: 'string', default: '30' }, warmup: { type: 'string', default: '3' } } });
const requests = Number(values.requests);
const warmup = Number(values.warmup);

const canvas = {
  width: 1280,
  height: 720,
  background:
    '<defs><filter id="grain"><feTurbulence type="fractalNoise" baseFrequency="0.8" numOctaves="2" seed="5"/><feColorMatrix type="saturate" values="0"/>' +
    '<feComponentTransfer><feFuncA type="linear" slope="0.3"/></feComponentTransfer></filter></defs>' +
    '<rect width="100%" height="100%" fill="#8a9a7b"/><rect x="140" y="110" width="1000" height="500" rx="24" fill="#1d4f8c" stroke="#e8e8e8" stroke-width="10"/>' +
    '<rect width="100%" height="100%" filter="url(#grain)"/>',
};
const white = '#f2f2f2';
const lines = [
  { text: 'CENTRAL STATION', x: 230, y: 230, font: 'DejaVu Sans', size: 72, weight: 'bold' as const, colour: white, rotate: -1 },
  { text: 'Platforms 1-8', x: 240, y: 340, font: 'DejaVu Sans', size: 48, colour: white, rotate: -1 },
  { text: 'Tickets and information', x: 240, y: 430, font: 'Liberation Sans', size: 44, colour: white, rotate: -1 },
  { text: 'Open daily 5:00 to 23:30', x: 240, y: 520, font: 'Liberation Sans', size: 40, colour: white, rotate: -1 },
];

const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'mloffload-bench-ocr-'));
const registry = createModelRegistry({ models: ocrModels() }, { workers: 1, benchmark: false, repository: { cacheDir } });
try {
  await registry.whenSettled();
  const down = registry.list().filter((m) => m.state !== 'AVAILABLE');
  if (down.length) throw new Error(`models not available: ${JSON.stringify(down)}`);
  const app = createApp({ registry, routers: [textRecognitionTask.routes!({ registry, limits: defaultVisionLimits })], options: { requestTimeoutMs: 120_000 } });
  const server = await startServer(app.callback(), { port: 0, host: '127.0.0.1' });
  const jpeg = new Uint8Array(await renderText(canvas, lines, 'jpeg'));
  const ask = async (): Promise<{ ms: number; body: TextResponse }> => {
    const t0 = performance.now();
    const response = await fetch(`${server.url}/v1/vision/text`, { method: 'POST', body: jpeg, headers: { 'Content-Type': 'image/jpeg' } });
    const body = (await response.json()) as TextResponse;
    if (response.status !== 200) throw new Error(`status ${response.status}: ${JSON.stringify(body)}`);
    return { ms: performance.now() - t0, body };
  };
  for (let i = 0; i < warmup; i++) await ask();
  const totals: number[] = [];
  const stages: Record<string, number[]> = {};
  let last: TextResponse | undefined;
  for (let i = 0; i < requests; i++) {
    const { ms, body } = await ask();
    totals.push(ms);
    for (const [k, v] of Object.entries(body.timing)) (stages[k] ??= []).push(v);
    last = body;
  }
  totals.sort((a, b) => a - b);
  const median = (xs: number[]): number => percentile([...xs].sort((a, b) => a - b), 50);
  const read = last?.lines.map((l) => l.text) ?? [];
  const expected = lines.map((l) => l.text);
  process.stdout.write(
    `${JSON.stringify(
      {
        image: '1280x720 JPEG, 4 lines',
        requests,
        loadAverage: os.loadavg().map((v) => Math.round(v * 10) / 10),
        cpus: os.availableParallelism(),
        p50Ms: Math.round(percentile(totals, 50)),
        p95Ms: Math.round(percentile(totals, 95)),
        stageMedianMs: Object.fromEntries(Object.entries(stages).map(([k, v]) => [k, Math.round(median(v))])),
        readExactly: JSON.stringify(read) === JSON.stringify(expected),
        read,
      },
      null,
      2,
    )}\n`,
  );
  await server.close();
} finally {
  await registry.close();
  rmSync(cacheDir, { recursive: true, force: true });
}
