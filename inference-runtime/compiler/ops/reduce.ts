/** Reductions (Mean, Sum, Max, Min, Prod) over constant axes, in whichever layout the input is. */
import { type OpTranslator } from '../context.js';
import { attr } from '../graphBuilder.js';
import { logical, physicalAxis, TO_NCHW } from '../layout.js';
import { attrBool } from '../tfAttrs.js';

const ONNX_REDUCE: Record<string, string> = { Mean: 'ReduceMean', Sum: 'ReduceSum', Max: 'ReduceMax', Min: 'ReduceMin', Prod: 'ReduceProd' };

const reduce: OpTranslator = (node, ctx) => {
  let x = ctx.input(node, 0);
  const rank = x.shape.length;
  const axes = [...new Set(ctx.constInts(node, 1, 'the reduction axes').map((a) => (a < 0 ? a + rank : a)))].sort();
  const keepDims = attrBool(node, 'keep_dims');
  if (x.layout === 'nchw' && !keepDims) {
    // Dropping axes of an NCHW value leaves the survivors in physical order; keep NCHW only if that is logical order.
    const survivors = TO_NCHW.filter((a) => !axes.includes(a));
    if (survivors.some((a, i) => i > 0 && a < survivors[i - 1])) x = logical(ctx, x);
  }
  if (x.batchAxis !== null && axes.includes(x.batchAxis)) ctx.loseBatch(node, 'reduces over the batch axis');
  const shape = keepDims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
  const batchAxis = x.batchAxis === null || keepDims ? x.batchAxis : x.batchAxis - axes.filter((a) => a < (x.batchAxis ?? 0)).length;
  const layout = keepDims ? x.layout : 'nhwc';
  const physical = axes.map((a) => physicalAxis(x, a)).sort();
  const result = { dtype: x.dtype, shape, layout, batchAxis } as const;
  const keep = { keepdims: attr.int(keepDims ? 1 : 0) };
  if (node.op === 'Sum') {
    // From opset 13 ReduceSum takes its axes as an input.
    return [ctx.emit('ReduceSum', [ctx.name(x), ctx.builder.int64(physical)], node.name, result, keep)];
  }
  return [ctx.emit(ONNX_REDUCE[node.op], [x], node.name, result, { ...keep, axes: attr.ints(physical) })];
};

export const reduceOps: Record<string, OpTranslator> = Object.fromEntries(Object.keys(ONNX_REDUCE).map((op) => [op, reduce]));
