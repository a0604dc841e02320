import { BoundedSemaphore } from '../core/boundedSemaphore.js';
import { MemoryBudget } from '../core/memoryBudget.js';
import type { VisionLimits } from './limits.js';
import type { CancelSignal } from '../core/cancelSignal.js';

/**
 * Who may decode now: a bounded number of decodes at once (more wait, up to a bound, then 503), each
 * admitted by the memory budget for the bytes it will need once its turn comes.
 */
export class DecodeAdmission {
  private readonly turns: BoundedSemaphore;

  constructor(
    limits: Pick<VisionLimits, 'maxConcurrentDecodes' | 'maxWaitingDecodes'>,
    private readonly budget: MemoryBudget = new MemoryBudget(),
  ) {
    this.turns = new BoundedSemaphore(limits.maxConcurrentDecodes, limits.maxWaitingDecodes, 'image decodes');
  }

  /** Runs `decode` once it has a turn and its `bytes` fit the budget; the claim lasts until it settles. */
  async run<T>(bytes: number, signal: CancelSignal | undefined, decode: () => Promise<T>): Promise<T> {
    const release = await this.turns.acquire(signal);
    try {
      const claim = this.budget.admit(bytes, 'decoding the image');
      try {
        return await decode();
      } finally {
        claim.release();
      }
    } finally {
      release();
    }
  }

  get running(): number {
    return this.turns.active;
  }

  get waiting(): number {
    return this.turns.queued;
  }
}
