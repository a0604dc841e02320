import { expect } from 'chai';
import { compileTfjsGraph } from '../../../../inference-runtime/compiler/compile.js';
import { UnsupportedOpError } from '../../../../inference-runtime/compiler/errors.js';
import { expectMatch } from './expectMatch.js';
import { a, GraphFixture, values } from './graphFixture.js';

const window = (k: number, s: number, padding: string) => ({
  data_format: a.s('NHWC'),
  ksize: a.ints([1, k, k, 1]),
  strides: a.ints([1, s, s, 1]),
  padding: a.s(padding),
});

/** x -> 1x1 conv to `channels`, so later ops see an NCHW value as in real models. */
function convInput(fx: GraphFixture, h: number, w: number, channels: number, batch = -1): string {
  const x = fx.input('x', [batch, h, w, 3]);
  return fx.node('c', 'Conv2D', [x, fx.weight('cw', [1, 1, 3, channels], 21)], {
    data_format: a.s('NHWC'),
    strides: a.ints([1, 1, 1, 1]),
    dilations: a.ints([1, 1, 1, 1]),
    padding: a.s('VALID'),
  });
}

describe('compiler: elementwise and activations', function () {
  this.timeout(60_000);

  it('broadcasts per-channel, [1,1,1,C] and scalar constants onto NCHW values', async () => {
    const fx = new GraphFixture();
    const c = convInput(fx, 5, 7, 4);
    const m = fx.node('m', 'Mul', [c, fx.weight('scale', [4], 22)]);
    const s = fx.node('s', 'AddV2', [m, fx.const('shift', [1, 1, 1, 4], values(4, 23))]);
    const d = fx.node('d', 'RealDiv', [s, fx.const('two', [], [2])]);
    const sub = fx.node('sub', 'Sub', [fx.const('one', [], [1]), d]);
    const mx = fx.node('mx', 'Maximum', [sub, c]);
    const mn = fx.node('mn', 'Minimum', [mx, fx.const('row', [7, 1], values(7, 24))]);
    const add = fx.node('add', 'Add', [mn, fx.node('sq', 'Square', [c])]);
    await expectMatch(fx, [add]);
  });

  for (const op of ['Relu', 'Relu6', 'Elu', 'LeakyRelu', 'Sigmoid', 'Tanh']) {
    it(`${op}`, async () => {
      const fx = new GraphFixture();
      const c = convInput(fx, 4, 4, 3);
      const y = fx.node('y', op, [fx.node('scaled', 'Mul', [c, fx.const('k', [], [8])])], op === 'LeakyRelu' ? { alpha: a.f(0.3) } : {});
      await expectMatch(fx, [y]);
    });
  }

  it('Softmax over channels after Mean, and a Prelu', async () => {
    const fx = new GraphFixture();
    const c = convInput(fx, 6, 6, 5);
    const p = fx.node('p', 'Prelu', [c, fx.weight('alpha', [5], 25)]);
    const mean = fx.node('mean', 'Mean', [p, fx.ints('axes', [1, 2])], { keep_dims: a.b(false), Tidx: a.type('DT_INT32') });
    const y = fx.node('y', 'Softmax', [mean]);
    await expectMatch(fx, [y]);
  });

  it('MatMul and _FusedMatMul (BiasAdd + Relu, transpose_b) after a flattening Reshape', async () => {
    const fx = new GraphFixture();
    const c = convInput(fx, 3, 3, 4);
    const flat = fx.node('flat', 'Reshape', [c, fx.ints('shape', [-1, 36])]);
    const h = fx.node('h', '_FusedMatMul', [flat, fx.weight('w1', [10, 36], 26), fx.weight('b1', [10], 27)], {
      transpose_a: a.b(false),
      transpose_b: a.b(true),
      fused_ops: a.strs(['BiasAdd', 'Relu']),
      num_args: a.i(1),
    });
    const y = fx.node('y', 'MatMul', [h, fx.weight('w2', [10, 3], 28)], { transpose_a: a.b(false), transpose_b: a.b(false) });
    const { compiled } = await expectMatch(fx, [y], 3);
    expect(compiled.dynamicBatch).to.equal(true);
  });
});

describe('compiler: pooling and reductions', function () {
  this.timeout(60_000);

  for (const [op, k, s, padding] of [
    ['MaxPool', 3, 2, 'SAME'],
    ['MaxPool', 2, 2, 'VALID'],
    ['AvgPool', 3, 2, 'SAME'],
    ['AvgPool', 3, 1, 'SAME'],
    ['AvgPool', 2, 2, 'VALID'],
  ] as const) {
    it(`${op} ${padding} ${k}x${k} stride ${s} on a 7x9 input`, async () => {
      const fx = new GraphFixture();
      const c = convInput(fx, 7, 9, 3);
      await expectMatch(fx, [fx.node('y', op, [c], window(k, s, padding))]);
    });
  }

  it('Mean with and without keep_dims, Sum and Max over channels', async () => {
    const fx = new GraphFixture();
    const c = convInput(fx, 4, 5, 6);
    const keep = fx.node('keep', 'Mean', [c, fx.ints('hw', [1, 2])], { keep_dims: a.b(true) });
    const scaled = fx.node('scaled', 'Mul', [c, keep]);
    const drop = fx.node('drop', 'Mean', [scaled, fx.ints('hw2', [1, 2])], { keep_dims: a.b(false) });
    const sum = fx.node('sum', 'Sum', [c, fx.ints('ch', [3])], { keep_dims: a.b(false) });
    const max = fx.node('max', 'Max', [c, fx.ints('h', [-3])], { keep_dims: a.b(false) });
    await expectMatch(fx, [drop, sum, max]);
  });
});

describe('compiler: tensor plumbing', function () {
  this.timeout(60_000);

  it('Pad on channels and space, MirrorPad REFLECT and SYMMETRIC', async () => {
    const fx = new GraphFixture();
    const c = convInput(fx, 5, 6, 3);
    const p = fx.node('p', 'Pad', [c, fx.ints('pads', [0, 0, 1, 2, 0, 1, 0, 3], [4, 2])]);
    const r = fx.node('r', 'MirrorPad', [c, fx.ints('rpads', [0, 0, 2, 1, 1, 2, 0, 0], [4, 2])], { mode: a.s('REFLECT') });
    const s = fx.node('s', 'MirrorPad', [c, fx.ints('spads', [0, 0, 2, 1, 3, 0, 0, 0], [4, 2])], { mode: a.s('SYMMETRIC') });
    await expectMatch(fx, [p, r, s]);
  });

  it('Reshape, Squeeze, ExpandDims, Transpose, ConcatV2 of NCHW values', async () => {
    const fx = new GraphFixture();
    const c = convInput(fx, 4, 4, 3);
    const c2 = fx.node('c2', 'Relu', [c]);
    const cat = fx.node('cat', 'ConcatV2', [c, c2, fx.ints('axis', [3], [])], { N: a.i(2) });
    const t = fx.node('t', 'Transpose', [cat, fx.ints('perm', [0, 3, 1, 2])]);
    const r = fx.node('r', 'Reshape', [t, fx.ints('shape', [1, 6, 16])]);
    const e = fx.node('e', 'ExpandDims', [r, fx.ints('dim', [-1], [])]);
    const q = fx.node('q', 'Squeeze', [e], { squeeze_dims: a.ints([3]) });
    await expectMatch(fx, [q]);
  });

  it('StridedSlice with begin/end masks, negative strides, shrink and new axes; Slice; GatherV2; Cast', async () => {
    const fx = new GraphFixture();
    const c = convInput(fx, 6, 5, 4);
    const s1 = fx.node('s1', 'StridedSlice', [c, fx.ints('b1', [0, 1, 0, 1]), fx.ints('e1', [0, 5, 0, 4]), fx.ints('st1', [1, 2, 1, 1])], {
      begin_mask: a.i(5),
      end_mask: a.i(5),
      ellipsis_mask: a.i(0),
      new_axis_mask: a.i(0),
      shrink_axis_mask: a.i(0),
    });
    const s2 = fx.node('s2', 'StridedSlice', [c, fx.ints('b2', [0, -1, 0]), fx.ints('e2', [0, 0, 0]), fx.ints('st2', [1, -1, 1])], {
      begin_mask: a.i(1),
      end_mask: a.i(5),
      ellipsis_mask: a.i(0),
      new_axis_mask: a.i(0),
      shrink_axis_mask: a.i(0),
    });
    const s3 = fx.node('s3', 'StridedSlice', [c, fx.ints('b3', [0, 0, 2]), fx.ints('e3', [0, 0, 3]), fx.ints('st3', [1, 1, 1])], {
      begin_mask: a.i(0),
      end_mask: a.i(0),
      ellipsis_mask: a.i(1),
      new_axis_mask: a.i(2),
      shrink_axis_mask: a.i(4),
    });
    const sl = fx.node('sl', 'Slice', [c, fx.ints('sb', [0, 1, 1, 0]), fx.ints('ss', [-1, 3, -1, 2])]);
    const g = fx.node('g', 'GatherV2', [c, fx.ints('idx', [3, 0, 3]), fx.ints('gaxis', [3], [])], { batch_dims: a.i(0) });
    const cast = fx.node('cast', 'Cast', [fx.node('gt', 'Greater', [c, fx.const('z', [], [0])])], { SrcT: a.type('DT_BOOL'), DstT: a.type('DT_FLOAT') });
    await expectMatch(fx, [s1, s2, s3, sl, g, fx.node('castsum', 'AddV2', [cast, c])]);
  });
});

describe('compiler: resize', function () {
  this.timeout(60_000);

  for (const op of ['ResizeBilinear', 'ResizeNearestNeighbor']) {
    for (const [alignCorners, halfPixel] of [
      [false, false],
      [true, false],
      [false, true],
    ]) {
      for (const [h, w] of [
        [10, 14],
        [3, 4],
      ]) {
        it(`${op} align_corners=${alignCorners} half_pixel_centers=${halfPixel} 5x7 -> ${h}x${w}`, async () => {
          const fx = new GraphFixture();
          const c = convInput(fx, 5, 7, 2);
          const y = fx.node('y', op, [c, fx.ints('size', [h, w])], { align_corners: a.b(alignCorners), half_pixel_centers: a.b(halfPixel) });
          const { compiled } = await expectMatch(fx, [y]);
          expect(compiled.dynamicBatch).to.equal(true);
        });
      }
    }
  }
});

describe('compiler: ranking and integer arithmetic', function () {
  this.timeout(60_000);

  it('TopKV2 over a flattened map, FloorDiv and FloorMod of the indices', async () => {
    const fx = new GraphFixture();
    const c = convInput(fx, 6, 6, 3, 1);
    const flat = fx.node('flat', 'Reshape', [c, fx.ints('shape', [1, -1])]);
    fx.node('topk', 'TopKV2', [flat, fx.ints('k', [5], [])], { sorted: a.b(true) });
    const scores = fx.node('scores', 'Identity', ['topk']);
    const idx = 'topk:1';
    const row = fx.node('row', 'FloorDiv', [idx, fx.ints('w', [18], [])], { T: a.type('DT_INT32') });
    const col = fx.node('col', 'FloorMod', [idx, fx.ints('w2', [18], [])], { T: a.type('DT_INT32') });
    const both = fx.node('both', 'AddV2', [fx.node('rowf', 'Cast', [row], { SrcT: a.type('DT_INT32'), DstT: a.type('DT_FLOAT') }), fx.node('colf', 'Cast', [col], { SrcT: a.type('DT_INT32'), DstT: a.type('DT_FLOAT') })]);
    await expectMatch(fx, [scores, both]);
  });

  it('FloorDiv and FloorMod on floats with negative operands', async () => {
    const fx = new GraphFixture();
    const c = convInput(fx, 3, 3, 2);
    const shifted = fx.node('shifted', 'Sub', [fx.node('big', 'Mul', [c, fx.const('k', [], [10])]), fx.const('o', [], [3])]);
    const q = fx.node('q', 'FloorDiv', [shifted, fx.const('d', [], [-1.5])]);
    const r = fx.node('r', 'FloorMod', [shifted, fx.const('d2', [], [1.5])]);
    await expectMatch(fx, [q, fx.node('rr', 'AddV2', [r, fx.const('one', [], [1])])]);
  });
});

describe('compiler: graph-level behaviour', function () {
  this.timeout(60_000);

  it('names every unsupported op in one typed error', () => {
    const fx = new GraphFixture();
    const x = fx.input('x', [-1, 4]);
    const u = fx.node('u', 'Unique', [x]);
    const n = fx.node('n', 'NonMaxSuppressionV5', [u]);
    const y = fx.node('y', 'Relu', [n]);
    const { json, weightData } = fx.build([y]);
    let error: unknown;
    try {
      compileTfjsGraph(json, weightData, { modelName: 'fixture' });
    } catch (err) {
      error = err;
    }
    expect(error).to.be.instanceOf(UnsupportedOpError);
    expect((error as UnsupportedOpError).ops).to.deep.equal(['NonMaxSuppressionV5', 'Unique']);
    expect((error as Error).message).to.equal('unsupported ops NonMaxSuppressionV5, Unique in fixture');
  });

  it('keeps the batch fixed, and says why, when the graph mixes samples', async () => {
    const fx = new GraphFixture();
    const c = convInput(fx, 4, 4, 2, 1);
    const all = fx.node('all', 'Reshape', [c, fx.ints('shape', [-1, 2])]);
    const { compiled } = await expectMatch(fx, [all]);
    expect(compiled.dynamicBatch).to.equal(false);
    expect(compiled.inputs[0].shape).to.deep.equal([1, 4, 4, 3]);
    expect(compiled.staticBatchReasons).to.have.length(1);
    expect(compiled.staticBatchReasons[0]).to.match(/^Reshape all: reshapes \[1,4,4,2\] to \[16,2\]/);
  });

  it('makes the batch dynamic on a fixed-batch placeholder when samples stay independent', async () => {
    const fx = new GraphFixture();
    const c = convInput(fx, 4, 4, 2, 1);
    const r = fx.node('r', 'Reshape', [c, fx.ints('shape', [1, 16, 2])]);
    const { compiled } = await expectMatch(fx, [r], 4);
    expect(compiled.dynamicBatch).to.equal(true);
    expect(compiled.inputs[0].shape).to.deep.equal([-1, 4, 4, 3]);
    expect(compiled.outputs[0].shape).to.deep.equal([-1, 16, 2]);
  });
});
