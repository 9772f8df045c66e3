/* Minimal reproduction, with no spherecl code, of the Oclgrind 21.10 fatal error that keeps
   `--uninitialized` off most of the suite: LLVM's optimiser turns a division and a remainder by the
   same runtime value into a `freeze` instruction, which the Uninitialized plugin does not know
   ("OCLGRIND FATAL ERROR (./src/plugins/Uninitialized.cpp:1805) Unsupported instruction: freeze").
   The simulator itself runs the kernel (plain `oclgrind` prints the right sums); the kernels that
   index [batch][channel][inner] this way (prelu_backward, im2col_by_tap, CLBlast's XgemmDirect)
   all stop there. With OCLGRIND_BUILD_OPTIONS=-cl-opt-disable there is no freeze, but then
   reused_buffer.c's false positives remain.
     cc freeze.c -lOpenCL -o freeze
     oclgrind ./freeze                    # out[7] = 3, the right result
     oclgrind --uninitialized ./freeze    # fatal error */
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <stdio.h>

static const char *src = "__kernel void split(__global const float *in, __global float *out, uint d) {\n"
                         "  uint i = get_global_id(0);\n"
                         "  out[i] = in[i / d] + in[i % d];\n"
                         "}\n";

int main(void) {
  cl_platform_id platform;
  cl_device_id device;
  cl_int err = clGetPlatformIDs(1, &platform, NULL);
  err |= clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 1, &device, NULL);
  cl_context ctx = clCreateContext(NULL, 1, &device, NULL, NULL, &err);
  cl_command_queue q = clCreateCommandQueue(ctx, device, 0, &err);
  cl_program p = clCreateProgramWithSource(ctx, 1, &src, NULL, &err);
  err |= clBuildProgram(p, 1, &device, "", NULL, NULL);
  const float v[8] = {0, 1, 2, 3, 4, 5, 6, 7};
  cl_mem in = clCreateBuffer(ctx, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, sizeof v, (void *)v, &err);
  cl_mem out = clCreateBuffer(ctx, CL_MEM_READ_WRITE, sizeof v, NULL, &err);
  cl_kernel k = clCreateKernel(p, "split", &err);
  cl_uint d = 3;
  err |= clSetKernelArg(k, 0, sizeof in, &in);
  err |= clSetKernelArg(k, 1, sizeof out, &out);
  err |= clSetKernelArg(k, 2, sizeof d, &d);
  size_t n = 8;
  err |= clEnqueueNDRangeKernel(q, k, 1, NULL, &n, NULL, 0, NULL, NULL);
  float r[8];
  err |= clEnqueueReadBuffer(q, out, CL_TRUE, 0, sizeof r, r, 0, NULL, NULL);
  printf("out[7] = %g (expected in[2] + in[1] = 3; OpenCL status %d)\n", r[7], err);
  return err != CL_SUCCESS;
}
