/*
 * The Node-API functions the runtime's addons call. Node-API is a stable C ABI whose functions the node
 * binary exports; they are declared here rather than taken from node_api.h, so that building an addon needs a
 * C compiler and no Node headers. The declarations match node_api.h; every function is of Node-API version 1.
 * The one helper at the end is the addons' own.
 */
#ifndef MLOFFLOAD_NAPI_H
#define MLOFFLOAD_NAPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct napi_env__ *napi_env;
typedef struct napi_value__ *napi_value;
typedef struct napi_ref__ *napi_ref;
typedef struct napi_callback_info__ *napi_callback_info;
typedef struct napi_async_work__ *napi_async_work;
typedef struct napi_deferred__ *napi_deferred;
typedef int napi_status;
typedef napi_value (*napi_callback)(napi_env env, napi_callback_info info);
typedef void (*napi_async_execute_callback)(napi_env env, void *data);
typedef void (*napi_async_complete_callback)(napi_env env, napi_status status, void *data);

/* napi_valuetype's napi_function. */
#define NAPI_FUNCTION 7
/* napi_typedarray_type's napi_uint8_array, napi_int32_array and napi_float32_array. */
#define NAPI_UINT8_ARRAY 1
#define NAPI_INT32_ARRAY 5
#define NAPI_FLOAT32_ARRAY 7

extern napi_status napi_create_function(napi_env env, const char *utf8name, size_t length, napi_callback cb, void *data, napi_value *result);
extern napi_status napi_set_named_property(napi_env env, napi_value object, const char *utf8name, napi_value value);
extern napi_status napi_get_cb_info(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv, napi_value *this_arg, void **data);
extern napi_status napi_get_global(napi_env env, napi_value *result);
extern napi_status napi_get_boolean(napi_env env, bool value, napi_value *result);
extern napi_status napi_typeof(napi_env env, napi_value value, int *result);
extern napi_status napi_call_function(napi_env env, napi_value recv, napi_value func, size_t argc, const napi_value *argv, napi_value *result);
extern napi_status napi_get_typedarray_info(napi_env env, napi_value typedarray, int *type, size_t *length, void **data, napi_value *arraybuffer,
                                            size_t *byte_offset);
extern napi_status napi_get_value_uint32(napi_env env, napi_value value, uint32_t *result);
extern napi_status napi_create_uint32(napi_env env, uint32_t value, napi_value *result);
extern napi_status napi_create_int32(napi_env env, int32_t value, napi_value *result);
extern napi_status napi_create_string_utf8(napi_env env, const char *str, size_t length, napi_value *result);
extern napi_status napi_create_reference(napi_env env, napi_value value, uint32_t initial_refcount, napi_ref *result);
extern napi_status napi_delete_reference(napi_env env, napi_ref ref);
extern napi_status napi_create_async_work(napi_env env, napi_value async_resource, napi_value async_resource_name, napi_async_execute_callback execute,
                                          napi_async_complete_callback complete, void *data, napi_async_work *result);
extern napi_status napi_queue_async_work(napi_env env, napi_async_work work);
extern napi_status napi_delete_async_work(napi_env env, napi_async_work work);
extern napi_status napi_create_promise(napi_env env, napi_deferred *deferred, napi_value *promise);
extern napi_status napi_resolve_deferred(napi_env env, napi_deferred deferred, napi_value resolution);
extern napi_status napi_throw_type_error(napi_env env, const char *code, const char *msg);
extern napi_status napi_throw_range_error(napi_env env, const char *code, const char *msg);

/* A typed array of the `expected` type (NAPI_*_ARRAY): its data and its length in elements. */
static inline bool napi_typed(napi_env env, napi_value value, int expected, void **data, size_t *length) {
  int type = -1;
  return napi_get_typedarray_info(env, value, &type, length, data, NULL, NULL) == 0 && type == expected;
}

#endif
