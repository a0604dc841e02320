/**
 * Language codes of the translation API: one table from ISO 639-3 (what Apertium names its pairs with) to
 * ISO 639-1 (what most clients send) and an English name. Both forms are accepted everywhere; answers use
 * the two-letter form when the language has one.
 */
export interface Language {
  /** ISO 639-3, e.g. `spa`. */
  code3: string;
  /** ISO 639-1, e.g. `es`, when the language has one. */
  code1?: string;
  name: string;
}

/** The languages of Apertium's released pairs (and a few more), by ISO 639-3 code. */
const TABLE: readonly Language[] = [
  { code3: 'afr', code1: 'af', name: 'Afrikaans' },
  { code3: 'arg', code1: 'an', name: 'Aragonese' },
  { code3: 'ast', name: 'Asturian' },
  { code3: 'bel', code1: 'be', name: 'Belarusian' },
  { code3: 'bre', code1: 'br', name: 'Breton' },
  { code3: 'bul', code1: 'bg', name: 'Bulgarian' },
  { code3: 'cat', code1: 'ca', name: 'Catalan' },
  { code3: 'ces', code1: 'cs', name: 'Czech' },
  { code3: 'cym', code1: 'cy', name: 'Welsh' },
  { code3: 'dan', code1: 'da', name: 'Danish' },
  { code3: 'deu', code1: 'de', name: 'German' },
  { code3: 'ell', code1: 'el', name: 'Greek' },
  { code3: 'eng', code1: 'en', name: 'English' },
  { code3: 'epo', code1: 'eo', name: 'Esperanto' },
  { code3: 'eus', code1: 'eu', name: 'Basque' },
  { code3: 'fin', code1: 'fi', name: 'Finnish' },
  { code3: 'fra', code1: 'fr', name: 'French' },
  { code3: 'gle', code1: 'ga', name: 'Irish' },
  { code3: 'glg', code1: 'gl', name: 'Galician' },
  { code3: 'hbs', code1: 'sh', name: 'Serbo-Croatian' },
  { code3: 'hin', code1: 'hi', name: 'Hindi' },
  { code3: 'isl', code1: 'is', name: 'Icelandic' },
  { code3: 'ita', code1: 'it', name: 'Italian' },
  { code3: 'kaz', code1: 'kk', name: 'Kazakh' },
  { code3: 'mkd', code1: 'mk', name: 'Macedonian' },
  { code3: 'mlt', code1: 'mt', name: 'Maltese' },
  { code3: 'nld', code1: 'nl', name: 'Dutch' },
  { code3: 'nno', code1: 'nn', name: 'Norwegian Nynorsk' },
  { code3: 'nob', code1: 'nb', name: 'Norwegian Bokmål' },
  { code3: 'oci', code1: 'oc', name: 'Occitan' },
  { code3: 'pol', code1: 'pl', name: 'Polish' },
  { code3: 'por', code1: 'pt', name: 'Portuguese' },
  { code3: 'ron', code1: 'ro', name: 'Romanian' },
  { code3: 'rus', code1: 'ru', name: 'Russian' },
  { code3: 'slv', code1: 'sl', name: 'Slovenian' },
  { code3: 'spa', code1: 'es', name: 'Spanish' },
  { code3: 'srd', code1: 'sc', name: 'Sardinian' },
  { code3: 'swe', code1: 'sv', name: 'Swedish' },
  { code3: 'tat', code1: 'tt', name: 'Tatar' },
  { code3: 'ukr', code1: 'uk', name: 'Ukrainian' },
  { code3: 'urd', code1: 'ur', name: 'Urdu' },
];

const BY_CODE = new Map<string, Language>(TABLE.flatMap((l) => (l.code1 ? [[l.code3, l] as const, [l.code1, l] as const] : [[l.code3, l] as const])));

/** The language a code names (two or three letters, any case), or undefined. */
export function languageOf(code: string): Language | undefined {
  return BY_CODE.get(code.trim().toLowerCase());
}

/** The form answers use: ISO 639-1 when the language has it, ISO 639-3 otherwise. */
export function preferredCode(language: Language): string {
  return language.code1 ?? language.code3;
}
