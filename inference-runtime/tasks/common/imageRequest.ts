import type { Context } from 'koa';
import { readMediaRequest, type MediaForm, type MediaRequest } from './mediaRequest.js';
import type { CancelSignal } from '../../core/cancelSignal.js';

/** The image of a task request and the option fields that came with it in the body (multipart or JSON). */
export type ImageRequest = MediaRequest;

/** Images come as a raw body, a multipart form's file field `image`, or JSON `{"image": {"b64": "..."}}`. */
export const IMAGE_FORM: MediaForm = {
  field: 'image',
  rawTypes: ['image/jpeg', 'image/jpg', 'image/pjpeg', 'image/png', 'image/webp'],
  multipart: true,
  noun: 'an image',
};

/** Reads the image of a task request in any of its three forms, the whole body bounded by `maxBytes` (413). */
export function readImageRequest(ctx: Context, maxBytes: number, signal?: CancelSignal): Promise<ImageRequest> {
  return readMediaRequest(ctx, IMAGE_FORM, maxBytes, signal);
}
