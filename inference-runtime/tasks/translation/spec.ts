import type { TaskSpec } from '../task.js';
import { pairLabelProblem, TRANSLATION_TASK } from './pairs.js';

/** What the operator knows of translation: its rules, without its routes and engine. */
export const translationSpec: TaskSpec = {
  id: TRANSLATION_TASK,
  summary: 'Translates texts from a source to a target language (POST /v1/translation/translations).',
  frameworks: ['apertium'],
  labels: { count: 2, required: true, note: 'the source and target language as ISO 639-3 or 639-1 codes, e.g. [eng, spa]' },
  checkLabels: (labels) => {
    const problem = pairLabelProblem(labels);
    return problem ? [problem] : [];
  },
};
