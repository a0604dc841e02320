// Node.js for the images, from the npm package that ships the official linux-x64 build (`package/bin/node`).
// Only the binary and its licence go in: the headers and man pages are for building addons, and npm is not
// in the package at all (node_modules is assembled outside the image).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { command, deterministicTar } from './command.js';
import { type Pins, imageCacheRoot, readPins, sourceDateEpoch } from './pins.js';

/** Where node lives in both images; on PATH as well. */
export const NODE_PATH = '/usr/local/bin/node';

export interface NodeLayer {
  tar: string;
  version: string;
}

/** npm's integrity string ("sha512-<base64>") of a file. */
function integrityOf(file: string): string {
  return `sha512-${createHash('sha512').update(readFileSync(file)).digest('base64')}`;
}

export async function nodeLayer(pins: Pins = readPins()): Promise<NodeLayer> {
  const { package: name, version, integrity } = pins.node;
  const dir = join(imageCacheRoot(), `${name}-${version}`);
  const tar = join(dir, 'node.tar');
  if (existsSync(tar)) return { tar, version };
  mkdirSync(dir, { recursive: true });
  const work = mkdtempSync(join(dir, 'work-'));
  try {
    await command('npm', ['pack', `${name}@${version}`, '--silent', '--pack-destination', work], { cwd: work });
    const tgz = readdirSync(work).find((f) => f.endsWith('.tgz'));
    if (!tgz) throw new Error(`npm pack ${name}@${version} wrote no archive`);
    const actual = integrityOf(join(work, tgz));
    if (actual !== integrity) throw new Error(`${name}@${version}: integrity ${actual} differs from the pinned ${integrity}`);
    const root = join(work, 'root');
    mkdirSync(join(root, 'usr/local/bin'), { recursive: true });
    mkdirSync(join(root, 'usr/local/share/doc/node'), { recursive: true });
    await command('tar', ['-xzf', join(work, tgz), '-C', work, 'package/bin/node', 'package/LICENSE']);
    renameSync(join(work, 'package/bin/node'), join(root, 'usr/local/bin/node'));
    renameSync(join(work, 'package/LICENSE'), join(root, 'usr/local/share/doc/node/LICENSE'));
    const reported = (await command(join(root, 'usr/local/bin/node'), ['--version'])).trim();
    if (reported !== `v${version}`) throw new Error(`${name}@${version} contains node ${reported}`);
    const partial = join(work, 'node.tar');
    await deterministicTar(root, partial, sourceDateEpoch(pins));
    renameSync(partial, tar);
    return { tar, version };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
