/**
 * What the compiler's channel-block rewrite (inference-runtime/compiler/channelBlocks.ts) is worth: each
 * tfjs graph model of the default pool compiled twice, as translated (block 1) and aligned to this CPU's block,
 * run on one onnxruntime intra-op thread with the runtime's session options, in alternating runs so load from
 * elsewhere hits both alike. Prints each graph's p50, the ratio, and how far apart their outputs are.
 *
 *   taskset -c 1 npx tsx bench/channelBlocks.ts [--runs 400]
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { cpuChannelBlock } from '../inference-runtime/compiler/channelBlocks.js';
import { compileTfjsModelFile } from '../inference-runtime/compiler/compile.js';
import { createOnnxSession } from '../inference-runtime/compiler/onnxSession.js';
import { randomInputs } from '../inference-runtime/compiler/verify.js';
import { findPackageDir } from '../inference-runtime/core/npmPackage.js';
import { median, r2 } from './stats.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '400' } } });
const runs = Number(values.runs);
const block = cpuChannelBlock();
const models = findPackageDir('@vladmandic/human');
if (!models) throw new Error('@vladmandic/human is not installed (npm install)');

console.log(`Machine: nproc ${os.availableParallelism()}, ${os.cpus()[0]?.model ?? 'unknown CPU'}, channel block ${block}, Node ${process.version}.`);
console.log(`Command: npx tsx bench/channelBlocks.ts --runs ${runs}\n`);
console.log('| model | as translated, p50 ms | aligned to the block, p50 ms | aligned / translated | max abs output difference |');
console.log('|---|---:|---:|---:|---:|');
for (const name of ['blazeface', 'emotion', 'centernet']) {
  const file = `${models}/models/${name}.json`;
  const plain = await compileTfjsModelFile(file, { modelName: name, channelBlock: 1 });
  const aligned = await compileTfjsModelFile(file, { modelName: name, channelBlock: block });
  const sessions = await Promise.all([plain, aligned].map((c) => createOnnxSession(c.onnx, { intraOpThreads: 1 })));
  const inputs = randomInputs(plain.inputs, 1, 7);
  const outputs = await Promise.all(sessions.map((s) => s.run(inputs)));
  let diff = 0;
  for (const key of Object.keys(outputs[0]!)) {
    const a = outputs[0]![key]!.data as Float32Array;
    const b = outputs[1]![key]!.data as Float32Array;
    for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
  }
  const n = name === 'centernet' ? Math.max(20, Math.round(runs / 10)) : runs;
  const times: number[][] = [[], []];
  for (let i = 0; i < n + 20; i++) {
    for (const k of [0, 1]) {
      const t0 = performance.now();
      await sessions[k]!.run(inputs);
      if (i >= 20) times[k]!.push(performance.now() - t0);
    }
  }
  const [p, q] = times.map(median) as [number, number];
  console.log(`| ${name} | ${r2(p)} | ${r2(q)} | ${r2(q / p)}x | ${diff.toExponential(1)} |`);
  await Promise.all(sessions.map((s) => s.release()));
}
