import { InvalidInput, Overloaded } from '../../core/errors.js';
import type { ApertiumLimits } from './limits.js';
import type { PipelineStage } from './modePipeline.js';
import { NullFlushPipeline, PipelineStopped } from './nullFlushPipeline.js';
import { runOnce, ToolFailure } from './oneShot.js';

/** Apertium's plain-text deformatter and reformatter (`apertium -f txt`). */
const DEFORMAT = 'apertium-destxt';
const REFORMAT = 'apertium-retxt';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Why a text cannot be translated, or undefined. The one rule the API and the engine both apply: a NUL would
 * end a frame early (and desynchronise the pipeline), a lone surrogate has no UTF-8 form, and the size is
 * bounded.
 */
export function textProblem(text: string, maxTextBytes: number): string | undefined {
  if (text.includes('\0')) return 'contains a NUL character (U+0000), which cannot be translated';
  if (LONE_SURROGATE.test(text)) return 'contains a lone surrogate: not valid Unicode text';
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > maxTextBytes) return `is ${bytes} bytes of UTF-8, over the limit of ${maxTextBytes}`;
  return undefined;
}

interface Slot {
  pipeline: NullFlushPipeline;
  /** Stops in a row without a served call in between: the restart backoff grows with it. */
  failures: number;
  restarting?: NodeJS.Timeout;
}

interface Waiter {
  resolve(slot: Slot): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/** Observes pipeline restarts (logs, tests). */
export type PipelineEvent = (event: 'pipeline-stopped' | 'pipeline-started', detail: { reason?: string; pids?: number[] }) => void;

/**
 * A supervised pool of long-lived null-flush pipelines for one language pair. A call deformats each text
 * (a short-lived `apertium-destxt`), runs them through one pipeline it holds alone, and reformats each
 * answer (`apertium-retxt`): the output equals `apertium <pair>` on the same text. Calls beyond the free
 * pipelines wait in a bounded queue. A pipeline that stops (a stage crashed or was killed, or a frame
 * overran its deadline) fails the call it was serving with 503 and is replaced, with a backoff when
 * replacements keep failing.
 */
export class PipelinePool {
  private readonly slots: Slot[] = [];
  private readonly idle: Slot[] = [];
  private readonly waiting: Waiter[] = [];
  private closed = false;

  constructor(
    readonly pair: string,
    private readonly stages: readonly PipelineStage[],
    readonly limits: ApertiumLimits,
    private readonly onEvent: PipelineEvent = () => undefined,
  ) {
    for (let i = 0; i < limits.pipelines; i++) {
      const slot: Slot = { pipeline: this.spawn(), failures: 0 };
      this.slots.push(slot);
      this.watch(slot);
      this.idle.push(slot);
    }
  }

  /** Process ids of every live stage of every pipeline. */
  pids(): number[] {
    return this.slots.flatMap((s) => (s.pipeline.alive ? s.pipeline.pids() : []));
  }

  /** Calls waiting for a pipeline. */
  get queueDepth(): number {
    return this.waiting.length;
  }

  /** Translates each text; throws InvalidInput for a text the engine refuses, Overloaded when it cannot serve now. */
  async translate(texts: readonly string[]): Promise<string[]> {
    if (texts.length > this.limits.maxTexts) throw new InvalidInput(`at most ${this.limits.maxTexts} texts per call, got ${texts.length}`);
    texts.forEach((t, i) => {
      const problem = textProblem(t, this.limits.maxTextBytes);
      if (problem) throw new InvalidInput(`text ${i} ${problem}`);
    });
    const tool = { timeoutMs: this.limits.frameTimeoutMs, maxOutputBytes: 64 * this.limits.maxTextBytes + 4096 };
    const frames = await this.tools(() => Promise.all(texts.map((t) => runOnce(DEFORMAT, [], Buffer.from(t, 'utf8'), tool))));
    const answers = await this.onPipeline((pipeline) => pipeline.run(frames, this.limits.frameTimeoutMs));
    const out = await this.tools(() => Promise.all(answers.map((a) => runOnce(REFORMAT, [], a, tool))));
    return out.map((b) => b.toString('utf8'));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiting.splice(0)) {
      clearTimeout(w.timer);
      w.reject(new Overloaded(`the ${this.pair} translator is shutting down`));
    }
    for (const slot of this.slots) {
      clearTimeout(slot.restarting);
      slot.pipeline.stop('the model was unloaded');
    }
  }

  private spawn(): NullFlushPipeline {
    const pipeline = new NullFlushPipeline(this.stages);
    this.onEvent('pipeline-started', { pids: pipeline.pids() });
    return pipeline;
  }

  private async tools<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (err instanceof ToolFailure) throw new Overloaded(`the ${this.pair} text formatter failed (${err.message}); retry`);
      throw err;
    }
  }

  private async onPipeline<T>(work: (pipeline: NullFlushPipeline) => Promise<T>): Promise<T> {
    const slot = await this.acquire();
    const pipeline = slot.pipeline;
    try {
      const result = await work(pipeline);
      slot.failures = 0;
      return result;
    } catch (err) {
      if (err instanceof PipelineStopped) {
        throw new Overloaded(`the ${this.pair} translation pipeline stopped while translating (${err.message}); it is being replaced: retry`);
      }
      throw err;
    } finally {
      this.release(slot, pipeline);
    }
  }

  private acquire(): Promise<Slot> {
    if (this.closed) return Promise.reject(new Overloaded(`the ${this.pair} translator is shutting down`));
    // A pipeline that stopped while idle is skipped: its replacement comes back through `release`.
    let slot = this.idle.shift();
    while (slot && !slot.pipeline.alive) slot = this.idle.shift();
    if (slot) return Promise.resolve(slot);
    if (this.waiting.length >= this.limits.maxQueue) {
      return Promise.reject(new Overloaded(`all ${this.slots.length} ${this.pair} pipelines are busy and ${this.waiting.length} calls wait; retry later`));
    }
    return new Promise<Slot>((resolve, reject) => {
      // A wait is bounded too: pipelines that cannot be restarted must not leave callers hanging.
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          const i = this.waiting.indexOf(waiter);
          if (i >= 0) this.waiting.splice(i, 1);
          reject(new Overloaded(`no ${this.pair} pipeline became free within ${this.limits.frameTimeoutMs} ms; retry later`));
        }, this.limits.frameTimeoutMs),
      };
      this.waiting.push(waiter);
    });
  }

  /**
   * Hands the slot to the next waiter, or keeps it idle, when `pipeline` is still its live pipeline; a
   * stopped one is being replaced by `watch`, which releases the replacement.
   */
  private release(slot: Slot, pipeline: NullFlushPipeline): void {
    if (slot.pipeline !== pipeline || !pipeline.alive || this.closed || this.idle.includes(slot)) return;
    const next = this.waiting.shift();
    if (next) {
      clearTimeout(next.timer);
      next.resolve(slot);
    } else {
      this.idle.push(slot);
    }
  }

  /** Replaces the slot's pipeline when it stops: at once after a served call, then backing off to 5 s. */
  private watch(slot: Slot): void {
    const pipeline = slot.pipeline;
    void pipeline.stopped().then((reason) => {
      if (this.closed || slot.pipeline !== pipeline) return;
      const i = this.idle.indexOf(slot);
      if (i >= 0) this.idle.splice(i, 1);
      this.onEvent('pipeline-stopped', { reason });
      const delay = slot.failures === 0 ? 0 : Math.min(5_000, 100 * 2 ** (slot.failures - 1));
      slot.failures++;
      slot.restarting = setTimeout(() => {
        slot.restarting = undefined;
        if (this.closed) return;
        slot.pipeline = this.spawn();
        this.watch(slot);
        this.release(slot, slot.pipeline);
      }, delay);
    });
  }
}
