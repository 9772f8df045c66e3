/* Contexts: device selection, the one in-order queue, messages and reusable workspaces. */
#include "internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(_MSC_VER)
#define SCL_THREAD_LOCAL __declspec(thread)
#else
#define SCL_THREAD_LOCAL __thread
#endif

/* Calls with no context to carry their message (creation, files) keep it per thread. */
static SCL_THREAD_LOCAL char create_error[SCL_MESSAGE_SIZE];

const char *scl_version(void) { return "0.1.0"; }

scl_status scl__fail_noctx(scl_status status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(create_error, sizeof create_error, fmt, ap);
  va_end(ap);
  return status;
}

scl_status scl__fail(scl_context ctx, scl_status status, const char *fmt, ...) {
  if (ctx) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->message, sizeof ctx->message, fmt, ap);
    va_end(ap);
  }
  return status;
}

scl_status scl__cl_fail(scl_context ctx, cl_int err, const char *what) {
  return scl__fail(ctx, err, "%s: %s (%d)", what, scl_status_string(err), err);
}

const char *scl_context_error(scl_context ctx) { return ctx ? ctx->message : create_error; }

/* ---- selection ------------------------------------------------------------------------------ */

static int contains_nocase(const char *hay, const char *needle) {
  size_t n = strlen(needle);
  for (; *hay; hay++) {
    size_t i = 0;
    while (i < n && hay[i] && tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i])) i++;
    if (i == n) return 1;
  }
  return n == 0;
}

static int is_decimal(const char *s) {
  if (!*s) return 0;
  for (; *s; s++)
    if (!isdigit((unsigned char)*s)) return 0;
  return 1;
}

/* Returns the index chosen by selector among n devices, or -1. */
static long pick_device(const char *selector, const scl_device_info *infos, size_t n) {
  if (!selector || !*selector) {
    const scl_device_type order[] = {SCL_DEVICE_GPU, SCL_DEVICE_ACCELERATOR};
    for (int o = 0; o < 2; o++)
      for (size_t i = 0; i < n; i++)
        if (infos[i].type == order[o]) return (long)i;
    return n ? 0 : -1;
  }
  if (is_decimal(selector)) {
    unsigned long long idx = strtoull(selector, NULL, 10);
    return idx < n ? (long)idx : -1;
  }
  struct { const char *word; scl_device_type type; } types[] = {
      {"cpu", SCL_DEVICE_CPU}, {"gpu", SCL_DEVICE_GPU}, {"accelerator", SCL_DEVICE_ACCELERATOR}};
  for (int t = 0; t < 3; t++) {
    if (strcmp(selector, types[t].word) != 0) continue;
    for (size_t i = 0; i < n; i++)
      if (infos[i].type == types[t].type) return (long)i;
    return -1;
  }
  for (size_t i = 0; i < n; i++) {
    char label[300];
    snprintf(label, sizeof label, "%s: %s", infos[i].platform, infos[i].name);
    if (contains_nocase(label, selector)) return (long)i;
  }
  return -1;
}

static scl_status finish_setup(scl_context ctx) {
  scl_device_info info;
  scl_status st = scl__device_info_of(ctx->device, &info);
  if (st != SCL_OK) return st;
  snprintf(ctx->device_label, sizeof ctx->device_label, "%s: %s", info.platform, info.name);
  /* OpenCL C 1.2 unless the device only speaks an older dialect. */
  char cver[64] = {0};
  clGetDeviceInfo(ctx->device, CL_DEVICE_OPENCL_C_VERSION, sizeof cver - 1, cver, NULL);
  int major = 1, minor = 0;
  if (sscanf(cver, "OpenCL C %d.%d", &major, &minor) == 2 && (major > 1 || minor >= 2))
    snprintf(ctx->build_options, sizeof ctx->build_options, "-cl-std=CL1.2");
  else
    ctx->build_options[0] = '\0';
  size_t wg = 0;
  clGetDeviceInfo(ctx->device, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof wg, &wg, NULL);
  ctx->max_work_group = wg ? wg : 1;
  ctx->compute_units = info.compute_units ? info.compute_units : 1;
  ctx->cpu = info.type == SCL_DEVICE_CPU;
  cl_uint align_bits = 0;
  clGetDeviceInfo(ctx->device, CL_DEVICE_MEM_BASE_ADDR_ALIGN, sizeof align_bits, &align_bits, NULL);
  ctx->mem_align = align_bits >= 8 ? align_bits / 8 : 0;
  cl_ulong max_alloc = 0;
  clGetDeviceInfo(ctx->device, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof max_alloc, &max_alloc, NULL);
  ctx->max_alloc = (size_t)max_alloc;
  return scl__blas_apply_tuning(ctx, &info);
}

/* Contexts alive in the process. CLBlast keeps the programs it builds for a cl_context in a
   process-wide cache that outlives the context; when the last spherecl context goes, the cache is
   emptied, rather than at exit, where the OpenCL implementation may already be torn down (Oclgrind
   then aborts: "corrupted double-linked list" in clReleaseProgram from CLBlast's destructor). */
static int live_contexts;

static int count_live(scl_context ctx, int delta) {
  ctx->counted = delta > 0;
  return __atomic_add_fetch(&live_contexts, delta, __ATOMIC_SEQ_CST);
}

scl_status scl_context_create(const char *selector, scl_context *out) {
  create_error[0] = '\0';
  if (!out) {
    scl__set_create_error("scl_context_create: ctx is NULL");
    return SCL_ERR_INVALID_ARGUMENT;
  }
  *out = NULL;
  const char *from_env = "";
  if (!selector || !*selector) {
    const char *env = getenv("SPHERECL_DEVICE");
    if (env && *env) {
      selector = env;
      from_env = " (from SPHERECL_DEVICE)";
    }
  }
  size_t n = 0;
  scl_status st = scl__device_list(NULL, 0, &n);
  if (st != SCL_OK) {
    scl__set_create_error("could not enumerate OpenCL devices: %s (%d)", scl_status_string(st), st);
    return st;
  }
  char listing[4096];
  if (n == 0) {
    scl__device_describe_all(listing, sizeof listing);
    scl__set_create_error("no OpenCL device found.\n%s", listing);
    return SCL_ERR_NO_DEVICE;
  }
  cl_device_id *ids = calloc(n, sizeof *ids);
  scl_device_info *infos = calloc(n, sizeof *infos);
  scl_context ctx = calloc(1, sizeof *ctx);
  if (!ids || !infos || !ctx) {
    free(ids), free(infos), free(ctx);
    scl__set_create_error("out of host memory");
    return SCL_ERR_OUT_OF_MEMORY;
  }
  st = scl__device_list(ids, n, &n);
  for (size_t i = 0; st == SCL_OK && i < n; i++) st = scl__device_info_of(ids[i], &infos[i]);
  long pick = st == SCL_OK ? pick_device(selector, infos, n) : -1;
  if (st != SCL_OK || pick < 0) {
    scl__device_describe_all(listing, sizeof listing);
    if (st == SCL_OK) {
      scl__set_create_error("no OpenCL device matches \"%s\"%s. Devices:\n%s"
                            "Select by index, by cpu/gpu/accelerator, or by part of \"platform: device\".",
                            selector ? selector : "", from_env, listing);
      st = SCL_ERR_NO_DEVICE;
    } else {
      scl__set_create_error("could not query OpenCL devices: %s", scl_status_string(st));
    }
    free(ids), free(infos), free(ctx);
    return st;
  }
  ctx->device = ids[pick];
  free(ids), free(infos);
  cl_int err = CL_SUCCESS;
  ctx->cl = clCreateContext(NULL, 1, &ctx->device, NULL, NULL, &err);
  if (err == CL_SUCCESS) ctx->queue = clCreateCommandQueue(ctx->cl, ctx->device, 0, &err);
  if (err != CL_SUCCESS) {
    scl__set_create_error("could not create an OpenCL context/queue: %s (%d)", scl_status_string(err), err);
    scl_context_release(ctx);
    return err;
  }
  st = finish_setup(ctx);
  if (st != SCL_OK) {
    scl__set_create_error("%s", ctx->message);
    scl_context_release(ctx);
    return st;
  }
  count_live(ctx, 1);
  *out = ctx;
  return SCL_OK;
}

scl_status scl_context_create_from_cl(cl_context context, cl_device_id device, cl_command_queue queue,
                                      scl_context *out) {
  create_error[0] = '\0';
  if (!out || !context || !device) {
    scl__set_create_error("scl_context_create_from_cl: %s is NULL", !out ? "ctx" : !context ? "context" : "device");
    return SCL_ERR_INVALID_ARGUMENT;
  }
  *out = NULL;
  if (queue) {
    cl_command_queue_properties props = 0;
    cl_context qctx = NULL;
    cl_device_id qdev = NULL;
    cl_int err = clGetCommandQueueInfo(queue, CL_QUEUE_PROPERTIES, sizeof props, &props, NULL);
    if (err == CL_SUCCESS) err = clGetCommandQueueInfo(queue, CL_QUEUE_CONTEXT, sizeof qctx, &qctx, NULL);
    if (err == CL_SUCCESS) err = clGetCommandQueueInfo(queue, CL_QUEUE_DEVICE, sizeof qdev, &qdev, NULL);
    if (err != CL_SUCCESS) {
      scl__set_create_error("scl_context_create_from_cl: the queue is not valid: %s", scl_status_string(err));
      return SCL_ERR_INVALID_ARGUMENT;
    }
    if (props & CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE) {
      scl__set_create_error("scl_context_create_from_cl: the queue is out-of-order; spherecl relies on an "
                            "in-order queue (pass NULL to let it make one)");
      return SCL_ERR_INVALID_ARGUMENT;
    }
    if (qctx != context || qdev != device) {
      scl__set_create_error("scl_context_create_from_cl: the queue belongs to another %s",
                            qctx != context ? "context" : "device");
      return SCL_ERR_INVALID_ARGUMENT;
    }
  }
  scl_context ctx = calloc(1, sizeof *ctx);
  if (!ctx) return SCL_ERR_OUT_OF_MEMORY;
  cl_int err = clRetainContext(context);
  if (err != CL_SUCCESS) {
    free(ctx);
    scl__set_create_error("scl_context_create_from_cl: the context is not valid: %s", scl_status_string(err));
    return SCL_ERR_INVALID_ARGUMENT;
  }
  ctx->cl = context;
  ctx->device = device;
  if (queue) {
    clRetainCommandQueue(queue);
    ctx->queue = queue;
  } else {
    ctx->queue = clCreateCommandQueue(context, device, 0, &err);
    if (err != CL_SUCCESS) {
      scl__set_create_error("could not create a queue: %s (%d)", scl_status_string(err), err);
      scl_context_release(ctx);
      return err;
    }
  }
  scl_status st = finish_setup(ctx);
  if (st != SCL_OK) {
    scl__set_create_error("%s", ctx->message);
    scl_context_release(ctx);
    return st;
  }
  count_live(ctx, 1);
  *out = ctx;
  return SCL_OK;
}

void scl_context_release(scl_context ctx) {
  if (!ctx) return;
  int last = ctx->counted && count_live(ctx, -1) == 0;
  if (ctx->queue) clFinish(ctx->queue);
  for (int i = 0; i < SCL_MAX_PROGRAMS; i++)
    if (ctx->programs[i].program) clReleaseProgram(ctx->programs[i].program);
  for (int i = 0; i < SCL_MAX_WORKSPACES; i++)
    if (ctx->workspaces[i].buffer) clReleaseMemObject(ctx->workspaces[i].buffer);
  if (ctx->queue) clReleaseCommandQueue(ctx->queue);
  if (ctx->cl) clReleaseContext(ctx->cl);
  free(ctx);
  if (last) scl__blas_release_caches();
}

scl_status scl_context_finish(scl_context ctx) {
  if (!ctx) return SCL_ERR_INVALID_ARGUMENT;
  cl_int err = clFinish(ctx->queue);
  return err == CL_SUCCESS ? SCL_OK : scl__cl_fail(ctx, err, "clFinish");
}

cl_context scl_context_cl(scl_context ctx) { return ctx ? ctx->cl : NULL; }
cl_device_id scl_context_device(scl_context ctx) { return ctx ? ctx->device : NULL; }
cl_command_queue scl_context_queue(scl_context ctx) { return ctx ? ctx->queue : NULL; }

scl_status scl__check_alloc(scl_context ctx, const char *op, size_t bytes) {
  if (ctx->max_alloc && bytes > ctx->max_alloc)
    return scl__fail(ctx, SCL_ERR_OUT_OF_MEMORY,
                     "%s: %zu bytes (%.1f MiB) in one buffer, more than %s allows (CL_DEVICE_MAX_MEM_ALLOC_SIZE "
                     "%zu bytes, %.1f MiB)",
                     op, bytes, (double)bytes / 1048576.0, ctx->device_label, ctx->max_alloc,
                     (double)ctx->max_alloc / 1048576.0);
  return SCL_OK;
}

scl_status scl__workspace(scl_context ctx, int slot, size_t bytes, cl_mem *out) {
  scl_workspace *ws = &ctx->workspaces[slot];
  if (bytes == 0) bytes = 4;
  if (ws->bytes < bytes) {
    scl_status st = scl__check_alloc(ctx, "a workspace", bytes);
    if (st != SCL_OK) return st;
    if (ws->buffer) {
      /* The old buffer may still be in use by queued work; OpenCL keeps it alive until that
         work is done, so releasing here is safe. */
      clReleaseMemObject(ws->buffer);
      ws->buffer = NULL;
      ws->bytes = 0;
    }
    cl_int err = CL_SUCCESS;
    ws->buffer = clCreateBuffer(ctx->cl, CL_MEM_READ_WRITE, bytes, NULL, &err);
    if (err != CL_SUCCESS) {
      ws->buffer = NULL;
      return scl__fail(ctx, SCL_ERR_OUT_OF_MEMORY, "could not allocate a %zu-byte workspace: %s", bytes,
                       scl_status_string(err));
    }
    ws->bytes = bytes;
  }
  *out = ws->buffer;
  return SCL_OK;
}
