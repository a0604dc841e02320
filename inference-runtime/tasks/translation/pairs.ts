import type { ModelRegistry, ModelState } from '../../core/registry.js';
import { languageOf, preferredCode, type Language } from './languages.js';

export const TRANSLATION_TASK = 'translation/text';

/** Why a model's labels do not name a language pair, or undefined. Labels are `[source, target]`. */
export function pairLabelProblem(labels: readonly string[] | undefined): string | undefined {
  if (!labels || labels.length !== 2) return `labels must be the source and target language, e.g. [eng, spa]; got ${labels ? labels.length : 'none'}`;
  const unknown = labels.filter((l) => !languageOf(l));
  if (unknown.length) return `labels ${unknown.map((l) => JSON.stringify(l)).join(', ')} are not ISO 639-1 or 639-3 codes this runtime knows`;
  if (languageOf(labels[0]) === languageOf(labels[1])) return 'the source and target language are the same';
  return undefined;
}

/** A language pair as one model serves it. */
export interface ServedPair {
  source: Language;
  target: Language;
  model: string;
  version: string;
  state: ModelState;
}

/** Every pair the pool's translation models serve (whatever their state), from their labels. */
export function servedPairs(registry: ModelRegistry): ServedPair[] {
  const out: ServedPair[] = [];
  for (const m of registry.list()) {
    if (m.task !== TRANSLATION_TASK || pairLabelProblem(m.labels)) continue;
    const [source, target] = m.labels!.map((l) => languageOf(l)!);
    out.push({ source, target, model: m.name, version: m.version, state: m.state });
  }
  return out;
}

/** `en->es`, as messages write a pair. */
export function describePair(source: Language, target: Language): string {
  return `${preferredCode(source)}->${preferredCode(target)}`;
}
