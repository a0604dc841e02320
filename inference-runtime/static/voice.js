// The voice assistant demo: microphone -> WAV in the page -> POST /v1/dialog/voice; typed text -> /v1/dialog/messages.
const $ = (id) => document.getElementById(id);
const sessionId = `demo-${Math.random().toString(36).slice(2, 10)}`;

function say(text, error = false) {
  $('status').textContent = text;
  $('status').classList.toggle('error', error);
}

/** 16-bit PCM mono WAV of an AudioBuffer (channels averaged): what the runtime accepts. */
function wavOf(audio) {
  const n = audio.length;
  const mono = new Float32Array(n);
  for (let c = 0; c < audio.numberOfChannels; c++) {
    const data = audio.getChannelData(c);
    for (let i = 0; i < n; i++) mono[i] += data[i] / audio.numberOfChannels;
  }
  const out = new DataView(new ArrayBuffer(44 + n * 2));
  const text = (at, s) => [...s].forEach((ch, i) => out.setUint8(at + i, ch.charCodeAt(0)));
  text(0, 'RIFF');
  out.setUint32(4, 36 + n * 2, true);
  text(8, 'WAVEfmt ');
  out.setUint32(16, 16, true);
  out.setUint16(20, 1, true);
  out.setUint16(22, 1, true);
  out.setUint32(24, audio.sampleRate, true);
  out.setUint32(28, audio.sampleRate * 2, true);
  out.setUint16(32, 2, true);
  out.setUint16(34, 16, true);
  text(36, 'data');
  out.setUint32(40, n * 2, true);
  for (let i = 0; i < n; i++) out.setInt16(44 + i * 2, Math.round(Math.max(-1, Math.min(1, mono[i])) * 32767), true);
  return new Blob([out.buffer], { type: 'audio/wav' });
}

function headers(type) {
  const key = $('apiKey').value.trim();
  return { 'Content-Type': type, ...(key ? { Authorization: `Bearer ${key}` } : {}) };
}

function show(rows, models) {
  const body = $('stages').querySelector('tbody');
  body.replaceChildren(
    ...rows.map(([stage, result]) => {
      const tr = document.createElement('tr');
      for (const c of [stage, result]) {
        const td = document.createElement('td');
        td.textContent = c;
        tr.append(td);
      }
      return tr;
    }),
  );
  $('stages').hidden = false;
  $('models').textContent = models;
}

function entitiesText(entities) {
  return entities.length ? entities.map((e) => `${e.entity} = ${e.option} ("${e.text}")`).join(', ') : 'none';
}

async function post(path, body, type) {
  const res = await fetch(path, { method: 'POST', headers: headers(type), body });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(`${res.status}: ${json.error ?? res.statusText}`);
  return json;
}

async function sendVoice(wav) {
  say('Recognising…');
  try {
    const b = await post(`/v1/dialog/voice?sessionId=${sessionId}`, wav, 'audio/wav');
    const t = b.transcription;
    show(
      [
        ['audio', `${t.audio.durationSeconds} s, ${t.audio.sampleRate} Hz, ${t.audio.encoding}`],
        ['transcription', `"${t.text}" (constrained by ${t.constraint}; confidence ${t.confidence})`],
        ['words', t.words.map((w) => `${w.word} ${w.start}-${w.end}s`).join(', ') || 'none'],
        ['intent', `${b.intent.name} (${b.intent.score})`],
        ['entities', entitiesText(b.entities)],
        ['answer', b.answer],
        ['timing', Object.entries(b.timing).map(([k, v]) => `${k} ${v} ms`).join(', ')],
      ],
      b.models.map((m) => `${m.name} v${m.version} (${m.backend})`).join(', '),
    );
    say(b.answer || 'No answer.');
    if (b.answer && 'speechSynthesis' in window) speechSynthesis.speak(new SpeechSynthesisUtterance(b.answer));
  } catch (error) {
    say(`The node answered ${error.message}`, true);
  }
}

async function sendText(text) {
  say('Understanding…');
  try {
    const b = await post('/v1/dialog/messages', JSON.stringify({ text, sessionId }), 'application/json');
    show(
      [
        ['text', b.text],
        ['intent', `${b.intent.name} (${b.intent.score})`],
        ['entities', entitiesText(b.entities)],
        ['answer', b.answer],
        ['session', `${b.session.id}, turn ${b.session.turn}${b.session.previousIntent ? `, after ${b.session.previousIntent}` : ''}`],
      ],
      `${b.model.name} v${b.model.version} (${b.model.backend})`,
    );
    say(b.answer);
  } catch (error) {
    say(`The node answered ${error.message}`, true);
  }
}

let recorder = null;
let chunks = [];
async function startRecording() {
  if (recorder) return;
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    recorder = new MediaRecorder(stream);
    chunks = [];
    recorder.ondataavailable = (e) => chunks.push(e.data);
    recorder.onstop = async () => {
      stream.getTracks().forEach((t) => t.stop());
      recorder = null;
      // MediaRecorder writes a compressed container (webm/ogg); the page decodes it and sends PCM WAV.
      const ctx = new AudioContext();
      try {
        const audio = await ctx.decodeAudioData(await new Blob(chunks).arrayBuffer());
        await sendVoice(wavOf(audio));
      } catch (error) {
        say(`Could not read the recording: ${error.message}`, true);
      } finally {
        void ctx.close();
      }
    };
    recorder.start();
    say('Listening… release to send.');
  } catch (error) {
    say(`No microphone: ${error.message}`, true);
  }
}

function stopRecording() {
  if (recorder?.state === 'recording') recorder.stop();
}

$('record').addEventListener('pointerdown', startRecording);
$('record').addEventListener('pointerup', stopRecording);
$('record').addEventListener('pointerleave', stopRecording);
$('file').addEventListener('change', () => {
  const file = $('file').files?.[0];
  if (file) void sendVoice(file);
});
$('typed').addEventListener('submit', (e) => {
  e.preventDefault();
  const text = $('text').value.trim();
  if (text) void sendText(text);
});
