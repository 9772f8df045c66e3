/* Device enumeration: every device of every platform, numbered in the order OpenCL reports them. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCL_MAX_PLATFORMS 16

scl_status scl__device_list(cl_device_id *ids, size_t cap, size_t *count) {
  cl_platform_id platforms[SCL_MAX_PLATFORMS];
  cl_uint np = 0;
  *count = 0;
  cl_int err = clGetPlatformIDs(SCL_MAX_PLATFORMS, platforms, &np);
  /* The ICD loader answers CL_PLATFORM_NOT_FOUND_KHR (-1001) when no driver is installed:
     that is "no devices", not a failure. */
  if (err == -1001 || (err == CL_SUCCESS && np == 0)) return SCL_OK;
  if (err != CL_SUCCESS) return err;
  if (np > SCL_MAX_PLATFORMS) np = SCL_MAX_PLATFORMS;
  size_t total = 0;
  for (cl_uint p = 0; p < np; p++) {
    cl_uint nd = 0;
    err = clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, 0, NULL, &nd);
    if (err == CL_DEVICE_NOT_FOUND || nd == 0) continue;
    if (err != CL_SUCCESS) return err;
    cl_device_id *tmp = malloc(nd * sizeof *tmp);
    if (!tmp) return SCL_ERR_OUT_OF_MEMORY;
    err = clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, nd, tmp, NULL);
    if (err != CL_SUCCESS) {
      free(tmp);
      return err;
    }
    for (cl_uint d = 0; d < nd; d++, total++)
      if (ids && total < cap) ids[total] = tmp[d];
    free(tmp);
  }
  *count = total;
  return SCL_OK;
}

scl_status scl_device_count(size_t *count) {
  if (!count) return SCL_ERR_INVALID_ARGUMENT;
  return scl__device_list(NULL, 0, count);
}

static void copy_string(cl_device_id dev, cl_platform_id plat, cl_uint param, char *dst, size_t size) {
  dst[0] = '\0';
  char buf[1024] = {0};
  cl_int err = plat ? clGetPlatformInfo(plat, param, sizeof buf - 1, buf, NULL)
                    : clGetDeviceInfo(dev, param, sizeof buf - 1, buf, NULL);
  if (err != CL_SUCCESS) return;
  snprintf(dst, size, "%s", buf);
}

scl_status scl__device_info_of(cl_device_id id, scl_device_info *info) {
  memset(info, 0, sizeof *info);
  cl_platform_id plat = NULL;
  cl_int err = clGetDeviceInfo(id, CL_DEVICE_PLATFORM, sizeof plat, &plat, NULL);
  if (err != CL_SUCCESS) return err;
  copy_string(NULL, plat, CL_PLATFORM_NAME, info->platform, sizeof info->platform);
  copy_string(id, NULL, CL_DEVICE_NAME, info->name, sizeof info->name);
  copy_string(id, NULL, CL_DEVICE_VENDOR, info->vendor, sizeof info->vendor);
  copy_string(id, NULL, CL_DRIVER_VERSION, info->driver_version, sizeof info->driver_version);
  copy_string(id, NULL, CL_DEVICE_VERSION, info->opencl_version, sizeof info->opencl_version);
  cl_device_type t = 0;
  clGetDeviceInfo(id, CL_DEVICE_TYPE, sizeof t, &t, NULL);
  info->type = (t & CL_DEVICE_TYPE_GPU)           ? SCL_DEVICE_GPU
               : (t & CL_DEVICE_TYPE_ACCELERATOR) ? SCL_DEVICE_ACCELERATOR
               : (t & CL_DEVICE_TYPE_CPU)         ? SCL_DEVICE_CPU
                                                  : SCL_DEVICE_OTHER;
  cl_uint cu = 0;
  clGetDeviceInfo(id, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof cu, &cu, NULL);
  info->compute_units = cu;
  cl_ulong mem = 0;
  clGetDeviceInfo(id, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof mem, &mem, NULL);
  info->global_mem_bytes = mem;
  cl_ulong max_alloc = 0;
  clGetDeviceInfo(id, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof max_alloc, &max_alloc, NULL);
  info->max_alloc_bytes = max_alloc;
  return SCL_OK;
}

scl_status scl_device_get_info(size_t index, scl_device_info *info) {
  if (!info) return SCL_ERR_INVALID_ARGUMENT;
  size_t n = 0;
  scl_status st = scl__device_list(NULL, 0, &n);
  if (st != SCL_OK) return st;
  if (index >= n) return n == 0 ? SCL_ERR_NO_DEVICE : SCL_ERR_INVALID_ARGUMENT;
  cl_device_id *ids = malloc(n * sizeof *ids);
  if (!ids) return SCL_ERR_OUT_OF_MEMORY;
  st = scl__device_list(ids, n, &n);
  if (st == SCL_OK) st = scl__device_info_of(ids[index], info);
  free(ids);
  return st;
}

static const char *type_name(scl_device_type t) {
  switch (t) {
  case SCL_DEVICE_CPU: return "cpu";
  case SCL_DEVICE_GPU: return "gpu";
  case SCL_DEVICE_ACCELERATOR: return "accelerator";
  default: return "other";
  }
}

void scl__device_describe_all(char *buf, size_t size) {
  size_t n = 0, used = 0;
  buf[0] = '\0';
  if (scl__device_list(NULL, 0, &n) != SCL_OK || n == 0) {
    snprintf(buf, size, "  (no OpenCL devices: is an OpenCL driver installed? On Debian/Ubuntu: "
                        "apt-get install pocl-opencl-icd)\n");
    return;
  }
  for (size_t i = 0; i < n && used < size; i++) {
    scl_device_info info;
    if (scl_device_get_info(i, &info) != SCL_OK) continue;
    int w = snprintf(buf + used, size - used, "  [%zu] %-11s %s: %s\n", i, type_name(info.type), info.platform,
                     info.name);
    if (w < 0) break;
    used += (size_t)w;
  }
}
