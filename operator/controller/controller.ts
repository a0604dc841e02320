/**
 * Runs a reconciler over a work queue: a fixed number of workers, one reconcile per key at a time. The
 * contract: return `{ requeueAfter }` to look again later, return nothing when done, throw to retry with
 * backoff, throw TerminalError when retrying cannot help.
 */
import type { Logger } from '../logger.js';
import type { OperatorMetrics } from '../metrics.js';
import { isConflict } from '../kube/restClient.js';
import { TerminalError } from './errors.js';
import { WorkQueue } from './workQueue.js';

export interface ReconcileResult {
  requeueAfter?: number;
}

export type Reconcile = (key: string) => Promise<ReconcileResult | void>;

export interface ControllerOptions {
  workers?: number;
  queue?: WorkQueue;
  metrics: OperatorMetrics;
  logger: Logger;
}

export class Controller {
  readonly queue: WorkQueue;
  private workers: Promise<void>[] = [];
  private readonly workerCount: number;

  constructor(
    readonly name: string,
    private readonly reconcile: Reconcile,
    private readonly opts: ControllerOptions,
  ) {
    this.queue = opts.queue ?? new WorkQueue();
    this.workerCount = opts.workers ?? 4;
    opts.metrics.queueDepth.labels(name).set(0);
  }

  enqueue(key: string): void {
    this.queue.add(key);
    this.opts.metrics.queueDepth.labels(this.name).set(this.queue.len());
  }

  /** Reconciles `key` again after `ms` (as a `requeueAfter` would). */
  enqueueAfter(key: string, ms: number): void {
    this.queue.addAfter(key, ms);
  }

  get running(): boolean {
    return this.workers.length > 0;
  }

  start(): void {
    if (this.workers.length) return;
    for (let i = 0; i < this.workerCount; i++) this.workers.push(this.work());
  }

  /** Stops taking keys; with drainMs > 0 the keys already queued are processed first. */
  async stop(drainMs = 0): Promise<void> {
    if (drainMs > 0) await this.queue.shutDownWithDrain(drainMs);
    else this.queue.shutDown();
    await Promise.all(this.workers);
    this.workers = [];
  }

  private async work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      this.opts.metrics.queueDepth.labels(this.name).set(this.queue.len());
      try {
        await this.processOne(key);
      } finally {
        this.queue.done(key);
      }
    }
  }

  private async processOne(key: string): Promise<void> {
    const { metrics, logger } = this.opts;
    const end = metrics.reconcileTime.labels(this.name).startTimer();
    try {
      const result = await this.reconcile(key);
      this.queue.forget(key);
      if (result?.requeueAfter && result.requeueAfter > 0) {
        this.queue.addAfter(key, result.requeueAfter);
        metrics.reconcileTotal.labels(this.name, 'requeue').inc();
      } else {
        metrics.reconcileTotal.labels(this.name, 'success').inc();
      }
    } catch (err) {
      if (err instanceof TerminalError) {
        this.queue.forget(key);
        metrics.reconcileTotal.labels(this.name, 'terminal').inc();
        metrics.reconcileErrors.labels(this.name, 'terminal').inc();
        logger.info('reconcile stopped: spec cannot be served as is', { controller: this.name, key, reason: err.reason, error: err.message });
        return;
      }
      const kind = isConflict(err) ? 'conflict' : 'error';
      metrics.reconcileTotal.labels(this.name, kind).inc();
      metrics.reconcileErrors.labels(this.name, kind).inc();
      // A conflict only means our cache was behind: retry quietly.
      if (kind === 'error') logger.warn('reconcile failed; retrying with backoff', { controller: this.name, key, attempt: this.queue.rateLimiter.failures(key) + 1, error: String(err) });
      this.queue.addRateLimited(key);
    } finally {
      end();
    }
  }
}
