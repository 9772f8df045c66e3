/* Status strings name every code: ours, OpenCL's and CLBlast's. */
#include "testkit/testkit.h"

#include <string.h>

static void names_ours(scl_context ctx) {
  (void)ctx;
  TK_CHECK(strcmp(scl_status_string(SCL_OK), "SCL_OK") == 0);
  const struct { scl_status s; const char *n; } ours[] = {
      {SCL_ERR_INVALID_ARGUMENT, "SCL_ERR_INVALID_ARGUMENT"}, {SCL_ERR_SHAPE, "SCL_ERR_SHAPE"},
      {SCL_ERR_DTYPE, "SCL_ERR_DTYPE"}, {SCL_ERR_NO_DEVICE, "SCL_ERR_NO_DEVICE"},
      {SCL_ERR_BUILD, "SCL_ERR_BUILD"}, {SCL_ERR_IO, "SCL_ERR_IO"}, {SCL_ERR_FORMAT, "SCL_ERR_FORMAT"},
      {SCL_ERR_UNSUPPORTED, "SCL_ERR_UNSUPPORTED"}, {SCL_ERR_OUT_OF_MEMORY, "SCL_ERR_OUT_OF_MEMORY"},
      {SCL_ERR_NUMERIC, "SCL_ERR_NUMERIC"}};
  for (size_t i = 0; i < sizeof ours / sizeof ours[0]; i++)
    TK_CHECK_MSG(strcmp(scl_status_string(ours[i].s), ours[i].n) == 0, "%d -> %s", ours[i].s,
                 scl_status_string(ours[i].s));
  TK_CHECK(SCL_ERR_INVALID_ARGUMENT == -4001 && SCL_ERR_NUMERIC == -4010);
}

static void names_opencl(scl_context ctx) {
  (void)ctx;
  /* Every OpenCL 1.0..3.0 error code from -1 to -72 (except the gap -20..-29) has a CL_ name. */
  for (int c = -1; c >= -72; c--) {
    if (c <= -20 && c >= -29) continue;
    const char *n = scl_status_string(c);
    TK_CHECK_MSG(strncmp(n, "CL_", 3) == 0, "%d -> %s", c, n);
  }
  TK_CHECK(strcmp(scl_status_string(CL_INVALID_VALUE), "CL_INVALID_VALUE") == 0);
  TK_CHECK(strcmp(scl_status_string(CL_BUILD_PROGRAM_FAILURE), "CL_BUILD_PROGRAM_FAILURE") == 0);
  TK_CHECK(strcmp(scl_status_string(-1001), "CL_PLATFORM_NOT_FOUND_KHR") == 0);
}

static void names_clblast(scl_context ctx) {
  (void)ctx;
  TK_CHECK(strcmp(scl_status_string(-1024), "CLBlastNotImplemented") == 0);
  for (int c = -1022; c <= -1007; c++) TK_CHECK_MSG(strncmp(scl_status_string(c), "CLBlast", 7) == 0, "%d", c);
  for (int c = -2050; c <= -2039; c++) TK_CHECK_MSG(strncmp(scl_status_string(c), "CLBlast", 7) == 0, "%d", c);
  TK_CHECK(strcmp(scl_status_string(-1017), "CLBlastInvalidDimension") == 0);
  TK_CHECK(strcmp(scl_status_string(-2047), "CLBlastMissingOverrideParameter") == 0);
}

static void names_unknown(scl_context ctx) {
  (void)ctx;
  TK_CHECK(strcmp(scl_status_string(12345), "unknown status") == 0);
  TK_CHECK(strcmp(scl_status_string(-3999), "unknown status") == 0);
}

int main(int argc, char **argv) {
  const tk_case cases[] = {{"names_ours", names_ours}, {"names_opencl", names_opencl},
                           {"names_clblast", names_clblast}, {"names_unknown", names_unknown}};
  return tk_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
