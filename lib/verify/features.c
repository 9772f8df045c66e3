/* The test-time face feature of the SphereFace reference (its test/code/evaluation.m): the
   embedding of the image concatenated with the embedding of its horizontal mirror, L2-normalised,
   so that the cosine similarity of two faces is the dot product of their features. */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define OP "scl_verify_features"

/* dst [n, c, h, w] = src flipped along w. */
static void mirror_images(const float *src, size_t n, size_t c, size_t h, size_t w, float *dst) {
  for (size_t row = 0; row < n * c * h; row++) {
    const float *s = src + row * w;
    float *d = dst + row * w;
    for (size_t x = 0; x < w; x++) d[x] = s[w - 1 - x];
  }
}

/* Scales x[dim] to unit length in place (in double); an all-zero x stays zero. */
static void l2_normalise(float *x, size_t dim) {
  double ss = 0.0;
  for (size_t k = 0; k < dim; k++) ss += (double)x[k] * x[k];
  if (ss == 0.0) return;
  double inv = 1.0 / sqrt(ss);
  for (size_t k = 0; k < dim; k++) x[k] = (float)(x[k] * inv);
}

/* The embeddings of images (emb [n, d]) and, when mirrored is not NULL, of their mirrors. Both
   passes use batch size n, so the net keeps its buffers between them. */
static scl_status embed_both(scl_net net, const float *images, size_t n, float *emb, float *mirrored) {
  scl_status st = scl_net_embed(net, images, n, emb);
  if (st != SCL_OK || !mirrored) return st;
  const scl_net_config *cfg = scl_net_get_config(net);
  size_t c = (size_t)cfg->in_channels, h = (size_t)cfg->in_height, w = (size_t)cfg->in_width;
  float *flipped = malloc(n * c * h * w * sizeof *flipped);
  if (!flipped) return scl__fail(scl_net_context(net), SCL_ERR_OUT_OF_MEMORY, OP ": out of host memory");
  mirror_images(images, n, c, h, w, flipped);
  st = scl_net_embed(net, flipped, n, mirrored);
  free(flipped);
  return st;
}

scl_status scl_verify_features(scl_net net, const float *images, size_t n, int with_mirror, float *out) {
  if (!net) return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, OP ": net is NULL");
  scl_context ctx = scl_net_context(net);
  if (!images || !out)
    return scl__fail(ctx, SCL_ERR_INVALID_ARGUMENT, OP ": %s is NULL", !images ? "images" : "out");
  if (n == 0 || n > 65536) return scl__fail(ctx, SCL_ERR_SHAPE, OP ": batch size %zu is outside 1..65536", n);
  /* Both embeddings land side by side in one buffer ([n, d] then [n, d]) and are interleaved into
     out only once everything succeeded, so a failure leaves out untouched. */
  const size_t d = (size_t)scl_net_get_config(net)->embed_dim, parts = with_mirror ? 2 : 1;
  float *emb = malloc(parts * n * d * sizeof *emb);
  if (!emb) return scl__fail(ctx, SCL_ERR_OUT_OF_MEMORY, OP ": out of host memory");
  scl_status st = embed_both(net, images, n, emb, with_mirror ? emb + n * d : NULL);
  if (st == SCL_OK)
    for (size_t i = 0; i < n; i++) {
      float *row = out + i * parts * d;
      for (size_t p = 0; p < parts; p++) memcpy(row + p * d, emb + (p * n + i) * d, d * sizeof *row);
      l2_normalise(row, parts * d);
    }
  free(emb);
  return st;
}
