import { expect } from 'chai';
import { ApiKeyCheck, parseApiKeys, presentedKey } from '../../../../inference-runtime/http/apiKeys.js';

describe('API keys', () => {
  it('accepts exactly the configured keys', () => {
    const check = new ApiKeyCheck(['alpha-key', 'beta-key']);
    expect(check.enabled).to.equal(true);
    expect(check.matches('alpha-key')).to.equal(true);
    expect(check.matches('beta-key')).to.equal(true);
    expect(check.matches('alpha-ke')).to.equal(false);
    expect(check.matches('alpha-key ')).to.equal(false);
    expect(check.matches('')).to.equal(false);
  });

  it('is disabled without keys', () => {
    expect(new ApiKeyCheck([]).enabled).to.equal(false);
  });

  it('reads the key from Authorization: Bearer or X-API-Key', () => {
    expect(presentedKey({ authorization: 'Bearer abc' })).to.equal('abc');
    expect(presentedKey({ authorization: 'bearer   abc ' })).to.equal('abc');
    expect(presentedKey({ 'x-api-key': 'xyz' })).to.equal('xyz');
    expect(presentedKey({ authorization: 'Basic dXNlcjpwYXNz' })).to.equal(undefined);
    expect(presentedKey({})).to.equal(undefined);
  });

  it('parses key files and the environment variable, skipping blanks and comments', () => {
    expect(parseApiKeys('# keys for the demo\nfirst\n\n  second  \n')).to.deep.equal(['first', 'second']);
    expect(parseApiKeys('one,two, three')).to.deep.equal(['one', 'two', 'three']);
    expect(parseApiKeys('a,b\r\nc\r\n')).to.deep.equal(['a', 'b', 'c']);
  });

  it('treats a comment line as a comment even when it holds a comma (no stray key from prose)', () => {
    expect(parseApiKeys('# rotated by hand, see the ticket\n  # old, keep\n')).to.deep.equal([]);
    expect(parseApiKeys('# new key below, the old one went\nkey-1\n')).to.deep.equal(['key-1']);
  });
});
