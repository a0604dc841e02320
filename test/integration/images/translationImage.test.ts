// The inference-runtime image serving the built-in Apertium pairs as MLModels, run with podman the way the
// kubelet runs the Deployment the operator writes for them (uid, read-only root, dropped capabilities): the
// engine and the pair's data are in the image, and its answers equal `apertium` on this machine (the same
// Debian packages).
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { PoolModel } from '../../../inference-runtime/config/types.js';
import { TRANSLATION_ENG_SPA, TRANSLATION_SPA_ENG } from '../../../inference-runtime/config/defaultPool.js';
import type { MLModel, MLService } from '../../../operator/api/types.js';
import { configMapFor } from '../../../operator/builders/configMap.js';
import { deploymentFor } from '../../../operator/builders/deployment.js';
import { validateModelSpec } from '../../../operator/reconcile/modelValidation.js';
import { type RunningImage, type TestImage, imageBuildTimeout, imageOrSkip, scratchDir } from '../../helpers/containerImages.js';
import { eventuallyReady, runDeploymentPod } from '../../helpers/deploymentPod.js';

const NAMESPACE = 'translation-image-test';

function mlModel(entry: PoolModel): MLModel {
  const { name, ...spec } = entry;
  return { apiVersion: 'mloffload.io/v1alpha1', kind: 'MLModel', metadata: { name, namespace: NAMESPACE, uid: `uid-${name}` }, spec } as MLModel;
}

/** `apertium <pair> <file>` on this machine. */
function apertiumCli(pair: string, text: string): Promise<string> {
  const input = join(tmpdir(), `translation-image-${process.pid}-${pair}.txt`);
  writeFileSync(input, text);
  return new Promise<string>((resolve, reject) => {
    const child = spawn('apertium', [pair, input], { stdio: ['ignore', 'pipe', 'inherit'] });
    const out: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.on('error', reject);
    child.on('close', () => resolve(Buffer.concat(out).toString('utf8')));
  }).finally(() => rmSync(input, { force: true }));
}

describe('inference-runtime image: Apertium translation (podman)', function () {
  this.timeout(300_000);
  let image: TestImage;
  let container: RunningImage | undefined;
  let base: string;
  const work = scratchDir('mloffload-translation-image-');
  const models = [mlModel(TRANSLATION_ENG_SPA), mlModel(TRANSLATION_SPA_ENG)];

  before(async function () {
    this.timeout(imageBuildTimeout);
    image = await imageOrSkip(this, 'inference-runtime');
    const svc: MLService = {
      apiVersion: 'mloffload.io/v1alpha1',
      kind: 'MLService',
      metadata: { name: 'translation', namespace: NAMESPACE, uid: 'uid-translation' },
      spec: { models: models.map((m) => ({ name: m.metadata.name })), replicas: 1, port: 8080, resources: { limits: { cpu: '1', memory: '512Mi' } } },
    } as MLService;
    const pod = await runDeploymentPod({
      image,
      deployment: deploymentFor(svc, models, { image: image.manifest.ref }),
      configMap: configMapFor(svc, models),
      podName: 'translation-0',
      containerName: `mloffload-translation-test-${process.pid}`,
      root: join(work.dir, 'pod'),
    });
    container = pod.running;
    base = pod.url;
    await eventuallyReady(base, { timeout: 180_000, message: 'the container became ready' });
  });

  after(async function () {
    this.timeout(60_000);
    await container?.stop();
    work.remove();
  });

  it('accepts the pairs as MLModels (a .mode entry file)', () => {
    for (const m of models) expect(validateModelSpec(m.spec), m.metadata.name).to.deep.equal([]);
  });

  it('translates both ways inside the image exactly as apertium does on the host', async () => {
    for (const [text, source, target, pair] of [
      ['The shop on the corner opens at nine in the morning.', 'en', 'es', 'eng-spa'],
      ['¿Dónde está la estación de tren?', 'es', 'en', 'spa-eng'],
    ]) {
      const res = await fetch(`${base}/v1/translation/translations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text, source, target }),
        signal: AbortSignal.timeout(60_000),
      });
      const body = (await res.json()) as { translations: { text: string }[]; model: { backend: string }; error?: string };
      expect(res.status, body.error).to.equal(200);
      expect(body.translations[0].text).to.equal(await apertiumCli(pair, text));
      expect(body.model.backend).to.equal('apertium');
    }
    const listing = (await (await fetch(`${base}/v1/models`)).json()) as { models: { name: string; state: string; card?: { license?: string } }[] };
    for (const m of listing.models) expect(m, m.name).to.include({ state: 'AVAILABLE' });
    expect(listing.models.map((m) => m.card?.license)).to.satisfy((l: string[]) => l.every((x) => x.includes('GPL')));
  });
});
