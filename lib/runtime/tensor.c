/* Tensors: a typed, shaped view of an OpenCL buffer (owned, or the caller's at an offset). */
#include "internal.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SCL_ELEM 4 /* both dtypes are 4 bytes */

/* Validates dtype and dims; on success *count is the element count. */
static scl_status check_layout(scl_context ctx, const char *op, scl_dtype dtype, int ndim, const size_t *dims,
                               size_t *count) {
  if (dtype != SCL_F32 && dtype != SCL_I32)
    return scl__fail(ctx, SCL_ERR_DTYPE, "%s: unknown dtype %d", op, (int)dtype);
  if (ndim < 1 || ndim > SCL_MAX_DIMS)
    return scl__fail(ctx, SCL_ERR_SHAPE, "%s: ndim %d is outside 1..%d", op, ndim, SCL_MAX_DIMS);
  if (!dims) return scl__fail(ctx, SCL_ERR_INVALID_ARGUMENT, "%s: dims is NULL", op);
  size_t n = 1;
  for (int i = 0; i < ndim; i++) {
    if (dims[i] == 0) return scl__fail(ctx, SCL_ERR_SHAPE, "%s: dimension %d is zero", op, i);
    if (n > SIZE_MAX / SCL_ELEM / dims[i])
      return scl__fail(ctx, SCL_ERR_SHAPE, "%s: the tensor's byte size overflows size_t", op);
    n *= dims[i];
  }
  /* Kernels index with 32-bit unsigned offsets. */
  if (n > UINT32_MAX / 2)
    return scl__fail(ctx, SCL_ERR_SHAPE, "%s: %zu elements is more than this library supports (2^31)", op, n);
  *count = n;
  return SCL_OK;
}

static scl_status make(scl_context ctx, scl_dtype dtype, int ndim, const size_t *dims, size_t count, cl_mem buf,
                       size_t offset, scl_tensor *t) {
  scl_tensor x = calloc(1, sizeof *x);
  if (!x) return scl__fail(ctx, SCL_ERR_OUT_OF_MEMORY, "out of host memory");
  x->ctx = ctx;
  x->dtype = dtype;
  x->ndim = ndim;
  memcpy(x->dims, dims, (size_t)ndim * sizeof *dims);
  x->count = count;
  x->buffer = buf;
  x->offset = offset;
  *t = x;
  return SCL_OK;
}

scl_status scl_tensor_create(scl_context ctx, scl_dtype dtype, int ndim, const size_t *dims, scl_tensor *t) {
  if (!ctx) return SCL_ERR_INVALID_ARGUMENT;
  if (!t) return scl__fail(ctx, SCL_ERR_INVALID_ARGUMENT, "scl_tensor_create: t is NULL");
  size_t count;
  scl_status st = check_layout(ctx, "scl_tensor_create", dtype, ndim, dims, &count);
  if (st != SCL_OK) return st;
  if ((st = scl__check_alloc(ctx, "scl_tensor_create", count * SCL_ELEM)) != SCL_OK) return st;
  cl_int err = CL_SUCCESS;
  cl_mem buf = clCreateBuffer(ctx->cl, CL_MEM_READ_WRITE, count * SCL_ELEM, NULL, &err);
  if (err != CL_SUCCESS)
    return scl__fail(ctx, SCL_ERR_OUT_OF_MEMORY, "scl_tensor_create: could not allocate %zu bytes on %s: %s",
                     count * SCL_ELEM, ctx->device_label, scl_status_string(err));
  st = make(ctx, dtype, ndim, dims, count, buf, 0, t);
  if (st != SCL_OK) clReleaseMemObject(buf);
  return st;
}

scl_status scl_tensor_wrap(scl_context ctx, scl_dtype dtype, int ndim, const size_t *dims, cl_mem buffer,
                           size_t offset_bytes, scl_tensor *t) {
  if (!ctx) return SCL_ERR_INVALID_ARGUMENT;
  if (!t || !buffer)
    return scl__fail(ctx, SCL_ERR_INVALID_ARGUMENT, "scl_tensor_wrap: %s is NULL", !t ? "t" : "buffer");
  size_t count;
  scl_status st = check_layout(ctx, "scl_tensor_wrap", dtype, ndim, dims, &count);
  if (st != SCL_OK) return st;
  if (offset_bytes % SCL_ELEM)
    return scl__fail(ctx, SCL_ERR_INVALID_ARGUMENT, "scl_tensor_wrap: offset_bytes %zu is not a multiple of 4",
                     offset_bytes);
  cl_context owner = NULL;
  size_t size = 0;
  cl_int err = clGetMemObjectInfo(buffer, CL_MEM_CONTEXT, sizeof owner, &owner, NULL);
  if (err == CL_SUCCESS) err = clGetMemObjectInfo(buffer, CL_MEM_SIZE, sizeof size, &size, NULL);
  if (err != CL_SUCCESS)
    return scl__fail(ctx, SCL_ERR_INVALID_ARGUMENT, "scl_tensor_wrap: buffer is not a valid cl_mem (%s)",
                     scl_status_string(err));
  if (owner != ctx->cl)
    return scl__fail(ctx, SCL_ERR_INVALID_ARGUMENT, "scl_tensor_wrap: buffer belongs to another OpenCL context");
  if (offset_bytes > size || size - offset_bytes < count * SCL_ELEM)
    return scl__fail(ctx, SCL_ERR_SHAPE,
                     "scl_tensor_wrap: %zu bytes at offset %zu do not fit in the %zu-byte buffer", count * SCL_ELEM,
                     offset_bytes, size);
  err = clRetainMemObject(buffer);
  if (err != CL_SUCCESS) return scl__cl_fail(ctx, err, "scl_tensor_wrap: clRetainMemObject");
  st = make(ctx, dtype, ndim, dims, count, buffer, offset_bytes / SCL_ELEM, t);
  if (st != SCL_OK) clReleaseMemObject(buffer);
  return st;
}

void scl_tensor_release(scl_tensor t) {
  if (!t) return;
  clReleaseMemObject(t->buffer); /* ours: frees it; wrapped: drops our retain only */
  free(t);
}

static scl_status copy(scl_tensor t, void *host, size_t bytes, int write) {
  if (!t) return SCL_ERR_INVALID_ARGUMENT;
  const char *op = write ? "scl_tensor_write" : "scl_tensor_read";
  if (!host) return scl__fail(t->ctx, SCL_ERR_INVALID_ARGUMENT, "%s: host pointer is NULL", op);
  if (bytes != t->count * SCL_ELEM)
    return scl__fail(t->ctx, SCL_ERR_SHAPE, "%s: %zu bytes given, the tensor holds %zu", op, bytes,
                     t->count * SCL_ELEM);
  cl_int err = write ? clEnqueueWriteBuffer(t->ctx->queue, t->buffer, CL_TRUE, t->offset * SCL_ELEM, bytes, host,
                                            0, NULL, NULL)
                     : clEnqueueReadBuffer(t->ctx->queue, t->buffer, CL_TRUE, t->offset * SCL_ELEM, bytes, host, 0,
                                           NULL, NULL);
  return err == CL_SUCCESS ? SCL_OK : scl__cl_fail(t->ctx, err, op);
}

scl_status scl_tensor_write(scl_tensor t, const void *host, size_t bytes) { return copy(t, (void *)host, bytes, 1); }
scl_status scl_tensor_read(scl_tensor t, void *host, size_t bytes) { return copy(t, host, bytes, 0); }

scl_status scl_tensor_fill(scl_tensor t, float value) {
  if (!t) return SCL_ERR_INVALID_ARGUMENT;
  uint32_t bits;
  if (t->dtype == SCL_I32) {
    if (!(value >= -2147483648.0f && value < 2147483648.0f) || value != floorf(value))
      return scl__fail(t->ctx, SCL_ERR_INVALID_ARGUMENT,
                       "scl_tensor_fill: %g is not an int32 value for an SCL_I32 tensor", (double)value);
    int32_t i = (int32_t)value;
    memcpy(&bits, &i, 4);
  } else {
    memcpy(&bits, &value, 4);
  }
  /* One kernel writes 32-bit patterns, so both dtypes (and NaN payloads) share it. */
  return SCL_LAUNCH(t->ctx, "fill", "fill_u32", t->count, 0, SCL_TENSOR(t), SCL_UINT(t->count), SCL_UINT(bits));
}

int scl_tensor_ndim(scl_tensor t) { return t ? t->ndim : 0; }
size_t scl_tensor_dim(scl_tensor t, int axis) { return t && axis >= 0 && axis < t->ndim ? t->dims[axis] : 0; }
size_t scl_tensor_count(scl_tensor t) { return t ? t->count : 0; }
scl_dtype scl_tensor_dtype(scl_tensor t) { return t ? t->dtype : SCL_F32; }
cl_mem scl_tensor_buffer(scl_tensor t) { return t ? t->buffer : NULL; }
size_t scl_tensor_offset(scl_tensor t) { return t ? t->offset * SCL_ELEM : 0; }
scl_context scl_tensor_context(scl_tensor t) { return t ? t->ctx : NULL; }
