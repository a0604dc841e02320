/*
 * Resamples 8-bit RGB pixels into a model's float input values, for the detectors' letterbox
 * (inference-runtime/vision/resample.ts, `resampleToTensor`).
 *
 * Why: sharp's pipeline costs about 0.8 ms of CPU a call even for a plain copy of a 640x480 image (a libuv pool
 * job and libvips' own threadpool), and packing its bytes into floats took 0.38 ms more in JS; this resamples
 * and packs in one pass on the calling thread.
 *
 * The filter is not defined here: the caller gives each axis's taps (first source index, count, weights), as
 * vision/resample.ts's tent filter makes them, and the arithmetic is float32 in a fixed order, so that
 * resample.ts's JavaScript twin (Math.fround at each step) gives the same values bit for bit. Source indices
 * outside the image repeat its edge pixel. Built with -ffp-contract=off (deploy/nativeAddons.ts): a fused
 * multiply-add would round once where the twin rounds twice.
 *
 * The Node-API functions it calls are declared in napi.h, so that building needs a C compiler and no Node headers.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "napi.h"

struct axis {
  const int32_t *start;
  const int32_t *count;
  const float *weight;
  /* Weights per output pixel (the run's first, then padding). */
  uint32_t taps;
};

/* An axis's taps for `out` output pixels from three typed arrays; false when their sizes do not agree. */
static bool axis_of(napi_env env, const napi_value *argv, uint32_t out, struct axis *axis) {
  size_t starts = 0, counts = 0, weights = 0;
  void *start = NULL, *count = NULL, *weight = NULL;
  if (!napi_typed(env, argv[0], NAPI_INT32_ARRAY, &start, &starts) || !napi_typed(env, argv[1], NAPI_INT32_ARRAY, &count, &counts) ||
      !napi_typed(env, argv[2], NAPI_FLOAT32_ARRAY, &weight, &weights))
    return false;
  if (starts < out || counts < out || weights % out != 0 || weights / out < 1) return false;
  axis->start = start;
  axis->count = count;
  axis->weight = weight;
  axis->taps = (uint32_t)(weights / out);
  for (uint32_t o = 0; o < out; o++) {
    if (axis->count[o] < 1 || (uint32_t)axis->count[o] > axis->taps) return false;
  }
  return true;
}

static inline int32_t clamp(int64_t i, int32_t size) {
  return i < 0 ? 0 : i >= size ? size - 1 : (int32_t)i;
}

/*
 * resample(src: Uint8Array, srcWidth, srcHeight, out: Float32Array, offset, stride, width, height,
 *          xStart: Int32Array, xCount: Int32Array, xWeight: Float32Array,
 *          yStart: Int32Array, yCount: Int32Array, yWeight: Float32Array, map: Float32Array)
 * writes width x height pixels of 3 values into `out` from `offset`, `stride` values a row. `map` holds, per
 * output channel, the source channel (0-2), its gain and its bias: value = resampled * gain + bias.
 */
static napi_value resample(napi_env env, napi_callback_info info) {
  size_t argc = 15;
  napi_value argv[15] = {NULL};
  uint32_t width = 0, height = 0, src_width = 0, src_height = 0, offset = 0, stride = 0;
  void *src = NULL, *out = NULL, *map = NULL;
  size_t src_length = 0, out_length = 0, map_length = 0;
  struct axis x, y;
  bool ok = napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == 0 && argc == 15 && napi_typed(env, argv[0], NAPI_UINT8_ARRAY, &src, &src_length) &&
            napi_get_value_uint32(env, argv[1], &src_width) == 0 && napi_get_value_uint32(env, argv[2], &src_height) == 0 &&
            napi_typed(env, argv[3], NAPI_FLOAT32_ARRAY, &out, &out_length) && napi_get_value_uint32(env, argv[4], &offset) == 0 &&
            napi_get_value_uint32(env, argv[5], &stride) == 0 && napi_get_value_uint32(env, argv[6], &width) == 0 &&
            napi_get_value_uint32(env, argv[7], &height) == 0 && napi_typed(env, argv[14], NAPI_FLOAT32_ARRAY, &map, &map_length);
  if (!ok) {
    napi_throw_type_error(env, NULL, "resample(src, srcWidth, srcHeight, out, offset, stride, width, height, xStart, xCount, xWeight, yStart, yCount, yWeight, map)");
    return NULL;
  }
  const float *m = map;
  bool sizes = src_width >= 1 && src_height >= 1 && width >= 1 && height >= 1 && (uint64_t)src_width * src_height * 3 <= src_length &&
               stride >= (uint64_t)width * 3 && (uint64_t)offset + (uint64_t)(height - 1) * stride + (uint64_t)width * 3 <= out_length && map_length == 9 &&
               axis_of(env, argv + 8, width, &x) && axis_of(env, argv + 11, height, &y);
  for (int c = 0; sizes && c < 3; c++) sizes = m[c * 3] == 0.0f || m[c * 3] == 1.0f || m[c * 3] == 2.0f;
  if (!sizes) {
    napi_throw_range_error(env, NULL, "resample: sizes, taps or channel map out of range");
    return NULL;
  }
  const size_t line = (size_t)src_width * 3;
  float *restrict row = malloc(line * sizeof(float));
  if (row == NULL) {
    napi_throw_range_error(env, NULL, "resample: out of memory");
    return NULL;
  }
  const uint8_t *pixels = src;
  float *values = (float *)out + offset;
  const int channel[3] = {(int)m[0], (int)m[3], (int)m[6]};
  const float gain[3] = {m[1], m[4], m[7]};
  const float bias[3] = {m[2], m[5], m[8]};
  for (uint32_t oy = 0; oy < height; oy++) {
    /* Along y: the source rows this output row reads, weighted, into one row of floats. */
    for (size_t i = 0; i < line; i++) row[i] = 0.0f;
    for (int32_t k = 0; k < y.count[oy]; k++) {
      const float w = y.weight[(size_t)oy * y.taps + k];
      const uint8_t *restrict s = pixels + (size_t)clamp((int64_t)y.start[oy] + k, (int32_t)src_height) * line;
      for (size_t i = 0; i < line; i++) row[i] = row[i] + (float)s[i] * w;
    }
    /* Along x, then the model's mapping. */
    float *o = values + (size_t)oy * stride;
    for (uint32_t ox = 0; ox < width; ox++) {
      float v[3] = {0.0f, 0.0f, 0.0f};
      const float *w = x.weight + (size_t)ox * x.taps;
      for (int32_t k = 0; k < x.count[ox]; k++) {
        const float *p = row + (size_t)clamp((int64_t)x.start[ox] + k, (int32_t)src_width) * 3;
        v[0] = v[0] + p[0] * w[k];
        v[1] = v[1] + p[1] * w[k];
        v[2] = v[2] + p[2] * w[k];
      }
      for (int c = 0; c < 3; c++) o[(size_t)ox * 3 + c] = v[channel[c]] * gain[c] + bias[c];
    }
  }
  free(row);
  return NULL;
}

__attribute__((visibility("default"))) napi_value napi_register_module_v1(napi_env env, napi_value exports) {
  napi_value fn = NULL;
  if (napi_create_function(env, "resample", (size_t)-1, resample, NULL, &fn) != 0) return NULL;
  if (napi_set_named_property(env, exports, "resample", fn) != 0) return NULL;
  return exports;
}
