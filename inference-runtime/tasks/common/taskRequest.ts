import type { Context } from 'koa';
import { raceDeadline } from '../../core/deadline.js';
import type { ModelRegistry, ServingModel } from '../../core/registry.js';
import { DataPlane } from '../../dataplane/dataPlane.js';
import { InferenceSession } from '../../dataplane/inferenceSession.js';
import type { MeteredModel } from '../../dataplane/meteredModel.js';
import type { RequestState } from '../../http/requestState.js';
import { OptionReader } from './optionReader.js';
import { StageTimer, type Timing } from './stageTimer.js';
import type { CancelSignal } from '../../core/cancelSignal.js';

/** How a task response names a model that answered. */
export interface ModelInfo {
  name: string;
  version: string;
  task: string;
  backend: string;
}

export function modelInfo(model: Pick<ServingModel, 'name' | 'version' | 'config' | 'status'>): ModelInfo {
  return { name: model.name, version: model.version, task: model.config.task, backend: model.status().backend ?? 'unknown' };
}

/**
 * One task request in flight: its stage timer, its option reader, and its models, each bound to the
 * request's deadline. Every task route starts with `beginTask` and ends with `answer` (or `answerAlone`), so
 * timing, deadlines, metered models and the `models` / `timing` blocks of the response are the same for every
 * task.
 */
export class TaskRequest {
  readonly timer = new StageTimer();
  readonly models: InferenceSession;
  readonly options: OptionReader;

  constructor(
    readonly ctx: Context,
    registry: ModelRegistry,
    fields: Record<string, unknown> = {},
  ) {
    this.models = sessionFor(registry, this.deadline);
    this.options = new OptionReader(ctx.query, fields);
  }

  get deadline(): CancelSignal | undefined {
    return (this.ctx.state as Partial<RequestState>).deadline;
  }

  /** Resolves with `work`, or rejects with RequestTimeout (504) when the request's deadline passes first. */
  withinDeadline<T>(work: Promise<T>, what = 'the request'): Promise<T> {
    const deadline = this.deadline;
    return deadline ? raceDeadline(work, deadline, what) : work;
  }

  /**
   * Labels the request's metrics with the model that answered, adds the engines' share (queueing included)
   * to the timing, and returns the response body with its `models` (those that ran) and `timing` blocks.
   */
  answer<T extends object>(answering: MeteredModel, body: T): T & { models: ModelInfo[]; timing: Timing } {
    const timing = this.settle(answering);
    const used = this.models.used();
    return Object.assign({}, body, { models: (used.length ? used : [answering]).map(modelInfo), timing });
  }

  /** As `answer`, for a route whose one model answers alone: the body names it as `model`. */
  answerAlone<T extends object>(answering: MeteredModel, body: T): T & { model: ModelInfo; timing: Timing } {
    const timing = this.settle(answering);
    return Object.assign({}, body, { model: modelInfo(answering), timing });
  }

  private settle(answering: MeteredModel): Timing {
    const state = this.ctx.state as RequestState;
    const inferenceMs = this.models.inferenceMs;
    state.model = { name: answering.name, version: answering.version };
    state.inferenceSeconds = inferenceMs / 1000;
    this.timer.add('inference', inferenceMs);
    return this.timer.finish();
  }
}

/**
 * Begins a task request: reads its body with `read` (bounded by the request's deadline), then starts the
 * request's timer, so upload time, which depends on the client's network, is not the runtime's to report.
 * `options` picks the body's option fields (they win over the query's).
 */
export async function beginTask<B>(
  ctx: Context,
  registry: ModelRegistry,
  read: (deadline: CancelSignal | undefined) => Promise<B>,
  options: (body: B) => Record<string, unknown> = () => ({}),
): Promise<{ request: TaskRequest; body: B }> {
  const body = await read((ctx.state as Partial<RequestState>).deadline);
  return { request: new TaskRequest(ctx, registry, options(body)), body };
}

/** The models of one request over `registry`: the data plane's session when it is one (per-model metrics). */
export function sessionFor(registry: ModelRegistry, signal?: CancelSignal): InferenceSession {
  return registry instanceof DataPlane ? registry.session(signal) : new InferenceSession(registry, signal);
}
