import { cgroupMemoryLimit } from './containerLimits.js';
import { Overloaded } from './errors.js';

/**
 * The runtime's memory budget: the resident memory (RSS) the process means to stay under, and the one
 * admission rule for work that allocates in proportion to what a client sent (image decodes, request
 * tensors). Work is admitted when the current RSS, plus what admitted work still in flight may allocate, plus
 * its own estimate fits the budget; otherwise it is refused with 503 + Retry-After. Counting both the RSS
 * and the reservations may count some bytes twice: the budget errs on the side of refusing, because the
 * alternative on a small edge node is the kernel's OOM killer ending every request at once.
 */
export interface MemoryBudgetOptions {
  /** Bytes of RSS to stay under; undefined: no budget (admission always succeeds, reservations are still counted). */
  limitBytes?: number;
  /** Current RSS of the process; injectable so the rule can be tested without allocating gigabytes. */
  rss?: () => number;
  /** `Retry-After` of a refusal. */
  retryAfterSeconds?: number;
  /**
   * Gives back memory the process holds but no longer uses (a full garbage collection), tried before a
   * refusal, at most once per `reclaimIntervalMs` (a collection of a large heap pauses the event loop).
   */
  reclaim?: () => void;
  reclaimIntervalMs?: number;
}

/** Admitted work's claim on the budget; release it when the work's memory is no longer held. Idempotent. */
export interface Reservation {
  readonly bytes: number;
  release(): void;
}

export interface MemoryBudgetSnapshot {
  limitBytes?: number;
  reservedBytes: number;
  rssBytes: number;
}

export class MemoryBudget {
  readonly limitBytes?: number;
  private readonly rss: () => number;
  private readonly retryAfterSeconds: number;
  private reserved = 0;
  private refusals = 0;
  private readonly reclaim?: () => void;
  private readonly reclaimIntervalMs: number;
  private lastReclaim = Number.NEGATIVE_INFINITY;

  constructor(options: MemoryBudgetOptions = {}) {
    if (options.limitBytes !== undefined && !(Number.isSafeInteger(options.limitBytes) && options.limitBytes > 0)) {
      throw new RangeError(`memory budget must be a positive number of bytes, got ${options.limitBytes}`);
    }
    this.limitBytes = options.limitBytes;
    this.rss = options.rss ?? (() => process.memoryUsage.rss());
    this.retryAfterSeconds = options.retryAfterSeconds ?? 1;
    this.reclaim = options.reclaim;
    this.reclaimIntervalMs = options.reclaimIntervalMs ?? 2000;
  }

  /**
   * Claims `bytes` for `what` (named in the refusal) or throws Overloaded (503 + Retry-After). The estimate
   * is the caller's: the bytes the work may allocate beyond what the request already holds.
   */
  admit(bytes: number, what: string): Reservation {
    const claim = Math.max(0, Math.ceil(bytes));
    if (this.limitBytes !== undefined) {
      let rss = this.rss();
      if (rss + this.reserved + claim > this.limitBytes && this.reclaim && performance.now() - this.lastReclaim >= this.reclaimIntervalMs) {
        this.lastReclaim = performance.now();
        this.reclaim();
        rss = this.rss();
      }
      if (rss + this.reserved + claim > this.limitBytes) {
        this.refusals++;
        throw new Overloaded(
          `not enough memory for ${what} now (needs about ${mib(claim)} MiB; ${mib(rss)} MiB resident and ${mib(this.reserved)} MiB claimed by work in flight, of a ${mib(this.limitBytes)} MiB budget); retry later`,
          this.retryAfterSeconds,
        );
      }
    }
    this.reserved += claim;
    let held = true;
    return {
      bytes: claim,
      release: () => {
        if (!held) return;
        held = false;
        this.reserved -= claim;
      },
    };
  }

  /** Refusals so far (for metrics and the flood benchmark). */
  get refused(): number {
    return this.refusals;
  }

  snapshot(): MemoryBudgetSnapshot {
    return { limitBytes: this.limitBytes, reservedBytes: this.reserved, rssBytes: this.rss() };
  }
}

function mib(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(0);
}

/** Share of the container's limit the runtime budgets for itself: the rest absorbs what estimates miss. */
export const DEFAULT_MEMORY_BUDGET_FRACTION = 0.8;

export interface MemoryBudgetSetting {
  /** An explicit budget in bytes, or 0 for none; wins over the cgroup limit. */
  bytes?: number;
  /** Share of the cgroup limit used when `bytes` is not given. */
  fraction?: number;
  cgroupRoot?: string;
}

/** The budget in bytes the runtime runs with (undefined: none), and where it came from, for the start-up log. */
export function resolveMemoryBudget(setting: MemoryBudgetSetting = {}): { limitBytes?: number; source: string } {
  if (setting.bytes !== undefined) {
    return setting.bytes === 0 ? { source: 'disabled' } : { limitBytes: setting.bytes, source: 'configured' };
  }
  const fraction = setting.fraction ?? DEFAULT_MEMORY_BUDGET_FRACTION;
  if (!(fraction > 0 && fraction <= 1)) throw new RangeError(`memory budget fraction must be in (0, 1], got ${fraction}`);
  const limit = cgroupMemoryLimit(setting.cgroupRoot);
  if (limit === undefined) return { source: 'no container memory limit' };
  return { limitBytes: Math.floor(limit * fraction), source: `${fraction} of the container limit of ${limit} bytes` };
}
