import { Router } from '@koa/router';
import { apertiumLimits } from '../../backends/apertium/limits.js';
import { textProblem } from '../../backends/apertium/pipelinePool.js';
import { InvalidInput, ModelNotFound, NotReady, PayloadTooLarge } from '../../core/errors.js';
import { previewJson } from '../../http/jsonInput.js';
import type { RequestState } from '../../http/requestState.js';
import { jsonObject, readJsonRequest } from '../common/jsonBody.js';
import { beginTask } from '../common/taskRequest.js';
import type { TaskContext } from '../task.js';
import { languageOf, preferredCode, type Language } from './languages.js';
import { describePair, servedPairs, type ServedPair } from './pairs.js';

/** What a translation request may hold; anything else is refused, so a misspelt field is not silently ignored. */
const FIELDS = new Set(['text', 'texts', 'source', 'target', 'model']);

interface TranslationRequest {
  texts: string[];
  source: Language;
  target: Language;
  model?: string;
}

function language(value: unknown, field: 'source' | 'target'): Language {
  if (typeof value !== 'string' || !value.trim()) throw new InvalidInput(`"${field}" is required: a language code such as "en" or "eng"`);
  const found = languageOf(value);
  if (!found) throw new InvalidInput(`"${field}" ${previewJson(value)} is not an ISO 639-1 or 639-3 language code this runtime knows`);
  return found;
}

/** Validates a parsed body against the API's rules and the engine's limits (one home: `apertiumLimits`). */
export function translationRequest(body: unknown): TranslationRequest {
  const fields = jsonObject(body, '{"text": "...", "source": "en", "target": "es"}');
  const unknown = Object.keys(fields).filter((k) => !FIELDS.has(k));
  if (unknown.length) throw new InvalidInput(`unknown field ${previewJson(unknown[0])}; a request has text or texts, source, target and optionally model`);
  const limits = apertiumLimits();
  let texts: unknown[];
  if ('text' in fields === 'texts' in fields) throw new InvalidInput('send either "text" (a string) or "texts" (an array of strings)');
  if ('text' in fields) {
    texts = [fields.text];
  } else {
    if (!Array.isArray(fields.texts)) throw new InvalidInput('"texts" must be an array of strings');
    texts = fields.texts;
    if (texts.length === 0) throw new InvalidInput('"texts" is empty: send at least one text');
    if (texts.length > limits.maxTexts) throw new PayloadTooLarge(`"texts" holds ${texts.length} texts; at most ${limits.maxTexts} per request`);
  }
  const checked = texts.map((t, i) => {
    const where = 'text' in fields ? '"text"' : `texts[${i}]`;
    if (typeof t !== 'string') throw new InvalidInput(`${where} must be a string, got ${previewJson(t)}`);
    if (!t.trim()) throw new InvalidInput(`${where} is empty: there is nothing to translate`);
    if (Buffer.byteLength(t, 'utf8') > limits.maxTextBytes) throw new PayloadTooLarge(`${where} is longer than ${limits.maxTextBytes} bytes of UTF-8; split it`);
    const problem = textProblem(t, limits.maxTextBytes);
    if (problem) throw new InvalidInput(`${where} ${problem}`);
    return t;
  });
  if (fields.model !== undefined && (typeof fields.model !== 'string' || !fields.model)) throw new InvalidInput('"model" must be a model name');
  return { texts: checked, source: language(fields.source, 'source'), target: language(fields.target, 'target'), model: fields.model as string | undefined };
}

/** The pool model that translates the pair: the named one, else the first AVAILABLE one. */
function modelFor(context: TaskContext, request: TranslationRequest): { name: string; version: string } {
  const pairs = servedPairs(context.registry);
  const matching = pairs.filter((p) => p.source === request.source && p.target === request.target && (!request.model || p.model === request.model));
  if (!matching.length) {
    const served = [...new Set(pairs.map((p) => describePair(p.source, p.target)))];
    const which = request.model ? `model ${request.model} does not translate` : 'no model on this node translates';
    const list = served.length ? `pairs served: ${served.join(', ')}` : 'this node serves no translation pairs';
    if (request.model && !pairs.some((p) => p.model === request.model)) throw new ModelNotFound(`no translation model named ${request.model}; ${list}`);
    throw new InvalidInput(`${which} ${describePair(request.source, request.target)}; ${list} (GET /v1/translation/languages)`);
  }
  const chosen: ServedPair | undefined = matching.find((p) => p.state === 'AVAILABLE');
  if (!chosen) throw new NotReady(`the model for ${describePair(request.source, request.target)} (${matching[0].model}) is ${matching[0].state}; retry once it is AVAILABLE`);
  return { name: chosen.model, version: chosen.version };
}

/**
 * `POST /v1/translation/translations` and `GET /v1/translation/languages`. The pair picks the model on every
 * request (from the models' labels), so deploying a pair to the pool makes it translatable without code.
 */
export function translationRouter(context: TaskContext): Router<RequestState> {
  const router = new Router<RequestState>();

  router.post('/v1/translation/translations', async (ctx) => {
    const { request, body } = await beginTask(ctx, context.registry, (deadline) => readJsonRequest(ctx, context.limits.maxBodyBytes, deadline));
    const translation = translationRequest(body);
    const chosen = modelFor(context, translation);
    const model = request.models.resolve(chosen.name, chosen.version);
    const texts = translation.texts;
    const out = await request.withinDeadline(request.timer.time('translate', () => model.infer({ text: { dtype: 'string', shape: [texts.length], data: texts } })), 'the translation');
    const translated = out.translation?.data;
    if (!Array.isArray(translated) || translated.length !== texts.length) {
      throw new Error(`model ${model.name} answered ${Array.isArray(translated) ? translated.length : 'no'} translations for ${texts.length} texts`);
    }
    ctx.body = request.answerAlone(model, {
      translations: translated.map((text) => ({ text })),
      source: preferredCode(translation.source),
      target: preferredCode(translation.target),
    });
  });

  router.get('/v1/translation/languages', (ctx) => {
    const pairs = servedPairs(context.registry);
    const languages = new Map<string, Language>();
    for (const p of pairs) for (const l of [p.source, p.target]) languages.set(l.code3, l);
    ctx.body = {
      pairs: pairs.map((p) => ({
        source: preferredCode(p.source),
        target: preferredCode(p.target),
        model: p.model,
        version: p.version,
        state: p.state,
      })),
      languages: [...languages.values()].map((l) => ({ code: preferredCode(l), code3: l.code3, ...(l.code1 ? { code1: l.code1 } : {}), name: l.name })),
    };
  });

  return router;
}
