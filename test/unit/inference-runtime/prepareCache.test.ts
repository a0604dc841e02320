// The init step of a hostPath model cache, run the way the operator's init container runs it: as root with
// CAP_CHOWN as the only capability (setpriv bounds the set like the container's `drop: [ALL], add: [CHOWN]`),
// on a directory the kubelet would have created (root:root 0755). The runtime user then writes to it.
import { execFile } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';
import fc from 'fast-check';
import { PREPARE_CACHE_COMMAND, RUNTIME_UID, prepareCacheContainer } from '../../../operator/builders/deployment.js';
import { main } from '../../../inference-runtime/prepareCache.js';

const run = promisify(execFile);
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const script = path.join(repoRoot, 'inference-runtime/prepareCache.ts');
const isRoot = process.getuid?.() === 0;

/** Runs the script as root with only the capabilities named (e.g. ['chown']), as the init container does. */
async function prepareAsRoot(caps: string[], ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const bounding = ['-all', ...caps.map((c) => `+${c}`)].join(',');
  try {
    const { stdout, stderr } = await run('setpriv', ['--reuid', '0', '--regid', '0', '--clear-groups', '--inh-caps', '-all', '--bounding-set', bounding, '--no-new-privs',
      process.execPath, '--import', 'tsx', script, ...args], { cwd: repoRoot, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** Whether the runtime user (uid/gid 1000, no capabilities) can create a file in `dir`. */
async function runtimeUserCanWrite(dir: string): Promise<boolean> {
  try {
    await run('setpriv', ['--reuid', String(RUNTIME_UID), '--regid', String(RUNTIME_UID), '--clear-groups', '--inh-caps', '-all', '--bounding-set', '-all',
      process.execPath, '-e', 'require("node:fs").writeFileSync(process.argv[1], "model bytes")', path.join(dir, 'model.bin')], { timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
}

describe('prepareCache: the hostPath model cache init step', function () {
  this.timeout(120_000);
  let base = '';

  beforeEach(function () {
    if (!isRoot) this.skip(); // needs root to create root-owned directories and to drop to uid 1000
    base = mkdtempSync(path.join(os.tmpdir(), 'prepare-cache-'));
    chmodSync(base, 0o755); // the runtime user must be able to reach the cache below it
  });
  afterEach(() => {
    if (base) rmSync(base, { recursive: true, force: true });
  });

  it('makes a fresh root-owned 0755 directory writable by the runtime user, with CAP_CHOWN alone', async () => {
    const cache = path.join(base, 'models');
    mkdirSync(cache, { mode: 0o755 });
    expect(statSync(cache).uid).to.equal(0);
    expect(await runtimeUserCanWrite(cache), 'uid 1000 writes to a root-owned 0755 directory').to.equal(false);

    const out = await prepareAsRoot(['chown'], cache, '1000', '1000');
    expect(out.code, out.stderr).to.equal(0);
    expect(JSON.parse(out.stdout.trim())).to.include({ outcome: 'chowned' });
    expect(statSync(cache)).to.include({ uid: 1000, gid: 1000 });
    expect(await runtimeUserCanWrite(cache)).to.equal(true);

    // Run again on every pod start: an owned cache (with the runtime's files in it) is left alone.
    const again = await prepareAsRoot(['chown'], cache, '1000', '1000');
    expect(again.code, again.stderr).to.equal(0);
    expect(JSON.parse(again.stdout.trim())).to.include({ outcome: 'unchanged' });
    expect(statSync(path.join(cache, 'model.bin')).uid).to.equal(1000);
  });

  it('never takes over a directory with content, as a host path resolving to a system directory would be', async () => {
    const system = path.join(base, 'etc');
    mkdirSync(system, { mode: 0o755 });
    writeFileSync(path.join(system, 'passwd'), 'root:x:0:0');
    const out = await prepareAsRoot(['chown'], system, '1000', '1000');
    expect(out.code).to.equal(1);
    expect(out.stderr).to.match(/not empty; refusing/);
    expect(statSync(system).uid).to.equal(0);
    expect(await runtimeUserCanWrite(system)).to.equal(false);
  });

  it('fails clearly without CAP_CHOWN instead of starting a runtime that cannot write', async () => {
    const cache = path.join(base, 'models');
    mkdirSync(cache, { mode: 0o755 });
    const out = await prepareAsRoot([], cache, '1000', '1000');
    expect(out.code).to.equal(1);
    expect(JSON.parse(out.stderr.trim())).to.include({ msg: 'model cache not prepared' });
    expect(statSync(cache).uid).to.equal(0);
  });

  it('refuses a symlink planted in place of the cache and leaves its target alone', async () => {
    const target = path.join(base, 'etc');
    mkdirSync(target, { mode: 0o755 });
    writeFileSync(path.join(target, 'shadow'), 'root only');
    const link = path.join(base, 'models');
    symlinkSync(target, link);
    const out = await prepareAsRoot(['chown'], link, '1000', '1000');
    expect(out.code).to.equal(1);
    expect(out.stderr).to.match(/symbolic link/);
    expect(statSync(target).uid).to.equal(0);
    expect(lstatSync(link).uid).to.equal(0);
    expect(await runtimeUserCanWrite(target)).to.equal(false);
  });

  it('answers exit code 1 with a message for anything but a directory and two numeric ids', () => {
    const file = path.join(base, 'file');
    writeFileSync(file, '');
    symlinkSync(base, path.join(base, 'link'));
    const notDirs = [file, path.join(base, 'missing'), path.join(base, 'link'), ''];
    const ids = fc.oneof(fc.string(), fc.constantFrom('1000', '-1', '1e3', '0x10', ' 1000', '4294967295', '99999999999'));
    const argv = fc.oneof(
      fc.tuple(fc.constantFrom(...notDirs), ids, ids).map((a) => [...a]),
      fc.array(fc.oneof(fc.constantFrom(...notDirs), ids), { maxLength: 5 }).filter((a) => a.length !== 3),
      // A real directory with at least one id that is not a plain number.
      fc.tuple(fc.constant(base), ids, ids).filter(([, u, g]) => !/^\d{1,10}$/.test(u) || !/^\d{1,10}$/.test(g) || Number(u) > 0xfffffffe || Number(g) > 0xfffffffe).map((a) => [...a]),
    );
    const stderr: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string) => stderr.push(chunk) > 0) as typeof process.stderr.write;
    try {
      fc.assert(
        fc.property(argv, (a) => {
          stderr.length = 0;
          expect(main(a)).to.equal(1);
          expect(JSON.parse(stderr.join('').trim())).to.have.property('error').that.is.a('string');
        }),
        { numRuns: 400 },
      );
    } finally {
      process.stderr.write = write;
    }
    expect(statSync(base).uid).to.equal(0);
  });
});

describe('prepareCache container (operator builder)', () => {
  it('runs the script of the runtime image as root with CAP_CHOWN only, read-only root, no escalation', () => {
    const c = prepareCacheContainer('mloffload/inference-runtime:1', { image: 'mloffload/inference-runtime:1' });
    expect(c.command).to.deep.equal([...PREPARE_CACHE_COMMAND, '/var/cache/mloffload/models', '1000', '1000']);
    expect(PREPARE_CACHE_COMMAND[1]).to.equal('dist/inference-runtime/prepareCache.js');
    expect(c.securityContext).to.deep.include({ runAsUser: 0, runAsNonRoot: false, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    expect(c.securityContext?.capabilities).to.deep.equal({ drop: ['ALL'], add: ['CHOWN'] });
    expect(c.volumeMounts).to.deep.equal([{ name: 'model-cache', mountPath: '/var/cache/mloffload/models' }]);
  });
});
