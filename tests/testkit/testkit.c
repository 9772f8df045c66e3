#include "testkit.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int case_failures;

void tk_fail(const char *file, int line, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "    %s:%d: ", file, line);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  case_failures++;
}

int tk_check_status(scl_context ctx, scl_status got, scl_status expected, const char *expr, const char *file,
                    int line) {
  if (got == expected) return 1;
  tk_fail(file, line, "%s returned %s (%d), expected %s (%d); message: %s", expr, scl_status_string(got), got,
          scl_status_string(expected), expected, scl_context_error(ctx));
  return 0;
}

int tk_main(int argc, char **argv, const tk_case *cases, size_t ncases) {
  const char *sel = getenv("SPHERECL_TEST_DEVICE");
  scl_context ctx = NULL;
  scl_status st = scl_context_create(sel, &ctx);
  if (st != SCL_OK) {
    fprintf(stderr, "cannot create a context: %s\n%s\n", scl_status_string(st), scl_context_error(NULL));
    printf("0 passed, %zu failed\n", ncases);
    return 1;
  }
  int passed = 0, failed = 0;
  for (size_t i = 0; i < ncases; i++) {
    if (argc > 1 && strcmp(argv[1], cases[i].name) != 0) continue;
    case_failures = 0;
    cases[i].fn(ctx);
    if (scl_context_finish(ctx) != SCL_OK) case_failures++;
    printf("%s %s\n", case_failures ? "FAIL" : "ok  ", cases[i].name);
    fflush(stdout);
    if (case_failures) failed++;
    else passed++;
  }
  scl_context_release(ctx);
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}

tk_rng tk_rng_make(uint64_t seed) {
  tk_rng r = {seed * 0x9E3779B97F4A7C15ull + 1};
  return r;
}

static uint64_t next(tk_rng *r) { /* splitmix64 */
  uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

double tk_uniform(tk_rng *r, double lo, double hi) { return lo + (hi - lo) * ((next(r) >> 11) * 0x1.0p-53); }

double tk_normal(tk_rng *r) {
  double u = tk_uniform(r, 1e-12, 1.0), v = tk_uniform(r, 0.0, 1.0);
  return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

void tk_fill_uniform(tk_rng *r, float *x, size_t n, double lo, double hi) {
  for (size_t i = 0; i < n; i++) x[i] = (float)tk_uniform(r, lo, hi);
}

double tk_central_difference(tk_scalar_fn f, const void *arg, double *v, size_t i, double h) {
  double keep = v[i];
  v[i] = keep + h;
  double up = f(arg);
  v[i] = keep - h;
  double down = f(arg);
  v[i] = keep;
  return (up - down) / (2 * h);
}

void tk_central_differences(tk_scalar_fn f, const void *arg, double *v, size_t n, double h, double *fd) {
  for (size_t i = 0; i < n; i++) fd[i] = tk_central_difference(f, arg, v, i, h);
}

/* A new tensor with dims d[0..4) up to the first 0, `who` naming the caller in a failure. */
static scl_tensor create(scl_context ctx, scl_dtype dtype, const size_t d[4], const char *who) {
  int nd = 0;
  while (nd < 4 && d[nd]) nd++;
  scl_tensor t = NULL;
  if (scl_tensor_create(ctx, dtype, nd, d, &t) != SCL_OK) {
    tk_fail(__FILE__, __LINE__, "%s: %s", who, scl_context_error(ctx));
    return NULL;
  }
  return t;
}

scl_tensor tk_tensor(scl_context ctx, const float *host, size_t d0, size_t d1, size_t d2, size_t d3) {
  const size_t dims[4] = {d0, d1, d2, d3};
  scl_tensor t = create(ctx, SCL_F32, dims, "tk_tensor");
  if (!t) return NULL;
  if (host) scl_tensor_write(t, host, scl_tensor_count(t) * 4);
  else scl_tensor_fill(t, NAN);
  return t;
}

scl_tensor tk_tensor_i32(scl_context ctx, const int32_t *host, size_t n) {
  scl_tensor t = NULL;
  if (scl_tensor_create(ctx, SCL_I32, 1, &n, &t) != SCL_OK) {
    tk_fail(__FILE__, __LINE__, "tk_tensor_i32: %s", scl_context_error(ctx));
    return NULL;
  }
  scl_tensor_write(t, host, n * 4);
  return t;
}

scl_tensor tk_poisoned_like(scl_context ctx, scl_tensor like) {
  size_t d[4] = {0};
  for (int i = 0; i < scl_tensor_ndim(like) && i < 4; i++) d[i] = scl_tensor_dim(like, i);
  return tk_tensor(ctx, NULL, d[0], d[1], d[2], d[3]);
}

float *tk_read(scl_tensor t) {
  size_t n = scl_tensor_count(t);
  float *h = malloc((n ? n : 1) * sizeof *h);
  if (scl_tensor_read(t, h, n * 4) != SCL_OK) {
    tk_fail(__FILE__, __LINE__, "tk_read failed");
    for (size_t i = 0; i < n; i++) h[i] = NAN;
  }
  return h;
}

scl_tensor tk_tensor_at_offset(scl_context ctx, const float *host, int nd, const size_t *dims, size_t off,
                               scl_tensor *base) {
  size_t count = 1;
  for (int i = 0; i < nd; i++) count *= dims[i];
  *base = tk_tensor(ctx, NULL, off + count, 0, 0, 0);
  scl_tensor t = NULL;
  if (scl_tensor_wrap(ctx, SCL_F32, nd, dims, scl_tensor_buffer(*base), off * sizeof(float), &t) != SCL_OK) {
    tk_fail(__FILE__, __LINE__, "wrap: %s", scl_context_error(ctx));
    return NULL;
  }
  if (host) scl_tensor_write(t, host, count * sizeof(float));
  return t;
}

double tk_rel_l2(const float *out, const double *ref, size_t n) {
  double num = 0, den = 0;
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(out[i]) || !isfinite(ref[i])) return INFINITY;
    double d = (double)out[i] - ref[i];
    num += d * d;
    den += ref[i] * ref[i];
  }
  if (den == 0) return sqrt(num);
  return sqrt(num / den);
}

int tk_expect_close(const char *what, const float *out, const double *ref, size_t n, double tol) {
  double e = tk_rel_l2(out, ref, n);
  if (e <= tol) return 1; /* NaN/Inf compare false: they never pass */
  size_t worst = 0;
  double wd = -1;
  for (size_t i = 0; i < n; i++) {
    double d = isfinite(out[i]) ? fabs(out[i] - ref[i]) : INFINITY;
    if (d > wd) wd = d, worst = i;
  }
  tk_fail(__FILE__, __LINE__, "%s: relative L2 error %.3g > %.1g (worst [%zu]: got %.9g, want %.9g)", what, e, tol,
          worst, n ? out[worst] : 0.0, n ? ref[worst] : 0.0);
  return 0;
}

int tk_expect_tensor(const char *what, scl_tensor t, const double *ref, double tol) {
  float *got = tk_read(t);
  int close = tk_expect_close(what, got, ref, scl_tensor_count(t), tol);
  free(got);
  return close;
}

void tk_expect_unchanged(const char *what, scl_tensor t, const float *before) {
  float *now = tk_read(t);
  TK_CHECK_MSG(memcmp(now, before, scl_tensor_count(t) * sizeof *now) == 0, "%s: the output was modified", what);
  free(now);
}

scl_tensor tk_sentinel(scl_context ctx, scl_dtype dtype, size_t d0, size_t d1, size_t d2, size_t d3) {
  const size_t dims[4] = {d0, d1, d2, d3};
  scl_tensor t = create(ctx, dtype, dims, "tk_sentinel");
  if (t) scl_tensor_fill(t, TK_SENTINEL);
  return t;
}

void tk_expect_sentinel(const char *what, scl_tensor t) {
  if (!t) return;
  size_t n = scl_tensor_count(t), bad = 0;
  uint32_t *h = malloc(n * 4), want;
  float f = TK_SENTINEL;
  int32_t i = (int32_t)TK_SENTINEL;
  if (scl_tensor_dtype(t) == SCL_I32) memcpy(&want, &i, 4);
  else memcpy(&want, &f, 4);
  TK_CHECK(scl_tensor_read(t, h, n * 4) == SCL_OK);
  for (size_t j = 0; j < n; j++) bad += h[j] != want;
  TK_CHECK_MSG(bad == 0, "%s: %zu elements of an output changed after a refused call", what, bad);
  free(h);
}

void tk_expect_refused(scl_context ctx, const char *what, scl_status got, scl_status want, const char *needle,
                       scl_tensor o1, scl_tensor o2, scl_tensor o3) {
  TK_CHECK_MSG(got == want, "%s: got %s, expected %s (%s)", what, scl_status_string(got), scl_status_string(want),
               scl_context_error(ctx));
  if (needle) TK_CHECK_MSG(strstr(scl_context_error(ctx), needle), "%s: message \"%s\" lacks \"%s\"", what,
                           scl_context_error(ctx), needle);
  tk_expect_sentinel(what, o1), tk_expect_sentinel(what, o2), tk_expect_sentinel(what, o3);
}

const char *tk_shared_data(void) {
  static char path[4096];
  const char *env = getenv("SPHERECL_SHARED_DATA");
  snprintf(path, sizeof path, "%s", env && *env ? env : "../shared/data");
  struct stat sb;
  return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode) ? path : NULL;
}

int tk_small(const char *what) {
  const char *env = getenv("SPHERECL_TEST_SMALL");
  if (!env || !*env) return 0;
  printf("     left out under SPHERECL_TEST_SMALL: %s\n", what);
  return 1;
}
