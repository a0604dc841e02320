import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Asset {
  type: string;
  body: Buffer;
}

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * The demo page's files, read once at start-up. They live in `inference-runtime/static/` next to the sources;
 * the compiled server (`dist/inference-runtime/vision/`) finds them by walking up to the package root.
 */
export function demoAssets(): Map<string, Asset> {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [path.join(here, '..', 'static'), path.join(here, '..', '..', '..', 'inference-runtime', 'static')];
  const dir = candidates.find((d) => existsSync(path.join(d, 'index.html')));
  const assets = new Map<string, Asset>();
  if (!dir) return assets;
  for (const name of readdirSync(dir)) {
    const type = types[path.extname(name)];
    if (type) assets.set(name, { type, body: readFileSync(path.join(dir, name)) });
  }
  return assets;
}
