/** Activations, standalone and as the tail of fused conv/matmul ops. */
import { CompileError } from '../errors.js';
import { like, type OpTranslator, type TranslationContext, type Value } from '../context.js';
import { attr } from '../graphBuilder.js';
import { alignElementwise, physicalAxis } from '../layout.js';
import { attrFloat } from '../tfAttrs.js';
import type { TfNodeDef } from '../tfjsModel.js';

export const ACTIVATIONS = ['Relu', 'Relu6', 'Elu', 'Selu', 'LeakyRelu', 'Sigmoid', 'Tanh', 'Softplus', 'Prelu'] as const;

export function isActivation(op: string): boolean {
  return (ACTIVATIONS as readonly string[]).includes(op);
}

/** Applies activation `kind` to x. `alpha` is LeakyRelu's slope; `preluAlpha` Prelu's per-channel slopes. */
export function applyActivation(
  ctx: TranslationContext,
  node: TfNodeDef,
  kind: string,
  x: Value,
  options: { alpha?: number; preluAlpha?: Value; hint?: string } = {},
): Value {
  const hint = options.hint ?? node.name;
  const result = like(x);
  switch (kind) {
    case 'Relu':
    case 'Sigmoid':
    case 'Tanh':
    case 'Softplus':
    case 'Selu':
      return ctx.emit(kind, [x], hint, result);
    case 'Relu6':
      return ctx.emit('Clip', [ctx.name(x), ctx.builder.float([0], []), ctx.builder.float([6], [])], hint, result);
    case 'Elu':
      return ctx.emit('Elu', [x], hint, result, { alpha: attr.float(1) });
    case 'LeakyRelu':
      return ctx.emit('LeakyRelu', [x], hint, result, { alpha: attr.float(options.alpha ?? 0.2) });
    case 'Prelu': {
      if (!options.preluAlpha) throw new CompileError(`${node.op} ${node.name}: Prelu without alpha`);
      const aligned = alignElementwise(ctx, node, [x, options.preluAlpha]);
      const [xa, slope] = aligned.operands;
      return ctx.emit('PRelu', [xa, slope], hint, like(x, { layout: aligned.layout }));
    }
    default:
      throw new CompileError(`${node.op} ${node.name}: unsupported fused activation ${kind}`);
  }
}

const activation: OpTranslator = (node, ctx) => {
  const x = ctx.input(node, 0);
  if (node.op === 'Prelu') return [applyActivation(ctx, node, 'Prelu', x, { preluAlpha: ctx.input(node, 1) })];
  return [applyActivation(ctx, node, node.op, x, { alpha: attrFloat(node, 'alpha', 0.2) })];
};

const softmax: OpTranslator = (node, ctx) => {
  const x = ctx.input(node, 0);
  // TF softmaxes over the last logical axis; in NCHW that axis is C, physical axis 1.
  const axis = physicalAxis(x, x.shape.length - 1);
  const op = node.op === 'LogSoftmax' ? 'LogSoftmax' : 'Softmax';
  return [ctx.emit(op, [x], node.name, like(x), { axis: attr.int(axis) })];
};

export const activationOps: Record<string, OpTranslator> = {
  ...Object.fromEntries(ACTIVATIONS.map((op) => [op, activation])),
  Softmax: softmax,
  LogSoftmax: softmax,
};
