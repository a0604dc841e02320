// The demo page's translation block: lists the pairs this node serves and translates the text in the box.
// Another block that recognises text (a photo of a sign) fills it by dispatching
//   document.dispatchEvent(new CustomEvent('mloffload:text', { detail: { text } }))
// and the text is translated at once.
const $ = (id) => document.getElementById(id);

function headers() {
  const key = $('apiKey')?.value.trim();
  return key ? { 'Content-Type': 'application/json', 'X-API-Key': key } : { 'Content-Type': 'application/json' };
}

function status(text, isError = false) {
  $('translateStatus').textContent = text;
  $('translateStatus').classList.toggle('error', isError);
}

async function loadPairs() {
  try {
    const res = await fetch('/v1/translation/languages', { headers: headers() });
    const body = await res.json();
    if (!res.ok) throw new Error(body.error ?? `HTTP ${res.status}`);
    const select = $('translatePair');
    select.replaceChildren(
      ...body.pairs.map((p) => {
        const option = document.createElement('option');
        option.value = `${p.source}:${p.target}`;
        option.textContent = `${p.source} -> ${p.target}${p.state === 'AVAILABLE' ? '' : ` (${p.state.toLowerCase()})`}`;
        return option;
      }),
    );
    if (!body.pairs.length) status('This node serves no translation pairs.', true);
  } catch (error) {
    status(`Could not list the language pairs: ${error.message}`, true);
  }
}

async function translate() {
  const text = $('translateText').value;
  const [source, target] = ($('translatePair').value || ':').split(':');
  if (!text.trim()) return status('Type or recognise some text first.', true);
  if (!source) return status('No language pair to translate with.', true);
  status('Translating...');
  try {
    const res = await fetch('/v1/translation/translations', { method: 'POST', headers: headers(), body: JSON.stringify({ text, source, target }) });
    const body = await res.json();
    if (!res.ok) throw new Error(body.error ?? `HTTP ${res.status}`);
    $('translateResult').textContent = body.translations[0].text;
    $('translateResult').hidden = false;
    status(`${body.source} -> ${body.target} by ${body.model.name} ${body.model.version} (${body.model.backend}) in ${Math.round(body.timing.total)} ms`);
  } catch (error) {
    status(`Translation failed: ${error.message}`, true);
  }
}

$('translateButton').addEventListener('click', translate);
document.addEventListener('mloffload:text', (event) => {
  $('translateText').value = event.detail?.text ?? '';
  void translate();
});
void loadPairs();
