// The API server (the MLModel CRD's schema and CEL rules) and the runtime (the pool schema with the rules'
// runtime twins) accept and refuse the same specs: generated specs, mostly near a rule's edge, are sent to the
// real API server as dry-run creates and validated as a pool entry; the verdicts must match.
import { expect } from 'chai';
import fc from 'fast-check';
import { validatePoolConfig } from '../../../inference-runtime/config/poolConfig.js';
import type { MLModel, MLModelSpec } from '../../../operator/api/types.js';
import { ApiError } from '../../../operator/kube/restClient.js';
import { collectionPath, MLMODELS } from '../../../operator/kube/resources.js';
import { controlPlaneStartTimeout, freshNamespace } from '../../helpers/controlPlane.js';
import { installCrds, testClient } from './support.js';

const DIGEST = 'ab'.repeat(32);

/** Mostly a value that passes, sometimes one beside a rule's edge, so that whole specs land on both sides. */
function mostly<T>(valid: readonly T[], invalid: readonly T[]): fc.Arbitrary<T> {
  return fc.oneof({ weight: 12, arbitrary: fc.constantFrom(...valid) }, { weight: 1, arbitrary: fc.constantFrom(...invalid) });
}

/** `undefined` leaves the field out. */
const field = {
  task: mostly(['vision/facial-expression', 'robotics/grasp', 'a/b'], ['facial-expression', 'Vision/x', 'vision/x-', `vision/${'x'.repeat(130)}`]),
  framework: mostly(['tfjs-graph', 'tfjs-layers', 'onnx'], ['pytorch']),
  version: mostly(['1', '1.0.0+fer2013'], ['', '-1', 'a'.repeat(65), 'v 1']),
  backend: mostly([undefined, 'auto', 'tfjs', 'onnx'], ['gpu']),
  uri: mostly(
    ['https://models.example.org/m/model.json', 'http://models.example.org/m/model.json', 'file:///var/lib/models/model.json', 'npm:@vladmandic/human/models/emotion.json'],
    ['http://host', 'file://localhost/m/model.json', 'npm:Human/models/x.json', 'npm:@vladmandic/human', 'ftp://h/model.json'],
  ),
  sha256: mostly([undefined, DIGEST, DIGEST.toUpperCase()], ['abc']),
  shards: mostly<Record<string, string> | undefined>([undefined, {}, { 'group1-shard1of1.bin': DIGEST }], [{ '': DIGEST }, { ['s'.repeat(1025)]: DIGEST }, { 'x.bin': 'nothex' }]),
  hosts: mostly([undefined, ['objects.example.net', '127.0.0.1:9000'], []], [['a.example', 'a.example'], ['https://x/']]),
  labels: mostly([undefined, ['a', 'b'], []], [['a', 'a'], ['a', ' '], ['']]),
  colour: mostly(['rgb', 'bgr', 'grayscale'], ['gray']),
  channels: mostly([undefined, [0.5], [0.5, 0.5, 0.5]], [[], [0], [0.5, 0.5], [1, 1, 1, 1], [0.5, 0, 0.5]]),
  range: mostly([undefined, [-1, 1]], [[1, -1], [0, 0], [0, 1, 2]]),
  weights: mostly([undefined, [0.2989, 0.587, 0.114]], [[1.5, 0, 0], [0.5, 0.5]]),
  size: mostly([1, 64], [0, 9000]),
  metricName: mostly(['accuracy'], ['']),
};

const spec = fc
  .record({
    task: field.task,
    framework: field.framework,
    version: field.version,
    backend: field.backend,
    source: fc.record({ uri: field.uri, sha256: field.sha256, shards: field.shards, allowedRedirectHosts: field.hosts }),
    labels: field.labels,
    preprocessing: fc.option(
      fc.record({ width: field.size, height: field.size, colour: field.colour, range: field.range, grayscaleWeights: field.weights, mean: field.channels, std: field.channels }),
      { nil: undefined },
    ),
    card: fc.option(fc.record({ license: fc.constant('MIT'), metrics: fc.array(fc.record({ dataset: fc.constant('FER2013'), metric: field.metricName, value: fc.constant(0.66) }), { maxLength: 2 }) }), { nil: undefined }),
  })
  .map((s) => JSON.parse(JSON.stringify(s)) as MLModelSpec); // drops the undefined fields, as a manifest would not have them

/** The fields each side named, for the failure message. */
function runtimeVerdict(s: MLModelSpec): string[] {
  try {
    validatePoolConfig({ models: [{ name: 'm', ...s }] });
    return [];
  } catch (err) {
    return (err as { issues?: { path: string; message: string }[] }).issues?.map((i) => `${i.path}: ${i.message}`) ?? [String(err)];
  }
}

describe('MLModel schema: the API server and the runtime agree on generated specs', function () {
  this.timeout(300_000);
  let ns: string;

  before(async function () {
    this.timeout(controlPlaneStartTimeout);
    await installCrds();
    ns = await freshNamespace('schema');
  });

  it('accept and refuse the same specs (dry-run creates against the real API server)', async () => {
    const { client } = await testClient();
    let accepted = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(spec, async (s) => {
        const model: MLModel = { apiVersion: 'mloffload.io/v1alpha1', kind: 'MLModel', metadata: { name: 'm', namespace: ns }, spec: s };
        let apiServer: string[] = [];
        try {
          await client.request('POST', collectionPath(MLMODELS, ns), { query: { dryRun: 'All' }, body: model });
        } catch (err) {
          if (!(err instanceof ApiError) || err.statusCode !== 422) throw err;
          apiServer = [err.message];
        }
        const runtime = runtimeVerdict(s);
        if (runtime.length) refused += 1;
        else accepted += 1;
        expect(runtime.length === 0, `API server: ${apiServer.join('; ') || 'accepted'}\nruntime: ${runtime.join('; ') || 'accepted'}\nspec: ${JSON.stringify(s)}`).to.equal(apiServer.length === 0);
      }),
      { numRuns: 200, seed: Number(process.env.FC_SEED ?? Date.now() % 2 ** 31) },
    );
    // Both verdicts were exercised, not only one.
    expect(accepted, 'accepted').to.be.greaterThan(0);
    expect(refused, 'refused').to.be.greaterThan(0);
  });
});
