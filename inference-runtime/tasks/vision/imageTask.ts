import type { Context } from 'koa';
import type { Preprocessing } from '../../config/types.js';
import type { NamedTensors } from '../../core/tensor.js';
import { decodeImage, type DecodedImage, type RgbImage } from '../../vision/decode.js';
import { DecodeAdmission } from '../../vision/decodeAdmission.js';
import { defaultVisionLimits, type VisionLimits } from '../../vision/limits.js';
import { imageInput, preprocessingOf, type ImageModel } from '../../vision/servingModel.js';
import { channelsOf, toBatchTensor } from '../../vision/tensorize.js';
import { readImageRequest } from '../common/imageRequest.js';
import { beginTask, type TaskRequest } from '../common/taskRequest.js';
import type { TaskContext, TaskModelView } from '../task.js';

/** The colour and value range of a task's reference pipeline, used where a pool entry gives no preprocessing. */
export type ReferencePreprocessing = Omit<Preprocessing, 'width' | 'height'>;

/** A model being checked at load, seen the way the image pipelines see a serving model. */
export function imageModelOf(view: TaskModelView): ImageModel {
  return { config: view.config, name: view.config.name, signature: () => view.signature };
}

/** Why a model cannot take the task's images: not one NHWC float32 input, or channels its colour does not give. */
export function imageInputProblems(view: TaskModelView, task: string, reference: ReferencePreprocessing): string[] {
  const model = imageModelOf(view);
  let pre: Preprocessing;
  try {
    imageInput(model);
    pre = preprocessingOf(model, reference);
  } catch (error) {
    return [`${(error as Error).message} (task ${task})`];
  }
  const input = imageInput(model);
  const problems: string[] = [];
  if (input.dtype !== 'float32') problems.push(`input ${input.name} is ${input.dtype}; task ${task} feeds float32 pixels`);
  const channels = input.shape[3];
  if (channels > 0 && channels !== channelsOf(pre)) {
    problems.push(`input ${input.name} takes ${channels} channel(s) but colour ${pre.colour} gives ${channelsOf(pre)} (task ${task})`);
  }
  for (const [axis, size, want] of [['height', input.shape[1], pre.height], ['width', input.shape[2], pre.width]] as const) {
    if (size > 0 && size !== want) problems.push(`input ${input.name} has ${axis} ${size} but the preprocessing resizes to ${want} (task ${task})`);
  }
  return problems;
}

/**
 * Images the way a task request brings them: a deterministic picture with edges and gradients (not a flat
 * colour, which engines can take shortcuts on), preprocessed exactly like a request's.
 */
export function exampleImageInputs(view: TaskModelView, reference: ReferencePreprocessing, batch = 1): NamedTensors {
  const model = imageModelOf(view);
  const pre = preprocessingOf(model, reference);
  const picture = syntheticPicture(pre.width, pre.height);
  return { [imageInput(model).name]: toBatchTensor(Array.from({ length: batch }, () => picture), pre) };
}

function syntheticPicture(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      const disc = (x - width / 2) ** 2 + (y - height / 2) ** 2 < (Math.min(width, height) / 3) ** 2;
      data[o] = disc ? 220 : (x * 255) / width;
      data[o + 1] = disc ? 180 : (y * 255) / height;
      data[o + 2] = ((x ^ y) & 16) * 8;
    }
  }
  return { data, width, height };
}

/** Decode admission is one per runtime: every image task shares the bound on concurrent decodes. */
const admissions = new WeakMap<TaskContext, { limits: VisionLimits; admission: DecodeAdmission }>();

function visionOf(context: TaskContext): { limits: VisionLimits; admission: DecodeAdmission } {
  let shared = admissions.get(context);
  if (!shared) {
    // A context built from the runtime's flags carries the task limits; one built for tests may carry any vision limit.
    const limits: VisionLimits = { ...defaultVisionLimits, ...(context.limits as Partial<VisionLimits>) };
    shared = { limits, admission: new DecodeAdmission(limits, context.memoryBudget) };
    admissions.set(context, shared);
  }
  return shared;
}

/**
 * Begins an image task request (tasks/common/taskRequest.ts `beginTask`): reads the image (raw body, multipart
 * field `image`, or JSON b64) within the body limit and the deadline. `decode` runs through the runtime's
 * decode admission, under the vision limits as `taskLimits` adjusts them for the task (OCR reads from a
 * larger working copy).
 */
export async function beginImageTask(
  context: TaskContext,
  ctx: Context,
  taskLimits: (limits: VisionLimits) => VisionLimits = (limits) => limits,
): Promise<{ request: TaskRequest; decode: () => Promise<DecodedImage> }> {
  const shared = visionOf(context);
  const limits = taskLimits(shared.limits);
  const { request, body } = await beginTask(ctx, context.registry, (deadline) => readImageRequest(ctx, limits.maxBodyBytes, deadline), (image) => image.fields);
  const decode = (): Promise<DecodedImage> =>
    request.timer.time('decode', () => decodeImage(body.bytes, limits, { gate: shared.admission, signal: request.deadline }));
  return { request, decode };
}
