/**
 * Assembles the operator: informers on MLModels, MLServices and the children, two controllers, leader
 * election and the health/metrics server. `startOperator` returns once the server listens; caches sync
 * in the background (readyz turns 200 after the first list of every informer).
 */
import type { KubeObject, MLModel, MLService } from './api/types.js';
import { keyOf } from './api/types.js';
import { type RuntimeDefaults, defaultRuntimeImage } from './builders/deployment.js';
import { FIELD_MANAGER, MANAGED_BY_SELECTOR } from './builders/metadata.js';
import { Controller, type Reconcile } from './controller/controller.js';
import { WorkQueue } from './controller/workQueue.js';
import { defaultRateLimiter } from './controller/rateLimiter.js';
import { type HealthServer, startHealthServer } from './healthServer.js';
import { type ClusterConnection, type KubeConfigLike, connectionFromKubeConfig, loadConnection } from './kube/connection.js';
import { createEventRecorder } from './kube/events.js';
import { Informer } from './kube/informer.js';
import { KubeClient } from './kube/restClient.js';
import { CONFIGMAPS, DEPLOYMENTS, HPAS, MLMODELS, MLSERVICES, SERVICES } from './kube/resources.js';
import { LeaderElector } from './leaderElection.js';
import { type LogLevel, type Logger, createLogger } from './logger.js';
import { type OperatorMetrics, createMetrics } from './metrics.js';
import type { DeploymentObject, ReconcileContext } from './reconcile/context.js';
import { servicesUsing } from './reconcile/context.js';
import { makeModelReconciler } from './reconcile/mlmodel.js';
import { makeServiceReconciler } from './reconcile/mlservice.js';
import { type TenancySettings, tenancyPolicy } from './policy/tenancy.js';
import { BenchmarkReader, BenchmarkStore } from './reconcile/benchmarks.js';
import { RuntimeObserver } from './reconcile/runtimeObservation.js';
import { packageVersion } from './version.js';

export interface LeaderElectionConfig {
  namespace?: string;
  name?: string;
  identity?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
}

export interface OperatorOptions {
  /** Watch and reconcile this namespace only; all namespaces when undefined. */
  namespace?: string;
  /** Port of /healthz, /readyz, /metrics; 0 picks a free port, null disables the server. */
  metricsPort?: number | null;
  metricsHost?: string;
  /** false: reconcile at once (single instance). true or settings: only the Lease holder reconciles. */
  leaderElection?: boolean | LeaderElectionConfig;
  runtimeImage?: string;
  imagePullPolicy?: RuntimeDefaults['imagePullPolicy'];
  runtimeCommand?: string[];
  /** Memory limit/request of runtime containers whose MLService sets none ('' leaves it unset). */
  runtimeMemory?: RuntimeDefaults['memory'];
  /** Add the init container that chowns a hostPath model cache to the runtime user (default true). */
  prepareCache?: boolean;
  /** What an MLService may ask for: allowed images, host path prefix, placement keys. */
  tenancy?: TenancySettings;
  /** Concurrent reconciles per controller (default 8: a reconcile mostly waits for the API server). */
  workers?: number;
  resyncMs?: number;
  drainTimeoutMs?: number;
  rateLimit?: { baseMs?: number; maxMs?: number; qps?: number; burst?: number };
  logger?: Logger;
  logLevel?: LogLevel;
  /** Also export process metrics (CPU, RSS, GC). */
  processMetrics?: boolean;
  /**
   * Read running runtime pods: MLService status.endpoints and MLModel status.benchmark (through the API
   * server's pods/proxy). Off by default here, on in the operator binary (`operator/main.ts`).
   */
  observeRuntimePods?: boolean;
  /**
   * How often running pods are looked at again for status.endpoints, and how long a pod whose benchmarks
   * could not be read waits before the next try (default 60 s).
   */
  runtimeObservationMs?: number;
}

export interface OperatorHandle {
  /** Port of the health/metrics server, when it runs. */
  port?: number;
  identity: string;
  metrics: OperatorMetrics;
  isLeader(): boolean;
  isReady(): boolean;
  waitForSync(): Promise<void>;
  /** Direct calls of the reconcilers, for deterministic tests. */
  reconcileService: Reconcile;
  reconcileModel: Reconcile;
  /** Drains the queues, releases the Lease, stops watches and the server. */
  stop(): Promise<void>;
}

function isConnection(x: unknown): x is ClusterConnection {
  return typeof x === 'object' && x !== null && 'agent' in x && 'server' in x && typeof (x as ClusterConnection).headers === 'function';
}

function controllerOwner(obj: KubeObject): string | undefined {
  const ref = obj.metadata.ownerReferences?.find((r) => r.controller && r.kind === 'MLService' && r.apiVersion.startsWith('mloffload.io/'));
  return ref ? `${obj.metadata.namespace ?? ''}/${ref.name}` : undefined;
}

export async function startOperator(kubeconfig: KubeConfigLike | ClusterConnection | string | undefined, opts: OperatorOptions = {}): Promise<OperatorHandle> {
  const logger = opts.logger ?? createLogger(opts.logLevel ?? 'info', { component: FIELD_MANAGER });
  const runtimeImage = opts.runtimeImage ?? process.env.MLOFFLOAD_RUNTIME_IMAGE ?? defaultRuntimeImage(packageVersion());
  // Settings that cannot be meant fail the start, before anything connects.
  const policy = tenancyPolicy(opts.tenancy ?? {}, runtimeImage);
  const conn = isConnection(kubeconfig)
    ? kubeconfig
    : typeof kubeconfig === 'string' || kubeconfig === undefined
      ? await loadConnection(kubeconfig)
      : await connectionFromKubeConfig(kubeconfig);
  const ownsConnection = !isConnection(kubeconfig);
  const client = new KubeClient(conn);
  // The reconcilers write only within a leadership term: when it ends, their requests in flight are
  // cancelled and new ones refused, so a deposed leader cannot write after a standby took over.
  let term: AbortController | undefined;
  const notLeading = AbortSignal.abort(new Error('not leading'));
  const termClient = client.withSignal(() => term?.signal ?? notLeading);
  const metrics = createMetrics({ defaultMetrics: opts.processMetrics });
  const informerOpts = { namespace: opts.namespace, resyncMs: opts.resyncMs, logger };
  const childOpts = { ...informerOpts, labelSelector: MANAGED_BY_SELECTOR };
  const models = new Informer<MLModel>(client, MLMODELS, informerOpts);
  const services = new Informer<MLService>(client, MLSERVICES, informerOpts);
  const deployments = new Informer<DeploymentObject>(client, DEPLOYMENTS, childOpts);
  const k8sServices = new Informer<KubeObject>(client, SERVICES, childOpts);
  const configMaps = new Informer<KubeObject>(client, CONFIGMAPS, childOpts);
  const hpas = new Informer<KubeObject>(client, HPAS, childOpts);
  const informers: Informer<KubeObject>[] = [models, services, deployments, k8sServices, configMaps, hpas] as Informer<KubeObject>[];

  const ctx: ReconcileContext = {
    client: termClient, models, services, deployments, k8sServices, configMaps, hpas, metrics, logger,
    runtime: {
      image: runtimeImage,
      imagePullPolicy: opts.imagePullPolicy,
      command: opts.runtimeCommand,
      memory: opts.runtimeMemory,
      prepareCache: opts.prepareCache,
    },
    policy,
    events: createEventRecorder(termClient, FIELD_MANAGER, logger),
  };
  // Benchmarks of running pods go through the MLModel reconcile, the only writer of MLModel status.
  ctx.benchmarks = new BenchmarkStore();
  const benchmarkReader = new BenchmarkReader({
    client: termClient,
    store: ctx.benchmarks,
    modelChanged: (key) => {
      logger.info('read runtime benchmarks', { model: key });
      enqueueModel(key);
    },
    retryMs: opts.runtimeObservationMs,
    readAgain: (key, ms) => controllers?.service.enqueueAfter(key, ms),
    unreachable: (svc, pod, error, first) => {
      logger.warn('could not read the benchmarks of a runtime pod', { service: keyOf(svc), pod, error });
      if (first) ctx.events.record(svc, 'Warning', 'BenchmarkUnreachable', `pod ${pod}: the API server's pod proxy did not reach the runtime (${error.slice(0, 300)}); MLModel status.benchmark keeps its last figures`);
    },
  });
  if (opts.observeRuntimePods) ctx.observer = new RuntimeObserver(termClient, benchmarkReader, logger, opts.runtimeObservationMs);
  const reconcileModel = makeModelReconciler(ctx);
  const reconcileService = makeServiceReconciler(ctx);

  // Controllers exist only while leading; a new term starts with fresh queues and a full pass over the caches.
  let controllers: { model: Controller; service: Controller } | undefined;
  const enqueueService = (key: string) => controllers?.service.enqueue(key);
  const enqueueModel = (key: string) => controllers?.model.enqueue(key);
  const newController = (name: string, reconcile: Reconcile) =>
    new Controller(name, reconcile, { workers: opts.workers ?? 8, metrics, logger, queue: new WorkQueue(defaultRateLimiter(opts.rateLimit)) });

  let syncedAll = false;
  const waitForSync = () => Promise.all(informers.map((i) => i.waitForSync())).then(() => undefined);
  const synced = waitForSync().then(() => {
    syncedAll = true;
  });

  const startControllers = () => {
    if (controllers) return;
    const current = { model: newController('mlmodel', reconcileModel), service: newController('mlservice', reconcileService) };
    controllers = current;
    term = new AbortController();
    metrics.isLeader.set(1);
    current.model.start();
    current.service.start();
    void synced.then(() => {
      if (controllers !== current) return;
      for (const m of models.list()) current.model.enqueue(keyOf(m));
      for (const s of services.list()) current.service.enqueue(keyOf(s));
    });
  };
  const stopControllers = async (drainMs = 0) => {
    const current = controllers;
    const currentTerm = term;
    controllers = undefined;
    metrics.isLeader.set(0);
    // Without a drain (the Lease is lost) nothing may be written any more; a drain (shutdown while still
    // leading) lets the queued reconciles finish first.
    if (drainMs <= 0) currentTerm?.abort(new Error('stopped leading'));
    if (current) await Promise.all([current.model.stop(drainMs), current.service.stop(drainMs)]);
    currentTerm?.abort(new Error('stopped leading'));
    if (term === currentTerm) term = undefined;
  };

  // Keys, not events: every handler only works out which keys to look at.
  const specChanged = (obj: KubeObject & { metadata: { generation?: number } }, old: KubeObject & { metadata: { generation?: number } }) =>
    old.metadata.resourceVersion === obj.metadata.resourceVersion || // periodic resync
    old.metadata.generation !== obj.metadata.generation ||
    old.metadata.deletionTimestamp !== obj.metadata.deletionTimestamp;
  const refsOf = (s: MLService) => (s.spec?.models ?? []).map((m) => `${s.metadata.namespace ?? ''}/${m.name}`);
  services.addHandlers({
    onAdd: (s) => {
      enqueueService(keyOf(s));
      refsOf(s).forEach(enqueueModel);
    },
    onUpdate: (s, old) => {
      if (!specChanged(s, old)) return;
      enqueueService(keyOf(s));
      new Set([...refsOf(s), ...refsOf(old)]).forEach(enqueueModel);
    },
    onDelete: (s) => refsOf(s).forEach(enqueueModel),
  });
  const modelChanged = (m: MLModel) => {
    enqueueModel(keyOf(m));
    for (const s of servicesUsing(services, m.metadata.namespace ?? '', m.metadata.name)) enqueueService(keyOf(s));
  };
  models.addHandlers({
    onAdd: modelChanged,
    onUpdate: (m, old) => {
      if (specChanged(m, old)) modelChanged(m);
      else enqueueModel(keyOf(m));
    },
    onDelete: modelChanged,
  });
  const toOwner = (obj: KubeObject) => {
    const owner = controllerOwner(obj);
    if (owner) enqueueService(owner);
  };
  for (const inf of [deployments, k8sServices, configMaps, hpas] as Informer<KubeObject>[]) {
    inf.addHandlers({ onAdd: toOwner, onUpdate: toOwner, onDelete: toOwner });
  }

  let health: HealthServer | undefined;
  if (opts.metricsPort !== null) {
    health = await startHealthServer({ port: opts.metricsPort ?? 8081, host: opts.metricsHost, registry: metrics.registry, isReady: () => syncedAll });
  }
  for (const inf of informers) inf.start();

  const le = opts.leaderElection;
  let elector: LeaderElector | undefined;
  if (le) {
    const cfg: LeaderElectionConfig = le === true ? {} : le;
    elector = new LeaderElector(client, {
      namespace: cfg.namespace ?? process.env.POD_NAMESPACE ?? opts.namespace ?? 'default',
      name: cfg.name ?? 'mloffload-operator',
      identity: cfg.identity,
      leaseDurationMs: cfg.leaseDurationMs,
      renewDeadlineMs: cfg.renewDeadlineMs,
      retryPeriodMs: cfg.retryPeriodMs,
      logger,
      onStartedLeading: startControllers,
      // Losing the Lease means another instance may already write: stop at once, without draining.
      onStoppedLeading: () => void stopControllers(0),
    });
    elector.start();
  } else {
    startControllers();
  }
  logger.info('operator started', { namespace: opts.namespace ?? '(all)', port: health?.port, leaderElection: !!le, image: ctx.runtime.image, policy });

  let stopping: Promise<void> | undefined;
  return {
    port: health?.port,
    identity: elector?.identity ?? 'standalone',
    metrics,
    isLeader: () => (elector ? elector.isLeader() : true),
    isReady: () => syncedAll,
    waitForSync,
    reconcileService,
    reconcileModel,
    stop() {
      stopping ??= (async () => {
        await stopControllers(opts.drainTimeoutMs ?? 10_000);
        await elector?.stop();
        await Promise.all(informers.map((i) => i.stop()));
        await health?.close();
        if (ownsConnection) conn.close();
        logger.info('operator stopped');
      })();
      return stopping;
    },
  };
}
