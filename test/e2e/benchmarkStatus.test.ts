// From a running runtime to MLModel status: the examples' MLService on a kwok edge node, its pod's runtime
// started as the Deployment specifies inside a network namespace that holds the pod's IP, and the operator
// reading the runtime's figures through the real API server's pods/proxy into status.benchmark, shown by
// the P50 printer column; the LAN NodePort Service turns into status.endpoints. Needs root (ip netns).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import { expect } from 'chai';
import type { BenchmarkEntry, PublishedEndpoint } from '../../operator/api/types.js';
import { createLogger } from '../../operator/logger.js';
import { type OperatorHandle, startOperator } from '../../operator/operator.js';
import type { DiscoveryDocument } from '../../inference-runtime/http/discovery.js';
import { repoRoot } from '../env/cacheLayout.js';
import { type TestControlPlane, controlPlaneStartTimeout, useControlPlane } from '../helpers/controlPlane.js';
import { eventually } from '../helpers/eventually.js';
import { createPodNetwork, type PodNetwork } from '../helpers/podNetwork.js';
import { run } from '../integration/chart/chartTools.js';
import { adminKubectl } from '../integration/chart/clusterAccess.js';
import { type RunningContainer, nodeCommand, prepareContainer, readDockerfile, spawnContainer } from './podProcess.js';

const examples = join(repoRoot, 'examples', 'facial-expression');

function getJsonOverTls<T>(url: string, ca: Buffer): Promise<T> {
  return new Promise((resolve, reject) => {
    https
      // The examples' certificate names localhost, not the pod IP: check the chain, not the name.
      .get(url, { ca, timeout: 10_000, checkServerIdentity: () => undefined }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as T);
          } catch (error) {
            reject(error);
          }
        });
      })
      .on('error', reject);
  });
}

describe('end to end: runtime benchmarks in MLModel status, endpoints in MLService status', function () {
  this.timeout(600_000);
  let cp: TestControlPlane;
  let ns: string;
  let operator: OperatorHandle | undefined;
  let runtime: RunningContainer | undefined;
  let network: PodNetwork | undefined;
  let pod: V1Pod;
  const work = mkdtempSync(join(tmpdir(), 'mloffload-e2e-bench-'));
  const secretsDir = join(work, 'client');
  const operatorLog: string[] = [];
  const getJson = async <T>(args: string[]): Promise<T> => JSON.parse(await adminKubectl(cp, ['-n', ns, 'get', ...args, '-o', 'json'])) as T;

  before(async function () {
    this.timeout(controlPlaneStartTimeout + 120_000);
    // The pod's network namespace needs root (ip netns); elsewhere this file has nothing to run on.
    if (process.getuid?.() !== 0) {
      console.warn('      skipped: creating a network namespace for the pod IP needs root');
      this.skip();
    }
    cp = await useControlPlane();
    await adminKubectl(cp, ['apply', '--server-side', '--force-conflicts', '-f', join(repoRoot, 'charts', 'mloffload', 'crds')]);
    await adminKubectl(cp, ['wait', '--for', 'condition=Established', '--timeout', '60s', 'crd/mlmodels.mloffload.io', 'crd/mlservices.mloffload.io']);
    ns = `e2e-bench-${Date.now().toString(36)}`;
    await adminKubectl(cp, ['create', 'namespace', ns]);
    operator = await startOperator(cp.kubeConfig, {
      namespace: ns,
      metricsPort: null,
      runtimeImage: 'mloffload/inference-runtime:e2e',
      observeRuntimePods: true,
      // Look at the pods every few seconds instead of every minute.
      runtimeObservationMs: 3_000,
      logger: createLogger('debug', {}, (line) => operatorLog.push(line)),
    });
  });

  after(async function () {
    this.timeout(60_000);
    await runtime?.stop();
    await network?.remove();
    await operator?.stop();
    if (ns) await adminKubectl(cp, ['delete', 'namespace', ns, '--wait=false']).catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  });

  it('runs the runtime of the example MLService on its pod IP, reachable by the API server', async () => {
    const env = { ...process.env, KUBECONFIG: cp.kubeconfigPath, PATH: `${dirname(cp.kubectl)}:${process.env.PATH ?? ''}` };
    const secrets = await run('sh', [join(examples, 'make-secrets.sh'), ns, secretsDir], { env });
    expect(secrets.code, secrets.stderr).to.equal(0);
    await adminKubectl(cp, ['-n', ns, 'apply', '--server-side', '-f', join(examples, 'models.yaml'), '-f', join(examples, 'service.yaml'), '-f', join(examples, 'lan-service.yaml')]);
    await eventually(
      async () => {
        const pods = (await getJson<{ items: V1Pod[] }>(['pods', '-l', 'mloffload.io/service=facial-expressions'])).items;
        expect(pods).to.have.length(1);
        expect(pods[0]!.status?.podIP, 'kwok gave the pod an IP').to.match(/^\d+\.\d+\.\d+\.\d+$/);
        pod = pods[0]!;
      },
      { timeout: 180_000, interval: 1_000, message: 'the runtime pod scheduled on an edge node' },
    );
    expect(cp.edgeNodes).to.include(pod.spec?.nodeName);

    const deployment = await getJson<V1Deployment>(['deployment', 'facial-expressions']);
    const container = deployment.spec!.template.spec!.containers[0]!;
    const prepared = await prepareContainer({
      deployment,
      pod,
      container,
      image: readDockerfile(join(repoRoot, 'deploy', 'inference-runtime.Dockerfile')),
      root: join(work, 'pod'),
      cluster: {
        configMap: async (namespace, name) => (JSON.parse(await adminKubectl(cp, ['-n', namespace, 'get', 'configmap', name, '-o', 'json'])) as { data: Record<string, string> }).data,
        secret: async (namespace, name) => {
          const s = JSON.parse(await adminKubectl(cp, ['-n', namespace, 'get', 'secret', name, '-o', 'json'])) as { data: Record<string, string> };
          return Object.fromEntries(Object.entries(s.data).map(([k, v]) => [k, Buffer.from(v, 'base64')]));
        },
      },
    });
    const { options: nodeOptions, entry, args: flags } = nodeCommand(prepared.containerArgv);
    const source = join(repoRoot, `${/(?:^|\/)dist\/(.+)\.js$/.exec(entry)![1]}.ts`);
    // The container's own --host and --port: inside the namespace the pod IP and port are its own.
    const localFlags = flags.map((value) => (value.startsWith('/') ? prepared.localPath(value) : value));
    expect(flags).to.include.members(['--host', '--port']);
    const env2 = Object.fromEntries(Object.entries(prepared.env).map(([k, v]) => [k, v.startsWith('/') ? prepared.localPath(v) : v]));
    network = await createPodNetwork(pod.status!.podIP!);
    runtime = spawnContainer([...network.execPrefix, process.execPath, ...nodeOptions, '--import', 'tsx', source, ...localFlags], { cwd: repoRoot, env: env2 });
    const port = container.ports![0]!.containerPort;
    const ca = readFileSync(join(secretsDir, 'tls.crt'));
    await eventually(
      async () => {
        const doc = await getJsonOverTls<DiscoveryDocument>(`https://${pod.status!.podIP}:${port}/v1/discovery`, ca);
        expect(doc.ready).to.equal(true);
      },
      { timeout: 300_000, interval: 2_000, message: 'runtime ready on the pod IP' },
    );
  });

  it("writes the runtime's own figures into MLModel status.benchmark, read through pods/proxy, and kubectl shows the p50", async () => {
    const port = 8443;
    // What the runtime says about itself, through the same API server path the operator uses.
    // The runtime is ready before its load-time benchmark is published, so the figures may come a little later.
    const measured = await eventually(
      async () => {
        const raw = await adminKubectl(cp, ['get', '--raw', `/api/v1/namespaces/${ns}/pods/https:${pod.metadata!.name}:${port}/proxy/v1/discovery`]);
        const doc = JSON.parse(raw) as DiscoveryDocument;
        expect(doc.node).to.equal(pod.spec!.nodeName);
        const benchmark = doc.models.find((m) => m.name === 'facial-expression')?.benchmark;
        expect(benchmark?.latencyMs.p50, 'the benchmark in /v1/discovery').to.be.greaterThan(0);
        return benchmark!;
      },
      { timeout: 120_000, interval: 1_000, message: 'the runtime publishes its load-time benchmark' },
    );

    const status = await eventually(
      async () => {
        const model = await getJson<{ status?: { benchmark?: BenchmarkEntry[] } }>(['mlmodel', 'facial-expression']);
        expect(model.status?.benchmark, JSON.stringify(model.status)).to.have.length(1);
        return model.status!.benchmark![0]!;
      },
      { timeout: 120_000, interval: 1_000, message: 'MLModel status.benchmark' },
    ).catch((error: Error) => {
      throw new Error(`${error.message}\noperator log:\n${operatorLog.filter((l) => /runtime|benchmark/.test(l)).slice(-30).join('\n')}`);
    });
    expect(status).to.deep.equal({ ...measured, version: '1', service: 'facial-expressions', pod: pod.metadata!.name });
    console.log(`      MLModel status.benchmark[0]: ${JSON.stringify(status)}`);

    const table = await adminKubectl(cp, ['-n', ns, 'get', 'mlmodel', 'facial-expression']);
    const [header, row] = table.trim().split('\n');
    const columns = header!.split(/\s{2,}/);
    expect(columns).to.include('P50');
    expect(Number(row!.split(/\s{2,}/)[columns.indexOf('P50')])).to.equal(measured.latencyMs.p50);
    console.log(`      kubectl get mlmodel:\n${table}`);
  });

  it('told the admin while the runtime could not be reached yet (an Event on the MLService)', async () => {
    const events = await getJson<{ items: { reason: string; message: string; involvedObject: { kind: string } }[] }>(['events', '--field-selector', 'reason=BenchmarkUnreachable']);
    // The pod was Ready (kwok) before its process listened: the first read failed and said so.
    expect(events.items.map((e) => e.involvedObject.kind)).to.include('MLService');
    expect(events.items[0]!.message).to.match(/pod proxy did not reach the runtime/);
  });

  it('publishes the node address and node port of the LAN Service in MLService status.endpoints', async () => {
    const lan = await getJson<{ spec: { ports: { nodePort: number }[] } }>(['service', 'facial-expressions-lan']);
    const endpoints = await eventually(
      async () => {
        const svc = await getJson<{ status?: { endpoints?: PublishedEndpoint[] } }>(['mlservice', 'facial-expressions']);
        expect(svc.status?.endpoints).to.have.length(1);
        return svc.status!.endpoints!;
      },
      { timeout: 60_000, interval: 1_000, message: 'MLService status.endpoints' },
    );
    const hostIP = (await getJson<V1Pod>(['pod', pod.metadata!.name!])).status!.hostIP!;
    expect(endpoints[0]).to.deep.equal({
      url: `https://${hostIP}:${lan.spec.ports[0]!.nodePort}`,
      node: pod.spec!.nodeName,
      address: hostIP,
      port: lan.spec.ports[0]!.nodePort,
      kind: 'NodePort',
      service: 'facial-expressions-lan',
      tier: 'edge',
    });
  });
});
