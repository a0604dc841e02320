import type { TaskSpec } from '../task.js';

export const DIALOG_INTENT = 'dialog/intent';

/** What the operator knows of the dialog engine: its rules, without its routes and engine. */
export const dialogIntentSpec: TaskSpec = {
  id: DIALOG_INTENT,
  summary: 'Dialog engine: an utterance in, intent, entities and an answer out; voice in through speech recognition (POST /v1/dialog/messages, /v1/dialog/voice).',
  frameworks: ['nlpjs'],
};
