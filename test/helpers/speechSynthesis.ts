// Spoken test audio from Debian's espeak-ng: real synthesised speech, in several voices, speeds and rates.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { resample } from '../../inference-runtime/speech/resample.js';
import { decodeWav, encodeWav16 } from '../../inference-runtime/speech/wav.js';

const run = promisify(execFile);

export interface Voice {
  /** espeak-ng voice, e.g. `en-us`, `en-us+f3`, `en`. */
  voice: string;
  /** Words per minute. */
  speed: number;
  /** Sample rate of the WAV file handed to the runtime (espeak-ng writes 22050 Hz; others are resampled here). */
  rate: number;
}

/** Voices, speeds and rates of the synthetic test set: espeak-ng's own rate, telephone, wide-band and studio. */
export const TEST_VOICES: Voice[] = [
  { voice: 'en-us', speed: 150, rate: 22_050 },
  { voice: 'en-us+f3', speed: 130, rate: 11_025 },
  { voice: 'en-us+m3', speed: 175, rate: 44_100 },
  { voice: 'en-us+f2', speed: 160, rate: 48_000 },
];

/** A 16-bit WAV file of `text` spoken by espeak-ng (argv, no shell), at `voice.rate`. */
export async function speak(text: string, voice: Voice): Promise<Buffer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mloffload-speech-'));
  try {
    const file = path.join(dir, 'utterance.wav');
    await run('espeak-ng', ['-v', voice.voice, '-s', String(voice.speed), '-w', file, '--', text]);
    const wav = await readFile(file);
    if (voice.rate === 22_050) return wav;
    const decoded = decodeWav(wav, { maxSeconds: 600 });
    return encodeWav16(resample(decoded.samples, decoded.sampleRate, voice.rate), voice.rate);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Word error rate: word-level edit distance over the reference's word count. */
export function wordErrors(reference: string, hypothesis: string): { errors: number; words: number } {
  const r = reference.toLowerCase().split(/\s+/).filter(Boolean);
  const h = hypothesis.toLowerCase().split(/\s+/).filter(Boolean);
  let prev = Array.from({ length: h.length + 1 }, (_, j) => j);
  for (let i = 1; i <= r.length; i++) {
    const cur = [i];
    for (let j = 1; j <= h.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r[i - 1] === h[j - 1] ? 0 : 1));
    prev = cur;
  }
  return { errors: prev[h.length], words: r.length };
}
