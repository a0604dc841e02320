/**
 * onnxruntime-node sessions for compiled models, taking and returning host tensors. Thread count is a
 * parameter: one intra-op thread per session when several workers serve concurrently (they would only
 * fight over cores otherwise), all cores for a session that runs alone.
 */
import * as ort from 'onnxruntime-node';
import { intraOpSessionOptions, intraOpThreads } from '../core/intraOpThreads.js';
import type { DType, HostTensor, NamedTensors } from '../core/tensor.js';

export interface OnnxSessionOptions {
  /** Intra-op threads; default chosen by `chooseIntraOpThreads`. */
  intraOpThreads?: number;
  /** How many sessions run inferences at the same time in this process or on this machine (default 1). */
  concurrentSessions?: number;
}

/** Cores (default: the available cores, intraOpThreads' own) divided among the sessions that run at once, at least one thread each (the runtime's rule). */
export function chooseIntraOpThreads(concurrentSessions = 1, cores?: number): number {
  return intraOpThreads(concurrentSessions, cores);
}

export interface OnnxModelSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly intraOpThreads: number;
  run(inputs: NamedTensors): Promise<NamedTensors>;
  release(): Promise<void>;
}

function toOrt(t: HostTensor): ort.Tensor {
  switch (t.dtype) {
    case 'float32':
      return new ort.Tensor('float32', t.data as Float32Array, t.shape);
    case 'int32':
      return new ort.Tensor('int32', t.data as Int32Array, t.shape);
    case 'int64':
      return new ort.Tensor('int64', t.data as BigInt64Array, t.shape);
    case 'uint8':
      return new ort.Tensor('uint8', t.data as Uint8Array, t.shape);
    case 'bool':
      return new ort.Tensor('bool', t.data as Uint8Array, t.shape);
    case 'string':
      return new ort.Tensor('string', t.data as string[], t.shape);
    default:
      throw new Error(`the compiler's sessions do not take ${t.dtype} tensors`);
  }
}

const FROM_ORT: Partial<Record<ort.Tensor['type'], DType>> = { float32: 'float32', int32: 'int32', int64: 'int64', uint8: 'uint8', bool: 'bool', string: 'string' };

function fromOrt(name: string, t: ort.Tensor): HostTensor {
  const dtype = FROM_ORT[t.type];
  if (!dtype) throw new Error(`output ${name} has type ${t.type}, which host tensors do not carry`);
  const data = dtype === 'bool' ? Uint8Array.from(t.data as Uint8Array) : (t.data as HostTensor['data']);
  return { dtype, shape: [...t.dims], data };
}

/** Opens a session on an ONNX file path or bytes. */
export async function createOnnxSession(model: string | Uint8Array, options: OnnxSessionOptions = {}): Promise<OnnxModelSession> {
  const intraOpThreads = options.intraOpThreads ?? chooseIntraOpThreads(options.concurrentSessions);
  const sessionOptions: ort.InferenceSession.SessionOptions = {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    ...intraOpSessionOptions(intraOpThreads),
  };
  const session = typeof model === 'string' ? await ort.InferenceSession.create(model, sessionOptions) : await ort.InferenceSession.create(model, sessionOptions);
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    intraOpThreads,
    async run(inputs) {
      const feeds: Record<string, ort.Tensor> = {};
      for (const name of session.inputNames) {
        const t = inputs[name];
        if (!t) throw new Error(`missing input ${name}`);
        feeds[name] = toOrt(t);
      }
      const results = await session.run(feeds);
      const out: NamedTensors = {};
      for (const name of session.outputNames) {
        out[name] = fromOrt(name, results[name]);
        results[name].dispose();
      }
      return out;
    },
    release: () => session.release(),
  };
}
