/**
 * Bounds of the Apertium engine, the one home of the numbers the translation API also enforces (it refuses
 * what the engine would refuse, with a 4xx naming the limit).
 */
export interface ApertiumLimits {
  /** UTF-8 bytes of one text. A rule-based pipeline's time grows with its input; this keeps a text under a second or two. */
  maxTextBytes: number;
  /** Texts in one request (one engine call). */
  maxTexts: number;
  /**
   * Deadline of one text in the pipeline (and of each deformat/reformat step): a pipeline that has not
   * answered by then is killed and replaced, since its framing can no longer be trusted.
   */
  frameTimeoutMs: number;
  /** Long-lived pipelines per model in each inference thread. */
  pipelines: number;
  /** Calls waiting for a pipeline before Overloaded (503). */
  maxQueue: number;
}

export const DEFAULT_APERTIUM_LIMITS: ApertiumLimits = {
  maxTextBytes: 16 * 1024,
  maxTexts: 64,
  frameTimeoutMs: 10_000,
  pipelines: 1,
  maxQueue: 64,
};

function positiveInteger(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`${name} must be a whole number >= 1, got ${raw}`);
  return n;
}

/**
 * The limits in force: the defaults, with `MLOFFLOAD_APERTIUM_TIMEOUT_MS` and `MLOFFLOAD_APERTIUM_PIPELINES`
 * from the environment (read in each inference thread, which inherits the process environment).
 */
export function apertiumLimits(env: NodeJS.ProcessEnv = process.env): ApertiumLimits {
  return {
    ...DEFAULT_APERTIUM_LIMITS,
    frameTimeoutMs: positiveInteger(env, 'MLOFFLOAD_APERTIUM_TIMEOUT_MS', DEFAULT_APERTIUM_LIMITS.frameTimeoutMs),
    pipelines: positiveInteger(env, 'MLOFFLOAD_APERTIUM_PIPELINES', DEFAULT_APERTIUM_LIMITS.pipelines),
  };
}
