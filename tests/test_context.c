/* Device enumeration, the selector rules, contexts from the application's OpenCL objects. */
#include "testkit/testkit.h"

#include <stdio.h>
#include <stdlib.h>
#include <ctype.h>
#include <stdint.h>
#include <string.h>

static void enumerate(scl_context ctx) {
  (void)ctx;
  size_t n = 0;
  TK_OK(NULL, scl_device_count(&n));
  TK_CHECK(n >= 1);
  TK_STATUS(NULL, scl_device_count(NULL), SCL_ERR_INVALID_ARGUMENT);
  scl_device_info info;
  TK_OK(NULL, scl_device_get_info(0, &info));
  TK_CHECK(info.name[0] && info.platform[0] && info.compute_units >= 1 && info.global_mem_bytes > 0);
  TK_CHECK(strncmp(info.opencl_version, "OpenCL ", 7) == 0);
  TK_STATUS(NULL, scl_device_get_info(n, &info), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(NULL, scl_device_get_info(0, NULL), SCL_ERR_INVALID_ARGUMENT);
}

/* Creates a context from selector; returns the chosen device's name ("" if creation failed). */
static scl_status pick(const char *selector, char *name, size_t size) {
  scl_context c = NULL;
  scl_status st = scl_context_create(selector, &c);
  name[0] = '\0';
  if (st == SCL_OK) {
    clGetDeviceInfo(scl_context_device(c), CL_DEVICE_NAME, size, name, NULL);
    scl_context_release(c);
  }
  return st;
}

static void selectors(scl_context ctx) {
  (void)ctx;
  scl_device_info d0;
  TK_OK(NULL, scl_device_get_info(0, &d0));
  char name[256];
  TK_OK(NULL, pick("0", name, sizeof name));
  TK_CHECK(strcmp(name, d0.name) == 0);
  /* By type: the first device of d0's type is d0 whenever d0 is the first of its kind. */
  const char *tname = d0.type == SCL_DEVICE_CPU ? "cpu" : d0.type == SCL_DEVICE_GPU ? "gpu" : "accelerator";
  TK_OK(NULL, pick(tname, name, sizeof name));
  TK_CHECK(strcmp(name, d0.name) == 0);
  /* Case-insensitive substring of "platform: device", spanning the separator. */
  char sub[64];
  snprintf(sub, sizeof sub, "%.6s: %.4s", d0.platform + strlen(d0.platform) - (strlen(d0.platform) < 6 ? strlen(d0.platform) : 6), d0.name);
  for (char *p = sub; *p; p++) *p = (char)((p - sub) % 2 ? toupper((unsigned char)*p) : tolower((unsigned char)*p));
  TK_OK(NULL, pick(sub, name, sizeof name));
  TK_CHECK_MSG(strcmp(name, d0.name) == 0, "selector \"%s\" picked %s", sub, name);
  /* Default: with no GPU or accelerator, the first device. */
  size_t n = 0;
  scl_device_count(&n);
  int has_gpu_or_acc = 0;
  for (size_t i = 0; i < n; i++) {
    scl_device_info di;
    scl_device_get_info(i, &di);
    if (di.type == SCL_DEVICE_GPU || di.type == SCL_DEVICE_ACCELERATOR) has_gpu_or_acc = 1;
  }
  char *saved = getenv("SPHERECL_DEVICE") ? strdup(getenv("SPHERECL_DEVICE")) : NULL;
  unsetenv("SPHERECL_DEVICE");
  if (!has_gpu_or_acc) {
    TK_OK(NULL, pick(NULL, name, sizeof name));
    TK_CHECK(strcmp(name, d0.name) == 0);
    TK_OK(NULL, pick("", name, sizeof name));
    TK_CHECK(strcmp(name, d0.name) == 0);
    TK_STATUS(NULL, pick("gpu", name, sizeof name), SCL_ERR_NO_DEVICE);
  }
  /* SPHERECL_DEVICE steers the default; an impossible one fails and says where it came from. */
  setenv("SPHERECL_DEVICE", "no-such-device-xyz", 1);
  TK_STATUS(NULL, pick(NULL, name, sizeof name), SCL_ERR_NO_DEVICE);
  TK_CHECK(strstr(scl_context_error(NULL), "SPHERECL_DEVICE") != NULL);
  setenv("SPHERECL_DEVICE", "0", 1);
  TK_OK(NULL, pick(NULL, name, sizeof name));
  TK_CHECK(strcmp(name, d0.name) == 0);
  if (saved) setenv("SPHERECL_DEVICE", saved, 1);
  else unsetenv("SPHERECL_DEVICE");
  free(saved);
}

static void no_match_lists_devices(scl_context ctx) {
  (void)ctx;
  scl_device_info d0;
  TK_OK(NULL, scl_device_get_info(0, &d0));
  scl_context c = (scl_context)(uintptr_t)1; /* must be set to NULL on failure */
  TK_STATUS(NULL, scl_context_create("definitely-not-a-device", &c), SCL_ERR_NO_DEVICE);
  TK_CHECK(c == NULL);
  const char *msg = scl_context_error(NULL);
  TK_CHECK_MSG(strstr(msg, "definitely-not-a-device") && strstr(msg, d0.name) && strstr(msg, "[0]"),
               "message lacks the selector or the device list: %s", msg);
  size_t n = 0;
  scl_device_count(&n);
  char idx[32];
  snprintf(idx, sizeof idx, "%zu", n);
  TK_STATUS(NULL, scl_context_create(idx, &c), SCL_ERR_NO_DEVICE);
  TK_STATUS(NULL, scl_context_create("0", NULL), SCL_ERR_INVALID_ARGUMENT);
}

static void from_cl(scl_context ctx) {
  cl_context clc = scl_context_cl(ctx);
  cl_device_id dev = scl_context_device(ctx);
  scl_context c = NULL;
  /* Our own queue. */
  TK_OK(NULL, scl_context_create_from_cl(clc, dev, NULL, &c));
  TK_CHECK(scl_context_cl(c) == clc && scl_context_device(c) == dev && scl_context_queue(c) != NULL);
  scl_tensor t = tk_tensor(c, NULL, 7, 0, 0, 0);
  TK_OK(c, scl_tensor_fill(t, 2.5f));
  float h[7];
  TK_OK(c, scl_tensor_read(t, h, sizeof h));
  TK_CHECK(h[0] == 2.5f && h[6] == 2.5f);
  scl_tensor_release(t);
  scl_context_release(c);
  /* The application's in-order queue is used as is. */
  cl_int err;
  cl_command_queue q = clCreateCommandQueue(clc, dev, 0, &err);
  TK_OK(NULL, scl_context_create_from_cl(clc, dev, q, &c));
  TK_CHECK(scl_context_queue(c) == q);
  scl_context_release(c);
  clReleaseCommandQueue(q); /* still valid after the scl_context released its retain */
  /* An out-of-order queue is refused with a message that says why. */
  cl_command_queue_properties props = 0;
  clGetDeviceInfo(dev, CL_DEVICE_QUEUE_PROPERTIES, sizeof props, &props, NULL);
  if (props & CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE) {
    q = clCreateCommandQueue(clc, dev, CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE, &err);
    c = NULL;
    TK_STATUS(NULL, scl_context_create_from_cl(clc, dev, q, &c), SCL_ERR_INVALID_ARGUMENT);
    TK_CHECK(c == NULL && strstr(scl_context_error(NULL), "out-of-order"));
    clReleaseCommandQueue(q);
  }
  TK_STATUS(NULL, scl_context_create_from_cl(NULL, dev, NULL, &c), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(NULL, scl_context_create_from_cl(clc, NULL, NULL, &c), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(NULL, scl_context_create_from_cl(clc, dev, NULL, NULL), SCL_ERR_INVALID_ARGUMENT);
}

static void null_context(scl_context ctx) {
  (void)ctx;
  scl_context_release(NULL);
  TK_STATUS(NULL, scl_context_finish(NULL), SCL_ERR_INVALID_ARGUMENT);
  TK_CHECK(scl_context_cl(NULL) == NULL && scl_context_device(NULL) == NULL && scl_context_queue(NULL) == NULL);
  TK_CHECK(scl_context_error(NULL) != NULL);
}

int main(int argc, char **argv) {
  const tk_case cases[] = {{"enumerate", enumerate},           {"selectors", selectors},
                           {"no_match_lists_devices", no_match_lists_devices},
                           {"from_cl", from_cl},                {"null_context", null_context}};
  return tk_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
