/**
 * The flagship through a real pod next to the same runtime as a host process: a 640x480 one-face JPEG (cut
 * from face-api's sample1.jpg, as bench/flagship.ts does) sent to POST /v1/vision/facial-expressions over
 * HTTPS with the API key, one client, closed loop.
 *
 *   npm run cluster:up -- --real-nodes 1        # once; prints the kubeconfig path
 *   MLOFFLOAD_KUBECONFIG=<path> npx tsx bench/realNode.ts [--seconds 15] [--rounds 4]
 *
 *   pod    the examples/facial-expression MLService (operator in this process) on the real edge node: the
 *          runtime image run by containerd, 2 workers, CPU limit 2, reached at the pod IP over the CNI bridge
 *   host   the runtime from this checkout as a process of this machine with the pod's own pool file (read
 *          from the ConfigMap), certificate and key, 2 workers, on loopback
 * Both use the same models, the same engines and the same TLS; the windows alternate, so a change in what
 * else runs on the machine hits both alike. Requests keep one connection alive (as the SDK does).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { buildImages } from '../deploy/images/build.js';
import { createLogger } from '../operator/logger.js';
import { startOperator } from '../operator/operator.js';
import { repoRoot } from '../test/env/cacheLayout.js';
import { importImage, realNodesUnavailable } from '../test/env/realEdgeNode.js';
import { useControlPlane, useRealEdgeNodes } from '../test/helpers/controlPlane.js';
import { eventually } from '../test/helpers/eventually.js';
import { EXAMPLE_POD_SELECTOR, EXAMPLE_SERVICE, realNodeTenancy, exampleDir, exampleOnRealNode, podHttps } from '../test/helpers/realNodeExample.js';
import { singleFace640x480 } from '../test/helpers/samplePhotos.js';
import { run } from '../test/integration/chart/chartTools.js';
import { adminKubectl } from '../test/integration/chart/clusterAccess.js';
import { nodeScript } from './runtimeBuild.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '15' }, rounds: { type: 'string', default: '4' } } });
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);

const unavailable = realNodesUnavailable();
if (unavailable) throw new Error(unavailable);
if (!process.env.MLOFFLOAD_KUBECONFIG) throw new Error('set MLOFFLOAD_KUBECONFIG to the kubeconfig `npm run cluster:up -- --real-nodes 1` printed');

const photo = await singleFace640x480();
const [image] = await buildImages(['inference-runtime']);
const cp = await useControlPlane();
const [node] = await useRealEdgeNodes(1);
importImage(node!, image!.archive, image!.ref);
const work = mkdtempSync(join(os.tmpdir(), 'mloffload-bench-realnode-'));
const ns = `bench-${Date.now().toString(36)}`;
await adminKubectl(cp, ['apply', '--server-side', '--force-conflicts', '-f', join(repoRoot, 'charts', 'mloffload', 'crds')]);
await adminKubectl(cp, ['wait', '--for', 'condition=Established', '--timeout', '60s', 'crd/mlmodels.mloffload.io', 'crd/mlservices.mloffload.io']);
await adminKubectl(cp, ['create', 'namespace', ns]);
const env = { ...process.env, KUBECONFIG: cp.kubeconfigPath, PATH: `${dirname(cp.kubectl)}:${process.env.PATH ?? ''}` };
const secrets = await run('sh', [join(exampleDir, 'make-secrets.sh'), ns, join(work, 'client')], { env });
if (secrets.code !== 0) throw new Error(secrets.stderr);
const ca = readFileSync(join(work, 'client', 'tls.crt'));
const key = readFileSync(join(work, 'client', 'api-keys'), 'utf8').trim();
const operator = await startOperator(cp.kubeConfig, {
  namespace: ns,
  metricsPort: null,
  runtimeImage: image!.ref,
  imagePullPolicy: 'Never',
  tenancy: { hostPathPrefix: node!.hostPathDir, ...realNodeTenancy },
  logger: createLogger('warn', {}, () => {}),
});
let host: ChildProcess | undefined;
try {
  await adminKubectl(cp, ['-n', ns, 'apply', '--server-side', '-f', '-'], exampleOnRealNode({ node: node!, cacheDir: join(node!.hostPathDir, ns) }));
  const podStarted = Date.now();
  const podIp = await eventually(
    async () => {
      const pods = JSON.parse(await adminKubectl(cp, ['-n', ns, 'get', 'pods', '-l', EXAMPLE_POD_SELECTOR, '-o', 'json'])) as {
        items: { status?: { podIP?: string; conditions?: { type: string; status: string }[] } }[];
      };
      const ready = pods.items.find((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
      if (!ready?.status?.podIP) throw new Error('no Ready pod yet');
      return ready.status.podIP;
    },
    { timeout: 300_000, interval: 500 },
  );
  const podReadyMs = Date.now() - podStarted;

  // The host process gets the pod's own pool file, certificate and key.
  const configMap = JSON.parse(await adminKubectl(cp, ['-n', ns, 'get', 'configmap', EXAMPLE_SERVICE, '-o', 'json'])) as { data: Record<string, string> };
  const [poolFile, poolText] = Object.entries(configMap.data)[0]!;
  writeFileSync(join(work, poolFile), poolText);
  writeFileSync(join(work, 'api-keys'), `${key}\n`);
  host = spawn(
    process.execPath,
    [...nodeScript(repoRoot, 'inference-runtime/main.ts'), '--config', join(work, poolFile), '--host', '127.0.0.1', '--port', '0', '--model-cache', join(work, 'cache')]
      .concat(['--tls-cert', join(work, 'client', 'tls.crt'), '--tls-key', join(work, 'client', 'tls.key'), '--api-keys-file', join(work, 'api-keys')]),
    { cwd: repoRoot, env: { ...process.env, MLOFFLOAD_WORKERS: '2', NODE_ENV: 'production' }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let hostPort = 0;
  for await (const line of createInterface({ input: host.stdout! })) {
    const entry = JSON.parse(line) as { event?: string; port?: number };
    if (entry.event === 'listening') {
      hostPort = entry.port!;
      break;
    }
  }
  host.stdout!.resume();
  const hostAgent = new https.Agent({ keepAlive: true, maxSockets: 1 });
  const podAgent = new https.Agent({ keepAlive: true, maxSockets: 1 });
  const request = {
    method: 'POST',
    headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'image/jpeg' },
    body: photo,
  };
  const targets = {
    pod: () => podHttps({ podIp, namespace: ns, ca, agent: podAgent }, '/v1/vision/facial-expressions', request),
    host: () =>
      new Promise<{ status: number }>((resolve, reject) => {
        const req = https.request(
          { host: '127.0.0.1', port: hostPort, path: '/v1/vision/facial-expressions', method: 'POST', ca, servername: `${EXAMPLE_SERVICE}.${ns}.svc`, headers: request.headers, agent: hostAgent },
          (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
          },
        );
        req.on('error', reject);
        req.end(photo);
      }),
  };
  await eventually(async () => {
    const answer = await targets.host();
    if (answer.status !== 200) throw new Error(`host process answered ${answer.status}`);
  }, { timeout: 300_000, interval: 1_000 });
  const samples: Record<keyof typeof targets, number[]> = { pod: [], host: [] };
  for (const name of Object.keys(targets) as (keyof typeof targets)[]) for (let i = 0; i < 10; i++) await targets[name](); // warm-up
  const loadBefore = os.loadavg();
  for (let round = 0; round < rounds; round++) {
    for (const name of Object.keys(targets) as (keyof typeof targets)[]) {
      const end = performance.now() + seconds * 1000;
      while (performance.now() < end) {
        const started = performance.now();
        const answer = await targets[name]();
        if (answer.status !== 200) throw new Error(`${name} answered ${answer.status}`);
        samples[name].push(performance.now() - started);
      }
    }
  }
  const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
  const summary = Object.fromEntries(
    Object.entries(samples).map(([name, xs]) => [name, { requests: xs.length, p50: +pct(xs, 50).toFixed(1), p90: +pct(xs, 90).toFixed(1), p99: +pct(xs, 99).toFixed(1) }]),
  );
  console.log(
    JSON.stringify(
      {
        seconds,
        rounds,
        podReadyMs,
        loadavgBefore: loadBefore.map((l) => +l.toFixed(2)),
        loadavgAfter: os.loadavg().map((l) => +l.toFixed(2)),
        ...summary,
        podOverHostP50: +(summary.pod!.p50 / summary.host!.p50).toFixed(2),
      },
      null,
      2,
    ),
  );
  hostAgent.destroy();
  podAgent.destroy();
} finally {
  host?.kill('SIGTERM');
  await operator.stop();
  await adminKubectl(cp, ['delete', 'namespace', ns, '--wait=true', '--timeout=90s']).catch(() => undefined);
  rmSync(work, { recursive: true, force: true });
}
