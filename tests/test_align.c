/* Face alignment: the similarity fit against its closed form and a direct least-squares solve, no
   reflection, degenerate points; the warp of synthetic images with known content and landmarks; the
   reference points; landmark files (good and bad); PNG writing; a few real LFW images when present. */
#include "data/data_internal.h"
#include "testkit/testkit.h"
#include "testkit/tk_files.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const double REF96[10] = {30.2946, 51.6963, 65.5318, 51.5014, 48.0252,
                                 71.7366, 33.5493, 92.3655, 62.7299, 92.2041};

static void apply(const double m[6], double x, double y, double *u, double *v) {
  *u = m[0] * x + m[1] * y + m[2];
  *v = m[3] * x + m[4] * y + m[5];
}

/* ---- the fit ---------------------------------------------------------------------------------- */

/* The least-squares similarity by the normal equations of the 4 unknowns (a, b, tx, ty) of
   u = a x − b y + tx, v = b x + a y + ty, solved by Gaussian elimination: no centring, no complex
   numbers, nothing shared with the library's method. */
static void ls_reference(const float *src, const float *dst, int n, double p[4]) {
  double A[4][5] = {{0}};
  for (int i = 0; i < n; i++) {
    double x = src[2 * i], y = src[2 * i + 1];
    double rows[2][5] = {{x, -y, 1, 0, dst[2 * i]}, {y, x, 0, 1, dst[2 * i + 1]}};
    for (int r = 0; r < 2; r++)
      for (int j = 0; j < 4; j++)
        for (int k = 0; k < 5; k++) A[j][k] += rows[r][j] * rows[r][k];
  }
  for (int c = 0; c < 4; c++) {
    int piv = c;
    for (int r = c + 1; r < 4; r++)
      if (fabs(A[r][c]) > fabs(A[piv][c])) piv = r;
    for (int k = 0; k < 5; k++) {
      double t = A[c][k];
      A[c][k] = A[piv][k], A[piv][k] = t;
    }
    for (int r = 0; r < 4; r++) {
      if (r == c) continue;
      double f = A[r][c] / A[c][c];
      for (int k = 0; k < 5; k++) A[r][k] -= f * A[c][k];
    }
  }
  for (int j = 0; j < 4; j++) p[j] = A[j][4] / A[j][j];
}

static void exact_similarity(scl_context ctx) {
  (void)ctx;
  tk_rng r = tk_rng_make(11);
  for (int trial = 0; trial < 50; trial++) {
    int n = 2 + trial % 7;
    double s = tk_uniform(&r, 0.2, 3), th = tk_uniform(&r, -3, 3), tx = tk_uniform(&r, -50, 50),
           ty = tk_uniform(&r, -50, 50);
    double want[6] = {s * cos(th), -s * sin(th), tx, s * sin(th), s * cos(th), ty};
    float src[20], dst[20];
    for (int i = 0; i < n; i++) {
      src[2 * i] = (float)tk_uniform(&r, 0, 250), src[2 * i + 1] = (float)tk_uniform(&r, 0, 250);
      double u, v;
      apply(want, src[2 * i], src[2 * i + 1], &u, &v);
      dst[2 * i] = (float)u, dst[2 * i + 1] = (float)v;
    }
    double m[6];
    TK_OK(NULL, scl_align_similarity(src, dst, n, m));
    /* dst was rounded to float: allow its rounding, scaled by how far the points reach. */
    for (int k = 0; k < 6; k++)
      TK_CHECK_MSG(fabs(m[k] - want[k]) < (k == 2 || k == 5 ? 1e-3 : 1e-5), "trial %d m[%d] = %.9g, want %.9g", trial,
                   k, m[k], want[k]);
  }
}

static void least_squares(scl_context ctx) {
  (void)ctx;
  tk_rng r = tk_rng_make(12);
  for (int trial = 0; trial < 50; trial++) {
    int n = 3 + trial % 6;
    float src[16], dst[16];
    for (int i = 0; i < 2 * n; i++) src[i] = (float)tk_uniform(&r, 0, 250), dst[i] = (float)tk_uniform(&r, 0, 112);
    double m[6], p[4];
    TK_OK(NULL, scl_align_similarity(src, dst, n, m));
    ls_reference(src, dst, n, p);
    const double want[6] = {p[0], -p[1], p[2], p[1], p[0], p[3]};
    for (int k = 0; k < 6; k++)
      TK_CHECK_MSG(fabs(m[k] - want[k]) < 1e-7 * (1 + fabs(want[k])), "trial %d m[%d] = %.12g, reference %.12g", trial,
                   k, m[k], want[k]);
    /* The form itself: a rotation and scale, never a reflection. */
    TK_CHECK(m[0] == m[4] && m[1] == -m[3] && m[0] * m[4] - m[1] * m[3] >= 0);
  }
}

/* A mirrored face (x → −x) is fitted by the best rotation, not by the reflection that would fit it
   exactly: the residual is then clearly non-zero. */
static void no_reflection(scl_context ctx) {
  (void)ctx;
  float src[10], dst[10];
  for (int i = 0; i < 5; i++) src[2 * i] = (float)(100 - REF96[2 * i]), src[2 * i + 1] = (float)REF96[2 * i + 1];
  for (int i = 0; i < 10; i++) dst[i] = (float)REF96[i];
  double m[6];
  TK_OK(NULL, scl_align_similarity(src, dst, 5, m));
  TK_CHECK(m[0] * m[4] - m[1] * m[3] >= 0);
  double err = 0;
  for (int i = 0; i < 5; i++) {
    double u, v;
    apply(m, src[2 * i], src[2 * i + 1], &u, &v);
    err += (u - dst[2 * i]) * (u - dst[2 * i]) + (v - dst[2 * i + 1]) * (v - dst[2 * i + 1]);
  }
  TK_CHECK_MSG(err > 100, "a reflection was fitted: residual %g", err);
}

static void bad_fits(scl_context ctx) {
  (void)ctx;
  float same[10] = {5, 7, 5, 7, 5, 7, 5, 7, 5, 7}, dst[10];
  for (int i = 0; i < 10; i++) dst[i] = (float)REF96[i];
  double m[6] = {42, 42, 42, 42, 42, 42};
  TK_EXPECT_FAIL(scl_align_similarity(same, dst, 5, m), SCL_ERR_INVALID_ARGUMENT, "all the same point");
  TK_CHECK(m[0] == 42 && m[5] == 42);
  TK_EXPECT_FAIL(scl_align_similarity(dst, dst, 1, m), SCL_ERR_INVALID_ARGUMENT, "at least 2");
  TK_EXPECT_FAIL(scl_align_similarity(NULL, dst, 5, m), SCL_ERR_INVALID_ARGUMENT, "src");
  float nan_pts[4] = {1, NAN, 3, 4};
  TK_EXPECT_FAIL(scl_align_similarity(nan_pts, dst, 2, m), SCL_ERR_INVALID_ARGUMENT, "not finite");
}

static void reference_points(scl_context ctx) {
  (void)ctx;
  float p[10];
  TK_OK(NULL, scl_align_reference_points(96, 112, 0, p));
  for (int i = 0; i < 10; i++) TK_CHECK_MSG(fabsf(p[i] - (float)REF96[i]) < 1e-5f, "96x112 point %d: %g", i, p[i]);
  TK_OK(NULL, scl_align_reference_points(48, 56, 0, p));
  for (int i = 0; i < 10; i++) TK_CHECK_MSG(fabs(p[i] - REF96[i] / 2) < 1e-5, "48x56 point %d: %g", i, p[i]);
  TK_OK(NULL, scl_align_reference_points(96, 112, 2, p));
  for (int i = 0; i < 10; i++) TK_CHECK_MSG(fabs(p[i] - (REF96[i] + 2)) < 1e-5, "pad 2 point %d: %g", i, p[i]);
  TK_EXPECT_FAIL(scl_align_reference_points(0, 112, 0, p), SCL_ERR_INVALID_ARGUMENT, "0x112");
  TK_EXPECT_FAIL(scl_align_reference_points(96, 112, -1, p), SCL_ERR_INVALID_ARGUMENT, "pad -1");
}

/* ---- the warp --------------------------------------------------------------------------------- */

/* Bilinear interpolation reproduces an affine function exactly: on an image whose channel c holds
   f_c(x, y) = c0 + cx·x + cy·y, every output pixel whose four source neighbours are inside must be
   f_c(m⁻¹(x, y)) up to the final rounding; pixels mapped far outside are 0. */
static void warp_affine_ramp(scl_context ctx) {
  (void)ctx;
  enum { H = 40, W = 50, C = 3, OH = 30, OW = 20 };
  /* Integer slopes: every stored value is f exactly, within 0..255. */
  static const double c0[C] = {10, 200, 60}, cx[C] = {3, -2, 1}, cy[C] = {1, -1, 3};
  unsigned char src[H * W * C], out[OH * OW * C];
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++)
      for (int c = 0; c < C; c++) src[(y * W + x) * C + c] = (unsigned char)(c0[c] + cx[c] * x + cy[c] * y);
  const double s = 0.8, th = 0.3;
  const double m[6] = {s * cos(th), -s * sin(th), -12, s * sin(th), s * cos(th), -4};
  memset(out, 0xAB, sizeof out);
  TK_OK(NULL, scl_align_warp(src, C, H, W, m, OH, OW, out));
  const double det = m[0] * m[4] - m[1] * m[3];
  int inside = 0, outside = 0;
  for (int y = 0; y < OH; y++)
    for (int x = 0; x < OW; x++) {
      /* m⁻¹ written out independently: solve m·(sx, sy, 1) = (x, y). */
      double bx = x - m[2], by = y - m[5];
      double sx = (m[4] * bx - m[1] * by) / det, sy = (-m[3] * bx + m[0] * by) / det;
      for (int c = 0; c < C; c++) {
        int got = out[(y * OW + x) * C + c];
        if (sx >= 0 && sy >= 0 && sx <= W - 1 && sy <= H - 1) {
          double want = c0[c] + cx[c] * sx + cy[c] * sy; /* only the final rounding differs */
          TK_CHECK_MSG(fabs(got - want) <= 0.5 + 1e-6, "(%d,%d,%d): %d, want %.3f", x, y, c, got, want);
          inside++;
        } else if (sx < -1 || sy < -1 || sx > W || sy > H) {
          TK_CHECK_MSG(got == 0, "(%d,%d,%d) maps outside to (%.2f, %.2f) but is %d", x, y, c, sx, sy, got);
          outside++;
        }
      }
    }
  TK_CHECK_MSG(inside > 300 && outside > 30, "the test covers %d inside and %d outside values", inside, outside);
}

/* Landmarks drawn as bright 3x3 dots on a dark image, moved by a known similarity: after aligning
   to the reference points, each dot's intensity-weighted centre is at its reference point. */
static void warp_moves_landmarks_to_reference(scl_context ctx) {
  (void)ctx;
  enum { H = 250, W = 250, OW = 96, OH = 112 };
  unsigned char *src = calloc(H * W, 1), *out = malloc(OH * OW);
  float ref[10], pts[10];
  TK_OK(NULL, scl_align_reference_points(OW, OH, 0, ref));
  const double s = 1.7, th = -0.25;
  const double fwd[6] = {s * cos(th), -s * sin(th), 70, s * sin(th), s * cos(th), 40}; /* crop → photo */
  for (int i = 0; i < 5; i++) {
    double u, v;
    apply(fwd, ref[2 * i], ref[2 * i + 1], &u, &v);
    pts[2 * i] = (float)u, pts[2 * i + 1] = (float)v;
    int cxp = (int)lround(u), cyp = (int)lround(v);
    for (int dy = -1; dy <= 1; dy++)
      for (int dx = -1; dx <= 1; dx++) src[(cyp + dy) * W + cxp + dx] = 255;
    pts[2 * i] = (float)cxp, pts[2 * i + 1] = (float)cyp; /* the dot's true centre */
  }
  double m[6];
  TK_OK(NULL, scl_align_similarity(pts, ref, 5, m));
  TK_OK(NULL, scl_align_warp(src, 1, H, W, m, OH, OW, out));
  for (int i = 0; i < 5; i++) {
    double sw = 0, sx = 0, sy = 0;
    for (int y = 0; y < OH; y++)
      for (int x = 0; x < OW; x++) {
        if (fabs(x - ref[2 * i]) > 4 || fabs(y - ref[2 * i + 1]) > 4) continue;
        double v = out[y * OW + x];
        sw += v, sx += v * x, sy += v * y;
      }
    TK_CHECK_MSG(sw > 0 && fabs(sx / sw - ref[2 * i]) < 0.6 && fabs(sy / sw - ref[2 * i + 1]) < 0.6,
                 "landmark %d lands at (%.2f, %.2f), reference (%.2f, %.2f)", i, sw ? sx / sw : -1,
                 sw ? sy / sw : -1, ref[2 * i], ref[2 * i + 1]);
  }
  free(src), free(out);
}

static void warp_bad_arguments(scl_context ctx) {
  (void)ctx;
  unsigned char px[4] = {0}, out[4] = {9, 9, 9, 9};
  const double m[6] = {1, 0, 0, 0, 1, 0}, singular[6] = {0, 0, 0, 0, 0, 0};
  TK_EXPECT_FAIL(scl_align_warp(px, 1, 2, 2, singular, 2, 2, out), SCL_ERR_INVALID_ARGUMENT, "singular");
  TK_EXPECT_FAIL(scl_align_warp(px, 5, 2, 2, m, 2, 2, out), SCL_ERR_INVALID_ARGUMENT, "channels");
  TK_EXPECT_FAIL(scl_align_warp(px, 1, 2, 2, m, 0, 2, out), SCL_ERR_INVALID_ARGUMENT, "sizes");
  TK_EXPECT_FAIL(scl_align_warp(NULL, 1, 2, 2, m, 2, 2, out), SCL_ERR_INVALID_ARGUMENT, "src");
  TK_CHECK(out[0] == 9 && out[3] == 9);
}

/* ---- landmark files --------------------------------------------------------------------------- */

static void landmark_files(scl_context ctx) {
  (void)ctx;
  char *dir = tk_temp_dir("landmarks"), path[512];
  tk_join(path, sizeof path, dir, "lm.txt");
  /* Tabs and spaces, a blank line, CRLF, decimals and negatives, no final newline. */
  const char *good = "A/A_0001.jpg\t1\t2\t3\t4\t5\t6\t7\t8\t9\t10\n\nB/B_0002.jpg 1.5 -2 3e1 4 5 6 7 8 9 10.25\r\n"
                     "C/C_0001.jpg 0 0 1 1 2 2 3 3 4 4";
  tk_write_file(path, good, strlen(good));
  scl_landmarks *e = NULL;
  size_t n = 0;
  TK_OK(NULL, scl_landmarks_read(path, &e, &n));
  TK_CHECK(n == 3 && e[0].npoints == 5 && e[2].npoints == 5);
  TK_CHECK(!strcmp(e[0].path, "A/A_0001.jpg") && !strcmp(e[1].path, "B/B_0002.jpg") && !strcmp(e[2].path, "C/C_0001.jpg"));
  TK_CHECK(e[0].xy[0] == 1 && e[0].xy[9] == 10 && e[1].xy[0] == 1.5f && e[1].xy[1] == -2 && e[1].xy[2] == 30 &&
           e[1].xy[9] == 10.25f && e[2].xy[9] == 4);
  free(e);

  static const struct {
    const char *text, *needle;
  } bad[] = {
      {"A.jpg 1 2 3 4 5 6 7 8 9\n", "lm.txt:1: A.jpg has 9 numbers"},
      {"A.jpg 1 2 3 4\nB.jpg 1 2 x 4\n", "lm.txt:2: \"x\" is not a number"},
      {"A.jpg 1 2 3 4\nB.jpg 1 2 3 4 5 6\n", "lm.txt:2: 3 points where the lines before have 2"},
      {"A.jpg 1 2\n", "lm.txt:1: one point"},
      {"A.jpg\n", "lm.txt:1: A.jpg has 0 numbers"},
      {"A.jpg 1 2 3 4\n\n\nB.jpg 1 2 3 nan\n", "lm.txt:4:"},
      {"A.jpg 1 2 3 4e400\n", "lm.txt:1:"},
      {"\n  \n", "no landmarks"},
      {"A.jpg 1 2 3 4\nB.jpg 1 2\0 3 4\n", "lm.txt:2: a NUL byte"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    size_t len = strlen(bad[i].text);
    if (strstr(bad[i].needle, "NUL")) len = 29; /* the text holds a NUL: write all of it */
    tk_write_file(path, bad[i].text, len);
    e = (scl_landmarks *)1;
    TK_EXPECT_FAIL(scl_landmarks_read(path, &e, &n), SCL_ERR_FORMAT, bad[i].needle);
    TK_CHECK(e == (scl_landmarks *)1);
  }
  tk_join(path, sizeof path, dir, "missing.txt");
  TK_EXPECT_FAIL(scl_landmarks_read(path, &e, &n), SCL_ERR_IO, "missing.txt");
  tk_temp_dir_remove(dir);
}

/* ---- PNG writing ------------------------------------------------------------------------------ */

static void png_roundtrip(scl_context ctx) {
  (void)ctx;
  char *dir = tk_temp_dir("png"), path[512];
  tk_join(path, sizeof path, dir, "x.png");
  for (int c = 1; c <= 3; c += 2) {
    unsigned char px[7 * 5 * 3];
    for (int i = 0; i < 7 * 5 * c; i++) px[i] = (unsigned char)(i * 37 + c);
    TK_OK(NULL, scl__image_write_png(path, px, c, 5, 7));
    scl_image img;
    TK_OK(NULL, scl__image_decode(path, &img));
    TK_CHECK(img.channels == c && img.height == 5 && img.width == 7 && !memcmp(img.pixels, px, (size_t)35 * c));
    scl__image_free(&img);
  }
  /* A folder that does not exist: a clear error, nothing left behind. */
  tk_join(path, sizeof path, dir, "no/such/x.png");
  unsigned char px[1] = {0};
  TK_EXPECT_FAIL(scl__image_write_png(path, px, 1, 1, 1), SCL_ERR_IO, "no/such/x.png");
  tk_temp_dir_remove(dir);
}

/* ---- real LFW images -------------------------------------------------------------------------- */

/* The first few images of LFW's landmark file: their five points fit the reference with a small
   residual (a real face is nearly a similarity of the mean face), and the crops decode back. */
static void lfw_real(scl_context ctx) {
  (void)ctx;
  const char *shared = tk_shared_data();
  char lm[1024], img_path[2048];
  if (shared) snprintf(lm, sizeof lm, "%s/lfw/lfw_landmark.txt", shared);
  if (!shared || access(lm, R_OK) != 0) {
    printf("  (skipped: no LFW under ../shared/data)\n");
    return;
  }
  scl_landmarks *e = NULL;
  size_t n = 0;
  TK_OK(NULL, scl_landmarks_read(lm, &e, &n));
  TK_CHECK_MSG(n == 13233 && e[0].npoints == 5, "%zu entries of %d points", n, e[0].npoints);
  float ref[10];
  scl_align_reference_points(96, 112, 0, ref);
  for (size_t i = 0; i < 5 && i < n; i++) {
    double m[6];
    TK_OK(NULL, scl_align_similarity(e[i].xy, ref, 5, m));
    double rms = 0;
    for (int k = 0; k < 5; k++) {
      double u, v;
      apply(m, e[i].xy[2 * k], e[i].xy[2 * k + 1], &u, &v);
      rms += (u - ref[2 * k]) * (u - ref[2 * k]) + (v - ref[2 * k + 1]) * (v - ref[2 * k + 1]);
    }
    rms = sqrt(rms / 5);
    TK_CHECK_MSG(rms < 6, "%s: the landmarks fit the reference with rms %.2f px", e[i].path, rms);
    snprintf(img_path, sizeof img_path, "%s/lfw/%s", shared, e[i].path);
    scl_image img;
    TK_OK(NULL, scl__image_decode(img_path, &img));
    TK_CHECK(img.channels == 3 && img.width == 250 && img.height == 250);
    unsigned char *crop = malloc(96 * 112 * 3);
    TK_OK(NULL, scl_align_warp(img.pixels, 3, 250, 250, m, 112, 96, crop));
    /* An aligned face fills the crop: no black border from outside the photo. */
    long zeros = 0;
    for (int p = 0; p < 96 * 112 * 3; p++) zeros += crop[p] == 0;
    TK_CHECK_MSG(zeros < 96 * 112 * 3 / 20, "%s: %ld zero bytes in the crop", e[i].path, zeros);
    free(crop);
    scl__image_free(&img);
  }
  free(e);
}

int main(int argc, char **argv) {
  const tk_case cases[] = {{"exact_similarity", exact_similarity},
                           {"least_squares", least_squares},
                           {"no_reflection", no_reflection},
                           {"bad_fits", bad_fits},
                           {"reference_points", reference_points},
                           {"warp_affine_ramp", warp_affine_ramp},
                           {"warp_moves_landmarks_to_reference", warp_moves_landmarks_to_reference},
                           {"warp_bad_arguments", warp_bad_arguments},
                           {"landmark_files", landmark_files},
                           {"png_roundtrip", png_roundtrip},
                           {"lfw_real", lfw_real}};
  return tk_main(argc, argv, cases, sizeof cases / sizeof *cases);
}
