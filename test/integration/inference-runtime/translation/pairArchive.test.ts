import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect } from 'chai';
import { PairArchiveError, readTar } from '../../../../inference-runtime/backends/apertium/pairArchive.js';
import type { PoolModel } from '../../../../inference-runtime/config/types.js';
import { RuntimeProcess } from '../../../helpers/runtimeProcess.js';

/**
 * A language pair deployed as an archive of its mode and data (tar.gz, verified by digest), unpacked into
 * the model cache: a real runtime with two inference threads serves it from there, as the command line does.
 */

function tarHeader(name: string, size: number, type = '0'): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 'utf8');
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
  h.write('00000000000\0', 136);
  h.write(type, 156);
  h.write('ustar\0', 257);
  h.write('00', 263);
  h.fill(' ', 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return h;
}

function tarOf(entries: { name: string; data?: string; type?: string }[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = Buffer.from(e.data ?? '');
    parts.push(tarHeader(e.name, data.length, e.type), data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  return Buffer.concat([...parts, Buffer.alloc(1024)]);
}

describe('Apertium pair from an archive', function () {
  this.timeout(240_000);
  let dir: string;
  let runtime: RuntimeProcess | undefined;

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'pair-archive-'));
  });
  after(async () => {
    await runtime?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses archives with unsafe paths, links or devices', () => {
    expect(readTar(tarOf([{ name: 'modes/eng-spa.mode', data: 'lt-proc x' }]))).to.have.length(1);
    for (const bad of [{ name: '../evil', data: 'x' }, { name: '/etc/passwd', data: 'x' }, { name: 'a/../../b', data: 'x' }, { name: 'link', type: '2' }, { name: 'dev', type: '3' }]) {
      expect(() => readTar(tarOf([bad])), bad.name).to.throw(PairArchiveError);
    }
  });

  it('serves the pair from its verified archive, reading only the files of the archive', async () => {
    const archive = path.join(dir, 'apertium-eng-spa.tar.gz');
    // The Debian pair's mode and data, as a pair's own release would ship them.
    const made = spawnSync('tar', ['--format=ustar', '-czf', archive, '-C', '/usr/share/apertium', 'modes/eng-spa.mode', 'modes/spa-eng.mode', 'apertium-eng-spa']);
    expect(made.status, made.stderr?.toString()).to.equal(0);
    const sha256 = createHash('sha256').update(readFileSync(archive)).digest('hex');
    const entry: PoolModel = {
      name: 'eng-spa-archive',
      task: 'translation/text',
      framework: 'apertium',
      version: '1',
      labels: ['eng', 'spa'],
      source: { uri: pathToFileURL(archive).href, sha256 },
    };
    const pool = path.join(dir, 'pool.json');
    writeFileSync(pool, JSON.stringify({ models: [entry, { ...entry, name: 'tampered', source: { ...entry.source, sha256: '0'.repeat(64) } }] }));
    const cache = path.join(dir, 'cache');
    runtime = RuntimeProcess.startLocal(['--config', pool, '--workers', '2', '--model-cache', cache]);
    const base = `http://127.0.0.1:${await runtime.port(60_000)}`;
    await runtime.event('models_settled_with_failures', 180_000);

    const models = (await (await fetch(`${base}/v1/models`)).json()) as { models: { name: string; state: string; reason?: string }[] };
    expect(models.models.find((m) => m.name === 'eng-spa-archive')).to.include({ state: 'AVAILABLE' });
    expect(models.models.find((m) => m.name === 'tampered')?.reason).to.match(/sha256 mismatch/);

    const text = 'The museum is closed on Mondays.';
    const input = path.join(dir, 'in.txt');
    writeFileSync(input, text);
    const cli = spawnSync('apertium', ['eng-spa', input], { encoding: 'utf8' });
    const res = await fetch(`${base}/v1/translation/translations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text, source: 'en', target: 'es' }) });
    const body = (await res.json()) as { translations: { text: string }[]; model: { name: string }; error?: string };
    expect(res.status, body.error).to.equal(200);
    expect(body.model.name).to.equal('eng-spa-archive');
    expect(body.translations[0].text).to.equal(cli.stdout);

    // Every stage reads its data from the unpacked archive in the model cache, none from /usr/share.
    const pid = runtime.child.pid!;
    const stageArgs = readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .flatMap((p) => {
        try {
          const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
          if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) !== pid) return [];
          return [readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').filter(Boolean)];
        } catch {
          return [];
        }
      });
    const dataArgs = stageArgs.flat().filter((a) => a.startsWith('/'));
    expect(dataArgs.length).to.be.above(10);
    for (const a of dataArgs) {
      if (a.includes('apertium-eng-spa') || a.endsWith('.bin') || a.endsWith('.prob')) expect(a.startsWith(cache), a).to.equal(true);
    }
  });
});
