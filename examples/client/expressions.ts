/**
 * Prints the facial expression of every face in a photo.
 *
 *   npx tsx examples/client/expressions.ts photo.jpg [http://localhost:8080]
 *
 * MLOFFLOAD_API_KEY is sent as a bearer token when set.
 */
import { readFile } from 'node:fs/promises';
import { VisionApiError, VisionClient } from './visionClient.js';

const [photo, runtime = process.env.RUNTIME ?? 'http://localhost:8080'] = process.argv.slice(2);
if (!photo) {
  process.stderr.write('usage: npx tsx examples/client/expressions.ts <photo.jpg|png|webp> [runtime URL]\n');
  process.exit(2);
}

const client = new VisionClient(runtime, { apiKey: process.env.MLOFFLOAD_API_KEY });
try {
  const result = await client.facialExpressions(await readFile(photo));
  const models = result.models.map((m) => `${m.name}@${m.version} (${m.backend})`).join(', ');
  console.log(`${photo}: ${result.image.width}x${result.image.height}, ${result.faces.length} face(s); ${models}; ${result.timing.total} ms`);
  for (const [i, face] of result.faces.entries()) {
    const { x, y, width, height } = face.box;
    const { code, label, confidence } = face.expression;
    console.log(`  #${i + 1} code ${code} ${label.padEnd(8)} ${(confidence * 100).toFixed(1)}%  box ${x},${y} ${width}x${height}`);
  }
} catch (error) {
  if (error instanceof VisionApiError) {
    process.stderr.write(`the runtime refused the photo: ${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
