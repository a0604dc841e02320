import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { PoolModel } from '../../../../inference-runtime/config/types.js';
import { findPackageDir } from '../../../../inference-runtime/core/npmPackage.js';
import { ModelFileServer } from '../../../fixtures/modelFileServer.js';
import { RuntimeProcess } from '../../../helpers/runtimeProcess.js';

const SECRET = 'SECRET';
const KEY = 'hygiene-test-key';
const humanModels = path.join(findPackageDir('@vladmandic/human')!, 'models');

describe('secret hygiene (runtime process, model sources with tokens and passwords)', function () {
  this.timeout(120_000);
  let dir: string;
  let files: ModelFileServer;
  let elsewhere: ModelFileServer;
  let runtime: RuntimeProcess | undefined;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'mloffload-hygiene-'));
    files = await new ModelFileServer(humanModels).start();
    elsewhere = await new ModelFileServer(humanModels).start();
  });
  after(async () => {
    await runtime?.stop();
    await Promise.all([files.stop(), elsewhere.stop()]);
    await rm(dir, { recursive: true, force: true });
  });

  it('shows no token or password from a source URL in /readyz, /v1/models, TF Serving status, /metrics, errors or the log', async () => {
    const presigned = (file: string, base = files.baseUrl) => `${base}/${file}?X-Amz-Signature=${SECRET}&token=${SECRET}`;
    const userInfo = (file: string, base = files.baseUrl) => `${base}/${file}`.replace('http://', `http://reader:${SECRET}@`);
    const unreachable = await new ModelFileServer(humanModels).start();
    const closedBase = unreachable.baseUrl;
    await unreachable.stop();

    files.behaviours.set('missing.json', { kind: 'status', status: 404 });
    const evilShard = ' %2e%2e/other/x.bin';
    const evil = Buffer.from(JSON.stringify({ weightsManifest: [{ paths: [evilShard], weights: [] }] }));
    files.behaviours.set('evil.json', { kind: 'body', body: evil });
    files.behaviours.set('moved.json', { kind: 'redirect', location: presigned('emotion.json', elsewhere.baseUrl) });
    // A plain http:// source must be pinned; a digest nothing reaches stands in where the fetch fails first.
    const zero = '0'.repeat(64);
    const evilDigest = createHash('sha256').update(evil).digest('hex');
    const sources: Record<string, PoolModel['source']> = {
      'not-found-presigned': { uri: presigned('missing.json'), sha256: zero },
      'not-found-user-info': { uri: userInfo('missing.json'), sha256: zero },
      'digest-presigned': { uri: presigned('emotion.json'), sha256: zero },
      'digest-user-info': { uri: userInfo('emotion.json'), sha256: zero },
      'bad-shard-presigned': { uri: presigned('evil.json'), sha256: evilDigest, shards: { [evilShard]: zero } },
      'bad-shard-user-info': { uri: userInfo('evil.json'), sha256: evilDigest, shards: { [evilShard]: zero } },
      'redirect-elsewhere': { uri: presigned('moved.json'), sha256: zero },
      'unpinned-shards': { uri: presigned('emotion.json'), sha256: '56f7e557eb0c863a8b9ab04ac7ccba756e93bf2c27dce135ef0e8712b80b7ad2' },
      'unreachable-presigned': { uri: presigned('emotion.json', closedBase), sha256: zero },
      'unreachable-user-info': { uri: userInfo('emotion.json', closedBase), sha256: zero },
    };
    const names = Object.keys(sources);
    const pool = { models: names.map((name) => ({ name, task: 'vision/facial-expression', framework: 'tfjs-graph', version: '1', source: sources[name] })) };
    const poolFile = path.join(dir, 'pool.json');
    await writeFile(poolFile, JSON.stringify(pool));
    const keysFile = path.join(dir, 'keys');
    await writeFile(keysFile, `${KEY}\n`);

    runtime = RuntimeProcess.start([
      '--port', '0', '--host', '127.0.0.1', '--workers', '0',
      '--config', poolFile, '--model-cache', path.join(dir, 'cache'), '--api-keys-file', keysFile,
    ]);
    const port = (await runtime.event('listening', 60_000)).port as number;
    await runtime.event('models_settled_with_failures', 60_000);
    const base = `http://127.0.0.1:${port}`;
    const auth = { authorization: `Bearer ${KEY}` };

    const answers: Array<{ route: string; status: number; text: string }> = [];
    const call = async (route: string, init: RequestInit = {}): Promise<string> => {
      const res = await fetch(`${base}${route}`, init);
      const text = await res.text();
      answers.push({ route, status: res.status, text });
      return text;
    };

    expect(JSON.parse(await call('/readyz'))).to.deep.equal({ ready: false });
    const detailed = JSON.parse(await call('/readyz', { headers: auth })) as { models: Array<{ name: string; state: string; reason: string }> };
    const listed = JSON.parse(await call('/v1/models', { headers: auth })) as { models: Array<{ name: string; state: string; reason: string }> };
    for (const name of names) {
      await call(`/v1/models/${name}`, { headers: auth });
      await call(`/v1/models/${name}/metadata`, { headers: auth });
      await call(`/v1/models/${name}:predict`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{"instances":[[1]]}' });
    }
    await call('/v1/vision/facial-expressions', { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{"image":{"b64":"AAAA"}}' });
    await call('/metrics');
    await runtime.stop();

    // Every failure is there, with a reason that still names the host and file (not a blanket "failed").
    expect(listed.models.map((m) => m.state)).to.deep.equal(names.map(() => 'UNAVAILABLE'));
    const reasons = Object.fromEntries(detailed.models.map((m) => [m.name, m.reason]));
    expect(reasons['not-found-presigned']).to.equal(`GET ${files.baseUrl}/missing.json?***: HTTP 404 Not Found`);
    expect(reasons['not-found-user-info']).to.equal(`GET ${files.baseUrl.replace('http://', 'http://***@')}/missing.json: HTTP 404 Not Found`);
    expect(reasons['digest-presigned']).to.match(/^sha256 mismatch for http:\/\/127\.0\.0\.1:\d+\/emotion\.json\?\*\*\*: expected 0{64}/);
    expect(reasons['bad-shard-user-info']).to.contain('must be a plain relative path');
    expect(reasons['redirect-elsewhere']).to.contain(`redirect to ${elsewhere.baseUrl}/emotion.json?*** refused: another origin`);
    expect(reasons['unpinned-shards']).to.contain('have no digest in source.shards');
    expect(reasons['unreachable-presigned']).to.contain('ECONNREFUSED');
    expect(elsewhere.requests.size).to.equal(0);

    for (const a of answers) expect(a.text, `${a.route} (${a.status})`).not.to.contain(SECRET);
    const log = runtime.rawLines.join('\n');
    expect(runtime.lines.filter((l) => l.event === 'model-unavailable')).to.have.length(names.length);
    expect(log).not.to.contain(SECRET);
  });
});
