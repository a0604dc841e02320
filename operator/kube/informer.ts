/**
 * A list-watch cache that does not give up. client-node's informer stops on any watch error other than
 * 410; this one relists on 410, re-watches from the last resourceVersion after other errors with jittered
 * exponential backoff, relists periodically (delivering every object again as an update, the controller
 * resync), and reports synced only after its first complete list. resourceVersion is an opaque string.
 */
import type { KubeObject } from '../api/types.js';
import type { Logger } from '../logger.js';
import { type KubeClient, type WatchEvent, isGone } from './restClient.js';
import { type ResourceType, collectionPath } from './resources.js';
import { abortableSleep, jittered } from './timing.js';

export interface InformerHandlers<T> {
  onAdd?(obj: T): void;
  onUpdate?(obj: T, old: T): void;
  onDelete?(obj: T): void;
}

export interface InformerOptions {
  /** Watch one namespace only; all namespaces when undefined. */
  namespace?: string;
  labelSelector?: string;
  /** Full relist period. */
  resyncMs?: number;
  /** Retry backoff after a failed list or watch. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  logger: Logger;
}

function cacheKey(obj: KubeObject): string {
  return `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
}

export class Informer<T extends KubeObject> {
  private readonly objects = new Map<string, T>();
  private readonly handlers: InformerHandlers<T>[] = [];
  private readonly abort = new AbortController();
  private readonly path: string;
  private resourceVersion = '';
  private synced = false;
  private syncWaiters: (() => void)[] = [];
  private loop?: Promise<void>;
  private readonly opts: Required<Omit<InformerOptions, 'namespace' | 'labelSelector'>> & Pick<InformerOptions, 'labelSelector'>;
  /** Consecutive failures of list/watch; exposed for health reporting and tests. */
  failures = 0;
  restarts = 0;

  constructor(
    private readonly client: KubeClient,
    readonly type: ResourceType,
    opts: InformerOptions,
  ) {
    this.path = collectionPath(type, opts.namespace);
    this.opts = {
      resyncMs: opts.resyncMs ?? 10 * 60_000,
      minBackoffMs: opts.minBackoffMs ?? 200,
      maxBackoffMs: opts.maxBackoffMs ?? 30_000,
      labelSelector: opts.labelSelector,
      logger: opts.logger,
    };
  }

  addHandlers(h: InformerHandlers<T>): void {
    this.handlers.push(h);
  }

  get(namespace: string, name: string): T | undefined {
    return this.objects.get(`${namespace}/${name}`);
  }

  list(namespace?: string): T[] {
    const all = [...this.objects.values()];
    return namespace === undefined ? all : all.filter((o) => (o.metadata.namespace ?? '') === namespace);
  }

  get size(): number {
    return this.objects.size;
  }

  /**
   * Puts an object this process just wrote into the cache without notifying handlers, so the next reconcile
   * does not act on the copy from before its own write. The watch delivers the same version later (a no-op)
   * or a newer one.
   */
  observe(obj: T): void {
    if (obj?.metadata?.name) this.objects.set(cacheKey(obj), obj);
  }

  hasSynced(): boolean {
    return this.synced;
  }

  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  private emit(fn: (h: InformerHandlers<T>) => void): void {
    for (const h of this.handlers) {
      try {
        fn(h);
      } catch (err) {
        // A faulty handler must not stop the cache from following the server.
        this.opts.logger.error('informer handler failed', { resource: this.type.plural, error: String(err) });
      }
    }
  }

  private upsert(obj: T, resync: boolean): void {
    const key = cacheKey(obj);
    const old = this.objects.get(key);
    this.objects.set(key, obj);
    if (!old) this.emit((h) => h.onAdd?.(obj));
    else if (resync || old.metadata.resourceVersion !== obj.metadata.resourceVersion) this.emit((h) => h.onUpdate?.(obj, old));
  }

  private remove(obj: T): void {
    const key = cacheKey(obj);
    const old = this.objects.get(key);
    if (!old) return;
    this.objects.delete(key);
    this.emit((h) => h.onDelete?.(obj));
  }

  private async relist(): Promise<void> {
    const { items, resourceVersion } = await this.client.list<T>(this.path, { labelSelector: this.opts.labelSelector });
    const seen = new Set<string>();
    for (const item of items) {
      seen.add(cacheKey(item));
      this.upsert(item, true);
    }
    for (const [key, obj] of [...this.objects]) if (!seen.has(key)) this.remove(obj);
    this.resourceVersion = resourceVersion;
    if (!this.synced) {
      this.synced = true;
      for (const w of this.syncWaiters.splice(0)) w();
    }
  }

  private onEvent(ev: WatchEvent<T>): void {
    const obj = ev.object;
    if (ev.type === 'ADDED' || ev.type === 'MODIFIED') this.upsert(obj, false);
    else if (ev.type === 'DELETED') this.remove(obj);
    if (obj?.metadata?.resourceVersion) this.resourceVersion = obj.metadata.resourceVersion;
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    let lastList = 0;
    while (!signal.aborted) {
      try {
        if (!this.resourceVersion || Date.now() - lastList > this.opts.resyncMs) {
          await this.relist();
          lastList = Date.now();
          this.failures = 0;
        }
        // The server ends a watch after timeoutSeconds; spreading it avoids every watch reconnecting at once.
        const timeoutSeconds = 240 + Math.floor(Math.random() * 120);
        const watchStarted = Date.now();
        await this.client.watch<T>(
          this.path,
          { resourceVersion: this.resourceVersion, allowWatchBookmarks: true, timeoutSeconds, labelSelector: this.opts.labelSelector },
          (ev) => this.onEvent(ev),
          signal,
          (timeoutSeconds + 60) * 1000,
        );
        // A watch the server ends at once (an API server shutting down) must not become a busy loop.
        if (Date.now() - watchStarted < 1_000) throw new Error('watch ended immediately');
        this.failures = 0;
      } catch (err) {
        if (signal.aborted) break;
        this.restarts++;
        if (isGone(err)) {
          // Our resourceVersion was compacted away: start over from a fresh list.
          this.resourceVersion = '';
          this.opts.logger.info('watch expired; relisting', { resource: this.type.plural });
          if (this.failures++ === 0) continue;
        } else {
          this.failures++;
          this.opts.logger.warn('list/watch failed; retrying', { resource: this.type.plural, failures: this.failures, error: String(err) });
        }
        const base = Math.min(this.opts.maxBackoffMs, this.opts.minBackoffMs * 2 ** Math.min(this.failures - 1, 20));
        await abortableSleep(jittered(base), signal);
      }
    }
  }
}
