import { readFile } from 'node:fs/promises';
import type https from 'node:https';
import { Registry } from 'prom-client';
import { defaultPool } from './config/defaultPool.js';
import type { PoolConfig } from './config/types.js';
import { loadAllocatorTrim } from './core/allocatorTrim.js';
import { nativeReadListsMissing } from './http/floatLists.js';
import { jpegDecoder } from './vision/jpegDecoder.js';
import { nativeResampleMissing } from './vision/resample.js';
import { fullGarbageCollector } from './core/garbageCollector.js';
import { releaseWhenQuiet } from './core/quietRelease.js';
import { missingNodeFlags } from './nodeFlags.js';
import { MemoryBudget, resolveMemoryBudget } from './core/memoryBudget.js';
import { availableCores, cgroupCpuLimit } from './core/containerLimits.js';
import { createModelRegistry, type PoolModelRegistry } from './dataplane/modelRegistry.js';
import { ApiKeyCheck, parseApiKeys } from './http/apiKeys.js';
import { createApp } from './http/app.js';
import { demoPagePaths, demoRouter } from './http/demoPage.js';
import { jsonLineLogger, type Logger } from './http/logger.js';
import { parseRuntimeArgs, USAGE, UsageError, type RuntimeArgs } from './http/runtimeArgs.js';
import { reloadSecretsOnChange } from './http/secretReload.js';
import { startServer, type RunningServer } from './server.js';
import { tasks } from './tasks/table.js';

/**
 * The runtime process: reads its options, starts loading the pool, serves HTTP(S) at once (`/readyz` says
 * when the models are ready), and shuts down gracefully on SIGTERM/SIGINT. The only place that exits.
 */
const log = jsonLineLogger();

async function main(): Promise<void> {
  let args: RuntimeArgs;
  try {
    args = parseRuntimeArgs(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${error.message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (args.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const started = performance.now();

  const pool: PoolConfig = args.poolConfig ? await loadPool(args.poolConfig) : defaultPool();
  const keysFileContent = args.apiKeysFile ? await readFile(args.apiKeysFile) : undefined;
  const envKeys = args.apiKeys ? parseApiKeys(args.apiKeys) : [];
  const apiKeys = [...(keysFileContent ? parseApiKeys(keysFileContent.toString('utf8')) : []), ...envKeys];
  if (args.apiKeysFile && apiKeys.length === 0) {
    throw new Error(`the API keys file ${args.apiKeysFile} holds no keys; refusing to serve an open API by mistake`);
  }
  const tls: { cert: Buffer; key: Buffer } | undefined =
    args.tlsCert && args.tlsKey ? { cert: await readFile(args.tlsCert), key: await readFile(args.tlsKey) } : undefined;
  // One live key set: the reload below replaces it in place, and every request reads it.
  const keyCheck = new ApiKeyCheck(apiKeys);

  const budget = resolveMemoryBudget({ bytes: args.memoryBudgetBytes, fraction: args.memoryBudgetFraction });
  const collectGarbage = fullGarbageCollector();
  const allocator = loadAllocatorTrim();
  // Before refusing work, what a collection frees goes back to the system too (it is what the budget reads).
  const reclaim = (): void => void allocator.release(collectGarbage);
  const memoryBudget = new MemoryBudget({ limitBytes: budget.limitBytes, reclaim: budget.limitBytes === undefined ? undefined : allocator.available ? reclaim : collectGarbage });

  const nodeFlagsMissing = missingNodeFlags();
  log.info('starting', {
    pool: args.poolConfig ?? 'built-in',
    models: pool.models.map((m) => `${m.name}@${m.version}`),
    https: tls !== undefined,
    apiKeys: apiKeys.length,
    pid: process.pid,
    memoryBudgetBytes: budget.limitBytes ?? null,
    memoryBudgetSource: budget.source,
    // What the workers, onnxruntime's threads and the decodes are sized by: the CPUs, within the CPU quota.
    cores: availableCores(),
    cpuQuota: cgroupCpuLimit() ?? null,
    allocatorTrim: allocator.available ? 'on' : allocator.reason,
    // JPEGs are decoded by libjpeg-turbo alone where they can be (vision/jpegDecoder.ts), else by libvips.
    jpegDecoder: jpegDecoder().available ? 'on' : jpegDecoder().reason,
    // The detectors' letterbox is resampled in C (vision/resample.ts), else by its JavaScript twin.
    letterbox: nativeResampleMissing() ?? 'on',
    // The nested lists of numbers of JSON inference bodies are read in C (http/floatLists.ts), else in JavaScript.
    jsonFloats: nativeReadListsMissing() ?? 'on',
    // Started without them (node main.js by hand), the runtime serves as well but spends more CPU on collections.
    ...(nodeFlagsMissing.length > 0 ? { nodeFlagsMissing } : {}),
  });

  const taskLimits = {
    maxBodyBytes: args.maxBodyBytes,
    maxDecodeBytes: args.maxDecodeBytes,
    maxConcurrentDecodes: args.maxConcurrentDecodes,
    maxWaitingDecodes: args.maxWaitingDecodes,
  };
  const registry = createModelRegistry(pool, {
    repository: args.modelCache ? { cacheDir: args.modelCache } : undefined,
    workers: args.workers,
    tasks,
    logger: log,
  });
  const draining = new AbortController();
  const app = createApp({
    registry,
    options: {
      protectMetrics: args.protectMetrics,
      corsOrigins: args.corsOrigins,
      maxBodyBytes: args.maxBodyBytes,
      requestTimeoutMs: args.requestTimeoutMs,
      maxRowsPerRequest: args.maxRowsPerRequest,
    },
    memoryBudget,
    metrics: new Registry(),
    tasks: tasks.mount(taskLimits),
    routers: [demoRouter()],
    // The demo page asks for the key itself and sends it with its API calls.
    publicPaths: demoPagePaths(),
    draining: draining.signal,
    queueDepth: () => registry.queueDepth(),
    log,
    apiKeys: keyCheck,
  });

  let server: RunningServer;
  try {
    server = await startServer(app.callback(), {
      port: args.port,
      host: args.host,
      tls,
      shutdownTimeoutMs: args.shutdownTimeoutMs,
      limits: args.connectionLimits,
    });
  } catch (error) {
    await registry.close();
    throw error;
  }
  log.info('listening', { url: server.url, port: server.port });
  const secrets = reloadSecretsOnChange({
    intervalMs: args.secretReloadMs,
    log,
    apiKeys: args.apiKeysFile && keysFileContent ? { file: args.apiKeysFile, initial: keysFileContent, check: keyCheck, extra: envKeys } : undefined,
    tls: tls && args.tlsCert && args.tlsKey ? { certFile: args.tlsCert, keyFile: args.tlsKey, initial: tls, server: server.server as https.Server } : undefined,
  });
  draining.signal.addEventListener('abort', () => secrets.close(), { once: true });
  handleSignals(server, registry, draining, args.shutdownTimeoutMs, log);

  // `/readyz` answers 200 from `models_available` on; `models_ready` follows once the load-time benchmarks
  // (taken after every model loaded) are published too.
  // One release at a time, in the order asked (models_available's before models_ready's).
  let releasing: Promise<unknown> = Promise.resolve();
  const releaseMemory = (): Promise<{ rssMiB: number; releasedMiB?: number }> => {
    const next = releasing.then(async () => {
      const before = process.memoryUsage.rss();
      if (!allocator.available) return { rssMiB: mib(before) };
      // Dead request bodies, decoded images and benchmark inputs hold their malloc'd backing stores until V8
      // collects them: collected first (inside the release, so the arenas they free into return their tops),
      // their memory is free for the trim to return (30+ MiB after 3,000 requests). Then each inference
      // thread collects its own dead tensors and returns its arena's free memory and top (40 MiB after
      // 10,000 requests), and each libuv pool thread its arena's top (30 MiB).
      allocator.release(collectGarbage);
      await Promise.all([registry.executor.releaseArenas(), allocator.releasePoolArenas()]);
      const after = process.memoryUsage.rss();
      return { rssMiB: mib(after), releasedMiB: mib(Math.max(0, before - after)) };
    });
    releasing = next.catch(() => undefined);
    return next;
  };
  // Loading and warming up the models, then their benchmarks' batched runs, leave freed memory in the
  // inference threads' allocator arenas (core/allocatorTrim.ts): it goes back to the system after each.
  let loadedMs: number | undefined;
  void registry.whenLoaded().then(() => {
    loadedMs = Math.round(performance.now() - started);
    const fields = { ready: registry.isReady(), startupMs: loadedMs };
    void releaseMemory().then((released) => log.info('models_available', { ...fields, ...released }));
  });
  void registry.whenSettled().then(async () => {
    const models = registry.list().map((m) => ({ name: m.name, version: m.version, state: m.state, backend: m.backend, reason: m.reason }));
    const ready = registry.isReady();
    const measuredMs = Math.round(performance.now() - started);
    const fields = { ready, startupMs: loadedMs, measuredMs, models, ...(await releaseMemory()) };
    if (ready) log.info('models_ready', fields);
    else log.warn('models_settled_with_failures', fields);
    // Requests leave their buffers in the arenas too: what a spell of traffic left goes back when it ends.
    if (!allocator.available || draining.signal.aborted) return;
    const quiet = releaseWhenQuiet({ release: () => void releaseMemory().then((released) => log.info('memory_released', released)) });
    draining.signal.addEventListener('abort', () => quiet.stop(), { once: true });
  });
}

const mib = (bytes: number): number => Math.round(bytes / 2 ** 20);

/** Routes of the task modules mounted here until the task table mounts every module's routes. */
/** The pool file loader (YAML parser, schema compiler) is only loaded when a pool file is given. */
async function loadPool(file: string): Promise<PoolConfig> {
  const { loadPoolConfig } = await import('./config/poolConfig.js');
  return loadPoolConfig(file);
}

function handleSignals(server: RunningServer, registry: PoolModelRegistry, draining: AbortController, boundMs: number, log: Logger): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log.warn('shutdown_forced', { signal });
      process.exit(1);
    }
    stopping = true;
    const began = performance.now();
    draining.abort();
    // The listening socket is closed before the event is logged: whoever reads `shutdown_started` can count
    // on new connections being refused.
    const closed = server.close();
    log.info('shutdown_started', { signal, boundMs });
    // Whatever hangs (a model still loading, a stuck socket), the process leaves shortly after the bound.
    setTimeout(() => {
      log.error('shutdown_timed_out', { boundMs });
      process.exit(1);
    }, boundMs + 5_000).unref();
    void (async () => {
      const { forced } = await closed;
      await registry.close();
      log.info('shutdown_complete', { forced, ms: Math.round(performance.now() - began) });
      process.exit(forced ? 1 : 0);
    })().catch((error: unknown) => {
      log.error('shutdown_failed', { error });
      process.exit(1);
    });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

process.on('uncaughtException', (error) => {
  log.error('uncaught_exception', { error });
  process.exit(1);
});
process.on('unhandledRejection', (reason) => {
  log.error('unhandled_rejection', { error: reason });
});

main().catch((error: unknown) => {
  log.error('startup_failed', { error: error instanceof Error ? error.message : String(error) });
  process.exit(1);
});
