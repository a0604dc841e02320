import { mkdir, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * A folder laid out like a Secret volume the kubelet mounts, and updated the way it does (its AtomicWriter):
 *
 *   <dir>/tls.crt -> ..data/tls.crt
 *   <dir>/..data  -> ..2026_11_30_10_00_00.000000001
 *   <dir>/..2026_11_30_10_00_00.000000001/tls.crt
 *
 * An update writes a new timestamped folder, points a new `..data_tmp` symlink at it, renames that over
 * `..data` (the one atomic step: readers see all old files or all new ones), then removes the old folder.
 */
export class SecretVolume {
  private generation = 0;

  private constructor(readonly dir: string) {}

  static async create(dir: string, files: Record<string, string | Buffer>): Promise<SecretVolume> {
    await mkdir(dir, { recursive: true });
    const volume = new SecretVolume(dir);
    const first = await volume.writeGeneration(files);
    await symlink(first, path.join(dir, '..data'));
    for (const name of Object.keys(files)) await symlink(path.join('..data', name), path.join(dir, name));
    return volume;
  }

  path(name: string): string {
    return path.join(this.dir, name);
  }

  /** Replaces every file at once, as a Secret update does. The file names must stay the same. */
  async update(files: Record<string, string | Buffer>): Promise<void> {
    const previous = await readlink(path.join(this.dir, '..data'));
    const next = await this.writeGeneration(files);
    const tmp = path.join(this.dir, '..data_tmp');
    await symlink(next, tmp);
    await rename(tmp, path.join(this.dir, '..data'));
    await rm(path.join(this.dir, previous), { recursive: true, force: true });
  }

  private async writeGeneration(files: Record<string, string | Buffer>): Promise<string> {
    const stamp = new Date().toISOString().replace(/[-:T]/g, '_').replace('Z', '');
    const name = `..${stamp}.${String(++this.generation).padStart(9, '0')}`;
    await mkdir(path.join(this.dir, name));
    for (const [file, content] of Object.entries(files)) await writeFile(path.join(this.dir, name, file), content, { mode: 0o600 });
    return name;
  }
}
