/**
 * Run by flatTensorJson.test.ts in a child process under AddressSanitizer (LD_PRELOAD of libasan, the addon
 * built with -fsanitize=address): reads generated bodies with the native lists reader from `argv[2]`, each in
 * an ArrayBuffer of its exact size, so a read past the body is ASan's report and a non-zero exit. Checks that
 * the native and the JavaScript reader step aside alike, and prints `{"cases": n, "read": m}`.
 *
 *   node --import tsx test/helpers/floatListsUnderAsan.ts <floatLists.node> <cases>
 */
import fc from 'fast-check';
import type { TensorSpec } from '../../inference-runtime/core/tensor.js';
import { loadNativeReadLists } from '../../inference-runtime/http/floatLists.js';
import { parseFlatPredict } from '../../inference-runtime/http/tfserving/flatTensorJson.js';

const native = loadNativeReadLists(process.argv[2]!);
if (!native) throw new Error(`${process.argv[2]} did not load`);
const specs: TensorSpec[] = [{ name: 'x', dtype: 'float32', shape: [-1, 2] }];
/** An exact-size copy: Buffer.from would put a short text inside a larger shared pool. */
const exact = (text: string): Uint8Array => new Uint8Array(Buffer.from(text));

let cases = 0;
let read = 0;
const token = fc.constantFrom('[', ']', ',', ' ', '-', '.', 'e', '0', '1', '9', '12345678', '123456781234567812345', '0.5', '}', '"');
fc.assert(
  fc.property(fc.array(token, { maxLength: 40 }), (tokens) => {
    const bytes = exact(`{"instances": [${tokens.join('')}}`);
    cases++;
    const c = parseFlatPredict(bytes, specs, 64, native);
    if ((c === undefined) !== (parseFlatPredict(bytes, specs, 64, null) === undefined)) throw new Error(`the readers disagree on ${Buffer.from(bytes).toString()}`);
    if (c) read++;
  }),
  { numRuns: Number(process.argv[3] ?? 20000) },
);
// Digits that run up to the last bytes of the body, where an eight-byte read would pass its end.
for (let digits = 1; digits < 40; digits++) {
  for (const tail of ['}', ' }', ']}', ']]}', '.}', 'e}']) {
    cases++;
    parseFlatPredict(exact(`{"instances": [[${'7'.repeat(digits)}${tail}`), specs, 64, native);
  }
}
process.stdout.write(`${JSON.stringify({ cases, read })}\n`);
