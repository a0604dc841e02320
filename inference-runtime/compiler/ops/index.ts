/** Every TF op the compiler translates, by TF op name. */
import type { OpTranslator } from '../context.js';
import { activationOps } from './activation.js';
import { convOps } from './conv.js';
import { elementwiseOps } from './elementwise.js';
import { matmulOps } from './matmul.js';
import { poolOps } from './pool.js';
import { reduceOps } from './reduce.js';
import { resizeOps } from './resize.js';
import { selectOps } from './select.js';
import { tensorOps } from './tensor.js';

export const TRANSLATORS: Readonly<Record<string, OpTranslator>> = {
  ...activationOps,
  ...convOps,
  ...elementwiseOps,
  ...matmulOps,
  ...poolOps,
  ...reduceOps,
  ...resizeOps,
  ...selectOps,
  ...tensorOps,
};

export function supportedOps(): string[] {
  return Object.keys(TRANSLATORS).sort();
}
