/** TopKV2 and ArgMax/ArgMin over the last (or a given) axis; ONNX's int64 indices are cast back to TF's int32. */
import { like, type OpTranslator } from '../context.js';
import { attr } from '../graphBuilder.js';
import { logical } from '../layout.js';
import { OnnxDataType } from '../onnxProto.js';
import { attrBool, attrType } from '../tfAttrs.js';

const topK: OpTranslator = (node, ctx) => {
  const x = logical(ctx, ctx.input(node, 0));
  const [k] = ctx.constInts(node, 1, 'k');
  const last = x.shape.length - 1;
  if (x.batchAxis === last) ctx.loseBatch(node, 'selects along the batch axis');
  const shape = [...x.shape.slice(0, -1), k];
  const b = ctx.builder;
  const [values, indices64] = b.node('TopK', [ctx.name(x), b.int64([k])], node.name, {
    axis: attr.int(-1),
    largest: attr.int(1),
    sorted: attr.int(attrBool(node, 'sorted', true) ? 1 : 0),
  }, 2);
  const indices = b.op('Cast', [indices64], `${node.name}:1`, { to: attr.int(OnnxDataType.INT32) });
  return [
    { ...like(x, { shape }), name: values },
    { ...like(x, { shape, dtype: 'int32' }), name: indices },
  ];
};

const argReduce: OpTranslator = (node, ctx) => {
  const x = logical(ctx, ctx.input(node, 0));
  let [axis] = ctx.constInts(node, 1, 'the axis');
  if (axis < 0) axis += x.shape.length;
  if (x.batchAxis === axis) ctx.loseBatch(node, 'reduces over the batch axis');
  const shape = x.shape.filter((_, i) => i !== axis);
  const batchAxis = x.batchAxis === null ? null : x.batchAxis - (axis < x.batchAxis ? 1 : 0);
  const idx = ctx.builder.op(node.op === 'ArgMax' ? 'ArgMax' : 'ArgMin', [ctx.name(x)], `${node.name}_i64`, {
    axis: attr.int(axis),
    keepdims: attr.int(0),
  });
  // tfjs returns int32 indices whatever output_type says.
  const dtype = attrType(node, 'output_type') === 'DT_INT64' ? 'int64' : 'int32';
  if (dtype === 'int64') return [{ ...like(x, { shape, batchAxis, dtype }), name: idx }];
  return [ctx.emit('Cast', [idx], node.name, like(x, { shape, batchAxis, dtype: 'int32' }), { to: attr.int(OnnxDataType.INT32) })];
};

export const selectOps: Record<string, OpTranslator> = { TopKV2: topK, ArgMax: argReduce, ArgMin: argReduce };
