import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NlpjsBackend } from '../../../../inference-runtime/backends/nlpjs/nlpjsBackend.js';
import type { LoadedModel } from '../../../../inference-runtime/backends/backend.js';
import { DIALOG_SMART_HOME } from '../../../../inference-runtime/config/defaultPool.js';
import { corpusGrammar, parseCorpus, type DialogCorpus } from '../../../../inference-runtime/dialog/corpus.js';
import type { DialogEntity } from '../../../../inference-runtime/dialog/signature.js';

interface HeldOut {
  utterances: { text: string; intent: string }[];
  spoken: { text: string; intent: string; entities: Record<string, string> }[];
}

const corpusPath = fileURLToPath(DIALOG_SMART_HOME.source.uri);
const heldOut = JSON.parse(readFileSync(corpusPath.replace(/\.json$/, '.heldout.json'), 'utf8')) as HeldOut;
const corpus: DialogCorpus = parseCorpus(readFileSync(corpusPath, 'utf8'));

async function classify(model: LoadedModel, texts: string[]): Promise<{ intent: string; score: number; answer: string; entities: DialogEntity[] }[]> {
  const out = await model.infer({ text: { dtype: 'string', shape: [texts.length], data: texts } });
  return texts.map((_, i) => ({
    intent: (out.intent.data as string[])[i],
    score: (out.score.data as Float32Array)[i],
    answer: (out.answer.data as string[])[i],
    entities: JSON.parse((out.entities.data as string[])[i]) as DialogEntity[],
  }));
}

describe('smart-home dialog corpus', () => {
  let model: LoadedModel;
  before(async () => {
    model = await new NlpjsBackend().load(DIALOG_SMART_HOME, { entryPath: corpusPath, sha256: '', files: {}, dir: '', workDir: '', origin: 'source' });
  });

  it('keeps its held-out utterances apart from the training utterances', () => {
    const training = new Set(corpus.data.flatMap((d) => d.utterances.map((u) => u.toLowerCase())));
    const leaked = heldOut.utterances.filter((u) => training.has(u.text.toLowerCase()));
    expect(leaked).to.deep.equal([]);
    const intents = new Set(corpus.data.map((d) => d.intent));
    for (const u of heldOut.utterances) expect(intents.has(u.intent), u.intent).to.equal(true);
    // Every intent is tested.
    expect(new Set(heldOut.utterances.map((u) => u.intent))).to.deep.equal(intents);
  });

  it('classifies the held-out utterances with at least 90% intent accuracy', async () => {
    const results = await classify(model, heldOut.utterances.map((u) => u.text));
    const wrong = heldOut.utterances.flatMap((u, i) => (results[i].intent === u.intent ? [] : [`${u.text} -> ${results[i].intent}`]));
    const accuracy = 1 - wrong.length / heldOut.utterances.length;
    console.log(`      held-out intent accuracy ${(accuracy * 100).toFixed(1)}% (${heldOut.utterances.length - wrong.length}/${heldOut.utterances.length})${wrong.length ? `; missed: ${wrong.join('; ')}` : ''}`);
    expect(accuracy).to.be.at.least(0.9);
  });

  it('extracts the entities of spoken commands and fills its answers with them', async () => {
    const results = await classify(model, heldOut.spoken.map((s) => s.text));
    heldOut.spoken.forEach((s, i) => {
      expect(results[i].intent, s.text).to.equal(s.intent);
      const found = Object.fromEntries(results[i].entities.map((e) => [e.entity, e.option]));
      expect(found, s.text).to.deep.include(s.entities);
    });
    const lights = results[heldOut.spoken.findIndex((s) => s.text === 'turn on the kitchen lights')];
    expect(lights.answer).to.equal('Turning on the lights in the kitchen.');
  });

  it('answers None with the fallback for an utterance outside the corpus', async () => {
    const [r] = await classify(model, ['the quarterly revenue of the pharmaceutical sector']);
    expect(r.intent).to.equal('None');
    expect(r.answer).to.equal(corpus.fallback);
  });

  it('gives the grammar of its utterances for an empty batch, covering every spoken command', async () => {
    const out = await model.infer({ text: { dtype: 'string', shape: [0], data: [] } });
    const grammar = (out.grammar.data as string[])[0];
    expect(grammar).to.equal(corpusGrammar(corpus));
    expect(grammar).to.match(/^#JSGF V1\.0;/);
    expect(grammar).to.contain('( turn on the <e0> lights )');
    expect(grammar).to.match(/<e0> = .*\( living room \)/);
  });
});

describe('dialog corpus checks', () => {
  const base = { name: 'c', locale: 'en', data: [{ intent: 'a', utterances: ['hello'], answers: [] }] };
  const bad: [string, unknown, RegExp][] = [
    ['not JSON', '{', /not JSON/],
    ['no intents', { ...base, data: [] }, /data must list 1 to/],
    ['an undefined entity', { ...base, data: [{ intent: 'a', utterances: ['to the @room'], answers: [] }] }, /names entity @room/],
    ['a None intent', { ...base, data: [{ intent: 'None', utterances: ['x'], answers: [] }] }, /other than None/],
    ['a duplicate intent', { ...base, data: [base.data[0], base.data[0]] }, /listed twice/],
    ['another language', { ...base, locale: 'fr' }, /not supported/],
    ['an overlong utterance', { ...base, data: [{ intent: 'a', utterances: ['x'.repeat(301)], answers: [] }] }, /at most 300 characters/],
  ];
  for (const [what, value, message] of bad) {
    it(`refuses a corpus with ${what}`, () => {
      expect(() => parseCorpus(typeof value === 'string' ? value : JSON.stringify(value))).to.throw(message);
    });
  }
});
