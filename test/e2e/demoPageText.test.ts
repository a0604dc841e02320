import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { ocrModels } from '../../inference-runtime/config/defaultPool.js';
import { textRecognitionTask } from '../../inference-runtime/tasks/vision/textRecognition.js';
import { defaultVisionLimits } from '../../inference-runtime/vision/limits.js';
import { visionRouter } from '../../inference-runtime/tasks/vision/visionRouter.js';
import { launchChromium } from '../helpers/headlessChromium.js';
import { startPoolServer, type PoolServer } from '../helpers/poolServer.js';
import { renderText } from '../helpers/textImages.js';

describe('demo page, "Text in an image", in headless Chromium', function () {
  this.timeout(180_000);
  let server: PoolServer;
  let browser: BrowserContext;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'mloffload-demo-text-'));
    server = await startPoolServer({
      name: 'demo-text',
      pool: { models: ocrModels() },
      // The vision router serves the page; the text task's routes answer it.
      app: (registry) => ({ routers: [visionRouter({ registry }), textRecognitionTask.routes!({ registry, limits: defaultVisionLimits })] }),
    });
    browser = await launchChromium(path.join(dir, 'profile'));
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('sends a picked image to POST /v1/vision/text, outlines the lines, lists them and hands the text on', async () => {
    const file = path.join(dir, 'sign.png');
    writeFileSync(
      file,
      await renderText({ width: 800, height: 260 }, [
        { text: 'Invoice No. 4711', x: 40, y: 90, font: 'DejaVu Serif', size: 32 },
        { text: 'Please pay within 30 days', x: 40, y: 190, font: 'Liberation Sans', size: 30 },
      ]),
    );
    const page = await browser.newPage();
    const posted: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/v1/vision/')) posted.push(`${r.method()} ${new URL(r.url()).pathname}`);
    });
    await page.goto(`${server.url}/demo`);
    await page.evaluate(() => {
      document.addEventListener('mloffload:text', (e) => ((window as unknown as { handedOn: string }).handedOn = (e as CustomEvent<{ text: string }>).detail.text));
    });
    await page.setInputFiles('#ocrFile', file);
    await page.waitForFunction(() => /read\.$|No text|answered/.test(document.getElementById('ocrStatus')?.textContent ?? ''), undefined, { timeout: 90_000 });
    expect(await page.textContent('#ocrStatus')).to.equal('2 lines read.');
    expect(posted).to.deep.equal(['POST /v1/vision/text']);
    const items = await page.$$eval('#ocrLines li', (lis) => lis.map((li) => li.textContent));
    expect(items.map((t) => t?.replace(/ \(\d+%\)$/, ''))).to.deep.equal(['Invoice No. 4711', 'Please pay within 30 days']);
    expect(await page.textContent('#ocrText')).to.equal('Invoice No. 4711\nPlease pay within 30 days');
    expect(await page.evaluate(() => (window as unknown as { handedOn?: string }).handedOn)).to.equal('Invoice No. 4711\nPlease pay within 30 days');
    // The canvas holds the image at its own size (polygons are in image pixels), with green outlines drawn on it.
    const drawn = await page.evaluate(() => {
      const canvas = document.getElementById('ocrCanvas') as HTMLCanvasElement;
      const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
      let green = 0;
      for (let i = 0; i < data.length; i += 4) if (data[i + 1] > 150 && data[i] < 60 && data[i + 2] < 140) green++;
      return { size: [canvas.width, canvas.height], green };
    });
    expect(drawn.size).to.deep.equal([800, 260]);
    expect(drawn.green).to.be.greaterThan(500);
  });

  it('shows the API error of a file that is not an image', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/demo`);
    await page.setInputFiles('#ocrFile', { name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('not an image') });
    await page.waitForSelector('#ocrStatus.error');
    expect(await page.textContent('#ocrStatus')).to.match(/Could not read this file|answered 400/);
  });
});
