import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { InvalidInput, NotReady, Overloaded } from '../../core/errors.js';
import { FrameReader, frame } from './frames.js';

/** What the recogniser answers for one utterance (see recogniser.py). */
export interface RawRecognition {
  text: string;
  /** Posterior probability of the hypothesis (1 under a grammar, where PocketSphinx has no lattice to weigh). */
  probability: number;
  /** [word, first frame, last frame, posterior]; 100 frames per second. */
  words: [string, number, number, number][];
}

export interface RecogniserOptions {
  /** The interpreter and script, run as argv (never through a shell). */
  command: string;
  args: string[];
  /** How long the process may take to load its model. */
  startTimeoutMs?: number;
  /** Requests waiting for the process beyond the one it is working on (Overloaded beyond). */
  maxQueue?: number;
  /** First restart delay after a crash; doubles per consecutive crash up to `maxBackoffMs`. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Where the process's stderr goes (it is always drained, so a chatty engine cannot block on a full pipe). */
  onLog?: (line: string) => void;
}

interface Job {
  id: number;
  header: Buffer;
  pcm: Buffer;
  deadlineMs: number;
  timer?: NodeJS.Timeout;
  resolve(r: RawRecognition): void;
  reject(e: Error): void;
}

type Child = ChildProcessByStdio<Writable, Readable, Readable>;

interface Reply {
  id?: number;
  ready?: boolean;
  error?: string;
  kind?: 'grammar' | 'engine';
  text?: string;
  probability?: number;
  words?: [string, number, number, number][];
}

/**
 * A long-lived recogniser process under supervision, like a worker thread: one utterance at a time, a
 * bounded queue, a deadline per request (a process that overruns it is killed: its state is unknown), and a
 * restart with exponential backoff whenever it exits. A request in flight when the process dies fails with
 * 503 + Retry-After; queued requests are served by the replacement. Answers carry the request id, so an
 * answer can never be matched to another request.
 */
export class RecogniserProcess {
  private child?: Child;
  private ready?: Promise<void>;
  private readonly queue: Job[] = [];
  private current?: Job;
  /** The process `current` was written to. */
  private currentChild?: Child;
  private readonly loadedChildren = new WeakSet<Child>();
  private nextId = 1;
  private crashes = 0;
  private restartTimer?: NodeJS.Timeout;
  private closed = false;
  /** Processes started so far (the first one included). */
  starts = 0;

  constructor(private readonly options: RecogniserOptions) {}

  /** Starts the process and resolves once its model is loaded. */
  start(): Promise<void> {
    this.ready ??= this.spawnChild();
    return this.ready;
  }

  /** The running process's pid (tests kill it to prove it is replaced). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  recognise(pcm: Buffer, grammar: string | null, deadlineMs: number): Promise<RawRecognition> {
    if (this.closed) return Promise.reject(new NotReady('the speech recogniser is shutting down'));
    const maxQueue = this.options.maxQueue ?? 16;
    if (this.queue.length >= maxQueue) return Promise.reject(new Overloaded(`the speech recogniser has ${this.queue.length} utterances waiting`));
    const id = this.nextId++;
    return new Promise<RawRecognition>((resolve, reject) => {
      const job: Job = { id, header: Buffer.from(JSON.stringify({ id, grammar })), pcm, deadlineMs, resolve, reject };
      // The deadline covers waiting (behind other utterances, or for a replacement process) and recognising.
      job.timer = setTimeout(() => this.expire(job), deadlineMs);
      this.queue.push(job);
      this.pump();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.restartTimer);
    for (const job of this.queue.splice(0)) {
      clearTimeout(job.timer);
      job.reject(new NotReady('the speech recogniser is shutting down'));
    }
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    // End of input is the process's signal to leave; a kill follows if it does not.
    child.stdin.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), 2_000);
    await exited;
    clearTimeout(timer);
  }

  private spawnChild(): Promise<void> {
    const { command, args } = this.options;
    this.starts++;
    const child: Child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], shell: false });
    this.child = child;
    const reader = new FrameReader();
    let onReady: { resolve(): void; reject(e: Error): void } | undefined;
    const ready = new Promise<void>((resolve, reject) => (onReady = { resolve, reject }));
    const startTimer = setTimeout(() => {
      onReady?.reject(new Error(`the speech recogniser did not load its model within ${this.options.startTimeoutMs ?? 30_000} ms`));
      child.kill('SIGKILL');
    }, this.options.startTimeoutMs ?? 30_000);
    let stderrTail = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderrTail = (stderrTail + chunk.toString('utf8')).slice(-2_000);
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) this.options.onLog?.(line);
    });
    // A write to a process that just died fails with EPIPE: the exit handler below answers for it.
    child.stdin.on('error', () => undefined);
    child.stdout.on('data', (chunk: Buffer) => {
      let frames: Buffer[];
      try {
        frames = reader.push(chunk);
      } catch (err) {
        this.options.onLog?.(`protocol error: ${(err as Error).message}`);
        child.kill('SIGKILL');
        return;
      }
      for (const f of frames) {
        let reply: Reply;
        try {
          reply = JSON.parse(f.toString('utf8')) as Reply;
        } catch {
          child.kill('SIGKILL');
          return;
        }
        if (reply.ready) {
          clearTimeout(startTimer);
          this.loadedChildren.add(child);
          onReady?.resolve();
          onReady = undefined;
          this.pump();
        } else {
          this.answer(reply);
        }
      }
    });
    child.on('error', (err) => {
      clearTimeout(startTimer);
      onReady?.reject(new Error(`the speech recogniser could not start: ${err.message}`));
      onReady = undefined;
    });
    child.on('exit', (code, signal) => {
      clearTimeout(startTimer);
      const why = `the speech recogniser process exited (${signal ?? `code ${code}`})`;
      onReady?.reject(new Error(`${why} while loading its model${stderrTail ? `: ${stderrTail.trim().split('\n').slice(-3).join(' | ')}` : ''}`));
      onReady = undefined;
      if (this.child === child) this.child = undefined;
      const wasLoaded = this.loadedChildren.has(child);
      if (this.current && this.currentChild === child) {
        clearTimeout(this.current.timer);
        this.current.reject(new Overloaded(`${why} while recognising; it is being restarted, retry shortly`));
        this.current = undefined;
      }
      // Only a process that had loaded is replaced here; one that cannot load fails its start (a model load,
      // or a restart that schedules the next attempt).
      if (!this.closed && wasLoaded) this.scheduleRestart();
    });
    return ready;
  }

  private scheduleRestart(): void {
    const base = this.options.backoffMs ?? 100;
    const delay = Math.min(this.options.maxBackoffMs ?? 5_000, base * 2 ** this.crashes);
    this.crashes++;
    this.restartTimer = setTimeout(() => {
      this.ready = this.spawnChild();
      this.ready.catch((err: Error) => {
        this.options.onLog?.(err.message);
        if (!this.closed) this.scheduleRestart();
      });
    }, delay);
    this.restartTimer.unref();
  }

  private pump(): void {
    const child = this.child;
    // Not before the ready frame: a request would wait behind model loading with its clock running.
    if (this.current || !child || !this.loadedChildren.has(child) || this.queue.length === 0) return;
    const job = this.queue.shift()!;
    this.current = job;
    this.currentChild = child;
    child.stdin.write(Buffer.concat([frame(job.header), frame(job.pcm)]));
  }

  private expire(job: Job): void {
    const waiting = this.queue.indexOf(job);
    if (waiting >= 0) {
      this.queue.splice(waiting, 1);
      job.reject(new Overloaded(`the speech recogniser did not get to the utterance within ${job.deadlineMs} ms`));
    } else if (this.current === job) {
      // The process is mid-utterance with unknown state: replace it rather than wait.
      this.current = undefined;
      job.reject(new Overloaded(`the speech recogniser took longer than ${job.deadlineMs} ms; it is being restarted`));
      // Detached at once: nothing more is written to it, and its exit schedules the replacement.
      const child = this.child;
      this.child = undefined;
      child?.kill('SIGKILL');
    }
  }

  private answer(reply: Reply): void {
    const current = this.current;
    if (!current || reply.id !== current.id) {
      // An answer to a request already given up on: the process is being killed; ignore it.
      return;
    }
    clearTimeout(current.timer);
    this.current = undefined;
    if (reply.error !== undefined) {
      if (reply.kind === 'grammar') current.reject(new InvalidInput(`grammar: ${reply.error}`));
      else current.reject(new Overloaded(`the speech recogniser failed: ${reply.error}`));
    } else {
      this.crashes = 0;
      current.resolve({ text: reply.text ?? '', probability: reply.probability ?? 0, words: reply.words ?? [] });
    }
    this.pump();
  }
}
