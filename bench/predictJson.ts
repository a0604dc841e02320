/**
 * The JSON side of TF Serving `:predict` alone: the flat float reader (tfserving/flatTensorJson.ts) on the
 * 89 KB facial-expression body of bench/predict.ts and bench/v2.ts, with its native lists reader
 * (native/floatLists.c, built by `npm run build`) and with the JavaScript one, beside the general path
 * (JSON.parse and the tensor adapter) and, with `--baseline <dir>`, the flat reader of another checkout (e.g. the previous
 * commit unpacked with `git archive`). Each is timed in turns in one process; the best of the rounds is
 * reported, the figure least disturbed by other load.
 *
 *   npx tsx bench/predictJson.ts [--rounds <n>] [--baseline <dir>]
 */
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { TensorSpec } from '../inference-runtime/core/tensor.js';
import { nativeReadLists, nativeReadListsMissing } from '../inference-runtime/http/floatLists.js';
import { parseFlatPredict } from '../inference-runtime/http/tfserving/flatTensorJson.js';
import { parsePredictRequest } from '../inference-runtime/http/tfserving/jsonTensor.js';
import { parseTfServingJson } from '../inference-runtime/http/tfserving/jsonText.js';
import { EXPRESSION_INPUT, expressionPredictBody } from './expressionLoad.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '60' }, baseline: { type: 'string' } } });
const ROUNDS = Number(values.rounds);
const PER_ROUND = 50;

const body = expressionPredictBody();
const specs: TensorSpec[] = [{ name: 'input_1', dtype: 'float32', shape: [-1, 64, 64, 1] }];

const native = nativeReadLists();
if (!native) throw new Error(`the native lists reader is missing: ${nativeReadListsMissing()}`);
const readers: Record<string, () => unknown> = {
  'flat reader, native lists (native/floatLists.c)': () => parseFlatPredict(body, specs, 1000, native),
  'flat reader, JavaScript lists (readNested)': () => parseFlatPredict(body, specs, 1000, null),
  'general path (JSON.parse + tensor adapter)': () => parsePredictRequest(parseTfServingJson(body.toString('utf8')), specs, body.length, 1000),
};
if (values.baseline) {
  const module = path.resolve(values.baseline, 'inference-runtime/http/tfserving/flatTensorJson.ts');
  const baseline = (await import(pathToFileURL(module).href)) as { parseFlatPredict: typeof parseFlatPredict };
  readers['flat reader (baseline)'] = () => baseline.parseFlatPredict(body, specs, 1000);
}

const best = new Map<string, number>(Object.keys(readers).map((name) => [name, Number.POSITIVE_INFINITY]));
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, read] of Object.entries(readers)) {
    const t0 = performance.now();
    for (let i = 0; i < PER_ROUND; i++) read();
    best.set(name, Math.min(best.get(name)!, ((performance.now() - t0) / PER_ROUND) * 1000));
  }
}
console.log(`body: ${body.length} bytes, ${EXPRESSION_INPUT.length} floats; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
console.log('| reader | µs per body (best of rounds) |\n|---|---|');
for (const [name, us] of best) console.log(`| ${name} | ${us.toFixed(1)} |`);
