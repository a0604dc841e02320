/*
 * Decodes a JPEG to 8-bit RGB with libjpeg-turbo in one libuv pool job, for the runtime's image decode
 * (inference-runtime/vision/jpegDecoder.ts).
 *
 * Why: sharp decodes through libvips, whose pipeline (a pool job that builds the operations, a threadpool of
 * its own that hands the image over in strips, buffers and objects per region) cost 3.7 ms of CPU a
 * request for the flagship's 640x480 JPEG in the server. This addon runs only the decoder, the same
 * libjpeg-turbo code: header, decode, rows straight into the caller's buffer, in 0.74-0.85 ms.
 *
 * It decodes what needs no more than that: 8-bit baseline or progressive JPEGs in YCbCr, RGB or greyscale,
 * at their full size, progressive ones only when their scans are complete. The caller leaves everything else
 * to libvips (CMYK, 12-bit, EXIF rotation, resizing, progressive files that end early).
 * Untrusted input: libjpeg's errors end the decode through longjmp; any warning (corrupt data, a premature
 * end) fails it too, as libvips does with `failOn: 'warning'`; a progressive file may have at most MAX_SCANS
 * scans; the image must have the size the caller read from the header and sized the output for.
 *
 * The Node-API functions it calls are declared in napi.h, so that building needs a C compiler, libjpeg's
 * header, and no Node headers.
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <jpeglib.h>

#include "napi.h"

/* What a decode ends with; jpegDecoder.ts reads the same numbers. */
enum outcome { DECODED = 0, CORRUPT = 1, UNSUPPORTED = 2 };

/* Scans a progressive file may have: cameras and encoders write about ten; each costs a pass over the image. */
#define MAX_SCANS 100
/* Rows handed to libjpeg per call (its upsampler makes up to two at a time, the merged one up to max_v_samp). */
#define ROWS_PER_CALL 16

struct decode_error {
  struct jpeg_error_mgr pub;
  jmp_buf jump;
  int warnings;
};

static void on_error_exit(j_common_ptr cinfo) {
  longjmp(((struct decode_error *)cinfo->err)->jump, 1);
}

/* Level -1 is a warning (corrupt data, a premature end); levels >= 0 are trace messages, never enabled. */
static void on_emit_message(j_common_ptr cinfo, int level) {
  if (level < 0) ((struct decode_error *)cinfo->err)->warnings++;
}

static void on_output_message(j_common_ptr cinfo) {
  (void)cinfo;
}

static void on_progress(j_common_ptr cinfo) {
  if (((j_decompress_ptr)cinfo)->input_scan_number > MAX_SCANS) on_error_exit(cinfo);
}

struct job {
  const uint8_t *input;
  size_t input_length;
  uint8_t *output;
  size_t output_length;
  uint32_t width;
  uint32_t height;
  enum outcome outcome;
  napi_ref input_ref;
  napi_ref output_ref;
  napi_deferred done;
  napi_async_work work;
};

/*
 * Whether a progressive file's scans gave every coefficient its last bit (libjpeg's coef_bits: -1 for none
 * yet, else the bit the last scan stopped at). One that ends early (an end marker among its scans) decodes
 * without a warning, its missing coefficients estimated by block smoothing, and libjpeg-turbo's smoothing
 * is not the one in sharp's libvips (pixels 1 apart, found by the damage property test): such a file goes
 * to libvips, which decides alone. Sequential files have no such estimate.
 */
static bool coefficients_complete(const struct jpeg_decompress_struct *cinfo) {
  if (!cinfo->progressive_mode) return true;
  if (cinfo->coef_bits == NULL) return false;
  for (int c = 0; c < cinfo->num_components; c++) {
    for (int k = 0; k < DCTSIZE2; k++) {
      if (cinfo->coef_bits[c][k] != 0) return false;
    }
  }
  return true;
}

static enum outcome decode(struct job *job) {
  struct jpeg_decompress_struct cinfo;
  struct decode_error error;
  struct jpeg_progress_mgr progress = {.progress_monitor = on_progress};
  cinfo.err = jpeg_std_error(&error.pub);
  error.pub.error_exit = on_error_exit;
  error.pub.emit_message = on_emit_message;
  error.pub.output_message = on_output_message;
  error.warnings = 0;
  if (setjmp(error.jump)) {
    jpeg_destroy_decompress(&cinfo);
    return CORRUPT;
  }
  jpeg_create_decompress(&cinfo);
  cinfo.progress = &progress;
  jpeg_mem_src(&cinfo, job->input, (unsigned long)job->input_length);
  if (jpeg_read_header(&cinfo, TRUE) != JPEG_HEADER_OK) {
    jpeg_destroy_decompress(&cinfo);
    return CORRUPT;
  }
  bool colours = cinfo.jpeg_color_space == JCS_YCbCr || cinfo.jpeg_color_space == JCS_GRAYSCALE || cinfo.jpeg_color_space == JCS_RGB;
  if (!colours || cinfo.data_precision != 8 || cinfo.image_width != job->width || cinfo.image_height != job->height ||
      (size_t)job->width * job->height * 3 != job->output_length) {
    jpeg_destroy_decompress(&cinfo);
    return UNSUPPORTED;
  }
  cinfo.out_color_space = JCS_RGB;
  cinfo.dct_method = JDCT_ISLOW;
  cinfo.do_fancy_upsampling = TRUE;
  /* A progressive file's scans are all read here, before the first row is made. */
  jpeg_start_decompress(&cinfo);
  if (cinfo.output_components != 3 || cinfo.output_width != job->width || cinfo.output_height != job->height ||
      !coefficients_complete(&cinfo)) {
    jpeg_destroy_decompress(&cinfo);
    return UNSUPPORTED;
  }
  const size_t stride = (size_t)job->width * 3;
  JSAMPROW rows[ROWS_PER_CALL];
  while (cinfo.output_scanline < cinfo.output_height) {
    JDIMENSION first = cinfo.output_scanline;
    JDIMENSION count = cinfo.output_height - first < ROWS_PER_CALL ? cinfo.output_height - first : ROWS_PER_CALL;
    for (JDIMENSION i = 0; i < count; i++) rows[i] = job->output + (first + i) * stride;
    jpeg_read_scanlines(&cinfo, rows, count);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return error.warnings > 0 ? CORRUPT : DECODED;
}

static void run(napi_env env, void *data) {
  (void)env;
  struct job *job = data;
  job->outcome = decode(job);
}

static void done(napi_env env, napi_status status, void *data) {
  struct job *job = data;
  napi_value outcome = NULL;
  napi_create_uint32(env, status == 0 ? (uint32_t)job->outcome : (uint32_t)CORRUPT, &outcome);
  napi_resolve_deferred(env, job->done, outcome);
  napi_delete_reference(env, job->input_ref);
  napi_delete_reference(env, job->output_ref);
  napi_delete_async_work(env, job->work);
  free(job);
}

static bool bytes_of(napi_env env, napi_value value, uint8_t **data, size_t *length) {
  int type = -1;
  void *pointer = NULL;
  if (napi_get_typedarray_info(env, value, &type, length, &pointer, NULL, NULL) != 0 || type != NAPI_UINT8_ARRAY) return false;
  *data = pointer;
  return true;
}

/*
 * decode(input: Uint8Array, output: Uint8Array, width, height): a promise of the outcome (DECODED, CORRUPT or
 * UNSUPPORTED). `output` must hold width x height x 3 bytes; both arrays stay referenced until it settles.
 */
static napi_value decode_jpeg(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4] = {NULL, NULL, NULL, NULL};
  struct job *job = calloc(1, sizeof *job);
  if (job == NULL) return NULL;
  uint8_t *input = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != 0 || argc < 4 || !bytes_of(env, argv[0], &input, &job->input_length) ||
      !bytes_of(env, argv[1], &job->output, &job->output_length) || napi_get_value_uint32(env, argv[2], &job->width) != 0 ||
      napi_get_value_uint32(env, argv[3], &job->height) != 0) {
    free(job);
    napi_throw_type_error(env, NULL, "decode(input: Uint8Array, output: Uint8Array, width: number, height: number)");
    return NULL;
  }
  job->input = input;
  napi_value promise = NULL;
  napi_value name = NULL;
  if (napi_create_promise(env, &job->done, &promise) != 0 || napi_create_string_utf8(env, "mloffload:decodeJpeg", (size_t)-1, &name) != 0 ||
      napi_create_reference(env, argv[0], 1, &job->input_ref) != 0 || napi_create_reference(env, argv[1], 1, &job->output_ref) != 0 ||
      napi_create_async_work(env, NULL, name, run, done, job, &job->work) != 0 || napi_queue_async_work(env, job->work) != 0) {
    free(job);
    return NULL;
  }
  return promise;
}

__attribute__((visibility("default"))) napi_value napi_register_module_v1(napi_env env, napi_value exports) {
  napi_value fn = NULL;
  if (napi_create_function(env, "decode", (size_t)-1, decode_jpeg, NULL, &fn) != 0) return NULL;
  if (napi_set_named_property(env, exports, "decode", fn) != 0) return NULL;
  return exports;
}
