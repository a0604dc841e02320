import type { Router } from '@koa/router';
import type { Framework } from '../config/types.js';
import type { MemoryBudget } from '../core/memoryBudget.js';
import type { ModelRegistry, TaskCheck, TaskModelView } from '../core/registry.js';
import type { NamedTensors } from '../core/tensor.js';
import type { RequestState } from '../http/requestState.js';

/**
 * The rules of a task that the operator checks MLModels against: plain data, so the operator can load every
 * task's rules (tasks/specs.ts) without the task's pipelines, engines and routes.
 */
export interface TaskSpec {
  /** `<category>/<task>`, e.g. `vision/facial-expression`. */
  readonly id: string;
  /** One line for users: what the task answers. */
  readonly summary: string;
  /** Frameworks whose models can serve it. */
  readonly frameworks: readonly Framework[];
  /**
   * Label rules the operator and the pool loader enforce: a fixed count (the runtime decodes outputs by
   * position) with a note naming them, or `required` when the task needs labels of any count.
   */
  readonly labels?: { count?: number; required?: boolean; note: string };
  /** Whether a pool entry of this task must carry `preprocessing` (image size, colour, normalisation). */
  readonly preprocessing?: 'required' | 'optional';
  /**
   * A label rule beyond count and presence (a recogniser's CTC classes, a language pair): why `labels` do not
   * fit the task, or an empty list. A pure function of the labels, so the operator can run it.
   */
  readonly checkLabels?: (labels: readonly string[] | undefined) => string[];
}

/**
 * A task as one module: everything the runtime and the operator know about `<category>/<task>` lives behind
 * this interface, and `taskTable` lists them all. A new category is a new module in that table, not a copy
 * of existing plumbing.
 */
export interface TaskModule extends TaskSpec, TaskCheck {
  /**
   * Why a loaded model cannot serve the task (its inputs/outputs/labels do not fit), or an empty list. Called
   * once at load: a non-empty answer leaves the model UNAVAILABLE with these reasons instead of a 500 at its
   * first request.
   */
  checkModel(model: TaskModelView): string[];
  /**
   * Why the outputs of a warm-up run on `exampleInputs` cannot be decoded by the task, or an empty list.
   * Optional: for checks a declared signature cannot settle (dynamic dimensions, values).
   */
  checkOutputs?(model: TaskModelView, outputs: NamedTensors): string[];
  /**
   * Inputs shaped like the task's real requests (an image, audio, token ids, text), for warm-up and benchmarks;
   * `batch` rows (default 1) where the model takes a batch.
   */
  exampleInputs(model: TaskModelView, batch?: number): NamedTensors;
  /** The task's HTTP API, when it has one of its own (models of the task are also reachable by protocol). */
  routes?(context: TaskContext): Router<RequestState>;
}

/** What a task sees of a model at load. */
export type { TaskModelView };

/** What a task's routes are built over. */
export interface TaskContext {
  /** Resolves models by name or task and runs them (deadline in `InferOptions.signal`). */
  readonly registry: ModelRegistry;
  /** The runtime's memory budget: admit memory-hungry work (decodes, large inputs) through it. */
  readonly memoryBudget?: MemoryBudget;
  /** Request limits from the runtime's flags (body bytes, decode bytes, concurrency). */
  readonly limits: TaskLimits;
}

export interface TaskLimits {
  maxBodyBytes: number;
  maxDecodeBytes: number;
  maxConcurrentDecodes: number;
  maxWaitingDecodes: number;
}
