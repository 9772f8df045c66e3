/* spherecl verify: face-verification accuracy of a model on an LFW-style pairs file, by the
   SphereFace authors' 10-fold protocol; stores the threshold with the model for `spherecl compare`. */
#include "cli_common.h"
#include "cli_faces.h"
#include "cli_plot.h"
#include "commands.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_BATCH 32
#define PATH_SIZE 4096

static void usage(FILE *f) {
  fprintf(f,
          "usage: spherecl verify --model FILE --pairs FILE --root DIR [--pattern P] [--no-mirror] [--no-mean]\n"
          "                       [--roc FILE.csv] [--batch B] [--device SELECTOR] [--no-store] [--pixels]\n"
          "                       [--fold K] [--plot FILE.png] [--quiet]\n"
          "Face verification by the SphereFace authors' LFW protocol: each image's feature is its embedding\n"
          "followed by its mirror's; per fold, the features are centred on the other folds' mean and scored\n"
          "by cosine, and the threshold is chosen on the other folds. Prints per fold the accuracy and the\n"
          "threshold, the TAR at FAR 1e-2 and 1e-3 of the held-out scores, and last\n"
          "\"accuracy: MEAN ± STD\" over the folds.\n"
          "  --pairs FILE       an LFW pairs file (\"folds pairs_per_class\", then the pairs; see `spherecl pairs`)\n"
          "  --root DIR         the image folder the pairs' names are in\n"
          "  --pattern P        where an image is under DIR: %%n the name, %%i the number, %%4i zero-padded,\n"
          "                     e.g. \"%%n/%%n_%%4i.jpg\"; default: LFW's name/name_0001.jpg (.png, .pgm) or\n"
          "                     name/1.pgm (.png, .jpg), the layouts `spherecl pairs` draws from\n"
          "  --no-mirror        features without the mirrored image (use the same in `compare`)\n"
          "  --no-mean          no mean subtraction (plain cosine)\n"
          "  --roc FILE.csv     write the ROC of the held-out scores (threshold,far,tar)\n"
          "  --plot FILE.png    draw the ROC (log-scale FAR) and the histograms of same-person and\n"
          "                     different-person held-out scores with the threshold (needs gnuplot)\n"
          "  --batch B          images per forward pass (default %d)\n"
          "  --device SELECTOR  OpenCL device (see `spherecl devices`)\n"
          "  --quiet            no progress line (shown on a terminal while features are computed)\n"
          "  --no-store         do not store the threshold in the model\n"
          "  --fold K           report fold K (1-based) alone: its accuracy with the threshold chosen on the\n"
          "                     other folds, last line \"accuracy: X\" (for a model trained with\n"
          "                     `spherecl train --holdout PAIRS:K`, whose people are in no other fold)\n"
          "  --pixels           the raw-pixel baseline: each image's normalised pixels (and its mirror's) as\n"
          "                     its feature, no model (--model not needed); the same protocol and pairs\n"
          "Unless --no-store, the threshold chosen on all pairs with plain cosine (the score `spherecl compare`\n"
          "uses) is stored in the model: this REWRITES the model file WITHOUT optimizer state, so run verify on\n"
          "final models, not on checkpoints you mean to resume.\n",
          DEFAULT_BATCH);
}

typedef struct {
  const char *model, *pairs, *root, *pattern, *roc, *device, *plot;
  long batch, fold; /* fold: 1-based, 0 = all folds */
  int no_mirror, no_mean, no_store, pixels, quiet;
} verify_opts;

/* ---- the distinct images of the pairs ------------------------------------------------------------ */

/* One side of one pair: the image (name, number) of pair slot / 2, side slot % 2. */
typedef struct {
  const char *name;
  int index;
  size_t slot;
} image_ref;

static int cmp_ref(const void *x, const void *y) {
  const image_ref *a = x, *b = y;
  int c = strcmp(a->name, b->name);
  if (c) return c;
  if (a->index != b->index) return a->index < b->index ? -1 : 1;
  return (a->slot > b->slot) - (a->slot < b->slot);
}

/* Every image the pairs use, found once. */
typedef struct {
  char **paths;   /* [count] */
  size_t count;
  size_t *of;     /* [2·npairs]: the image of pair i's first (2i) and second (2i + 1) side */
} image_set;

static void image_set_free(image_set *s) {
  for (size_t i = 0; s->paths && i < s->count; i++) free(s->paths[i]);
  free(s->paths), free(s->of);
}

/* The file of the image ref names; prints the error (naming the pair) when there is none. */
static char *find_image(const verify_opts *o, const image_ref *r) {
  char path[PATH_SIZE];
  scl_status st = scl_pairs_image_path(o->root, o->pattern, r->name, r->index, path, sizeof path);
  if (st != SCL_OK) {
    fprintf(stderr, "spherecl verify: %s: %s (pair %zu of %s)\n", scl_status_string(st), scl_context_error(NULL),
            r->slot / 2 + 1, o->pairs);
    return NULL;
  }
  char *copy = malloc(strlen(path) + 1);
  if (!copy) fprintf(stderr, "spherecl verify: out of host memory\n");
  else strcpy(copy, path);
  return copy;
}

/* Sorts the pairs' 2·n image references by (name, number) so each distinct image is resolved once. */
static int collect_images(const verify_opts *o, const scl_pair *pairs, size_t n, image_set *s) {
  memset(s, 0, sizeof *s);
  image_ref *refs = malloc(2 * n * sizeof *refs);
  s->paths = malloc(2 * n * sizeof *s->paths);
  s->of = malloc(2 * n * sizeof *s->of);
  if (!refs || !s->paths || !s->of) {
    fprintf(stderr, "spherecl verify: out of host memory for %zu pairs\n", n);
    free(refs);
    return 0;
  }
  for (size_t i = 0; i < n; i++) {
    refs[2 * i] = (image_ref){pairs[i].name_a, pairs[i].index_a, 2 * i};
    refs[2 * i + 1] = (image_ref){pairs[i].name_b, pairs[i].index_b, 2 * i + 1};
  }
  qsort(refs, 2 * n, sizeof *refs, cmp_ref);
  int ok = 1;
  for (size_t k = 0; k < 2 * n && ok; k++) {
    const image_ref *r = &refs[k];
    if (k == 0 || strcmp(r->name, refs[k - 1].name) || r->index != refs[k - 1].index) {
      if (!(s->paths[s->count] = find_image(o, r))) ok = 0;
      else s->count++;
    }
    s->of[r->slot] = s->count - 1;
  }
  free(refs);
  return ok;
}

/* ---- the report ------------------------------------------------------------------------------------ */

static void print_rate(const char *label, double v) {
  if (isnan(v)) printf("%s n/a\n", label);
  else printf("%s %.4f\n", label, v);
}

static void print_result(const scl_verify_result *r, long fold) {
  if (fold) {
    /* The protocol chose this fold's threshold on the other folds only. */
    printf("fold %ld: accuracy %.4f at threshold %.4f (chosen on the other %d folds)\n", fold, r->accuracy[fold - 1],
           r->threshold[fold - 1], r->folds - 1);
    printf("accuracy: %.4f\n", r->accuracy[fold - 1]);
    fflush(stdout);
    return;
  }
  printf("fold  accuracy  threshold\n");
  for (int k = 0; k < r->folds; k++) printf("%4d  %8.4f  %9.4f\n", k + 1, r->accuracy[k], r->threshold[k]);
  print_rate("TAR@FAR=1e-2:", r->tar_at_far_1e2);
  print_rate("TAR@FAR=1e-3:", r->tar_at_far_1e3);
  printf("accuracy: %.4f \u00b1 %.4f\n", r->mean, r->std);
  fflush(stdout);
}

/* ---- the run --------------------------------------------------------------------------------------- */

typedef struct {
  float *fa, *fb, *scores;
  int *fold, *same;
} pair_data;

static void pair_data_free(pair_data *d) { free(d->fa), free(d->fb), free(d->scores), free(d->fold), free(d->same); }

/* Lays the images' features out per pair (fa, fb [n, dim]) with each pair's fold and kind. */
static int arrange(const scl_pair *pairs, size_t n, const image_set *s, const float *feat, size_t dim, pair_data *d) {
  d->fa = malloc(n * dim * sizeof *d->fa), d->fb = malloc(n * dim * sizeof *d->fb);
  d->scores = malloc(n * sizeof *d->scores);
  d->fold = malloc(n * sizeof *d->fold), d->same = malloc(n * sizeof *d->same);
  if (!d->fa || !d->fb || !d->scores || !d->fold || !d->same) {
    fprintf(stderr, "spherecl verify: out of host memory for %zu pairs\n", n);
    return 0;
  }
  for (size_t i = 0; i < n; i++) {
    memcpy(d->fa + i * dim, feat + s->of[2 * i] * dim, dim * sizeof *feat);
    memcpy(d->fb + i * dim, feat + s->of[2 * i + 1] * dim, dim * sizeof *feat);
    d->fold[i] = pairs[i].fold;
    d->same[i] = pairs[i].same;
  }
  return 1;
}

static int report_noctx(scl_status st) {
  cli_report("verify", NULL, st);
  return 1;
}

/* Stores the threshold `compare` needs: chosen on all pairs by plain cosine (no mean to subtract
   there), which is the protocol's threshold_all without mean subtraction. */
static int store_threshold(const verify_opts *o, scl_net net, const pair_data *d, size_t n, size_t dim, int folds,
                           const scl_verify_result *r) {
  double t = r->threshold_all;
  if (!o->no_mean) {
    scl_verify_result plain;
    scl_status st = scl_verify_protocol(d->fa, d->fb, dim, d->fold, d->same, n, folds, 0, &plain, NULL);
    if (st != SCL_OK) return report_noctx(st);
    t = plain.threshold_all;
  }
  scl_net_set_threshold(net, (float)t);
  scl_status st = scl_net_save(net, o->model, 0);
  if (st != SCL_OK) {
    cli_report("verify", scl_net_context(net), st);
    return 1;
  }
  fprintf(stderr, "stored the threshold %.4f (plain cosine, all pairs) in %s for `spherecl compare`\n", t, o->model);
  return 0;
}

/* ---- the picture ------------------------------------------------------------------------------------ */

/* The ROC of the held-out scores (TAR against log-scale FAR) beside the two score histograms, with
   the threshold: fold K's with --fold, else the mean of the folds' thresholds. */
static int draw(const verify_opts *o, const pair_data *d, size_t n, const scl_verify_result *r) {
  double t = 0;
  if (o->fold) t = r->threshold[o->fold - 1];
  else {
    for (int k = 0; k < r->folds; k++) t += r->threshold[k];
    t /= r->folds;
  }
  scl_roc_point *roc = NULL;
  size_t npts = 0;
  scl_status st = scl_verify_roc(d->scores, d->same, n, &roc, &npts);
  if (st != SCL_OK) return report_noctx(st);
  cli_plot p;
  if (cli_plot_open("verify", &p, o->plot, 1100, 460)) {
    free(roc);
    return 1;
  }
  cli_plot_block_begin(&p, "roc"); /* far tar, far > 0 (a log axis) */
  for (size_t i = 0; i < npts; i++)
    if (roc[i].far > 0) fprintf(p.gp, "%.6g %.6g\n", roc[i].far, roc[i].tar);
  cli_plot_block_end(&p);
  free(roc);
  enum { BINS = 100 }; /* scores are cosines in [−1, 1]: bins of 0.02 */
  size_t hist[2][BINS] = {{0}}, npos = 0;
  for (size_t i = 0; i < n; i++) {
    int b = (int)((d->scores[i] + 1.0f) * (BINS / 2.0f));
    hist[d->same[i] != 0][b < 0 ? 0 : b >= BINS ? BINS - 1 : b]++;
    npos += d->same[i] != 0;
  }
  const size_t nneg = n - npos;
  cli_plot_block_begin(&p, "hist"); /* bin centre, fraction of same pairs, fraction of different pairs */
  for (int b = 0; b < BINS; b++)
    fprintf(p.gp, "%.3f %.6g %.6g\n", -1.0 + (b + 0.5) * 2.0 / BINS, npos ? (double)hist[1][b] / npos : 0.0,
            nneg ? (double)hist[0][b] / nneg : 0.0);
  cli_plot_block_end(&p);
  fprintf(p.gp,
          "set multiplot layout 1,2 title 'spherecl verify: %zu pairs of %s, held-out scores%s'\n"
          "set title 'ROC'\nset logscale x\nset xrange [1e-4:1]\nset yrange [0:1.02]\nset grid\n"
          "set xlabel 'false accept rate (different people accepted)'\nset ylabel 'true accept rate'\n"
          "set key bottom right\nplot $roc using 1:2 with steps lw 2 lc rgb '#1f77b4' title 'ROC'\n"
          "unset logscale x\nset title 'score histograms'\nset xrange [-1:1]\nset autoscale y\n"
          "set xlabel 'cosine score'\nset ylabel 'fraction of pairs'\nset key top left\n"
          "set style fill transparent solid 0.45 noborder\nset boxwidth 0.02\n"
          "set arrow 1 from %.4f, graph 0 to %.4f, graph 1 nohead dt 2 lw 2 lc rgb 'black'\n"
          "set label 1 sprintf('threshold %.4f', %.4f) at %.4f, graph 0.95 offset 1,0\n"
          "plot $hist using 1:2 with boxes lc rgb '#2ca02c' title 'same person', "
          "$hist using 1:3 with boxes lc rgb '#d62728' title 'different people'\nunset multiplot\n",
          n, o->pairs, o->fold ? " (threshold of the chosen fold)" : " (threshold: mean over folds)", t, t, t, t, t);
  return cli_plot_close("verify", &p);
}

/* Runs the protocol on the arranged pairs, prints the result, writes the ROC, stores the threshold. */
static int score(const verify_opts *o, scl_net net, const pair_data *d, size_t n, size_t dim, int folds) {
  scl_verify_result r;
  scl_status st = scl_verify_protocol(d->fa, d->fb, dim, d->fold, d->same, n, folds, !o->no_mean, &r, d->scores);
  if (st != SCL_OK) return report_noctx(st);
  print_result(&r, o->fold);
  if (o->roc && (st = scl_verify_write_roc(o->roc, d->scores, d->same, n)) != SCL_OK) return report_noctx(st);
  if (o->plot && draw(o, d, n, &r)) return 1;
  return o->no_store || !net ? 0 : store_threshold(o, net, d, n, dim, folds, &r);
}

/* The features of every image, then the protocol over the pairs. */
static int evaluate(const verify_opts *o, scl_net net, const scl_pair *pairs, size_t n, int folds,
                    const image_set *s) {
  const size_t dim = cli_feature_dim(net, !o->no_mirror);
  float *feat = malloc(s->count * dim * sizeof *feat);
  pair_data d = {0};
  int rc = 1;
  if (!feat) fprintf(stderr, "spherecl verify: out of host memory for %zu features\n", s->count);
  else if (cli_features("verify", net, (const char *const *)s->paths, s->count, (size_t)o->batch, !o->no_mirror, o->quiet,
                        feat) == SCL_OK &&
           arrange(pairs, n, s, feat, dim, &d))
    rc = score(o, net, &d, n, dim, folds);
  pair_data_free(&d);
  free(feat);
  return rc;
}

/* The raw-pixel baseline over the same pairs and protocol. */
static int evaluate_pixels(const verify_opts *o, const scl_pair *pairs, size_t n, int folds, const image_set *s) {
  float *feat = NULL;
  size_t dim = 0;
  pair_data d = {0};
  int rc = 1;
  if (cli_pixel_features("verify", (const char *const *)s->paths, s->count, !o->no_mirror, o->quiet, &dim, &feat) == SCL_OK &&
      arrange(pairs, n, s, feat, dim, &d))
    rc = score(o, NULL, &d, n, dim, folds);
  pair_data_free(&d);
  free(feat);
  return rc;
}

static int run(const verify_opts *o, const scl_pair *pairs, size_t n, int folds) {
  image_set s;
  scl_context ctx = NULL;
  scl_net net = NULL;
  int rc = 1;
  if (o->pixels) {
    if (collect_images(o, pairs, n, &s)) {
      fprintf(stderr, "verifying %zu pairs (%d folds, %zu images) by raw-pixel cosine%s%s\n", n, folds, s.count,
              o->no_mirror ? ", no mirror" : "", o->no_mean ? ", no mean subtraction" : "");
      rc = evaluate_pixels(o, pairs, n, folds, &s);
    }
  } else if (collect_images(o, pairs, n, &s) && !cli_open_model("verify", o->device, o->model, &ctx, &net)) {
    fprintf(stderr, "verifying %zu pairs (%d folds, %zu images) with %s%s%s\n", n, folds, s.count, o->model,
            o->no_mirror ? ", no mirror" : "", o->no_mean ? ", no mean subtraction" : "");
    rc = evaluate(o, net, pairs, n, folds, &s);
    cli_close_model(ctx, net);
  }
  image_set_free(&s);
  return rc;
}

int cmd_verify(int argc, char **argv) {
  verify_opts o = {0};
  const char *batch_s = NULL, *fold_s = NULL;
  int npos = 0;
  const cli_option opts[] = {{"--model", &o.model, NULL},     {"--pairs", &o.pairs, NULL},
                             {"--root", &o.root, NULL},       {"--pattern", &o.pattern, NULL},
                             {"--roc", &o.roc, NULL},         {"--batch", &batch_s, NULL},
                             {"--device", &o.device, NULL},   {"--no-mirror", NULL, &o.no_mirror},
                             {"--no-mean", NULL, &o.no_mean}, {"--no-store", NULL, &o.no_store},
                             {"--pixels", NULL, &o.pixels},   {"--fold", &fold_s, NULL},
                             {"--plot", &o.plot, NULL},        {"--quiet", NULL, &o.quiet},
                             {NULL, NULL, NULL}};
  int rc = cli_parse_options("verify", argc, argv, opts, usage, &npos);
  if (rc != CLI_PARSED) return rc;
  if (npos) return cli_usage_error("verify", usage, "unexpected argument \"%s\"", argv[0]);
  if ((!o.model && !o.pixels) || !o.pairs || !o.root)
    return cli_usage_error("verify", usage, "--model (or --pixels), --pairs and --root are required");
  o.batch = DEFAULT_BATCH;
  if (batch_s && (!cli_parse_long(batch_s, &o.batch) || o.batch < 1 || o.batch > 65536))
    return cli_usage_error("verify", usage, "--batch must be 1..65536, got \"%s\"", batch_s);

  if (fold_s && (!cli_parse_long(fold_s, &o.fold) || o.fold < 1 || o.fold > 32))
    return cli_usage_error("verify", usage, "--fold must be a fold number 1..32, got \"%s\"", fold_s);

  scl_pair *pairs = NULL;
  size_t n = 0;
  int folds = 0;
  scl_status st = scl_pairs_read(o.pairs, &pairs, &n, &folds);
  if (st != SCL_OK) return report_noctx(st);
  if (folds < 2) {
    fprintf(stderr, "spherecl verify: %s has one fold; the protocol chooses each fold's threshold on the others, so it "
                    "needs 2..32 folds (spherecl pairs --folds K)\n",
            o.pairs);
    rc = 1;
  } else if (o.fold > folds) {
    fprintf(stderr, "spherecl verify: --fold %ld is out of range: %s has folds 1..%d\n", o.fold, o.pairs, folds);
    rc = 1;
  } else {
    rc = run(&o, pairs, n, folds);
  }
  free(pairs);
  return rc;
}
