import { expect } from 'chai';
import { samePadding } from '../../../../inference-runtime/compiler/ops/spatial.js';
import { expectMatch } from './expectMatch.js';
import { a, GraphFixture } from './graphFixture.js';

const nhwc = { data_format: a.s('NHWC') };

function conv(fx: GraphFixture, name: string, x: string, filter: string, opts: { strides?: number; dilation?: number; padding?: string; op?: string; extra?: Record<string, ReturnType<typeof a.s>> } = {}, args: string[] = []): string {
  const s = opts.strides ?? 1;
  const d = opts.dilation ?? 1;
  return fx.node(name, opts.op ?? 'Conv2D', [x, filter, ...args], {
    ...nhwc,
    strides: a.ints([1, s, s, 1]),
    dilations: a.ints([1, d, d, 1]),
    padding: a.s(opts.padding ?? 'SAME'),
    ...opts.extra,
  });
}

describe('compiler: convolutions', function () {
  this.timeout(60_000);

  it('computes TF SAME padding, asymmetric when the total is odd', () => {
    expect(samePadding(7, 3, 2, 1)).to.deep.equal([1, 1, 4]);
    expect(samePadding(8, 3, 2, 1)).to.deep.equal([0, 1, 4]);
    expect(samePadding(9, 4, 1, 1)).to.deep.equal([1, 2, 9]);
    expect(samePadding(9, 3, 1, 2)).to.deep.equal([2, 2, 9]);
  });

  for (const [padding, stride, dilation, kernel] of [
    ['SAME', 2, 1, 3],
    ['SAME', 1, 1, 4],
    ['SAME', 2, 1, 4],
    ['VALID', 2, 1, 3],
    ['SAME', 1, 2, 3],
    ['VALID', 1, 2, 3],
  ] as const) {
    it(`Conv2D ${padding} kernel ${kernel} stride ${stride} dilation ${dilation} on a 9x7 input`, async () => {
      const fx = new GraphFixture();
      const x = fx.input('x', [-1, 9, 7, 3]);
      const y = conv(fx, 'y', x, fx.weight('w', [kernel, kernel, 3, 5], 1), { padding, strides: stride, dilation });
      await expectMatch(fx, [y]);
    });
  }

  for (const [padding, stride, multiplier] of [
    ['SAME', 2, 1],
    ['SAME', 1, 2],
    ['VALID', 2, 3],
  ] as const) {
    it(`DepthwiseConv2dNative ${padding} stride ${stride} depth multiplier ${multiplier}`, async () => {
      const fx = new GraphFixture();
      const x = fx.input('x', [-1, 11, 8, 4]);
      const y = conv(fx, 'y', x, fx.weight('w', [3, 3, 4, multiplier], 2), { op: 'DepthwiseConv2dNative', padding, strides: stride });
      await expectMatch(fx, [y]);
    });
  }

  it('depthwise with dilation', async () => {
    const fx = new GraphFixture();
    const x = fx.input('x', [-1, 10, 10, 3]);
    const y = conv(fx, 'y', x, fx.weight('w', [3, 3, 3, 2], 3), { op: 'DepthwiseConv2dNative', dilation: 2 });
    await expectMatch(fx, [y]);
  });

  for (const tail of [['BiasAdd'], ['BiasAdd', 'Relu'], ['BiasAdd', 'Relu6'], ['BiasAdd', 'Elu'], ['BiasAdd', 'LeakyRelu'], ['BiasAdd', 'Sigmoid'], ['BiasAdd', 'Prelu']]) {
    it(`_FusedConv2D with ${tail.join(' + ')}`, async () => {
      const fx = new GraphFixture();
      const x = fx.input('x', [-1, 8, 8, 3]);
      const args = [fx.weight('bias', [6], 4)];
      if (tail.includes('Prelu')) args.push(fx.weight('alpha', [6], 5));
      const y = conv(fx, 'y', x, fx.weight('w', [3, 3, 3, 6], 6), {
        op: '_FusedConv2D',
        strides: 2,
        extra: { fused_ops: a.strs(tail), num_args: a.i(args.length), leakyrelu_alpha: a.f(0.1), epsilon: a.f(0) },
      }, args);
      await expectMatch(fx, [y]);
    });
  }

  it('FusedDepthwiseConv2dNative with BiasAdd + Relu6, then a grouped chain', async () => {
    const fx = new GraphFixture();
    const x = fx.input('x', [-1, 9, 9, 4]);
    const d = conv(fx, 'dw', x, fx.weight('w', [3, 3, 4, 2], 7), {
      op: 'FusedDepthwiseConv2dNative',
      strides: 2,
      extra: { fused_ops: a.strs(['BiasAdd', 'Relu6']), num_args: a.i(1) },
    }, [fx.weight('b', [8], 8)]);
    const y = conv(fx, 'pw', d, fx.weight('pw_w', [1, 1, 8, 5], 9), { padding: 'VALID' });
    await expectMatch(fx, [y]);
  });

  for (const q of ['uint8', 'uint16', 'float16'] as const) {
    it(`dequantizes ${q} weights exactly as tfjs does`, async () => {
      const fx = new GraphFixture();
      const x = fx.input('x', [-1, 6, 6, 2]);
      const y = conv(fx, 'y', x, fx.weight('w', [3, 3, 2, 4], 10, q), {
        op: '_FusedConv2D',
        extra: { fused_ops: a.strs(['BiasAdd']), num_args: a.i(1) },
      }, [fx.weight('b', [4], 11, q)]);
      await expectMatch(fx, [y]);
    });
  }
});
