/* Tuning overrides from a SPHERECL_TUNING file: applied to the matching device, results stay
   correct, malformed files are refused with the line named. */
#include "internal.h"
#include "ref/ref_gemm.h"
#include "testkit/testkit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The parameter set measured on PoCL 3.1 (2-core Skylake) at ~45-69 GFLOP/s against ~25 by default. */
#define GOOD_XGEMM                                                                                 \
  "Xgemm 32 GEMMK=0 KREG=1 KWG=32 KWI=2 MDIMA=16 MDIMC=16 MWG=128 NDIMB=16 NDIMC=16 NWG=128 SA=1 SB=1 STRM=1 " \
  "STRN=1 VWM=8 VWN=8\n"

static const char *write_file(const char *text) {
  static char path[64];
  snprintf(path, sizeof path, "/tmp/spherecl_tuning_%d.txt", (int)getpid());
  FILE *f = fopen(path, "w");
  fputs(text, f);
  fclose(f);
  return path;
}

/* Returns the relative error of a GEMM against the reference (and fails the case when expect_ok). */
static double gemm_error(scl_context ctx, size_t m, size_t n, size_t k, int expect_ok) {
  tk_rng r = tk_rng_make(m * 31 + n);
  float *a = malloc(m * k * 4), *b = malloc(k * n * 4);
  tk_fill_uniform(&r, a, m * k, -1, 1);
  tk_fill_uniform(&r, b, k * n, -1, 1);
  scl_tensor A = tk_tensor(ctx, a, m, k, 0, 0), B = tk_tensor(ctx, b, k, n, 0, 0), C = tk_tensor(ctx, NULL, m, n, 0, 0);
  TK_STATUS(ctx, scl__gemm(ctx, SCL_NO_TRANS, SCL_NO_TRANS, m, n, k, 1.0f, A->buffer, 0, k, B->buffer, 0, n, 0.0f,
                           C->buffer, 0, n), SCL_OK);
  float *c = tk_read(C);
  double *ref = malloc(m * n * sizeof *ref);
  ref_gemm(0, 0, m, n, k, a, b, ref);
  double err = tk_rel_l2(c, ref, m * n);
  if (expect_ok) tk_expect_close("gemm after override", c, ref, m * n, TK_TOL_GEMM);
  free(a), free(b), free(c), free(ref);
  scl_tensor_release(A), scl_tensor_release(B), scl_tensor_release(C);
  return err;
}
#define check_gemm(ctx, m, n, k) gemm_error((ctx), (m), (n), (k), 1)

static void override_applied_and_correct(scl_context ctx) {
  /* The section names this device by part of its label; GemmRoutine's threshold is lowered so
     that this small, odd-sized GEMM runs through the overridden (indirect) Xgemm kernel. */
  char text[1024], section[16];
  snprintf(section, sizeof section, "%.8s", ctx->device_label);
  snprintf(text, sizeof text,
           "# test file\n\n[%s]\nGemmRoutine 32 XGEMM_MIN_INDIRECT_SIZE=64   # small problems too\n" GOOD_XGEMM, section);
  int applied = -1;
  TK_OK(ctx, scl__blas_apply_tuning_file(ctx, write_file(text), &applied));
  TK_CHECK_MSG(applied == 2, "applied %d entries", applied);
  check_gemm(ctx, 200, 130, 190);
  check_gemm(ctx, 256, 256, 256);
}

/* Proof that the file's parameters reach the kernel: a set that breaks Xgemm's constraint
   MWG % (MDIMC·VWM) == 0 (VWM=16) computes garbage; the good set restores correct results. This is
   also why untested sets must never be applied by default. Each set runs on a fresh context: given
   a temporary buffer, CLBlast 1.5.3 keeps running the program it first built in a context even
   after new parameters are applied (so parameters belong before a context's first GEMM, which is
   where context creation applies them). */
static void override_takes_effect(scl_context unused) {
  (void)unused;
  static const char *const sets[2] = {
      "GemmRoutine 32 XGEMM_MIN_INDIRECT_SIZE=64\n"
      "Xgemm 32 GEMMK=0 KREG=1 KWG=32 KWI=2 MDIMA=16 MDIMC=16 MWG=128 NDIMB=16 NDIMC=16 NWG=128 SA=1 SB=1 "
      "STRM=1 STRN=1 VWM=16 VWN=8\n",
      "GemmRoutine 32 XGEMM_MIN_INDIRECT_SIZE=64\n" GOOD_XGEMM};
  for (int i = 0; i < 2; i++) {
    scl_context ctx = NULL;
    int applied = 0;
    TK_OK(NULL, scl_context_create("0", &ctx));
    ctx->gemm_own = 0; /* CLBlast's kernel, even where the cache or SPHERECL_GEMM chose spherecl's */
    TK_OK(ctx, scl__blas_apply_tuning_file(ctx, write_file(sets[i]), &applied));
    if (i == 0) {
      double bad = gemm_error(ctx, 256, 256, 256, 0);
      TK_CHECK_MSG(!(bad < 1e-2), "an inconsistent parameter set still gave error %g: was it applied?", bad);
    } else {
      check_gemm(ctx, 256, 256, 256);
    }
    scl_context_release(ctx);
  }
}

static void other_devices_sections_skipped(scl_context ctx) {
  int applied = -1;
  TK_OK(ctx, scl__blas_apply_tuning_file(ctx, write_file("[no device has this name]\n" GOOD_XGEMM), &applied));
  TK_CHECK(applied == 0);
}

static void malformed_files_refused(scl_context ctx) {
  int applied;
  const struct { const char *text; const char *needle; } bad[] = {
      {"Xgemm\n", ":1:"},
      {"\n\nXgemm 33 KWG=32\n", ":3:"},
      {"Xgemm 32 KWG\n", "not NAME=VALUE"},
      {"Xgemm 32 KWG=-1\n", "not an integer"},
      {"Xgemm 32 KWG=abc\n", "not an integer"},
      {"[unclosed\n", "section"},
      {"Conv2d 32 WINOGRAD=3\n", "WINOGRAD=0, 2 or 4"},
      {"Conv2d 32 WINOGRAD=2 EXTRA=1\n", "one parameter"},
      {"Gemm 32 ROWS=5 COLS=32\n", "a tile among 4x32, 8x32"},
      {"Gemm 32 ROWS=8\n", "ROWS=R COLS=C"},
      {"Conv2dDirect 32 BELOW=128\n", "BELOW_CHANNELS=C"},
      {"Conv2dDirect 32 BELOW_CHANNELS=128 X=1\n", "one parameter"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    TK_STATUS(ctx, scl__blas_apply_tuning_file(ctx, write_file(bad[i].text), &applied), SCL_ERR_FORMAT);
    TK_CHECK_MSG(strstr(scl_context_error(ctx), bad[i].needle) != NULL, "case %zu: %s", i, scl_context_error(ctx));
  }
  /* CLBlast itself refuses an incomplete set; its status passes through. */
  scl_status st = scl__blas_apply_tuning_file(ctx, write_file("Xgemm 32 KWG=32\n"), &applied);
  TK_CHECK_MSG(st == -2047, "got %s", scl_status_string(st));
  TK_STATUS(ctx, scl__blas_apply_tuning_file(ctx, "/nonexistent/tuning.txt", &applied), SCL_ERR_IO);
}

static void environment_variable(scl_context ctx) {
  (void)ctx;
  scl_context c = NULL;
  setenv("SPHERECL_TUNING", write_file("Xgemm 32 KWG\n"), 1);
  TK_STATUS(NULL, scl_context_create("0", &c), SCL_ERR_FORMAT);
  TK_CHECK_MSG(strstr(scl_context_error(NULL), "spherecl_tuning_") != NULL, "%s", scl_context_error(NULL));
  setenv("SPHERECL_TUNING", write_file(GOOD_XGEMM), 1);
  TK_OK(NULL, scl_context_create("0", &c));
  scl_context_release(c);
  unsetenv("SPHERECL_TUNING");
  unlink(write_file(""));
}

/* The per-device cache: saved, found and applied by a new context; a stale or corrupt one ignored
   with the context still created; SPHERECL_TUNING=off skips it. SPHERECL_CACHE_DIR points at a
   fresh folder. */
static void cache_saved_and_applied(scl_context ctx) {
  char dir[64], path[1200], why[1400];
  snprintf(dir, sizeof dir, "/tmp/spherecl_cache_%d", (int)getpid());
  setenv("SPHERECL_CACHE_DIR", dir, 1);
  unsetenv("SPHERECL_TUNING");
  scl_device_info info;
  TK_OK(ctx, scl__device_info_of(ctx->device, &info));
  TK_OK(NULL, scl_tuning_cache_path(&info, path, sizeof path));
  TK_CHECK_MSG(strncmp(path, dir, strlen(dir)) == 0 && strstr(path, ".tuning"), "%s", path);
  TK_CHECK(scl_tuning_cache_state(&info, why, sizeof why) == 0 && why[0] == '\0'); /* none yet */

  size_t count = 0;
  const char *xgemm = scl__tune_space(SCL_TUNE_XGEMM, &count)[0];
  char entries[1024];
  snprintf(entries, sizeof entries, "%s\nGemmRoutine 32 XGEMM_MIN_INDIRECT_SIZE=576\n", xgemm);
  TK_OK(NULL, scl_tuning_save(&info, entries));
  TK_CHECK_MSG(scl_tuning_cache_state(&info, why, sizeof why) == 1, "%s", why);
  scl_context c = NULL;
  TK_OK(NULL, scl_context_create("0", &c));
  TK_CHECK(scl_context_tuning(c) == SCL_TUNING_CACHE);
  TK_CHECK_MSG(c->gemm_tile == 64 && c->gemm_min_indirect == 576, "tile %zu, threshold %zu", c->gemm_tile,
               c->gemm_min_indirect);
  check_gemm(c, 640, 576, 600);
  scl_context_release(c);

  setenv("SPHERECL_TUNING", "off", 1);
  TK_OK(NULL, scl_context_create("0", &c));
  TK_CHECK(scl_context_tuning(c) == SCL_TUNING_NONE && c->gemm_tile == 1);
  scl_context_release(c);
  unsetenv("SPHERECL_TUNING");

  /* Stale (another driver version) and corrupt files: ignored, the context still made. */
  const char *bad[] = {"# spherecl tuning 1\n# device: Other | Device | 0.0\nXgemm 32 KWG=1\n",
                       "\x7f\x45LF binary garbage\n",
                       NULL};
  char corrupt[1600];
  snprintf(corrupt, sizeof corrupt, "# spherecl tuning 1\n# device: %s | %s | %s\nXgemm 32 KWG\n", info.platform,
           info.name, info.driver_version);
  bad[2] = corrupt;
  const char *why_needle[] = {"stale", "bad first line", NULL};
  for (int i = 0; i < 3; i++) {
    FILE *f = fopen(path, "w");
    fputs(bad[i], f);
    fclose(f);
    int state = scl_tuning_cache_state(&info, why, sizeof why);
    if (why_needle[i]) TK_CHECK_MSG(state == 0 && strstr(why, why_needle[i]), "file %d: %d %s", i, state, why);
    TK_OK(NULL, scl_context_create("0", &c));
    TK_CHECK_MSG(scl_context_tuning(c) == SCL_TUNING_NONE, "file %d was applied", i);
    scl_context_release(c);
  }
  unlink(path);
  rmdir(dir);
  unsetenv("SPHERECL_CACHE_DIR");
}

/* spherecl's own entry, Conv2d WINOGRAD=M, sets the context's Winograd tile; SPHERECL_WINOGRAD
   overrides it. */
/* Conv2d WINOGRAD=M and Conv2dDirect BELOW_CHANNELS=C set what conv2d runs (test_conv2d checks
   that the layers go where they say); SPHERECL_WINOGRAD overrides the first. */
static void winograd_entry(scl_context unused) {
  (void)unused;
  scl_context c = NULL;
  setenv("SPHERECL_TUNING", write_file("Conv2d 32 WINOGRAD=4\n"), 1);
  TK_OK(NULL, scl_context_create("0", &c));
  TK_CHECK_MSG(c->winograd == 4, "winograd %d", c->winograd);
  scl_context_release(c);
  setenv("SPHERECL_WINOGRAD", "0", 1);
  TK_OK(NULL, scl_context_create("0", &c));
  TK_CHECK_MSG(c->winograd == 0, "SPHERECL_WINOGRAD=0 left winograd %d", c->winograd);
  TK_OK(c, scl_tuning_apply(c, "Conv2d 32 WINOGRAD=2"));
  TK_CHECK_MSG(c->winograd == 0, "an entry overrode SPHERECL_WINOGRAD");
  TK_CHECK_MSG(c->winograd_min_c == 0, "winograd_min_c %zu without an entry", c->winograd_min_c);
  TK_OK(c, scl_tuning_apply(c, "Conv2dDirect 32 BELOW_CHANNELS=128"));
  TK_CHECK_MSG(c->winograd_min_c == 128, "Conv2dDirect BELOW_CHANNELS=128 gave %zu", c->winograd_min_c);
  scl_context_release(c);
  unsetenv("SPHERECL_WINOGRAD");
  unsetenv("SPHERECL_TUNING");
}

/* spherecl's own entry, Gemm ROWS=R COLS=C, chooses the GEMM kernel's tile (0 0: CLBlast), and
   the GEMMs then run on it; SPHERECL_GEMM overrides it, and a value it does not know fails context
   creation with the tiles it does know. */
static void gemm_entry(scl_context unused) {
  (void)unused;
  scl_context c = NULL;
  setenv("SPHERECL_TUNING", write_file("Gemm 32 ROWS=8 COLS=48\n"), 1);
  unsetenv("SPHERECL_GEMM");
  TK_OK(NULL, scl_context_create("0", &c));
  TK_CHECK_MSG(c->gemm_own == scl__gemm_own_tile(8, 48) && c->gemm_own > 0, "gemm_own %d", c->gemm_own);
  TK_OK(c, scl_tuning_apply(c, "Gemm 32 ROWS=0 COLS=0"));
  TK_CHECK_MSG(c->gemm_own == 0, "ROWS=0 COLS=0 left gemm_own %d", c->gemm_own);
  scl_context_release(c);
  setenv("SPHERECL_GEMM", "clblast", 1);
  TK_OK(NULL, scl_context_create("0", &c));
  TK_CHECK_MSG(c->gemm_own == 0, "SPHERECL_GEMM=clblast left gemm_own %d", c->gemm_own);
  TK_OK(c, scl_tuning_apply(c, "Gemm 32 ROWS=8 COLS=32"));
  TK_CHECK_MSG(c->gemm_own == 0, "an entry overrode SPHERECL_GEMM");
  scl_context_release(c);
  setenv("SPHERECL_GEMM", "12x32", 1);
  TK_OK(NULL, scl_context_create("0", &c));
  TK_CHECK_MSG(c->gemm_own == scl__gemm_own_tile(12, 32), "SPHERECL_GEMM=12x32 gave gemm_own %d", c->gemm_own);
  scl_context_release(c);
  c = NULL;
  setenv("SPHERECL_GEMM", "7x7", 1);
  TK_STATUS(NULL, scl_context_create("0", &c), SCL_ERR_INVALID_ARGUMENT);
  TK_CHECK_MSG(c == NULL && strstr(scl_context_error(NULL), "SPHERECL_GEMM=7x7") &&
                   strstr(scl_context_error(NULL), "8x32"),
               "message: %s", scl_context_error(NULL));
  unsetenv("SPHERECL_GEMM");
  /* An untuned CPU device runs spherecl's kernel (8x32); SPHERECL_TUNING=off means none. */
  char dir[] = "/tmp/spherecl_empty_cache_XXXXXX";
  TK_CHECK(mkdtemp(dir) != NULL);
  setenv("SPHERECL_CACHE_DIR", dir, 1);
  unsetenv("SPHERECL_TUNING");
  TK_OK(NULL, scl_context_create("0", &c));
  scl_device_info info;
  TK_OK(c, scl__device_info_of(c->device, &info));
  TK_CHECK_MSG(scl_context_tuning(c) == SCL_TUNING_NONE &&
                   c->gemm_own == (info.type == SCL_DEVICE_CPU ? scl__gemm_own_tile(8, 32) : 0),
               "untuned %s device: gemm_own %d", info.type == SCL_DEVICE_CPU ? "CPU" : "non-CPU", c->gemm_own);
  scl_context_release(c);
  setenv("SPHERECL_TUNING", "off", 1);
  TK_OK(NULL, scl_context_create("0", &c));
  TK_CHECK_MSG(c->gemm_own == 0, "SPHERECL_TUNING=off left gemm_own %d", c->gemm_own);
  scl_context_release(c);
  rmdir(dir);
  unsetenv("SPHERECL_CACHE_DIR");
  unsetenv("SPHERECL_TUNING");
}

int main(int argc, char **argv) {
  const tk_case cases[] = {{"override_applied_and_correct", override_applied_and_correct},
                           {"override_takes_effect", override_takes_effect},
                           {"other_devices_sections_skipped", other_devices_sections_skipped},
                           {"malformed_files_refused", malformed_files_refused},
                           {"environment_variable", environment_variable},
                           {"cache_saved_and_applied", cache_saved_and_applied},
                           {"winograd_entry", winograd_entry},
                           {"gemm_entry", gemm_entry}};
  return tk_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
