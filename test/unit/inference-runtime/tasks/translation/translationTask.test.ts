import { expect } from 'chai';
import fc from 'fast-check';
import { APERTIUM_SIGNATURE } from '../../../../../inference-runtime/backends/apertium/apertiumBackend.js';
import { TRANSLATION_ENG_SPA } from '../../../../../inference-runtime/config/defaultPool.js';
import { DomainError } from '../../../../../inference-runtime/core/errors.js';
import { languageOf, preferredCode } from '../../../../../inference-runtime/tasks/translation/languages.js';
import { translationRequest } from '../../../../../inference-runtime/tasks/translation/routes.js';
import { translationTextTask } from '../../../../../inference-runtime/tasks/translation/text.js';

describe('translation/text task', () => {
  it('accepts ISO 639-1 and 639-3 codes for the same language, in any case', () => {
    expect(languageOf('en')).to.equal(languageOf('ENG'));
    expect(languageOf('es')).to.equal(languageOf('spa'));
    expect(preferredCode(languageOf('spa')!)).to.equal('es');
    expect(preferredCode(languageOf('ast')!)).to.equal('ast');
    expect(languageOf('english')).to.equal(undefined);
  });

  it('checks a model at load: a pair of known languages as labels, one string input and output', () => {
    expect(translationTextTask.checkModel({ config: TRANSLATION_ENG_SPA, signature: APERTIUM_SIGNATURE })).to.deep.equal([]);
    expect(translationTextTask.checkModel({ config: { ...TRANSLATION_ENG_SPA, labels: ['eng'] }, signature: APERTIUM_SIGNATURE })[0]).to.match(/source and target/);
    expect(translationTextTask.checkModel({ config: { ...TRANSLATION_ENG_SPA, labels: ['eng', 'klingon'] }, signature: APERTIUM_SIGNATURE })[0]).to.match(/klingon/);
    const floatIn = { ...APERTIUM_SIGNATURE, inputs: [{ name: 'text', dtype: 'float32' as const, shape: [-1] }] };
    expect(translationTextTask.checkModel({ config: TRANSLATION_ENG_SPA, signature: floatIn })).to.have.length(1);
  });

  it('gives warm-up a sentence in the source language', () => {
    const inputs = translationTextTask.exampleInputs({ config: TRANSLATION_ENG_SPA, signature: APERTIUM_SIGNATURE });
    expect(inputs.text.dtype).to.equal('string');
    expect((inputs.text.data as string[])[0]).to.match(/^The /);
  });

  it('reads requests: either text or texts, both code forms', () => {
    expect(translationRequest({ text: 'Hello', source: 'en', target: 'spa' })).to.deep.include({ texts: ['Hello'] });
    expect(translationRequest({ texts: ['a', 'b'], source: 'EN', target: 'es' }).texts).to.deep.equal(['a', 'b']);
  });

  it('refuses any other body with a 4xx, never another error', () => {
    fc.assert(
      fc.property(fc.anything({ withObjectString: true, withNullPrototype: true }), (body) => {
        try {
          translationRequest(body);
        } catch (err) {
          expect(err).to.be.instanceOf(DomainError);
          expect((err as DomainError).status).to.be.within(400, 499);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
