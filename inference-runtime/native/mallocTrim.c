/*
 * glibc's malloc_trim(0) for the runtime (inference-runtime/core/allocatorTrim.ts).
 *
 * Loading an onnxruntime session, its warm-up and the load-time benchmark's batched runs free most of what
 * they allocate, but glibc keeps the freed memory of the inference threads' arenas wherever live blocks sit
 * above it: free() only returns the top of an arena, malloc_trim() every free page. Nothing else in the
 * process (Node, V8, onnxruntime, libvips) calls it.
 *
 * Node-API is a stable C ABI whose functions the node binary exports; the few used here are declared rather
 * than taken from node_api.h, so that building needs a C compiler and no Node headers.
 */
#include <malloc.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct napi_env__ *napi_env;
typedef struct napi_value__ *napi_value;
typedef struct napi_callback_info__ *napi_callback_info;
typedef int napi_status;
typedef napi_value (*napi_callback)(napi_env env, napi_callback_info info);

extern napi_status napi_create_function(napi_env env, const char *utf8name, size_t length, napi_callback cb, void *data, napi_value *result);
extern napi_status napi_set_named_property(napi_env env, napi_value object, const char *utf8name, napi_value value);
extern napi_status napi_get_boolean(napi_env env, bool value, napi_value *result);

/* trim(): true when memory was returned to the system. */
static napi_value trim(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result = NULL;
  napi_get_boolean(env, malloc_trim(0) == 1, &result);
  return result;
}

__attribute__((visibility("default"))) napi_value napi_register_module_v1(napi_env env, napi_value exports) {
  napi_value fn = NULL;
  if (napi_create_function(env, "trim", (size_t)-1, trim, NULL, &fn) != 0) return NULL;
  if (napi_set_named_property(env, exports, "trim", fn) != 0) return NULL;
  return exports;
}
