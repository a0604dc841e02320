import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import fc from 'fast-check';
import { ModelFetchError } from '../../../../inference-runtime/repository/fetchError.js';
import { resolveSource, shardUrl } from '../../../../inference-runtime/repository/modelSource.js';

const ENTRY = new URL('https://models.example.org/pool/emotion/model.json');
const FOLDER = '/pool/emotion/';

/** Pieces that URL parsers and servers treat specially, mixed with plain name characters. */
const hostilePiece = fc.constantFrom(
  '..', '.', '/', '//', '\\', '%2e', '%2E', '%2e%2e', '.%2e', '%2f', '%2F', '%5c', '%252e', '%00', '%0a', '%20',
  ' ', '\t', '\n', '\r', '\u00a0', '\u3000', '\ufeff', '\u2028', '?', '#', '@', ':', ';',
  'http:', 'https://evil.example', '//evil.example', 'evil.example', 'file:', 'javascript:', 'C:',
  '\uff0e', '\uff0f', '\u2024', 'a', 'b.bin', 'group1-shard1of2.bin', 'sub', '~', '-', '_',
);
const hostilePath = fc.oneof(
  fc.array(hostilePiece, { minLength: 1, maxLength: 8 }).map((parts) => parts.join('')),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
);

/** Independent of the code under test: where would a server that decodes once land? */
function decodedSegments(url: URL): string[] {
  return url.pathname.split('/').map((seg) => {
    try {
      return decodeURIComponent(seg);
    } catch {
      return seg;
    }
  });
}

describe('weight shard paths from a remote model.json', () => {
  it('never resolves outside the entry folder or origin, whatever the path (generated)', () => {
    let accepted = 0;
    fc.assert(
      fc.property(hostilePath, (relative) => {
        let url: URL;
        try {
          url = shardUrl(relative, ENTRY, ENTRY.href);
        } catch (err) {
          expect(err).to.be.instanceOf(ModelFetchError);
          return;
        }
        accepted++;
        expect(url.origin).to.equal(ENTRY.origin);
        expect(url.username + url.password + url.search + url.hash).to.equal('');
        expect(url.pathname.startsWith(FOLDER)).to.equal(true);
        expect(url.pathname.length).to.be.greaterThan(FOLDER.length);
        const segments = decodedSegments(url);
        expect(segments.some((s) => s === '..' || s === '.' || s.includes('/') || s.includes('\\'))).to.equal(false);
        // The name is used as a file name in the cache folder too: it must stay inside it there as well.
        const laid = path.resolve('/cache/models/x', relative);
        expect(laid.startsWith('/cache/models/x/')).to.equal(true);
      }),
      { numRuns: 5000 },
    );
    // The generator does produce plain names (`a`, `sub/b.bin`), so the property did not pass by refusing all.
    expect(accepted).to.be.greaterThan(0);
  });

  it('accepts the names real tfjs models use', () => {
    for (const name of ['emotion.bin', 'group1-shard1of2.bin', 'weights/group1-shard2of2', 'model_weights.bin']) {
      expect(shardUrl(name, ENTRY, ENTRY.href).href).to.equal(`https://models.example.org${FOLDER}${name}`);
    }
  });

  it('refuses the tricks seen against model hubs, each with a clear reason', () => {
    for (const trick of [
      ' ../secret.bin',
      '../secret.bin ',
      '%2e%2e/secret.bin',
      '.%2E/secret.bin',
      'a/%2e%2e/%2e%2e/secret.bin',
      '..\\secret.bin',
      'a\\..\\..\\secret.bin',
      '/etc/passwd',
      '//evil.example/x.bin',
      'https://evil.example/x.bin',
      'http:evil.example/x.bin',
      '\t//evil.example/x.bin',
      'x.bin?../../y',
      '?x',
      '#x',
      'a//b.bin',
      '.\n./secret.bin',
      '%252e%252e/secret.bin',
      '\uff0e\uff0e\uff0fsecret.bin',
      'caf\u00e9.bin',
    ]) {
      expect(() => shardUrl(trick, ENTRY, ENTRY.href), JSON.stringify(trick)).to.throw(ModelFetchError, /must be a plain relative path|resolves outside/);
    }
  });

  it('applies the same rule to local (file://) sources (generated)', () => {
    const dir = path.join(os.tmpdir(), 'models', 'emotion');
    const source = resolveSource(`file://${dir}/model.json`);
    fc.assert(
      fc.property(hostilePath, (relative) => {
        let loc;
        try {
          loc = source.sibling(relative);
        } catch (err) {
          expect(err).to.be.instanceOf(ModelFetchError);
          return;
        }
        expect(loc.kind).to.equal('local');
        if (loc.kind === 'local') expect(loc.path.startsWith(dir + path.sep)).to.equal(true);
      }),
      { numRuns: 2000 },
    );
  });
});
