// What the images are built from (pins.json) and where the build keeps its work. The base root file system and
// the Node binary are cached outside the repository, in folders named after these pins, so a rebuild with the
// same pins reuses them and a changed pin gets a fresh download.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const imagesDir = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(imagesDir, '..', '..');

export interface Platform {
  /** npm's names, as package.json `os`, `cpu` and `libc` fields use them. */
  os: string;
  cpu: string;
  libc: string;
  debianArch: string;
}

export interface Pins {
  debian: {
    release: string;
    versionId: string;
    /** A snapshot.debian.org timestamp: the archive state the base is resolved from. */
    snapshot: string;
    suites: string[];
    /** Only these and their dependencies: no shell, no package manager, no setuid programs. */
    packages: string[];
  };
  node: { package: string; version: string; integrity: string };
  platform: Platform;
}

export const pinsFile = join(imagesDir, 'pins.json');

export function readPins(): Pins {
  return JSON.parse(readFileSync(pinsFile, 'utf8')) as Pins;
}

/** Seconds since the epoch of the Debian snapshot: every file time and the image creation time are set to it. */
export function sourceDateEpoch(pins: Pins): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(pins.debian.snapshot);
  if (!m) throw new Error(`pins.json: debian.snapshot ${pins.debian.snapshot} is not a snapshot.debian.org timestamp (YYYYMMDDThhmmssZ)`);
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) / 1000;
}

export function shortHash(...parts: (string | Buffer)[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return h.digest('hex').slice(0, 16);
}

/** The same cache base as the control plane's (MLOFFLOAD_CACHE or ~/.cache/mloffload), folder `images`. */
export function imageCacheRoot(): string {
  const base = process.env.MLOFFLOAD_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'mloffload');
  return join(base, 'images');
}

/** Where `npm run images` writes the OCI archives and their SBOMs (gitignored). */
export const outputDir = join(repoRoot, 'build', 'images');
