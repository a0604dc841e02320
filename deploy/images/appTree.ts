// The /app tree of an image: the compiled JavaScript, a package.json (ESM and the version the runtime
// reports), and the production node_modules of one platform, copied from the repository's lockfile-installed
// node_modules and pruned. Nothing is installed inside the image, so it needs neither npm nor a shell.
import { chmodSync, chownSync, cpSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { type LockPackage, type Lockfile, dependencyClosure, packageName, readLockfile } from './dependencyClosure.js';
import { RUNTIME_UID } from './debianBase.js';
import { type Platform, repoRoot } from './pins.js';
import { type PruneReport, prunePackage } from './prune.js';

export const APP_DIR = '/app';

/** What one image takes from the build. */
export interface AppContents {
  /** Compiled files under dist/: a whole folder, or the static import graph of an entry file. */
  dist: { tree: string } | { entryGraph: string };
  /**
   * Which packages go in: those the shipped files import, statically only (a package imported only with
   * `import()` is then an optional feature left out) or dynamically too; plus `extra` packages that no code
   * imports (model weights read as files).
   */
  packages: { imports: 'static' | 'static-and-dynamic'; extra: string[] };
  /** Repository folders copied next to the compiled code: [from (repo), to (under /app)]. */
  assets: [string, string][];
  /** Compiled folders under dist/ that no import reaches (browser modules a page loads), copied as they are. */
  compiledAssets?: string[];
  /** Empty folders owned by the runtime user, e.g. mount points a plain `podman run` writes to. */
  writableDirs: string[];
}

export interface StagedApp {
  /** Lockfile keys and entries of the packages shipped. */
  packages: [string, LockPackage][];
  /** package.json dependencies this image does without (another image's, or imported on demand only). */
  leftOut: string[];
  pruned: PruneReport[];
}

const builtins = new Set(builtinModules);
const STATIC_IMPORT = /(?:^|[;\n])\s*(?:import|export)\s+(?:[^'";]*?\sfrom\s*)?['"]([^'"\n]+)['"]/g;
const DYNAMIC_IMPORT = /\bimport\(\s*['"]([^'"\n]+)['"]\s*\)/g;

function bareName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** Files reachable from `entries` by relative imports (static and dynamic), and the packages they import. */
export function importGraph(entries: string[]): { files: string[]; staticPackages: string[]; dynamicPackages: string[] } {
  const files = new Set<string>();
  const staticPackages = new Set<string>();
  const dynamicPackages = new Set<string>();
  const queue = entries.map((e) => resolve(e));
  while (queue.length) {
    const file = queue.pop()!;
    if (files.has(file)) continue;
    if (!existsSync(file)) throw new Error(`${relative(repoRoot, file)} is imported but was not compiled`);
    files.add(file);
    if (!file.endsWith('.js')) continue;
    const text = readFileSync(file, 'utf8');
    const scan = (re: RegExp, packages: Set<string>) => {
      for (const [, spec] of text.matchAll(re)) {
        if (spec.startsWith('.')) queue.push(resolve(dirname(file), spec));
        else if (!spec.startsWith('node:') && !builtins.has(spec)) packages.add(bareName(spec));
      }
    };
    scan(STATIC_IMPORT, staticPackages);
    scan(DYNAMIC_IMPORT, dynamicPackages);
  }
  for (const p of staticPackages) dynamicPackages.delete(p);
  return { files: [...files].sort(), staticPackages: [...staticPackages].sort(), dynamicPackages: [...dynamicPackages].sort() };
}

function jsFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (lstatSync(p).isDirectory()) jsFiles(p, out);
    else if (name.endsWith('.js')) out.push(p);
  }
  return out;
}

function copyPackage(from: string, to: string): void {
  // Nested node_modules are packages of their own in the lockfile: copied only if they are in the closure.
  cpSync(from, to, { recursive: true, verbatimSymlinks: true, filter: (src) => !(src !== from && src === join(from, 'node_modules')) });
}

function makeReadable(dir: string): void {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = lstatSync(p);
    if (st.isSymbolicLink()) continue;
    // Owned by root, readable by everyone, writable by no one else (the root file system is read-only anyway).
    const mode = st.isDirectory() || st.mode & 0o111 ? 0o755 : 0o644;
    if ((st.mode & 0o7777) !== mode) chmodSync(p, mode);
    if (st.isDirectory()) makeReadable(p);
  }
}

export function stageApp(options: { contents: AppContents; distDir: string; root: string; platform: Platform; lock?: Lockfile }): StagedApp {
  const { contents, distDir, root, platform } = options;
  const lock = options.lock ?? readLockfile(repoRoot);
  const app = join(root, APP_DIR.slice(1));
  mkdirSync(app, { recursive: true });

  const entries = 'tree' in contents.dist ? jsFiles(join(distDir, contents.dist.tree)) : [join(distDir, contents.dist.entryGraph)];
  const graph = importGraph(entries);
  if ('tree' in contents.dist) cpSync(join(distDir, contents.dist.tree), join(app, 'dist', contents.dist.tree), { recursive: true });
  for (const file of graph.files) cpSync(file, join(app, 'dist', relative(distDir, file)));
  const dynamic = contents.packages.imports === 'static-and-dynamic';
  const roots = [...new Set([...graph.staticPackages, ...(dynamic ? graph.dynamicPackages : []), ...contents.packages.extra])].sort();
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { name: string; version: string; license?: string; type?: string; dependencies?: Record<string, string> };
  const undeclared = roots.filter((r) => !(r in (pkg.dependencies ?? {})));
  if (undeclared.length) throw new Error(`the image needs ${undeclared.join(', ')}, which package.json does not list in dependencies`);
  const leftOut = Object.keys(pkg.dependencies ?? {}).filter((d) => !roots.includes(d));
  for (const [from, to] of contents.assets) cpSync(join(repoRoot, from), join(app, to), { recursive: true });
  for (const folder of contents.compiledAssets ?? []) cpSync(join(distDir, folder), join(app, 'dist', folder), { recursive: true });
  // `type: module` makes node load dist/**/*.js as ES modules; name and version are what the runtime reports.
  writeFileSync(join(app, 'package.json'), `${JSON.stringify({ name: pkg.name, version: pkg.version, license: pkg.license, private: true, type: pkg.type }, null, 2)}\n`);

  const keys = dependencyClosure(lock, roots, platform);
  const totals = new Map<string, PruneReport>();
  for (const key of keys) {
    const from = join(repoRoot, key);
    if (!existsSync(join(from, 'package.json'))) throw new Error(`${key} is in the lockfile but not installed (run npm ci)`);
    const to = join(app, key);
    copyPackage(from, to);
    prunePackage(to, packageName(key), platform, totals);
  }
  makeReadable(app);
  for (const dir of contents.writableDirs) {
    const p = join(root, dir.slice(1));
    mkdirSync(p, { recursive: true });
    for (let d = dirname(p); d.startsWith(root) && d !== root; d = dirname(d)) chmodSync(d, 0o755);
    chownSync(p, RUNTIME_UID, RUNTIME_UID);
    chmodSync(p, 0o755);
  }
  return { packages: keys.map((k) => [k, lock.packages[k]]), leftOut, pruned: [...totals.values()] };
}
