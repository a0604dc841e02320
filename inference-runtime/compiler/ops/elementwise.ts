/** Binary and unary elementwise ops with TF broadcasting, computed in the operands' common layout. */
import { like, type OpTranslator, type TranslationContext, type ValueDtype } from '../context.js';
import { attr } from '../graphBuilder.js';
import { alignElementwise } from '../layout.js';
import type { TfNodeDef } from '../tfjsModel.js';

const BINARY: Record<string, string> = {
  Add: 'Add',
  AddV2: 'Add',
  BiasAdd: 'Add',
  Sub: 'Sub',
  Mul: 'Mul',
  RealDiv: 'Div',
  Div: 'Div',
  Maximum: 'Max',
  Minimum: 'Min',
  Pow: 'Pow',
  Equal: 'Equal',
  Greater: 'Greater',
  GreaterEqual: 'GreaterOrEqual',
  Less: 'Less',
  LessEqual: 'LessOrEqual',
  LogicalAnd: 'And',
  LogicalOr: 'Or',
};

const COMPARISONS = new Set(['Equal', 'NotEqual', 'Greater', 'GreaterEqual', 'Less', 'LessEqual', 'LogicalAnd', 'LogicalOr']);

function binaryResult(ctx: TranslationContext, node: TfNodeDef, dtype: ValueDtype) {
  const aligned = alignElementwise(ctx, node, ctx.inputs(node).slice(0, 2));
  const result = { dtype, shape: aligned.shape, layout: aligned.layout, batchAxis: aligned.batchAxis };
  return { aligned, result };
}

const binary: OpTranslator = (node, ctx) => {
  const dtype = COMPARISONS.has(node.op) ? 'bool' : ctx.input(node, 0).dtype;
  const { aligned, result } = binaryResult(ctx, node, dtype);
  const [a, b] = aligned.operands;
  switch (node.op) {
    case 'NotEqual': {
      const eq = ctx.emit('Equal', [a, b], `${node.name}_eq`, result);
      return [ctx.emit('Not', [eq], node.name, result)];
    }
    case 'SquaredDifference': {
      const d = ctx.emit('Sub', [a, b], `${node.name}_diff`, result);
      return [ctx.emit('Mul', [d, d], node.name, result)];
    }
    case 'FloorDiv': {
      if (dtype === 'float32') {
        const q = ctx.emit('Div', [a, b], `${node.name}_div`, result);
        return [ctx.emit('Floor', [q], node.name, result)];
      }
      // Integers: ONNX Div truncates toward zero; a - floormod(a, b) is an exact multiple of b.
      const m = ctx.emit('Mod', [a, b], `${node.name}_mod`, result, { fmod: attr.int(0) });
      const d = ctx.emit('Sub', [a, m], `${node.name}_sub`, result);
      return [ctx.emit('Div', [d, b], node.name, result)];
    }
    case 'FloorMod': {
      if (dtype !== 'float32') return [ctx.emit('Mod', [a, b], node.name, result, { fmod: attr.int(0) })];
      const q = ctx.emit('Div', [a, b], `${node.name}_div`, result);
      const f = ctx.emit('Floor', [q], `${node.name}_floor`, result);
      const p = ctx.emit('Mul', [f, b], `${node.name}_mul`, result);
      return [ctx.emit('Sub', [a, p], node.name, result)];
    }
    default:
      return [ctx.emit(BINARY[node.op], [a, b], node.name, result)];
  }
};

const addN: OpTranslator = (node, ctx) => {
  const aligned = alignElementwise(ctx, node, ctx.inputs(node));
  const result = { dtype: ctx.input(node, 0).dtype, shape: aligned.shape, layout: aligned.layout, batchAxis: aligned.batchAxis };
  return [ctx.emit('Sum', aligned.operands, node.name, result)];
};

const UNARY: Record<string, string> = {
  Neg: 'Neg',
  Abs: 'Abs',
  Exp: 'Exp',
  Log: 'Log',
  Sqrt: 'Sqrt',
  Floor: 'Floor',
  Ceil: 'Ceil',
  Round: 'Round',
  Reciprocal: 'Reciprocal',
  Sin: 'Sin',
  Cos: 'Cos',
  Erf: 'Erf',
  Sign: 'Sign',
  LogicalNot: 'Not',
};

const unary: OpTranslator = (node, ctx) => {
  const x = ctx.input(node, 0);
  if (node.op === 'Square') return [ctx.emit('Mul', [x, x], node.name, like(x))];
  if (node.op === 'Rsqrt') {
    const s = ctx.emit('Sqrt', [x], `${node.name}_sqrt`, like(x));
    return [ctx.emit('Reciprocal', [s], node.name, like(x))];
  }
  return [ctx.emit(UNARY[node.op], [x], node.name, like(x))];
};

export const elementwiseOps: Record<string, OpTranslator> = {
  ...Object.fromEntries([...Object.keys(BINARY), 'NotEqual', 'SquaredDifference', 'FloorDiv', 'FloorMod'].map((op) => [op, binary])),
  AddN: addN,
  ...Object.fromEntries([...Object.keys(UNARY), 'Square', 'Rsqrt'].map((op) => [op, unary])),
};

