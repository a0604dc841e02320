import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * The Node options a checkout starts its runtime with (its inference-runtime/nodeFlags.ts; none for a checkout
 * from before that file), so a benchmark runs each checkout as it ships, a baseline included.
 */
export async function runtimeNodeFlags(checkout: string = process.cwd()): Promise<string[]> {
  const file = path.resolve(checkout, 'inference-runtime', 'nodeFlags.ts');
  if (!existsSync(file)) return [];
  const { RUNTIME_NODE_FLAGS } = (await import(pathToFileURL(file).href)) as { RUNTIME_NODE_FLAGS: readonly string[] };
  return [...RUNTIME_NODE_FLAGS];
}
