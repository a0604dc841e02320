/**
 * Reads the text of a sign in a photo (OCR) and translates it, from the nearest of the given runtimes.
 *
 *   npx tsx examples/client/sign.ts sign.jpg [runtime URL ...]
 *
 * SOURCE and TARGET choose the languages (default en -> es: the built-in pool serves English <-> Spanish).
 * MLOFFLOAD_API_KEY and MLOFFLOAD_CA as in expressions.ts.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { ApiError, MLOffloadClient, NoEndpointError } from '../../clients/typescript/src/index.js';
import { httpsFetch } from '../../clients/typescript/src/node.js';

const [photo, ...runtimes] = process.argv.slice(2);
if (!photo) {
  process.stderr.write('usage: npx tsx examples/client/sign.ts <photo.jpg|png|webp> [runtime URL ...]\n');
  process.exit(2);
}

const client = new MLOffloadClient({
  endpoints: runtimes.length ? runtimes : [process.env.RUNTIME ?? 'http://localhost:8080'],
  apiKey: process.env.MLOFFLOAD_API_KEY,
  fetch: process.env.MLOFFLOAD_CA ? httpsFetch({ ca: readFileSync(process.env.MLOFFLOAD_CA) }) : undefined,
});
try {
  const { lines } = await client.vision.text(await readFile(photo));
  if (lines.length === 0) console.log(`${photo}: no text found`);
  else {
    // One text per line: a sign's lines are separate phrases, and the answer keeps them row for row.
    const { translations } = await client.translation.translate({ texts: lines.map((l) => l.text), source: process.env.SOURCE ?? 'en', target: process.env.TARGET ?? 'es' });
    for (const [i, line] of lines.entries()) console.log(`${line.text}\t${translations[i]!.text}`);
  }
} catch (error) {
  if (error instanceof ApiError || error instanceof NoEndpointError) {
    process.stderr.write(`${error.message}\n`);
    process.exitCode = 1;
  } else throw error;
} finally {
  client.close();
}
