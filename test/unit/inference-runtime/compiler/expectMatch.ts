/** Compiles a fixture graph and checks the ONNX model against tfjs-wasm on seeded inputs. */
import { expect } from 'chai';
import { type CompiledModel, type CompileOptions, compileTfjsGraph } from '../../../../inference-runtime/compiler/compile.js';
import { compareWithTfjs, DEFAULT_TOLERANCE, type OutputCheck, withinTolerance } from '../../../../inference-runtime/compiler/verify.js';
import type { GraphFixture } from './graphFixture.js';

export async function expectMatch(
  fx: GraphFixture,
  outputs: string[],
  batchSize = 2,
  options: CompileOptions = {},
): Promise<{ compiled: CompiledModel; checks: OutputCheck[] }> {
  const source = fx.build(outputs);
  const compiled = compileTfjsGraph(source.json, source.weightData, { modelName: 'fixture', ...options });
  const result = await compareWithTfjs(compiled, source, { samples: 2, batchSize, seed: 11, tolerance: DEFAULT_TOLERANCE });
  if ('error' in result) expect.fail(result.error);
  expect(result.checks.map((c) => c.name)).to.have.members(outputs.map((o) => (o.endsWith(':0') ? o.slice(0, -2) : o)));
  for (const c of result.checks) {
    expect(withinTolerance(c, DEFAULT_TOLERANCE), `${c.name} differs by ${c.maxAbsDiff} (reference max ${c.maxAbsReference})`).to.equal(true);
    // An all-zero output would match anything.
    expect(c.maxAbsReference, `${c.name} is all zeros`).to.be.greaterThan(0);
  }
  return { compiled, checks: result.checks };
}
