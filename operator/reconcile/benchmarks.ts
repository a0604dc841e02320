/**
 * MLModel `status.benchmark`: the figures each runtime pod measured after loading its pool, read from the
 * pod's discovery document (`GET /v1/discovery`, no API key needed) through the API server's pod proxy.
 * A pod's figures do not change once taken, so each pod is read until it says `ready` and every available
 * model of the service carries its figures (again after a failure or while it loads, after a pause; while a
 * ready runtime is still taking its load-time benchmarks, after a short pause that doubles, with the service
 * asked back for it). The store keeps the newest entry per (model, node) for the current model version; the
 * MLModel reconciler writes them, so MLModel status keeps a single writer.
 */
import type { BenchmarkEntry, MLModel, MLService } from '../api/types.js';
import { MAX_BENCHMARK_ENTRIES } from '../api/crdSchemas.js';
import { conforms, type ShapeSchema } from '../api/jsonShape.js';
import { MODEL_BENCHMARK_SCHEMA } from '../../inference-runtime/core/benchmarkSchema.js';
import type { ModelBenchmark } from '../../inference-runtime/core/registry.js';
import { servicePort } from '../builders/metadata.js';
import { podProxyGet } from '../kube/podProxy.js';
import type { KubeClient } from '../kube/restClient.js';

export { MAX_BENCHMARK_ENTRIES };
/** A pod whose discovery document could not be read is tried again after this pause. */
export const BENCHMARK_RETRY_MS = 60_000;
/**
 * Reads of a ready pod whose available models have not all published a benchmark (the runtime takes them
 * after it turns ready, seconds per model), before giving up on the missing ones: a model whose benchmark
 * failed never gets one.
 */
export const MAX_READS_WHILE_MEASURING = 5;
/**
 * Pause before reading again a ready pod whose benchmarks are still being taken, doubled after each such read
 * (5, 10, 20, 40 s: the status shows a model's figures within seconds of the runtime publishing them, not a
 * refresh period later).
 */
export const MEASURING_RETRY_MS = 5_000;

const BENCHMARK_SHAPE: ShapeSchema = MODEL_BENCHMARK_SCHEMA;

/** The part of the runtime's discovery document this reads; everything else is ignored. */
interface DiscoveryView {
  models?: Array<{ name?: unknown; version?: unknown; state?: unknown; benchmark?: unknown }>;
}

/** Whether an available model of the service at its current version has no benchmark in the document yet. */
function stillMeasuring(doc: unknown, models: readonly MLModel[]): boolean {
  if (typeof doc !== 'object' || doc === null || !Array.isArray((doc as DiscoveryView).models)) return false;
  const wanted = new Map(models.map((m) => [m.metadata.name, m.spec.version]));
  return (doc as DiscoveryView).models!.slice(0, 256).some(
    (m) => typeof m === 'object' && m !== null && m.state === 'AVAILABLE' && typeof m.name === 'string' && wanted.get(m.name) === m.version && m.benchmark === undefined,
  );
}

export interface BenchmarkPod {
  metadata: { name: string; uid?: string };
  spec?: { nodeName?: string };
}

export class BenchmarkStore {
  /** ns/model -> node -> entry. */
  private readonly entries = new Map<string, Map<string, BenchmarkEntry>>();

  /** Records an entry; true when it changed what the model's status would show. */
  record(namespace: string, model: string, entry: BenchmarkEntry): boolean {
    const key = `${namespace}/${model}`;
    let byNode = this.entries.get(key);
    if (!byNode) this.entries.set(key, (byNode = new Map()));
    const old = byNode.get(entry.node);
    if (old && old.measuredAt === entry.measuredAt && old.version === entry.version && old.pod === entry.pod) return false;
    byNode.set(entry.node, entry);
    return true;
  }

  /** Newest first, current version only, at most MAX_BENCHMARK_ENTRIES; undefined when nothing was read. */
  forModel(namespace: string, model: string, version: string): BenchmarkEntry[] | undefined {
    const byNode = this.entries.get(`${namespace}/${model}`);
    if (!byNode) return undefined;
    return [...byNode.values()]
      .filter((e) => e.version === version)
      .sort((a, b) => b.measuredAt.localeCompare(a.measuredAt) || a.node.localeCompare(b.node))
      .slice(0, MAX_BENCHMARK_ENTRIES);
  }

  forget(namespace: string, model: string): void {
    this.entries.delete(`${namespace}/${model}`);
  }
}

/** The benchmark entries a discovery document holds for the service's models at their current versions. */
export function entriesFrom(doc: unknown, svc: MLService, models: readonly MLModel[], pod: BenchmarkPod): Array<{ model: string; entry: BenchmarkEntry }> {
  if (typeof doc !== 'object' || doc === null || !Array.isArray((doc as DiscoveryView).models)) return [];
  const wanted = new Map(models.map((m) => [m.metadata.name, m.spec.version]));
  const out: Array<{ model: string; entry: BenchmarkEntry }> = [];
  for (const m of (doc as DiscoveryView).models!.slice(0, 256)) {
    if (typeof m !== 'object' || m === null || typeof m.name !== 'string' || typeof m.version !== 'string') continue;
    if (wanted.get(m.name) !== m.version) continue;
    if (!conforms(BENCHMARK_SHAPE, m.benchmark)) continue;
    const benchmark = m.benchmark as ModelBenchmark;
    out.push({ model: m.name, entry: { ...benchmark, version: m.version, service: svc.metadata.name, pod: pod.metadata.name } });
  }
  return out;
}

export interface BenchmarkReaderDeps {
  client: KubeClient;
  store: BenchmarkStore;
  /** Called with `namespace/name` of each MLModel whose entries changed. */
  modelChanged(key: string): void;
  /** A pod could not be read; `first` on the first failure for this pod (an Event then, the log every time). */
  unreachable(svc: MLService, pod: string, error: string, first: boolean): void;
  /** Pause before reading a pod again after a failure (default BENCHMARK_RETRY_MS). */
  retryMs?: number;
  /** First pause before reading a still-measuring pod again (default MEASURING_RETRY_MS, then doubled). */
  measuringRetryMs?: number;
  /** Asks for the service (`namespace/name`) to be reconciled again after `ms`: a pod is due for a read then. */
  readAgain?(key: string, ms: number): void;
  now?: () => number;
}

/** Reads ready pods once each (one read per pod at a time); remembers failures to retry after a pause. */
export class BenchmarkReader {
  private readonly done = new Set<string>();
  private readonly inFlight = new Set<string>();
  private readonly failedAt = new Map<string, number>();
  /** Reads of pods that were ready while their benchmarks were still being taken. */
  private readonly measuringReads = new Map<string, number>();
  /** When a still-measuring pod is to be read again. */
  private readonly measuringDue = new Map<string, number>();
  /** MLService key -> ids of its ready pods at the last read. */
  private readonly podsOf = new Map<string, Set<string>>();

  constructor(private readonly deps: BenchmarkReaderDeps) {}

  async read(svc: MLService, models: readonly MLModel[], readyPods: readonly BenchmarkPod[]): Promise<void> {
    const now = this.deps.now?.() ?? Date.now();
    const namespace = svc.metadata.namespace ?? 'default';
    const live = new Set(readyPods.map((p) => p.metadata.uid ?? p.metadata.name));
    await Promise.all(
      readyPods.map(async (pod) => {
        const id = pod.metadata.uid ?? pod.metadata.name;
        if (this.done.has(id) || this.inFlight.has(id)) return;
        const failed = this.failedAt.get(id);
        if (failed !== undefined && now - failed < (this.deps.retryMs ?? BENCHMARK_RETRY_MS)) return;
        if ((this.measuringDue.get(id) ?? now) > now) return;
        let doc: unknown;
        this.inFlight.add(id);
        try {
          doc = await podProxyGet(this.deps.client, { namespace, pod: pod.metadata.name, scheme: svc.spec.tls ? 'https' : 'http', port: servicePort(svc) }, '/v1/discovery');
        } catch (error) {
          this.deps.unreachable(svc, pod.metadata.name, error instanceof Error ? error.message : String(error), failed === undefined);
          this.failedAt.set(id, this.deps.now?.() ?? Date.now());
          return;
        } finally {
          this.inFlight.delete(id);
        }
        // A runtime still loading (its pod may be Ready before: kwok, or a probe without /readyz) has no
        // figures yet: look again later, as after a failure but without reporting one.
        if ((doc as { ready?: unknown } | undefined)?.ready !== true) {
          this.failedAt.set(id, this.deps.now?.() ?? Date.now());
          return;
        }
        this.failedAt.delete(id);
        for (const { model, entry } of entriesFrom(doc, svc, models, pod)) {
          if (this.deps.store.record(namespace, model, entry)) this.deps.modelChanged(`${namespace}/${model}`);
        }
        const reads = (this.measuringReads.get(id) ?? 0) + 1;
        if (stillMeasuring(doc, models) && reads < MAX_READS_WHILE_MEASURING) {
          this.measuringReads.set(id, reads);
          const pause = (this.deps.measuringRetryMs ?? MEASURING_RETRY_MS) * 2 ** (reads - 1);
          this.measuringDue.set(id, (this.deps.now?.() ?? Date.now()) + pause);
          this.deps.readAgain?.(`${namespace}/${svc.metadata.name}`, pause);
          return;
        }
        this.measuringReads.delete(id);
        this.measuringDue.delete(id);
        this.done.add(id);
      }),
    );
    // Forget pods of this service that are gone, so the sets stay as small as the fleet.
    const key = `${namespace}/${svc.metadata.name}`;
    for (const id of this.podsOf.get(key) ?? []) {
      if (live.has(id)) continue;
      this.done.delete(id);
      this.failedAt.delete(id);
      this.measuringReads.delete(id);
      this.measuringDue.delete(id);
    }
    this.podsOf.set(key, live);
  }

  /** Whether a pod of the service (`namespace/name`) is due for another read while it measures. */
  due(key: string, now: number): boolean {
    for (const id of this.podsOf.get(key) ?? []) {
      const at = this.measuringDue.get(id);
      if (at !== undefined && at <= now) return true;
    }
    return false;
  }
}
