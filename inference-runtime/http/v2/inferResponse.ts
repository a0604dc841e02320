import type { NamedTensors } from '../../core/tensor.js';
import { binaryData } from './binaryData.js';
import { V2_DATATYPE_OF } from './datatypes.js';
import type { RequestedOutput } from './inferRequest.js';
import { jsonDataText } from './jsonData.js';

/** A response body, and the length of its JSON part when binary output data follows it. */
export interface EncodedResponse {
  body: Buffer;
  /** Set when the body carries binary data: the value of Inference-Header-Content-Length. */
  headerLength?: number;
}

/**
 * The inference response: the requested outputs in the order asked, each with its data as a JSON list or,
 * for a binary output, its `binary_data_size` in the JSON part and its bytes after it, in the same order.
 */
export function encodeInferResponse(
  model: { name: string; version: string },
  id: string | undefined,
  outputs: NamedTensors,
  requested: readonly RequestedOutput[],
): EncodedResponse {
  const parts: string[] = [`{"model_name":${JSON.stringify(model.name)},"model_version":${JSON.stringify(model.version)}`];
  if (id !== undefined) parts.push(`,"id":${JSON.stringify(id)}`);
  parts.push(',"outputs":[');
  const binaries: Uint8Array[] = [];
  requested.forEach(({ name, binary }, k) => {
    const tensor = outputs[name];
    // The model's outputs follow its signature; a missing one is an engine fault, not the client's.
    if (!tensor) throw new Error(`the model returned no output ${name}`);
    if (k > 0) parts.push(',');
    parts.push(`{"name":${JSON.stringify(name)},"datatype":"${V2_DATATYPE_OF[tensor.dtype]}","shape":${JSON.stringify(tensor.shape)}`);
    if (binary) {
      const bytes = binaryData(tensor);
      binaries.push(bytes);
      parts.push(`,"parameters":{"binary_data_size":${bytes.length}}}`);
    } else {
      parts.push(`,"data":${jsonDataText(tensor)}}`);
    }
  });
  parts.push(']}');
  const json = Buffer.from(parts.join(''), 'utf8');
  if (binaries.length === 0) return { body: json };
  return { body: Buffer.concat([json, ...binaries]), headerLength: json.length };
}
