/**
 * Speech and dialog benchmark: the built-in speech recogniser and smart-home corpus behind their HTTP routes,
 * with one inference thread (so one recogniser process: one core for recognition).
 *
 *   node --import tsx bench/speech.ts [--rounds 1] [--messages 400] [--concurrency 4] [--dictation-voices 1]
 *
 * Measures, over espeak-ng commands in four voices (22.05, 11.025, 44.1 and 48 kHz):
 * - the recogniser's real-time factor (recognition time / audio duration) under the command grammar and in
 *   open dictation, with the command WER and dictation WER of the same run;
 * - dialog messages per second over HTTP (sequential and with `--concurrency` clients);
 * - the voice chain's latency (audio in, intent and answer out) p50 / p95.
 * Prints one JSON object.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { percentile } from './stats.js';
import { DIALOG_SMART_HOME, SPEECH_RECOGNISER } from '../inference-runtime/config/defaultPool.js';
import { createModelRegistry } from '../inference-runtime/dataplane/modelRegistry.js';
import { corpusGrammar, parseCorpus } from '../inference-runtime/dialog/corpus.js';
import { createApp } from '../inference-runtime/http/app.js';
import { startServer } from '../inference-runtime/server.js';
import { dialogIntentTask } from '../inference-runtime/tasks/dialog/intent.js';
import { speechRecognitionTask } from '../inference-runtime/tasks/speech/recognition.js';
import { speak, TEST_VOICES, wordErrors } from '../test/helpers/speechSynthesis.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '1' },
    messages: { type: 'string', default: '400' },
    concurrency: { type: 'string', default: '4' },
    'dictation-voices': { type: 'string', default: '1' },
  },
});
const dictationVoices = Number(values['dictation-voices']);
const rounds = Number(values.rounds);
const messages = Number(values.messages);
const concurrency = Number(values.concurrency);

const corpusPath = fileURLToPath(DIALOG_SMART_HOME.source.uri);
const corpus = parseCorpus(readFileSync(corpusPath, 'utf8'));
const heldOut = JSON.parse(readFileSync(corpusPath.replace(/\.json$/, '.heldout.json'), 'utf8')) as {
  utterances: { text: string }[];
  spoken: { text: string; intent: string }[];
};

const r3 = (x: number): number => Math.round(x * 1000) / 1000;

const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'mloffload-bench-speech-'));
const registry = createModelRegistry({ models: [SPEECH_RECOGNISER, DIALOG_SMART_HOME] }, { workers: 1, benchmark: false, repository: { cacheDir } });
await registry.whenSettled();
const down = registry.list().filter((m) => m.state !== 'AVAILABLE');
if (down.length) throw new Error(`models not available: ${JSON.stringify(down)}`);
const limits = { maxBodyBytes: 8 * 1024 * 1024, maxDecodeBytes: 64 * 1024 * 1024, maxConcurrentDecodes: 2, maxWaitingDecodes: 8 };
const app = createApp({
  registry,
  routers: [speechRecognitionTask, dialogIntentTask].map((t) => t.routes!({ registry, limits })),
  options: { requestTimeoutMs: 120_000 },
});
const server = await startServer(app.callback(), { port: 0, host: '127.0.0.1' });
const post = async (route: string, body: string | Buffer, type: string): Promise<Record<string, unknown>> => {
  const res = await fetch(`${server.url}${route}`, { method: 'POST', headers: { 'content-type': type }, body: typeof body === 'string' ? body : new Uint8Array(body) });
  if (res.status !== 200) throw new Error(`${route}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>;
};

try {
  const utterances: { text: string; wav: Buffer; voice: (typeof TEST_VOICES)[number] }[] = [];
  for (const voice of TEST_VOICES) {
    for (const s of heldOut.spoken) {
      const wav = await speak(s.text, voice);
      utterances.push({ text: s.text, wav, voice });
    }
  }
  const grammar = corpusGrammar(corpus);
  const recognition = async (extra: Record<string, unknown>, voices = TEST_VOICES.length) => {
    let audioSeconds = 0;
    let recogniseMs = 0;
    let errors = 0;
    let words = 0;
    const rtfs: number[] = [];
    for (let r = 0; r < rounds; r++) {
      for (const u of utterances.filter((x) => TEST_VOICES.indexOf(x.voice) < voices)) {
        const body = await post('/v1/speech/transcriptions', JSON.stringify({ audio: { b64: u.wav.toString('base64') }, ...extra }), 'application/json');
        const seconds = (body.audio as { durationSeconds: number }).durationSeconds;
        const ms = (body.timing as Record<string, number>).recognise;
        audioSeconds += seconds;
        recogniseMs += ms;
        rtfs.push(ms / 1000 / seconds);
        const e = wordErrors(u.text, body.text as string);
        errors += e.errors;
        words += e.words;
      }
    }
    return { utterances: rtfs.length, audioSeconds: r3(audioSeconds), realTimeFactor: r3(recogniseMs / 1000 / audioSeconds), rtfP50: r3(percentile(rtfs, 50)), rtfP95: r3(percentile(rtfs, 95)), wer: r3(errors / words) };
  };
  const commandGrammar = await recognition({ grammar });
  // Dictation searches the whole language model: seconds per utterance on a loaded machine, so fewer voices.
  const dictation = { voices: dictationVoices, ...(await recognition({ mode: 'dictation' }, dictationVoices)) };

  const texts = heldOut.utterances.map((u) => u.text);
  const message = (i: number) => post('/v1/dialog/messages', JSON.stringify({ text: texts[i % texts.length] }), 'application/json');
  let t0 = performance.now();
  for (let i = 0; i < messages; i++) await message(i);
  const sequentialPerSec = messages / ((performance.now() - t0) / 1000);
  t0 = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < messages) await message(next++);
  }));
  const concurrentPerSec = messages / ((performance.now() - t0) / 1000);

  const chainMs: number[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const u of utterances) {
      const t = performance.now();
      await post('/v1/dialog/voice', u.wav, 'audio/wav');
      chainMs.push(performance.now() - t);
    }
  }
  const voiceSeconds = utterances.map((u) => u.wav.length);
  process.stdout.write(
    `${JSON.stringify(
      {
        machine: { cpus: os.cpus().length, loadavg: os.loadavg().map((l) => Math.round(l * 100) / 100) },
        voices: TEST_VOICES,
        recogniser: { workers: 1, commandGrammar, dictation },
        dialog: { messages, sequentialPerSec: Math.round(sequentialPerSec), concurrency, concurrentPerSec: Math.round(concurrentPerSec) },
        voiceChain: { requests: chainMs.length, p50Ms: Math.round(percentile(chainMs, 50)), p95Ms: Math.round(percentile(chainMs, 95)), meanWavBytes: Math.round(voiceSeconds.reduce((a, b) => a + b, 0) / voiceSeconds.length) },
      },
      null,
      2,
    )}\n`,
  );
} finally {
  await server.close();
  await registry.close();
  rmSync(cacheDir, { recursive: true, force: true });
}
