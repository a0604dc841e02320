import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile, copyFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect } from 'chai';
import type { PoolModel } from '../../../../inference-runtime/config/types.js';
import { ModelFetchError } from '../../../../inference-runtime/repository/fetchError.js';
import { ModelRepository } from '../../../../inference-runtime/repository/modelRepository.js';
import { findPackageDir } from '../../../../inference-runtime/core/npmPackage.js';
import { ModelFileServer } from '../../../fixtures/modelFileServer.js';

const humanModels = path.join(findPackageDir('@vladmandic/human')!, 'models');
const EMOTION_JSON = '56f7e557eb0c863a8b9ab04ac7ccba756e93bf2c27dce135ef0e8712b80b7ad2';
const EMOTION_BIN = '927ac8224f356ab1e68c2bcfbfa07b0c8567047d1bcf817388ba6e38214c4987';

function model(uri: string, extra: Partial<PoolModel['source']> = {}, framework: PoolModel['framework'] = 'tfjs-graph'): PoolModel {
  return { name: 'm', task: 'vision/test', framework, version: '1', source: { uri, ...extra } };
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  return p.then(
    () => expect.fail('expected a rejection'),
    (err: Error) => err,
  );
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('model repository', () => {
  let dir: string;
  let cacheDir: string;
  let server: ModelFileServer;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'model-repo-'));
    cacheDir = path.join(dir, 'cache');
    server = await new ModelFileServer(humanModels).start();
  });
  afterEach(async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /** Nothing half-written may remain in the cache's temp folder. */
  async function expectNoPartialFiles(): Promise<void> {
    expect(await readdir(path.join(cacheDir, 'tmp'))).to.deep.equal([]);
  }

  describe('sources', () => {
    it('finds packages whose exports map hides their files (npm:)', () => {
      const found = findPackageDir('@vladmandic/human');
      expect(found).to.match(/node_modules[\\/]@vladmandic[\\/]human$/);
      expect(findPackageDir('surely-not-an-installed-package-xyz')).to.equal(undefined);
    });

    it('copies an npm: model and its weight shards into the cache, verified', async () => {
      const repo = new ModelRepository({ cacheDir });
      const files = await repo.fetch(model('npm:@vladmandic/human/models/emotion.json', { sha256: EMOTION_JSON, shards: { 'emotion.bin': EMOTION_BIN } }));
      expect(files.sha256).to.equal(EMOTION_JSON);
      expect(files.origin).to.equal('source');
      expect(sha256(await readFile(files.entryPath))).to.equal(EMOTION_JSON);
      expect(sha256(await readFile(files.files['emotion.bin']))).to.equal(EMOTION_BIN);
      // Laid out under their own names, shards next to model.json, for loaders that expect that.
      expect(path.dirname(files.entryPath)).to.equal(files.dir);
      expect(files.files['emotion.bin']).to.equal(path.join(files.dir, 'emotion.bin'));
      expect((await readdir(files.dir)).sort()).to.deep.equal(['emotion.bin', 'emotion.json']);
      expect(files.dir.startsWith(path.join(cacheDir, 'models'))).to.equal(true);
      expect(files.workDir.startsWith(path.join(cacheDir, 'derived'))).to.equal(true);
      expect(await readdir(path.join(cacheDir, 'blobs', 'sha256'))).to.have.members([EMOTION_JSON, EMOTION_BIN]);
      await expectNoPartialFiles();
    });

    it('serves concurrent fetches of one source (two versions, two runtimes) from one intact folder', async () => {
      const m = model('npm:@vladmandic/human/models/emotion.json', { sha256: EMOTION_JSON, shards: { 'emotion.bin': EMOTION_BIN } });
      const results = await Promise.all(Array.from({ length: 6 }, (_, i) => new ModelRepository({ cacheDir }).fetch({ ...m, name: `m${i}` })));
      expect(new Set(results.map((r) => r.dir)).size).to.equal(1);
      for (const r of results) expect(sha256(await readFile(r.files['emotion.bin']))).to.equal(EMOTION_BIN);
      await expectNoPartialFiles();
    });

    it('reads file:// sources, resolving shards next to model.json', async () => {
      const local = path.join(dir, 'models', 'emotion');
      await mkdir(local, { recursive: true });
      await copyFile(path.join(humanModels, 'emotion.json'), path.join(local, 'model.json'));
      await copyFile(path.join(humanModels, 'emotion.bin'), path.join(local, 'emotion.bin'));
      const files = await new ModelRepository({ cacheDir }).fetch(model(pathToFileURL(path.join(local, 'model.json')).href, { sha256: EMOTION_JSON, shards: { 'emotion.bin': EMOTION_BIN } }));
      expect(files.sha256).to.equal(EMOTION_JSON);
      expect(Object.keys(files.files)).to.deep.equal(['emotion.bin']);
    });

    it('reports a missing npm package or file as the reason', async () => {
      const repo = new ModelRepository({ cacheDir });
      const npm = await rejection(repo.fetch(model('npm:no-such-package-xyz/model.json')));
      expect(npm).to.be.instanceOf(ModelFetchError);
      expect(npm.message).to.contain('npm package no-such-package-xyz is not installed');
      const file = await rejection(repo.fetch(model(pathToFileURL(path.join(dir, 'absent.json')).href)));
      expect(file.message).to.contain('ENOENT');
    });

    it('refuses weight paths that leave the model folder', async () => {
      const local = path.join(dir, 'evil');
      await mkdir(local, { recursive: true });
      await writeFile(path.join(local, 'model.json'), JSON.stringify({ weightsManifest: [{ paths: ['../secret.bin'], weights: [] }] }));
      const err = await rejection(new ModelRepository({ cacheDir }).fetch(model(pathToFileURL(path.join(local, 'model.json')).href)));
      expect(err.message).to.contain('must be a plain relative path');
    });
  });

  describe('http sources and the cache', () => {
    it('downloads once, then serves from the cache with the source unreachable', async () => {
      const m = model(server.url('emotion.json'), { sha256: EMOTION_JSON, shards: { 'emotion.bin': EMOTION_BIN } });
      const first = await new ModelRepository({ cacheDir }).fetch(m);
      expect(first.origin).to.equal('source');
      expect(server.requests.get('emotion.json')).to.equal(1);
      expect(server.requests.get('emotion.bin')).to.equal(1);

      await server.stop();
      const second = await new ModelRepository({ cacheDir }).fetch(m);
      expect(second.origin).to.equal('cache');
      expect(second.entryPath).to.equal(first.entryPath);
      expect(second.files).to.deep.equal(first.files);
    });

    it('detects a corrupted cached shard by its digest and downloads it again', async () => {
      const m = model(server.url('emotion.json'), { sha256: EMOTION_JSON, shards: { 'emotion.bin': EMOTION_BIN } });
      const first = await new ModelRepository({ cacheDir }).fetch(m);
      await writeFile(first.files['emotion.bin'], 'bit rot');

      const again = await new ModelRepository({ cacheDir }).fetch(m);
      expect(again.origin).to.equal('source');
      expect(server.requests.get('emotion.bin')).to.equal(2);
      expect(sha256(await readFile(again.files['emotion.bin']))).to.equal(EMOTION_BIN);
    });

    it('reports a corrupted cache file when the source cannot be reached', async () => {
      const m = model(server.url('emotion.json'), { sha256: EMOTION_JSON, shards: { 'emotion.bin': EMOTION_BIN } });
      const first = await new ModelRepository({ cacheDir }).fetch(m);
      await writeFile(first.files['emotion.bin'], 'bit rot');
      await server.stop();

      const err = await rejection(new ModelRepository({ cacheDir, fetchTimeoutMs: 5000 }).fetch(m));
      expect(err.message).to.match(/cached emotion\.bin is corrupted \(sha256 [0-9a-f]{64}, expected 927ac8/);
      expect(err.message).to.contain('fetching again failed: GET http://127.0.0.1');
      expect(err.message).to.contain('ECONNREFUSED');
    });

    it('refuses content whose digest does not match the pin and leaves nothing behind', async () => {
      const err = await rejection(new ModelRepository({ cacheDir }).fetch(model(server.url('emotion.json'), { sha256: '0'.repeat(64) })));
      expect(err.message).to.equal(`sha256 mismatch for ${server.url('emotion.json')}: expected ${'0'.repeat(64)}, got ${EMOTION_JSON}`);
      expect(await readdir(path.join(cacheDir, 'manifests'))).to.deep.equal([]);
      await expectNoPartialFiles();
    });

    it('checks pinned shard digests too', async () => {
      const err = await rejection(
        new ModelRepository({ cacheDir }).fetch(model(server.url('emotion.json'), { sha256: EMOTION_JSON, shards: { 'emotion.bin': 'f'.repeat(64) } })),
      );
      expect(err.message).to.contain(`sha256 mismatch for ${server.url('emotion.bin')}`);
    });

    it('reports an HTTP error status', async () => {
      server.behaviours.set('emotion.bin', { kind: 'status', status: 404 });
      const err = await rejection(new ModelRepository({ cacheDir }).fetch(model(server.url('emotion.json'))));
      expect(err.message).to.equal(`GET ${server.url('emotion.bin')}: HTTP 404 Not Found`);
      await expectNoPartialFiles();
    });

    it('gives up on a source that does not answer within the deadline', async () => {
      server.behaviours.set('emotion.json', { kind: 'hang' });
      const err = await rejection(new ModelRepository({ cacheDir, fetchTimeoutMs: 300 }).fetch(model(server.url('emotion.json'))));
      expect(err.message).to.match(/timed out after 300 ms/);
      await expectNoPartialFiles();
    });

    it('detects a truncated download', async () => {
      server.behaviours.set('emotion.bin', { kind: 'truncate', bytes: 1000 });
      const err = await rejection(new ModelRepository({ cacheDir }).fetch(model(server.url('emotion.json'))));
      expect(err.message).to.match(/emotion\.bin: truncated, connection closed after \d+ of 820516 bytes/);
      await expectNoPartialFiles();
      const blobs = await readdir(path.join(cacheDir, 'blobs', 'sha256'));
      expect(blobs).to.not.include(EMOTION_BIN);
    });

    it('stops a download above the size limit', async () => {
      const err = await rejection(new ModelRepository({ cacheDir, maxFileBytes: 100_000 }).fetch(model(server.url('emotion.json'))));
      expect(err.message).to.contain('820516 bytes announced, above the 100000-byte limit');
      await expectNoPartialFiles();
    });

    it('fetches again when the pinned digest changes', async () => {
      const other = new TextEncoder().encode(JSON.stringify({ weightsManifest: [] }));
      const m = model(server.url('emotion.json'), { sha256: EMOTION_JSON, shards: { 'emotion.bin': EMOTION_BIN } });
      await new ModelRepository({ cacheDir }).fetch(m);
      server.behaviours.set('emotion.json', { kind: 'body', body: other });
      const updated = await new ModelRepository({ cacheDir }).fetch(model(server.url('emotion.json'), { sha256: sha256(other) }));
      expect(updated.origin).to.equal('source');
      expect(updated.sha256).to.equal(sha256(other));
    });
  });

  describe('pins', () => {
    it('refuses a pinned model.json whose weight shards are not all pinned, naming them', async () => {
      const m = model(server.url('emotion.json'), { sha256: EMOTION_JSON });
      const err = await rejection(new ModelRepository({ cacheDir }).fetch(m));
      expect(err).to.be.instanceOf(ModelFetchError);
      expect(err.message).to.contain('source.sha256 pins the entry file but its weight shards "emotion.bin" have no digest in source.shards');
      // Refused before any shard was downloaded, and nothing recorded for a later start to trust.
      expect(server.requests.get('emotion.bin')).to.equal(undefined);
      expect(await readdir(path.join(cacheDir, 'manifests'))).to.deep.equal([]);
    });

    it('refuses the same model from the cache, where an older release may have put it', async () => {
      const pinned = model(server.url('emotion.json'), { sha256: EMOTION_JSON, shards: { 'emotion.bin': EMOTION_BIN } });
      await new ModelRepository({ cacheDir }).fetch(pinned);
      await server.stop();
      const err = await rejection(new ModelRepository({ cacheDir }).fetch(model(server.url('emotion.json'), { sha256: EMOTION_JSON })));
      expect(err.message).to.contain('have no digest in source.shards');
    });

    it('leaves an unpinned model to trust on first fetch', async () => {
      const files = await new ModelRepository({ cacheDir }).fetch(model(server.url('emotion.json')));
      expect(sha256(await readFile(files.files['emotion.bin']))).to.equal(EMOTION_BIN);
    });
  });

  describe('redirects', () => {
    let other: ModelFileServer;
    beforeEach(async () => {
      other = await new ModelFileServer(humanModels).start();
    });
    afterEach(() => other.stop());

    it('follows a redirect within the same origin', async () => {
      server.behaviours.set('old/emotion.json', { kind: 'redirect', location: '/emotion.json', status: 301 });
      // Shards are named relative to the URL the pool gives (as tfjs does), then redirected on their own.
      server.behaviours.set('old/emotion.bin', { kind: 'redirect', location: `${server.baseUrl}/emotion.bin`, status: 308 });
      const files = await new ModelRepository({ cacheDir }).fetch(model(server.url('old/emotion.json'), { sha256: EMOTION_JSON, shards: { 'emotion.bin': EMOTION_BIN } }));
      expect(files.sha256).to.equal(EMOTION_JSON);
      expect(server.requests.get('emotion.json')).to.equal(1);
      expect(server.requests.get('emotion.bin')).to.equal(1);
    });

    it('refuses a redirect to another origin (another port) and fetches nothing from it', async () => {
      server.behaviours.set('emotion.bin', { kind: 'redirect', location: other.url('emotion.bin') });
      const err = await rejection(new ModelRepository({ cacheDir }).fetch(model(server.url('emotion.json'))));
      expect(err.message).to.equal(
        `GET ${server.url('emotion.bin')}: redirect to ${other.url('emotion.bin')} refused: another origin (list its host in source.allowedRedirectHosts to allow it)`,
      );
      expect(other.requests.size).to.equal(0);
      await expectNoPartialFiles();
    });

    it('follows a redirect to a host the pool file allows, without the source credentials', async () => {
      server.behaviours.set('emotion.bin', { kind: 'redirect', location: other.url('emotion.bin'), status: 307 });
      const uri = server.url('emotion.json').replace('http://', 'http://reader:s3cret@');
      const files = await new ModelRepository({ cacheDir }).fetch(model(uri, { allowedRedirectHosts: [`127.0.0.1:${other.port}`] }));
      expect(sha256(await readFile(files.files['emotion.bin']))).to.equal(EMOTION_BIN);
      expect(server.authorizations.get('emotion.json')).to.deep.equal([`Basic ${Buffer.from('reader:s3cret').toString('base64')}`]);
      expect(other.authorizations.get('emotion.bin')).to.deep.equal([undefined]);
    });

    it('stops after a bounded number of redirects', async () => {
      server.behaviours.set('loop.json', { kind: 'redirect', location: '/loop.json' });
      const err = await rejection(new ModelRepository({ cacheDir }).fetch(model(server.url('loop.json'))));
      expect(err.message).to.equal(`GET ${server.url('loop.json')}: more than 5 redirects`);
      expect(server.requests.get('loop.json')).to.equal(6);
    });

    it('refuses a redirect to a non-http scheme', async () => {
      server.behaviours.set('emotion.json', { kind: 'redirect', location: 'file:///etc/passwd' });
      const err = await rejection(new ModelRepository({ cacheDir }).fetch(model(server.url('emotion.json'), {}, 'onnx')));
      expect(err.message).to.contain('refused: not http(s)');
    });
  });

  describe('secrets in source URLs', () => {
    const SECRET = 'SECRET';
    const presigned = (file: string) => `${server.url(file)}?X-Amz-Signature=${SECRET}&token=${SECRET}`;
    const withUserInfo = (file: string) => server.url(file).replace('http://', `http://user:${SECRET}@`);

    it('keeps tokens and passwords out of every fetch error (404, digest mismatch, bad shard path, unreachable)', async () => {
      const messages: string[] = [];
      const fail = async (m: PoolModel) => messages.push((await rejection(new ModelRepository({ cacheDir, fetchTimeoutMs: 5000 }).fetch(m))).message);

      server.behaviours.set('missing.json', { kind: 'status', status: 404 });
      await fail(model(presigned('missing.json')));
      await fail(model(withUserInfo('missing.json')));
      await fail(model(presigned('emotion.json'), { sha256: '0'.repeat(64) }));
      await fail(model(withUserInfo('emotion.json'), { sha256: '0'.repeat(64) }));
      server.behaviours.set('evil.json', { kind: 'body', body: new TextEncoder().encode(JSON.stringify({ weightsManifest: [{ paths: ['%2e%2e/x.bin'], weights: [] }] })) });
      await fail(model(presigned('evil.json')));
      await fail(model(withUserInfo('evil.json')));
      await fail(model(presigned('emotion.json'), { sha256: EMOTION_JSON }));
      await server.stop();
      await fail(model(presigned('emotion.json')));
      await fail(model(withUserInfo('emotion.json')));

      expect(messages).to.have.length(9);
      for (const m of messages) expect(m).not.to.contain(SECRET);
      // What stays is enough to tell which file failed.
      expect(messages[0]).to.equal(`GET ${server.url('missing.json')}?***: HTTP 404 Not Found`);
      expect(messages[1]).to.equal(`GET ${server.url('missing.json').replace('http://', 'http://***@')}: HTTP 404 Not Found`);
      expect(messages[2]).to.contain(`sha256 mismatch for ${server.url('emotion.json')}?***`);
      expect(messages[4]).to.contain('"%2e%2e/x.bin"');
    });

    it('writes no token into the cache folder', async () => {
      await new ModelRepository({ cacheDir }).fetch(model(presigned('emotion.json')));
      for (const name of await readdir(path.join(cacheDir, 'manifests'))) {
        expect(await readFile(path.join(cacheDir, 'manifests', name), 'utf8')).not.to.contain(SECRET);
      }
      // And the redacted manifest still serves a restart with the source gone.
      await server.stop();
      expect((await new ModelRepository({ cacheDir }).fetch(model(presigned('emotion.json')))).origin).to.equal('cache');
    });
  });
});
