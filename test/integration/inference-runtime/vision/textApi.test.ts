import { expect } from 'chai';
import fc from 'fast-check';
import sharp from 'sharp';
import { intersectionOverUnion } from '../../../../inference-runtime/vision/geometry.js';
import type { TextResponse } from '../../../../inference-runtime/tasks/vision/textRouter.js';
import { eventually } from '../../../helpers/eventually.js';
import { debianFonts, inkBox, renderText, type Canvas, type TextLineSpec } from '../../../helpers/textImages.js';
import { startTextServer, type TextServer } from './textServer.js';

/** Edit distance (insertions, deletions, substitutions), for character accuracy. */
function levenshtein(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

const sentences = [
  'Invoice No. 4711',
  'Opening hours: Mon-Fri 9:00 to 18:30',
  'Please keep this door closed',
  'Total amount due 1,249.50 EUR',
  'Platform 7 for trains to Berlin',
  'Quality control passed on 2026-11-30',
  'Call us at +49 30 1234 5678',
  'Welcome to the edge computing lab',
];
const sizes = [18, 24, 32, 40, 28];
const rotations = [0, 2, -3, 0, 4];

/** One 1280x720 page per font: five lines of different sizes, three of them turned by a few degrees. */
function page(fontIndex: number): { canvas: Canvas; lines: TextLineSpec[] } {
  const font = debianFonts[fontIndex];
  const lines = sizes.map((size, i) => ({
    text: sentences[(fontIndex + i) % sentences.length],
    x: 60 + ((fontIndex * 37 + i * 53) % 200),
    y: 110 + i * 125,
    font,
    size,
    rotate: rotations[i],
  }));
  return { canvas: { width: 1280, height: 720 }, lines };
}

describe('POST /v1/vision/text (PP-OCRv4 on the runtime\'s onnxruntime)', function () {
  this.timeout(600_000);
  let server: TextServer;

  const ask = async (body: BodyInit, contentType: string, query = ''): Promise<{ status: number; json: TextResponse & { error?: string } }> => {
    const response = await fetch(`${server.url}/v1/vision/text${query}`, { method: 'POST', body, headers: { 'Content-Type': contentType } });
    return { status: response.status, json: (await response.json()) as TextResponse & { error?: string } };
  };

  before(async () => {
    server = await startTextServer({ maxBodyBytes: 2 * 1024 * 1024 });
  });
  after(async () => {
    await server?.close();
  });

  it('reads "Invoice No. 4711" exactly, from a raw PNG, multipart and JSON base64', async () => {
    const canvas = { width: 640, height: 160 };
    const line = { text: 'Invoice No. 4711', x: 40, y: 90, font: 'DejaVu Serif', size: 28 };
    const png = await renderText(canvas, [line]);
    const form = new FormData();
    form.append('image', new Blob([new Uint8Array(png)], { type: 'image/png' }), 'invoice.png');
    // fetch writes the multipart Content-Type (with its boundary) itself.
    const multipart = await fetch(`${server.url}/v1/vision/text`, { method: 'POST', body: form });
    const answers = [
      await ask(new Uint8Array(png), 'image/png'),
      { status: multipart.status, json: (await multipart.json()) as TextResponse & { error?: string } },
      await ask(JSON.stringify({ image: { b64: png.toString('base64') } }), 'application/json'),
    ];
    for (const [i, a] of answers.entries()) {
      expect(a.status, `form ${i}: ${a.json.error}`).to.equal(200);
      expect(a.json.lines.map((l) => l.text), `form ${i}`).to.deep.equal(['Invoice No. 4711']);
      expect(a.json.text).to.equal('Invoice No. 4711');
    }
    const [only] = answers[0].json.lines;
    expect(only.confidence).to.be.within(0.8, 1);
    expect(only.polygon).to.have.length(4);
    expect(intersectionOverUnion(only.box, await inkBox(canvas, line))).to.be.at.least(0.5);
    expect(answers[0].json.image).to.deep.equal({ width: 640, height: 160 });
    expect(answers[0].json.models.map((m) => m.task)).to.deep.equal(['vision/text-detection', 'vision/text-orientation', 'vision/text-recognition']);
    expect(answers[0].json.timing).to.include.keys('decode', 'detect', 'classify', 'recognize', 'inference', 'total');
  });

  it(`reads "Invoice No. 4711" exactly in each of the ${debianFonts.length} Debian fonts at 28 px`, async () => {
    const canvas = { width: 640, height: 160 };
    for (const font of debianFonts) {
      const png = await renderText(canvas, [{ text: 'Invoice No. 4711', x: 40, y: 90, font, size: 28 }]);
      const { status, json } = await ask(new Uint8Array(png), 'image/png');
      expect(status, json.error).to.equal(200);
      expect(json.text, font).to.equal('Invoice No. 4711');
    }
  });

  it(`reads clean lines in ${debianFonts.length} Debian fonts at 18-40 px, some turned by 2-4 degrees, with >= 95% character accuracy and boxes on the lines`, async () => {
    let edits = 0;
    let chars = 0;
    const ious: number[] = [];
    const misses: string[] = [];
    for (let f = 0; f < debianFonts.length; f++) {
      const { canvas, lines } = page(f);
      const { status, json } = await ask(new Uint8Array(await renderText(canvas, lines)), 'image/png');
      expect(status, json.error).to.equal(200);
      for (const line of lines) {
        const ink = await inkBox(canvas, line);
        const best = json.lines.map((l) => ({ l, iou: intersectionOverUnion(l.box, ink) })).sort((a, b) => b.iou - a.iou)[0];
        const read = best && best.iou > 0.3 ? best.l.text : '';
        ious.push(best?.iou ?? 0);
        const d = levenshtein(read, line.text);
        if (d > 0) misses.push(`${line.font} ${line.size}px ${line.rotate}deg: ${JSON.stringify(read)} for ${JSON.stringify(line.text)}`);
        edits += d;
        chars += line.text.length;
      }
      // One line read per line rendered: none split, none merged, no noise read as text.
      expect(json.lines.length, `read: ${JSON.stringify(json.lines.map((l) => l.text))}`).to.equal(lines.length);
    }
    const accuracy = 1 - edits / chars;
    expect(accuracy, `character accuracy ${accuracy.toFixed(4)}; misread:\n${misses.join('\n')}`).to.be.at.least(0.95);
    expect(Math.min(...ious), `box IoU with the rendered ink: ${ious.map((v) => v.toFixed(2)).join(' ')}`).to.be.at.least(0.5);
  });

  it('returns lines in reading order: rows top to bottom, left to right within a row', async () => {
    const canvas = { width: 1000, height: 300 };
    const lines = [
      { text: 'Second line here', x: 60, y: 200, font: 'Liberation Sans', size: 30 },
      { text: 'Right column', x: 620, y: 80, font: 'Liberation Sans', size: 30 },
      { text: 'Left column', x: 60, y: 82, font: 'Liberation Sans', size: 30 },
    ];
    const { status, json } = await ask(new Uint8Array(await renderText(canvas, lines)), 'image/png');
    expect(status).to.equal(200);
    expect(json.lines.map((l) => l.text)).to.deep.equal(['Left column', 'Right column', 'Second line here']);
    expect(json.text).to.equal('Left column\nRight column\nSecond line here');
  });

  it('reads a sign photographed on a textured background (JPEG), in the pixels of the photo as sent', async () => {
    // A painted board: wood-like stripes, a border, noise, bold white lettering, then JPEG compression.
    const canvas: Canvas = {
      width: 1600,
      height: 900,
      background:
        '<defs><pattern id="wood" width="40" height="900" patternUnits="userSpaceOnUse">' +
        '<rect width="40" height="900" fill="#5a3a22"/><rect x="3" width="6" height="900" fill="#6b4529"/><rect x="21" width="3" height="900" fill="#4a2f1b"/></pattern>' +
        '<filter id="grain"><feTurbulence type="fractalNoise" baseFrequency="0.9" numOctaves="2" seed="3"/><feColorMatrix type="saturate" values="0"/>' +
        '<feComponentTransfer><feFuncA type="linear" slope="0.35"/></feComponentTransfer></filter></defs>' +
        '<rect width="100%" height="100%" fill="#7d8b6a"/><rect x="180" y="150" width="1240" height="600" rx="30" fill="url(#wood)" stroke="#2b1a0e" stroke-width="14"/>' +
        '<rect width="100%" height="100%" filter="url(#grain)"/>',
    };
    const lines = [
      { text: 'CITY MUSEUM', x: 330, y: 380, font: 'DejaVu Sans', size: 110, weight: 'bold' as const, colour: '#f4f1e8', rotate: -2 },
      { text: 'Open daily 10 to 17', x: 360, y: 560, font: 'DejaVu Sans', size: 70, colour: '#f4f1e8', rotate: -2 },
    ];
    const jpeg = await renderText(canvas, lines, 'jpeg');
    const { status, json } = await ask(new Uint8Array(jpeg), 'image/jpeg');
    expect(status, json.error).to.equal(200);
    expect(json.lines.map((l) => l.text)).to.deep.equal(['CITY MUSEUM', 'Open daily 10 to 17']);
    expect(json.image).to.deep.equal({ width: 1600, height: 900 });
    for (const [i, line] of lines.entries()) expect(intersectionOverUnion(json.lines[i].box, await inkBox(canvas, line)), line.text).to.be.at.least(0.5);
  });

  it('turns upside-down lines with the orientation classifier (and misreads them with it switched off)', async () => {
    for (const [font, size] of [
      ['DejaVu Serif', 32],
      ['Liberation Sans', 30],
    ] as const) {
      // Rotated by 180 degrees about (480, 90): the line reads right to left, upside down.
      const png = new Uint8Array(await renderText({ width: 640, height: 200 }, [{ text: 'Keep this side up', x: 480, y: 90, font, size, rotate: 180 }]));
      const turned = await ask(png, 'image/png');
      expect(turned.status).to.equal(200);
      expect(turned.json.text, font).to.equal('Keep this side up');
      const unturned = await ask(png, 'image/png', '?orientation=false');
      expect(unturned.json.models.map((m) => m.name)).to.deep.equal(['text-detector', 'text-recognizer']);
      expect(unturned.json.text, font).to.not.equal('Keep this side up');
    }
  });

  it('answers 200 with no lines for an image without text', async () => {
    const blank = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#d8e0e8' } }).png().toBuffer();
    const { status, json } = await ask(new Uint8Array(blank), 'image/png');
    expect(status).to.equal(200);
    expect(json.lines).to.deep.equal([]);
    expect(json.text).to.equal('');
  });

  it('refuses bad images and options with a 4xx naming the problem', async () => {
    const png = await renderText({ width: 200, height: 60 }, [{ text: 'Hi', x: 10, y: 40, font: 'DejaVu Sans', size: 24 }]);
    const cases: [BodyInit, string, string, number, RegExp][] = [
      [new Uint8Array(0), 'image/png', '', 400, /no image/],
      [new Uint8Array(Buffer.from('not an image at all')), 'image/png', '', 400, /not a decodable image/],
      [new Uint8Array(png.subarray(0, png.length / 2)), 'image/png', '', 400, /corrupt or truncated|not a decodable/],
      [new Uint8Array(png), 'text/plain', '', 415, /not an image/],
      ['{"image": {"b64": 12}}', 'application/json', '', 400, /b64/],
      [new Uint8Array(png), 'image/png', '?minConfidence=2', 400, /minConfidence/],
      [new Uint8Array(png), 'image/png', '?orientation=maybe', 400, /orientation/],
      [new Uint8Array(3 * 1024 * 1024), 'image/png', '', 413, /./],
    ];
    for (const [body, type, query, want, message] of cases) {
      const { status, json } = await ask(body, type, query);
      expect(status, `${type} ${query}: ${json.error}`).to.equal(want);
      expect(json.error).to.match(message);
    }
  });

  it('gives concurrent requests their own answers, and leaves no engine tensor behind', async () => {
    const tensors = async (): Promise<number> =>
      (await server.registry.engineStats()).reduce((sum, s) => sum + Object.values(s.memory).reduce((n, m) => n + m.numTensors, 0), 0);
    const before = await tensors();
    const words = ['North Gate', 'Room 204', 'Exit only', 'Parking level 3', 'Lift out of order', 'Staff entrance'];
    const answers = await Promise.all(
      words.map(async (text, i) => {
        const png = await renderText({ width: 560, height: 140 }, [{ text, x: 30, y: 85, font: debianFonts[i % debianFonts.length], size: 30 }]);
        return ask(new Uint8Array(png), 'image/png');
      }),
    );
    expect(answers.map((a) => a.status)).to.deep.equal(words.map(() => 200));
    expect(answers.map((a) => a.json.text)).to.deep.equal(words);
    expect(await tensors()).to.equal(before);
  });

  it('answers arbitrary bytes with a 4xx, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 0, maxLength: 2048 }), fc.constantFrom('image/png', 'image/jpeg', 'image/webp'), async (bytes, type) => {
        const { status } = await ask(bytes, type);
        expect(status).to.be.within(400, 499);
      }),
      { numRuns: 40 },
    );
  });
});

describe('POST /v1/vision/text under a short request timeout', function () {
  this.timeout(300_000);
  let server: TextServer;
  before(async () => {
    server = await startTextServer({ requestTimeoutMs: 150 });
  });
  after(async () => {
    await server?.close();
  });

  it('answers 504 when the pipeline cannot finish in time, and serves the next request', async () => {
    const { canvas, lines } = page(0);
    const png = new Uint8Array(await renderText(canvas, lines));
    const response = await fetch(`${server.url}/v1/vision/text`, { method: 'POST', body: png, headers: { 'Content-Type': 'image/png' } });
    const body = (await response.json()) as { error?: string };
    expect(response.status).to.equal(504);
    expect(body.error).to.match(/did not complete within the request timeout/);
    // The worker is not left stuck: a small request gets its 200 once the abandoned one has drained.
    const blank = new Uint8Array(await sharp({ create: { width: 64, height: 64, channels: 3, background: '#fff' } }).png().toBuffer());
    await eventually(
      async () => {
        const next = await fetch(`${server.url}/v1/vision/text`, { method: 'POST', body: blank, headers: { 'Content-Type': 'image/png' } });
        expect(next.status).to.equal(200);
        expect(((await next.json()) as TextResponse).lines).to.deep.equal([]);
      },
      { timeout: 60_000, interval: 200 },
    );
  });
});
