import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import fc from 'fast-check';
import { DEFAULT_APERTIUM_LIMITS } from '../../../../inference-runtime/backends/apertium/limits.js';
import { TRANSLATION_ENG_SPA, TRANSLATION_SPA_ENG } from '../../../../inference-runtime/config/defaultPool.js';
import { eventually } from '../../../helpers/eventually.js';
import { RuntimeProcess } from '../../../helpers/runtimeProcess.js';

/**
 * The translation API of a real runtime process serving the built-in eng<->spa pool entries from the Debian
 * Apertium packages: answers equal Apertium's own command line, concurrent answers never cross, killed or
 * stuck pipelines are replaced and their requests answered or refused with 503, bad input gets a 4xx.
 */

/** Deadline of one text in a pipeline for this runtime: short, so the stuck-pipeline test ends quickly. */
const FRAME_TIMEOUT_MS = 4_000;

let cliInputs = 0;

/**
 * `apertium <pair> <file>` on `text`, as a user would run it. The text goes in a file: the script hands
 * `/dev/stdin` to its deformatter by name, which cannot be opened when stdin is a socket (as Node's pipes are).
 */
function apertiumCli(pair: string, text: string): Promise<string> {
  const input = path.join(tmpdir(), `apertium-cli-${process.pid}-${cliInputs++}.txt`);
  writeFileSync(input, text, 'utf8');
  return new Promise<string>((resolve, reject) => {
    const child = spawn('apertium', [pair, input], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    // The script exits 0 even when a stage failed: anything on stderr is a failure here.
    child.on('close', (code) => (code === 0 && !err ? resolve(Buffer.concat(out).toString('utf8')) : reject(new Error(`apertium ${pair} exited ${code}: ${err}`))));
  }).finally(() => rmSync(input, { force: true }));
}

interface Proc {
  pid: number;
  cmdline: string[];
}

/** Processes whose parent is `ppid` (Linux /proc). */
function childrenOf(ppid: number): Proc[] {
  const out: Proc[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) !== ppid) continue;
      out.push({ pid: Number(entry), cmdline: readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean) });
    } catch {
      // The process left while being read.
    }
  }
  return out;
}

/** The stages of the runtime's eng->spa pipelines: processes reading that pair's data files. */
function engSpaStages(runtime: RuntimeProcess): Proc[] {
  return childrenOf(runtime.child.pid!).filter((p) => p.cmdline.some((a) => a.includes('/apertium-eng-spa/eng-spa.')));
}

function stageNamed(runtime: RuntimeProcess, fileSuffix: string): Proc {
  const found = engSpaStages(runtime).find((p) => p.cmdline.some((a) => a.endsWith(fileSuffix)));
  if (!found) throw new Error(`no eng-spa stage reading *${fileSuffix}`);
  return found;
}

describe('translation API (real runtime, Apertium eng<->spa)', function () {
  this.timeout(240_000);
  let runtime: RuntimeProcess;
  let base: string;
  let dir: string;

  const translate = (body: unknown, init: RequestInit = {}): Promise<Response> =>
    fetch(`${base}/v1/translation/translations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : body instanceof Uint8Array ? new Blob([new Uint8Array(body)]) : JSON.stringify(body),
      signal: AbortSignal.timeout(60_000),
      ...init,
    });
  const translated = async (text: string, source = 'en', target = 'es'): Promise<string> => {
    const res = await translate({ text, source, target });
    const body = (await res.json()) as { translations?: { text: string }[]; error?: string };
    expect(res.status, body.error).to.equal(200);
    return body.translations![0].text;
  };

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'translation-api-'));
    const pool = path.join(dir, 'pool.json');
    writeFileSync(pool, JSON.stringify({ models: [TRANSLATION_ENG_SPA, TRANSLATION_SPA_ENG] }));
    // One worker and one pipeline per pair: which process serves a request is known to the kill tests.
    runtime = RuntimeProcess.startLocal(['--config', pool, '--workers', '1', '--model-cache', path.join(dir, 'cache')], {
      MLOFFLOAD_APERTIUM_TIMEOUT_MS: String(FRAME_TIMEOUT_MS),
      MLOFFLOAD_APERTIUM_PIPELINES: '1',
    });
    base = `http://127.0.0.1:${await runtime.port(60_000)}`;
    await runtime.event('models_ready', 180_000);
  });

  after(async () => {
    await runtime?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists the pairs it serves, with both code forms', async () => {
    const res = await fetch(`${base}/v1/translation/languages`);
    expect(res.status).to.equal(200);
    const body = (await res.json()) as { pairs: { source: string; target: string; model: string; state: string }[]; languages: { code3: string }[] };
    expect(body.pairs.map((p) => `${p.source}->${p.target}:${p.state}`)).to.have.members(['en->es:AVAILABLE', 'es->en:AVAILABLE']);
    expect(body.languages.map((l) => l.code3)).to.have.members(['eng', 'spa']);
  });

  it("answers exactly what Apertium's command line answers for the same pair", async () => {
    const english = [
      'The cat is on the table.',
      'I have two houses and three dogs.',
      'The shop on the corner opens at nine in the morning.',
      'Where is the railway station?',
      'She would have bought the red car if it had been cheaper.',
      'Multiple   spaces,\ttabs and\nnew lines\n\nstay.',
      'Unknown words like Zqxwv and brackets [like this] ^or$ @these stay marked.',
      'Numbers: 3.14, 1,000 and 42%!',
    ];
    const spanish = ['El gato está en la mesa.', 'Tengo dos casas y tres perros.', '¿Dónde está la estación de tren?', 'Mañana iremos a la playa con nuestros amigos.'];
    const cases = [...english.map((t) => ({ t, s: 'en', g: 'es', pair: 'eng-spa' })), ...spanish.map((t) => ({ t, s: 'es', g: 'en', pair: 'spa-eng' }))];
    const expected = await Promise.all(cases.map((c) => apertiumCli(c.pair, c.t)));
    // Sequentially and in reverse order too: a pipeline keeps no state from one text to the next.
    for (const order of [cases.map((_, i) => i), cases.map((_, i) => cases.length - 1 - i)]) {
      for (const i of order) expect(await translated(cases[i].t, cases[i].s, cases[i].g), cases[i].t).to.equal(expected[i]);
    }
    // As one batch: row i answers text i.
    const res = await translate({ texts: english, source: 'eng', target: 'spa' });
    const body = (await res.json()) as { translations: { text: string }[]; source: string; target: string; model: { name: string } };
    expect(res.status).to.equal(200);
    expect(body.translations.map((t) => t.text)).to.deep.equal(expected.slice(0, english.length));
    expect(body).to.include({ source: 'en', target: 'es' });
    expect(body.model.name).to.equal(TRANSLATION_ENG_SPA.name);
  });

  it("meters the pair's model like every task's: its inferences in /metrics, the engine time in the timing", async () => {
    const count = async (): Promise<number> => {
      const text = await (await fetch(`${base}/metrics`)).text();
      const prefix = `mloffload_model_inferences_total{model="${TRANSLATION_ENG_SPA.name}",version="${TRANSLATION_ENG_SPA.version}",outcome="ok"}`;
      const line = text.split('\n').find((l) => l.startsWith(prefix));
      return line ? Number(line.slice(prefix.length)) : 0;
    };
    const before = await count();
    const res = await translate({ texts: ['The cat is on the table.', 'Where is the station?'], source: 'en', target: 'es' });
    const body = (await res.json()) as { model: { name: string }; timing: Record<string, number> };
    expect(res.status).to.equal(200);
    expect(body.model.name).to.equal(TRANSLATION_ENG_SPA.name);
    expect(body.timing.inference).to.be.greaterThan(0).and.at.most(body.timing.total);
    expect(await count()).to.equal(before + 1);
  });

  it('gives each of 100 concurrent requests its own answer', async () => {
    const texts = Array.from({ length: 100 }, (_, i) => `Marker${i}x reads ${i} books in the house number ${1000 + i}.`);
    const alone: string[] = [];
    for (const t of texts) alone.push(await translated(t));
    const together = await Promise.all(texts.map((t) => translated(t)));
    expect(together).to.deep.equal(alone);
    together.forEach((answer, i) => expect(answer).to.contain(`Marker${i}x`).and.to.contain(String(1000 + i)));
  });

  it('replaces a pipeline killed with SIGKILL; requests meanwhile are answered or refused with 503, never left hanging', async () => {
    const reference = await translated('The doors of the old church are open.');
    const victim = stageNamed(runtime, 'eng-spa.t1x.bin');
    const load = Array.from({ length: 12 }, async () => {
      const started = Date.now();
      const res = await translate({ text: 'The doors of the old church are open.', source: 'en', target: 'es' });
      const body = (await res.json()) as { translations?: { text: string }[]; error?: string };
      return { status: res.status, retryAfter: res.headers.get('retry-after'), body, ms: Date.now() - started };
    });
    process.kill(victim.pid, 'SIGKILL');
    const outcomes = await Promise.all(load);
    for (const o of outcomes) {
      if (o.status === 200) expect(o.body.translations![0].text).to.equal(reference);
      else {
        expect(o.status, o.body.error).to.equal(503);
        expect(o.retryAfter).to.match(/^\d+$/);
      }
      expect(o.ms).to.be.below(FRAME_TIMEOUT_MS * 3);
    }
    await eventually(() => expect(stageNamed(runtime, 'eng-spa.t1x.bin').pid).to.not.equal(victim.pid), { timeout: 15_000 });
    // The runtime's log says which pipeline stopped and why.
    const stopped = await runtime.event('apertium-pipeline-stopped', 10_000, (l) => l.model === TRANSLATION_ENG_SPA.name);
    expect(stopped.reason).to.be.a('string').and.not.equal('');
    expect(await translated('The doors of the old church are open.')).to.equal(reference);
  });

  it('kills a pipeline that overruns its deadline (a stopped stage) and answers its request with 503', async () => {
    const reference = await translated('The garden is green.');
    const stuck = stageNamed(runtime, 'eng-spa.autobil.bin');
    process.kill(stuck.pid, 'SIGSTOP');
    try {
      const started = Date.now();
      const res = await translate({ text: 'The garden is green.', source: 'en', target: 'es' });
      const elapsed = Date.now() - started;
      expect(res.status, await res.clone().text()).to.equal(503);
      expect(res.headers.get('retry-after')).to.match(/^\d+$/);
      expect(((await res.json()) as { error: string }).error).to.match(/took longer than/);
      expect(elapsed).to.be.at.least(FRAME_TIMEOUT_MS - 100).and.below(FRAME_TIMEOUT_MS * 3);
    } finally {
      // SIGKILL already ended it; this only matters when the assertion above failed first.
      try {
        process.kill(stuck.pid, 'SIGCONT');
      } catch {
        // gone
      }
    }
    await eventually(() => expect(stageNamed(runtime, 'eng-spa.autobil.bin').pid).to.not.equal(stuck.pid), { timeout: 15_000 });
    expect(await translated('The garden is green.')).to.equal(reference);
  });

  it('refuses bad input with a clear 4xx', async () => {
    const { maxTextBytes, maxTexts } = DEFAULT_APERTIUM_LIMITS;
    const cases: { name: string; body: unknown; status: number; match: RegExp; type?: string }[] = [
      { name: 'empty text', body: { text: '', source: 'en', target: 'es' }, status: 400, match: /empty/ },
      { name: 'blank text', body: { text: ' \n\t ', source: 'en', target: 'es' }, status: 400, match: /empty/ },
      { name: 'no text', body: { source: 'en', target: 'es' }, status: 400, match: /either "text"/ },
      { name: 'both text and texts', body: { text: 'a', texts: ['b'], source: 'en', target: 'es' }, status: 400, match: /either "text"/ },
      { name: 'empty texts', body: { texts: [], source: 'en', target: 'es' }, status: 400, match: /empty/ },
      { name: 'text not a string', body: { text: 42, source: 'en', target: 'es' }, status: 400, match: /must be a string/ },
      { name: 'unknown pair', body: { text: 'hello', source: 'en', target: 'fr' }, status: 400, match: /en->fr.*en->es/ },
      { name: 'unknown code', body: { text: 'hello', source: 'english', target: 'es' }, status: 400, match: /not an ISO 639/ },
      { name: 'no target', body: { text: 'hello', source: 'en' }, status: 400, match: /"target" is required/ },
      { name: 'unknown field', body: { text: 'hello', source: 'en', target: 'es', formality: 'high' }, status: 400, match: /unknown field/ },
      { name: 'NUL in text', body: { text: 'a\u0000b', source: 'en', target: 'es' }, status: 400, match: /NUL/ },
      { name: 'lone surrogate', body: '{"text":"a\\ud800b","source":"en","target":"es"}', status: 400, match: /surrogate/ },
      { name: 'oversize text', body: { text: 'a '.repeat(maxTextBytes), source: 'en', target: 'es' }, status: 413, match: new RegExp(String(maxTextBytes)) },
      { name: 'too many texts', body: { texts: Array.from({ length: maxTexts + 1 }, () => 'hi'), source: 'en', target: 'es' }, status: 413, match: new RegExp(`at most ${maxTexts}`) },
      { name: 'not JSON', body: 'text=hello', status: 400, match: /not valid JSON/ },
      { name: 'not an object', body: '["hello"]', status: 400, match: /JSON object/ },
      { name: 'non-UTF-8 body', body: Buffer.from('{"text":"caf\xe9","source":"en","target":"es"}', 'latin1'), status: 400, match: /UTF-8/ },
      { name: 'wrong media type', body: '{}', type: 'image/png', status: 415, match: /application\/json/ },
    ];
    for (const c of cases) {
      const res = await translate(c.body, c.type ? { headers: { 'content-type': c.type } } : {});
      const body = (await res.json()) as { error: string };
      expect(res.status, `${c.name}: ${body.error}`).to.equal(c.status);
      expect(body.error, c.name).to.match(c.match);
    }
  });

  it('never crosses answers for generated texts (control characters, NULs, long words, markup)', async () => {
    const piece = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.string({ unit: fc.constantFrom('\0', '\x01', '\x1b', '\x7f', '\u2028', '\ufeff', '[', ']', '^', '$', '@', '<', '>', '\\', '/', '*', '{', '}', '\n', ' '), maxLength: 30 }),
      fc.integer({ min: 200, max: 3000 }).map((n) => 'x'.repeat(n)),
      fc.constantFrom('The house is big.', '<b>bold</b> & "quotes"', 'Ünïcödé façade naïve', '日本語のテキスト', '🙂🚀'),
    );
    let round = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(piece, { minLength: 1, maxLength: 8 }), async (pieces) => {
        round++;
        const texts = pieces.map((p, i) => `Zmark${round}q${i} ${p}`);
        const replies = await Promise.all(
          texts.map(async (text) => {
            const res = await translate({ text, source: 'en', target: 'es' });
            return { res, body: (await res.json()) as { translations?: { text: string }[]; error?: string } };
          }),
        );
        replies.forEach(({ res, body }, i) => {
          const text = texts[i];
          const refused = text.includes('\0') || /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);
          if (refused) {
            expect(res.status, body.error).to.equal(400);
            return;
          }
          expect(res.status, `${JSON.stringify(text).slice(0, 200)}: ${body.error}`).to.equal(200);
          const answer = body.translations![0].text;
          expect(answer).to.contain(`Zmark${round}q${i}`);
          texts.forEach((_, j) => {
            if (j !== i) expect(answer).to.not.match(new RegExp(`Zmark${round}q${j}(?!\\d)`));
          });
        });
      }),
      { numRuns: 25 },
    );
    // The pipelines survived all of it.
    expect(await translated('The house is big.')).to.equal(await apertiumCli('eng-spa', 'The house is big.'));
  });
});
