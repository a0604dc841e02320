import { expect } from 'chai';
import fc from 'fast-check';
import { InvalidInput } from '../../../../../inference-runtime/core/errors.js';
import { multipartBoundary } from '../../../../../inference-runtime/tasks/common/multipartBoundary.js';

const BCHARS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=? ";
const TOKEN_SAFE = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'+_-.";
const chars = (alphabet: string) => fc.constantFrom(...alphabet.split(''));

/** RFC 2046: 1 to 70 bchars, the last not a space. */
const validBoundary = fc
  .tuple(fc.string({ unit: chars(BCHARS), maxLength: 69 }), chars(BCHARS.trimEnd()))
  .map(([head, last]) => head + last);

function refused(contentType: string): string {
  try {
    multipartBoundary(contentType);
  } catch (error) {
    expect(error).to.be.instanceOf(InvalidInput);
    return (error as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(contentType)}`);
}

describe('multipart boundary', () => {
  it('takes any RFC 2046 boundary, quoted, and a token one unquoted, whatever the parameters around it', () => {
    fc.assert(
      fc.property(validBoundary, fc.constantFrom('', '; charset=utf-8', '; name="a;b"'), (b, other) => {
        expect(multipartBoundary(`multipart/form-data${other}; boundary="${b}"`)).to.equal(b);
        expect(multipartBoundary(`multipart/form-data; BOUNDARY="${b}"${other}`)).to.equal(b);
      }),
    );
    fc.assert(
      fc.property(fc.string({ unit: chars(TOKEN_SAFE), minLength: 1, maxLength: 70 }), (b) => {
        expect(multipartBoundary(`multipart/form-data; boundary=${b}`)).to.equal(b);
      }),
    );
    expect(multipartBoundary('multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW')).to.equal('----WebKitFormBoundary7MA4YWxkTrZu0gW');
  });

  it('refuses a missing, empty, repeated, overlong or out-of-grammar boundary with 400', () => {
    expect(refused('multipart/form-data')).to.match(/needs a boundary/);
    expect(refused('multipart/form-data; boundary=')).to.match(/1 to 70 characters/);
    expect(refused('multipart/form-data; boundary=""')).to.match(/1 to 70 characters/);
    expect(refused('multipart/form-data; boundary="a "')).to.match(/not ending with a space/);
    expect(refused('multipart/form-data; boundary=a; boundary=other')).to.match(/more than one boundary/);
    fc.assert(
      fc.property(fc.string({ unit: chars(BCHARS.trimEnd()), minLength: 71, maxLength: 200 }), (b) => {
        refused(`multipart/form-data; boundary="${b}"`);
      }),
    );
    fc.assert(
      fc.property(validBoundary, fc.nat(), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }).filter((c) => !BCHARS.includes(c) && c !== '"' && c !== '\\'), (b, at, bad) => {
        const i = at % b.length;
        refused(`multipart/form-data; boundary="${b.slice(0, i)}${bad}${b.slice(i + 1)}"`);
      }),
    );
  });
});
