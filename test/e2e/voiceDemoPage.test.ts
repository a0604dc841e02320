import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../helpers/headlessChromium.js';
import { speak, TEST_VOICES } from '../helpers/speechSynthesis.js';
import { startSpeechServer, type SpeechServer } from '../integration/inference-runtime/speech/speechServer.js';

describe('voice assistant demo page in headless Chromium', function () {
  this.timeout(180_000);
  let server: SpeechServer;
  let browser: BrowserContext;
  let dir: string;
  let commandWav: string;

  before(async () => {
    server = await startSpeechServer({ demoPage: true });
    dir = mkdtempSync(path.join(os.tmpdir(), 'mloffload-voice-demo-'));
    commandWav = path.join(dir, 'command.wav');
    writeFileSync(commandWav, await speak('turn on the kitchen lights', TEST_VOICES[3]));
    browser = await launchChromium(path.join(dir, 'profile'), [
      // The microphone plays the spoken command, without a permission prompt.
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
      `--use-file-for-fake-audio-capture=${commandWav}`,
    ]);
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const stages = (page: Page) => page.$$eval('#stages tbody tr', (trs) => Object.fromEntries(trs.map((tr) => [tr.children[0].textContent, tr.children[1].textContent])));
  const settled = (page: Page) =>
    page.waitForFunction(() => !/…/.test(document.getElementById('status')?.textContent ?? ''), undefined, { timeout: 60_000 });

  it('sends a WAV file through the voice chain and shows each stage', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.url}/demo/voice.html`);
    expect(await page.title()).to.equal('mloffload: voice assistant');
    await page.setInputFiles('#file', commandWav);
    await page.waitForSelector('#stages:not([hidden])', { timeout: 60_000 });
    const s = await stages(page);
    expect(s.transcription).to.match(/^"turn on the kitchen lights" \(constrained by corpus/);
    expect(s.intent).to.match(/^lights\.on /);
    expect(s.entities).to.contain('room = kitchen');
    expect(s.answer).to.equal('Turning on the lights in the kitchen.');
    expect(errors).to.deep.equal([]);
  });

  it('records the microphone, encodes WAV in the page and gets an answer', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const sent: (string | undefined)[] = [];
    page.on('request', (r) => {
      if (new URL(r.url()).pathname === '/v1/dialog/voice') sent.push(r.headers()['content-type']);
    });
    await page.goto(`${server.url}/demo/voice.html`);
    const button = page.locator('#record');
    await button.hover();
    await page.mouse.down();
    await page.waitForFunction(() => /Listening/.test(document.getElementById('status')?.textContent ?? ''), undefined, { timeout: 10_000 });
    // Hold for about the command's length: the fake microphone plays it in a loop.
    await page.waitForTimeout(2_000);
    await page.mouse.up();
    await page.waitForSelector('#stages:not([hidden])', { timeout: 60_000 });
    await settled(page);
    expect(sent).to.deep.equal(['audio/wav']);
    const s = await stages(page);
    // The runtime decoded what the page encoded: 16-bit PCM WAV at the audio context's rate.
    expect(s.audio).to.match(/^\d+(\.\d+)? s, \d+ Hz, pcm16$/);
    expect(s.transcription).to.match(/constrained by corpus/);
    expect(s.answer).to.be.a('string').and.not.equal('');
    expect(errors).to.deep.equal([]);
  });
});
