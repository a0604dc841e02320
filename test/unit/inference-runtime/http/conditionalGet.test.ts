import { expect } from 'chai';
import fc from 'fast-check';
import { jsonEtag, noneMatch } from '../../../../inference-runtime/http/conditionalGet.js';

describe('conditional GET', () => {
  it('gives equal JSON documents equal tags and different ones different tags', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
        const same = JSON.stringify(a) === JSON.stringify(b);
        expect(jsonEtag(a) === jsonEtag(b)).to.equal(same);
      }),
    );
  });

  it('matches If-None-Match lists that name the tag (weak or strong) or *, and no others', () => {
    const tag = fc.stringMatching(/^[A-Za-z0-9_-]{1,22}$/).map((t) => `"${t}"`);
    fc.assert(
      fc.property(tag, fc.array(tag, { maxLength: 5 }), fc.boolean(), (etag, others, weak) => {
        const rest = others.filter((o) => o !== etag);
        expect(noneMatch(rest.join(', ') || undefined, etag)).to.equal(false);
        expect(noneMatch([...rest, weak ? `W/${etag}` : etag].join(', '), etag)).to.equal(true);
        expect(noneMatch([...rest, '*'].join(','), etag)).to.equal(true);
      }),
    );
  });

  it('never throws on hostile header values', () => {
    fc.assert(fc.property(fc.string(), (header) => void noneMatch(header, '"abc"')));
  });
});
