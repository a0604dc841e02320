import type { TaskSpec } from '../task.js';

export const SPEECH_RECOGNITION = 'speech/recognition';

/** What the operator knows of speech recognition: its rules, without its routes and engine. */
export const speechRecognitionSpec: TaskSpec = {
  id: SPEECH_RECOGNITION,
  summary: 'Speech to text: WAV audio in, text, confidence and word timings out; optional JSGF grammar or phrase list (POST /v1/speech/transcriptions).',
  frameworks: ['pocketsphinx'],
  labels: { note: 'optional: a phrase list that constrains recognition unless a request brings its own grammar' },
};
