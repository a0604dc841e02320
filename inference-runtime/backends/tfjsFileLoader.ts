import { readFile } from 'node:fs/promises';
import type { io } from '@tensorflow/tfjs';
import type { ModelFiles } from '../core/backend.js';
import type { Tf } from '../core/tfjsEngine.js';

/**
 * A tfjs IOHandler over verified local files. Plain `@tensorflow/tfjs` has no `file://` loader in Node, and
 * cached shards are stored by digest rather than next to model.json, so shards are looked up by the name
 * `weightsManifest[].paths` gives them in `files.files`.
 */
export function fileIOHandler(tf: Tf, files: ModelFiles): io.IOHandler {
  return {
    load: async () => {
      const modelJSON = JSON.parse(await readFile(files.entryPath, 'utf8')) as io.ModelJSON;
      return tf.io.getModelArtifactsForJSON(modelJSON, async (manifest) => {
        const specs: io.WeightsManifestEntry[] = [];
        const buffers: Buffer[] = [];
        for (const group of manifest) {
          specs.push(...group.weights);
          for (const p of group.paths) {
            const file = files.files[p];
            if (!file) throw new Error(`weight file ${p} of ${files.entryPath} was not fetched`);
            buffers.push(await readFile(file));
          }
        }
        const all = Buffer.concat(buffers);
        const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer;
        return [specs, weightData];
      });
    },
  };
}
