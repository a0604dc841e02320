import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { load, loadAll } from 'js-yaml';
import { defaultPool, DIALOG_SMART_HOME, SPEECH_RECOGNISER, visionPool } from '../../../../inference-runtime/config/defaultPool.js';
import { loadPoolConfig, parsePoolConfig, PoolConfigError, validatePoolConfig } from '../../../../inference-runtime/config/poolConfig.js';
import { findPackageDir } from '../../../../inference-runtime/repository/npmPackage.js';

const good = {
  name: 'facial-expression',
  task: 'vision/facial-expression',
  framework: 'tfjs-graph',
  version: '1',
  source: { uri: 'npm:@vladmandic/human/models/emotion.json' },
};

function errorOf(fn: () => unknown): PoolConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(PoolConfigError);
    return err as PoolConfigError;
  }
  expect.fail('expected a PoolConfigError');
}

describe('pool config', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'pool-config-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('names the bad field and the rule in the error message', () => {
    const err = errorOf(() => validatePoolConfig({ models: [good, { ...good, name: 'other', source: { uri: 'ftp://host/m.json' } }] }));
    expect(err.message).to.match(/models\[1\]\.source\.uri: must match pattern/);
    expect(err.issues).to.have.length(1);
  });

  it('reports missing, unknown and mistyped fields with their paths, all at once', () => {
    const { name: _name, ...noName } = good;
    const err = errorOf(() =>
      validatePoolConfig({
        models: [noName, { ...good, name: 'b', framework: 'pytorch', extra: true, preprocessing: { width: 0, height: 64, colour: 'gray' } }],
      }),
    );
    const paths = err.issues.map((i) => i.path);
    expect(paths).to.include.members([
      'models[0].name',
      'models[1].framework',
      'models[1].extra',
      'models[1].preprocessing.width',
      'models[1].preprocessing.colour',
    ]);
    expect(err.message).to.contain('models[0].name: is required');
    expect(err.message).to.contain('models[1].framework: must be one of "tfjs-graph", "tfjs-layers", "onnx"');
  });

  it('rejects a malformed digest and duplicate name/version pairs', () => {
    const bad = errorOf(() => validatePoolConfig({ models: [{ ...good, source: { uri: good.source.uri, sha256: 'abc' } }] }));
    expect(bad.message).to.match(/models\[0\]\.source\.sha256: must match pattern/);
    const dup = errorOf(() => validatePoolConfig({ models: [good, { ...good }] }));
    expect(dup.message).to.contain('models[1]: duplicates models[0]');
    // Two versions of one model are fine.
    expect(validatePoolConfig({ models: [good, { ...good, version: '2' }] }).models).to.have.length(2);
  });

  it('checks preprocessing across fields like the MLModel CRD does', () => {
    const pre = (p: object) => ({ models: [{ ...good, preprocessing: { width: 64, height: 64, colour: 'grayscale', ...p } }] });
    expect(errorOf(() => validatePoolConfig(pre({ range: [1, -1] }))).message).to.contain('models[0].preprocessing.range: range[0] must be less than range[1]');
    expect(errorOf(() => validatePoolConfig(pre({ mean: [0.5], std: [0.2, 0.2] }))).message).to.contain('mean and std must have the same number of channels');
    expect(errorOf(() => validatePoolConfig(pre({ std: [0] }))).issues[0].path).to.equal('models[0].preprocessing.std[0]');
  });

  it('accepts what the operator renders from MLModels (dotted names, + in versions)', () => {
    const pool = validatePoolConfig({ models: [{ ...good, name: 'emotion.v2', version: '1.0.0+fer2013', labels: [''] }] });
    expect(pool.models[0].name).to.equal('emotion.v2');
  });

  it('loads YAML and JSON files', async () => {
    const yamlFile = path.join(dir, 'pool.yaml');
    await writeFile(
      yamlFile,
      [
        'batching: { maxBatchSize: 8, maxDelayMs: 5 }',
        'models:',
        '  - name: facial-expression',
        '    task: vision/facial-expression',
        '    framework: tfjs-graph',
        '    version: "1"',
        '    source:',
        '      uri: npm:@vladmandic/human/models/emotion.json',
        '    preprocessing: { width: 64, height: 64, colour: grayscale, range: [-1, 1] }',
      ].join('\n'),
    );
    const fromYaml = await loadPoolConfig(yamlFile);
    expect(fromYaml.batching).to.deep.equal({ maxBatchSize: 8, maxDelayMs: 5 });
    expect(fromYaml.models[0].preprocessing?.range).to.deep.equal([-1, 1]);

    const jsonFile = path.join(dir, 'pool.json');
    await writeFile(jsonFile, JSON.stringify({ models: [good] }));
    expect((await loadPoolConfig(jsonFile)).models[0].name).to.equal('facial-expression');
  });

  it('reports unreadable and unparsable files with their path', async () => {
    const missing = path.join(dir, 'nope.yaml');
    await loadPoolConfig(missing).then(
      () => expect.fail('should reject'),
      (err: Error) => expect(err.message).to.contain(missing).and.to.contain('ENOENT'),
    );
    const broken = errorOf(() => parsePoolConfig('models: [ {', 'broken.yaml'));
    expect(broken.message).to.match(/broken\.yaml: cannot parse/);
  });

  it('a version written as a YAML number is refused, not silently coerced', () => {
    const err = errorOf(() => parsePoolConfig('models:\n  - {name: a, task: vision/x, framework: onnx, version: 1, source: {uri: "file:///m.onnx"}}', 'p.yaml'));
    expect(err.message).to.contain('models[0].version: must be string');
  });
});

describe('default pool', () => {
  it('is a valid pool with the built-in models, labels and model cards', () => {
    const pool = validatePoolConfig(defaultPool(), 'default');
    expect(pool.models.map((m) => [m.name, m.task])).to.deep.equal([
      ['face-detector', 'vision/face-detection'],
      ['facial-expression', 'vision/facial-expression'],
      ['object-detector', 'vision/object-detection'],
      ['speech-recogniser', 'speech/recognition'],
      ['smart-home-assistant', 'dialog/intent'],
    ]);
    const emotion = pool.models[1];
    expect(emotion.labels).to.deep.equal(['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral']);
    expect(emotion.preprocessing).to.include({ width: 64, height: 64, colour: 'grayscale' });
    expect(emotion.card?.license).to.equal('MIT');
    expect(pool.models[2].labels).to.have.length(80);
    expect(pool.models[2].labels?.[0]).to.equal('person');
    for (const m of pool.models.slice(0, 3)) expect(m.card?.origin).to.contain('@vladmandic/human');
    for (const m of pool.models.slice(3)) expect(m.card?.license).to.be.a('string');
  });

  it('pins the digests of the files installed with @vladmandic/human', async () => {
    const dir = findPackageDir('@vladmandic/human');
    expect(dir, '@vladmandic/human is installed').to.be.a('string');
    for (const m of visionPool().models) {
      const rel = m.source.uri.replace('npm:@vladmandic/human/', '');
      const sha = (file: string) => readFile(file).then((b) => createHash('sha256').update(b).digest('hex'));
      expect(await sha(path.join(dir!, rel)), m.name).to.equal(m.source.sha256);
      for (const [shard, digest] of Object.entries(m.source.shards ?? {})) {
        expect(await sha(path.join(dir!, path.dirname(rel), shard)), shard).to.equal(digest);
      }
    }
  });

  it('pins the digests of the speech dictionary and the dialog corpus, as the voice-assistant example does', async () => {
    const sha = (file: string) => readFile(file).then((b) => createHash('sha256').update(b).digest('hex'));
    for (const m of [SPEECH_RECOGNISER, DIALOG_SMART_HOME]) expect(await sha(fileURLToPath(m.source.uri)), m.name).to.equal(m.source.sha256);
    const example = loadAll(await readFile(path.resolve('examples/voice-assistant/voice-assistant.yaml'), 'utf8')) as { kind: string; metadata: { name: string }; spec: { source: { sha256: string } } }[];
    const digests = Object.fromEntries(example.filter((d) => d.kind === 'MLModel').map((d) => [d.metadata.name, d.spec.source.sha256]));
    expect(digests).to.deep.equal({ [SPEECH_RECOGNISER.name]: SPEECH_RECOGNISER.source.sha256, [DIALOG_SMART_HOME.name]: DIALOG_SMART_HOME.source.sha256 });
  });

  it('returns a fresh copy each time', () => {
    const a = defaultPool();
    a.models[0].labels = ['changed'];
    expect(defaultPool().models[0].labels).to.equal(undefined);
  });
});

describe('pool config: source.allowedRedirectHosts', () => {
  const withHosts = (hosts: unknown) => ({ models: [{ ...good, source: { uri: 'https://models.example.org/m/model.json', allowedRedirectHosts: hosts } }] });

  it('accepts host names, IPs and host:port, and refuses URLs, paths and wildcards', () => {
    expect(() => validatePoolConfig(withHosts(['objects.example.net', '127.0.0.1:9000', '[::1]:8443']))).not.to.throw();
    for (const bad of ['https://objects.example.net', 'objects.example.net/path', '*.example.net', ' objects.example.net', 'user@host']) {
      expect(errorOf(() => validatePoolConfig(withHosts([bad]))).message, bad).to.match(/models\[0\]\.source\.allowedRedirectHosts\[0\]: must match pattern/);
    }
  });

  it('has the same rule in the MLModel CRD (the operator renders the pool file from it)', async () => {
    const schema = JSON.parse(await readFile(new URL('../../../../inference-runtime/config/pool.schema.json', import.meta.url), 'utf8')) as {
      $defs: { source: { properties: { allowedRedirectHosts: { maxItems: number; items: { pattern: string; maxLength: number } } } } };
    };
    const crd = load(await readFile(new URL('../../../../crds/mlmodels.mloffload.io.yaml', import.meta.url), 'utf8')) as {
      spec: { versions: Array<{ schema: { openAPIV3Schema: { properties: { spec: { properties: { source: { properties: Record<string, unknown> } } } } } } }> };
    };
    const inPool = schema.$defs.source.properties.allowedRedirectHosts;
    const inCrd = crd.spec.versions[0]!.schema.openAPIV3Schema.properties.spec.properties.source.properties.allowedRedirectHosts as typeof inPool;
    expect(inCrd.items.pattern).to.equal(inPool.items.pattern);
    expect(inCrd.items.maxLength).to.equal(inPool.items.maxLength);
    expect(inCrd.maxItems).to.equal(inPool.maxItems);
  });
});
