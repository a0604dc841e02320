// The base root file system both images share: the C and C++ run-time libraries that the Node binary,
// onnxruntime-node and sharp's libvips link against, extracted from Debian packages by mmdebstrap. Nothing
// else: no shell, no coreutils, no apt or dpkg, no setuid programs. Package control files are kept under
// /var/lib/dpkg/status.d/ (as distroless images do) so image scanners still see which Debian packages and
// versions are inside.
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { command, deterministicTar } from './command.js';
import { type Pins, imageCacheRoot, readPins, shortHash, sourceDateEpoch } from './pins.js';

export const RUNTIME_UID = 1000;

export interface DebianPackage {
  name: string;
  version: string;
  architecture: string;
  source?: string;
  homepage?: string;
}

export interface DebianBase {
  /** The root file system as a tar, ready for `ADD base.tar /`. */
  tar: string;
  packages: DebianPackage[];
  /** Where the packages came from: the pinned snapshot, or the live mirror when the snapshot service is unreachable. */
  mirror: { kind: 'snapshot' | 'live'; urls: string[] };
}

interface Mirrors {
  kind: 'snapshot' | 'live';
  debian: string;
  security: string;
}

const LIVE: Mirrors = { kind: 'live', debian: 'http://deb.debian.org/debian', security: 'http://deb.debian.org/debian-security' };

/**
 * snapshot.debian.org serves the archive as it was at the pinned time. Some networks reach only the live
 * mirrors; then the base is resolved from them once and reused from the cache for as long as the pins stay
 * the same (the versions used are recorded in packages.json and in the SBOM).
 */
async function chooseMirrors(pins: Pins): Promise<Mirrors> {
  const snapshot: Mirrors = {
    kind: 'snapshot',
    debian: `http://snapshot.debian.org/archive/debian/${pins.debian.snapshot}`,
    security: `http://snapshot.debian.org/archive/debian-security/${pins.debian.snapshot}`,
  };
  try {
    const res = await fetch(`${snapshot.debian}/dists/${pins.debian.release}/InRelease`, { method: 'HEAD', signal: AbortSignal.timeout(8_000) });
    if (res.ok) return snapshot;
  } catch {
    // unreachable: fall through to the live mirror
  }
  process.stderr.write(`[images] snapshot.debian.org is not reachable; resolving ${pins.debian.packages.join(', ')} from the live Debian mirror\n`);
  return LIVE;
}

/** The cache folder of the base for these pins (and this file's rules). */
export function baseCacheDir(pins: Pins = readPins()): string {
  const key = shortHash(JSON.stringify(pins.debian), pins.platform.debianArch, readFileSync(new URL(import.meta.url)));
  return join(imageCacheRoot(), `base-debian-${pins.debian.release}-${pins.debian.snapshot}-${key}`);
}

function parseControl(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  let last = '';
  for (const line of text.split('\n')) {
    if (/^\s/.test(line) && last) fields[last] += `\n${line}`;
    else {
      const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
      if (m) {
        last = m[1];
        fields[last] = m[2];
      }
    }
  }
  return fields;
}

function walk(dir: string, visit: (path: string) => void): void {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    visit(p);
    const st = statSync(p, { throwIfNoEntry: false });
    if (st?.isDirectory() && !st.isSymbolicLink()) walk(p, visit);
  }
}

/**
 * Packages that only come in as dependencies of others (python3-minimal depends on dpkg) and that the images
 * must not carry: a package manager in a running container is a tool for an intruder. Their files are
 * removed after extraction and they are left out of the package list, so scanners and the SBOM agree with
 * what the image holds.
 */
const DROPPED_PACKAGES: ReadonlySet<string> = new Set(['dpkg']);

/** Removes the files a package's archive extracted (folders are left: other packages may share them). */
async function removePackageFiles(root: string, deb: string): Promise<void> {
  // `dpkg-deb -c` lists like `tar -tv`: the path is the field that starts with ./, a link's target follows ` -> `.
  for (const line of (await command('dpkg-deb', ['-c', deb])).split('\n')) {
    const at = line.indexOf(' ./');
    if (at < 0) continue;
    const rel = line.slice(at + 3).replace(/ -> .*$/, '');
    if (!rel || rel.endsWith('/')) continue;
    const target = join(root, rel);
    if (!lstatSync(target, { throwIfNoEntry: false })?.isDirectory()) rmSync(target, { force: true });
  }
}

/** Files and folders the extracted packages bring that nothing in the images reads. */
function trim(root: string): void {
  for (const p of ['etc/apt', 'etc/dpkg', 'etc/fstab', 'var/cache', 'var/lib/apt', 'var/log', 'usr/share/gcc', 'usr/share/gdb', 'usr/share/lintian']) {
    rmSync(join(root, p), { recursive: true, force: true });
  }
  // The container engine provides /dev; device nodes in an image layer are refused by rootless engines.
  rmSync(join(root, 'dev'), { recursive: true, force: true });
  mkdirSync(join(root, 'dev'));
  // Licences stay (copyright files); change logs and READMEs go.
  const docs = join(root, 'usr/share/doc');
  for (const pkg of existsSync(docs) ? readdirSync(docs) : []) {
    for (const f of readdirSync(join(docs, pkg))) if (f !== 'copyright') rmSync(join(docs, pkg, f), { recursive: true, force: true });
  }
}

/** Users, name service and the writable folders the Deployments mount over. */
function addSystemFiles(root: string): void {
  const etc = join(root, 'etc');
  writeFileSync(join(etc, 'passwd'), `root:x:0:0:root:/root:/sbin/nologin\nmloffload:x:${RUNTIME_UID}:${RUNTIME_UID}:mloffload:/home/mloffload:/sbin/nologin\n`);
  writeFileSync(join(etc, 'group'), `root:x:0:\nmloffload:x:${RUNTIME_UID}:\n`);
  writeFileSync(join(etc, 'nsswitch.conf'), 'passwd: files\ngroup: files\nhosts: files dns\n');
  // Mount points the engine binds over; the build host's resolver must not leak into the image.
  for (const f of ['hostname', 'hosts', 'resolv.conf']) writeFileSync(join(etc, f), '');
  writeFileSync(
    join(etc, 'os-release'),
    'PRETTY_NAME="Debian GNU/Linux 12 (bookworm), run-time libraries only"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\nID=debian\n',
  );
  mkdirSync(join(root, 'tmp'), { recursive: true });
  chmodSync(join(root, 'tmp'), 0o1777);
  mkdirSync(join(root, 'home/mloffload'), { recursive: true });
  mkdirSync(join(root, 'root'), { recursive: true, mode: 0o700 });
}

/**
 * The library links Debian makes with update-alternatives in maintainer scripts, which --variant=extract does
 * not run: libblas3 and liblapack3 install into blas/ and lapack/ below the multiarch folder, and the loader
 * finds libblas.so.3 and liblapack.so.3 (libsphinxbase3 needs both) only through the links their postinst
 * would have registered.
 */
function linkLibraryAlternatives(root: string): void {
  const lib = join(root, 'usr/lib');
  for (const triplet of readdirSync(lib)) {
    for (const alternative of ['blas', 'lapack']) {
      const dir = join(lib, triplet, alternative);
      if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) continue;
      for (const soname of readdirSync(dir).filter((f) => /^lib\w+\.so\.\d+$/.test(f))) {
        const link = join(lib, triplet, soname);
        if (!lstatSync(link, { throwIfNoEntry: false })) symlinkSync(join(alternative, soname), link);
      }
    }
  }
}

function assertNoSetuid(root: string): void {
  const found: string[] = [];
  walk(root, (p) => {
    const st = statSync(p, { throwIfNoEntry: false });
    if (st?.isFile() && (st.mode & 0o6000) !== 0) found.push(p.slice(root.length));
  });
  if (found.length) throw new Error(`setuid/setgid files in the base: ${found.join(', ')}`);
}

/** Builds (or reuses from the cache) the base root file system for the pins. */
export async function debianBase(pins: Pins = readPins()): Promise<DebianBase> {
  const dir = baseCacheDir(pins);
  const tar = join(dir, 'base.tar');
  const manifest = join(dir, 'packages.json');
  if (existsSync(tar) && existsSync(manifest)) {
    const saved = JSON.parse(readFileSync(manifest, 'utf8')) as Omit<DebianBase, 'tar'>;
    return { tar, ...saved };
  }
  if (process.getuid?.() !== 0) throw new Error('building the base root file system needs root (mmdebstrap --mode=root writes files owned by other users)');
  const mirrors = await chooseMirrors(pins);
  const sources = pins.debian.suites.map((suite) => `deb ${suite.endsWith('-security') ? mirrors.security : mirrors.debian} ${suite} main`);
  const epoch = sourceDateEpoch(pins);
  mkdirSync(dir, { recursive: true });
  const work = mkdtempSync(join(dir, 'work-'));
  const root = join(work, 'root');
  try {
    const started = Date.now();
    await command(
      'mmdebstrap',
      [
        '--mode=root',
        '--variant=extract',
        `--architectures=${pins.platform.debianArch}`,
        `--include=${pins.debian.packages.join(',')}`,
        '--format=directory',
        // The downloaded .deb files tell which versions went in; removed below.
        '--skip=cleanup/apt/cache',
        ...(mirrors.kind === 'snapshot' ? ['--aptopt=Acquire::Check-Valid-Until "false"'] : []),
        pins.debian.release,
        root,
        ...sources,
      ],
      { env: { ...process.env, SOURCE_DATE_EPOCH: String(epoch) }, echo: false },
    );
    const archives = join(root, 'var/cache/apt/archives');
    const packages: DebianPackage[] = [];
    const statusDir = join(root, 'var/lib/dpkg/status.d');
    mkdirSync(statusDir, { recursive: true });
    for (const deb of readdirSync(archives).filter((f) => f.endsWith('.deb')).sort()) {
      const control = await command('dpkg-deb', ['--field', join(archives, deb)]);
      const f = parseControl(control);
      if (DROPPED_PACKAGES.has(f.Package)) {
        await removePackageFiles(root, join(archives, deb));
        continue;
      }
      packages.push({ name: f.Package, version: f.Version, architecture: f.Architecture, source: f.Source?.split(' ')[0], homepage: f.Homepage });
      writeFileSync(join(statusDir, f.Package), `${control.trimEnd()}\nStatus: install ok installed\n`);
    }
    trim(root);
    linkLibraryAlternatives(root);
    addSystemFiles(root);
    assertNoSetuid(root);
    const partial = join(work, 'base.tar');
    await deterministicTar(root, partial, epoch);
    const saved: Omit<DebianBase, 'tar'> = { packages, mirror: { kind: mirrors.kind, urls: [mirrors.debian, mirrors.security] } };
    writeFileSync(manifest, `${JSON.stringify(saved, null, 2)}\n`);
    renameSync(partial, tar);
    process.stderr.write(`[images] Debian base (${packages.map((p) => `${p.name} ${p.version}`).join(', ')}) in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    return { tar, ...saved };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
