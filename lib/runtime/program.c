/* Programs built lazily from the embedded kernels/NAME.cl sources, once per context, and one
   uniform way to set arguments and launch. Every program is built with kernels/common.cl, the
   prelude of helpers the kernel files share, in front of its own source. */
#include "internal.h"
#include "ops/op_checks.h" /* scl__group_size */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The prelude's name: kernels/common.cl is never a program by itself. */
#define SCL_PRELUDE "common"

static const scl_kernel_source *embedded_source(const char *name) {
  for (size_t i = 0; i < scl__kernel_source_count; i++)
    if (strcmp(scl__kernel_sources[i].name, name) == 0) return &scl__kernel_sources[i];
  return NULL;
}

/* Builds the prelude followed by `source`, as two strings: each starts with its own #line (the
   embedded ones name their file; see cmake/embed.cmake), so the compiler's messages point at the
   right file and line, and the prelude ends with a newline. */
scl_status scl__program_build(scl_context ctx, const char *name, const char *source, cl_program *out) {
  const scl_kernel_source *prelude = embedded_source(SCL_PRELUDE);
  if (!prelude)
    return scl__fail(ctx, SCL_ERR_INVALID_ARGUMENT, "internal: no kernel file kernels/%s.cl", SCL_PRELUDE);
  const char *parts[2] = {prelude->source, source};
  size_t lens[2] = {strlen(parts[0]), strlen(parts[1])};
  cl_int err = CL_SUCCESS;
  cl_program prog = clCreateProgramWithSource(ctx->cl, 2, parts, lens, &err);
  if (err != CL_SUCCESS) return scl__cl_fail(ctx, err, "clCreateProgramWithSource");
  err = clBuildProgram(prog, 1, &ctx->device, ctx->build_options, NULL, NULL);
  if (err != CL_SUCCESS) {
    size_t log_size = 0;
    clGetProgramBuildInfo(prog, ctx->device, CL_PROGRAM_BUILD_LOG, 0, NULL, &log_size);
    char *log = malloc(log_size + 1);
    if (log) {
      log[0] = '\0';
      clGetProgramBuildInfo(prog, ctx->device, CL_PROGRAM_BUILD_LOG, log_size, log, NULL);
      log[log_size] = '\0';
    }
    scl__fail(ctx, SCL_ERR_BUILD, "building kernels/%s.cl for %s failed (%s, options \"%s\"):\n%s", name,
              ctx->device_label, scl_status_string(err), ctx->build_options, log ? log : "(no log)");
    free(log);
    clReleaseProgram(prog);
    return SCL_ERR_BUILD;
  }
  *out = prog;
  return SCL_OK;
}

static scl_status program_of(scl_context ctx, const char *name, cl_program *out) {
  int free_slot = -1;
  for (int i = 0; i < SCL_MAX_PROGRAMS; i++) {
    if (ctx->programs[i].program && strcmp(ctx->programs[i].name, name) == 0) {
      *out = ctx->programs[i].program;
      return SCL_OK;
    }
    if (!ctx->programs[i].program && free_slot < 0) free_slot = i;
  }
  if (strcmp(name, SCL_PRELUDE) == 0)
    return scl__fail(ctx, SCL_ERR_INVALID_ARGUMENT, "internal: kernels/%s.cl is the prelude of every program, not a "
                     "program", name);
  const scl_kernel_source *src = embedded_source(name);
  if (!src) return scl__fail(ctx, SCL_ERR_INVALID_ARGUMENT, "internal: no kernel file kernels/%s.cl", name);
  if (free_slot < 0) return scl__fail(ctx, SCL_ERR_OUT_OF_MEMORY, "internal: too many programs");
  scl_status st = scl__program_build(ctx, src->name, src->source, out);
  if (st != SCL_OK) return st;
  ctx->programs[free_slot].name = src->name;
  ctx->programs[free_slot].program = *out;
  return SCL_OK;
}

scl_status scl__kernel(scl_context ctx, const char *program, const char *kernel, cl_kernel *out) {
  cl_program prog;
  scl_status st = program_of(ctx, program, &prog);
  if (st != SCL_OK) return st;
  cl_int err = CL_SUCCESS;
  *out = clCreateKernel(prog, kernel, &err);
  if (err != CL_SUCCESS) {
    char what[160];
    snprintf(what, sizeof what, "clCreateKernel(%s in kernels/%s.cl)", kernel, program);
    return scl__cl_fail(ctx, err, what);
  }
  return SCL_OK;
}

static cl_int set_arg(cl_kernel k, cl_uint i, const scl_arg *a) {
  switch (a->kind) {
  case SCL_ARG_MEM: return clSetKernelArg(k, i, sizeof(cl_mem), &a->v.mem);
  case SCL_ARG_INT: return clSetKernelArg(k, i, sizeof(cl_int), &a->v.i);
  case SCL_ARG_UINT: return clSetKernelArg(k, i, sizeof(cl_uint), &a->v.u);
  case SCL_ARG_FLOAT: return clSetKernelArg(k, i, sizeof(cl_float), &a->v.f);
  case SCL_ARG_LOCAL: return clSetKernelArg(k, i, a->v.local_bytes, NULL);
  }
  return CL_INVALID_ARG_VALUE;
}

size_t scl__group_size(scl_context ctx) {
  return ctx->max_work_group < SCL_LOCAL_1D ? ctx->max_work_group : SCL_LOCAL_1D;
}

size_t scl__tile_group(scl_context ctx) { return ctx->cpu ? 1 : 0; }

scl_status scl__launch(scl_context ctx, const char *program, const char *kernel, size_t global, size_t local,
                       int nargs, const scl_arg *args) {
  if (global == 0) return SCL_OK;
  if (local == 0) local = scl__group_size(ctx);
  if (local > ctx->max_work_group) local = ctx->max_work_group;
  cl_kernel k;
  scl_status st = scl__kernel(ctx, program, kernel, &k);
  if (st != SCL_OK) return st;
  cl_int err = CL_SUCCESS;
  for (int i = 0; i < nargs && err == CL_SUCCESS; i++) err = set_arg(k, (cl_uint)i, &args[i]);
  size_t rounded = (global + local - 1) / local * local;
  if (err == CL_SUCCESS) err = clEnqueueNDRangeKernel(ctx->queue, k, 1, NULL, &rounded, &local, 0, NULL, NULL);
  clReleaseKernel(k);
  if (err != CL_SUCCESS) {
    char what[160];
    snprintf(what, sizeof what, "launching %s (kernels/%s.cl)", kernel, program);
    return scl__cl_fail(ctx, err, what);
  }
  return SCL_OK;
}
