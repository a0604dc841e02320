/** MatMul / _FusedMatMul / BatchMatMul(V2). A constant right operand is transposed on the host. */
import { CompileError } from '../errors.js';
import { like, type OpTranslator, permuteConst, type Value } from '../context.js';
import { attr } from '../graphBuilder.js';
import { logical } from '../layout.js';
import { attrBool } from '../tfAttrs.js';
import { finishFused, fusedTail } from './conv.js';

const matmul: OpTranslator = (node, ctx) => {
  const batched = node.op.startsWith('BatchMatMul');
  const transA = attrBool(node, batched ? 'adj_x' : 'transpose_a');
  const transB = attrBool(node, batched ? 'adj_y' : 'transpose_b');
  let a = logical(ctx, ctx.input(node, 0));
  let b = logical(ctx, ctx.input(node, 1));
  if (a.shape.length < 2 || b.shape.length < 2) throw new CompileError(`${node.op} ${node.name}: operands must have rank >= 2`);
  if (b.batchAxis !== null) ctx.loseBatch(node, 'the right operand carries the batch');
  const swapLast = (v: Value, hint: string): Value => {
    const r = v.shape.length;
    const perm = [...Array(r - 2).keys(), r - 1, r - 2];
    if (v.constant) return { ...v, shape: perm.map((p) => v.shape[p]), constant: permuteConst(v.constant, perm) };
    return ctx.emit('Transpose', [v], hint, like(v, { shape: perm.map((p) => v.shape[p]), batchAxis: v.batchAxis === null ? null : perm.indexOf(v.batchAxis) }), {
      perm: attr.ints(perm),
    });
  };
  if (transA) a = swapLast(a, `${node.name}_a`);
  if (transB) b = swapLast(b, `${node.name}_b`);
  const shape = [...a.shape.slice(0, -1), b.shape[b.shape.length - 1]];
  ctx.macs += (shape.reduce((n, d) => n * d, 1) * a.shape[a.shape.length - 1]) / (a.batchAxis === null ? 1 : a.shape[a.batchAxis]);
  const fused = node.op === '_FusedMatMul';
  const tail = fused ? fusedTail(node, ctx, 2) : { alpha: 0.2 };
  const y = ctx.emit('MatMul', [a, b], tail.bias || tail.activation ? `${node.name}_matmul` : node.name, like(a, { shape }));
  return [finishFused(ctx, node, y, tail, false)];
};

export const matmulOps: Record<string, OpTranslator> = { MatMul: matmul, _FusedMatMul: matmul, BatchMatMul: matmul, BatchMatMulV2: matmul };
