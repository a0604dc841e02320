// The node_modules folders that some packages need at run time on one platform, resolved from
// package-lock.json the way Node resolves them (nearest node_modules upwards). Optional dependencies built
// for another OS, CPU or C library (sharp's and onnxruntime's per-platform packages) are left out; so are
// development dependencies, which no production package can reach.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Platform } from './pins.js';

export interface LockPackage {
  version?: string;
  resolved?: string;
  integrity?: string;
  license?: string;
  dev?: boolean;
  optional?: boolean;
  os?: string[];
  cpu?: string[];
  libc?: string[];
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

export interface Lockfile {
  packages: Record<string, LockPackage>;
}

export function readLockfile(repoRoot: string): Lockfile {
  const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as Partial<Lockfile>;
  return { packages: lock.packages ?? {} };
}

/** The package name of a lockfile key such as `node_modules/a/node_modules/@b/c` (here `@b/c`). */
export function packageName(key: string): string {
  return key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length);
}

/** npm's rule for `os`/`cpu`/`libc` lists: allowed names, or `!name` exclusions. */
function allows(list: string[] | undefined, value: string): boolean {
  if (!list || list.length === 0) return true;
  if (list.includes(`!${value}`)) return false;
  const positive = list.filter((v) => !v.startsWith('!'));
  return positive.length === 0 || positive.includes(value);
}

export function runsOn(entry: LockPackage, platform: Platform): boolean {
  return allows(entry.os, platform.os) && allows(entry.cpu, platform.cpu) && allows(entry.libc, platform.libc);
}

function resolveKey(packages: Lockfile['packages'], name: string, from: string): string | undefined {
  let dir = from;
  for (;;) {
    const key = `${dir ? `${dir}/` : ''}node_modules/${name}`;
    if (packages[key]) return key;
    if (!dir) return undefined;
    const parent = dir.lastIndexOf('/node_modules/');
    dir = parent < 0 ? '' : dir.slice(0, parent);
  }
}

/** Lockfile keys (`node_modules/...`) of `roots` and everything they need on `platform`, sorted. */
export function dependencyClosure(lock: Lockfile, roots: readonly string[], platform: Platform): string[] {
  const keep = new Set<string>();
  const visit = (name: string, from: string, optional: boolean, neededBy: string): void => {
    const key = resolveKey(lock.packages, name, from);
    if (!key) {
      if (optional) return;
      throw new Error(`${name} (needed by ${neededBy}) is not in package-lock.json`);
    }
    const entry = lock.packages[key];
    if (keep.has(key) || entry.dev) return;
    if (!runsOn(entry, platform)) {
      if (optional) return;
      throw new Error(`${name} (needed by ${neededBy}) does not run on ${platform.os}-${platform.cpu}-${platform.libc}`);
    }
    keep.add(key);
    for (const dep of Object.keys(entry.dependencies ?? {})) visit(dep, key, false, key);
    for (const dep of Object.keys(entry.optionalDependencies ?? {})) visit(dep, key, true, key);
    for (const dep of Object.keys(entry.peerDependencies ?? {})) visit(dep, key, entry.peerDependenciesMeta?.[dep]?.optional === true, key);
  };
  for (const name of roots) visit(name, '', false, 'the image');
  return [...keep].sort();
}
