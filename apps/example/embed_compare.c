/* embed_compare: compares two face images with a spherecl model, as an application would.

     cc embed_compare.c $(pkg-config --cflags --libs spherecl) -o embed_compare
     ./embed_compare MODEL IMAGE_A IMAGE_B [DEVICE]

   Every call returns a status (SCL_OK = 0); on failure scl_context_error gives the details: the
   context's own message for calls on a context, and scl_context_error(NULL) for calls without one
   (creating the context, loading images). */
#include <spherecl.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* Prints a failed call's status and message; returns 1 (the exit code). */
static int report(scl_context ctx, scl_status st, const char *what) {
  fprintf(stderr, "embed_compare: %s failed: %s: %s\n", what, scl_status_string(st), scl_context_error(ctx));
  return 1;
}

int main(int argc, char **argv) {
  if (argc < 4 || argc > 5) {
    fprintf(stderr, "usage: %s MODEL IMAGE_A IMAGE_B [DEVICE]\n", argv[0]);
    return 2;
  }
  scl_context ctx = NULL;
  scl_net net = NULL;
  float *images = NULL, *features = NULL;
  int rc = 1;

  /* NULL picks SPHERECL_DEVICE, else the first GPU, else any device. */
  scl_status st = scl_context_create(argc == 5 ? argv[4] : NULL, &ctx);
  if (st != SCL_OK) return report(NULL, st, "scl_context_create");
  if ((st = scl_net_load(ctx, argv[1], &net)) != SCL_OK) {
    rc = report(ctx, st, "scl_net_load");
    goto done;
  }

  /* The model says what size its images are and how long its features are. */
  const scl_net_config *cfg = scl_net_get_config(net);
  const size_t image_floats = (size_t)cfg->in_channels * cfg->in_height * cfg->in_width;
  const size_t dim = 2 * (size_t)cfg->embed_dim; /* the embedding of the image, then of its mirror */
  images = malloc(2 * image_floats * sizeof *images);
  features = malloc(2 * dim * sizeof *features);
  if (!images || !features) {
    fprintf(stderr, "embed_compare: out of memory\n");
    goto done;
  }
  for (int i = 0; i < 2; i++) {
    st = scl_image_load(argv[2 + i], cfg->in_channels, cfg->in_height, cfg->in_width, images + i * image_floats);
    if (st != SCL_OK) {
      rc = report(NULL, st, "scl_image_load");
      goto done;
    }
  }
  if ((st = scl_verify_features(net, images, 2, 1, features)) != SCL_OK) {
    rc = report(ctx, st, "scl_verify_features");
    goto done;
  }

  /* The features have unit length, so their dot product is the cosine similarity. */
  double similarity = 0.0;
  for (size_t k = 0; k < dim; k++) similarity += (double)features[k] * features[dim + k];
  printf("similarity: %.4f\n", similarity);
  float threshold = scl_net_threshold(net); /* NaN unless `spherecl verify` stored one */
  if (!isnan(threshold))
    printf("%s (threshold %.4f)\n", similarity > threshold ? "same person" : "different people", (double)threshold);
  rc = 0;

done:
  free(images);
  free(features);
  scl_net_release(net);
  scl_context_release(ctx);
  return rc;
}
