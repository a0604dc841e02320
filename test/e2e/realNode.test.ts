// The facial-expression example on a real edge node: a kubelet and containerd run the runtime image the
// operator's Deployment names, with its real mounts (ConfigMap by subPath, Secrets as files, the hostPath
// model cache), user, read-only root, probes, limits and pod network. A client reaches the flagship at the pod
// IP, as the Service's endpoints list it (no kube-proxy here). The expression model comes from an HTTP model
// source on this machine, so the offline test can really cut it.
import { createReadStream, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { expect } from 'chai';
import { buildImages, type ImageManifest } from '../../deploy/images/build.js';
import { FER2013_LABELS } from '../../inference-runtime/config/defaultPool.js';
import { createLogger } from '../../operator/logger.js';
import { type OperatorHandle, startOperator } from '../../operator/operator.js';
import { repoRoot } from '../env/cacheLayout.js';
import { type RealNodeRecord, importImage, realNodesUnavailable } from '../env/realEdgeNode.js';
import { EXAMPLE_POD_SELECTOR, EXAMPLE_SERVICE, realNodeTenancy, type PodAnswer, exampleDir, exampleOnRealNode, podHttps } from '../helpers/realNodeExample.js';
import { type TestControlPlane, controlPlaneStartTimeout, realNodesStartTimeout, useControlPlane, useRealEdgeNodes } from '../helpers/controlPlane.js';
import { imageBuildTimeout } from '../helpers/containerImages.js';
import { eventually } from '../helpers/eventually.js';
import { run } from '../integration/chart/chartTools.js';
import { adminKubectl } from '../integration/chart/clusterAccess.js';

const require = createRequire(import.meta.url);
const examples = exampleDir;
const SERVICE = EXAMPLE_SERVICE;
const SELECTOR = EXAMPLE_POD_SELECTOR;

function packageDir(name: string): string {
  let dir = dirname(require.resolve(name));
  while (basename(dir) !== name.split('/').pop()) dir = dirname(dir);
  return dir;
}

/** face-api's demo photo 1: three people; the woman on the right laughs (her face holds this point). */
function samplePhoto(): { bytes: Buffer; laughing: { x: number; y: number } } {
  return { bytes: readFileSync(join(packageDir('@vladmandic/face-api'), 'demo', 'sample1.jpg')), laughing: { x: 1565, y: 340 } };
}

interface FacialExpressionsBody {
  faces: { box: { x: number; y: number; width: number; height: number }; expression: { code: number; label: string; confidence: number }; scores: Record<string, number> }[];
  models: { name: string; version: string }[];
}

interface PoolListing {
  models: { name: string; state: string; reason?: string }[];
}

describe('end to end on a real edge node: kubelet and containerd run the runtime image', function () {
  this.timeout(900_000);
  let cp: TestControlPlane;
  let node: RealNodeRecord;
  let image: ImageManifest;
  let ns: string;
  let operator: OperatorHandle | undefined;
  let modelSource: Server | undefined;
  let modelSourceUrl: string;
  let cacheDir: string;
  let ca: Buffer;
  let apiKey: string;
  const work = mkdtempSync(join(tmpdir(), 'mloffload-realnode-'));
  const secretsDir = join(work, 'client');
  const operatorLog: string[] = [];

  const getJson = async <T>(args: string[]): Promise<T> => JSON.parse(await adminKubectl(cp, ['-n', ns, 'get', ...args, '-o', 'json'])) as T;
  const pods = async (): Promise<V1Pod[]> => (await getJson<{ items: V1Pod[] }>(['pods', '-l', SELECTOR])).items;

  const call = (podIp: string, path: string, options: { method?: string; headers?: Record<string, string>; body?: Buffer } = {}): Promise<PodAnswer> =>
    podHttps({ podIp, namespace: ns, ca }, path, options);

  /** The one Ready runtime pod, once the MLService is Ready with it (its real readiness probe passed). */
  const readyPod = async (timeout: number, not?: string): Promise<V1Pod> =>
    eventually(
      async () => {
        const svc = await getJson<{ status?: { conditions?: { type: string; status: string }[] } }>(['mlservice', SERVICE]);
        expect(svc.status?.conditions?.find((c) => c.type === 'Ready')?.status, JSON.stringify(svc.status)).to.equal('True');
        const ready = (await pods()).filter((p) => !p.metadata?.deletionTimestamp && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
        expect(ready, 'one Ready pod').to.have.length(1);
        if (not) expect(ready[0]!.metadata!.name).to.not.equal(not);
        return ready[0]!;
      },
      { timeout, interval: 1_000, message: `MLService ${SERVICE} Ready on the real node` },
    ).catch(async (error: Error) => {
      const described = await adminKubectl(cp, ['-n', ns, 'describe', 'pods', '-l', SELECTOR]).catch((e: Error) => e.message);
      throw new Error(`${error.message}\n${described.slice(-3000)}\noperator log:\n${operatorLog.slice(-5).join('\n')}`);
    });

  const facialExpressions = async (podIp: string): Promise<FacialExpressionsBody> => {
    const answer = await call(podIp, '/v1/vision/facial-expressions', {
      method: 'POST',
      headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'image/jpeg' },
      body: samplePhoto().bytes,
    });
    expect(answer.status, answer.body).to.equal(200);
    return JSON.parse(answer.body) as FacialExpressionsBody;
  };

  const expectLaughingFace = (body: FacialExpressionsBody): void => {
    const { laughing } = samplePhoto();
    expect(body.faces).to.have.length(3);
    for (const face of body.faces) {
      expect(face.expression.label).to.equal(FER2013_LABELS[face.expression.code]);
      expect(Object.keys(face.scores).sort()).to.deep.equal([...FER2013_LABELS].sort());
    }
    const around = body.faces.find((f) => laughing.x >= f.box.x && laughing.x <= f.box.x + f.box.width && laughing.y >= f.box.y && laughing.y <= f.box.y + f.box.height);
    expect(around?.expression).to.include({ code: 3, label: 'happy' });
  };

  /** Files of the expression model under the node's hostPath cache (the runtime's content-addressed store). */
  const cachedFiles = (): string[] => {
    const out: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        if (entry.isDirectory()) walk(join(dir, entry.name));
        else out.push(join(dir, entry.name));
      }
    };
    if (existsSync(cacheDir)) walk(cacheDir);
    return out;
  };

  /** Serves @vladmandic/human's emotion model over plain HTTP on this machine's address on the pods' bridge. */
  const startModelSource = async (port = 0): Promise<void> => {
    const models = join(packageDir('@vladmandic/human'), 'models');
    modelSource = createServer((req, res) => {
      const file = ['/emotion.json', '/emotion.bin'].includes(req.url ?? '') ? join(models, req.url!.slice(1)) : undefined;
      if (!file) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-length': statSync(file).size });
      createReadStream(file).pipe(res);
    });
    await new Promise<void>((resolve, reject) => {
      modelSource!.once('error', reject);
      modelSource!.listen(port, node.podGateway, () => resolve());
    });
    modelSourceUrl = `http://${node.podGateway}:${(modelSource.address() as AddressInfo).port}/emotion.json`;
  };
  const stopModelSource = async (): Promise<void> => {
    const server = modelSource;
    modelSource = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()).closeAllConnections());
  };

  const exampleManifests = (description?: string): string => exampleOnRealNode({ node, cacheDir, expressionSource: modelSourceUrl, description });

  before(async function () {
    this.timeout(controlPlaneStartTimeout + realNodesStartTimeout + imageBuildTimeout);
    const unavailable = realNodesUnavailable();
    if (unavailable) {
      process.stderr.write(`      skipped: ${unavailable}\n`);
      this.skip();
    }
    [image] = await buildImages(['inference-runtime']);
    cp = await useControlPlane();
    [node] = await useRealEdgeNodes(1);
    importImage(node, image.archive, image.ref);
    cacheDir = join(node.hostPathDir, `models-${Date.now().toString(36)}`);

    await adminKubectl(cp, ['apply', '--server-side', '--force-conflicts', '-f', join(repoRoot, 'charts', 'mloffload', 'crds')]);
    await adminKubectl(cp, ['wait', '--for', 'condition=Established', '--timeout', '60s', 'crd/mlmodels.mloffload.io', 'crd/mlservices.mloffload.io']);
    ns = `realnode-${Date.now().toString(36)}`;
    await adminKubectl(cp, ['create', 'namespace', ns]);
    const env = { ...process.env, KUBECONFIG: cp.kubeconfigPath, PATH: `${dirname(cp.kubectl)}:${process.env.PATH ?? ''}` };
    const secrets = await run('sh', [join(examples, 'make-secrets.sh'), ns, secretsDir], { env });
    expect(secrets.code, secrets.stderr).to.equal(0);
    ca = readFileSync(join(secretsDir, 'tls.crt'));
    apiKey = readFileSync(join(secretsDir, 'api-keys'), 'utf8').trim();
    await startModelSource();
    operator = await startOperator(cp.kubeConfig, {
      namespace: ns,
      metricsPort: null,
      runtimeImage: image.ref,
      // Imported into the node's containerd; there is no registry to pull from.
      imagePullPolicy: 'Never',
      tenancy: { hostPathPrefix: node.hostPathDir, ...realNodeTenancy },
      logger: createLogger('info', {}, (line) => operatorLog.push(line)),
    });
  });

  after(async function () {
    this.timeout(120_000);
    await operator?.stop();
    if (ns) await adminKubectl(cp, ['delete', 'namespace', ns, '--wait=true', '--timeout=90s']).catch(() => undefined);
    await stopModelSource();
    rmSync(work, { recursive: true, force: true });
  });

  let podIp: string;

  it('runs the example on the real node: the runtime pod passes its real startup and readiness probes', async () => {
    await adminKubectl(cp, ['-n', ns, 'apply', '--server-side', '-f', '-'], exampleManifests());
    const pod = await readyPod(300_000);
    expect(pod.spec?.nodeName).to.equal(node.name);
    podIp = pod.status!.podIP!;
    expect(podIp.startsWith(node.podCidr.replace(/0\/24$/, '')), podIp).to.equal(true);
    const runtime = pod.status!.containerStatuses!.find((c) => c.name === 'runtime')!;
    expect(runtime.restartCount).to.equal(0);
    // The init container handed the kubelet-made hostPath (root:root 0755) to the runtime user and ended well.
    expect(pod.status!.initContainerStatuses?.[0]?.state?.terminated?.exitCode).to.equal(0);
    expect(statSync(cacheDir).uid).to.equal(1000);
    // The Service's endpoints name the pod at its real address: where kube-proxy would send Service traffic.
    const slices = await getJson<{ items: { endpoints?: { addresses: string[]; conditions?: { ready?: boolean } }[] }[] }>(['endpointslices', '-l', `kubernetes.io/service-name=${SERVICE}`]);
    expect(slices.items.flatMap((s) => s.endpoints ?? []).map((e) => [e.addresses[0], e.conditions?.ready])).to.deep.equal([[podIp, true]]);
  });

  it('answers the flagship at the pod IP over HTTPS with the API key: expression codes', async () => {
    const body = await facialExpressions(podIp);
    expectLaughingFace(body);
    expect(body.models.map((m) => `${m.name}@${m.version}`)).to.include.members(['face-detector@1', 'facial-expression@1']);
    const none = await call(podIp, '/v1/vision/facial-expressions', { method: 'POST', headers: { 'Content-Type': 'image/jpeg' }, body: samplePhoto().bytes });
    expect(none.status).to.equal(401);
  });

  it('runs as uid 1000 on a read-only root with the limits of the Deployment; kubectl logs and exec reach it', async () => {
    const name = (await pods())[0]!.metadata!.name!;
    const logs = await adminKubectl(cp, ['-n', ns, 'logs', name, '-c', 'runtime']);
    expect(logs).to.match(/"event":"listening"/);
    // The image has no shell: node is the one program to exec.
    const script = [
      "const fs = require('fs');",
      'let rofs = "writable"; try { fs.writeFileSync("/app/probe", "x"); } catch (e) { rofs = e.code; }',
      'const limit = fs.readFileSync("/sys/fs/cgroup/memory/memory.limit_in_bytes", "utf8").trim();',
      'console.log(JSON.stringify({ uid: process.getuid(), gid: process.getgid(), rofs, limit, workers: process.env.MLOFFLOAD_WORKERS }));',
    ].join(' ');
    const out = JSON.parse(await adminKubectl(cp, ['-n', ns, 'exec', name, '-c', 'runtime', '--', '/usr/local/bin/node', '-e', script])) as Record<string, unknown>;
    expect(out).to.deep.equal({ uid: 1000, gid: 1000, rofs: 'EROFS', limit: String(1536 * 1024 * 1024), workers: '2' });
  });

  it('keeps the expression model fetched from the model source in the node hostPath cache, owned by the runtime user', () => {
    const files = cachedFiles();
    expect(files.length, files.join(', ')).to.be.greaterThanOrEqual(2);
    for (const f of files) expect(statSync(f).uid, f).to.equal(1000);
  });

  it('rolls the pod on a model change, and the old pod drains on SIGTERM well inside its grace period', async () => {
    const old = (await pods())[0]!;
    await adminKubectl(cp, ['-n', ns, 'apply', '--server-side', '-f', '-'], exampleManifests('mini-Xception facial expressions (FER2013), description changed'));
    const fresh = await readyPod(300_000, old.metadata!.name);
    expect(fresh.metadata!.annotations).to.not.deep.equal(old.metadata!.annotations);
    podIp = fresh.status!.podIP!;
    // maxUnavailable 0: the old pod goes once the new one is Ready; SIGTERM ends it without waiting 30 s for SIGKILL.
    const gone = Date.now();
    await eventually(async () => expect((await pods()).map((p) => p.metadata!.name)).to.not.include(old.metadata!.name), { timeout: 60_000, interval: 500 });
    expect(Date.now() - gone, 'pod gone before its 30 s grace period ran out').to.be.below(25_000);
    expectLaughingFace(await facialExpressions(podIp));
  });

  it('with the model source unreachable, a new pod serves from the node hostPath cache', async () => {
    await stopModelSource();
    // The cut is real: nothing answers at the source any more.
    const refused = await fetch(modelSourceUrl.replace('/emotion.json', '/'), { signal: AbortSignal.timeout(5_000) }).then(
      () => 'answered',
      (error: Error) => String((error.cause as Error | undefined)?.message ?? error.message),
    );
    expect(refused).to.match(/ECONNREFUSED/);
    const old = (await pods())[0]!;
    await adminKubectl(cp, ['-n', ns, 'delete', 'pod', old.metadata!.name!, '--wait=false']);
    const fresh = await readyPod(300_000, old.metadata!.name);
    podIp = fresh.status!.podIP!;
    expectLaughingFace(await facialExpressions(podIp));
    const listing = JSON.parse((await call(podIp, '/v1/models', { headers: { Authorization: `Bearer ${apiKey}` } })).body) as PoolListing;
    expect(listing.models.find((m) => m.name === 'facial-expression')?.state).to.equal('AVAILABLE');
  });

  it('without the cache content and the source, a new pod reports the expression model unavailable and is not Ready', async () => {
    for (const entry of readdirSync(cacheDir)) rmSync(join(cacheDir, entry), { recursive: true, force: true });
    const old = (await pods())[0]!;
    await adminKubectl(cp, ['-n', ns, 'delete', 'pod', old.metadata!.name!, '--wait=false']);
    const listing = await eventually(
      async () => {
        const fresh = (await pods()).find((p) => p.metadata!.name !== old.metadata!.name && p.status?.podIP);
        expect(fresh, 'a new pod with an address').to.not.equal(undefined);
        const answer = await call(fresh!.status!.podIP!, '/v1/models', { headers: { Authorization: `Bearer ${apiKey}` } });
        expect(answer.status).to.equal(200);
        const body = JSON.parse(answer.body) as PoolListing;
        expect(body.models.find((m) => m.name === 'facial-expression')?.state).to.equal('UNAVAILABLE');
        return { body, pod: fresh! };
      },
      { timeout: 300_000, interval: 1_000, message: 'the new pod reports the expression model UNAVAILABLE' },
    );
    expect(listing.body.models.find((m) => m.name === 'facial-expression')?.reason).to.be.a('string');
    const ready = (await pods()).find((p) => p.metadata!.name === listing.pod.metadata!.name)?.status?.conditions?.find((c) => c.type === 'Ready');
    expect(ready?.status).to.equal('False');
  });
});
