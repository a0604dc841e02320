import { expect } from 'chai';
import fc from 'fast-check';
import { InvalidInput } from '../../../../../inference-runtime/core/errors.js';
import { OptionReader } from '../../../../../inference-runtime/tasks/common/optionReader.js';

describe('task options (query parameters and body fields, body first)', () => {
  it('reads a list from a JSON array, or from the query repeated or |-separated, blanks dropped', () => {
    const phrase = fc.stringMatching(/^[a-z][a-z ]{0,20}[a-z]$/);
    fc.assert(
      fc.property(fc.array(phrase, { minLength: 1, maxLength: 10 }), fc.boolean(), (phrases, repeated) => {
        expect(new OptionReader({}, { phrases }).list('phrases', 200)).to.deep.equal(phrases);
        const query = repeated ? { phrases: [...phrases, ' '] } : { phrases: `${phrases.join('|')}|` };
        expect(new OptionReader(query, {}).list('phrases', 200)).to.deep.equal(phrases);
        // A body field wins over the query.
        expect(new OptionReader({ phrases: 'other' }, { phrases }).list('phrases', 200)).to.deep.equal(phrases);
      }),
    );
    expect(new OptionReader({}, {}).list('phrases', 200)).to.equal(undefined);
  });

  it('bounds a list in the query only, and refuses a body list that is not of strings', () => {
    expect(() => new OptionReader({ phrases: Array.from({ length: 201 }, (_, i) => `p${i}`) }, {}).list('phrases', 200)).to.throw(InvalidInput, /at most 200 phrases fit in the query/);
    expect(new OptionReader({}, { phrases: Array.from({ length: 201 }, (_, i) => `p${i}`) }).list('phrases', 200)).to.have.length(201);
    for (const phrases of ['a|b', [1], [['a']], { a: 'b' }, null]) {
      expect(() => new OptionReader({}, { phrases }).list('phrases', 200), JSON.stringify(phrases)).to.throw(InvalidInput, /phrases must be a list of strings/);
    }
  });

  it('reads text and choices, refusing other values with a 400 that names the option', () => {
    fc.assert(
      fc.property(fc.anything(), (value) => {
        const options = new OptionReader({}, { grammar: value, mode: value });
        if (value === undefined || typeof value === 'string') expect(options.text('grammar')).to.equal(value);
        else expect(() => options.text('grammar')).to.throw(InvalidInput, /^grammar must be a string/);
        if (value === undefined || value === '' || value === 'dictation' || value === 'grammar') expect(options.choice('mode', ['dictation', 'grammar'])).to.equal(value || undefined);
        else expect(() => options.choice('mode', ['dictation', 'grammar'])).to.throw(InvalidInput, /^mode must be dictation or grammar/);
      }),
    );
    expect(new OptionReader({ mode: ['grammar', 'dictation'] }, {}).choice('mode', ['dictation', 'grammar'])).to.equal('dictation');
  });
});
