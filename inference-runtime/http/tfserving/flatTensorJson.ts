import type { TensorSpec } from '../../core/tensor.js';
import { FloatSink, flatBody, nativeReadLists, notFlat, readLists, rowCapacity, type NativeReadLists } from '../floatLists.js';
import { DEFAULT_SIGNATURE, type PredictRequest } from './jsonTensor.js';

/**
 * The fast path of a `:predict` body: one float32 input sent as nested lists of numbers, read by the lists
 * scanner (../floatLists.ts) straight into a Float32Array.
 *
 * It answers only what it is sure of. Anything else (another key, an object or string among the values,
 * NaN, a ragged list, a number outside float32, more rows than allowed, a grammar error) returns undefined
 * and the body takes the general path (`parseTfServingJson` + `parsePredictRequest`), which has the one set
 * of rules and error messages. So both paths give the same tensor for any body this one accepts, and every
 * limit (depth, rows, body size) keeps its one home.
 *
 * `maxRows` is the rows limit (core/rowLimit.ts): a body over it takes the general path, which refuses it
 * with its 413.
 */
export function parseFlatPredict(
  body: Uint8Array,
  inputSpecs: readonly TensorSpec[],
  maxRows = Number.POSITIVE_INFINITY,
  native: NativeReadLists | null = nativeReadLists(),
): PredictRequest | undefined {
  if (inputSpecs.length !== 1 || inputSpecs[0].dtype !== 'float32') return undefined;
  const spec = inputSpecs[0];
  return flatBody(body, (s) => {
    let format: PredictRequest['format'] | undefined;
    let shape: number[] | undefined;
    let values: Float32Array | undefined;
    s.object((key) => {
      if (key === 'signature_name') {
        const name = s.plainString();
        if (name !== '' && name !== DEFAULT_SIGNATURE) throw notFlat;
      } else if ((key === 'instances' || key === 'inputs') && format === undefined) {
        format = key === 'instances' ? 'row' : 'columnar';
        const sink = new FloatSink(rowCapacity(spec, body.length));
        shape = readLists(s, sink, maxRows, native);
        values = sink.finish();
      } else {
        throw notFlat;
      }
    });
    if (!format || !shape || !values) throw notFlat;
    return { format, signatureName: DEFAULT_SIGNATURE, inputs: { [spec.name]: { dtype: 'float32', shape, data: values } } };
  });
}
