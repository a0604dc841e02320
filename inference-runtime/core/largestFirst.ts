/**
 * Runs a known number of jobs `width` at a time, the largest first (longest processing time first). A cold
 * start compiles its models this way: on two cores the slowest compilation (centernet) starts at once while
 * the small ones share the other core, instead of starting last and setting the time to ready on its own.
 *
 * Sizes are only comparable among jobs that have arrived, so nothing starts until every expected job has
 * been submitted or withdrawn, or `gatherMs` after the first arrival: a slow download delays the others by
 * that bound at most.
 */
interface Job {
  size: number;
  start(): void;
}

export class LargestFirstQueue {
  private readonly waiting: Job[] = [];
  private running = 0;
  private open = false;
  private gatherTimer?: NodeJS.Timeout;

  constructor(
    private readonly width: number,
    private expected: number,
    private readonly gatherMs: number,
  ) {
    if (!Number.isSafeInteger(width) || width < 1) throw new RangeError(`width must be an integer >= 1, got ${width}`);
    this.openWhenAllArrived();
  }

  /** Runs `work` when its turn comes; settles as `work` does. */
  submit<T>(size: number, work: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.waiting.push({
        size,
        start: () => {
          this.running++;
          let done: Promise<T>;
          try {
            done = work();
          } catch (error) {
            done = Promise.reject(error);
          }
          done.then(resolve, reject).finally(() => {
            this.running--;
            this.drain();
          });
        },
      });
      this.gatherTimer ??= setTimeout(() => this.start(), this.gatherMs);
      this.expected--;
      this.openWhenAllArrived();
    });
  }

  /** One expected job will never be submitted (its model failed before this stage). */
  withdraw(): void {
    this.expected--;
    this.openWhenAllArrived();
  }

  private openWhenAllArrived(): void {
    if (this.expected <= 0) this.start();
  }

  private start(): void {
    clearTimeout(this.gatherTimer);
    this.open = true;
    this.drain();
  }

  private drain(): void {
    while (this.open && this.running < this.width && this.waiting.length) {
      let best = 0;
      for (let i = 1; i < this.waiting.length; i++) if (this.waiting[i].size > this.waiting[best].size) best = i;
      const [job] = this.waiting.splice(best, 1);
      job.start();
    }
  }
}
