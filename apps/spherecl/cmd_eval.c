/* spherecl eval: closed-set accuracy of a model on a test set (MNIST t10k, or an image folder with
   the identities it was trained on). */
#include "cli_common.h"
#include "commands.h"
#include "internal.h" /* scl__atomic_file */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
  fprintf(f, "usage: spherecl eval --model FILE [--data PATH] [--ids FIRST..LAST] [--batch B] [--device SELECTOR]\n"
             "                     [--features CSV]\n"
             "--data: MNIST IDX files (their t10k test set) or an image folder; default: Fashion-MNIST in\n"
             CLI_DEFAULT_DATA " (Debian's dataset-fashion-mnist).\n"
             "Prints the accuracy of the model's class prediction, ending with \"accuracy: A (correct/total)\".\n"
             "--features writes every test image's label and embedding as CSV (label,f1,f2,...).\n");
}

int cmd_eval(int argc, char **argv) {
  const char *model = NULL, *data = NULL, *device = NULL, *features = NULL;
  long batch = 100;
  int first = 0, last = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      return 0;
    }
    if (!v) {
      fprintf(stderr, "spherecl eval: %s\n", strncmp(a, "--", 2) ? "unexpected argument" : "option needs a value");
      usage(stderr);
      return 2;
    }
    i++;
    if (!strcmp(a, "--model")) model = v;
    else if (!strcmp(a, "--data")) data = v;
    else if (!strcmp(a, "--device")) device = v;
    else if (!strcmp(a, "--features")) features = v;
    else if (!strcmp(a, "--ids") && cli_parse_range(v, &first, &last)) continue;
    else if (!strcmp(a, "--batch") && cli_parse_long(v, &batch) && batch >= 1 && batch <= 65536) continue;
    else {
      fprintf(stderr, "spherecl eval: bad option %s %s\n", a, v);
      usage(stderr);
      return 2;
    }
  }
  if (model && !(data = cli_data_or_default("eval", data))) return 1;
  if (!model) {
    fprintf(stderr, "spherecl eval: --model is required\n");
    usage(stderr);
    return 2;
  }
  scl_dataset ds = NULL;
  int is_mnist = 0;
  scl_folder_filter filter = {first, last, 0, NULL, 0};
  scl_status st = cli_open_dataset(data, 0, &filter, &ds, &is_mnist);
  if (st != SCL_OK) {
    cli_report("eval", NULL, st);
    return 1;
  }
  scl_context ctx = cli_context("eval", device);
  scl_net net = NULL;
  int rc = 1;
  if (!ctx) goto done;
  if ((st = scl_net_load(ctx, model, &net)) != SCL_OK) {
    cli_report("eval", ctx, st);
    goto done;
  }
  const scl_net_config *cfg = scl_net_get_config(net);
  int c, h, w;
  scl_dataset_shape(ds, &c, &h, &w);
  /* A model trained on random crops takes the centre crop of images of the stored size. */
  int sh, sw;
  cli_stored_size(cfg, &sh, &sw);
  if (cfg->in_channels != c || sh != h || sw != w || cfg->num_classes != scl_dataset_classes(ds)) {
    fprintf(stderr, "spherecl eval: the model expects %dx%dx%d images and %d classes; %s has %dx%dx%d and %d\n",
            cfg->in_channels, sh, sw, cfg->num_classes, data, c, h, w, scl_dataset_classes(ds));
    goto done;
  }
  if (c == 3 && cfg->input.order != SCL_CHANNELS_RGB) {
    fprintf(stderr, "spherecl eval: the model takes BGR input; eval reads datasets as RGB\n");
    goto done;
  }
  size_t n = scl_dataset_size(ds), img = (size_t)c * cfg->in_height * cfg->in_width, m = (size_t)cfg->num_classes,
         correct = 0;
  const size_t d = (size_t)cfg->embed_dim;
  float *images = malloc((size_t)batch * img * sizeof *images), *logits = malloc((size_t)batch * m * sizeof *logits);
  float *emb = features ? malloc((size_t)batch * d * sizeof *emb) : NULL;
  scl__atomic_file out = {0};
  FILE *csv = NULL;
  if (features) {
    if ((st = scl__atomic_open(&out, features, "spherecl eval --features")) != SCL_OK) cli_report("eval", NULL, st);
    csv = out.f;
  }
  int *labels = malloc((size_t)batch * sizeof *labels);
  size_t *idx = malloc((size_t)batch * sizeof *idx);
  if (!images || !logits || !labels || !idx || (features && !emb)) st = SCL_ERR_OUT_OF_MEMORY;
  for (size_t start = 0; st == SCL_OK && start < n; start += (size_t)batch) {
    size_t b = n - start < (size_t)batch ? n - start : (size_t)batch;
    for (size_t i = 0; i < b; i++) idx[i] = start + i;
    if ((st = scl_dataset_get_crops(ds, idx, b, NULL, NULL, NULL, cfg->in_height, cfg->in_width, images, labels)) !=
        SCL_OK) {
      cli_report("eval", NULL, st);
      break;
    }
    if ((st = scl_net_logits(net, images, b, logits)) != SCL_OK) {
      cli_report("eval", ctx, st);
      break;
    }
    if (csv && (st = scl_net_embed(net, images, b, emb)) != SCL_OK) {
      cli_report("eval", ctx, st);
      break;
    }
    for (size_t i = 0; csv && i < b; i++) {
      fprintf(csv, "%d", labels[i]);
      for (size_t k = 0; k < d; k++) fprintf(csv, ",%.7g", (double)emb[i * d + k]);
      fputc('\n', csv);
    }
    for (size_t i = 0; i < b; i++) {
      size_t best = 0;
      for (size_t j = 1; j < m; j++)
        if (logits[i * m + j] > logits[i * m + best]) best = j;
      correct += best == (size_t)labels[i];
    }
  }
  if (csv && st == SCL_OK && (st = scl__atomic_commit(&out, "spherecl eval --features")) != SCL_OK)
    cli_report("eval", NULL, st);
  else if (csv && st != SCL_OK)
    scl__atomic_abort(&out);
  if (st == SCL_OK) {
    printf("accuracy: %.4f (%zu/%zu)\n", (double)correct / (double)n, correct, n);
    rc = 0;
  }
  free(images), free(logits), free(labels), free(idx), free(emb);
done:
  scl_net_release(net);
  scl_context_release(ctx);
  scl_dataset_release(ds);
  return rc;
}
