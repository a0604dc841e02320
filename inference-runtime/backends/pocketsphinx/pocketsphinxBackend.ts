import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PoolModel } from '../../config/types.js';
import { InvalidInput } from '../../core/errors.js';
import type { HostTensor, NamedTensors } from '../../core/tensor.js';
import { resolveSource } from '../../repository/modelSource.js';
import { DICTATION, SPEECH_SAMPLE_RATE, speechSignature, type SpeechModelInputs } from '../../speech/signature.js';
import { phraseGrammar } from '../../speech/grammar.js';
import type { Backend, LoadedModel, ModelFiles } from '../backend.js';
import { RecogniserProcess, type RawRecognition } from './recogniserProcess.js';

/** PocketSphinx's feature frames per second (10 ms shift in every shipped acoustic model). */
const FRAME_RATE = 100;

/** The interpreter that runs recogniser.py: the distribution's, which sees the distribution's libpocketsphinx. */
function pythonCommand(): string {
  const env = process.env.MLOFFLOAD_PYTHON?.trim();
  if (env) return env;
  return existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
}

/** recogniser.py next to this module, or in the source tree when running from a build without it. */
function recogniserScript(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [
    path.join(here, 'recogniser.py'),
    path.join(here, '..', '..', '..', '..', 'inference-runtime', 'backends', 'pocketsphinx', 'recogniser.py'),
  ];
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new Error(`recogniser.py not found (looked in ${candidates.join(', ')})`);
  return found;
}

/**
 * The model folder PocketSphinx distributions install: the pronunciation dictionary (the pool entry's source,
 * pinned by its digest), one acoustic-model folder (holding `mdef`) and one n-gram language model
 * (`*.lm.bin`, the phone-loop model excepted) beside it. Debian's pocketsphinx-en-us and the PyPI wheel's
 * `pocketsphinx/model/en-us` have this layout.
 */
export async function modelLayout(model: PoolModel): Promise<{ folder: string; acousticModel: string; languageModel: string }> {
  const source = resolveSource(model.source.uri);
  if (source.entry.kind !== 'local') {
    throw new Error('a pocketsphinx model needs a local source (file:// or npm:): its acoustic model folder is read next to the dictionary');
  }
  const folder = path.dirname(source.entry.path);
  const entries = await readdir(folder, { withFileTypes: true });
  const acoustic = entries.filter((e) => e.isDirectory() && existsSync(path.join(folder, e.name, 'mdef'))).map((e) => e.name);
  const lms = entries.filter((e) => e.isFile() && /\.lm(\.bin|\.dmp)?$/i.test(e.name) && !/phone/i.test(e.name)).map((e) => e.name);
  if (acoustic.length !== 1) throw new Error(`${folder} must hold exactly one acoustic model folder (with mdef), found ${acoustic.length}`);
  if (lms.length !== 1) throw new Error(`${folder} must hold exactly one language model (*.lm.bin), found ${lms.length}`);
  return { folder, acousticModel: path.join(folder, acoustic[0]), languageModel: path.join(folder, lms[0]) };
}

/** Drops fillers (`<s>`, `<sil>`, `[NOISE]`) and pronunciation variants (`on(2)` is `on`). */
export function spokenWords(raw: RawRecognition['words']): { word: string; start: number; end: number; probability: number }[] {
  return raw
    .filter(([w]) => !/^[<[+]/.test(w))
    .map(([w, sf, ef, p]) => ({ word: w.replace(/\(\d+\)$/, ''), start: sf / FRAME_RATE, end: (ef + 1) / FRAME_RATE, probability: p }));
}

/**
 * The mean word posterior. Under a grammar PocketSphinx weighs no alternative paths, so it reports 1 for
 * every word: confidence then says only that the audio matched the grammar.
 */
function confidenceOf(words: { probability: number }[]): number {
  if (!words.length) return 0;
  const mean = words.reduce((s, w) => s + w.probability, 0) / words.length;
  return Math.round(Math.min(1, mean) * 1e4) / 1e4;
}

function toPcm16(samples: Float32Array): Buffer {
  const out = Buffer.alloc(samples.length * 2);
  for (let i = 0; i < samples.length; i++) out.writeInt16LE(Math.round(Math.max(-1, Math.min(1, samples[i])) * 32767), i * 2);
  return out;
}

/**
 * Time a recogniser may spend on an utterance, waiting included: a guard against a hung process, not the
 * client's deadline (the request's own timeout answers the client first). Generous, because dictation runs
 * near real time on a free core and a shared edge node may give it a fraction of one.
 */
export function recognitionDeadlineMs(seconds: number): number {
  return Math.round(30_000 + seconds * 10_000);
}

class PocketSphinxModel implements LoadedModel {
  readonly signature = speechSignature();
  readonly backendName = 'pocketsphinx';

  constructor(
    private readonly recogniser: RecogniserProcess,
    private readonly defaultGrammar: string | null,
  ) {}

  async infer(inputs: NamedTensors): Promise<NamedTensors> {
    const { audio, grammar } = inputs as unknown as SpeechModelInputs;
    const requested = (grammar.data as string[])[0] ?? '';
    const jsgf = requested === DICTATION ? null : requested || this.defaultGrammar;
    const samples = audio.data as Float32Array;
    const raw = await this.recogniser.recognise(toPcm16(samples), jsgf, recognitionDeadlineMs(samples.length / SPEECH_SAMPLE_RATE));
    const words = spokenWords(raw.words);
    const times = new Float32Array(words.length * 2);
    words.forEach((w, i) => {
      times[i * 2] = w.start;
      times[i * 2 + 1] = w.end;
    });
    const text: HostTensor = { dtype: 'string', shape: [1], data: [words.map((w) => w.word).join(' ')] };
    return {
      text,
      confidence: { dtype: 'float32', shape: [1], data: new Float32Array([confidenceOf(words)]) },
      words: { dtype: 'string', shape: [words.length], data: words.map((w) => w.word) },
      word_times: { dtype: 'float32', shape: [words.length, 2], data: times },
    };
  }

  dispose(): Promise<void> {
    return this.recogniser.close();
  }
}

/**
 * PocketSphinx as a process engine: each loaded model is one supervised recogniser process (see
 * recogniserProcess.ts) over the distribution's libpocketsphinx. A model's `labels`, when given, are its
 * phrase list: recognition is constrained to them unless a request brings its own grammar.
 */
export class PocketSphinxBackend implements Backend {
  readonly name = 'pocketsphinx';

  supports(framework: PoolModel['framework']): boolean {
    return framework === 'pocketsphinx';
  }

  async load(model: PoolModel, files: ModelFiles): Promise<LoadedModel> {
    const layout = await modelLayout(model);
    let defaultGrammar: string | null = null;
    if (model.labels?.length) {
      try {
        defaultGrammar = phraseGrammar(model.labels);
      } catch (err) {
        if (err instanceof InvalidInput) throw new Error(`model ${model.name}: labels as a phrase list: ${err.message}`);
        throw err;
      }
    }
    const recogniser = new RecogniserProcess({
      command: pythonCommand(),
      // The verified copy of the dictionary, the acoustic model and language model from the same folder.
      args: [recogniserScript(), layout.acousticModel, files.entryPath, layout.languageModel],
      onLog: (line) => {
        if (process.env.MLOFFLOAD_DEBUG_RECOGNISER) process.stderr.write(`[pocketsphinx ${model.name}] ${line}\n`);
      },
    });
    try {
      await recogniser.start();
      if (defaultGrammar) {
        // Refuses a phrase list with words the dictionary lacks now, not at the first request.
        await recogniser.recognise(Buffer.alloc(3200), defaultGrammar, 30_000);
      }
    } catch (err) {
      await recogniser.close();
      throw err;
    }
    return new PocketSphinxModel(recogniser, defaultGrammar);
  }
}
