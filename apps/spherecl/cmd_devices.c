/* spherecl devices: every OpenCL device, and which one the default selector picks. */
#include "commands.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *type_name(scl_device_type t) {
  return t == SCL_DEVICE_CPU ? "cpu" : t == SCL_DEVICE_GPU ? "gpu" : t == SCL_DEVICE_ACCELERATOR ? "accelerator" : "other";
}

int cmd_devices(int argc, char **argv) {
  const char *selector = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--device") && i + 1 < argc) selector = argv[++i];
    else if (!strcmp(argv[i], "--help")) {
      printf("usage: spherecl devices [--device SELECTOR]\n"
             "Lists every OpenCL device, whether `spherecl tune` has tuned it, and marks the one the selector\n"
             "(default: SPHERECL_DEVICE, else the first GPU, else the first accelerator, else the first\n"
             "device) picks.\n");
      return 0;
    } else {
      fprintf(stderr, "spherecl devices: unknown option \"%s\" (try --help)\n", argv[i]);
      return 2;
    }
  }
  size_t n = 0;
  scl_status st = scl_device_count(&n);
  if (st != SCL_OK || n == 0) {
    fprintf(stderr,
            "spherecl: no OpenCL device found%s%s.\n"
            "spherecl needs an OpenCL driver (an ICD). On Debian/Ubuntu, for the CPU:\n"
            "    sudo apt-get install ocl-icd-libopencl1 pocl-opencl-icd\n"
            "GPU vendors ship their own OpenCL drivers (NVIDIA's driver, ROCm, intel-opencl-icd).\n",
            st != SCL_OK ? ": " : "", st != SCL_OK ? scl_status_string(st) : "");
    return 1;
  }
  scl_context ctx = NULL;
  scl_status cst = scl_context_create(selector, &ctx);
  cl_device_id chosen = cst == SCL_OK ? scl_context_device(ctx) : NULL;
  char chosen_name[256] = "";
  if (chosen) clGetDeviceInfo(chosen, CL_DEVICE_NAME, sizeof chosen_name, chosen_name, NULL);
  long pick = -1;
  for (size_t i = 0; i < n; i++) {
    scl_device_info d;
    if (scl_device_get_info(i, &d) != SCL_OK) continue;
    if (pick < 0 && chosen && !strcmp(d.name, chosen_name)) pick = (long)i;
    printf("%s[%zu] %-11s %s: %s\n", (long)i == pick ? "* " : "  ", i, type_name(d.type), d.platform, d.name);
    printf("      compute units %u, memory %.1f GiB, %s, driver %s\n", d.compute_units,
           d.global_mem_bytes / 1073741824.0, d.opencl_version, d.driver_version);
    char why[1400], path[1200] = "";
    scl_tuning_cache_path(&d, path, sizeof path);
    if (scl_tuning_cache_state(&d, why, sizeof why)) printf("      tuned: %s\n", path);
    else if (*why) printf("      not tuned: the cache is ignored (%s); run spherecl tune\n", why);
    else
      printf("      not tuned (CLBlast's defaults%s): run spherecl tune --device %zu\n",
             d.type == SCL_DEVICE_CPU ? ", spherecl's GEMM kernel" : "", i);
  }
  if (cst == SCL_OK) {
    printf("\n* default device%s: [%ld] %s\n", selector ? " for this selector" : "", pick, chosen_name);
    scl_context_release(ctx);
    return 0;
  }
  fprintf(stderr, "\nspherecl: %s\n", scl_context_error(NULL));
  return 1;
}
