import { expect } from 'chai';
import fc from 'fast-check';
import { InvalidInput } from '../../../../inference-runtime/core/errors.js';
import { checkedGrammar, MAX_PHRASES, phraseGrammar } from '../../../../inference-runtime/speech/grammar.js';
import { SessionStore } from '../../../../inference-runtime/dialog/sessions.js';

describe('phrase lists and grammars from requests', () => {
  it('turns any phrase list into a JSGF grammar of plain words, or refuses it with 400 (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 60 }), { maxLength: 20 }), (phrases) => {
        let grammar: string;
        try {
          grammar = phraseGrammar(phrases);
        } catch (err) {
          expect(err).to.be.instanceOf(InvalidInput);
          return;
        }
        const [, body] = /public <command> = (.*);\n/.exec(grammar)!;
        // Nothing of the request reaches the grammar but words, apostrophes inside them, and the grammar's own syntax.
        for (const alternative of body.split(' | ')) expect(alternative).to.match(/^\( [a-z]+(?:'[a-z]+)*(?: [a-z]+(?:'[a-z]+)*)* \)$/);
      }),
      { numRuns: 5_000 },
    );
  });

  it('normalises phrases the way the dictionary spells words', () => {
    expect(phraseGrammar(['Turn ON the Kitchen-Lights!', "what's up"])).to.contain("( turn on the kitchen lights ) | ( what's up )");
    expect(() => phraseGrammar(['123', '!!'])).to.throw(InvalidInput, /no speakable words/);
    expect(() => phraseGrammar(Array.from({ length: MAX_PHRASES + 1 }, () => 'hello'))).to.throw(InvalidInput, /at most 2000 phrases/);
  });

  it('accepts JSGF text only, bounded and free of control characters', () => {
    const ok = '#JSGF V1.0;\ngrammar g;\npublic <a> = hello | goodbye;\n';
    expect(checkedGrammar(ok)).to.equal(ok);
    expect(() => checkedGrammar('hello | goodbye')).to.throw(InvalidInput, /must be JSGF text/);
    expect(() => checkedGrammar('#JSGF V1.0;\ngrammar g;\n<a> = hello;')).to.throw(InvalidInput, /no public rule/);
    expect(() => checkedGrammar(`${ok}\u0000`)).to.throw(InvalidInput, /control characters/);
    expect(() => checkedGrammar(ok + ' '.repeat(70_000))).to.throw(InvalidInput, /longer than/);
  });
});

describe('dialog sessions', () => {
  it('numbers turns, names the previous intent, and forgets old and surplus sessions', () => {
    const store = new SessionStore(2, 1_000);
    expect(store.record('a', 'greeting', 0)).to.deep.equal({ turn: 1 });
    expect(store.record('a', 'lights.on', 10)).to.deep.equal({ turn: 2, previousIntent: 'greeting' });
    // Past the time to live, a session starts over.
    expect(store.record('a', 'help', 2_000)).to.deep.equal({ turn: 1 });
    store.record('b', 'x', 2_001);
    store.record('c', 'x', 2_002);
    expect(store.size).to.equal(2);
    // `a` was the least recently used: forgotten.
    expect(store.record('a', 'x', 2_003)).to.deep.equal({ turn: 1 });
  });

  it('accepts only short ids of safe characters', () => {
    expect(SessionStore.isValidId('phone-1:kitchen')).to.equal(true);
    for (const bad of ['', 'a b', 'x'.repeat(129), 'ü', '<script>']) expect(SessionStore.isValidId(bad), bad).to.equal(false);
  });
});
