import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/**
 * The folder of an installed npm package. `require.resolve('<pkg>/<file>')` is not usable: packages with an
 * `exports` map (e.g. @vladmandic/human) refuse every unlisted subpath, package.json included. So look for
 * `<dir>/<pkg>/package.json` along the module search paths, and fall back to resolving the main entry and
 * walking up to the folder whose package.json carries the package's name.
 *
 * @param base a file or folder to resolve from; defaults to this module (the runtime's own node_modules).
 */
export function findPackageDir(pkg: string, base?: string): string | undefined {
  const require = createRequire(base ? path.join(path.resolve(base), 'noop.js') : import.meta.url);
  for (const dir of require.resolve.paths(pkg) ?? []) {
    const candidate = path.join(dir, pkg);
    if (nameAt(candidate) === pkg) return candidate;
  }
  let main: string;
  try {
    main = require.resolve(pkg);
  } catch {
    return undefined;
  }
  for (let dir = path.dirname(main); ; dir = path.dirname(dir)) {
    if (nameAt(dir) === pkg) return dir;
    if (path.dirname(dir) === dir) return undefined;
  }
}

function nameAt(dir: string): string | undefined {
  const file = path.join(dir, 'package.json');
  if (!existsSync(file)) return undefined;
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown };
    return typeof parsed.name === 'string' ? parsed.name : undefined;
  } catch {
    return undefined;
  }
}
