// What is taken out of the production node_modules before it goes into an image, one rule per kind of dead
// weight, each with the reason it is safe. The build prints the bytes each rule removed, and the image tests
// load every model of the built-in pool from the pruned tree.
import { lstatSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join, posix } from 'node:path';
import type { Platform } from './pins.js';

export interface Manifest {
  name?: string;
  /** Usually a path; some packages write `false`. */
  main?: unknown;
}

export interface PruneRule {
  name: string;
  why: string;
  /** Whether `file` (a path inside the package folder, `/`-separated) goes. */
  removes(pkg: string, manifest: Manifest, file: string, platform: Platform): boolean;
}

const LICENCE = /^(licen[cs]e|copying|notice)/i;

/** `./dist/x.js` and `dist/x.js` alike. */
function normalised(path: unknown): string | undefined {
  return typeof path === 'string' ? posix.normalize(path).replace(/^\.\//, '') : undefined;
}

export const pruneRules: readonly PruneRule[] = [
  {
    name: 'type declarations, source maps and documents',
    why: 'read by editors, debuggers and people, never loaded by node; licence files stay',
    removes: (_pkg, _m, file) => /\.(map|d\.ts|d\.mts|d\.cts|tsbuildinfo)$/.test(file) || /\.(md|markdown)$/i.test(file),
  },
  {
    name: 'onnxruntime-node libraries of other platforms',
    why: 'the package ships its native library for every OS and CPU (bin/napi-v*/<os>/<cpu>); the image runs one',
    removes: (pkg, _m, file, platform) => {
      if (pkg !== 'onnxruntime-node') return false;
      const m = /^bin\/napi-v\d+\/([^/]+)\/([^/]+)\//.exec(file);
      return m !== null && (m[1] !== platform.os || m[2] !== platform.cpu);
    },
  },
  {
    name: 'tfjs browser and bundler builds',
    why: 'each @tensorflow/tfjs* package ships UMD, ES2017, FESM and mini-program builds for browsers and bundlers next to the CommonJS bundle node loads (its `main`, dist/*.node.js); the WASM binaries stay',
    removes: (pkg, manifest, file) => {
      const main = normalised(manifest.main);
      if (!pkg.startsWith('@tensorflow/tfjs') || !main || !/^dist\/[^/]+\.node\.js$/.test(main)) return false;
      return file.startsWith('dist/') && file !== main && !file.endsWith('.wasm');
    },
  },
  {
    name: '@vladmandic/human code and demos',
    why: 'the runtime reads only its model files (models/); its JavaScript (with a bundled copy of tfjs) is never loaded',
    removes: (pkg, _m, file) => pkg === '@vladmandic/human' && file !== 'package.json' && !file.startsWith('models/'),
  },
];

/** The rule that removes `file`, if any; licence files always stay, whatever a rule says. */
export function pruneRuleFor(pkg: string, manifest: Manifest, file: string, platform: Platform): PruneRule | undefined {
  if (LICENCE.test(posix.basename(file))) return undefined;
  return pruneRules.find((r) => r.removes(pkg, manifest, file, platform));
}

export interface PruneReport {
  rule: string;
  files: number;
  bytes: number;
}

/** Applies the rules to one package folder (its nested node_modules are packages of their own and skipped). */
export function prunePackage(dir: string, pkg: string, platform: Platform, totals: Map<string, PruneReport>): void {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;
  const visit = (rel: string): void => {
    for (const name of readdirSync(join(dir, rel))) {
      const file = rel ? `${rel}/${name}` : name;
      if (file === 'node_modules') continue;
      const st = lstatSync(join(dir, file));
      if (st.isDirectory()) {
        visit(file);
        if (readdirSync(join(dir, file)).length === 0) rmSync(join(dir, file), { recursive: true });
        continue;
      }
      const rule = pruneRuleFor(pkg, manifest, file, platform);
      if (!rule) continue;
      const report = totals.get(rule.name) ?? { rule: rule.name, files: 0, bytes: 0 };
      report.files += 1;
      report.bytes += st.size;
      totals.set(rule.name, report);
      rmSync(join(dir, file));
    }
  };
  visit('');
}
