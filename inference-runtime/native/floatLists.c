/*
 * Reads the nested lists of JSON numbers of an inference body into float32 values, for the fast paths of
 * TF Serving `:predict` and V2 `/infer` (http/floatLists.ts, whose `readNested` is its JavaScript twin).
 *
 * Why: the JavaScript reader spends about 0.14 ms of the event loop on the 89 KB body of a 64x64 image, the
 * largest single cost of a `:predict` request after the model; this reads it in one pass of C (0.05 ms,
 * bench/predictJson.ts).
 *
 * It is the JavaScript reader's twin and answers the same for every body: the same grammar (strict JSON
 * numbers, lists of one shape, at most MAX_RANK deep, at most `maxOuter` rows), the same values (each number
 * as the double JSON.parse makes of it, then rounded to float32), and "not flat" wherever the JavaScript one
 * steps aside, so that the general path answers. Property tests hold the two to that, and one runs this file
 * under AddressSanitizer (test/unit/inference-runtime/http/flatTensorJson.test.ts).
 *
 * The Node-API functions it calls are declared in napi.h, so that building needs a C compiler and no Node headers.
 */
#define _GNU_SOURCE
#include <locale.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "napi.h"

/* The same bound as http/floatLists.ts's MAX_RANK. */
#define MAX_RANK 32
#define FLOAT32_MAX 3.4028234663852886e38
/* Relative width of the band around a value that must round to one float32 for an inexact conversion to stand. */
#define GUARD 0x1p-40

enum { NOT_FLAT = -1, FULL = -2 };

static const double EXACT_POWERS[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static inline bool space(uint8_t c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }
static inline bool digit(uint8_t c) { return c >= '0' && c <= '9'; }

/* The "C" locale, so that strtod reads '.' whatever locale the process runs in; made once for all threads. */
static locale_t locale_c = (locale_t)0;
static pthread_once_t locale_once = PTHREAD_ONCE_INIT;
static void make_locale(void) { locale_c = newlocale(LC_ALL_MASK, "C", (locale_t)0); }

/* Whether the 8 bytes at p are all digits, and their value (the bytes as a little-endian word, SWAR). */
static inline bool eight_digits(const uint8_t *p, uint64_t *value) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  uint64_t v;
  memcpy(&v, p, 8);
  if ((((v & 0xF0F0F0F0F0F0F0F0u) | (((v + 0x0606060606060606u) & 0xF0F0F0F0F0F0F0F0u) >> 4))) != 0x3333333333333333u) return false;
  v = ((v & 0x0F0F0F0F0F0F0F0Fu) * 2561) >> 8;
  v = ((v & 0x00FF00FF00FF00FFu) * 6553601) >> 16;
  *value = ((v & 0x0000FFFF0000FFFFu) * 42949672960001u) >> 32;
  return true;
#else
  (void)p;
  (void)value;
  return false;
#endif
}

/*
 * A run of digits from p into `mantissa` (exact while `digits` stays within 19; beyond, it wraps unused and
 * the caller converts the text), eight at a time where the body has eight more bytes. Returns the first
 * non-digit.
 */
static inline const uint8_t *read_digits(const uint8_t *p, const uint8_t *end, uint64_t *mantissa, int *digits) {
  uint64_t m = *mantissa;
  int n = *digits;
  uint64_t eight;
  while (end - p >= 8 && eight_digits(p, &eight)) {
    m = m * 100000000u + eight;
    n += 8;
    p += 8;
  }
  while (digit(*p)) {
    m = m * 10 + (uint64_t)(*p - '0');
    n++;
    p++;
  }
  *mantissa = m;
  *digits = n;
  return p;
}

/*
 * The lists from b[start] (just after the outermost '['). Writes the values to out (capacity `capacity`),
 * and to meta: the position after the outermost ']', the rank, then the shape. Answers the count of values,
 * NOT_FLAT, or FULL when `out` is too small. The body must end with '}' (after spaces), which ends every run
 * of digits or spaces and is no list element, so no read goes past the body.
 */
static int64_t read_lists(const uint8_t *b, size_t length, size_t start, uint32_t max_outer, float *out, size_t capacity, int32_t *meta) {
  size_t last = length;
  while (last > 0 && space(b[last - 1])) last--;
  if (last == 0 || b[last - 1] != '}' || start >= last) return NOT_FLAT;
  pthread_once(&locale_once, make_locale);
  const locale_t locale = locale_c;
  if (locale == (locale_t)0) return NOT_FLAT;

  uint32_t commas[MAX_RANK + 1];
  int rank = -1;
  int depth = 1;
  commas[0] = 0;
  size_t count = 0;
  const uint8_t *p = b + start;
  const uint8_t *const end = b + length;
  for (;;) {
    uint8_t c = *p;
    while (space(c)) c = *++p;
    if (c == '[') {
      if ((rank != -1 && depth >= rank) || depth >= MAX_RANK) return NOT_FLAT;
      p++;
      commas[depth] = 0;
      depth++;
      continue;
    }
    if (rank == -1) rank = depth;
    else if (depth != rank) return NOT_FLAT;

    /* A JSON number (strict grammar): up to 19 significant digits exactly in an integer, and its scale. */
    const uint8_t *number = p;
    bool negative = false;
    if (c == '-') {
      negative = true;
      c = *++p;
    }
    uint64_t mantissa = 0;
    int digits = 0;
    int64_t scale = 0;
    if (c == '0') {
      c = *++p;
    } else if (c > '0' && c <= '9') {
      p = read_digits(p, end, &mantissa, &digits);
      c = *p;
    } else {
      return NOT_FLAT;
    }
    if (c == '.') {
      c = *++p;
      if (!digit(c)) return NOT_FLAT;
      const uint8_t *from = p;
      /* Zeros before the first significant digit add scale, not precision. */
      if (digits == 0) {
        while (c == '0') c = *++p;
      }
      p = read_digits(p, end, &mantissa, &digits);
      c = *p;
      scale = (int64_t)(from - p);
    }
    if (c == 'e' || c == 'E') {
      c = *++p;
      bool exp_negative = false;
      if (c == '+' || c == '-') {
        exp_negative = c == '-';
        c = *++p;
      }
      if (!digit(c)) return NOT_FLAT;
      int64_t exponent = 0;
      do {
        if (exponent < 100000) exponent = exponent * 10 + (c - '0');
        c = *++p;
      } while (digit(c));
      scale += exp_negative ? -exponent : exponent;
    }
    /* What may follow a number; checked first, so that strtod below stops where the grammar did. */
    if (!(space(c) || c == ',' || c == ']')) return NOT_FLAT;

    double v = 0;
    bool done = false;
    if (digits <= 19 && scale >= -22 && scale <= 22) {
      const double m = (double)mantissa;
      const double value = scale < 0 ? m / EXACT_POWERS[-scale] : m * EXACT_POWERS[scale];
      /* Up to 15 digits this is the correctly rounded double (one exact operand, one rounding). Up to 19 it is
       * within 2^-51 of it: it then rounds to the same float32 unless a float32 rounding boundary lies within
       * 2^-40 of it, which the two probes detect. */
      if (digits <= 15 || (value < 3.4e38 && (float)(value * (1 + GUARD)) == (float)(value * (1 - GUARD)))) {
        v = negative ? -value : value;
        done = true;
      }
    }
    /* Long mantissas, large exponents and near ties: the C library's correctly rounded conversion. */
    if (!done) v = strtod_l((const char *)number, NULL, locale);
    if (!(v <= FLOAT32_MAX && v >= -FLOAT32_MAX)) return NOT_FLAT;
    if (count == capacity) return FULL;
    out[count++] = (float)v;

    /* After an element: a comma and the next element, or the lists that close here. */
    for (;;) {
      while (space(c)) c = *++p;
      if (c == ',') {
        p++;
        commas[depth - 1]++;
        if (depth == 1 && commas[0] >= max_outer) return NOT_FLAT;
        break;
      }
      if (c != ']') return NOT_FLAT;
      p++;
      depth--;
      /* Each list of a depth holds as many elements as the first one closed there (meta's shape, 0: none yet). */
      const uint32_t n = commas[depth] + 1;
      int32_t *dim = &meta[2 + depth];
      if (*dim == 0) *dim = (int32_t)n;
      else if ((uint32_t)*dim != n) return NOT_FLAT;
      if (depth == 0) {
        meta[0] = (int32_t)(p - b);
        meta[1] = rank;
        return (int64_t)count;
      }
      c = *p;
    }
  }
}

/*
 * readLists(body: Uint8Array, start, maxOuter, out: Float32Array, meta: Int32Array) -> count, -1 (not flat)
 * or -2 (out is full). meta (2 + MAX_RANK zeros) receives the end position, the rank and the shape.
 */
static napi_value read_lists_js(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5] = {NULL};
  void *body = NULL, *out = NULL, *meta = NULL;
  size_t body_length = 0, out_length = 0, meta_length = 0;
  uint32_t start = 0, max_outer = 0;
  bool ok = napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == 0 && argc == 5 && napi_typed(env, argv[0], NAPI_UINT8_ARRAY, &body, &body_length) &&
            napi_get_value_uint32(env, argv[1], &start) == 0 && napi_get_value_uint32(env, argv[2], &max_outer) == 0 &&
            napi_typed(env, argv[3], NAPI_FLOAT32_ARRAY, &out, &out_length) && napi_typed(env, argv[4], NAPI_INT32_ARRAY, &meta, &meta_length) &&
            meta_length == 2 + MAX_RANK && body_length < INT32_MAX;
  if (!ok) {
    napi_throw_type_error(env, NULL, "readLists(body, start, maxOuter, out, meta[2 + 32])");
    return NULL;
  }
  int32_t *m = meta;
  for (size_t i = 0; i < meta_length; i++) m[i] = 0;
  const int64_t count = read_lists(body, body_length, start, max_outer, out, out_length, m);
  napi_value result = NULL;
  napi_create_int32(env, count > INT32_MAX ? NOT_FLAT : (int32_t)count, &result);
  return result;
}

__attribute__((visibility("default"))) napi_value napi_register_module_v1(napi_env env, napi_value exports) {
  napi_value fn = NULL;
  if (napi_create_function(env, "readLists", (size_t)-1, read_lists_js, NULL, &fn) != 0) return NULL;
  if (napi_set_named_property(env, exports, "readLists", fn) != 0) return NULL;
  return exports;
}
