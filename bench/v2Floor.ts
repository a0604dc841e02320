/**
 * The floor under bench/v2.ts's ratio (`--floor`): the least a Node.js server can do for a V2 binary `/infer` of
 * facial-expression, and the same inference without HTTP. bench/v2.ts starts this file twice, each process
 * pinned like the runtime's sides, and drives both in its rounds.
 *
 * Each process runs the model's compiled ONNX (from bench/v2.ts's cache) in one worker thread with the
 * runtime's session options (`onnxSessionOptions`, backends/onnxBackend.ts) and hands it a fresh tensor per
 * request, as the runtime's executor does:
 * - `--mode=loop`: callers posting the tensor to the worker and awaiting its output, in a loop (the in-process
 *   path without the registry's bookkeeping), answering bench/v2.ts's segment requests as
 *   bench/expressionInProcess.ts does;
 * - `--mode=http`: a bare `node:http` server that reads the V2 binary body, parses its JSON header, copies the
 *   tensor out of it, posts it to the worker and answers the output in V2 binary framing; and for a TF Serving
 *   `:predict` URL, reads the JSON body with the runtime's own number reader (`parseFlatPredict`) and answers
 *   `{"predictions": ...}`. No routing, validation, deadline, metrics, memory budget or error mapping:
 *   whatever the runtime does, it does at least this. Prints `{"event":"ready","url":...}`.
 *
 *   node --import tsx bench/v2Floor.ts --mode=loop|http
 */
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { onnxSessionOptions } from '../inference-runtime/backends/onnxBackend.js';
import { startModuleWorker } from '../inference-runtime/core/moduleWorker.js';
import type { NamedTensors, TensorSpec } from '../inference-runtime/core/tensor.js';
import { parseFlatPredict } from '../inference-runtime/http/tfserving/flatTensorJson.js';
import { answerSegments, inProcessLoad } from './expressionLoad.js';

const CACHE_DIR = path.join(os.tmpdir(), 'mloffload-bench-cache');
/** The one input of the model, as the JSON reader takes its signature. */
const PREDICT_INPUT: TensorSpec[] = [{ name: 'input_1', dtype: 'float32', shape: [-1, 64, 64, 1] }];

interface Job {
  id: number;
  data: Float32Array;
}

/** The worker: one session, one run per message, the output's first tensor sent back (transferred). */
async function workerMain(file: string): Promise<void> {
  const ort = await import('onnxruntime-node');
  // One thread per session, as each worker of the runtime's pool runs its own.
  const session: InferenceSession = await ort.InferenceSession.create(readFileSync(file), onnxSessionOptions({ intraOpThreads: 1 }));
  const input = session.inputNames[0]!;
  const output = session.outputNames[0]!;
  parentPort!.on('message', (job: Job) => {
    void session.run({ [input]: new ort.Tensor('float32', job.data, [1, 64, 64, 1]) }).then((out: Record<string, Tensor>) => {
      const data = (out[output]!.data as Float32Array).slice();
      parentPort!.postMessage({ id: job.id, data }, [data.buffer]);
    });
  });
  parentPort!.postMessage({ id: -1 });
}

/** The main thread's side of the worker: infer(tensor) -> output. */
async function startWorker(file: string): Promise<(data: Float32Array) => Promise<Float32Array>> {
  const worker = startModuleWorker(import.meta.url, './v2Floor', { workerData: { file } });
  const waiting = new Map<number, (data: Float32Array) => void>();
  let next = 0;
  await new Promise<void>((resolve) => {
    worker.on('message', (reply: { id: number; data: Float32Array }) => {
      if (reply.id === -1) return resolve();
      const done = waiting.get(reply.id)!;
      waiting.delete(reply.id);
      done(reply.data);
    });
  });
  return (data) =>
    new Promise((resolve) => {
      const id = next++;
      waiting.set(id, resolve);
      worker.postMessage({ id, data }, [data.buffer as ArrayBuffer]);
    });
}

/** The compiled facial-expression model in the bench cache. */
function compiledExpressionModel(): string {
  const derived = path.join(CACHE_DIR, 'derived');
  for (const dir of readdirSync(derived)) {
    for (const name of readdirSync(path.join(derived, dir))) {
      if (!/^compiled-.*\.json$/.test(name)) continue;
      const manifest = JSON.parse(readFileSync(path.join(derived, dir, name), 'utf8')) as { modelName: string; onnxFile: string; verified: boolean };
      if (manifest.modelName === 'emotion' && manifest.verified) return path.join(derived, dir, manifest.onnxFile);
    }
  }
  throw new Error(`no compiled facial-expression model under ${derived}: bench/v2.ts's server compiles it`);
}

/** `http` mode: the bare server. Prints `{"event":"ready","url":...}`. */
async function serve(infer: (data: Float32Array) => Promise<Float32Array>): Promise<void> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.url?.endsWith(':predict')) {
        const request = parseFlatPredict(body, PREDICT_INPUT)!;
        void infer(request.inputs[PREDICT_INPUT[0]!.name]!.data as Float32Array).then((out) => {
          const json = `{"predictions":[${JSON.stringify(Array.from(out))}]}`;
          res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(json) });
          res.end(json);
        });
        return;
      }
      const headerLength = Number(req.headers['inference-header-content-length']);
      const header = JSON.parse(body.subarray(0, headerLength).toString()) as { inputs: { parameters: { binary_data_size: number } }[] };
      const size = header.inputs[0]!.parameters.binary_data_size;
      const data = new Float32Array(size / 4);
      new Uint8Array(data.buffer).set(body.subarray(headerLength, headerLength + size));
      void infer(data).then((out) => {
        const json = Buffer.from(JSON.stringify({ model_name: 'facial-expression', outputs: [{ name: 'out', datatype: 'FP32', shape: [1, out.length], parameters: { binary_data_size: out.byteLength } }] }));
        res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Inference-Header-Content-Length': String(json.length), 'Content-Length': json.length + out.byteLength });
        res.end(Buffer.concat([json, Buffer.from(out.buffer, out.byteOffset, out.byteLength)]));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  process.stdout.write(`${JSON.stringify({ event: 'ready', url: `http://127.0.0.1:${port}` })}\n`);
}

/** `loop` mode: the in-process load (bench/expressionLoad.ts) on the worker round trip. */
async function loop(infer: (data: Float32Array) => Promise<Float32Array>): Promise<void> {
  process.stdout.write(`${JSON.stringify({ event: 'ready' })}\n`);
  const viaWorker = async (tensors: NamedTensors): Promise<NamedTensors> => {
    await infer(tensors.input!.data as Float32Array);
    return {};
  };
  await answerSegments((concurrency, seconds) => inProcessLoad(viaWorker, 'input', concurrency, seconds));
}

if (!isMainThread) {
  await workerMain((workerData as { file: string }).file);
} else {
  const mode = process.argv.find((a) => a.startsWith('--mode='))?.slice('--mode='.length);
  if (mode !== 'http' && mode !== 'loop') throw new Error('usage: node --import tsx bench/v2Floor.ts --mode=loop|http');
  const infer = await startWorker(compiledExpressionModel());
  if (mode === 'http') await serve(infer);
  else await loop(infer);
}
