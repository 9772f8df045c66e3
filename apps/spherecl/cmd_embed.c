/* spherecl embed: the face features of image files, as CSV or as raw float32 rows. */
#include "cli_common.h"
#include "cli_faces.h"
#include "commands.h"
#include "verify/verify_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_BATCH 32

static void usage(FILE *f) {
  fprintf(f,
          "usage: spherecl embed --model FILE [--no-mirror] [--out FILE] [--format csv|f32] [--batch B]\n"
          "                      [--device SELECTOR] IMAGE...\n"
          "Writes the face feature of each image (PGM/PNG/JPEG at the model's input size): the embedding of\n"
          "the image followed by the embedding of its horizontal mirror, 2*D floats for a D-dimensional\n"
          "model, L2-normalised, so the dot product of two features is their cosine similarity.\n"
          "  --no-mirror        the embedding alone (D floats), L2-normalised\n"
          "  --format csv       (default) one line per image, in the order given: path,f1,f2,...\n"
          "  --format f32       raw little-endian float32 rows, one per image (needs --out)\n"
          "  --out FILE         write FILE, atomically (all of it or nothing), instead of stdout\n"
          "  --batch B          images per forward pass (default %d)\n"
          "  --device SELECTOR  OpenCL device (see `spherecl devices`)\n"
          "  --quiet            no progress line (shown on a terminal for long runs)\n",
          DEFAULT_BATCH);
}

/* A CSV field: quoted (with quotes doubled) when it holds a comma, a quote or a line break. */
static void put_csv_field(FILE *f, const char *s) {
  if (!strpbrk(s, ",\"\r\n")) {
    fputs(s, f);
    return;
  }
  fputc('"', f);
  for (; *s; s++) {
    if (*s == '"') fputc('"', f);
    fputc(*s, f);
  }
  fputc('"', f);
}

/* The float's IEEE bytes, least significant first, whatever the host's byte order. */
static void put_f32le(FILE *f, float v) {
  uint32_t u;
  memcpy(&u, &v, sizeof u);
  unsigned char b[4] = {(unsigned char)u, (unsigned char)(u >> 8), (unsigned char)(u >> 16), (unsigned char)(u >> 24)};
  fwrite(b, 1, sizeof b, f);
}

static void write_features(FILE *f, int csv, const char *const *paths, size_t n, size_t dim, const float *feat) {
  for (size_t i = 0; i < n; i++) {
    const float *row = feat + i * dim;
    if (!csv) {
      for (size_t k = 0; k < dim; k++) put_f32le(f, row[k]);
      continue;
    }
    put_csv_field(f, paths[i]);
    for (size_t k = 0; k < dim; k++) fprintf(f, ",%.9g", (double)row[k]); /* %.9g: the exact float back */
    fputc('\n', f);
  }
}

/* To --out atomically, else to stdout. Returns 0 or 1 (the error printed). */
static int emit(const char *out, int csv, const char *const *paths, size_t n, size_t dim, const float *feat) {
  if (!out) {
    write_features(stdout, csv, paths, n, dim, feat);
    if (fflush(stdout) == 0 && !ferror(stdout)) return 0;
    fprintf(stderr, "spherecl embed: writing to stdout failed\n");
    return 1;
  }
  scl__atomic_file af;
  scl_status st = scl__atomic_open(&af, out, "writing the features");
  if (st == SCL_OK) {
    write_features(af.f, csv, paths, n, dim, feat);
    st = scl__atomic_commit(&af, "writing the features");
  }
  if (st == SCL_OK) return 0;
  fprintf(stderr, "spherecl embed: %s\n", scl_context_error(NULL));
  return 1;
}

int cmd_embed(int argc, char **argv) {
  const char *model = NULL, *out = NULL, *format = "csv", *batch_s = NULL, *device = NULL;
  int no_mirror = 0, nimages = 0, quiet = 0;
  const cli_option opts[] = {{"--model", &model, NULL},   {"--out", &out, NULL},       {"--format", &format, NULL},
                             {"--batch", &batch_s, NULL}, {"--device", &device, NULL}, {"--no-mirror", NULL, &no_mirror},
                             {"--quiet", NULL, &quiet},   {NULL, NULL, NULL}};
  int rc = cli_parse_options("embed", argc, argv, opts, usage, &nimages);
  if (rc != CLI_PARSED) return rc;
  long batch = DEFAULT_BATCH;
  if (!model) return cli_usage_error("embed", usage, "--model is required");
  if (nimages == 0) return cli_usage_error("embed", usage, "no images given");
  if (strcmp(format, "csv") && strcmp(format, "f32"))
    return cli_usage_error("embed", usage, "--format must be csv or f32, got \"%s\"", format);
  const int csv = !strcmp(format, "csv");
  if (!csv && !out) return cli_usage_error("embed", usage, "--format f32 needs --out FILE");
  if (batch_s && (!cli_parse_long(batch_s, &batch) || batch < 1 || batch > 65536))
    return cli_usage_error("embed", usage, "--batch must be 1..65536, got \"%s\"", batch_s);

  scl_context ctx;
  scl_net net;
  if (cli_open_model("embed", device, model, &ctx, &net)) return 1;
  const size_t n = (size_t)nimages, dim = cli_feature_dim(net, !no_mirror);
  const char *const *paths = (const char *const *)argv;
  float *feat = malloc(n * dim * sizeof *feat);
  rc = 1;
  if (!feat) fprintf(stderr, "spherecl embed: out of host memory for %zu features\n", n);
  else if (cli_features("embed", net, paths, n, (size_t)batch, !no_mirror, quiet, feat) == SCL_OK)
    rc = emit(out, csv, paths, n, dim, feat);
  free(feat);
  cli_close_model(ctx, net);
  return rc;
}
