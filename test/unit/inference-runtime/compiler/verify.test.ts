import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { compileAndVerify } from '../../../../inference-runtime/compiler/verify.js';
import { a, GraphFixture } from './graphFixture.js';

async function writeFixture(dir: string, fx: GraphFixture, outputs: string[]): Promise<string> {
  const { json, weightData } = fx.build(outputs);
  const modelJsonPath = path.join(dir, 'model.json');
  await writeFile(modelJsonPath, JSON.stringify(json));
  await writeFile(path.join(dir, 'weights.bin'), weightData);
  return modelJsonPath;
}

function smallNet(): GraphFixture {
  const fx = new GraphFixture();
  const x = fx.input('x', [-1, 8, 8, 3]);
  const c = fx.node('c', '_FusedConv2D', [x, fx.weight('w', [3, 3, 3, 4], 1), fx.weight('b', [4], 2)], {
    data_format: a.s('NHWC'),
    strides: a.ints([1, 2, 2, 1]),
    dilations: a.ints([1, 1, 1, 1]),
    padding: a.s('SAME'),
    fused_ops: a.strs(['BiasAdd', 'Relu']),
    num_args: a.i(1),
  });
  fx.node('y', 'Mean', [c, fx.ints('axes', [1, 2])], { keep_dims: a.b(false) });
  return fx;
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe('compiler: verified compilation and its cache', function () {
  this.timeout(120_000);
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'compiler-cache-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('accepts a matching model, caches it, and reuses the cache', async () => {
    const modelJsonPath = await writeFixture(dir, smallNet(), ['y']);
    const first = await compileAndVerify({ modelJsonPath, cacheDir: dir });
    if (!first.verified) expect.fail(first.reason);
    expect(first.fromCache).to.equal(false);
    expect(first.dynamicBatch).to.equal(true);
    expect(first.comparedInputs).to.deep.equal(['3 seeded inputs at batch 1', '1 seeded input at batch 3']);
    expect(first.maxAbsDiff.y).to.be.lessThan(1e-5);
    expect(path.dirname(first.onnxPath)).to.equal(dir);
    expect(sha256(await readFile(first.onnxPath))).to.equal(first.onnxSha256);

    const second = await compileAndVerify({ modelJsonPath, cacheDir: dir });
    expect(second).to.include({ verified: true, fromCache: true, onnxPath: first.onnxPath });
  });

  it('detects a corrupted compiled file and rebuilds it', async () => {
    const modelJsonPath = await writeFixture(dir, smallNet(), ['y']);
    const first = await compileAndVerify({ modelJsonPath, cacheDir: dir });
    if (!first.verified) expect.fail(first.reason);
    const bytes = await readFile(first.onnxPath);
    bytes[bytes.length >> 1] ^= 0xff;
    await writeFile(first.onnxPath, bytes);

    const rebuilt = await compileAndVerify({ modelJsonPath, cacheDir: dir });
    if (!rebuilt.verified) expect.fail(rebuilt.reason);
    expect(rebuilt.fromCache).to.equal(false);
    expect(rebuilt.rebuiltBecause).to.equal('the cached compiled model did not match its recorded sha256');
    expect(sha256(await readFile(rebuilt.onnxPath))).to.equal(first.onnxSha256);

    await rm(rebuilt.onnxPath);
    const again = await compileAndVerify({ modelJsonPath, cacheDir: dir });
    expect(again).to.include({ verified: true, rebuiltBecause: 'the cached compiled model was missing' });
  });

  it('compiles again when the source weights change', async () => {
    const modelJsonPath = await writeFixture(dir, smallNet(), ['y']);
    const first = await compileAndVerify({ modelJsonPath, cacheDir: dir });
    const weights = await readFile(path.join(dir, 'weights.bin'));
    weights[0] ^= 0x01;
    await writeFile(path.join(dir, 'weights.bin'), weights);
    const second = await compileAndVerify({ modelJsonPath, cacheDir: dir });
    expect(second.fromCache).to.equal(false);
    expect(second.sourceDigest).to.not.equal(first.sourceDigest);
  });

  it('rejects a model it cannot compile, names the op, and remembers the verdict', async () => {
    const fx = new GraphFixture();
    const x = fx.input('x', [-1, 4]);
    fx.node('y', 'Unique', [x]);
    const modelJsonPath = await writeFixture(dir, fx, ['y']);
    const first = await compileAndVerify({ modelJsonPath, cacheDir: dir, modelName: 'odd' });
    expect(first).to.deep.include({ verified: false, reason: 'unsupported op Unique in odd', fromCache: false });
    const second = await compileAndVerify({ modelJsonPath, cacheDir: dir, modelName: 'odd' });
    expect(second).to.deep.include({ verified: false, fromCache: true });
  });

  it('refuses a cached model when a stricter tolerance is asked for', async function () {
    const modelJsonPath = await writeFixture(dir, smallNet(), ['y']);
    const first = await compileAndVerify({ modelJsonPath, cacheDir: dir });
    if (!first.verified) expect.fail(first.reason);
    if (first.maxAbsDiff.y === 0) this.skip(); // bit-identical outputs: no tolerance can refuse them
    const strict = await compileAndVerify({ modelJsonPath, cacheDir: dir, tolerance: { absolute: 0, relative: 0 } });
    expect(strict.verified).to.equal(false);
    if (!strict.verified) expect(strict.reason).to.match(/^outside tolerance: output y differs by/);
  });
});
