import { InvalidInput } from '../core/errors.js';
import type { ServingModel } from '../core/registry.js';
import type { InferOptions } from '../core/executor.js';
import { checkedGrammar, phraseGrammar, type GrammarRequest } from './grammar.js';
import { resample } from './resample.js';
import { DICTATION, SPEECH_SAMPLE_RATE, speechInputs } from './signature.js';
import { decodeWav, type DecodedAudio } from './wav.js';

/** Speech limits (one home: the route, the chain, the docs and the tests read them here). */
export const SPEECH_LIMITS = {
  /** Longest utterance accepted (413 beyond): a command or a dictated sentence, not a recording. */
  maxSeconds: 30,
  /** Shortest utterance: below a tenth of a second there is no word to hear. */
  minSeconds: 0.1,
  /** Peak level (full scale 1) under which audio counts as silence: -60 dBFS. */
  silencePeak: 0.001,
};

export interface Transcription {
  text: string;
  confidence: number;
  words: { word: string; start: number; end: number }[];
  /** `grammar`, `phrases`, `corpus`, `model-phrases` or `dictation`: what constrained recognition. */
  constraint: string;
  audio: { sampleRate: number; channels: number; encoding: string; durationSeconds: number };
}

export interface StageClock {
  time<T>(stage: string, work: () => Promise<T>): Promise<T>;
  add(stage: string, ms: number): void;
}

/** Decodes WAV bytes to 16 kHz mono, refusing what holds no speech (400) or lasts too long (413). */
export function prepareAudio(bytes: Buffer): { samples: Float32Array; decoded: DecodedAudio } {
  if (bytes.length === 0) throw new InvalidInput('the request has no audio: send a WAV file as the body');
  const decoded = decodeWav(bytes, { maxSeconds: SPEECH_LIMITS.maxSeconds });
  if (decoded.durationSeconds < SPEECH_LIMITS.minSeconds) {
    throw new InvalidInput(`the audio lasts ${decoded.durationSeconds.toFixed(3)} s; at least ${SPEECH_LIMITS.minSeconds} s is needed`);
  }
  let peak = 0;
  for (const s of decoded.samples) peak = Math.max(peak, Math.abs(s));
  if (peak < SPEECH_LIMITS.silencePeak) throw new InvalidInput('the audio is silent (its peak is below -60 dBFS): nothing to recognise');
  return { samples: resample(decoded.samples, decoded.sampleRate, SPEECH_SAMPLE_RATE), decoded };
}

/** The grammar input for a request: its own grammar or phrases, else `fallback` (a corpus's), else the model's default. */
export function grammarInput(request: GrammarRequest, fallback?: { grammar: string; name: string }): { grammar: string; constraint: string } {
  if (request.dictation) return { grammar: DICTATION, constraint: 'dictation' };
  if (request.grammar !== undefined) return { grammar: checkedGrammar(request.grammar), constraint: 'grammar' };
  if (request.phrases !== undefined) return { grammar: phraseGrammar(request.phrases), constraint: 'phrases' };
  if (fallback) return { grammar: fallback.grammar, constraint: fallback.name };
  return { grammar: '', constraint: 'model-default' };
}

/** Audio bytes -> text with the speech model: decode, resample, recognise. */
export async function transcribe(
  model: ServingModel,
  bytes: Buffer,
  constraint: { grammar: string; constraint: string },
  clock: StageClock,
  options?: InferOptions,
): Promise<Transcription> {
  const { samples, decoded } = await clock.time('decode', async () => prepareAudio(bytes));
  const out = await clock.time('recognise', () => model.infer(speechInputs(samples, constraint.grammar), options));
  const words = out.words.data as string[];
  const times = out.word_times.data as Float32Array;
  const round = (x: number): number => Math.round(x * 1000) / 1000;
  return {
    text: (out.text.data as string[])[0] ?? '',
    confidence: Math.round(((out.confidence.data as Float32Array)[0] ?? 0) * 1e4) / 1e4,
    words: words.map((word, i) => ({ word, start: round(times[i * 2]), end: round(times[i * 2 + 1]) })),
    constraint: constraint.constraint === 'model-default' ? (model.config.labels?.length ? 'model-phrases' : 'dictation') : constraint.constraint,
    audio: { sampleRate: decoded.sampleRate, channels: decoded.channels, encoding: decoded.encoding, durationSeconds: round(decoded.durationSeconds) },
  };
}
