// "Text in an image": a plain client of POST /v1/vision/text. It draws each line's polygon over the image and
// lists the lines. When text is read, the page gets a `mloffload:text` event ({ detail: { text } }) on `document`,
// so another part of the page (translation) can take the text further.
const $ = (id) => document.getElementById(id);
const canvas = $('ocrCanvas');
const ctx = canvas.getContext('2d');

function say(text, isError = false) {
  $('ocrStatus').textContent = text;
  $('ocrStatus').classList.toggle('error', isError);
}

function drawLines(lines) {
  const width = Math.max(2, Math.round(canvas.width / 400));
  ctx.lineWidth = width;
  ctx.strokeStyle = '#12b76a';
  ctx.fillStyle = '#12b76a';
  ctx.font = `600 ${Math.max(12, Math.round(canvas.width / 60))}px system-ui, sans-serif`;
  ctx.textBaseline = 'bottom';
  lines.forEach((line, i) => {
    ctx.beginPath();
    line.polygon.forEach(([x, y], k) => (k === 0 ? ctx.moveTo(x, y) : ctx.lineTo(x, y)));
    ctx.closePath();
    ctx.stroke();
    const [x, y] = line.polygon[0];
    ctx.fillText(String(i + 1), x, Math.max(14, y - 2));
  });
}

function listLines(lines) {
  $('ocrLines').replaceChildren(
    ...lines.map((line) => {
      const item = document.createElement('li');
      item.textContent = `${line.text} (${Math.round(line.confidence * 100)}%)`;
      return item;
    }),
  );
  $('ocrLines').hidden = lines.length === 0;
}

async function read(file) {
  say('Reading…');
  const headers = { 'Content-Type': file.type || 'application/octet-stream' };
  const key = $('apiKey')?.value.trim();
  if (key) headers.Authorization = `Bearer ${key}`;
  let response;
  let body;
  try {
    response = await fetch('/v1/vision/text', { method: 'POST', body: file, headers });
    body = await response.json();
  } catch (error) {
    say(`No answer: ${error.message}`, true);
    return;
  }
  if (!response.ok) {
    say(`The node answered ${response.status}: ${body.error ?? ''}`, true);
    return;
  }
  drawLines(body.lines);
  listLines(body.lines);
  $('ocrText').textContent = body.text;
  $('ocrText').hidden = body.text === '';
  const n = body.lines.length;
  say(n === 0 ? 'No text found.' : `${n} line${n === 1 ? '' : 's'} read.`);
  const models = body.models.map((m) => `${m.name} v${m.version} (${m.backend})`).join(', ');
  const timing = Object.entries(body.timing).map(([k, v]) => `${k} ${v} ms`).join(', ');
  $('ocrModels').textContent = `Models: ${models}. Timing: ${timing}.`;
  if (body.text) document.dispatchEvent(new CustomEvent('mloffload:text', { detail: { text: body.text } }));
}

$('ocrFile').addEventListener('change', async (event) => {
  const file = event.target.files?.[0];
  if (!file) return;
  try {
    // createImageBitmap applies the EXIF orientation, as the server does, so polygons line up.
    const bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
    canvas.width = bitmap.width;
    canvas.height = bitmap.height;
    ctx.drawImage(bitmap, 0, 0);
    await read(file);
  } catch (error) {
    say(`Could not read this file: ${error.message}`, true);
  }
});
