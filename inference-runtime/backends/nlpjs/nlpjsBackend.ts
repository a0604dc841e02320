import { readFile } from 'node:fs/promises';
import { containerBootstrap } from '@nlpjs/core';
import { LangEn } from '@nlpjs/lang-en-min';
import { Nlp } from '@nlpjs/nlp';
import type { PoolModel } from '../../config/types.js';
import type { NamedTensors } from '../../core/tensor.js';
import { corpusGrammar, parseCorpus, renderAnswer, type DialogCorpus } from '../../dialog/corpus.js';
import { dialogSignature, type DialogEntity } from '../../dialog/signature.js';
import type { Backend, LoadedModel, ModelFiles } from '../backend.js';

/** What NLP.js's `process` answers (the fields used here). */
interface NlpResult {
  intent: string;
  score: number;
  entities?: { entity: string; option?: string; sourceText?: string; utteranceText?: string; start: number; end: number; accuracy?: number }[];
}

interface NlpEngine {
  addDocument(locale: string, utterance: string, intent: string): void;
  addNerRuleOptionTexts(locale: string, entity: string, option: string, texts: string[]): void;
  train(): Promise<unknown>;
  process(locale: string, utterance: string): Promise<NlpResult>;
}

const DEFAULT_THRESHOLD = 0.5;
const NONE = 'None';

class NlpjsModel implements LoadedModel {
  readonly signature = dialogSignature();
  readonly backendName = 'nlpjs';
  private readonly answers: Map<string, string[]>;

  constructor(
    private readonly nlp: NlpEngine,
    private readonly corpus: DialogCorpus,
    private readonly grammar: string,
  ) {
    this.answers = new Map(corpus.data.map((d) => [d.intent, d.answers]));
  }

  async infer(inputs: NamedTensors): Promise<NamedTensors> {
    const texts = inputs.text.data as string[];
    const intents: string[] = [];
    const scores = new Float32Array(texts.length);
    const answers: string[] = [];
    const entities: string[] = [];
    for (const [i, text] of texts.entries()) {
      const r = await this.nlp.process('en', text);
      const found: DialogEntity[] = (r.entities ?? [])
        .filter((e) => e.option !== undefined)
        .map((e) => ({ entity: e.entity, option: e.option!, text: e.utteranceText ?? e.sourceText ?? '', start: e.start, end: e.end, accuracy: e.accuracy ?? 1 }));
      const confident = r.intent !== NONE && r.score >= (this.corpus.threshold ?? DEFAULT_THRESHOLD);
      const intent = confident ? r.intent : NONE;
      intents.push(intent);
      scores[i] = Math.round((confident ? r.score : r.intent === NONE ? r.score : 1 - r.score) * 1e4) / 1e4;
      answers.push(this.answerFor(intent, found));
      entities.push(JSON.stringify(found));
    }
    return {
      intent: { dtype: 'string', shape: [texts.length], data: intents },
      score: { dtype: 'float32', shape: [texts.length], data: scores },
      answer: { dtype: 'string', shape: [texts.length], data: answers },
      entities: { dtype: 'string', shape: [texts.length], data: entities },
      grammar: { dtype: 'string', shape: [1], data: [texts.length === 0 ? this.grammar : ''] },
    };
  }

  /** The first answer of the intent whose `{{entity}}` placeholders the utterance fills: deterministic, so clients and tests can rely on it. */
  private answerFor(intent: string, found: DialogEntity[]): string {
    const values = Object.fromEntries(found.map((e) => [e.entity, e.option]));
    for (const template of this.answers.get(intent) ?? []) {
      const text = renderAnswer(template, values);
      if (text !== undefined) return text;
    }
    return this.corpus.fallback ?? '';
  }

  dispose(): Promise<void> {
    return Promise.resolve();
  }
}

/** NLP.js as an engine: the model is a corpus file, trained into an intent classifier and entity rules at load. */
export class NlpjsBackend implements Backend {
  readonly name = 'nlpjs';

  supports(framework: PoolModel['framework']): boolean {
    return framework === 'nlpjs';
  }

  async load(_model: PoolModel, files: ModelFiles): Promise<LoadedModel> {
    const corpus = parseCorpus(await readFile(files.entryPath, 'utf8'));
    const container = await containerBootstrap({ log: false });
    container.use(LangEn);
    const nlp = new Nlp({ container, autoSave: false, autoLoad: false, log: false, nlu: { log: false }, languages: ['en'] }) as unknown as NlpEngine;
    for (const d of corpus.data) for (const u of d.utterances) nlp.addDocument('en', u, d.intent);
    for (const [name, entity] of Object.entries(corpus.entities ?? {})) {
      for (const [option, texts] of Object.entries(entity.options)) nlp.addNerRuleOptionTexts('en', name, option, texts);
    }
    await nlp.train();
    return new NlpjsModel(nlp, corpus, corpusGrammar(corpus));
  }
}
