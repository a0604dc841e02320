import { expect } from 'chai';
import fc from 'fast-check';
import { InvalidInput } from '../../../../inference-runtime/core/errors.js';
import { assertJsonDepth, MAX_JSON_DEPTH, parseJsonInput, previewJson } from '../../../../inference-runtime/http/jsonInput.js';
import { parseTfServingJson } from '../../../../inference-runtime/http/tfserving/jsonText.js';

/** Nesting depth of a parsed value: each array or object is one level. */
function depthOf(value: unknown): number {
  if (Array.isArray(value)) return 1 + Math.max(0, ...value.map(depthOf));
  if (typeof value === 'object' && value !== null) return 1 + Math.max(0, ...Object.values(value).map(depthOf));
  return 0;
}

function nested(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth);
}

describe('JSON input depth rule', () => {
  it('refuses exactly the texts nested deeper than the bound, whatever the strings inside hold', () => {
    // Strings full of brackets, quotes and backslashes must not count as nesting.
    const tricky = fc.string({ unit: fc.constantFrom('[', ']', '{', '}', '"', '\\', 'a'), maxLength: 12 });
    const value = fc.letrec<{ v: unknown }>((tie) => ({
      v: fc.oneof({ depthSize: 'medium' }, tricky, fc.integer(), fc.array(tie('v'), { maxLength: 3 }), fc.dictionary(tricky, tie('v'), { maxKeys: 3 })),
    })).v;
    fc.assert(
      fc.property(value, fc.integer({ min: 0, max: 8 }), (v, bound) => {
        const text = JSON.stringify(v);
        const refused = (() => {
          try {
            assertJsonDepth(text, bound);
            return false;
          } catch (error) {
            expect(error).to.be.instanceOf(InvalidInput);
            return true;
          }
        })();
        expect(refused, `${text} (depth ${depthOf(v)}) against a bound of ${bound}`).to.equal(depthOf(v) > bound);
      }),
      { numRuns: 2000 },
    );
  });

  it('turns deep nesting into a 400 on every JSON channel before anything recurses over it', () => {
    const deep = `{"instances":${nested(200_000)}}`;
    for (const parse of [(t: string) => parseJsonInput(t), parseTfServingJson]) {
      expect(() => parse(deep)).to.throw(InvalidInput, `JSON is nested deeper than ${MAX_JSON_DEPTH} levels`);
      expect(depthOf(parse(`{"instances":${nested(MAX_JSON_DEPTH - 1)}}`))).to.equal(MAX_JSON_DEPTH);
    }
    expect(() => parseJsonInput('{"image":')).to.throw(InvalidInput, 'request body is not valid JSON');
  });

  it('previews a request value in a bounded message', () => {
    expect(previewJson('x'.repeat(10_000))).to.have.length(67);
    expect(previewJson({ a: 1 })).to.equal('{"a":1}');
    expect(previewJson(undefined)).to.equal('undefined');
  });
});
