import { expect } from 'chai';
import fc from 'fast-check';
import { redactText, redactUrl } from '../../../../inference-runtime/repository/redact.js';

describe('URL redaction', () => {
  it('keeps scheme, host, port and path; drops user-info, query and fragment', () => {
    expect(redactUrl('https://user:pw@models.example.org:8443/a/model.json?X-Amz-Signature=abc&token=def#frag')).to.equal(
      'https://***@models.example.org:8443/a/model.json?***',
    );
    expect(redactUrl('https://models.example.org/a/model.json')).to.equal('https://models.example.org/a/model.json');
    expect(redactUrl(new URL('http://tok@127.0.0.1/m.json'))).to.equal('http://***@127.0.0.1/m.json');
    expect(redactUrl('npm:@vladmandic/human/models/emotion.json')).to.equal('npm:@vladmandic/human/models/emotion.json');
  });

  it('leaves a URL with nothing to hide as written, so logged addresses stay usable (a bare origin gets no slash)', () => {
    expect(redactUrl('http://0.0.0.0:8443')).to.equal('http://0.0.0.0:8443');
    expect(redactText('listening on https://[::1]:8080 now')).to.equal('listening on https://[::1]:8080 now');
  });

  it('redacts URLs the parser refuses too', () => {
    expect(redactUrl('https://user:pw@[bad/model.json?sig=abc')).to.equal('https://***@[bad/model.json?***');
  });

  it('redacts every URL inside a message, keeping the prose around it', () => {
    expect(redactText('GET https://h/m.json?sig=abc: HTTP 404 (via http://u:p@h2/x.bin).')).to.equal(
      'GET https://h/m.json?***: HTTP 404 (via http://***@h2/x.bin).',
    );
  });

  it('never lets a generated secret through, wherever in the URL it sits (generated)', () => {
    const secret = fc.stringMatching(/^[A-Za-z0-9_~-]{6,24}$/).map((s) => `S3CR3T${s}`);
    fc.assert(
      fc.property(secret, fc.constantFrom('user-info', 'password', 'query', 'fragment'), fc.constantFrom('', 'GET ', 'failed: '), (s, where, prefix) => {
        const url =
          where === 'user-info'
            ? `https://${s}@host.example/m.json`
            : where === 'password'
              ? `https://u:${s}@host.example/m.json`
              : where === 'query'
                ? `https://host.example/m.json?a=1&X-Amz-Signature=${s}`
                : `https://host.example/m.json#${s}`;
        expect(redactUrl(url)).not.to.contain(s);
        const text = `${prefix}${url}: HTTP 403 and ${JSON.stringify({ url })}`;
        expect(redactText(text)).not.to.contain(s);
        expect(redactText(redactText(text))).to.equal(redactText(text));
      }),
      { numRuns: 500 },
    );
  });
});
