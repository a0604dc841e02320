import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Framework, PoolModel } from '../../config/types.js';
import { InvalidInput } from '../../core/errors.js';
import { redactText } from '../../repository/redact.js';
import type { NamedTensors } from '../../core/tensor.js';
import type { Backend, LoadedModel, ModelFiles, ModelSignature } from '../backend.js';
import { apertiumLimits, type ApertiumLimits } from './limits.js';
import { describePipeline, parseModePipeline, pipelineDataFiles, type PipelineStage } from './modePipeline.js';
import { runOnce } from './oneShot.js';
import { filesUnder, looksLikeArchive, PairArchiveError, unpackPairArchive } from './pairArchive.js';
import { PipelinePool, type PipelineEvent } from './pipelinePool.js';

/** Input and output names of an Apertium model: a batch of texts in, their translations out, row for row. */
export const APERTIUM_INPUT = 'text';
export const APERTIUM_OUTPUT = 'translation';

export const APERTIUM_SIGNATURE: ModelSignature = {
  inputs: [{ name: APERTIUM_INPUT, dtype: 'string', shape: [-1] }],
  outputs: [{ name: APERTIUM_OUTPUT, dtype: 'string', shape: [-1] }],
};

/** The largest mode file read: real ones are a few hundred bytes to a few kilobytes. */
const MAX_MODE_BYTES = 64 * 1024;

/**
 * Turns a mode file into the stages of its null-flush pipeline, as `apertium -z` would run them:
 * `apertium-wblank-mode -z` (argv, no shell) adds the `-z` flags and the word-bound-blank stages of the
 * installed Apertium, and the result is parsed, checked and its data files looked up.
 */
export async function nullFlushStages(modePath: string, timeoutMs: number, relocate?: (file: string) => string): Promise<PipelineStage[]> {
  const mode = await readFile(modePath);
  if (mode.length > MAX_MODE_BYTES) throw new Error(`the mode file is ${mode.length} bytes, over ${MAX_MODE_BYTES}: not an Apertium mode`);
  const text = await runOnce('apertium-wblank-mode', ['-z', modePath], Buffer.alloc(0), { timeoutMs, maxOutputBytes: 4 * MAX_MODE_BYTES });
  const parsed = parseModePipeline(text.toString('utf8'));
  const stages = relocate ? parsed.map((s) => ({ ...s, args: s.args.map((a) => (a.startsWith('/') ? relocate(a) : a)) })) : parsed;
  const missing: string[] = [];
  for (const file of pipelineDataFiles(stages)) {
    await access(file).catch(() => missing.push(file));
  }
  if (missing.length) {
    throw new Error(`the language pair's data is not installed: ${missing.slice(0, 3).map((f) => path.basename(f)).join(', ')}${missing.length > 3 ? ` and ${missing.length - 3} more` : ''} missing`);
  }
  return stages;
}

/**
 * Pipeline stops, as JSON lines on the runtime's log stream (this runs in an inference thread, whose output
 * reaches the process's stdout): a crashed, killed or overrunning pipeline is replaced, and operators see why.
 */
function logStops(model: PoolModel): PipelineEvent {
  return (event, detail) => {
    if (event !== 'pipeline-stopped') return;
    const line = { time: new Date().toISOString(), level: 'warn', event: 'apertium-pipeline-stopped', model: model.name, version: model.version, reason: detail.reason };
    process.stdout.write(`${redactText(JSON.stringify(line))}\n`);
  };
}

/**
 * The stages of a pair shipped as an archive: its mode (`<source>-<target>.mode` after the labels, or the
 * only one) with every data file it names taken from the archive by file name, so the pipeline reads the
 * verified archive's files and nothing else of the node.
 */
async function archivedPairStages(model: PoolModel, files: ModelFiles, timeoutMs: number): Promise<PipelineStage[]> {
  const dir = await unpackPairArchive(await readFile(files.entryPath), files.workDir);
  const all = await filesUnder(dir);
  const modes = all.filter((f) => f.endsWith('.mode'));
  const wanted = model.labels?.length === 2 ? `${model.labels[0]}-${model.labels[1]}.mode` : undefined;
  const mode = modes.find((m) => path.basename(m) === wanted) ?? (modes.length === 1 ? modes[0] : undefined);
  if (!mode) {
    throw new PairArchiveError(`the archive holds ${modes.length ? `the modes ${modes.join(', ')} but not ${wanted ?? 'a single one'}` : 'no .mode file'}`);
  }
  const byName = new Map<string, string[]>();
  for (const f of all) byName.set(path.basename(f), [...(byName.get(path.basename(f)) ?? []), f]);
  return nullFlushStages(path.join(dir, mode), timeoutMs, (file) => {
    const hits = byName.get(path.basename(file)) ?? [];
    if (hits.length !== 1) throw new PairArchiveError(`the mode reads ${path.basename(file)}, which the archive holds ${hits.length ? `${hits.length} times` : 'not'}`);
    return path.join(dir, hits[0]);
  });
}

/** A language pair served by a PipelinePool. */
class ApertiumModel implements LoadedModel {
  readonly signature = APERTIUM_SIGNATURE;
  readonly backendName = 'apertium';

  constructor(
    readonly name: string,
    readonly pool: PipelinePool,
  ) {}

  async infer(inputs: NamedTensors): Promise<NamedTensors> {
    const input = inputs[APERTIUM_INPUT];
    if (!input || input.dtype !== 'string' || !Array.isArray(input.data)) {
      throw new InvalidInput(`model ${this.name} takes a string tensor named ${APERTIUM_INPUT}`);
    }
    const out = await this.pool.translate(input.data);
    return { [APERTIUM_OUTPUT]: { dtype: 'string', shape: [out.length], data: out } };
  }

  dispose(): Promise<void> {
    return this.pool.close();
  }
}

export interface ApertiumBackendOptions {
  limits?: ApertiumLimits;
  onEvent?: PipelineEvent;
}

/**
 * Apertium language pairs. A model's source is the pair's mode file (e.g. `file:///usr/share/apertium/modes/
 * eng-spa.mode`, pinned by digest); its data files are those of the pair installed in the runtime image.
 * Each inference thread that loads a pair runs its own pipelines (`limits.pipelines`, default one): the
 * worker pool's dispatcher already spreads requests over threads, so N threads give N pipelines, with its
 * bounded queue, deadlines and metrics in front of them. A thread only moves bytes; the translating runs in
 * the pipelines' processes, on whichever cores the kernel gives them.
 */
export class ApertiumBackend implements Backend {
  readonly name = 'apertium';

  constructor(private readonly options: ApertiumBackendOptions = {}) {}

  static create(options: ApertiumBackendOptions = {}): Promise<ApertiumBackend> {
    return Promise.resolve(new ApertiumBackend(options));
  }

  supports(framework: Framework): boolean {
    return framework === 'apertium';
  }

  async load(model: PoolModel, files: ModelFiles): Promise<LoadedModel> {
    const limits = this.options.limits ?? apertiumLimits();
    const stages = (await looksLikeArchive(files.entryPath))
      ? await archivedPairStages(model, files, limits.frameTimeoutMs)
      : await nullFlushStages(files.entryPath, limits.frameTimeoutMs);
    const pool = new PipelinePool(model.name, stages, limits, this.options.onEvent ?? logStops(model));
    try {
      // A pair that cannot translate a word is reported at load (UNAVAILABLE with the reason), not at its first request.
      const [probe] = await pool.translate(['house']);
      if (!probe?.trim()) throw new Error('it answered an empty translation');
    } catch (err) {
      await pool.close();
      throw new Error(`the Apertium pipeline (${describePipeline(stages).slice(0, 200)}...) failed its first translation: ${(err as Error).message}`, { cause: err });
    }
    return new ApertiumModel(model.name, pool);
  }
}
