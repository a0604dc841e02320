/**
 * Prints the facial expression of every face in a photo, from the nearest of the given runtimes.
 *
 *   npx tsx examples/client/expressions.ts photo.jpg [runtime URL ...]
 *
 * MLOFFLOAD_API_KEY is sent as a bearer token when set; MLOFFLOAD_CA names a PEM file to trust for
 * https:// runtimes with self-signed certificates (examples/facial-expression/make-secrets.sh writes one).
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { ApiError, MLOffloadClient, NoEndpointError } from '../../clients/typescript/src/index.js';
import { httpsFetch } from '../../clients/typescript/src/node.js';

const [photo, ...runtimes] = process.argv.slice(2);
if (!photo) {
  process.stderr.write('usage: npx tsx examples/client/expressions.ts <photo.jpg|png|webp> [runtime URL ...]\n');
  process.exit(2);
}

const client = new MLOffloadClient({
  endpoints: runtimes.length ? runtimes : [process.env.RUNTIME ?? 'http://localhost:8080'],
  apiKey: process.env.MLOFFLOAD_API_KEY,
  fetch: process.env.MLOFFLOAD_CA ? httpsFetch({ ca: readFileSync(process.env.MLOFFLOAD_CA) }) : undefined,
});
try {
  const result = await client.vision.facialExpressions(await readFile(photo));
  const nearest = client.endpoints()[0];
  const models = result.models.map((m) => `${m.name}@${m.version} (${m.backend})`).join(', ');
  console.log(`${photo}: ${result.image.width}x${result.image.height}, ${result.faces.length} face(s); ${models}; ${result.timing.total} ms on ${nearest?.node ?? nearest?.url}`);
  for (const [i, face] of result.faces.entries()) {
    const { x, y, width, height } = face.box;
    const { code, label, confidence } = face.expression;
    console.log(`  #${i + 1} code ${code} ${label.padEnd(8)} ${(confidence * 100).toFixed(1)}%  box ${x},${y} ${width}x${height}`);
  }
} catch (error) {
  if (error instanceof ApiError) {
    process.stderr.write(`the runtime refused the photo: ${error.message}\n`);
    process.exitCode = 1;
  } else if (error instanceof NoEndpointError) {
    process.stderr.write(`no runtime answered: ${error.message}\n`);
    process.exitCode = 1;
  } else throw error;
} finally {
  client.close();
}
