/**
 * ResizeBilinear / ResizeNearestNeighbor as ONNX Resize in NCHW. TF's align_corners / half_pixel_centers
 * flags select the coordinate transformation that reproduces TF's (and tfjs's) sampling grid.
 */
import { CompileError } from '../errors.js';
import type { OpTranslator } from '../context.js';
import { attr } from '../graphBuilder.js';
import { toLayout } from '../layout.js';
import { attrBool } from '../tfAttrs.js';

const resize: OpTranslator = (node, ctx) => {
  const x = toLayout(ctx, ctx.input(node, 0), 'nchw');
  if (x.shape.length !== 4) throw new CompileError(`${node.op} ${node.name}: expects a rank-4 input`);
  const [height, width] = ctx.constInts(node, 1, 'the output size');
  const alignCorners = attrBool(node, 'align_corners');
  const halfPixel = attrBool(node, 'half_pixel_centers');
  const bilinear = node.op === 'ResizeBilinear';
  let coordinates = 'asymmetric';
  if (alignCorners) coordinates = 'align_corners';
  else if (halfPixel) coordinates = bilinear ? 'half_pixel' : 'tf_half_pixel_for_nn';
  const attributes = {
    mode: attr.string(bilinear ? 'linear' : 'nearest'),
    coordinate_transformation_mode: attr.string(coordinates),
    ...(bilinear ? {} : { nearest_mode: attr.string(alignCorners ? 'round_prefer_ceil' : 'floor') }),
  };
  const b = ctx.builder;
  const outShape = [x.shape[0], height, width, x.shape[3]];
  let sizes: string;
  if (ctx.dynamicBatch && x.batchAxis !== null) {
    // Resize wants all four sizes; N and C come from the input so the batch stays dynamic.
    const shape = b.op('Shape', [ctx.name(x)], `${node.name}_inshape`);
    const nc = b.op('Slice', [shape, b.int64([0]), b.int64([2]), b.int64([0])], `${node.name}_nc`);
    sizes = b.op('Concat', [nc, b.int64([height, width])], `${node.name}_sizes`, { axis: attr.int(0) });
  } else {
    sizes = b.int64([x.shape[0], x.shape[3], height, width]);
  }
  return [ctx.emit('Resize', [ctx.name(x), '', '', sizes], node.name, { dtype: x.dtype, shape: outShape, layout: 'nchw', batchAxis: x.batchAxis }, attributes)];
};

export const resizeOps: Record<string, OpTranslator> = { ResizeBilinear: resize, ResizeNearestNeighbor: resize };
