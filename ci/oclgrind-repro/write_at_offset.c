/* Minimal reproduction, with no spherecl code, of an Oclgrind 21.10 false positive: data written by
   clEnqueueWriteBuffer at a non-zero offset into a buffer created without a host pointer is still
   "uninitialized" to `oclgrind --uninitialized` when a kernel reads it. Bytes [12, 28) of a 64-byte
   buffer are written, then a kernel copies floats 3..6 out: Oclgrind reports uninitialized stores;
   with the write at offset 0 (and the kernel reading floats 0..3) it reports none.
     cc write_at_offset.c -lOpenCL -o write_at_offset
     oclgrind --uninitialized ./write_at_offset 3     # reports
     oclgrind --uninitialized ./write_at_offset 0     # clean */
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <stdio.h>
#include <stdlib.h>

static const char *src = "__kernel void copy(__global const float *in, uint off, __global float *out) {\n"
                         "  uint i = get_global_id(0);\n"
                         "  out[i] = in[off + i];\n"
                         "}\n";

int main(int argc, char **argv) {
  cl_uint off = argc > 1 ? (cl_uint)atoi(argv[1]) : 3;
  cl_platform_id platform;
  cl_device_id device;
  cl_int err = clGetPlatformIDs(1, &platform, NULL);
  err |= clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 1, &device, NULL);
  cl_context ctx = clCreateContext(NULL, 1, &device, NULL, NULL, &err);
  cl_command_queue q = clCreateCommandQueue(ctx, device, 0, &err);
  cl_mem in = clCreateBuffer(ctx, CL_MEM_READ_WRITE, 16 * sizeof(float), NULL, &err);
  cl_mem out = clCreateBuffer(ctx, CL_MEM_READ_WRITE, 4 * sizeof(float), NULL, &err);
  const float v[4] = {1, 2, 3, 4};
  err |= clEnqueueWriteBuffer(q, in, CL_TRUE, off * sizeof(float), sizeof v, v, 0, NULL, NULL);
  cl_program p = clCreateProgramWithSource(ctx, 1, &src, NULL, &err);
  err |= clBuildProgram(p, 1, &device, "", NULL, NULL);
  cl_kernel k = clCreateKernel(p, "copy", &err);
  err |= clSetKernelArg(k, 0, sizeof in, &in);
  err |= clSetKernelArg(k, 1, sizeof off, &off);
  err |= clSetKernelArg(k, 2, sizeof out, &out);
  size_t global = 4;
  err |= clEnqueueNDRangeKernel(q, k, 1, NULL, &global, NULL, 0, NULL, NULL);
  float r[4];
  err |= clEnqueueReadBuffer(q, out, CL_TRUE, 0, sizeof r, r, 0, NULL, NULL);
  printf("offset %u: %g %g %g %g (OpenCL status %d)\n", off, r[0], r[1], r[2], r[3], err);
  return err != CL_SUCCESS;
}
