/*
 * Returns glibc's free memory to the system for the runtime (inference-runtime/core/allocatorTrim.ts).
 *
 * Loading an onnxruntime session, its warm-up and the load-time benchmark's batched runs free most of what
 * they allocate, and so does every request, but glibc keeps the freed memory of the threads' arenas:
 * - free() returns the top of an arena only above the trim threshold, which glibc raises with every large
 *   block it has unmapped (to 64 MiB at most), so each thread's arena keeps up to that much free on its top;
 * - malloc_trim() returns the free pages inside every arena and the main arena's top, but not the top of the
 *   other threads' arenas (glibc trims those only when a block of 64 KiB or more is freed into them).
 * After 10,000 flagship requests the inference threads' arena tops held 40 MiB of a 240 MiB process that
 * malloc_trim() left in place, and the libuv pool threads' (sharp's decodes) 30 MiB more. Nothing else in
 * the process (Node, V8, onnxruntime, libvips) returns them.
 *
 * So a release lowers the trim threshold for its duration, frees a 96 KiB block in the calling thread (glibc
 * then trims that thread's arena top), runs malloc_trim(0) and sets the thresholds back; each inference
 * thread runs such a release itself, and the libuv pool's threads (trimPoolArenas) free such a block in
 * their own. Setting a threshold ends glibc's dynamic thresholds, so they are set to what the dynamic rule
 * reaches at most on 64-bit, where a loaded runtime's own dynamic thresholds already are:
 * blocks under 32 MiB come from the arenas (no page faults per request for the 1-5 MB buffers of a photo),
 * and a top is returned by free() from 64 MiB up; what traffic leaves below that waits for the next release.
 *
 * The Node-API functions it calls are declared in napi.h, so that building needs a C compiler and no Node headers.
 */
#include <malloc.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "napi.h"

/* Between releases: glibc's dynamic maxima on 64-bit (mmap threshold 32 MiB, trim threshold twice that). */
#define MMAP_THRESHOLD_BETWEEN (32 * 1024 * 1024)
#define TRIM_THRESHOLD_BETWEEN (64 * 1024 * 1024)
/* During a release: glibc's default, so a top is returned down to its 128 KiB pad. */
#define TRIM_THRESHOLD_RELEASE (128 * 1024)
/* Freeing at least 64 KiB into a thread's arena makes glibc trim its top; under 128 KiB it never is an mmap. */
#define PROBE_BYTES (96 * 1024)

/* Releases in several threads at once (the inference threads) overlap: the last one out sets the thresholds back. */
static pthread_mutex_t thresholds = PTHREAD_MUTEX_INITIALIZER;
static int releasing = 0;

static void lower_trim_threshold(void) {
  pthread_mutex_lock(&thresholds);
  if (releasing++ == 0) mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_RELEASE);
  pthread_mutex_unlock(&thresholds);
}

static void restore_thresholds(void) {
  pthread_mutex_lock(&thresholds);
  if (--releasing == 0) {
    mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BETWEEN);
    mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BETWEEN);
  }
  pthread_mutex_unlock(&thresholds);
}

/* The top of the calling thread's arena back to the system (the threshold lowered). */
static void trim_own_arena(void) {
  /* volatile: the compiler must not drop the pair. */
  void *volatile probe = malloc(PROBE_BYTES);
  free(probe);
}

/*
 * trim([collect]): the calling thread's arena top, then every arena's free pages (malloc_trim), with the
 * threshold lowered while `collect` (a garbage collection) runs first, so that the large blocks it frees
 * return their arenas' tops too. true when malloc_trim returned memory.
 */
static napi_value trim(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1] = {NULL};
  napi_value result = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != 0) return NULL;
  int type = 0;
  bool collect = argc >= 1 && napi_typeof(env, argv[0], &type) == 0 && type == NAPI_FUNCTION;
  lower_trim_threshold();
  if (collect) {
    napi_value global = NULL;
    napi_value ignored = NULL;
    if (napi_get_global(env, &global) != 0 || napi_call_function(env, global, argv[0], 0, NULL, &ignored) != 0) {
      /* collect threw: the exception goes to the caller. */
      restore_thresholds();
      return NULL;
    }
  }
  trim_own_arena();
  int released = malloc_trim(0);
  restore_thresholds();
  napi_get_boolean(env, released == 1, &result);
  return result;
}

/*
 * The libuv pool's threads decode and resize images (sharp), each in an arena of its own. Releasing them
 * queues one job per pool thread; each frees its block and then waits (at most POOL_WAIT_MS) until every job
 * has started, so that no thread runs two and each thread runs one. At a quiet moment that takes microseconds;
 * jobs queued behind other work simply start later.
 */
#define MAX_POOL_THREADS 128
#define POOL_WAIT_MS 200

struct pool_release {
  pthread_mutex_t lock;
  pthread_cond_t all_started;
  uint32_t jobs;
  uint32_t started;
  uint32_t completed;
  pthread_t threads[MAX_POOL_THREADS];
  napi_async_work works[MAX_POOL_THREADS];
  napi_deferred done;
};

static void pool_job(napi_env env, void *data) {
  (void)env;
  struct pool_release *r = data;
  lower_trim_threshold();
  trim_own_arena();
  restore_thresholds();
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_nsec += (long)POOL_WAIT_MS * 1000000L;
  deadline.tv_sec += deadline.tv_nsec / 1000000000L;
  deadline.tv_nsec %= 1000000000L;
  pthread_mutex_lock(&r->lock);
  r->threads[r->started++] = pthread_self();
  pthread_cond_broadcast(&r->all_started);
  while (r->started < r->jobs) {
    if (pthread_cond_timedwait(&r->all_started, &r->lock, &deadline) != 0) break;
  }
  pthread_mutex_unlock(&r->lock);
}

static void pool_job_done(napi_env env, napi_status status, void *data) {
  (void)status;
  struct pool_release *r = data;
  if (++r->completed < r->jobs) return;
  /* Every job has run: resolve with the number of distinct threads that ran one. */
  uint32_t distinct = 0;
  for (uint32_t i = 0; i < r->started; i++) {
    bool seen = false;
    for (uint32_t j = 0; j < i && !seen; j++) seen = pthread_equal(r->threads[i], r->threads[j]) != 0;
    if (!seen) distinct++;
  }
  napi_value count = NULL;
  napi_create_uint32(env, distinct, &count);
  napi_resolve_deferred(env, r->done, count);
  for (uint32_t i = 0; i < r->jobs; i++) napi_delete_async_work(env, r->works[i]);
  pthread_cond_destroy(&r->all_started);
  pthread_mutex_destroy(&r->lock);
  free(r);
}

/* trimPoolArenas(threads): a promise of the number of libuv pool threads that returned their arena's top. */
static napi_value trim_pool_arenas(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1] = {NULL};
  uint32_t jobs = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != 0 || argc < 1 || napi_get_value_uint32(env, argv[0], &jobs) != 0) return NULL;
  if (jobs < 1) jobs = 1;
  if (jobs > MAX_POOL_THREADS) jobs = MAX_POOL_THREADS;
  struct pool_release *r = calloc(1, sizeof *r);
  if (r == NULL) return NULL;
  pthread_mutex_init(&r->lock, NULL);
  pthread_cond_init(&r->all_started, NULL);
  r->jobs = jobs;
  napi_value promise = NULL;
  napi_value name = NULL;
  if (napi_create_promise(env, &r->done, &promise) != 0 || napi_create_string_utf8(env, "mloffload:trimPoolArenas", (size_t)-1, &name) != 0) {
    free(r);
    return NULL;
  }
  for (uint32_t i = 0; i < jobs; i++) {
    /* Created before any is queued: pool_job_done counts on `jobs` works existing. */
    if (napi_create_async_work(env, NULL, name, pool_job, pool_job_done, r, &r->works[i]) != 0) return NULL;
  }
  for (uint32_t i = 0; i < jobs; i++) napi_queue_async_work(env, r->works[i]);
  return promise;
}

__attribute__((visibility("default"))) napi_value napi_register_module_v1(napi_env env, napi_value exports) {
  napi_value fn = NULL;
  if (napi_create_function(env, "trim", (size_t)-1, trim, NULL, &fn) != 0) return NULL;
  if (napi_set_named_property(env, exports, "trim", fn) != 0) return NULL;
  if (napi_create_function(env, "trimPoolArenas", (size_t)-1, trim_pool_arenas, NULL, &fn) != 0) return NULL;
  if (napi_set_named_property(env, exports, "trimPoolArenas", fn) != 0) return NULL;
  return exports;
}
