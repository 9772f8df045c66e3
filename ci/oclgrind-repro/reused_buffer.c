/* Minimal reproduction, with no spherecl code, of an Oclgrind 21.10 false positive: after a buffer
   is released, a new, larger buffer takes its place (Oclgrind's addresses are a buffer slot in the
   top bits and an offset), and `oclgrind --uninitialized` goes on tracking the slot with the old,
   smaller size: what kernels write past that size stays "uninitialized". Here a kernel fills
   `out` (n floats) with 1.0 and a second kernel copies it; run for n = 2, buffers released, then
   n = 8: floats 2..7 are reported as uninitialized stores (6 reports), though every one was
   written and the copy holds 1.0 everywhere. Kept (never released), the same run is clean.
   spherecl releases and creates buffers all the time (workspaces that grow, every tensor of a
   test), so every test that does so after its first kernel is hit: test_prelu's prelu_sum_parts
   reports (issue 14) are this, its partial sums landing in a grown workspace.
     cc reused_buffer.c -lOpenCL -o reused_buffer
     oclgrind --uninitialized ./reused_buffer          # 6 reports
     oclgrind --uninitialized ./reused_buffer keep     # clean */
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <stdio.h>
#include <string.h>

static const char *src = "__kernel void fill(__global float *out) { out[get_global_id(0)] = 1.0f; }\n"
                         "__kernel void copy(__global const float *in, __global float *out) {\n"
                         "  out[get_global_id(0)] = in[get_global_id(0)];\n"
                         "}\n";

static cl_int run(cl_context ctx, cl_command_queue q, cl_program p, size_t n, int keep) {
  cl_int err;
  cl_mem out = clCreateBuffer(ctx, CL_MEM_READ_WRITE, n * sizeof(float), NULL, &err);
  cl_mem copy = clCreateBuffer(ctx, CL_MEM_READ_WRITE, n * sizeof(float), NULL, &err);
  cl_kernel fill = clCreateKernel(p, "fill", &err), cp = clCreateKernel(p, "copy", &err);
  err |= clSetKernelArg(fill, 0, sizeof out, &out);
  err |= clEnqueueNDRangeKernel(q, fill, 1, NULL, &n, NULL, 0, NULL, NULL);
  err |= clSetKernelArg(cp, 0, sizeof out, &out);
  err |= clSetKernelArg(cp, 1, sizeof copy, &copy);
  err |= clEnqueueNDRangeKernel(q, cp, 1, NULL, &n, NULL, 0, NULL, NULL);
  float r[8] = {0};
  err |= clEnqueueReadBuffer(q, copy, CL_TRUE, 0, n * sizeof(float), r, 0, NULL, NULL);
  printf("n = %zu: copy[n - 1] = %g (OpenCL status %d)\n", n, r[n - 1], err);
  clReleaseKernel(fill), clReleaseKernel(cp);
  if (!keep) clReleaseMemObject(out), clReleaseMemObject(copy);
  return err;
}

int main(int argc, char **argv) {
  int keep = argc > 1 && !strcmp(argv[1], "keep");
  cl_platform_id platform;
  cl_device_id device;
  cl_int err = clGetPlatformIDs(1, &platform, NULL);
  err |= clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 1, &device, NULL);
  cl_context ctx = clCreateContext(NULL, 1, &device, NULL, NULL, &err);
  cl_command_queue q = clCreateCommandQueue(ctx, device, 0, &err);
  cl_program p = clCreateProgramWithSource(ctx, 1, &src, NULL, &err);
  err |= clBuildProgram(p, 1, &device, "", NULL, NULL);
  err |= run(ctx, q, p, 2, keep);
  err |= run(ctx, q, p, 8, keep);
  return err != CL_SUCCESS;
}
