/**
 * Verified compilation: compile a tfjs graph model to ONNX, run both on the same seeded inputs, and accept
 * the ONNX model only when every output matches. Accepted (and rejected) compilations are cached beside the
 * source in the cache directory, keyed by the source digest, the compiler version and the CPU's channel block
 * (channelBlocks.ts); the compiled file's own sha256 is recorded so a corrupted or truncated file is detected
 * and rebuilt.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { HostTensor, NamedTensors, TensorSpec } from '../core/tensor.js';
import type { CompiledModel } from './compile.js';
import { CompileError } from './errors.js';
import type { TfjsModelJson } from './tfjsModel.js';
import { readTfjsModel } from './tfjsModel.js';
import { cpuChannelBlock } from './channelBlocks.js';
import { COMPILER_VERSION } from './version.js';

/**
 * An output matches when max|onnx - tfjs| <= absolute + relative * max|tfjs| over that output. The scale is
 * the output's range, not each element's: float32 rounding noise grows with the values a layer carries, so
 * an element near zero in a large-valued output legitimately differs by more than its own magnitude allows.
 */
export interface Tolerance {
  absolute: number;
  relative: number;
}

export const DEFAULT_TOLERANCE: Tolerance = { absolute: 1e-4, relative: 1e-3 };

export interface CompileAndVerifyOptions {
  modelJsonPath: string;
  /** Where compiled models and their manifests are kept (the model's directory in the runtime's cache). */
  cacheDir: string;
  tolerance?: Partial<Tolerance>;
  /** Single-sample inputs to compare on (default 3). */
  samples?: number;
  /** Batch size of the extra batched comparison when the batch is dynamic (default 3; 0 skips it). */
  batchSize?: number;
  seed?: number;
  modelName?: string;
}

export interface OutputCheck {
  name: string;
  maxAbsDiff: number;
  maxAbsReference: number;
  /** For outputs ranked by TopK: rows found at another position, and rows with no counterpart (near ties). */
  reorderedRows?: number;
  unmatchedRows?: number;
}

interface Manifest {
  compilerVersion: string;
  sourceDigest: string;
  modelName: string;
  verified: boolean;
  reason?: string;
  onnxFile?: string;
  onnxSha256?: string;
  inputs?: TensorSpec[];
  outputs?: TensorSpec[];
  dynamicBatch?: boolean;
  staticBatchReasons?: string[];
  flopsPerSample?: number;
  checks?: OutputCheck[];
  comparedInputs?: string[];
  tolerance?: Tolerance;
  createdAt: string;
}

export interface VerifiedCompilation {
  verified: true;
  onnxPath: string;
  onnxSha256: string;
  sourceDigest: string;
  compilerVersion: string;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  dynamicBatch: boolean;
  staticBatchReasons: string[];
  flopsPerSample: number;
  /** Worst difference per output over every compared input. */
  maxAbsDiff: Record<string, number>;
  checks: OutputCheck[];
  /** What was compared, e.g. `3 seeded inputs at batch 1`, `1 seeded input at batch 3`. */
  comparedInputs: string[];
  tolerance: Tolerance;
  fromCache: boolean;
  /** Set when a cached compiled file failed its digest check and was rebuilt. */
  rebuiltBecause?: string;
}

export interface RejectedCompilation {
  verified: false;
  reason: string;
  sourceDigest?: string;
  fromCache: boolean;
}

export type CompileAndVerifyResult = VerifiedCompilation | RejectedCompilation;

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Small, fast, seedable PRNG (mulberry32); verification inputs must be the same on every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random inputs for a signature at a batch size: floats in [0, 1) (image-like), small ints, booleans. */
export function randomInputs(specs: TensorSpec[], batch: number, seed: number): NamedTensors {
  const next = seededRandom(seed);
  const out: NamedTensors = {};
  for (const s of specs) {
    const shape = s.shape.map((d) => (d < 0 ? batch : d));
    const n = shape.reduce((a, d) => a * d, 1);
    let t: HostTensor;
    if (s.dtype === 'float32') t = { dtype: 'float32', shape, data: Float32Array.from({ length: n }, next) };
    else if (s.dtype === 'int32') t = { dtype: 'int32', shape, data: Int32Array.from({ length: n }, () => Math.floor(next() * 10)) };
    else if (s.dtype === 'bool') t = { dtype: 'bool', shape, data: Uint8Array.from({ length: n }, () => (next() < 0.5 ? 1 : 0)) };
    else throw new CompileError(`cannot make verification inputs of dtype ${s.dtype}`);
    out[s.name] = t;
  }
  return out;
}

/** Slices sample `k` out of batched inputs (batch on axis 0). */
function sampleOf(inputs: NamedTensors, k: number): NamedTensors {
  const out: NamedTensors = {};
  for (const [name, t] of Object.entries(inputs)) {
    const per = t.shape.slice(1).reduce((a, d) => a * d, 1);
    const data = (t.data as Float32Array).slice(k * per, (k + 1) * per);
    out[name] = { dtype: t.dtype, shape: [1, ...t.shape.slice(1)], data } as HostTensor;
  }
  return out;
}

function concatBatch(parts: HostTensor[]): HostTensor {
  const first = parts[0];
  const total = parts.reduce((n, p) => n + p.data.length, 0);
  const data = new (first.data.constructor as new (n: number) => Float32Array)(total);
  let offset = 0;
  for (const p of parts) {
    data.set(p.data as Float32Array, offset);
    offset += p.data.length;
  }
  return { dtype: first.dtype, shape: [parts.reduce((n, p) => n + p.shape[0], 0), ...first.shape.slice(1)], data } as HostTensor;
}

function compare(name: string, onnx: HostTensor | undefined, ref: HostTensor): OutputCheck | string {
  if (!onnx) return `output ${name} is missing from the compiled model`;
  if (onnx.shape.join(',') !== ref.shape.join(',')) return `output ${name} has shape [${onnx.shape}], tfjs gives [${ref.shape}]`;
  let maxAbsDiff = 0;
  let maxAbsReference = 0;
  const a = onnx.data as ArrayLike<number>;
  const b = ref.data as ArrayLike<number>;
  for (let i = 0; i < b.length; i++) {
    const x = Number(a[i]);
    const y = Number(b[i]);
    if (Number.isNaN(x) || Number.isNaN(y)) {
      if (Number.isNaN(x) !== Number.isNaN(y)) return `output ${name} element ${i}: ${x} vs tfjs ${y}`;
      continue;
    }
    maxAbsDiff = Math.max(maxAbsDiff, Math.abs(x - y));
    maxAbsReference = Math.max(maxAbsReference, Math.abs(y));
  }
  return { name, maxAbsDiff, maxAbsReference };
}

/** Adjacent pairs of ranked values equal to within tolerance: each may swap two rows (or one across the k cut). */
function nearTies(values: HostTensor, tolerance: Tolerance): number {
  const v = values.data as Float32Array;
  const k = values.shape[values.shape.length - 1];
  let maxAbs = 0;
  for (const x of v) maxAbs = Math.max(maxAbs, Math.abs(x));
  const eps = tolerance.absolute + tolerance.relative * maxAbs;
  let ties = 0;
  for (let i = 0; i + 1 < v.length; i++) if ((i + 1) % k !== 0 && Math.abs(v[i] - v[i + 1]) <= eps) ties++;
  return ties;
}

/**
 * Compares an output ranked by TopK row by row (rows along the last axis), letting rows appear at another
 * position or be replaced, but no more often than the ranked values' near ties can explain.
 */
function compareRanked(name: string, onnx: HostTensor | undefined, ref: HostTensor, tolerance: Tolerance, allowedUnmatched: number): OutputCheck | string {
  const exact = compare(name, onnx, ref);
  if (typeof exact === 'string' || withinTolerance(exact, tolerance) || !onnx) return exact;
  const a = onnx.data as Float32Array;
  const b = ref.data as Float32Array;
  const cols = ref.shape.length > 1 ? ref.shape[ref.shape.length - 1] : 1;
  const rows = b.length / cols;
  const eps = tolerance.absolute + tolerance.relative * exact.maxAbsReference;
  const rowDiff = (i: number, j: number): number => {
    let d = 0;
    for (let c = 0; c < cols; c++) d = Math.max(d, Math.abs(a[j * cols + c] - b[i * cols + c]));
    return d;
  };
  const used = new Uint8Array(rows);
  let maxAbsDiff = 0;
  let reorderedRows = 0;
  let unmatchedRows = 0;
  for (let i = 0; i < rows; i++) {
    let match = -1;
    if (!used[i] && rowDiff(i, i) <= eps) match = i;
    for (let j = 0; match < 0 && j < rows; j++) if (!used[j] && rowDiff(i, j) <= eps) match = j;
    if (match < 0) {
      unmatchedRows++;
      continue;
    }
    used[match] = 1;
    if (match !== i) reorderedRows++;
    maxAbsDiff = Math.max(maxAbsDiff, rowDiff(i, match));
  }
  if (unmatchedRows > allowedUnmatched) {
    return `output ${name}: ${unmatchedRows} rows have no counterpart, near ties in the ranking explain at most ${allowedUnmatched}`;
  }
  return { name, maxAbsDiff, maxAbsReference: exact.maxAbsReference, reorderedRows, unmatchedRows };
}

export function withinTolerance(check: OutputCheck, tolerance: Tolerance): boolean {
  return check.maxAbsDiff <= tolerance.absolute + tolerance.relative * check.maxAbsReference;
}

/** Runs tfjs-wasm and the compiled model on seeded inputs; returns per-output worst differences or why they disagree. */
export async function compareWithTfjs(
  compiled: CompiledModel,
  source: { json: TfjsModelJson; weightData: Uint8Array },
  options: { samples: number; batchSize: number; seed: number; tolerance: Tolerance },
): Promise<{ checks: OutputCheck[]; comparedInputs: string[] } | { error: string }> {
  const ranked = new Set(compiled.selection.outputs);
  const topK = compiled.selection.topKNodes;
  // Loaded here, not at the top: a start-up that finds its compilations verified in the cache never loads
  // tfjs (tens of MiB of heap and a WASM instance) nor the compiler.
  const [{ loadTfjsReference }, { createOnnxSession }] = await Promise.all([import('./tfjsReference.js'), import('./onnxSession.js')]);
  const reference = await loadTfjsReference(source.json, source.weightData);
  // One intra-op thread: a cold start verifies its models side by side, one process per core, and a
  // session spinning on every core would only fight the other verifications (and tfjs, which uses one).
  const session = await createOnnxSession(compiled.onnx, { intraOpThreads: 1 });
  const worst = new Map<string, OutputCheck>();
  const record = (results: NamedTensors, expected: NamedTensors): string | undefined => {
    const ties = topK.reduce((n, node) => n + (expected[node] ? nearTies(expected[node], options.tolerance) : 0), 0);
    for (const name of reference.outputNames) {
      const c = ranked.has(name)
        ? compareRanked(name, results[name], expected[name], options.tolerance, 2 * ties)
        : compare(name, results[name], expected[name]);
      if (typeof c === 'string') return c;
      const prev = worst.get(name);
      const sum = (x?: number, y?: number): number | undefined => (x === undefined && y === undefined ? undefined : (x ?? 0) + (y ?? 0));
      const reorderedRows = sum(prev?.reorderedRows, c.reorderedRows);
      const unmatchedRows = sum(prev?.unmatchedRows, c.unmatchedRows);
      worst.set(name, {
        name,
        maxAbsDiff: Math.max(prev?.maxAbsDiff ?? 0, c.maxAbsDiff),
        maxAbsReference: Math.max(prev?.maxAbsReference ?? 0, c.maxAbsReference),
        ...(reorderedRows !== undefined ? { reorderedRows } : {}),
        ...(unmatchedRows !== undefined ? { unmatchedRows } : {}),
      });
    }
    return undefined;
  };
  try {
    const missing = reference.outputNames.filter((n) => !session.outputNames.includes(n));
    if (missing.length) return { error: `compiled model lacks outputs ${missing.join(', ')}` };
    const comparedInputs: string[] = [];
    for (let s = 0; s < options.samples; s++) {
      const inputs = randomInputs(compiled.inputs, 1, options.seed + s);
      const err = record(await session.run(inputs), await reference.run(inputs, topK));
      if (err) return { error: `seed ${options.seed + s}: ${err}` };
    }
    comparedInputs.push(`${options.samples} seeded inputs at batch 1`);
    if (compiled.dynamicBatch && options.batchSize > 1) {
      // Batched ONNX against tfjs per sample: the batch must not mix samples, whatever tfjs's graph allows.
      const seed = options.seed + 1000;
      const batch = randomInputs(compiled.inputs, options.batchSize, seed);
      const perSample: NamedTensors[] = [];
      for (let k = 0; k < options.batchSize; k++) perSample.push(await reference.run(sampleOf(batch, k), topK));
      const expected: NamedTensors = {};
      for (const name of [...reference.outputNames, ...topK]) expected[name] = concatBatch(perSample.map((r) => r[name]));
      const err = record(await session.run(batch), expected);
      if (err) return { error: `batch of ${options.batchSize}: ${err}` };
      comparedInputs.push(`1 seeded input at batch ${options.batchSize}`);
    }
    return { checks: [...worst.values()], comparedInputs };
  } finally {
    reference.dispose();
    await session.release();
  }
}

async function readManifest(file: string): Promise<Manifest | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Manifest;
  } catch {
    return undefined;
  }
}

async function writeAtomically(file: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, file);
}

function accepted(m: Manifest, onnxPath: string, tolerance: Tolerance, fromCache: boolean, rebuiltBecause?: string): VerifiedCompilation {
  const checks = m.checks ?? [];
  return {
    verified: true,
    onnxPath,
    onnxSha256: m.onnxSha256 ?? '',
    sourceDigest: m.sourceDigest,
    compilerVersion: m.compilerVersion,
    inputs: m.inputs ?? [],
    outputs: m.outputs ?? [],
    dynamicBatch: m.dynamicBatch ?? false,
    staticBatchReasons: m.staticBatchReasons ?? [],
    flopsPerSample: m.flopsPerSample ?? 0,
    maxAbsDiff: Object.fromEntries(checks.map((c) => [c.name, c.maxAbsDiff])),
    checks,
    comparedInputs: m.comparedInputs ?? [],
    tolerance,
    fromCache,
    ...(rebuiltBecause ? { rebuiltBecause } : {}),
  };
}

function failing(checks: OutputCheck[], tolerance: Tolerance): string | undefined {
  const bad = checks.filter((c) => !withinTolerance(c, tolerance));
  if (bad.length === 0) return undefined;
  return bad
    .map((c) => `output ${c.name} differs by ${c.maxAbsDiff.toExponential(2)} (allowed ${(tolerance.absolute + tolerance.relative * c.maxAbsReference).toExponential(2)})`)
    .join('; ');
}

/** A compilation's cache key: its source, the compiler's version and the channel block it aligned to. */
function compilationKey(sourceDigest: string): string {
  return sha256(new TextEncoder().encode(`${sourceDigest}:${COMPILER_VERSION}:c${cpuChannelBlock()}`)).slice(0, 32);
}

/**
 * The verdict an earlier compilation left in the cache (verified with its file intact, or a remembered
 * rejection), or undefined when this source must be compiled. Reads files only: no compiler, tfjs or
 * onnxruntime is loaded, so a warm start can decide in the main thread.
 */
export async function cachedCompilation(options: CompileAndVerifyOptions): Promise<CompileAndVerifyResult | undefined> {
  const tolerance = { ...DEFAULT_TOLERANCE, ...options.tolerance };
  const source = await readTfjsModel(options.modelJsonPath);
  const key = compilationKey(source.sourceDigest);
  const onnxPath = path.join(options.cacheDir, `compiled-${key}.onnx`);
  const cached = await readManifest(path.join(options.cacheDir, `compiled-${key}.json`));
  if (!cached || cached.sourceDigest !== source.sourceDigest || cached.compilerVersion !== COMPILER_VERSION) return undefined;
  if (!cached.verified) return { verified: false, reason: cached.reason ?? 'rejected earlier', sourceDigest: source.sourceDigest, fromCache: true };
  const bytes = await readFile(onnxPath).catch(() => undefined);
  if (!bytes || sha256(bytes) !== cached.onnxSha256) return undefined;
  const bad = failing(cached.checks ?? [], tolerance);
  if (bad) return { verified: false, reason: `outside tolerance: ${bad}`, sourceDigest: source.sourceDigest, fromCache: true };
  return accepted(cached, onnxPath, tolerance, true);
}

/**
 * Compiles and verifies, or returns the cached result. Never throws for a model that cannot be compiled
 * or does not match: it answers `{ verified: false, reason }` and the runtime serves the model with tfjs.
 * It throws only when the source itself cannot be read.
 */
export async function compileAndVerify(options: CompileAndVerifyOptions): Promise<CompileAndVerifyResult> {
  const tolerance = { ...DEFAULT_TOLERANCE, ...options.tolerance };
  const modelName = options.modelName ?? path.basename(options.modelJsonPath, '.json');
  const source = await readTfjsModel(options.modelJsonPath);
  const key = compilationKey(source.sourceDigest);
  await mkdir(options.cacheDir, { recursive: true });
  const onnxPath = path.join(options.cacheDir, `compiled-${key}.onnx`);
  const manifestPath = path.join(options.cacheDir, `compiled-${key}.json`);

  let rebuiltBecause: string | undefined;
  const cached = await readManifest(manifestPath);
  if (cached && cached.sourceDigest === source.sourceDigest && cached.compilerVersion === COMPILER_VERSION) {
    if (!cached.verified) return { verified: false, reason: cached.reason ?? 'rejected earlier', sourceDigest: source.sourceDigest, fromCache: true };
    const bytes = await readFile(onnxPath).catch(() => undefined);
    if (bytes && sha256(bytes) === cached.onnxSha256) {
      const bad = failing(cached.checks ?? [], tolerance);
      if (bad) return { verified: false, reason: `outside tolerance: ${bad}`, sourceDigest: source.sourceDigest, fromCache: true };
      return accepted(cached, onnxPath, tolerance, true);
    }
    rebuiltBecause = bytes ? 'the cached compiled model did not match its recorded sha256' : 'the cached compiled model was missing';
  }

  const base = { compilerVersion: COMPILER_VERSION, sourceDigest: source.sourceDigest, modelName };
  const reject = async (reason: string, remember: boolean): Promise<RejectedCompilation> => {
    // Only a compile error is a property of the source and compiler alone; a mismatch depends on the
    // tolerance asked for and a failed run may be transient, so those are tried again next time.
    if (remember) {
      const manifest: Manifest = { ...base, verified: false, reason, createdAt: new Date().toISOString() };
      await writeAtomically(manifestPath, JSON.stringify(manifest, null, 2));
    }
    return { verified: false, reason, sourceDigest: source.sourceDigest, fromCache: false };
  };

  let compiled: CompiledModel;
  // The compiler is imported on demand (a warm start never loads it). Where this file itself runs as CommonJS
  // (tsx under mocha), that import is an ES module with its own copy of errors.ts, so its errors are
  // recognised by the class from the same import.
  const [{ compileTfjsGraph }, loadedErrors] = await Promise.all([import('./compile.js'), import('./errors.js')]);
  try {
    compiled = compileTfjsGraph(source.json, source.weightData, { modelName });
  } catch (err) {
    if (err instanceof CompileError || err instanceof loadedErrors.CompileError) return reject((err as Error).message, true);
    throw err;
  }
  let comparison: Awaited<ReturnType<typeof compareWithTfjs>>;
  try {
    comparison = await compareWithTfjs(compiled, source, {
      samples: options.samples ?? 3,
      batchSize: options.batchSize ?? 3,
      seed: options.seed ?? 7,
      tolerance,
    });
  } catch (err) {
    // onnxruntime refusing the model, or tfjs failing on the seeded inputs: not a match, so not accepted.
    return reject(`verification run failed: ${(err as Error).message}`, false);
  }
  if ('error' in comparison) return reject(comparison.error, false);
  const bad = failing(comparison.checks, tolerance);
  if (bad) return reject(`outside tolerance: ${bad}`, false);

  const manifest: Manifest = {
    ...base,
    verified: true,
    onnxFile: path.basename(onnxPath),
    onnxSha256: sha256(compiled.onnx),
    inputs: compiled.inputs,
    outputs: compiled.outputs,
    dynamicBatch: compiled.dynamicBatch,
    staticBatchReasons: compiled.staticBatchReasons,
    flopsPerSample: compiled.flopsPerSample,
    checks: comparison.checks,
    comparedInputs: comparison.comparedInputs,
    tolerance,
    createdAt: new Date().toISOString(),
  };
  await writeAtomically(onnxPath, compiled.onnx);
  await writeAtomically(manifestPath, JSON.stringify(manifest, null, 2));
  return accepted(manifest, onnxPath, tolerance, false, rebuiltBecause);
}
