/* Test-time face features (scl_verify_features): the embedding of the image followed by the
   embedding of its mirror, L2-normalised. Checked against a double-precision reference built from
   scl_net_embed and a mirror done here; the mirror symmetry (a mirrored image's feature is the
   feature with its halves swapped); unit length; zero embeddings staying zero; the same features
   after save → load; bad arguments leaving the output untouched. */
#include "net/net_internal.h"
#include "testkit/testkit.h"
#include "testkit/tk_files.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { C = 3, H = 13, W = 11, N = 3, D = 7 }; /* odd sizes: a 13x11 image, a 7-d embedding */
#define IMG ((size_t)C * H * W)

static scl_net tiny_net(scl_context ctx) {
  scl_net_config cfg;
  scl_net_config_default(&cfg);
  cfg.depth = 4;
  cfg.in_channels = C, cfg.in_height = H, cfg.in_width = W;
  cfg.widths[0] = 4, cfg.widths[1] = 6, cfg.widths[2] = 8, cfg.widths[3] = 8;
  cfg.embed_dim = D;
  cfg.num_classes = 5;
  cfg.seed = 11;
  scl_net net = NULL;
  TK_STATUS(ctx, scl_net_create(ctx, &cfg, &net), SCL_OK);
  return net;
}

/* n random images in [-1, 1], as normalised pixels are. */
static float *random_images(size_t n, uint64_t seed) {
  float *x = malloc(n * IMG * sizeof *x);
  tk_rng r = tk_rng_make(seed);
  tk_fill_uniform(&r, x, n * IMG, -1.0, 1.0);
  return x;
}

/* The mirror image of each of n images: x flipped along the width. */
static float *mirrored(const float *x, size_t n) {
  float *m = malloc(n * IMG * sizeof *m);
  for (size_t row = 0; row < n * C * H; row++)
    for (size_t c = 0; c < W; c++) m[row * W + c] = x[row * W + (W - 1 - c)];
  return m;
}

static float *poisoned(size_t count) {
  float *p = malloc(count * sizeof *p);
  for (size_t i = 0; i < count; i++) p[i] = NAN;
  return p;
}

/* ref [n, parts·D]: each image's embedding (and, with parts = 2, its mirror's) scaled in double to
   unit length. */
static double *reference(scl_context ctx, scl_net net, const float *x, size_t n, int parts) {
  float *e = malloc(n * D * sizeof *e), *em = malloc(n * D * sizeof *em), *xm = mirrored(x, n);
  double *ref = malloc(n * parts * D * sizeof *ref);
  TK_STATUS(ctx, scl_net_embed(net, x, n, e), SCL_OK);
  TK_STATUS(ctx, scl_net_embed(net, xm, n, em), SCL_OK);
  for (size_t i = 0; i < n; i++) {
    double *row = ref + i * parts * D, ss = 0;
    for (size_t k = 0; k < D; k++) row[k] = e[i * D + k];
    if (parts == 2)
      for (size_t k = 0; k < D; k++) row[D + k] = em[i * D + k];
    for (size_t k = 0; k < (size_t)parts * D; k++) ss += row[k] * row[k];
    for (size_t k = 0; ss > 0 && k < (size_t)parts * D; k++) row[k] /= sqrt(ss);
  }
  free(e), free(em), free(xm);
  return ref;
}

static void matches_reference(scl_context ctx) {
  scl_net net = tiny_net(ctx);
  if (!net) return;
  float *x = random_images(N, 1), *f2 = poisoned(N * 2 * D), *f1 = poisoned(N * D);
  TK_STATUS(ctx, scl_verify_features(net, x, N, 1, f2), SCL_OK);
  TK_STATUS(ctx, scl_verify_features(net, x, N, 0, f1), SCL_OK);
  double *r2 = reference(ctx, net, x, N, 2), *r1 = reference(ctx, net, x, N, 1);
  tk_expect_close("with the mirror", f2, r2, N * 2 * D, TK_TOL_ELEMENTWISE);
  tk_expect_close("without the mirror (the normalised embedding)", f1, r1, N * D, TK_TOL_ELEMENTWISE);
  /* Every row has unit length. */
  for (size_t i = 0; i < N; i++) {
    double s2 = 0, s1 = 0;
    for (size_t k = 0; k < 2 * D; k++) s2 += (double)f2[i * 2 * D + k] * f2[i * 2 * D + k];
    for (size_t k = 0; k < D; k++) s1 += (double)f1[i * D + k] * f1[i * D + k];
    TK_CHECK_MSG(fabs(s2 - 1) < 1e-6 && fabs(s1 - 1) < 1e-6, "row %zu: squared norms %.9g and %.9g", i, s2, s1);
  }
  /* A batch of one gives the same rows as the batch of three. */
  float *one = poisoned(2 * D);
  TK_STATUS(ctx, scl_verify_features(net, x + IMG, 1, 1, one), SCL_OK);
  tk_expect_close("image 1 alone", one, r2 + 2 * D, 2 * D, TK_TOL_ELEMENTWISE);
  free(x), free(f2), free(f1), free(r2), free(r1), free(one);
  scl_net_release(net);
}

/* The mirror's feature is the feature with its two halves swapped. */
static void mirror_swaps_halves(scl_context ctx) {
  scl_net net = tiny_net(ctx);
  if (!net) return;
  float *x = random_images(N, 2), *xm = mirrored(x, N);
  float *f = poisoned(N * 2 * D), *fm = poisoned(N * 2 * D);
  TK_STATUS(ctx, scl_verify_features(net, x, N, 1, f), SCL_OK);
  TK_STATUS(ctx, scl_verify_features(net, xm, N, 1, fm), SCL_OK);
  double *swapped = malloc(N * 2 * D * sizeof *swapped), diff = 0;
  for (size_t i = 0; i < N; i++)
    for (size_t k = 0; k < D; k++) {
      swapped[i * 2 * D + k] = f[i * 2 * D + D + k];
      swapped[i * 2 * D + D + k] = f[i * 2 * D + k];
      diff += fabs((double)f[i * 2 * D + k] - f[i * 2 * D + D + k]);
    }
  TK_CHECK_MSG(diff > 1e-3, "the image and its mirror embed alike (%g): the swap would not be seen", diff);
  tk_expect_close("mirror's feature vs halves swapped", fm, swapped, N * 2 * D, TK_TOL_ELEMENTWISE);
  free(x), free(xm), free(f), free(fm), free(swapped);
  scl_net_release(net);
}

/* With fc5 all zero every embedding is zero: the features stay zero, not NaN. */
static void zero_embedding_stays_zero(scl_context ctx) {
  scl_net net = tiny_net(ctx);
  if (!net) return;
  int w = scl__net_find_param(net, "fc5.w"), b = scl__net_find_param(net, "fc5.b");
  TK_CHECK(w >= 0 && b >= 0);
  if (w >= 0 && b >= 0) {
    TK_STATUS(ctx, scl_tensor_fill(net->params[w].value, 0.0f), SCL_OK);
    TK_STATUS(ctx, scl_tensor_fill(net->params[b].value, 0.0f), SCL_OK);
    float *x = random_images(N, 3), *f = poisoned(N * 2 * D);
    TK_STATUS(ctx, scl_verify_features(net, x, N, 1, f), SCL_OK);
    for (size_t i = 0; i < N * 2 * D; i++) TK_CHECK_MSG(f[i] == 0.0f, "f[%zu] = %g", i, (double)f[i]);
    free(x), free(f);
  }
  scl_net_release(net);
}

/* A saved and reloaded model gives the same features. */
static void same_after_save_load(scl_context ctx) {
  scl_net net = tiny_net(ctx), back = NULL;
  if (!net) return;
  char *dir = tk_temp_dir("features"), path[4096];
  float *x = random_images(N, 4), *f = poisoned(N * 2 * D), *g = poisoned(N * 2 * D);
  if (!dir) goto done;
  tk_join(path, sizeof path, dir, "model.scl");
  TK_STATUS(ctx, scl_verify_features(net, x, N, 1, f), SCL_OK);
  TK_STATUS(ctx, scl_net_save(net, path, 0), SCL_OK);
  if (!TK_STATUS(ctx, scl_net_load(ctx, path, &back), SCL_OK)) goto done;
  TK_STATUS(ctx, scl_verify_features(back, x, N, 1, g), SCL_OK);
  TK_CHECK_MSG(memcmp(f, g, N * 2 * D * sizeof *f) == 0, "features differ after save -> load");
done:
  free(x), free(f), free(g);
  scl_net_release(back);
  scl_net_release(net);
  tk_temp_dir_remove(dir);
}

/* Refused calls: the status, a message naming the problem, and out left as it was. */
static void bad_arguments(scl_context ctx) {
  scl_net net = tiny_net(ctx);
  if (!net) return;
  float *x = random_images(1, 5), out[2 * D];
  for (size_t k = 0; k < 2 * D; k++) out[k] = TK_SENTINEL;
#define REFUSED(expr, want, c, needle)                                                             \
  do {                                                                                             \
    TK_STATUS(c, (expr), (want));                                                                  \
    TK_CHECK_MSG(strstr(scl_context_error(c), needle), "message \"%s\" lacks \"%s\"", scl_context_error(c), needle); \
  } while (0)
  REFUSED(scl_verify_features(NULL, x, 1, 1, out), SCL_ERR_INVALID_ARGUMENT, NULL, "net is NULL");
  REFUSED(scl_verify_features(net, NULL, 1, 1, out), SCL_ERR_INVALID_ARGUMENT, ctx, "images is NULL");
  REFUSED(scl_verify_features(net, x, 1, 1, NULL), SCL_ERR_INVALID_ARGUMENT, ctx, "out is NULL");
  REFUSED(scl_verify_features(net, x, 0, 1, out), SCL_ERR_SHAPE, ctx, "batch size 0");
  REFUSED(scl_verify_features(net, x, 70000, 0, out), SCL_ERR_SHAPE, ctx, "batch size 70000");
#undef REFUSED
  for (size_t k = 0; k < 2 * D; k++) TK_CHECK_MSG(out[k] == TK_SENTINEL, "out[%zu] was written", k);
  free(x);
  scl_net_release(net);
}

int main(int argc, char **argv) {
  const tk_case cases[] = {{"matches_reference", matches_reference},
                           {"mirror_swaps_halves", mirror_swaps_halves},
                           {"zero_embedding_stays_zero", zero_embedding_stays_zero},
                           {"same_after_save_load", same_after_save_load},
                           {"bad_arguments", bad_arguments}};
  return tk_main(argc, argv, cases, sizeof cases / sizeof *cases);
}
