// The demo page is a plain client of the public API, through the client SDK like any browser app: it sends
// the image to this node (the SDK's discovery, failover and hedging apply) and draws the JSON it gets back.
import { ApiError, MLOffloadClient } from '/demo/sdk/index.js';

const $ = (id) => document.getElementById(id);
const canvas = $('canvas');
const ctx = canvas.getContext('2d');
const video = $('video');
const status = $('status');

const colours = { angry: '#d92d20', disgust: '#7a5af8', fear: '#f79009', happy: '#12b76a', sad: '#2e90fa', surprise: '#ee46bc', neutral: '#98a2b3' };

function say(text, isError = false) {
  status.textContent = text;
  status.classList.toggle('error', isError);
}

/** Draws the image at its own size; the canvas is scaled down by CSS, so boxes stay in image pixels. */
function drawImage(source, width, height) {
  canvas.width = width;
  canvas.height = height;
  ctx.drawImage(source, 0, 0, width, height);
}

function drawFaces(faces) {
  const line = Math.max(2, Math.round(canvas.width / 300));
  const font = Math.max(14, Math.round(canvas.width / 45));
  ctx.font = `600 ${font}px system-ui, sans-serif`;
  ctx.textBaseline = 'bottom';
  for (const face of faces) {
    const { x, y, width, height } = face.box;
    const colour = colours[face.expression.label] ?? '#fff';
    ctx.lineWidth = line;
    ctx.strokeStyle = colour;
    ctx.strokeRect(x, y, width, height);
    const text = `${face.expression.label} ${Math.round(face.expression.confidence * 100)}%`;
    const w = ctx.measureText(text).width + 10;
    const top = y - font - 8 >= 0 ? y - font - 8 : y + height;
    ctx.fillStyle = colour;
    ctx.fillRect(x - line / 2, top, w, font + 8);
    ctx.fillStyle = '#fff';
    ctx.fillText(text, x + 5, top + font + 4);
  }
}

function showTable(faces) {
  const body = $('faces').querySelector('tbody');
  body.replaceChildren(
    ...faces.map((f, i) => {
      const row = document.createElement('tr');
      const b = f.box;
      const cells = [i + 1, f.expression.label, f.expression.code, f.expression.confidence.toFixed(3), f.score === null ? '-' : f.score.toFixed(3), `${b.x}, ${b.y}, ${b.width}, ${b.height}`];
      for (const c of cells) {
        const td = document.createElement('td');
        td.textContent = String(c);
        row.append(td);
      }
      return row;
    }),
  );
  $('faces').hidden = faces.length === 0;
}

let client = null;
let clientKey = null;
/** One client per API key: it keeps what it learnt about the node (RTT, latency) between pictures. */
function clientFor(key) {
  if (!client || clientKey !== key) {
    client?.close();
    client = new MLOffloadClient({ endpoints: [location.origin], apiKey: key || undefined });
    clientKey = key;
  }
  return client;
}

async function analyse(blob) {
  say('Analysing…');
  const sdk = clientFor($('apiKey').value.trim());
  let body;
  try {
    body = await sdk.vision.facialExpressions(blob, { minScore: Number($('minScore').value) });
  } catch (error) {
    say(error instanceof ApiError ? `The node answered ${error.message}` : `No answer: ${error.message}`, true);
    return;
  }
  drawFaces(body.faces);
  showTable(body.faces);
  const n = body.faces.length;
  say(n === 0 ? 'No face found.' : `${n} face${n === 1 ? '' : 's'}: ${body.faces.map((f) => f.expression.label).join(', ')}.`);
  const models = body.models.map((m) => `${m.name} v${m.version} (${m.backend})`).join(', ');
  const timing = Object.entries(body.timing).map(([k, v]) => `${k} ${v} ms`).join(', ');
  const node = sdk.endpoints()[0]?.node;
  $('models').textContent = `Models: ${models}. Timing: ${timing}.${node ? ` Node: ${node}.` : ''}`;
}

$('file').addEventListener('change', async (event) => {
  const file = event.target.files?.[0];
  if (!file) return;
  stopCamera();
  try {
    // createImageBitmap applies the EXIF orientation, as the server does, so boxes line up.
    const bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
    drawImage(bitmap, bitmap.width, bitmap.height);
    await analyse(file);
  } catch (error) {
    say(`Could not analyse this file: ${error.message}`, true);
  }
});

let stream = null;
function stopCamera() {
  stream?.getTracks().forEach((t) => t.stop());
  stream = null;
  video.hidden = true;
  $('snap').hidden = true;
  canvas.hidden = false;
}

$('camera').addEventListener('click', async () => {
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'user' }, audio: false });
  } catch (error) {
    say(`No camera: ${error.message}`, true);
    return;
  }
  video.srcObject = stream;
  await video.play();
  video.hidden = false;
  canvas.hidden = true;
  $('snap').hidden = false;
  say('Camera on: take the picture when ready.');
});

$('snap').addEventListener('click', async () => {
  drawImage(video, video.videoWidth, video.videoHeight);
  stopCamera();
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', 0.92));
  await analyse(blob);
});
