import { InvalidInput } from '../core/errors.js';

/** Bounds of a phrase list: a command set, not a dictionary. */
export const MAX_PHRASES = 2_000;
export const MAX_PHRASE_CHARS = 200;
/** Bounds of a JSGF grammar sent with a request. */
export const MAX_GRAMMAR_CHARS = 64 * 1024;

/**
 * A phrase as the recogniser's dictionary spells words: lower case, letters, digits-free, apostrophes kept
 * ("what's"). Punctuation becomes a word break. Returns '' when nothing speakable is left.
 */
export function normalisePhrase(phrase: string): string {
  return phrase
    .toLowerCase()
    .replace(/[^a-z' ]+/g, ' ')
    .replace(/'{2,}/g, "'")
    .replace(/(^|\s)'+|'+(?=\s|$)/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** A JSGF grammar accepting exactly the given phrases (each a sequence of words). */
export function phraseGrammar(phrases: readonly string[]): string {
  if (phrases.length > MAX_PHRASES) throw new InvalidInput(`a phrase list holds at most ${MAX_PHRASES} phrases, got ${phrases.length}`);
  const alternatives = new Set<string>();
  for (const p of phrases) {
    if (typeof p !== 'string') throw new InvalidInput('phrases must be strings');
    if (p.length > MAX_PHRASE_CHARS) throw new InvalidInput(`a phrase is longer than ${MAX_PHRASE_CHARS} characters`);
    const n = normalisePhrase(p);
    if (n) alternatives.add(n);
  }
  if (!alternatives.size) throw new InvalidInput('the phrase list holds no speakable words (letters a-z)');
  return jsgf([...alternatives].map((a) => `( ${a} )`).join(' | '));
}

/** A JSGF grammar whose public rule is `body`, with `rules` (name -> body) beside it. */
export function jsgf(body: string, rules: Record<string, string> = {}): string {
  const extra = Object.entries(rules).map(([name, b]) => `<${name}> = ${b};\n`);
  return `#JSGF V1.0;\ngrammar commands;\npublic <command> = ${body};\n${extra.join('')}`;
}

/**
 * A JSGF grammar from a request: bounded in size, free of NUL and other control characters, and in the
 * JSGF header form (the recogniser reports anything else as not valid JSGF).
 */
export function checkedGrammar(text: string): string {
  if (text.length > MAX_GRAMMAR_CHARS) throw new InvalidInput(`the grammar is longer than ${MAX_GRAMMAR_CHARS} characters`);
  if (/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/.test(text)) throw new InvalidInput('the grammar holds control characters');
  if (!/^\s*#JSGF\s+V1\.0/.test(text)) throw new InvalidInput('the grammar must be JSGF text starting with "#JSGF V1.0;"');
  if (!/public\s+<[^>]+>\s*=/.test(text)) throw new InvalidInput('the grammar has no public rule');
  return text;
}

/** What constrains recognition, as a request states it. */
export interface GrammarRequest {
  /** JSGF text. */
  grammar?: string;
  /** Phrases to recognise, exactly one of them per utterance. */
  phrases?: string[];
  /** Open dictation with the language model, even when the model has a phrase list. */
  dictation?: boolean;
}
