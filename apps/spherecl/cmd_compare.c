/* spherecl compare: the cosine similarity of two face images, and a same/different verdict. */
#include "cli_common.h"
#include "cli_faces.h"
#include "commands.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static void usage(FILE *f) {
  fprintf(f,
          "usage: spherecl compare --model FILE [--threshold T] [--no-mirror] [--device SELECTOR] IMAGE_A IMAGE_B\n"
          "Prints \"similarity: S\", the cosine similarity of the two faces' features (each the embedding of\n"
          "the image followed by its mirror's), then \"same person (threshold T)\" when S > T, else\n"
          "\"different people (threshold T)\".\n"
          "  --threshold T      the threshold, -1..1; default: the one `spherecl verify` stored in the model.\n"
          "                     With neither, only the similarity is printed, with a note that no\n"
          "                     threshold is known (exit status 0).\n"
          "  --no-mirror        features without the mirrored image (as `spherecl verify --no-mirror`)\n"
          "  --device SELECTOR  OpenCL device (see `spherecl devices`)\n");
}

int cmd_compare(int argc, char **argv) {
  const char *model = NULL, *threshold_s = NULL, *device = NULL;
  int no_mirror = 0, npos = 0;
  const cli_option opts[] = {{"--model", &model, NULL},
                             {"--threshold", &threshold_s, NULL},
                             {"--device", &device, NULL},
                             {"--no-mirror", NULL, &no_mirror},
                             {NULL, NULL, NULL}};
  int rc = cli_parse_options("compare", argc, argv, opts, usage, &npos);
  if (rc != CLI_PARSED) return rc;
  if (!model) return cli_usage_error("compare", usage, "--model is required");
  if (npos != 2) return cli_usage_error("compare", usage, "give two images, not %d", npos);
  float threshold = NAN;
  if (threshold_s && (!cli_parse_float(threshold_s, &threshold) || threshold < -1 || threshold > 1))
    return cli_usage_error("compare", usage, "--threshold must be a number in -1..1, got \"%s\"", threshold_s);

  scl_context ctx;
  scl_net net;
  if (cli_open_model("compare", device, model, &ctx, &net)) return 1;
  const size_t dim = cli_feature_dim(net, !no_mirror);
  float *feat = malloc(2 * dim * sizeof *feat);
  rc = 1;
  if (!feat) {
    fprintf(stderr, "spherecl compare: out of host memory\n");
  } else if (cli_features("compare", net, (const char *const *)argv, 2, 2, !no_mirror, 1, feat) == SCL_OK) {
    double sim = 0.0; /* the features are unit length: their dot product is the cosine */
    for (size_t k = 0; k < dim; k++) sim += (double)feat[k] * feat[dim + k];
    if (!threshold_s) threshold = scl_net_threshold(net);
    printf("similarity: %.4f\n", sim);
    if (isnan(threshold))
      printf("no threshold known: give --threshold T, or run `spherecl verify` on the model to store one\n");
    else
      printf("%s (threshold %.4f)\n", sim > threshold ? "same person" : "different people", (double)threshold);
    rc = 0;
  }
  free(feat);
  cli_close_model(ctx, net);
  return rc;
}
