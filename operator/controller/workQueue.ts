/**
 * A keyed work queue with controller-runtime semantics: a key is queued at most once (dirty set), is never
 * handed to two workers at once (processing set; a key added while it is processed is queued again when
 * the worker calls done), can be delayed (addAfter) or rate limited (addRateLimited), and shuts down
 * either at once or after draining.
 */
import { type RateLimiter, defaultRateLimiter } from './rateLimiter.js';

export class WorkQueue {
  private queue: string[] = [];
  private head = 0;
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly waiting = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private getters: ((key: string | undefined) => void)[] = [];
  private idleWaiters: (() => void)[] = [];
  private shuttingDown = false;
  private draining = false;

  constructor(readonly rateLimiter: RateLimiter = defaultRateLimiter()) {}

  /** Keys ready to be processed. */
  len(): number {
    return this.queue.length - this.head;
  }

  /** Keys waiting for a delay to pass. */
  waitingCount(): number {
    return this.waiting.size;
  }

  processingCount(): number {
    return this.processing.size;
  }

  isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    this.push(key);
  }

  private push(key: string): void {
    const getter = this.getters.shift();
    if (getter) {
      this.dirty.delete(key);
      this.processing.add(key);
      getter(key);
      return;
    }
    this.queue.push(key);
  }

  /** Adds `key` after `ms`; an earlier pending deadline for the same key wins. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) return this.add(key);
    const at = Date.now() + ms;
    const pending = this.waiting.get(key);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.waiting.delete(key);
      this.add(key);
    }, ms);
    timer.unref?.();
    this.waiting.set(key, { at, timer });
  }

  /** Retries `key` after the rate limiter's delay (per-key backoff and global cap). */
  addRateLimited(key: string): void {
    this.addAfter(key, this.rateLimiter.when(key));
  }

  forget(key: string): void {
    this.rateLimiter.forget(key);
  }

  /** Waits for a key; resolves undefined once the queue is shut down (and drained, when draining). */
  get(): Promise<string | undefined> {
    if (this.len() > 0) {
      const key = this.queue[this.head++]!;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      this.dirty.delete(key);
      this.processing.add(key);
      return Promise.resolve(key);
    }
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.getters.push(resolve));
  }

  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) {
      if (this.shuttingDown && !this.draining) this.dirty.delete(key);
      else this.push(key);
    }
    if (this.processing.size === 0 && (this.len() === 0 || !this.draining)) for (const w of this.idleWaiters.splice(0)) w();
  }

  /** Stops at once: workers finish their current key, queued keys are dropped. */
  shutDown(): void {
    this.stopAccepting();
    this.queue = [];
    this.head = 0;
    this.dirty.clear();
    for (const g of this.getters.splice(0)) g(undefined);
  }

  /**
   * Stops accepting keys and lets workers process what is already queued; resolves when nothing is queued
   * or processing, or after `timeoutMs` (then the rest is dropped).
   */
  async shutDownWithDrain(timeoutMs: number): Promise<void> {
    this.draining = true;
    this.stopAccepting();
    const idle = () => this.processing.size === 0 && this.len() === 0;
    if (!idle()) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.idleWaiters.push(resolve)),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
      ]);
      clearTimeout(timer);
    }
    this.draining = false;
    this.shutDown();
  }

  private stopAccepting(): void {
    this.shuttingDown = true;
    for (const { timer } of this.waiting.values()) clearTimeout(timer);
    this.waiting.clear();
    if (this.len() === 0) for (const g of this.getters.splice(0)) g(undefined);
  }
}
