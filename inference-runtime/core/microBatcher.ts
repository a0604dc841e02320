import type { ModelSignature } from './backend.js';
import type { BatchingConfig } from '../config/types.js';
import { CancelController } from './cancelSignal.js';
import { abortError, type InferOptions } from './executor.js';
import type { HostTensor, NamedTensors, TensorData } from './tensor.js';

type Run = (inputs: NamedTensors, options: InferOptions) => Promise<NamedTensors>;

interface Entry {
  inputs: NamedTensors;
  rows: number;
  options: InferOptions;
  resolve(out: NamedTensors): void;
  reject(err: unknown): void;
  onAbort?: () => void;
}

/**
 * Server-side micro-batching for a model with a dynamic batch dimension: requests arriving within
 * `maxDelayMs` of the first waiting one are concatenated along dimension 0 (up to `maxBatchSize` rows), run
 * as one inference, and the outputs split back per request. Engines run a batch of 8 much faster than 8
 * single inferences, so under load this trades a few milliseconds of delay for throughput.
 */
export class MicroBatcher {
  private pending: Entry[] = [];
  private pendingRows = 0;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly key: string,
    private readonly signature: ModelSignature,
    private readonly config: BatchingConfig,
    private readonly run: Run,
  ) {}

  submit(inputs: NamedTensors, options: InferOptions = {}): Promise<NamedTensors> {
    const rows = batchRows(inputs);
    // Requests that cannot share a batch (or fill one alone) go straight through.
    if (rows === undefined || rows >= this.config.maxBatchSize) return this.run(inputs, options);
    if (options.signal?.aborted) return Promise.reject(abortError(options.signal, this.key));
    return new Promise<NamedTensors>((resolve, reject) => {
      if (this.pendingRows + rows > this.config.maxBatchSize) this.flush();
      const entry: Entry = { inputs, rows, options, resolve, reject };
      const { signal } = options;
      if (signal) {
        entry.onAbort = () => {
          const i = this.pending.indexOf(entry);
          if (i < 0) return;
          this.pending.splice(i, 1);
          this.pendingRows -= entry.rows;
          reject(abortError(signal, this.key));
        };
        signal.addEventListener('abort', entry.onAbort, { once: true });
      }
      this.pending.push(entry);
      this.pendingRows += rows;
      if (this.pendingRows >= this.config.maxBatchSize) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.config.maxDelayMs);
    });
  }

  /** Runs whatever waits now (used on shutdown too). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    this.pendingRows = 0;
    if (!batch.length) return;
    for (const e of batch) if (e.onAbort) e.options.signal?.removeEventListener('abort', e.onAbort);
    if (batch.length === 1) {
      const [only] = batch;
      this.run(only.inputs, only.options).then(only.resolve, only.reject);
      return;
    }
    let inputs: NamedTensors;
    try {
      inputs = Object.fromEntries(this.signature.inputs.map((s) => [s.name, concatRows(batch.map((e) => e.inputs[s.name]))]));
    } catch (err) {
      for (const e of batch) e.reject(err);
      return;
    }
    // Each request keeps its own deadline and is answered at once when it expires (settling a promise twice
    // is a no-op, so the late result is dropped). The batch itself is dropped from the worker queue once no
    // request of it is waiting any more.
    const everyoneLeft = new CancelController();
    let waiting = batch.length;
    const detach: (() => void)[] = [];
    for (const e of batch) {
      const { signal } = e.options;
      if (!signal) continue;
      const onAbort = (): void => {
        e.reject(abortError(signal, this.key));
        if (--waiting === 0) everyoneLeft.abort(abortError(signal, this.key));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      detach.push(() => signal.removeEventListener('abort', onAbort));
    }
    const work = this.run(inputs, { transfer: true, signal: everyoneLeft.signal });
    const total = batch.reduce((n, e) => n + e.rows, 0);
    work.then(
      (outputs) => {
        let row = 0;
        for (const e of batch) {
          try {
            e.resolve(sliceRows(outputs, row, e.rows, total));
          } catch (err) {
            e.reject(err);
          }
          row += e.rows;
        }
      },
      (err: unknown) => {
        for (const e of batch) e.reject(err);
      },
    ).finally(() => detach.forEach((d) => d()));
  }
}
/** The common leading dimension of all inputs, or undefined when they disagree. */
function batchRows(inputs: NamedTensors): number | undefined {
  let rows: number | undefined;
  for (const t of Object.values(inputs)) {
    const r = t.shape[0];
    if (r === undefined || (rows !== undefined && r !== rows)) return undefined;
    rows = r;
  }
  return rows;
}

function concatRows(parts: HostTensor[]): HostTensor {
  const first = parts[0];
  const rows = parts.reduce((n, p) => n + p.shape[0], 0);
  const shape = [rows, ...first.shape.slice(1)];
  if (first.dtype === 'string') {
    return { dtype: 'string', shape, data: parts.flatMap((p) => p.data as string[]) };
  }
  const total = parts.reduce((n, p) => n + p.data.length, 0);
  const Ctor = (first.data as Exclude<TensorData, string[]>).constructor as new (n: number) => Exclude<TensorData, string[]>;
  const data = new Ctor(total);
  let offset = 0;
  for (const p of parts) {
    (data as Float32Array).set(p.data as Float32Array, offset);
    offset += p.data.length;
  }
  return { dtype: first.dtype, shape, data };
}

function sliceRows(outputs: NamedTensors, start: number, rows: number, total: number): NamedTensors {
  const out: NamedTensors = {};
  for (const [name, t] of Object.entries(outputs)) {
    if (t.shape[0] !== total) throw new Error(`output ${name} of shape [${t.shape.join(', ')}] does not follow the batch of ${total} rows`);
    const rowSize = total ? t.data.length / total : 0;
    out[name] = { dtype: t.dtype, shape: [rows, ...t.shape.slice(1)], data: t.data.slice(start * rowSize, (start + rows) * rowSize) as TensorData };
  }
  return out;
}
