import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { launchChromium } from '../helpers/headlessChromium.js';
import { buildSdk } from '../helpers/sdkBuild.js';
import { samplePath, visibleFaces } from '../integration/inference-runtime/vision/samples.js';
import { startVisionServer, type VisionServer } from '../integration/inference-runtime/vision/visionServer.js';

const screenshotDir = path.resolve('test-output');

describe('demo page in headless Chromium', function () {
  this.timeout(180_000);
  let server: VisionServer;
  let browser: BrowserContext;
  let profile: string;

  before(async () => {
    // The page imports the client SDK's built modules; the server reads them at start.
    await buildSdk();
    server = await startVisionServer();
    profile = mkdtempSync(path.join(os.tmpdir(), 'mloffload-demo-'));
    browser = await launchChromium(profile, [
      '--disable-quic',
      // A synthetic camera (a moving test pattern) that needs no permission prompt.
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
    ]);
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('uploads a photo through the public API and draws boxes labelled with expression and confidence', async () => {
    const page = await browser.newPage();
    await page.setViewportSize({ width: 1100, height: 1000 });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const apiCalls: string[] = [];
    const sdkCalls: string[] = [];
    page.on('request', (r) => {
      const { pathname } = new URL(r.url());
      if (pathname.startsWith('/v1/vision/')) apiCalls.push(`${r.method()} ${pathname}`);
      if (pathname.startsWith('/demo/sdk/') || pathname === '/v1/discovery') sdkCalls.push(`${r.method()} ${pathname}`);
    });

    await page.goto(`${server.url}/demo`);
    expect(await page.title()).to.equal('mloffload: facial expressions');
    await page.setInputFiles('#file', samplePath(6));
    await page.waitForFunction(() => /face/.test(document.getElementById('status')?.textContent ?? '') && !/Analysing/.test(document.getElementById('status')?.textContent ?? ''), undefined, { timeout: 60_000 });

    const status = await page.textContent('#status');
    expect(status).to.match(new RegExp(`^${visibleFaces[6]} faces: `));
    expect(status).to.contain('happy');
    expect(apiCalls).to.deep.equal(['POST /v1/vision/facial-expressions']);
    // Through the client SDK, served by the node itself: it probed the node before the call.
    expect(sdkCalls).to.include.members(['GET /demo/sdk/index.js', 'GET /demo/sdk/client.js', 'GET /v1/discovery']);
    const rows = await page.$$eval('#faces tbody tr', (trs) => trs.map((tr) => Array.from(tr.children, (td) => td.textContent)));
    expect(rows).to.have.length(visibleFaces[6]);
    for (const row of rows) expect(row[1]).to.be.oneOf(['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral']);

    // The drawing itself: the canvas holds the photo at full size, and a box outline in the label colour
    // of each face's expression runs along the top edge of its box.
    const drawn = await page.evaluate(() => {
      const canvas = document.getElementById('canvas') as HTMLCanvasElement;
      const ctx = canvas.getContext('2d')!;
      const cells = Array.from(document.querySelectorAll('#faces tbody tr'), (tr) => {
        const [x, y, w] = (tr.children[5].textContent ?? '').split(',').map(Number);
        const px = ctx.getImageData(Math.round(x + w / 2), Math.round(y), 1, 1).data;
        return { label: tr.children[1].textContent, rgb: [px[0], px[1], px[2]] };
      });
      return { width: canvas.width, height: canvas.height, cells };
    });
    expect([drawn.width, drawn.height]).to.deep.equal([1920, 1537]);
    const happyGreen = [0x12, 0xb7, 0x6a];
    const happy = drawn.cells.filter((c) => c.label === 'happy');
    expect(happy.length).to.be.at.least(1);
    for (const c of happy) c.rgb.forEach((v, i) => expect(Math.abs(v - happyGreen[i])).to.be.below(30));

    mkdirSync(screenshotDir, { recursive: true });
    await page.screenshot({ path: path.join(screenshotDir, 'demo-sample6.png'), fullPage: true });
    expect(errors).to.deep.equal([]);
  });

  it('shows the API error of a file that is not an image', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/demo/`);
    await page.setInputFiles('#file', { name: 'notes.jpg', mimeType: 'image/jpeg', buffer: Buffer.from('not a photo') });
    await page.waitForSelector('#status.error');
    expect(await page.textContent('#status')).to.match(/Could not analyse this file|answered 400/);
  });

  it('takes a picture with the camera and sends it to the API', async () => {
    const page = await browser.newPage();
    const posted: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/v1/vision/')) posted.push(`${r.method()} ${new URL(r.url()).pathname} ${r.headers()['content-type']}`);
    });
    await page.goto(`${server.url}/demo`);
    await page.click('#camera');
    await page.waitForSelector('#snap:not([hidden])');
    await page.click('#snap');
    // The synthetic camera shows no face: the API answers 200 with an empty list and the page says so.
    await page.waitForFunction(() => document.getElementById('status')?.textContent === 'No face found.', undefined, { timeout: 60_000 });
    expect(posted).to.deep.equal(['POST /v1/vision/facial-expressions image/jpeg']);
    const size = await page.evaluate(() => {
      const c = document.getElementById('canvas') as HTMLCanvasElement;
      return [c.width, c.height];
    });
    expect(size[0]).to.be.greaterThan(0);
    expect(size[1]).to.be.greaterThan(0);
  });
});
