// From manifest to facial expression: the chart's CRDs, the operator, the examples/facial-expression
// manifests and Secrets made by its script, on a real control plane with kwok edge nodes; then the runtime
// started exactly as the generated Deployment specifies (the image of `npm run images` in podman where podman
// runs, else the runtime from source) and called over HTTPS with an API key.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import { expect } from 'chai';
import { FER2013_LABELS } from '../../inference-runtime/config/defaultPool.js';
import { type OperatorHandle, startOperator } from '../../operator/operator.js';
import { createLogger } from '../../operator/logger.js';
import { repoRoot } from '../env/cacheLayout.js';
import { type TestControlPlane, controlPlaneStartTimeout, useControlPlane } from '../helpers/controlPlane.js';
import { eventually } from '../helpers/eventually.js';
import { run } from '../integration/chart/chartTools.js';
import { adminKubectl } from '../integration/chart/clusterAccess.js';
import { containerEngineMissing } from '../../deploy/images/containerEngine.js';
import { NODE_PATH } from '../../deploy/images/nodeBinary.js';
import { type TestImage, imageBuildTimeout, kubeletFlags, ownVolumesAsKubelet, runImage, useImage } from '../helpers/containerImages.js';
import { freePort } from '../env/processes.js';
import { type RunningContainer, nodeCommand, prepareContainer, readDockerfile, spawnContainer } from './podProcess.js';
import { RUNTIME_NODE_FLAGS } from '../../inference-runtime/nodeFlags.js';

const require = createRequire(import.meta.url);
const examples = join(repoRoot, 'examples', 'facial-expression');
const runtimeDockerfile = join(repoRoot, 'deploy', 'inference-runtime.Dockerfile');

/** face-api's demo photo 1: three people; the woman on the right laughs (her face holds this point). */
function samplePhoto(): { bytes: Buffer; laughing: { x: number; y: number } } {
  let dir = dirname(require.resolve('@vladmandic/face-api'));
  while (!dir.endsWith('face-api')) dir = dirname(dir);
  return { bytes: readFileSync(join(dir, 'demo', 'sample1.jpg')), laughing: { x: 1565, y: 340 } };
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function request(url: string, options: { method?: string; ca: Buffer; headers?: Record<string, string>; body?: Buffer }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method: options.method ?? 'GET', ca: options.ca, headers: options.headers, timeout: 60_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('timeout', () => req.destroy(new Error(`${url}: timed out`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

interface FacialExpressionsBody {
  faces: {
    box: { x: number; y: number; width: number; height: number };
    score: number;
    expression: { code: number; label: string; confidence: number };
    scores: Record<string, number>;
  }[];
  models: { name: string; version: string }[];
}

describe('end to end: manifests to facial expressions over HTTPS', function () {
  this.timeout(600_000);
  let cp: TestControlPlane;
  let ns: string;
  let operator: OperatorHandle | undefined;
  let runtime: RunningContainer | undefined;
  let runtimeImage: TestImage | undefined;
  let url: string;
  const work = mkdtempSync(join(tmpdir(), 'mloffload-e2e-'));
  const secretsDir = join(work, 'client');
  const operatorLog: string[] = [];

  const getJson = async <T>(args: string[]): Promise<T> => JSON.parse(await adminKubectl(cp, ['-n', ns, 'get', ...args, '-o', 'json'])) as T;

  before(async function () {
    this.timeout(controlPlaneStartTimeout + imageBuildTimeout);
    runtimeImage = await useImage('inference-runtime');
    if (!runtimeImage) process.stderr.write(`      the runtime runs from source: ${await containerEngineMissing()}\n`);
    cp = await useControlPlane();
    // The CRDs as the chart ships them.
    await adminKubectl(cp, ['apply', '--server-side', '--force-conflicts', '-f', join(repoRoot, 'charts', 'mloffload', 'crds')]);
    await adminKubectl(cp, ['wait', '--for', 'condition=Established', '--timeout', '60s', 'crd/mlmodels.mloffload.io', 'crd/mlservices.mloffload.io']);
    ns = `e2e-${Date.now().toString(36)}`;
    await adminKubectl(cp, ['create', 'namespace', ns]);
    operator = await startOperator(cp.kubeConfig, {
      namespace: ns,
      metricsPort: null,
      runtimeImage: 'mloffload/inference-runtime:e2e',
      logger: createLogger('info', {}, (line) => operatorLog.push(line)),
    });
  });

  after(async function () {
    this.timeout(60_000);
    await runtime?.stop();
    await operator?.stop();
    if (ns) await adminKubectl(cp, ['delete', 'namespace', ns, '--wait=false']).catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  });

  it('applies the example Secrets and manifests, and the MLService turns Ready on an edge node', async () => {
    const env = { ...process.env, KUBECONFIG: cp.kubeconfigPath, PATH: `${dirname(cp.kubectl)}:${process.env.PATH ?? ''}` };
    const secrets = await run('sh', [join(examples, 'make-secrets.sh'), ns, secretsDir], { env });
    expect(secrets.code, secrets.stderr).to.equal(0);
    await adminKubectl(cp, ['-n', ns, 'apply', '--server-side', '-f', join(examples, 'models.yaml'), '-f', join(examples, 'service.yaml')]);

    await eventually(
      async () => {
        const svc = await getJson<{ status?: { conditions?: { type: string; status: string }[] } }>(['mlservice', 'facial-expressions']);
        expect(svc.status?.conditions?.find((c) => c.type === 'Ready')?.status, JSON.stringify(svc.status)).to.equal('True');
      },
      { timeout: 180_000, interval: 1_000, message: 'MLService facial-expressions Ready' },
    ).catch((error: Error) => {
      throw new Error(`${error.message}\noperator log:\n${operatorLog.slice(-5).join('\n')}`);
    });
    const pods = (await getJson<{ items: V1Pod[] }>(['pods', '-l', 'mloffload.io/service=facial-expressions'])).items;
    expect(pods).to.have.length(1);
    expect(cp.edgeNodes).to.include(pods[0].spec?.nodeName);
  });

  it('starts the runtime exactly as the generated Deployment and the runtime image specify, and it gets ready', async () => {
    const deployment = await getJson<V1Deployment>(['deployment', 'facial-expressions']);
    const pod = (await getJson<{ items: V1Pod[] }>(['pods', '-l', 'mloffload.io/service=facial-expressions'])).items[0];
    const podSpec = deployment.spec!.template.spec!;
    const container = podSpec.containers[0];
    // The built image where podman runs (in place of the tag the operator wrote); else its Containerfile's
    // ENTRYPOINT, WORKDIR and ENV with the runtime started from source.
    const image = runtimeImage ? runtimeImage.config : readDockerfile(runtimeDockerfile);
    // The Deployment relies on the image's ENTRYPOINT; the image runs the compiled runtime with node at a fixed path.
    expect(container.command).to.equal(undefined);
    expect(image.entrypoint).to.deep.equal([NODE_PATH, ...RUNTIME_NODE_FLAGS, '/app/dist/inference-runtime/main.js']);
    expect(image.workdir).to.equal('/app');

    const prepared = await prepareContainer({
      deployment,
      pod,
      container,
      image,
      root: join(work, 'pod'),
      cluster: {
        configMap: async (namespace, name) => (JSON.parse(await adminKubectl(cp, ['-n', namespace, 'get', 'configmap', name, '-o', 'json'])) as { data: Record<string, string> }).data,
        secret: async (namespace, name) => {
          const s = JSON.parse(await adminKubectl(cp, ['-n', namespace, 'get', 'secret', name, '-o', 'json'])) as { data: Record<string, string> };
          return Object.fromEntries(Object.entries(s.data).map(([k, v]) => [k, Buffer.from(v, 'base64')]));
        },
      },
    });
    const { node, options: nodeOptions, entry, args: flags } = nodeCommand(prepared.containerArgv);
    expect(node).to.equal(NODE_PATH);
    expect(nodeOptions).to.deep.equal(RUNTIME_NODE_FLAGS);
    expect(flags).to.include.members(['--config', '--tls-cert', '--tls-key', '--api-keys-file', '--model-cache']);
    expect(prepared.env).to.include({ NODE_ENV: 'production', POD_NAMESPACE: ns, NODE_NAME: pod.spec!.nodeName, MLOFFLOAD_WORKERS: '2' });

    if (runtimeImage) {
      // The pod's own uid, read-only root, volumes and arguments; its port published on a loopback port.
      ownVolumesAsKubelet(podSpec, container, prepared.mounts);
      const hostPort = await freePort();
      runtime = runImage({
        image: runtimeImage,
        name: `mloffload-e2e-${process.pid}`,
        flags: kubeletFlags({ pod: podSpec, container, mounts: prepared.mounts, env: prepared.env, hostPort }),
        args: container.args ?? [],
      });
      await runtime.waitForLog((l) => l.event === 'listening', 120_000);
      url = `https://127.0.0.1:${hostPort}`;
    } else {
      // The image's /app/dist/X.js is compiled from X.ts, run here through tsx.
      const compiled = /^\/app\/dist\/(.+)\.js$/.exec(entry);
      expect(compiled, entry).to.not.equal(null);
      const source = join(repoRoot, `${compiled![1]}.ts`);
      // Listen on loopback and a free port instead of the pod's 0.0.0.0:8443; every path goes to the temp folder.
      const localFlags = flags.map((value, i) => {
        if (flags[i - 1] === '--host') return '127.0.0.1';
        if (flags[i - 1] === '--port') return '0';
        return value.startsWith('/') ? prepared.localPath(value) : value;
      });
      // Paths move to the temp folder; PATH stays this machine's (the image's names its own /usr/local/bin).
      const env = Object.fromEntries(
        Object.entries(prepared.env).map(([k, v]) => [k, k === 'PATH' ? (process.env.PATH ?? v) : v.startsWith('/') ? prepared.localPath(v) : v]),
      );
      runtime = spawnContainer([process.execPath, ...nodeOptions, '--import', 'tsx', source, ...localFlags], { cwd: repoRoot, env });
      const listening = await runtime.waitForLog((l) => l.event === 'listening', 120_000);
      expect(listening.url).to.match(/^https:\/\/127\.0\.0\.1:\d+$/);
      url = String(listening.url);
    }
    const ca = readFileSync(join(secretsDir, 'tls.crt'));
    await eventually(async () => expect((await request(`${url}/readyz`, { ca })).status).to.equal(200), { timeout: 240_000, interval: 1_000, message: 'runtime /readyz' });
  });

  it('answers POST /v1/vision/facial-expressions with the API key: faces with FER2013 expression codes', async () => {
    const ca = readFileSync(join(secretsDir, 'tls.crt'));
    const key = readFileSync(join(secretsDir, 'api-keys'), 'utf8').trim();
    const photo = samplePhoto();
    const answer = await request(`${url}/v1/vision/facial-expressions`, {
      method: 'POST',
      ca,
      headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'image/jpeg' },
      body: photo.bytes,
    });
    expect(answer.status, answer.body).to.equal(200);
    const body = JSON.parse(answer.body) as FacialExpressionsBody;
    expect(body.faces).to.have.length(3);
    for (const face of body.faces) {
      expect(face.expression.code).to.be.oneOf([0, 1, 2, 3, 4, 5, 6]);
      expect(face.expression.label).to.equal(FER2013_LABELS[face.expression.code]);
      expect(Object.keys(face.scores).sort()).to.deep.equal([...FER2013_LABELS].sort());
      expect(face.expression.confidence).to.be.within(0, 1);
    }
    const b = (f: FacialExpressionsBody['faces'][number]) => f.box;
    const laughing = body.faces.find((f) => photo.laughing.x >= b(f).x && photo.laughing.x <= b(f).x + b(f).width && photo.laughing.y >= b(f).y && photo.laughing.y <= b(f).y + b(f).height);
    expect(laughing, 'a face box around the laughing woman').to.not.equal(undefined);
    expect(laughing!.expression).to.include({ code: 3, label: 'happy' });
    expect(body.models.map((m) => `${m.name}@${m.version}`)).to.include.members(['face-detector@1', 'facial-expression@1']);

    // X-API-Key works as well as the bearer token.
    const viaHeader = await request(`${url}/v1/vision/facial-expressions`, { method: 'POST', ca, headers: { 'X-API-Key': key, 'Content-Type': 'image/jpeg' }, body: photo.bytes });
    expect(viaHeader.status, viaHeader.body).to.equal(200);
  });

  it("sets its own Service back to ClusterIP, while the examples' LAN Service reaches the runtime pod", async () => {
    await adminKubectl(cp, ['-n', ns, 'patch', 'service', 'facial-expressions', '--type=merge', '-p', '{"spec":{"type":"NodePort"}}']);
    await eventually(async () => expect((await getJson<{ spec: { type: string } }>(['service', 'facial-expressions'])).spec.type).to.equal('ClusterIP'), {
      timeout: 30_000,
      interval: 500,
      message: 'the operator restores its Service',
    });
    await adminKubectl(cp, ['-n', ns, 'apply', '--server-side', '-f', join(examples, 'lan-service.yaml')]);
    const pod = (await getJson<{ items: V1Pod[] }>(['pods', '-l', 'mloffload.io/service=facial-expressions'])).items[0];
    await eventually(
      async () => {
        const slices = await getJson<{ items: { endpoints?: { targetRef?: { name: string }; conditions?: { ready?: boolean } }[]; ports?: { port: number }[] }[] }>([
          'endpointslices',
          '-l',
          'kubernetes.io/service-name=facial-expressions-lan',
        ]);
        const endpoints = slices.items.flatMap((s) => s.endpoints ?? []);
        expect(endpoints.map((e) => [e.targetRef?.name, e.conditions?.ready])).to.deep.equal([[pod.metadata!.name, true]]);
        expect(slices.items[0].ports?.map((p) => p.port)).to.deep.equal([8443]);
      },
      { timeout: 30_000, interval: 500 },
    );
  });

  it('refuses the same request without a key or with a wrong one (401)', async () => {
    const ca = readFileSync(join(secretsDir, 'tls.crt'));
    const photo = samplePhoto().bytes;
    const none = await request(`${url}/v1/vision/facial-expressions`, { method: 'POST', ca, headers: { 'Content-Type': 'image/jpeg' }, body: photo });
    expect(none.status).to.equal(401);
    expect(none.headers['www-authenticate']).to.equal('Bearer');
    expect(JSON.parse(none.body)).to.have.property('error');
    const wrong = await request(`${url}/v1/vision/facial-expressions`, { method: 'POST', ca, headers: { Authorization: 'Bearer not-the-key', 'Content-Type': 'image/jpeg' }, body: photo });
    expect(wrong.status).to.equal(401);
  });
});
