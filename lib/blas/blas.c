/* The one file that calls CLBlast: GEMM (plain and strided-batched), im2col/col2im, and the
   per-device tuning overrides read from the file named by SPHERECL_TUNING.

   Tuning file format (text, one entry per line; '#' starts a comment; blank lines ignored):

       [pthread]                      # optional section: the entries below apply only to devices whose
                                      # "platform: device" contains this text (case-insensitive);
                                      # entries before any section apply to every device
       Xgemm 32 GEMMK=0 KREG=1 KWG=32 KWI=2 MDIMA=16 MDIMC=16 MWG=128 NDIMB=16 NDIMC=16 NWG=128 SA=1 SB=1 STRM=1 STRN=1 VWM=8 VWN=8

   Each entry is a CLBlast kernel name, a precision in bits (16, 32, 64, 3232, 6464), then every
   parameter of that kernel as NAME=VALUE. CLBlast refuses an entry that misses a parameter
   (CLBlastMissingOverrideParameter); the error names the file and line. Some parameter sets crash
   PoCL's compiler, so only sets that were tested on the device belong in such a file. */
#include "internal.h"

#include <clblast_c.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static CLBlastTranspose tr(scl_trans t) { return t == SCL_TRANS ? CLBlastTransposeYes : CLBlastTransposeNo; }

static scl_status blas_status(scl_context ctx, CLBlastStatusCode code, const char *what) {
  if (code == CLBlastSuccess) return SCL_OK;
  return scl__fail(ctx, (scl_status)code, "CLBlast %s failed on %s: %s (%d)", what, ctx->device_label,
                   scl_status_string((scl_status)code), (int)code);
}

scl_status scl__gemm(scl_context ctx, scl_trans ta, scl_trans tb, size_t m, size_t n, size_t k, float alpha,
                     cl_mem a, size_t a_off, size_t lda, cl_mem b, size_t b_off, size_t ldb, float beta, cl_mem c,
                     size_t c_off, size_t ldc) {
  CLBlastStatusCode code = CLBlastSgemm(CLBlastLayoutRowMajor, tr(ta), tr(tb), m, n, k, alpha, a, a_off, lda, b,
                                        b_off, ldb, beta, c, c_off, ldc, &ctx->queue, NULL);
  return blas_status(ctx, code, "Sgemm");
}

scl_status scl__gemm_batched(scl_context ctx, scl_trans ta, scl_trans tb, size_t m, size_t n, size_t k,
                             float alpha, cl_mem a, size_t a_off, size_t lda, size_t a_stride, cl_mem b, size_t b_off,
                             size_t ldb, size_t b_stride, float beta, cl_mem c, size_t c_off, size_t ldc,
                             size_t c_stride, size_t batch_count) {
  if (batch_count == 1)
    return scl__gemm(ctx, ta, tb, m, n, k, alpha, a, a_off, lda, b, b_off, ldb, beta, c, c_off, ldc);
  CLBlastStatusCode code =
      CLBlastSgemmStridedBatched(CLBlastLayoutRowMajor, tr(ta), tr(tb), m, n, k, alpha, a, a_off, lda, a_stride, b,
                                 b_off, ldb, b_stride, beta, c, c_off, ldc, c_stride, batch_count, &ctx->queue, NULL);
  return blas_status(ctx, code, "SgemmStridedBatched");
}

scl_status scl__im2col(scl_context ctx, size_t channels, size_t height, size_t width, size_t kh, size_t kw,
                       size_t pad_h, size_t pad_w, size_t stride_h, size_t stride_w, cl_mem im, size_t im_off,
                       cl_mem col, size_t col_off) {
  CLBlastStatusCode code = CLBlastSim2col(CLBlastKernelModeCrossCorrelation, channels, height, width, kh, kw, pad_h,
                                          pad_w, stride_h, stride_w, 1, 1, im, im_off, col, col_off, &ctx->queue, NULL);
  return blas_status(ctx, code, "Sim2col");
}

scl_status scl__col2im(scl_context ctx, size_t channels, size_t height, size_t width, size_t kh, size_t kw,
                       size_t pad_h, size_t pad_w, size_t stride_h, size_t stride_w, cl_mem col, size_t col_off,
                       cl_mem im, size_t im_off) {
  CLBlastStatusCode code = CLBlastScol2im(CLBlastKernelModeCrossCorrelation, channels, height, width, kh, kw, pad_h,
                                          pad_w, stride_h, stride_w, 1, 1, col, col_off, im, im_off, &ctx->queue, NULL);
  return blas_status(ctx, code, "Scol2im");
}

/* ---- tuning overrides ----------------------------------------------------------------------- */

#define SCL_MAX_TUNING_PARAMS 32

static int section_matches(const char *label, const char *section) {
  size_t n = strlen(section);
  for (const char *h = label; *h; h++) {
    size_t i = 0;
    while (i < n && h[i] && tolower((unsigned char)h[i]) == tolower((unsigned char)section[i])) i++;
    if (i == n) return 1;
  }
  return n == 0;
}

static char *trim(char *s) {
  while (isspace((unsigned char)*s)) s++;
  char *e = s + strlen(s);
  while (e > s && isspace((unsigned char)e[-1])) *--e = '\0';
  return s;
}

/* Parses one entry line ("Kernel PREC A=1 B=2 ...") and applies it. */
static scl_status apply_line(scl_context ctx, const char *path, int lineno, char *line) {
  char *save = NULL;
  char *kernel = strtok_r(line, " \t", &save);
  char *prec_s = strtok_r(NULL, " \t", &save);
  char *end = NULL;
  long prec = prec_s ? strtol(prec_s, &end, 10) : 0;
  if (!kernel || !prec_s || *end || (prec != 16 && prec != 32 && prec != 64 && prec != 3232 && prec != 6464))
    return scl__fail(ctx, SCL_ERR_FORMAT,
                     "%s:%d: expected \"KERNEL PRECISION NAME=VALUE...\" with precision 16, 32, 64, 3232 or 6464",
                     path, lineno);
  const char *names[SCL_MAX_TUNING_PARAMS];
  size_t values[SCL_MAX_TUNING_PARAMS];
  size_t n = 0;
  for (char *tok; (tok = strtok_r(NULL, " \t", &save));) {
    char *eq = strchr(tok, '=');
    if (!eq || eq == tok || !eq[1])
      return scl__fail(ctx, SCL_ERR_FORMAT, "%s:%d: \"%s\" is not NAME=VALUE", path, lineno, tok);
    *eq = '\0';
    errno = 0;
    unsigned long long v = strtoull(eq + 1, &end, 10);
    if (*end || errno || eq[1] == '-')
      return scl__fail(ctx, SCL_ERR_FORMAT, "%s:%d: the value of %s is not a non-negative integer", path, lineno,
                       tok);
    if (n == SCL_MAX_TUNING_PARAMS)
      return scl__fail(ctx, SCL_ERR_FORMAT, "%s:%d: more than %d parameters", path, lineno, SCL_MAX_TUNING_PARAMS);
    names[n] = tok;
    values[n++] = (size_t)v;
  }
  if (n == 0) return scl__fail(ctx, SCL_ERR_FORMAT, "%s:%d: no parameters for %s", path, lineno, kernel);
  CLBlastStatusCode code = CLBlastOverrideParameters(ctx->device, kernel, (CLBlastPrecision)prec, n, names, values);
  if (code != CLBlastSuccess)
    return scl__fail(ctx, (scl_status)code, "%s:%d: CLBlast refused the parameters for %s: %s", path, lineno, kernel,
                     scl_status_string((scl_status)code));
  return SCL_OK;
}

scl_status scl__blas_apply_tuning_file(scl_context ctx, const char *path, int *applied) {
  *applied = 0;
  FILE *f = fopen(path, "r");
  if (!f) return scl__fail(ctx, SCL_ERR_IO, "cannot open the tuning file %s: %s", path, strerror(errno));
  char buf[2048], section[256] = "";
  int lineno = 0;
  scl_status st = SCL_OK;
  while (st == SCL_OK && fgets(buf, sizeof buf, f)) {
    lineno++;
    char *hash = strchr(buf, '#');
    if (hash) *hash = '\0';
    char *line = trim(buf);
    if (!*line) continue;
    if (*line == '[') {
      char *close = strchr(line, ']');
      if (!close || close[1]) {
        st = scl__fail(ctx, SCL_ERR_FORMAT, "%s:%d: a section is written [device text]", path, lineno);
        break;
      }
      *close = '\0';
      snprintf(section, sizeof section, "%s", trim(line + 1));
      continue;
    }
    if (!section_matches(ctx->device_label, section)) continue;
    st = apply_line(ctx, path, lineno, line);
    if (st == SCL_OK) (*applied)++;
  }
  fclose(f);
  return st;
}

scl_status scl__blas_apply_tuning(scl_context ctx) {
  const char *path = getenv("SPHERECL_TUNING");
  if (!path || !*path) return SCL_OK;
  int applied = 0;
  return scl__blas_apply_tuning_file(ctx, path, &applied);
}
