import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import fc from 'fast-check';
import { ModeSyntaxError, parseModePipeline, pipelineDataFiles } from '../../../../../inference-runtime/backends/apertium/modePipeline.js';

const ALLOWED = /^(lt-proc|lrx-proc|rtx-proc|cg-proc|vislcg3|hfst-proc|apertium-[a-z0-9][a-z0-9-]*)$/;

describe('Apertium mode pipelines', () => {
  it('parses the installed eng-spa mode, as apertium-wblank-mode -z expands it, into argv stages', () => {
    const expanded = spawnSync('apertium-wblank-mode', ['-z', '/usr/share/apertium/modes/eng-spa.mode'], { encoding: 'utf8' });
    expect(expanded.status, expanded.stderr).to.equal(0);
    const stages = parseModePipeline(expanded.stdout);
    expect(stages[0]).to.deep.equal({ program: 'lt-proc', args: ['-z', '/usr/share/apertium/apertium-eng-spa/eng-spa.automorf.bin'] });
    // `$1` is the generator's -g (unknown words marked), `$2` (the tagger's option) is dropped.
    expect(stages.find((s) => s.args.some((a) => a.endsWith('eng-spa.autogen.bin')))?.args).to.deep.equal(['-z', '-g', '/usr/share/apertium/apertium-eng-spa/eng-spa.autogen.bin']);
    expect(stages.find((s) => s.program === 'apertium-tagger')?.args).to.deep.equal(['-z', '-g', '/usr/share/apertium/apertium-eng-spa/eng-spa.prob']);
    expect(stages.every((s) => s.program === 'apertium-wblank-attach' || s.program === 'apertium-wblank-detach' || s.args[0] === '-z')).to.equal(true);
    expect(pipelineDataFiles(stages)).to.include('/usr/share/apertium/apertium-eng-spa/eng-spa.t1x.bin');
  });

  it('parses the raw mode file too', () => {
    const stages = parseModePipeline(readFileSync('/usr/share/apertium/modes/spa-eng.mode', 'utf8'));
    expect(stages.map((s) => s.program)).to.deep.equal([
      'lt-proc', 'apertium-tagger', 'apertium-pretransfer', 'lt-proc', 'lrx-proc', 'apertium-transfer', 'apertium-interchunk', 'apertium-postchunk', 'lt-proc', 'lt-proc',
    ]);
  });

  it('refuses what is not a plain pipeline of Apertium tools', () => {
    for (const mode of [
      "lt-proc 'x.bin' ; rm -rf /",
      "lt-proc 'x.bin' && sh",
      'lt-proc $(cat /etc/passwd)',
      'lt-proc `id`',
      "lt-proc 'x.bin' > /tmp/out",
      'lt-proc "x.bin"',
      'lt-proc $HOME/x.bin',
      '/bin/sh -c id',
      'bash x',
      "lt-proc 'x.bin' | python3 -c 'print(1)'",
      'lt-proc x.bin |',
      '| lt-proc x.bin',
      "lt-proc 'x.bin",
      '',
    ]) {
      expect(() => parseModePipeline(mode), mode).to.throw(ModeSyntaxError);
    }
  });

  it('never yields a program outside the allowed tools, whatever the text', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('l', 't', '-', 'p', 'r', 'o', 'c', ' ', '|', "'", '$', '1', '2', ';', '/', 'a', 'e', 'i', 'u', 'm', 's', 'h', '\n', '&', '>'), maxLength: 60 }), (text) => {
        try {
          const stages = parseModePipeline(text);
          for (const s of stages) {
            expect(s.program).to.match(ALLOWED);
            for (const a of s.args) expect(a.includes('\0')).to.equal(false);
          }
        } catch (err) {
          expect(err).to.be.instanceOf(ModeSyntaxError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
