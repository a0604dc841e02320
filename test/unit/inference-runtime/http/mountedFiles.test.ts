import { mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { watchMountedFiles, type MountedFilesWatch } from '../../../../inference-runtime/http/mountedFiles.js';
import { SecretVolume } from '../../../helpers/secretVolume.js';

describe('mounted file watch', () => {
  let dir: string;
  let watch: MountedFilesWatch | undefined;
  // Checks are driven by hand; the poll is set far out so it never races the assertions.
  const options = { intervalMs: 3_600_000 };

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'mounted-files-'));
  });
  afterEach(async () => {
    watch?.close();
    watch = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('reports a ..data swap once, with every file of the new generation together', async () => {
    const volume = await SecretVolume.create(path.join(dir, 'tls'), { 'tls.crt': 'cert-1', 'tls.key': 'key-1' });
    const seen: string[][] = [];
    const files = [volume.path('tls.crt'), volume.path('tls.key')];
    watch = watchMountedFiles(files, await Promise.all(files.map((f) => readFile(f))), (c) => void seen.push(c.map(String)), options);

    await watch.check();
    expect(seen).to.deep.equal([]);
    await volume.update({ 'tls.crt': 'cert-2', 'tls.key': 'key-2' });
    await watch.check();
    await watch.check();
    expect(seen).to.deep.equal([['cert-2', 'key-2']]);
  });

  it('never reports files of two generations together, however the checks and the swaps interleave', async () => {
    const names = ['tls.crt', 'tls.key', 'ca.crt'];
    const generation = (i: number) => Object.fromEntries(names.map((n) => [n, `${n}-${i}`]));
    const volume = await SecretVolume.create(path.join(dir, 'tls'), generation(1));
    const seen: string[][] = [];
    const files = names.map((n) => volume.path(n));
    watch = watchMountedFiles(files, await Promise.all(files.map((f) => readFile(f))), (c) => void seen.push(c.map(String)), options);
    for (let i = 2; i <= 40; i++) await Promise.all([volume.update(generation(i)), watch.check(), watch.check()]);
    await watch.check();
    for (const contents of seen) expect(new Set(contents.map((c) => c.split('-')[1])).size, JSON.stringify(contents)).to.equal(1);
    expect(seen.at(-1)).to.deep.equal(names.map((n) => `${n}-40`));
  });

  it('does not offer a refused file again, and offers the next one', async () => {
    const file = path.join(dir, 'keys');
    await writeFile(file, 'a');
    let offered = 0;
    watch = watchMountedFiles([file], [Buffer.from('a')], () => {
      offered++;
      throw new Error('refused');
    }, options);
    await writeFile(file, '');
    await watch.check();
    await watch.check();
    expect(offered).to.equal(1);
    await writeFile(file, 'b');
    await watch.check();
    expect(offered).to.equal(2);
  });

  it('skips files it cannot read (removed, a folder) until they read again', async () => {
    const file = path.join(dir, 'keys');
    await writeFile(file, 'a');
    const seen: string[] = [];
    watch = watchMountedFiles([file], [Buffer.from('a')], ([c]) => void seen.push(String(c)), options);
    await unlink(file);
    await watch.check();
    const notAFile = watchMountedFiles([dir], [Buffer.from('')], () => expect.fail('a folder is not read'), options);
    await notAFile.check();
    notAFile.close();
    expect(seen).to.deep.equal([]);
    await writeFile(file, 'b');
    await watch.check();
    expect(seen).to.deep.equal(['b']);
  });
});
