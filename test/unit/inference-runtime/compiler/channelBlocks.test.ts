import { expect } from 'chai';
import fc from 'fast-check';
import onnxProto from 'onnx-proto';
import { cpuChannelBlock } from '../../../../inference-runtime/compiler/channelBlocks.js';
import type { CompiledModel } from '../../../../inference-runtime/compiler/compile.js';
import { expectMatch } from './expectMatch.js';
import { a, GraphFixture } from './graphFixture.js';

const nhwc = { data_format: a.s('NHWC') };
const same = (stride = 1) => ({ ...nhwc, strides: a.ints([1, stride, stride, 1]), dilations: a.ints([1, 1, 1, 1]), padding: a.s('SAME') });

/**
 * Two stages in BlazeFace's shape: 24 channels with residual additions, then a stride-2 block whose shortcut
 * is a max pool zero-padded on the channel axis from 24 to 48.
 */
function blazeStages(fx: GraphFixture): { stage1: string; out: string } {
  const x = fx.input('x', [-1, 16, 16, 3]);
  const r0 = fx.node('r0', 'Relu', [fx.node('c0', 'Conv2D', [x, fx.weight('w0', [3, 3, 3, 24], 1)], same(2))]);
  const d1 = fx.node('d1', 'DepthwiseConv2dNative', [r0, fx.weight('wd1', [3, 3, 24, 1], 2)], same());
  const c1 = fx.node('c1', 'Conv2D', [d1, fx.weight('w1', [1, 1, 24, 24], 3)], same());
  const r1 = fx.node('r1', 'Relu', [fx.node('a1', 'AddV2', [c1, r0])]);
  const pool = fx.node('m', 'MaxPool', [r1], { ...nhwc, ksize: a.ints([1, 2, 2, 1]), strides: a.ints([1, 2, 2, 1]), padding: a.s('VALID') });
  const shortcut = fx.node('p', 'Pad', [pool, fx.ints('pads', [0, 0, 0, 0, 0, 0, 0, 24], [4, 2])]);
  const d2 = fx.node('d2', 'DepthwiseConv2dNative', [r1, fx.weight('wd2', [3, 3, 24, 1], 4)], same(2));
  const c2 = fx.node('c2', 'Conv2D', [d2, fx.weight('w2', [1, 1, 24, 48], 5)], same());
  const out = fx.node('r2', 'Relu', [fx.node('a2', 'AddV2', [c2, shortcut])]);
  return { stage1: r1, out };
}

function graphOf(compiled: CompiledModel) {
  const graph = onnxProto.onnx.ModelProto.decode(compiled.onnx).graph!;
  const dims = new Map(graph.initializer!.map((t) => [t.name!, (t.dims ?? []).map(Number)]));
  const convs = graph.node!.filter((n) => n.opType === 'Conv').map((n) => ({ name: n.name!, weights: dims.get(n.input![1])!, group: Number(n.attribute!.find((x) => x.name === 'group')?.i ?? 1) }));
  return { ops: graph.node!.map((n) => n.opType!), convs };
}

describe('compiler: channel blocks', function () {
  this.timeout(60_000);

  it('pads a 24-channel chain to the block and turns the channel Pad into a convolution, with the same outputs', async () => {
    const fx = new GraphFixture();
    const { out } = blazeStages(fx);
    const { compiled } = await expectMatch(fx, [out], 2, { channelBlock: 16 });
    const { ops, convs } = graphOf(compiled);
    expect(ops).to.not.include('Pad');
    const byName = (prefix: string) => convs.find((c) => c.name.startsWith(prefix))!;
    expect(byName('c0').weights).to.deep.equal([32, 3, 3, 3]);
    expect(byName('d1').weights).to.deep.equal([32, 1, 3, 3]);
    expect(byName('d1').group).to.equal(32);
    expect(byName('c1').weights).to.deep.equal([32, 32, 1, 1]);
    expect(byName('c2').weights).to.deep.equal([48, 32, 1, 1]);
    // The shortcut: channel k of the pooled 32 lands on channel k of 48.
    expect(byName('p').weights).to.deep.equal([48, 32, 1, 1]);
  });

  it('leaves the graph as translated without a block', async () => {
    const fx = new GraphFixture();
    const { out } = blazeStages(fx);
    const { compiled } = await expectMatch(fx, [out], 2, { channelBlock: 1 });
    const { ops, convs } = graphOf(compiled);
    expect(ops).to.include('Pad');
    expect(convs.map((c) => c.weights[0])).to.deep.equal([24, 24, 24, 24, 48]);
  });

  it('keeps the channel count of a chain whose value is also a graph output', async () => {
    const fx = new GraphFixture();
    const { stage1, out } = blazeStages(fx);
    const { compiled } = await expectMatch(fx, [stage1, out], 2, { channelBlock: 16 });
    const { convs } = graphOf(compiled);
    expect(convs.find((c) => c.name.startsWith('c1'))!.weights).to.deep.equal([24, 24, 1, 1]);
  });

  it('leaves a chain alone when the block would more than double its channels', async () => {
    const fx = new GraphFixture();
    const x = fx.input('x', [-1, 8, 8, 3]);
    const r0 = fx.node('r0', 'Relu', [fx.node('c0', 'Conv2D', [x, fx.weight('w0', [3, 3, 3, 7], 1)], same())]);
    const pool = fx.node('m', 'MaxPool', [r0], { ...nhwc, ksize: a.ints([1, 2, 2, 1]), strides: a.ints([1, 2, 2, 1]), padding: a.s('VALID') });
    const out = fx.node('c1', 'Conv2D', [pool, fx.weight('w1', [1, 1, 7, 4], 2)], same());
    const { compiled } = await expectMatch(fx, [out], 2, { channelBlock: 16 });
    expect(graphOf(compiled).convs.find((c) => c.name.startsWith('c0'))!.weights).to.deep.equal([7, 3, 3, 3]);
  });

  it('gives the outputs of the graph as translated for generated convolution chains', async () => {
    // A chain of blocks over a running value with `channels` channels: pointwise or 3x3 convolutions,
    // depthwise ones, Relu, residual additions, max pools and zero channel pads, then a 1x1 head.
    const step = fc.oneof(
      fc.record({ op: fc.constant('conv' as const), out: fc.integer({ min: 1, max: 40 }), kernel: fc.constantFrom(1, 3) }),
      fc.record({ op: fc.constantFrom('depthwise' as const, 'relu' as const, 'residual' as const, 'pool' as const) }),
      fc.record({ op: fc.constant('pad' as const), before: fc.integer({ min: 0, max: 9 }), after: fc.integer({ min: 0, max: 20 }) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 30 }), fc.array(step, { minLength: 1, maxLength: 8 }), fc.constantFrom(8, 16), async (first, steps, block) => {
        const fx = new GraphFixture();
        let v = fx.node('c0', 'Conv2D', [fx.input('x', [-1, 8, 8, 2]), fx.weight('w0', [3, 3, 2, first], 1)], same());
        let channels = first;
        let side = 8;
        steps.forEach((s, k) => {
          const name = `s${k}`;
          if (s.op === 'conv') {
            v = fx.node(name, 'Conv2D', [v, fx.weight(`${name}w`, [s.kernel, s.kernel, channels, s.out], k + 2)], same());
            channels = s.out;
          } else if (s.op === 'depthwise') {
            v = fx.node(name, 'DepthwiseConv2dNative', [v, fx.weight(`${name}w`, [3, 3, channels, 1], k + 2)], same());
          } else if (s.op === 'relu') {
            v = fx.node(name, 'Relu', [v]);
          } else if (s.op === 'residual') {
            const branch = fx.node(`${name}b`, 'Conv2D', [v, fx.weight(`${name}w`, [1, 1, channels, channels], k + 2)], same());
            v = fx.node(name, 'AddV2', [branch, v]);
          } else if (s.op === 'pool' && side >= 2) {
            v = fx.node(name, 'MaxPool', [v], { ...nhwc, ksize: a.ints([1, 2, 2, 1]), strides: a.ints([1, 2, 2, 1]), padding: a.s('VALID') });
            side /= 2;
          } else if (s.op === 'pad') {
            v = fx.node(name, 'Pad', [v, fx.ints(`${name}p`, [0, 0, 0, 0, 0, 0, s.before, s.after], [4, 2])]);
            channels += s.before + s.after;
          }
        });
        const out = fx.node('head', 'Conv2D', [v, fx.weight('wh', [1, 1, channels, 3], 99)], same());
        await expectMatch(fx, [out], 2, { channelBlock: block });
      }),
      { numRuns: 100, seed: 20261201 },
    );
  });

  it('reads the block from the CPU flags as onnxruntime does (x64 only)', function () {
    if (process.arch !== 'x64') this.skip(); // the blocked layout is onnxruntime's on x64; elsewhere the block is 1
    expect(cpuChannelBlock('flags\t\t: fpu sse2 avx2 avx512f avx512bw\n')).to.equal(16);
    expect(cpuChannelBlock('flags\t\t: fpu sse2 avx avx2 fma\n')).to.equal(8);
    expect(cpuChannelBlock('flags\t\t: fpu sse2 sse4_2\n')).to.equal(1);
    expect(cpuChannelBlock('')).to.equal(1);
  });
});
