/** Conv2D, DepthwiseConv2dNative and their fused forms (BiasAdd + activation) as ONNX Conv in NCHW. */
import { CompileError } from '../errors.js';
import { type OpTranslator, permuteConst, type TranslationContext, type Value } from '../context.js';
import { attr } from '../graphBuilder.js';
import { alignElementwise, toLayout } from '../layout.js';
import { OnnxDataType } from '../onnxProto.js';
import { attrFloat, attrStrings } from '../tfAttrs.js';
import type { TfNodeDef } from '../tfjsModel.js';
import { applyActivation } from './activation.js';
import { windowOf } from './spatial.js';

/** The fused tail of a _Fused* op: bias, then an activation. */
export interface FusedTail {
  bias?: Value;
  activation?: string;
  preluAlpha?: Value;
  alpha: number;
}

export function fusedTail(node: TfNodeDef, ctx: TranslationContext, firstArg: number): FusedTail {
  const ops = attrStrings(node, 'fused_ops');
  const args = ctx.inputs(node).slice(firstArg);
  const tail: FusedTail = { alpha: attrFloat(node, 'leakyrelu_alpha', 0.2) };
  let next = 0;
  for (const op of ops) {
    if (op === 'BiasAdd') tail.bias = args[next++];
    else if (op === 'Prelu') {
      tail.activation = 'Prelu';
      tail.preluAlpha = args[next++];
    } else if (['Relu', 'Relu6', 'Elu', 'LeakyRelu', 'Sigmoid', 'Tanh'].includes(op)) tail.activation = op;
    else throw new CompileError(`${node.op} ${node.name}: fused op ${op} is not supported`);
  }
  return tail;
}

/** Adds a bias that could not go into the Conv/Gemm itself, then the activation. */
export function finishFused(ctx: TranslationContext, node: TfNodeDef, y: Value, tail: FusedTail, biasDone: boolean): Value {
  let out = y;
  if (tail.bias && !biasDone) {
    const aligned = alignElementwise(ctx, node, [out, tail.bias]);
    out = ctx.emit('Add', aligned.operands, `${node.name}_bias`, { ...out, layout: aligned.layout });
  }
  if (tail.activation) {
    out = applyActivation(ctx, node, tail.activation, out, { alpha: tail.alpha, preluAlpha: tail.preluAlpha, hint: node.name });
  }
  return out;
}

const conv: OpTranslator = (node, ctx) => {
  const depthwise = node.op.includes('Depthwise');
  const fused = node.op.startsWith('_Fused') || node.op.startsWith('Fused');
  const x = ctx.input(node, 0);
  const filter = ctx.constInput(node, 1, 'the filter');
  if (x.shape.length !== 4 || filter.shape.length !== 4) {
    throw new CompileError(`${node.op} ${node.name}: expects rank-4 input and filter`);
  }
  const [kh, kw, fin, fout] = filter.shape;
  const channels = x.shape[3];
  const win = windowOf(node, x.shape, [kh, kw]);
  let weights;
  let group: number;
  let outChannels: number;
  if (depthwise) {
    // TF [kh, kw, C, M] -> ONNX [C*M, 1, kh, kw]; TF's output channel c*M+m is ONNX's group c, filter m.
    const p = permuteConst(filter, [2, 3, 0, 1]);
    weights = { ...p, shape: [fin * fout, 1, kh, kw] };
    group = fin;
    outChannels = fin * fout;
  } else {
    weights = permuteConst(filter, [3, 2, 0, 1]); // [kh, kw, in, out] -> [out, in, kh, kw]
    if (channels % fin !== 0) throw new CompileError(`${node.op} ${node.name}: ${channels} input channels vs filter depth ${fin}`);
    group = channels / fin;
    outChannels = fout;
  }
  ctx.macs += (win.outHeight * win.outWidth * outChannels * kh * kw * channels) / group;
  const tail = fused ? fusedTail(node, ctx, 2) : { alpha: 0.2 };
  const inputs = [ctx.name(toLayout(ctx, x, 'nchw')), ctx.builder.initializer(`${node.name}/weights`, OnnxDataType.FLOAT, weights.shape, weights.data)];
  const biasConst = tail.bias?.constant;
  const biasFits = biasConst !== undefined && biasConst.data.length === outChannels;
  if (biasFits) inputs.push(ctx.builder.initializer(`${node.name}/bias`, OnnxDataType.FLOAT, [outChannels], biasConst.data));
  const attributes = {
    kernel_shape: attr.ints([kh, kw]),
    strides: attr.ints(win.strides),
    dilations: attr.ints(win.dilations),
    pads: attr.ints(win.pads),
    group: attr.int(group),
  };
  const y = ctx.emit(
    'Conv',
    inputs,
    tail.activation || (tail.bias && !biasFits) ? `${node.name}_conv` : node.name,
    { dtype: 'float32', shape: [x.shape[0], win.outHeight, win.outWidth, outChannels], layout: 'nchw', batchAxis: x.batchAxis },
    attributes,
  );
  return [finishFused(ctx, node, y, tail, biasFits)];
};

export const convOps: Record<string, OpTranslator> = {
  Conv2D: conv,
  _FusedConv2D: conv,
  DepthwiseConv2dNative: conv,
  DepthwiseConv2d: conv,
  FusedDepthwiseConv2dNative: conv,
};
