#include "cli_faces.h"

#include "cli_common.h"
#include "data/data_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- options ------------------------------------------------------------------------------------ */

static const cli_option *find_option(const cli_option *opts, const char *name) {
  for (; opts->name; opts++)
    if (!strcmp(opts->name, name)) return opts;
  return NULL;
}

int cli_usage_error(const char *cmd, void (*usage)(FILE *), const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "spherecl %s: ", cmd);
  vfprintf(stderr, fmt, ap);
  fputs("\n\n", stderr);
  va_end(ap);
  usage(stderr);
  return 2;
}

int cli_parse_options(const char *cmd, int argc, char **argv, const cli_option *opts, void (*usage)(FILE *),
                      int *npos) {
  int n = 0, only_positional = 0;
  /* Positionals are moved forward over arguments already read, so argv[n] is never one still to read. */
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (only_positional || a[0] != '-' || !strcmp(a, "-")) {
      argv[n++] = argv[i];
      continue;
    }
    if (!strcmp(a, "--")) {
      only_positional = 1;
      continue;
    }
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      return 0;
    }
    const cli_option *o = find_option(opts, a);
    if (!o) return cli_usage_error(cmd, usage, "unknown option \"%s\"", a);
    if (o->flag) {
      *o->flag = 1;
      continue;
    }
    if (i + 1 >= argc) return cli_usage_error(cmd, usage, "%s needs a value", a);
    *o->value = argv[++i];
  }
  *npos = n;
  return CLI_PARSED;
}

/* ---- models ------------------------------------------------------------------------------------- */

int cli_open_model(const char *cmd, const char *device, const char *model, scl_context *ctx, scl_net *net) {
  *ctx = cli_context(cmd, device);
  *net = NULL;
  if (!*ctx) return 1;
  scl_status st = scl_net_load(*ctx, model, net);
  if (st == SCL_OK) return 0;
  cli_report(cmd, *ctx, st);
  scl_context_release(*ctx);
  *ctx = NULL;
  return 1;
}

void cli_close_model(scl_context ctx, scl_net net) {
  scl_net_release(net);
  scl_context_release(ctx);
}

/* ---- features ----------------------------------------------------------------------------------- */

size_t cli_feature_dim(scl_net net, int with_mirror) {
  return (size_t)scl_net_get_config(net)->embed_dim * (with_mirror ? 2 : 1);
}

static size_t image_floats(scl_net net) {
  const scl_net_config *cfg = scl_net_get_config(net);
  return (size_t)cfg->in_channels * (size_t)cfg->in_height * (size_t)cfg->in_width;
}

/* Loads the n image files as the model's input says (stored size, centre crop, channel order,
   normalisation) into images [n, C, H, W]; a failure's message, naming the file, is the thread's
   (scl_context_error(NULL)). */
static scl_status load_images(scl_net net, const char *const *paths, size_t n, float *images) {
  const scl_net_config *cfg = scl_net_get_config(net);
  const size_t img = image_floats(net);
  scl_status st = SCL_OK;
  for (size_t i = 0; i < n && st == SCL_OK; i++)
    st = scl_image_load_input(paths[i], &cfg->input, cfg->in_channels, cfg->in_height, cfg->in_width,
                              images + i * img);
  return st;
}

scl_status cli_features(const char *cmd, scl_net net, const char *const *paths, size_t n, size_t batch,
                        int with_mirror, int quiet, float *out) {
  const size_t img = image_floats(net), dim = cli_feature_dim(net, with_mirror);
  if (batch > n) batch = n;
  float *images = malloc((batch ? batch : 1) * img * sizeof *images);
  if (!images) {
    fprintf(stderr, "spherecl %s: out of host memory for a batch of %zu images\n", cmd, batch);
    return SCL_ERR_OUT_OF_MEMORY;
  }
  cli_progress pr;
  cli_progress_start(&pr, "features", n, quiet || n <= batch);
  scl_context failed_on = NULL; /* where the failure's message is: NULL (loading) or the net's context */
  scl_status st = SCL_OK;
  for (size_t start = 0; start < n && st == SCL_OK; start += batch) {
    size_t b = n - start < batch ? n - start : batch;
    st = load_images(net, paths + start, b, images);
    if (st == SCL_OK && (st = scl_verify_features(net, images, b, with_mirror, out + start * dim)) != SCL_OK)
      failed_on = scl_net_context(net);
    if (st == SCL_OK) cli_progress_update(&pr, start + b);
  }
  cli_progress_end(&pr, 0); /* the progress line goes away */
  if (st != SCL_OK) cli_report(cmd, failed_on, st);
  free(images);
  return st;
}

/* ---- the raw-pixel baseline ---------------------------------------------------------------------- */

scl_status cli_pixel_features(const char *cmd, const char *const *paths, size_t n, int with_mirror, int quiet,
                              size_t *dim, float **out) {
  scl_image first;
  scl_status st = n ? scl__image_decode(paths[0], &first) : SCL_ERR_INVALID_ARGUMENT;
  if (st != SCL_OK) {
    cli_report(cmd, NULL, st);
    return st;
  }
  const int c = first.channels == 1 ? 1 : 3, h = first.height, w = first.width;
  scl__image_free(&first);
  const size_t img = (size_t)c * h * w, d = img * (with_mirror ? 2 : 1);
  unsigned char *px = malloc(img);
  float *f = malloc(n * d * sizeof *f);
  if (!px || !f) st = SCL_ERR_OUT_OF_MEMORY;
  cli_progress pr;
  cli_progress_start(&pr, "pixels", n, quiet);
  for (size_t i = 0; st == SCL_OK && i < n; i++) {
    cli_progress_update(&pr, i + 1);
    if ((st = scl__image_load_planar(paths[i], c, h, w, px)) != SCL_OK) break;
    float *row = f + i * d;
    scl__pixels_normalise(px, c, h, w, 0, row);
    if (with_mirror) scl__pixels_normalise(px, c, h, w, 1, row + img);
    double norm = 0;
    for (size_t k = 0; k < d; k++) norm += (double)row[k] * row[k];
    for (size_t k = 0; norm > 0 && k < d; k++) row[k] = (float)(row[k] / sqrt(norm));
  }
  cli_progress_end(&pr, 0);
  free(px);
  if (st != SCL_OK) {
    cli_report(cmd, NULL, st);
    free(f);
    return st;
  }
  *dim = d;
  *out = f;
  return SCL_OK;
}
