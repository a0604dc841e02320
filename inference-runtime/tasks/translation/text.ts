import { APERTIUM_INPUT, APERTIUM_SIGNATURE } from '../../backends/apertium/apertiumBackend.js';
import type { NamedTensors } from '../../core/tensor.js';
import { signatureMismatch } from '../common/signatureCheck.js';
import type { TaskModule } from '../task.js';
import { translationRouter } from './routes.js';
import { translationSpec } from './spec.js';

/** Sentences shaped like real requests, for warm-up and the load-time benchmark, by source language (ISO 639-3). */
const EXAMPLES: Record<string, string> = {
  eng: 'The weather is nice today and the shop on the corner opens at nine.',
  spa: 'Hoy hace buen tiempo y la tienda de la esquina abre a las nueve.',
};
const FALLBACK_EXAMPLE = 'Apertium 3 2026';

/**
 * `translation/text`: text in one language to text in another. A model's labels are its pair, `[source,
 * target]`; its signature is one string tensor in (`text`, one row per text) and one out (`translation`).
 */
export const translationTextTask: TaskModule = {
  ...translationSpec,
  checkModel: ({ config, signature }) => [...(translationSpec.checkLabels?.(config.labels) ?? []), ...signatureMismatch(signature, APERTIUM_SIGNATURE, translationSpec.id)],
  exampleInputs({ config }): NamedTensors {
    const source = config.labels?.[0]?.toLowerCase() ?? '';
    const text = EXAMPLES[source] ?? EXAMPLES[{ en: 'eng', es: 'spa' }[source] ?? ''] ?? FALLBACK_EXAMPLE;
    return { [APERTIUM_INPUT]: { dtype: 'string', shape: [1], data: [text] } };
  },
  routes: translationRouter,
};
