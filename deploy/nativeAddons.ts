/**
 * The runtime's native addons: each C file in inference-runtime/native/ compiled into
 * `<dist>/inference-runtime/native/<name>.node`. They need a C compiler (`CC`, else `cc`) and no Node headers;
 * jpegDecode.c needs libjpeg-turbo's header and library too (Debian: libjpeg62-turbo-dev). `npm run build`
 * builds each when it can and says so when it cannot (the runtime serves without them: at a higher idle RSS
 * without mallocTrim, decoding every JPEG through libvips without jpegDecode, letterboxing in JavaScript
 * without resampleToTensor, reading JSON tensor numbers in JavaScript without floatLists); the image
 * build requires them.
 *
 *   npx tsx deploy/nativeAddons.ts [--dist dist]
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const NATIVE_SOURCES = path.join(repoRoot, 'inference-runtime', 'native');

/** The libraries an addon links against, by C file name. */
const LIBRARIES: Readonly<Record<string, readonly string[]>> = { 'jpegDecode.c': ['-ljpeg'] };

/** Compiles one addon (`extraFlags`: e.g. a test's sanitizer); throws with the compiler's output when it fails. */
export function buildAddon(source: string, outFile: string, extraFlags: readonly string[] = []): void {
  mkdirSync(path.dirname(outFile), { recursive: true });
  const cc = process.env.CC || 'cc';
  const libraries = LIBRARIES[path.basename(source)] ?? [];
  // -O3 vectorises the resampler's row loops (2.6x less CPU than -O2, which does not); -ffp-contract=off: no
  // fused multiply-adds, so float arithmetic rounds where the JavaScript twins round.
  execFileSync(cc, ['-shared', '-fPIC', '-O3', '-ffp-contract=off', '-Wall', '-Wextra', '-Werror', ...extraFlags, '-o', outFile, source, ...libraries], { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The C sources of the addons, by file name. */
export function nativeSources(): string[] {
  return readdirSync(NATIVE_SOURCES).filter((f) => f.endsWith('.c'));
}

/** Where the addon of C source `file` is built under `distDir`. */
export function addonTarget(distDir: string, file: string): string {
  return path.join(distDir, 'inference-runtime', 'native', `${path.basename(file, '.c')}.node`);
}

/** Compiles every addon into `distDir`; returns the files written. Throws at the first that fails. */
export function buildNativeAddons(distDir: string): string[] {
  const out: string[] = [];
  for (const file of nativeSources()) {
    const target = addonTarget(distDir, file);
    buildAddon(path.join(NATIVE_SOURCES, file), target);
    out.push(target);
  }
  return out;
}

function failure(error: unknown): string {
  return (error as { stderr?: Buffer }).stderr?.toString().trim() || (error as Error).message;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { dist: { type: 'string', default: path.join(repoRoot, 'dist') } } });
  // Each on its own: one that cannot be built leaves the others.
  for (const file of nativeSources()) {
    try {
      buildAddon(path.join(NATIVE_SOURCES, file), addonTarget(path.resolve(values.dist), file));
    } catch (error) {
      process.stderr.write(`native addon ${file} not built (the runtime serves without it): ${failure(error)}\n`);
    }
  }
}
