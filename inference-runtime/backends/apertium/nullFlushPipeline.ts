import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import type { PipelineStage } from './modePipeline.js';
import { apertiumEnvironment } from './toolEnvironment.js';

/** The frame delimiter of Apertium's null-flush mode (`-z`): every stage flushes its output at a NUL. */
const NUL = 0;

/** Why a pipeline stopped serving; its in-flight work fails with this. */
export class PipelineStopped extends Error {}

interface Work {
  expected: number;
  answers: Buffer[];
  partial: Buffer[];
  frameTimeoutMs: number;
  timer?: NodeJS.Timeout;
  resolve(answers: Buffer[]): void;
  reject(err: Error): void;
}

/**
 * One long-lived Apertium pipeline in null-flush mode: every stage spawned directly (argv, no shell), each
 * stage's stdout handed to the next stage as its stdin, so the bytes flow from process to process without
 * passing through this one. A request writes its frames (each ended by a NUL) and reads as many NUL-ended
 * answers back; one request at a time, so answers cannot cross.
 *
 * Anything that breaks the one-frame-in, one-frame-out rhythm stops the pipeline for good: a stage exiting,
 * a frame not answered within its deadline (a stuck stage, or one that swallowed a NUL), output arriving when
 * no request is in flight, or more output than was asked for. The owner replaces it with a fresh one; reusing
 * a pipeline whose framing is in doubt could hand one request's answer to the next.
 */
export class NullFlushPipeline {
  private readonly children: ChildProcess[] = [];
  private work?: Work;
  private stopReason?: string;
  private stderrTail = '';
  private readonly stoppedWaiters: ((reason: string) => void)[] = [];

  constructor(readonly stages: readonly PipelineStage[]) {
    let upstream: Readable | undefined;
    try {
      for (const stage of stages) {
        const child = spawn(stage.program, stage.args, {
          stdio: [upstream ?? 'pipe', 'pipe', 'pipe'],
          env: apertiumEnvironment(),
        });
        // The child holds its own copy of the pipe's read end; this process never reads between stages.
        upstream?.destroy();
        this.children.push(child);
        const name = stage.program;
        child.on('error', (err) => this.stop(`${name} could not run: ${err.message}`));
        child.on('exit', (code, signal) => this.stop(`${name} exited (${signal ?? `code ${code}`})${this.stderrSummary()}`));
        child.stderr?.on('data', (chunk: Buffer) => {
          this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-1024);
        });
        child.stdout?.on('error', () => undefined);
        upstream = child.stdout ?? undefined;
      }
    } catch (err) {
      this.stop(`the pipeline could not start: ${(err as Error).message}`);
      return;
    }
    const first = this.children[0];
    const last = this.children[this.children.length - 1];
    first.stdin?.on('error', (err) => this.stop(`writing to ${stages[0].program} failed: ${err.message}`));
    last.stdout?.on('data', (chunk: Buffer) => this.take(chunk));
  }

  get alive(): boolean {
    return this.stopReason === undefined;
  }

  get busy(): boolean {
    return this.work !== undefined;
  }

  /** Process ids of the stages (diagnostics, tests). */
  pids(): number[] {
    return this.children.map((c) => c.pid).filter((p): p is number => p !== undefined);
  }

  /** Resolves with the reason once the pipeline has stopped. */
  stopped(): Promise<string> {
    if (this.stopReason !== undefined) return Promise.resolve(this.stopReason);
    return new Promise((resolve) => this.stoppedWaiters.push(resolve));
  }

  /**
   * Sends `frames` (stream-format text without NULs) and resolves with one answer per frame, in order. Each
   * answer must arrive within `frameTimeoutMs` of the previous one (or of the start), or the pipeline is
   * killed and the call rejects with PipelineStopped.
   */
  run(frames: readonly Buffer[], frameTimeoutMs: number): Promise<Buffer[]> {
    if (this.stopReason !== undefined) return Promise.reject(new PipelineStopped(this.stopReason));
    if (this.work) return Promise.reject(new Error('pipeline is busy: callers must queue'));
    if (frames.some((f) => f.includes(NUL))) return Promise.reject(new RangeError('a frame holds a NUL byte'));
    return new Promise<Buffer[]>((resolve, reject) => {
      const work: Work = { expected: frames.length, answers: [], partial: [], frameTimeoutMs, resolve, reject };
      this.work = work;
      if (frames.length === 0) {
        this.finish(work);
        return;
      }
      this.arm(work);
      const stdin = this.children[0]?.stdin;
      if (!stdin) {
        this.stop('the first stage has no input pipe');
        return;
      }
      for (const f of frames) stdin.write(Buffer.concat([f, Buffer.of(NUL)]));
    });
  }

  /** Kills every stage (SIGKILL) and fails the request in flight. Idempotent. */
  stop(reason: string): void {
    if (this.stopReason !== undefined) return;
    this.stopReason = reason;
    for (const child of this.children) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      child.stdin?.destroy();
      child.stdout?.destroy();
      child.stderr?.destroy();
    }
    const work = this.work;
    this.work = undefined;
    if (work) {
      clearTimeout(work.timer);
      work.reject(new PipelineStopped(reason));
    }
    for (const wake of this.stoppedWaiters.splice(0)) wake(reason);
  }

  private arm(work: Work): void {
    clearTimeout(work.timer);
    work.timer = setTimeout(() => this.stop(`a frame took longer than ${work.frameTimeoutMs} ms`), work.frameTimeoutMs);
  }

  private take(chunk: Buffer): void {
    const work = this.work;
    if (!work) {
      this.stop(`${chunk.length} bytes of output arrived with no request in flight`);
      return;
    }
    let from = 0;
    for (;;) {
      const at = chunk.indexOf(NUL, from);
      if (at < 0) break;
      work.partial.push(chunk.subarray(from, at));
      work.answers.push(Buffer.concat(work.partial));
      work.partial = [];
      from = at + 1;
      if (work.answers.length === work.expected) {
        if (from < chunk.length) {
          this.stop(`${chunk.length - from} bytes of output arrived after the last answer`);
          return;
        }
        this.finish(work);
        return;
      }
      this.arm(work);
    }
    if (from < chunk.length) work.partial.push(Buffer.from(chunk.subarray(from)));
  }

  private finish(work: Work): void {
    clearTimeout(work.timer);
    this.work = undefined;
    work.resolve(work.answers);
  }

  private stderrSummary(): string {
    const tail = this.stderrTail.trim();
    return tail ? `: ${tail.slice(-300)}` : '';
  }
}
