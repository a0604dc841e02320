import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';

/**
 * A language pair shipped as an archive (tar or tar.gz, ustar format) of its mode file and compiled data,
 * fetched and verified by digest like any model file, and unpacked once into the model's work folder.
 */

/** Bounds of an archive: a pair's data is a few to a few hundred MiB in a few dozen files. */
const MAX_UNPACKED_BYTES = 1024 ** 3;
const MAX_FILES = 4096;

export class PairArchiveError extends Error {}

/** True when the file starts like a gzip stream or holds a ustar header: an archive, not a mode file. */
export async function looksLikeArchive(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(512);
    const { bytesRead } = await handle.read(head, 0, 512, 0);
    if (bytesRead >= 2 && head[0] === 0x1f && head[1] === 0x8b) return true;
    return bytesRead === 512 && head.subarray(257, 262).toString('latin1') === 'ustar';
  } finally {
    await handle.close();
  }
}

function field(header: Buffer, offset: number, length: number): string {
  const raw = header.subarray(offset, offset + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end < 0 ? raw.length : end).toString('utf8');
}

function octal(header: Buffer, offset: number, length: number): number {
  const text = field(header, offset, length).trim();
  if (!/^[0-7]*$/.test(text)) throw new PairArchiveError('malformed tar header (size)');
  return text ? parseInt(text, 8) : 0;
}

/** The entries of a ustar archive: regular files and folders only; links, devices and unsafe names are refused. */
export function readTar(bytes: Buffer): { path: string; data?: Buffer }[] {
  const out: { path: string; data?: Buffer }[] = [];
  let offset = 0;
  let total = 0;
  let longName: string | undefined;
  while (offset + 512 <= bytes.length) {
    const header = bytes.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break;
    const size = octal(header, 124, 12);
    const type = String.fromCharCode(header[156] || 0x30);
    const start = offset + 512;
    if (start + size > bytes.length) throw new PairArchiveError('truncated tar archive');
    const body = bytes.subarray(start, start + size);
    offset = start + Math.ceil(size / 512) * 512;
    if (type === 'L') {
      longName = body.toString('utf8').replace(/\0+$/, '');
      continue;
    }
    if (type === 'x') {
      const pathRecord = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(body.toString('utf8'));
      if (pathRecord) longName = pathRecord[1];
      continue;
    }
    if (type === 'g') continue;
    const prefix = field(header, 345, 155);
    const name = longName ?? (prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100));
    longName = undefined;
    const clean = name.replace(/^\.\//, '').replace(/\/+$/, '');
    if (!clean) continue;
    if (clean.startsWith('/') || clean.split('/').some((seg) => seg === '..' || seg === '')) {
      throw new PairArchiveError(`unsafe path in the archive: ${JSON.stringify(name.slice(0, 200))}`);
    }
    if (type === '5') {
      out.push({ path: clean });
    } else if (type === '0' || type === '7') {
      total += size;
      if (total > MAX_UNPACKED_BYTES) throw new PairArchiveError(`the archive unpacks to more than ${MAX_UNPACKED_BYTES} bytes`);
      out.push({ path: clean, data: body });
    } else {
      throw new PairArchiveError(`the archive holds ${JSON.stringify(clean.slice(0, 200))} of tar type ${JSON.stringify(type)}: only files and folders are accepted`);
    }
    if (out.length > MAX_FILES) throw new PairArchiveError(`the archive holds more than ${MAX_FILES} entries`);
  }
  return out;
}

/**
 * Unpacks the archive into `<workDir>/pair` once and returns that folder. Several inference threads may
 * load the same pair at once: each unpacks into its own temporary folder and renames it into place; the
 * first rename wins and the others use its result.
 */
export async function unpackPairArchive(archive: Buffer, workDir: string): Promise<string> {
  const target = path.join(workDir, 'pair');
  if (existsSync(target)) return target;
  const isGzip = archive[0] === 0x1f && archive[1] === 0x8b;
  let tar: Buffer;
  try {
    tar = isGzip ? gunzipSync(archive, { maxOutputLength: MAX_UNPACKED_BYTES + 1024 * 1024 }) : archive;
  } catch (err) {
    throw new PairArchiveError(`the archive is not valid gzip data or unpacks too large: ${(err as Error).message}`);
  }
  const entries = readTar(tar);
  await mkdir(workDir, { recursive: true });
  const temp = path.join(workDir, `.pair-${process.pid}-${randomBytes(6).toString('hex')}`);
  try {
    await mkdir(temp);
    for (const e of entries) {
      const to = path.join(temp, e.path);
      if (e.data) {
        await mkdir(path.dirname(to), { recursive: true });
        await writeFile(to, e.data, { mode: 0o444 });
      } else {
        await mkdir(to, { recursive: true });
      }
    }
    await rename(temp, target).catch((err: NodeJS.ErrnoException) => {
      if (!existsSync(target)) throw err;
    });
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
  return target;
}

/** Every file under `dir`, as paths relative to it. */
export async function filesUnder(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(path.join(dir, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await filesUnder(dir, p)));
    else if (entry.isFile()) out.push(p);
  }
  return out;
}
