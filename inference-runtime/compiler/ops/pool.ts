/** MaxPool and AvgPool in NCHW; TF's SAME average excludes the padding, as ONNX's count_include_pad=0. */
import { CompileError } from '../errors.js';
import type { OpTranslator } from '../context.js';
import { attr } from '../graphBuilder.js';
import { toLayout } from '../layout.js';
import { attrInts } from '../tfAttrs.js';
import { windowOf } from './spatial.js';

const pool: OpTranslator = (node, ctx) => {
  const x = ctx.input(node, 0);
  if (x.shape.length !== 4) throw new CompileError(`${node.op} ${node.name}: expects a rank-4 input`);
  const k = attrInts(node, 'ksize', [1, 1, 1, 1]);
  if (k[0] !== 1 || k[3] !== 1) throw new CompileError(`${node.op} ${node.name}: pooling over batch or channels is not supported`);
  const win = windowOf(node, x.shape, [k[1], k[2]]);
  const attributes = {
    kernel_shape: attr.ints([k[1], k[2]]),
    strides: attr.ints(win.strides),
    pads: attr.ints(win.pads),
    ...(node.op === 'AvgPool' ? { count_include_pad: attr.int(0) } : {}),
  };
  return [
    ctx.emit(
      node.op === 'AvgPool' ? 'AveragePool' : 'MaxPool',
      [toLayout(ctx, x, 'nchw')],
      node.name,
      { dtype: x.dtype, shape: [x.shape[0], win.outHeight, win.outWidth, x.shape[3]], layout: 'nchw', batchAxis: x.batchAxis },
      attributes,
    ),
  ];
};

export const poolOps: Record<string, OpTranslator> = { MaxPool: pool, AvgPool: pool };
