/* Tensors: round trips of odd sizes, wrapped buffers with offsets, fill, and every bad argument. */
#include "testkit/testkit.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void round_trip_odd_sizes(scl_context ctx) {
  const size_t shapes[][4] = {{1, 0, 0, 0}, {7, 0, 0, 0}, {3, 5, 0, 0}, {3, 5, 7, 0}, {3, 5, 7, 9}, {1, 1, 1, 1}};
  tk_rng r = tk_rng_make(1);
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
    int nd = 0;
    size_t count = 1;
    while (nd < 4 && shapes[s][nd]) count *= shapes[s][nd++];
    scl_tensor t = NULL;
    TK_OK(ctx, scl_tensor_create(ctx, SCL_F32, nd, shapes[s], &t));
    TK_CHECK(scl_tensor_ndim(t) == nd && scl_tensor_count(t) == count && scl_tensor_dtype(t) == SCL_F32);
    for (int i = 0; i < nd; i++) TK_CHECK(scl_tensor_dim(t, i) == shapes[s][i]);
    TK_CHECK(scl_tensor_dim(t, nd) == 0 && scl_tensor_dim(t, -1) == 0);
    TK_CHECK(scl_tensor_buffer(t) != NULL && scl_tensor_offset(t) == 0 && scl_tensor_context(t) == ctx);
    float *in = malloc(count * 4), *out = malloc(count * 4);
    tk_fill_uniform(&r, in, count, -1e3, 1e3);
    TK_OK(ctx, scl_tensor_write(t, in, count * 4));
    memset(out, 0, count * 4);
    TK_OK(ctx, scl_tensor_read(t, out, count * 4));
    TK_CHECK(memcmp(in, out, count * 4) == 0);
    free(in), free(out);
    scl_tensor_release(t);
  }
  /* I32 tensors keep exact integers. */
  int32_t iv[5] = {0, -1, 2147483647, -2147483647 - 1, 42}, ov[5];
  scl_tensor t = tk_tensor_i32(ctx, iv, 5);
  TK_CHECK(scl_tensor_dtype(t) == SCL_I32);
  TK_OK(ctx, scl_tensor_read(t, ov, sizeof ov));
  TK_CHECK(memcmp(iv, ov, sizeof iv) == 0);
  scl_tensor_release(t);
}

static void fill(scl_context ctx) {
  scl_tensor t = tk_tensor(ctx, NULL, 3, 67, 0, 0); /* 201: not a multiple of the local size */
  TK_OK(ctx, scl_tensor_fill(t, -1.75f));
  float *h = tk_read(t);
  int ok = 1;
  for (int i = 0; i < 201; i++) ok &= h[i] == -1.75f;
  TK_CHECK(ok);
  TK_OK(ctx, scl_tensor_fill(t, NAN));
  free(h);
  h = tk_read(t);
  TK_CHECK(isnan(h[0]) && isnan(h[200]));
  free(h);
  scl_tensor_release(t);
  int32_t z[9] = {0};
  scl_tensor ti = tk_tensor_i32(ctx, z, 9);
  TK_OK(ctx, scl_tensor_fill(ti, -7.0f));
  int32_t o[9];
  TK_OK(ctx, scl_tensor_read(ti, o, sizeof o));
  TK_CHECK(o[0] == -7 && o[8] == -7);
  TK_STATUS(ctx, scl_tensor_fill(ti, 0.5f), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(ctx, scl_tensor_fill(ti, 3e9f), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(ctx, scl_tensor_fill(ti, NAN), SCL_ERR_INVALID_ARGUMENT);
  TK_OK(ctx, scl_tensor_read(ti, o, sizeof o));
  TK_CHECK(o[3] == -7); /* failed fills left it untouched */
  scl_tensor_release(ti);
  TK_STATUS(ctx, scl_tensor_fill(NULL, 0), SCL_ERR_INVALID_ARGUMENT);
}

/* A wrapped view at a byte offset reads and writes exactly its own elements; release never frees
   the caller's buffer. */
static void wrap_with_offsets(scl_context ctx) {
  cl_int err;
  const size_t total = 103;
  float host[103];
  for (size_t i = 0; i < total; i++) host[i] = (float)i;
  cl_mem buf = clCreateBuffer(scl_context_cl(ctx), CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, total * 4, host, &err);
  TK_CHECK(err == CL_SUCCESS);
  const size_t dims[2] = {5, 7}; /* 35 elements at element offset 13 */
  scl_tensor t = NULL;
  TK_OK(ctx, scl_tensor_wrap(ctx, SCL_F32, 2, dims, buf, 13 * 4, &t));
  TK_CHECK(scl_tensor_buffer(t) == buf && scl_tensor_offset(t) == 52);
  float got[35];
  TK_OK(ctx, scl_tensor_read(t, got, sizeof got));
  TK_CHECK(got[0] == 13.0f && got[34] == 47.0f);
  TK_OK(ctx, scl_tensor_fill(t, -2.0f));
  float after[103];
  clEnqueueReadBuffer(scl_context_queue(ctx), buf, CL_TRUE, 0, sizeof after, after, 0, NULL, NULL);
  int ok = 1;
  for (size_t i = 0; i < total; i++) ok &= after[i] == ((i >= 13 && i < 48) ? -2.0f : (float)i);
  TK_CHECK_MSG(ok, "fill of a wrapped view wrote outside it");
  scl_tensor_release(t);
  /* The caller's buffer is still alive and usable. */
  cl_uint refs = 0;
  clGetMemObjectInfo(buf, CL_MEM_REFERENCE_COUNT, sizeof refs, &refs, NULL);
  TK_CHECK(refs == 1);
  TK_CHECK(clEnqueueReadBuffer(scl_context_queue(ctx), buf, CL_TRUE, 0, 4, after, 0, NULL, NULL) == CL_SUCCESS);
  /* Exactly fitting at the end is fine; one element more is not. */
  const size_t tail[1] = {total - 3};
  TK_OK(ctx, scl_tensor_wrap(ctx, SCL_F32, 1, tail, buf, 12, &t));
  scl_tensor_release(t);
  scl_tensor bad = (scl_tensor)(uintptr_t)1;
  TK_STATUS(ctx, scl_tensor_wrap(ctx, SCL_F32, 1, tail, buf, 16, &bad), SCL_ERR_SHAPE);
  TK_STATUS(ctx, scl_tensor_wrap(ctx, SCL_F32, 1, tail, buf, 2, &bad), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(ctx, scl_tensor_wrap(ctx, SCL_F32, 1, tail, buf, total * 4 + 4, &bad), SCL_ERR_SHAPE);
  TK_STATUS(ctx, scl_tensor_wrap(ctx, SCL_F32, 1, tail, NULL, 0, &bad), SCL_ERR_INVALID_ARGUMENT);
  TK_CHECK(bad == (scl_tensor)(uintptr_t)1);
  /* A buffer of another OpenCL context is refused. */
  cl_context other = clCreateContext(NULL, 1, (cl_device_id[]){scl_context_device(ctx)}, NULL, NULL, &err);
  cl_mem foreign = clCreateBuffer(other, CL_MEM_READ_WRITE, 64, NULL, &err);
  const size_t four[1] = {4};
  TK_STATUS(ctx, scl_tensor_wrap(ctx, SCL_F32, 1, four, foreign, 0, &bad), SCL_ERR_INVALID_ARGUMENT);
  clReleaseMemObject(foreign);
  clReleaseContext(other);
  clReleaseMemObject(buf);
}

static void bad_arguments(scl_context ctx) {
  scl_tensor t = (scl_tensor)(uintptr_t)1;
  const size_t d5[5] = {1, 1, 1, 1, 1}, dz[2] = {3, 0}, dbig[2] = {SIZE_MAX / 2, 4}, d3[1] = {3};
  TK_STATUS(ctx, scl_tensor_create(ctx, SCL_F32, 0, d5, &t), SCL_ERR_SHAPE);
  TK_STATUS(ctx, scl_tensor_create(ctx, SCL_F32, 5, d5, &t), SCL_ERR_SHAPE);
  TK_STATUS(ctx, scl_tensor_create(ctx, SCL_F32, -1, d5, &t), SCL_ERR_SHAPE);
  TK_STATUS(ctx, scl_tensor_create(ctx, SCL_F32, 2, dz, &t), SCL_ERR_SHAPE);
  TK_STATUS(ctx, scl_tensor_create(ctx, SCL_F32, 2, dbig, &t), SCL_ERR_SHAPE);
  TK_STATUS(ctx, scl_tensor_create(ctx, (scl_dtype)7, 1, d3, &t), SCL_ERR_DTYPE);
  TK_STATUS(ctx, scl_tensor_create(ctx, SCL_F32, 1, NULL, &t), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(ctx, scl_tensor_create(NULL, SCL_F32, 1, d3, &t), SCL_ERR_INVALID_ARGUMENT);
  TK_CHECK(t == (scl_tensor)(uintptr_t)1); /* outputs untouched */
  TK_STATUS(ctx, scl_tensor_create(ctx, SCL_F32, 1, d3, NULL), SCL_ERR_INVALID_ARGUMENT);
  TK_CHECK(strstr(scl_context_error(ctx), "scl_tensor_create") != NULL);

  scl_tensor x = NULL;
  TK_OK(ctx, scl_tensor_create(ctx, SCL_F32, 1, d3, &x));
  float h[4] = {1, 2, 3, 4};
  TK_OK(ctx, scl_tensor_write(x, h, 12));
  TK_STATUS(ctx, scl_tensor_write(x, h, 16), SCL_ERR_SHAPE);
  TK_STATUS(ctx, scl_tensor_write(x, h, 8), SCL_ERR_SHAPE);
  TK_STATUS(ctx, scl_tensor_read(x, h, 16), SCL_ERR_SHAPE);
  TK_STATUS(ctx, scl_tensor_read(x, NULL, 12), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(ctx, scl_tensor_write(x, NULL, 12), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(ctx, scl_tensor_read(NULL, h, 12), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(ctx, scl_tensor_write(NULL, h, 12), SCL_ERR_INVALID_ARGUMENT);
  TK_OK(ctx, scl_tensor_read(x, h, 12));
  TK_CHECK(h[0] == 1 && h[2] == 3 && h[3] == 4); /* the failed calls changed nothing */
  scl_tensor_release(x);
  scl_tensor_release(NULL);
  TK_CHECK(scl_tensor_ndim(NULL) == 0 && scl_tensor_count(NULL) == 0 && scl_tensor_buffer(NULL) == NULL);
}

int main(int argc, char **argv) {
  const tk_case cases[] = {{"round_trip_odd_sizes", round_trip_odd_sizes}, {"fill", fill},
                           {"wrap_with_offsets", wrap_with_offsets},       {"bad_arguments", bad_arguments}};
  return tk_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
