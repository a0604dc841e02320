import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let version: string | undefined;

/** This package's version, read from its package.json (found from source and from the compiled dist/ tree). */
export function runtimeVersion(): string {
  if (version) return version;
  version = 'unknown';
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
        if (pkg.name === 'mloffload' && pkg.version) {
          version = pkg.version;
          break;
        }
      } catch {
        // keep looking upwards
      }
    }
    if (path.dirname(dir) === dir) break;
  }
  return version;
}

/** The Kubernetes node (downward API `NODE_NAME`) or, outside a cluster, the host name. */
export function nodeName(): string {
  return process.env.NODE_NAME || os.hostname();
}
