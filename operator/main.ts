/**
 * mloffload-operator CLI: reconciles MLModels and MLServices in the cluster of the current kubeconfig
 * ($KUBECONFIG, ~/.kube/config, or the in-cluster service account).
 *
 *   npm run operator -- --metrics-port 8081 --leader-elect --namespace edge-ml
 */
import { parseArgs } from 'node:util';
import { createLogger, type LogLevel } from './logger.js';
import { parseQuantity } from './kube/semanticEqual.js';
import { startOperator } from './operator.js';

const USAGE = `usage: mloffload-operator [options]
  --kubeconfig <file>         kubeconfig to use (default: $KUBECONFIG, ~/.kube/config, in-cluster)
  --namespace <ns>            watch one namespace only (default: all namespaces; env WATCH_NAMESPACE)
  --metrics-port <port>       port of /healthz, /readyz, /metrics (default 8081; env METRICS_PORT)
  --metrics-host <addr>       address to bind (default 0.0.0.0)
  --leader-elect              only the holder of a Lease reconciles (for several replicas)
  --lease-namespace <ns>      namespace of the Lease (default: $POD_NAMESPACE, --namespace, default)
  --lease-name <name>         name of the Lease (default mloffload-operator)
  --lease-duration <dur>      e.g. 15s (default 15s); --renew-deadline (10s), --retry-period (2s)
  --runtime-image <image>     inference-runtime image (default mloffload/inference-runtime:<version>;
                              env MLOFFLOAD_RUNTIME_IMAGE)
  --allowed-images <list>     comma-separated runtime images an MLService's spec.image may name: repositories
                              (any tag or digest), <registry>/<path>/* prefixes, or * for any (default: the
                              repository of --runtime-image)
  --host-path-prefix <path>   hostPath model caches must lie under it (default /var/lib/mloffload; '' forbids
                              hostPath caches)
  --allowed-toleration-keys <list>
                              taint keys an MLService may tolerate: keys, <prefix>*, or * (default
                              node-role.kubernetes.io/edge; '' none)
  --allowed-node-selector-keys <list>
                              node label keys an MLService's nodeSelector may use, same forms and default
  --default-memory-limit <q>  memory limit of runtime containers whose MLService sets none (default 1536Mi;
                              '' none)
  --default-memory-request <q>
                              memory request likewise (default 768Mi; '' none)
  --prepare-cache <bool>      init container making a hostPath cache writable by the runtime (default true)
  --workers <n>               concurrent reconciles per controller (default 8)
  --observe-runtime-pods=false  do not read running pods for status.endpoints and MLModel status.benchmark
                              (MLOFFLOAD_OBSERVE_RUNTIME_PODS; default true)
  --log-level <level>         debug | info | warn | error (default info)
  --help`;

/** "15s", "1500ms", "2m" or plain seconds, in milliseconds. */
function duration(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(v.trim());
  if (!m) throw new Error(`--${name}: not a duration: ${v}`);
  const n = Number(m[1]);
  return m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000;
}

/** A comma-separated list; '' is the empty list, absent is the default. */
function listOf(v: string | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  return v.split(',').map((x) => x.trim()).filter((x) => x !== '');
}

function quantity(v: string | undefined, name: string): string | undefined {
  if (v === undefined || v.trim() === '') return v?.trim();
  if (parseQuantity(v.trim()) === undefined) throw new Error(`--${name}: not a quantity: ${v}`);
  return v.trim();
}

function bool(v: string | undefined, name: string): boolean | undefined {
  if (v === undefined) return undefined;
  if (v !== 'true' && v !== 'false') throw new Error(`--${name}: expected true or false, got ${v}`);
  return v === 'true';
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      kubeconfig: { type: 'string' },
      namespace: { type: 'string' },
      'metrics-port': { type: 'string' },
      'metrics-host': { type: 'string' },
      'leader-elect': { type: 'boolean', default: false },
      'lease-namespace': { type: 'string' },
      'lease-name': { type: 'string' },
      'lease-duration': { type: 'string' },
      'renew-deadline': { type: 'string' },
      'retry-period': { type: 'string' },
      'runtime-image': { type: 'string' },
      'allowed-images': { type: 'string' },
      'host-path-prefix': { type: 'string' },
      'allowed-toleration-keys': { type: 'string' },
      'allowed-node-selector-keys': { type: 'string' },
      'default-memory-limit': { type: 'string' },
      'default-memory-request': { type: 'string' },
      'prepare-cache': { type: 'string' },
      workers: { type: 'string' },
      'observe-runtime-pods': { type: 'string' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    return;
  }
  const logLevel = (values['log-level'] ?? process.env.LOG_LEVEL ?? 'info') as LogLevel;
  const logger = createLogger(logLevel, { component: 'mloffload-operator' });
  const port = values['metrics-port'] ?? process.env.METRICS_PORT;
  const op = await startOperator(values.kubeconfig, {
    namespace: values.namespace ?? process.env.WATCH_NAMESPACE,
    metricsPort: port !== undefined ? Number(port) : 8081,
    metricsHost: values['metrics-host'],
    leaderElection: values['leader-elect']
      ? {
          namespace: values['lease-namespace'],
          name: values['lease-name'],
          leaseDurationMs: duration(values['lease-duration'], 'lease-duration'),
          renewDeadlineMs: duration(values['renew-deadline'], 'renew-deadline'),
          retryPeriodMs: duration(values['retry-period'], 'retry-period'),
        }
      : false,
    runtimeImage: values['runtime-image'],
    tenancy: {
      allowedImages: listOf(values['allowed-images']),
      hostPathPrefix: values['host-path-prefix'],
      allowedTolerationKeys: listOf(values['allowed-toleration-keys']),
      allowedNodeSelectorKeys: listOf(values['allowed-node-selector-keys']),
    },
    runtimeMemory: { limit: quantity(values['default-memory-limit'], 'default-memory-limit'), request: quantity(values['default-memory-request'], 'default-memory-request') },
    prepareCache: bool(values['prepare-cache'], 'prepare-cache'),
    workers: values.workers ? Number(values.workers) : undefined,
    observeRuntimePods: (values['observe-runtime-pods'] ?? process.env.MLOFFLOAD_OBSERVE_RUNTIME_PODS ?? 'true') !== 'false',
    logger,
    processMetrics: true,
  });
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    // Whatever still holds the event loop after a clean stop must not keep a terminating pod alive.
    setTimeout(() => {
      logger.error('shutdown timed out');
      process.exit(1);
    }, 30_000).unref();
    op.stop().then(
      () => {
        process.exitCode = 0;
      },
      (err: unknown) => {
        logger.error('shutdown failed', { error: String(err) });
        process.exitCode = 1;
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`mloffload-operator: ${err instanceof Error ? err.message : String(err)}\n${USAGE}\n`);
  process.exitCode = 1;
});
