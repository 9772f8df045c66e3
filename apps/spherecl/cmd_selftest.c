/* spherecl selftest: a GEMM on the chosen device, checked against a double-precision CPU loop
   (gemm_check.c), with its rate. A quick "does this device work" for a new machine. */
#include "commands.h"
#include "gemm_check.h"
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmd_selftest(int argc, char **argv) {
  const char *selector = NULL;
  size_t n = 256;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--device") && i + 1 < argc) selector = argv[++i];
    else if (!strcmp(argv[i], "--size") && i + 1 < argc) n = strtoul(argv[++i], NULL, 10);
    else {
      printf("usage: spherecl selftest [--device SELECTOR] [--size N]\n");
      return !strcmp(argv[i], "--help") ? 0 : 2;
    }
  }
  if (n < 1 || n > 4096) {
    fprintf(stderr, "spherecl selftest: --size must be 1..4096\n");
    return 2;
  }
  scl_context ctx;
  scl_status st = scl_context_create(selector, &ctx);
  if (st != SCL_OK) {
    fprintf(stderr, "spherecl: %s\n", scl_context_error(NULL));
    return 1;
  }
  double err = 0, best = 0;
  st = gemm_check(ctx, SCL_NO_TRANS, SCL_NO_TRANS, n, n, n, 3, &err, &best);
  int rc = !(err <= 1e-4);
  if (st == SCL_OK)
    printf("selftest: %zux%zux%zu SGEMM on %s: relative error %.2e (%s), %.1f GFLOP/s\n", n, n, n,
           ctx->device_label, err, rc ? "FAILED" : "ok", 2.0 * n * n * n / best * 1e-9);
  else fprintf(stderr, "spherecl selftest: %s\n", scl_context_error(ctx));
  scl_context_release(ctx);
  return st != SCL_OK ? 1 : rc;
}
