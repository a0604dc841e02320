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

/** The folder holding `marker`, looked up from the sources and from the compiled tree (`dist/inference-runtime/http/`). */
function findDir(relative: string[], marker: string): string | undefined {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [path.join(here, '..', '..', ...relative), path.join(here, '..', '..', '..', ...relative)];
  return candidates.find((d) => existsSync(path.join(d, marker)));
}

function readAssets(dir: string | undefined, prefix: string, into: Map<string, Asset>): void {
  if (!dir) return;
  for (const name of readdirSync(dir)) {
    const type = types[path.extname(name)];
    if (type) into.set(`${prefix}${name}`, { type, body: readFileSync(path.join(dir, name)) });
  }
}

/**
 * The demo page's files, read once at start-up: `inference-runtime/static/` and, under `sdk/`, the built
 * ES modules of the client SDK (`clients/typescript/dist/`, made by `npm run build`), which the page uses
 * like any browser app would.
 */
export function demoAssets(): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  readAssets(findDir(['inference-runtime', 'static'], 'index.html'), '', assets);
  readAssets(findDir(['clients', 'typescript', 'dist'], 'index.js'), 'sdk/', assets);
  return assets;
}
