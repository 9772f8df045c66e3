/* Kernel programs: the embedded sources build as the library builds them (kernels/common.cl, the
   prelude, in front of each); the prelude is never a program by itself; a broken source yields
   SCL_ERR_BUILD with the compiler's diagnostic, pointing at the real file and line. */
#include "internal.h"
#include "testkit/testkit.h"

#include <stdio.h>
#include <string.h>

static void embedded_sources_build(scl_context ctx) {
  TK_CHECK(scl__kernel_source_count >= 2);
  int prelude_seen = 0;
  for (size_t i = 0; i < scl__kernel_source_count; i++) {
    const char *name = scl__kernel_sources[i].name, *src = scl__kernel_sources[i].source;
    char want[128];
    snprintf(want, sizeof want, "#line 1 \"kernels/%s.cl\"\n", name);
    TK_CHECK_MSG(strncmp(src, want, strlen(want)) == 0, "%s does not start with its #line", want);
    if (strcmp(name, "common") == 0) { /* the prelude: the next source's #line must start a line */
      prelude_seen = 1;
      TK_CHECK_MSG(src[strlen(src) - 1] == '\n', "kernels/common.cl does not end with a newline");
      continue;
    }
    cl_program p = NULL;
    TK_STATUS(ctx, scl__program_build(ctx, name, src, &p), SCL_OK);
    if (p) clReleaseProgram(p);
  }
  TK_CHECK_MSG(prelude_seen, "no embedded kernels/common.cl");
}

static void broken_kernel_reports_log(scl_context ctx) {
  const char *broken = "#line 1 \"kernels/broken_for_test.cl\"\n"
                       "__kernel void k(__global float *x) {\n"
                       "  x[0] = undefined_identifier_xyz;\n"
                       "}\n";
  cl_program p = NULL;
  TK_STATUS(ctx, scl__program_build(ctx, "broken_for_test", broken, &p), SCL_ERR_BUILD);
  TK_CHECK(p == NULL);
  const char *msg = scl_context_error(ctx);
  TK_CHECK_MSG(strstr(msg, "undefined_identifier_xyz") != NULL, "no diagnostic in: %s", msg);
  TK_CHECK_MSG(strstr(msg, "broken_for_test.cl:2") != NULL, "the log does not name file and line 2: %s", msg);
  TK_CHECK(strstr(msg, "kernels/broken_for_test.cl") != NULL);
}

static void unknown_program_or_kernel(scl_context ctx) {
  cl_kernel k;
  TK_STATUS(ctx, scl__kernel(ctx, "no_such_file", "k", &k), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(ctx, scl__kernel(ctx, "common", "k", &k), SCL_ERR_INVALID_ARGUMENT); /* the prelude alone */
  TK_CHECK(strstr(scl_context_error(ctx), "prelude") != NULL);
  TK_STATUS(ctx, scl__kernel(ctx, "fill", "no_such_kernel", &k), CL_INVALID_KERNEL_NAME);
  TK_CHECK(strstr(scl_context_error(ctx), "no_such_kernel") != NULL);
}

int main(int argc, char **argv) {
  const tk_case cases[] = {{"embedded_sources_build", embedded_sources_build},
                           {"broken_kernel_reports_log", broken_kernel_reports_log},
                           {"unknown_program_or_kernel", unknown_program_or_kernel}};
  return tk_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
