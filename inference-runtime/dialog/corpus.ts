import { normalisePhrase, jsgf } from '../speech/grammar.js';

/**
 * A dialog corpus: the "model" of an NLP.js dialog engine, trained when it loads. Its shape follows NLP.js's
 * own corpus files (`name`, `locale`, `data[]` of intents with utterances and answers, `entities` with
 * options and their synonyms), plus a `fallback` answer for utterances no intent matches. Utterances name an
 * entity as `@room`; answers fill `{{room}}` from the entities found.
 */
export interface DialogCorpus {
  name: string;
  locale: string;
  data: { intent: string; utterances: string[]; answers: string[] }[];
  entities?: Record<string, { options: Record<string, string[]> }>;
  fallback?: string;
  /** Score under which the classifier's best intent is reported as `None` (default 0.5). */
  threshold?: number;
}

const LIMITS = { bytes: 4 * 1024 * 1024, intents: 500, utterances: 20_000, text: 300, entities: 100, options: 2_000 };
const NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;

function fail(message: string): never {
  throw new Error(`corpus: ${message}`);
}

function strings(value: unknown, where: string, max: number): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v.length === 0 || v.length > LIMITS.text)) {
    fail(`${where} must be a list of non-empty strings of at most ${LIMITS.text} characters`);
  }
  if (value.length > max) fail(`${where} holds more than ${max} entries`);
  return value as string[];
}

/** Parses and checks a corpus file: every bound checked, so a pool entry cannot make training run away. */
export function parseCorpus(text: string): DialogCorpus {
  if (text.length > LIMITS.bytes) fail(`the file is larger than ${LIMITS.bytes} bytes`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    fail('the file is not JSON');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail('the file must hold a JSON object');
  const c = raw as Record<string, unknown>;
  if (typeof c.name !== 'string' || !NAME.test(c.name)) fail('name must be a short identifier');
  if (typeof c.locale !== 'string' || !/^[a-z]{2}(-[A-Z]{2})?$/.test(c.locale)) fail('locale must look like en or en-US');
  if (!c.locale.startsWith('en')) fail(`locale ${c.locale} is not supported: the runtime ships English (@nlpjs/lang-en-min) only`);
  if (!Array.isArray(c.data) || c.data.length === 0 || c.data.length > LIMITS.intents) fail(`data must list 1 to ${LIMITS.intents} intents`);
  let utterances = 0;
  const seen = new Set<string>();
  const data = c.data.map((d: unknown, i) => {
    if (typeof d !== 'object' || d === null) fail(`data[${i}] must be an object`);
    const { intent, utterances: u, answers } = d as Record<string, unknown>;
    if (typeof intent !== 'string' || !NAME.test(intent) || intent === 'None') fail(`data[${i}].intent must be a short identifier other than None`);
    if (seen.has(intent)) fail(`intent ${intent} is listed twice`);
    seen.add(intent);
    const us = strings(u, `data[${i}].utterances`, LIMITS.utterances);
    if (!us.length) fail(`intent ${intent} has no utterances`);
    utterances += us.length;
    return { intent, utterances: us, answers: strings(answers ?? [], `data[${i}].answers`, 100) };
  });
  if (utterances > LIMITS.utterances) fail(`more than ${LIMITS.utterances} utterances in all`);
  const entities: DialogCorpus['entities'] = {};
  if (c.entities !== undefined) {
    if (typeof c.entities !== 'object' || c.entities === null || Array.isArray(c.entities)) fail('entities must be an object');
    const names = Object.keys(c.entities);
    if (names.length > LIMITS.entities) fail(`more than ${LIMITS.entities} entities`);
    for (const name of names) {
      if (!NAME.test(name)) fail(`entity name ${JSON.stringify(name.slice(0, 40))} must be a short identifier`);
      const options = (c.entities as Record<string, { options?: unknown }>)[name]?.options;
      if (typeof options !== 'object' || options === null || Array.isArray(options)) fail(`entities.${name}.options must be an object`);
      const keys = Object.keys(options);
      if (keys.length === 0 || keys.length > LIMITS.options) fail(`entities.${name} must have 1 to ${LIMITS.options} options`);
      entities[name] = { options: Object.fromEntries(keys.map((k) => [k, strings((options as Record<string, unknown>)[k], `entities.${name}.options.${k}`, 50)])) };
    }
  }
  for (const d of data) {
    for (const u of d.utterances) {
      for (const m of u.matchAll(/@([A-Za-z][A-Za-z0-9_]*)/g)) if (!entities[m[1]]) fail(`utterance "${u}" names entity @${m[1]}, which entities does not define`);
    }
  }
  const fallback = c.fallback;
  if (fallback !== undefined && (typeof fallback !== 'string' || fallback.length > LIMITS.text)) fail('fallback must be a short string');
  const threshold = c.threshold;
  if (threshold !== undefined && (typeof threshold !== 'number' || !(threshold >= 0 && threshold <= 1))) fail('threshold must be a number in [0, 1]');
  return { name: c.name, locale: c.locale, data, entities, fallback: fallback as string | undefined, threshold: threshold as number | undefined };
}

/** The utterances of a corpus with each `@entity` replaced by `fill(entity)`. */
function expand(utterance: string, fill: (entity: string) => string): string {
  return utterance.replace(/@([A-Za-z][A-Za-z0-9_]*)/g, (_, e: string) => fill(e));
}

/**
 * A JSGF grammar accepting the corpus's utterances, entity slots standing for any synonym of any option: the
 * command set a phone would constrain its recogniser to, so commands are heard as commands.
 */
export function corpusGrammar(corpus: DialogCorpus): string {
  const rules: Record<string, string> = {};
  const names = Object.keys(corpus.entities ?? {});
  for (const [i, name] of names.entries()) {
    const words = new Set(Object.values(corpus.entities![name].options).flat().map(normalisePhrase).filter(Boolean));
    if (words.size) rules[`e${i}`] = [...words].map((w) => `( ${w} )`).join(' | ');
  }
  // A slot becomes a letters-only placeholder first, so normalising the words leaves it whole.
  const placeholder = (i: number): string => `qqslot${String.fromCharCode(...[...String(i)].map((d) => 97 + Number(d)))}qq`;
  const alternatives = new Set<string>();
  for (const d of corpus.data) {
    for (const u of d.utterances) {
      const marked = expand(u, (e) => ` ${placeholder(names.indexOf(e))} `);
      const words = normalisePhrase(marked).replace(/qqslot([a-j]+)qq/g, (_, code: string) => {
        const i = Number([...code].map((c) => c.charCodeAt(0) - 97).join(''));
        return rules[`e${i}`] ? `<e${i}>` : '';
      });
      const clean = words.replace(/\s+/g, ' ').trim();
      if (clean) alternatives.add(clean);
    }
  }
  return jsgf([...alternatives].map((a) => `( ${a} )`).join(' | '), rules);
}

/** Fills `{{entity}}` placeholders; an answer whose placeholders cannot all be filled is not usable. */
export function renderAnswer(template: string, values: Record<string, string>): string | undefined {
  let complete = true;
  const text = template.replace(/\{\{\s*([A-Za-z][A-Za-z0-9_]*)\s*\}\}/g, (_, name: string) => {
    const v = values[name];
    if (v === undefined) complete = false;
    return v ?? '';
  });
  return complete ? text : undefined;
}
