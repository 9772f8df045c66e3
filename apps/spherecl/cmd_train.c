/* spherecl train: trains a SphereFace model on MNIST or an image folder, with progress, periodic
   checkpoints, Ctrl-C checkpointing and exact resumption.

   The batch of iteration `it` is a pure function of (seed, it): sample positions (it−1)·B .. it·B−1
   of an endless stream of epochs, each a seeded permutation of the dataset, with mirror flags hashed
   from (seed, position), and so are the crop offsets when --crop cuts the input from larger stored
   images. So a resumed run sees exactly the batches the uninterrupted run would.

   Under mpirun the job's N ranks split every batch: rank r takes positions r·B/N .. (r+1)·B/N − 1 of
   it, and the gradients are averaged over the ranks before each (identical) update, so that any N
   trains the same model up to the order of float sums (cli_mpi.c). Rank 0 alone prints and saves. */
#include "cli_common.h"
#include "cli_mpi.h"
#include "commands.h"
#include "train_log.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const char *data, *device, *out, *resume, *holdout, *log, *plot;
  scl_net_config cfg;
  int first, last, min_images;
  int holdout_fold;   /* --holdout PAIRS:K: K (1-based); the pairs file is holdout up to its last ':' */
  int crop_w, crop_h; /* --crop: the net input cut from each stored image (0: the whole image) */
  int argc;
  char **argv;        /* as given, for the resume hint */
  long batch, iters, checkpoint_every, print_every;
  int mirror; /* -1: default (on for image folders, off for MNIST) */
  int quiet;  /* no progress lines (the log, errors and the closing lines stay) */
  int rank;   /* this process's MPI rank: only rank 0 prints progress and writes files */
  double bucket_mb; /* --bucket-mb: the gradient allreduce's bucket size under mpirun */
} train_opts;

static volatile sig_atomic_t interrupted;
static void on_sigint(int sig) {
  (void)sig;
  interrupted = 1;
}

static void usage(FILE *f) {
  fprintf(f,
          "usage: spherecl train [--data PATH] [options]\n"
          "  --data PATH            a folder with MNIST IDX files, or an image folder (one subfolder per person);\n"
          "                         default: Fashion-MNIST in " CLI_DEFAULT_DATA " (Debian's dataset-fashion-mnist)\n"
          "  --ids FIRST..LAST      image folders: train on these identities only (1-based, natural order)\n"
          "  --holdout PAIRS:K      image folders: leave out every person of fold K (1-based) of the pairs file, so\n"
          "                         that `spherecl verify --pairs PAIRS --fold K` tests on people never seen\n"
          "  --min-images N         image folders: leave out people with fewer than N images\n"
          "  --crop WxH             the net's input is a WxH window of each stored image: at random in training\n"
          "                         (with the mirror), the centre when the model is used (the model records it);\n"
          "                         e.g. 96x112 from 100x116 crops of `spherecl align --pad 2`\n"
          "  --net sphereface-N     N = 4, 10, 20 (default), 36, 64\n"
          "  --widths A,B,C,D       stage widths (default 64,128,256,512)\n"
          "  --embed-dim D          embedding size (default 512)\n"
          "  --margin SPEC          softmax | asoftmax:m=4 (default) | normface:s=16 | cosface:s=64,m=0.35 |\n"
          "                         arcface:s=64,m=0.5 | combined:s=64,m1=1,m2=0.3,m3=0.2\n"
          "  --grad caffe|exact     A-Softmax gradient rule (default caffe, the reference's)\n"
          "  --batch B              images per step (default 64)\n"
          "  --iters N              train until iteration N (default 1000)\n"
          "  --lr LR                base learning rate (default: the reference's 0.1 for batches of 128 or\n"
          "                         more, scaled down linearly below: 0.05 at batch 64, where 0.1 diverges)\n"
          "  --lr-steps I1,I2       multiply lr by 0.1 at these iterations (default: 60%% and 85%% of --iters)\n"
          "  --momentum M, --weight-decay W   (defaults 0.9, 5e-4)\n"
          "  --lambda B,G,P,MIN     A-Softmax λ schedule (default 1000,0.12,1,5)\n"
          "  --seed S               initialisation and data order (default 1)\n"
          "  --mirror on|off        random horizontal flips (default: on for image folders, off for MNIST)\n"
          "  --device SELECTOR      OpenCL device (see `spherecl devices`)\n"
          "  --out FILE             the trained model (default model.scl)\n"
          "  --checkpoint-every N   write FILE.ckpt (weights + optimizer state) every N iterations\n"
          "  --resume FILE          continue from a checkpoint up to --iters: network, margin and solver come\n"
          "                         from the file; give the same --data, --ids, --batch and --mirror as before\n"
          "  --print-every N        progress line interval when output is not a terminal, and log interval\n"
          "                         (default 10)\n"
          "  --log FILE.csv         write iteration,loss,accuracy,lambda,lr,images_per_s every --print-every\n"
          "                         iterations (appended to when resuming)\n"
          "  --plot FILE.png        draw loss, accuracy, lambda and lr when training stops (needs gnuplot)\n"
          "  --quiet                no progress lines (errors, --log and the closing lines stay)\n"
          "Ctrl-C writes FILE.ckpt and exits; resume with --resume FILE.ckpt.\n"
          "Under mpirun (a build with MPI): one job of N ranks, each with B/N of every --batch B; the\n"
          "gradients are averaged over the ranks, rank 0 prints and saves (mpirun -n 2 spherecl train ...).\n"
          "  --bucket-mb MB         under mpirun: gradients are summed over the ranks in buckets of about MB\n"
          "                         megabytes while the backward pass goes on (default 25; 0: all at once after it)\n");
}

/* Returns 0 on success, 2 on bad usage (message printed). */
static int parse(int argc, char **argv, train_opts *o) {
  memset(o, 0, sizeof *o);
  scl_net_config_default(&o->cfg);
  o->cfg.num_classes = 0;
  o->batch = 64, o->iters = 1000, o->print_every = 10, o->mirror = -1, o->bucket_mb = 25;
  o->out = "model.scl";
  o->argc = argc, o->argv = argv;
  int steps_given = 0, lr_given = 0;
  char err[256];
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    long l;
    float f[4];
#define NEED_VALUE                                                                                 \
  if (!v) {                                                                                        \
    fprintf(stderr, "spherecl train: %s needs a value\n", a);                                      \
    return 2;                                                                                      \
  }                                                                                                \
  i++;
#define BAD(...)                                                                                   \
  do {                                                                                             \
    fprintf(stderr, "spherecl train: " __VA_ARGS__);                                               \
    fputc('\n', stderr);                                                                           \
    return 2;                                                                                      \
  } while (0)
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      exit(0);
    } else if (!strcmp(a, "--data")) {
      NEED_VALUE o->data = v;
    } else if (!strcmp(a, "--ids")) {
      NEED_VALUE if (!cli_parse_range(v, &o->first, &o->last)) BAD("--ids wants FIRST..LAST, got \"%s\"", v);
    } else if (!strcmp(a, "--holdout")) {
      NEED_VALUE const char *colon = strrchr(v, ':');
      if (!colon || colon == v || !cli_parse_long(colon + 1, &l) || l < 1 || l > 32)
        BAD("--holdout wants PAIRS:K with K a fold number (1-based), got \"%s\"", v);
      o->holdout = v, o->holdout_fold = (int)l;
    } else if (!strcmp(a, "--min-images")) {
      NEED_VALUE if (!cli_parse_long(v, &l) || l < 1 || l > 1000000) BAD("--min-images must be 1..1000000");
      o->min_images = (int)l;
    } else if (!strcmp(a, "--crop")) {
      NEED_VALUE if (!cli_parse_size(v, &o->crop_w, &o->crop_h)) BAD("--crop wants WxH, got \"%s\"", v);
    } else if (!strcmp(a, "--net")) {
      NEED_VALUE if (strncmp(v, "sphereface-", 11) || !cli_parse_long(v + 11, &l) ||
                     (l != 4 && l != 10 && l != 20 && l != 36 && l != 64))
          BAD("--net must be sphereface-4, -10, -20, -36 or -64, got \"%s\"", v);
      o->cfg.depth = (int)l;
    } else if (!strcmp(a, "--widths")) {
      NEED_VALUE if (cli_parse_floats(v, f, 4) != 4) BAD("--widths wants four numbers, got \"%s\"", v);
      for (int k = 0; k < 4; k++) {
        if (f[k] < 1 || f[k] > 4096 || f[k] != floorf(f[k])) BAD("--widths: %g is not a width", (double)f[k]);
        o->cfg.widths[k] = (int)f[k];
      }
    } else if (!strcmp(a, "--embed-dim")) {
      NEED_VALUE if (!cli_parse_long(v, &l) || l < 1 || l > 65536) BAD("--embed-dim must be 1..65536");
      o->cfg.embed_dim = (int)l;
    } else if (!strcmp(a, "--margin")) {
      NEED_VALUE if (!cli_parse_margin(v, &o->cfg.margin, err, sizeof err)) BAD("--margin: %s", err);
    } else if (!strcmp(a, "--grad")) {
      NEED_VALUE if (!strcmp(v, "caffe")) o->cfg.margin.grad = SCL_GRAD_CAFFE;
      else if (!strcmp(v, "exact")) o->cfg.margin.grad = SCL_GRAD_EXACT;
      else BAD("--grad must be caffe or exact");
    } else if (!strcmp(a, "--batch")) {
      NEED_VALUE if (!cli_parse_long(v, &o->batch) || o->batch < 1 || o->batch > 65536) BAD("--batch must be 1..65536");
    } else if (!strcmp(a, "--iters")) {
      NEED_VALUE if (!cli_parse_long(v, &o->iters) || o->iters < 1) BAD("--iters must be >= 1");
    } else if (!strcmp(a, "--lr")) {
      NEED_VALUE if (!cli_parse_float(v, &o->cfg.lr) || o->cfg.lr < 0) BAD("--lr must be a number >= 0");
      lr_given = 1;
    } else if (!strcmp(a, "--lr-steps")) {
      NEED_VALUE int n = cli_parse_floats(v, f, 4);
      if (n < 1) BAD("--lr-steps wants up to four iterations, got \"%s\"", v);
      memset(o->cfg.lr_steps, 0, sizeof o->cfg.lr_steps);
      for (int k = 0; k < n; k++) {
        if (f[k] < 1) BAD("--lr-steps: iterations must be >= 1");
        o->cfg.lr_steps[k] = (long)f[k];
      }
      steps_given = 1;
    } else if (!strcmp(a, "--momentum")) {
      NEED_VALUE if (!cli_parse_float(v, &o->cfg.momentum) || o->cfg.momentum < 0 || o->cfg.momentum >= 1)
          BAD("--momentum must be in [0, 1)");
    } else if (!strcmp(a, "--weight-decay")) {
      NEED_VALUE if (!cli_parse_float(v, &o->cfg.weight_decay) || o->cfg.weight_decay < 0)
          BAD("--weight-decay must be >= 0");
    } else if (!strcmp(a, "--lambda")) {
      NEED_VALUE if (cli_parse_floats(v, f, 4) != 4 || f[0] < 0 || f[1] < 0 || f[2] < 0 || f[3] < 0)
          BAD("--lambda wants base,gamma,power,min (all >= 0), got \"%s\"", v);
      o->cfg.lambda_base = f[0], o->cfg.lambda_gamma = f[1], o->cfg.lambda_power = f[2], o->cfg.lambda_min = f[3];
    } else if (!strcmp(a, "--seed")) {
      NEED_VALUE if (!cli_parse_long(v, &l) || l < 0) BAD("--seed must be a non-negative integer");
      o->cfg.seed = (unsigned long long)l;
    } else if (!strcmp(a, "--mirror")) {
      NEED_VALUE if (!strcmp(v, "on")) o->mirror = 1;
      else if (!strcmp(v, "off")) o->mirror = 0;
      else BAD("--mirror must be on or off");
    } else if (!strcmp(a, "--device")) {
      NEED_VALUE o->device = v;
    } else if (!strcmp(a, "--out")) {
      NEED_VALUE o->out = v;
    } else if (!strcmp(a, "--bucket-mb")) {
      NEED_VALUE if (!cli_parse_float(v, &f[0]) || !(f[0] >= 0 && f[0] <= 1e6)) BAD("--bucket-mb must be 0..1000000");
      o->bucket_mb = f[0];
    } else if (!strcmp(a, "--checkpoint-every")) {
      NEED_VALUE if (!cli_parse_long(v, &o->checkpoint_every) || o->checkpoint_every < 1)
          BAD("--checkpoint-every must be >= 1");
    } else if (!strcmp(a, "--resume")) {
      NEED_VALUE o->resume = v;
    } else if (!strcmp(a, "--quiet")) {
      o->quiet = 1;
    } else if (!strcmp(a, "--log")) {
      NEED_VALUE o->log = v;
    } else if (!strcmp(a, "--plot")) {
      NEED_VALUE o->plot = v;
    } else if (!strcmp(a, "--print-every")) {
      NEED_VALUE if (!cli_parse_long(v, &o->print_every) || o->print_every < 1) BAD("--print-every must be >= 1");
    } else {
      fprintf(stderr, "spherecl train: unknown option \"%s\"\n\n", a);
      usage(stderr);
      return 2;
    }
#undef NEED_VALUE
#undef BAD
  }
  if (!(o->data = cli_data_or_default("train", o->data))) return 1;
  /* The reference's 0.1 (batch 256-512) diverges within ~25 steps for SphereFace-4 on MNIST at batch
     64; 0.05 trains to 98.1% in 600 steps. Small batches get a linearly smaller rate. */
  if (!lr_given) o->cfg.lr = o->batch >= 128 ? 0.1f : 0.1f * (float)o->batch / 128.0f;
  if (!steps_given) {
    memset(o->cfg.lr_steps, 0, sizeof o->cfg.lr_steps);
    o->cfg.lr_steps[0] = o->iters * 6 / 10, o->cfg.lr_steps[1] = o->iters * 85 / 100;
  }
  return 0;
}

/* ---- the deterministic sample stream -------------------------------------------------------------- */

typedef struct {
  unsigned long long seed;
  size_t size;
  long epoch; /* epoch whose permutation is in perm (-1: none) */
  size_t *perm;
} sampler;

static unsigned long long mix(unsigned long long x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

/* A deterministic value in 0..n−1 for stream position p and a salt (what it is for). */
static int offset_at(const sampler *s, unsigned long long p, unsigned long long salt, int n) {
  return n <= 1 ? 0 : (int)(mix(mix(s->seed + salt) ^ (p * 0x2545F4914F6CDD1DULL)) % (unsigned long long)n);
}

/* Index and mirror flag of stream position p. */
static size_t sample_at(sampler *s, unsigned long long p, unsigned char *mirror) {
  long epoch = (long)(p / s->size);
  if (epoch != s->epoch) {
    for (size_t i = 0; i < s->size; i++) s->perm[i] = i;
    unsigned long long st = mix(s->seed ^ mix((unsigned long long)epoch + 1));
    for (size_t i = s->size; i > 1; i--) { /* Fisher-Yates */
      st = mix(st);
      size_t j = (size_t)(st % i), t = s->perm[i - 1];
      s->perm[i - 1] = s->perm[j], s->perm[j] = t;
    }
    s->epoch = epoch;
  }
  *mirror = (unsigned char)(mix(s->seed * 31 + p + 7) >> 63);
  return s->perm[p % s->size];
}

/* ---- progress ---------------------------------------------------------------------------------------- */

static void progress(const train_opts *o, const scl_train_stats *s, double rate, int tty, int last) {
  if (o->quiet) return;
  char eta[32];
  cli_format_duration(rate > 0 ? (double)(o->iters - s->iteration) * o->batch / rate : -1, eta, sizeof eta);
  int width = snprintf(NULL, 0, "%ld", o->iters);
  char line[256];
  snprintf(line, sizeof line, "iter %*ld/%ld  loss %7.4f  acc %5.3f  lambda %7.2f  lr %.2g  %6.1f img/s  ETA %s", width,
           s->iteration, o->iters, (double)s->loss, (double)s->accuracy, (double)s->lambda, (double)s->lr, rate, eta);
  if (tty) {
    fprintf(stderr, "\r%s\033[K%s", line, last ? "\n" : "");
  } else if (last || s->iteration == 1 || s->iteration % o->print_every == 0) {
    fprintf(stderr, "%s\n", line);
  }
  fflush(stderr);
}

/* The command that continues this run: the same arguments, with --resume pointing at the checkpoint. */
static void resume_hint(const train_opts *o, const char *ckpt) {
  fprintf(stderr, "resume with: spherecl train");
  for (int i = 1; i < o->argc; i++) {
    if (!strcmp(o->argv[i], "--resume")) {
      i++;
      continue;
    }
    fprintf(stderr, " %s", o->argv[i]);
  }
  fprintf(stderr, " --resume %s\n", ckpt);
}

/* The training set: MNIST, or an image folder with --ids, --holdout and --min-images applied.
   Returns 0, or 1 after printing the error. */
static int open_training_data(const train_opts *o, scl_dataset *ds, int *is_mnist) {
  scl_folder_filter filter = {o->first, o->last, o->min_images, NULL, 0};
  scl_pair *pairs = NULL;
  char **names = NULL;
  scl_status st = SCL_OK;
  if (o->holdout) {
    const int fold = o->holdout_fold;
    char path[4096];
    snprintf(path, sizeof path, "%.*s", (int)(strrchr(o->holdout, ':') - o->holdout), o->holdout);
    size_t npairs = 0, nnames = 0;
    int folds = 0;
    st = scl_pairs_read(path, &pairs, &npairs, &folds);
    if (st == SCL_OK && fold > folds) {
      fprintf(stderr, "spherecl train: --holdout %s: fold %d is out of range, %s has folds 1..%d\n", o->holdout, fold,
              path, folds);
      free(pairs);
      return 1;
    }
    if (st == SCL_OK && (st = scl_pairs_fold_people(pairs, npairs, fold - 1, &names, &nnames)) == SCL_OK) {
      filter.exclude = (const char *const *)names, filter.nexclude = nnames;
      if (o->rank == 0) fprintf(stderr, "leaving out the %zu people of fold %d of %s\n", nnames, fold, path);
    }
    if (st != SCL_OK) cli_report("train", NULL, st);
  }
  if (st == SCL_OK && (st = cli_open_dataset(o->data, 1, &filter, ds, is_mnist)) != SCL_OK) cli_report("train", NULL, st);
  if (st == SCL_OK && *is_mnist && (o->holdout || o->min_images)) {
    fprintf(stderr, "spherecl train: --holdout and --min-images apply to image folders, not MNIST\n");
    scl_dataset_release(*ds);
    st = SCL_ERR_INVALID_ARGUMENT;
  }
  free(pairs);
  free(names);
  return st != SCL_OK;
}

static int save(scl_net net, const char *path, int with_optimizer, const char *what) {
  scl_status st = scl_net_save(net, path, with_optimizer);
  if (st != SCL_OK) {
    cli_report("train", scl_net_context(net), st);
    return 0;
  }
  if (what) fprintf(stderr, "%s %s (iteration %ld)\n", what, path, scl_net_iteration(net));
  return 1;
}

static int train(int argc, char **argv, cli_mpi *mpi) {
  train_opts o;
  int rc = parse(argc, argv, &o);
  if (rc) return rc;
  o.rank = mpi->rank;
  if (mpi->size > 1) {
    if (o.batch % mpi->size) {
      fprintf(stderr, "spherecl train: --batch %ld (the global batch) does not split over %d ranks\n", o.batch,
              mpi->size);
      return 2;
    }
    if (mpi->rank == 0)
      fprintf(stderr, "spherecl train: one job of %d ranks (MPI), batch %ld = %d x %ld\n", mpi->size, o.batch,
              mpi->size, o.batch / mpi->size);
    else
      o.quiet = 1, o.log = o.plot = NULL;
  }
  char device_buf[32];
  o.device = cli_mpi_device(mpi, o.device, device_buf, sizeof device_buf);
  scl_dataset ds = NULL;
  int is_mnist = 0;
  if (open_training_data(&o, &ds, &is_mnist)) return 1;
  int c, h, w; /* the stored images */
  scl_dataset_shape(ds, &c, &h, &w);
  const int in_h = o.crop_h ? o.crop_h : h, in_w = o.crop_w ? o.crop_w : w; /* the net's input */
  if (in_h > h || in_w > w) {
    fprintf(stderr, "spherecl train: --crop %dx%d is larger than the %dx%d (WxH) images of %s\n", in_w, in_h, w, h,
            o.data);
    scl_dataset_release(ds);
    return 1;
  }
  size_t n = scl_dataset_size(ds);
  scl_context ctx = cli_context("train", o.device);
  if (!ctx) {
    scl_dataset_release(ds);
    return 1;
  }
  scl_net net = NULL;
  scl_status st;
  if (o.resume) {
    st = scl_net_load(ctx, o.resume, &net);
  } else {
    o.cfg.in_channels = c, o.cfg.in_height = in_h, o.cfg.in_width = in_w;
    /* spherecl's loaders give RGB and (p − 127.5)/128; a crop is recorded so that inference cuts
       the centre of images of the stored size. */
    o.cfg.input.order = SCL_CHANNELS_RGB;
    o.cfg.input.crop_height = o.crop_h ? h : 0, o.cfg.input.crop_width = o.crop_w ? w : 0;
    o.cfg.num_classes = scl_dataset_classes(ds);
    st = scl_net_create(ctx, &o.cfg, &net);
  }
  if (st != SCL_OK) {
    cli_report("train", ctx, st);
    rc = 1;
    goto done;
  }
  const scl_net_config *cfg = scl_net_get_config(net);
  int stored_h, stored_w;
  cli_stored_size(cfg, &stored_h, &stored_w);
  if (cfg->in_channels != c || stored_h != h || stored_w != w || cfg->num_classes != scl_dataset_classes(ds) ||
      (o.resume && (o.crop_h || o.crop_w) && (o.crop_h != cfg->in_height || o.crop_w != cfg->in_width))) {
    fprintf(stderr,
            "spherecl train: the checkpoint expects %dx%dx%d images (C x H x W; input %dx%d) and %d classes; %s has "
            "%dx%dx%d and %d (give the same --data, --ids, --holdout, --min-images and --crop as before)\n",
            cfg->in_channels, stored_h, stored_w, cfg->in_height, cfg->in_width, cfg->num_classes, o.data, c, h, w,
            scl_dataset_classes(ds));
    rc = 1;
    goto done;
  }
  if (o.mirror < 0) o.mirror = !is_mnist;
  char ckpt[4096];
  snprintf(ckpt, sizeof ckpt, "%s.ckpt", o.out);
  if (o.rank == 0)
    fprintf(stderr,
          "training SphereFace-%d (%dx%dx%d%s, %d classes, %zu images, embedding %d) on %s, batch %ld, lr %g, "
          "from iteration %ld to %ld\n",
          cfg->depth, c, cfg->in_height, cfg->in_width, cfg->input.crop_height ? " random crops" : "", cfg->num_classes,
          n, cfg->embed_dim, o.device ? o.device : "the default device", o.batch, (double)cfg->lr,
          scl_net_iteration(net) + 1, o.iters);
  mpi->bucket_mb = o.bucket_mb;
  cli_mpi_attach(mpi, net);

  /* This rank's share of each batch: bsz samples from position `first` of the global batch. */
  size_t bsz = (size_t)(o.batch / mpi->size), first = (size_t)mpi->rank * bsz;
  size_t img = (size_t)c * cfg->in_height * cfg->in_width;
  int *top = malloc(bsz * sizeof *top), *left = malloc(bsz * sizeof *left);
  float *images = malloc(bsz * img * sizeof *images);
  int *labels = malloc(bsz * sizeof *labels);
  size_t *idx = malloc(bsz * sizeof *idx);
  unsigned char *flip = malloc(bsz);
  sampler smp = {cfg->seed, n, -1, malloc(n * sizeof(size_t))};
  if (!images || !labels || !idx || !flip || !smp.perm || !top || !left) {
    fprintf(stderr, "spherecl train: out of memory\n");
    rc = 1;
    goto free_batch;
  }
  train_log log;
  if (train_log_open(&log, o.log, o.plot, o.resume != NULL)) {
    rc = 1;
    goto free_batch;
  }
  interrupted = 0;
  signal(SIGINT, on_sigint);
  int tty = cli_isatty_stderr();
  double t0 = cli_now(), rate = 0;
  long it0 = scl_net_iteration(net);
  scl_train_stats s = {0};
  int stop = 0;
  while (scl_net_iteration(net) < o.iters && !stop) {
    long it = scl_net_iteration(net) + 1;
    for (size_t i = 0; i < bsz; i++) {
      unsigned long long pos = (unsigned long long)(it - 1) * (unsigned long long)o.batch + first + i;
      idx[i] = sample_at(&smp, pos, &flip[i]);
      if (!o.mirror) flip[i] = 0;
      top[i] = offset_at(&smp, pos, 1, h - cfg->in_height + 1);
      left[i] = offset_at(&smp, pos, 2, w - cfg->in_width + 1);
    }
    if ((st = scl_dataset_get_crops(ds, idx, bsz, flip, top, left, cfg->in_height, cfg->in_width, images, labels)) !=
        SCL_OK) {
      cli_report("train", NULL, st);
      rc = 1;
      break;
    }
    if ((st = scl_net_train_step(net, images, labels, bsz, &s)) != SCL_OK) {
      cli_report("train", ctx, st);
      rc = 1;
      break;
    }
    stop = cli_mpi_step_done(mpi, &s, interrupted); /* every rank stops after the same step */
    double elapsed = cli_now() - t0;
    rate = elapsed > 0 ? (double)(s.iteration - it0) * (double)o.batch / elapsed : 0;
    progress(&o, &s, rate, tty, s.iteration == o.iters);
    if (s.iteration == 1 || s.iteration % o.print_every == 0 || s.iteration == o.iters) train_log_add(&log, &s, rate);
    if (o.rank == 0 && o.checkpoint_every && s.iteration % o.checkpoint_every == 0 && !save(net, ckpt, 1, NULL)) {
      rc = 1;
      break;
    }
  }
  signal(SIGINT, SIG_DFL);
  if (stop && rc == 0) {
    if (tty && o.rank == 0) fputc('\n', stderr);
    rc = o.rank || save(net, ckpt, 1, "interrupted: wrote checkpoint") ? 130 : 1;
    if (o.rank == 0) resume_hint(&o, ckpt);
  } else if (rc == 0 && o.rank == 0) {
    double elapsed = cli_now() - t0;
    if (!save(net, o.out, 0, "saved model")) rc = 1;
    else
      fprintf(stderr, "trained %ld iterations in %.1f s (%.1f images/s)\n", scl_net_iteration(net) - it0, elapsed,
              elapsed > 0 ? (double)(scl_net_iteration(net) - it0) * (double)o.batch / elapsed : 0.0);
    if (mpi->size > 1 && mpi->steps)
      fprintf(stderr,
              "gradient allreduce on rank 0, per step: %.3g MB in %.1f buckets, %.2f ms of allreduce, of which "
              "%.2f ms after the backward pass (not hidden)\n",
              (double)mpi->floats * 4 / 1e6, (double)mpi->buckets / (double)mpi->steps,
              1e3 * mpi->comm_s / (double)mpi->steps, 1e3 * mpi->wait_s / (double)mpi->steps);
  }
  if (train_log_close(&log) && rc == 0) rc = 1;
free_batch:
  free(images), free(labels), free(idx), free(flip), free(smp.perm), free(top), free(left);
done:
  scl_net_release(net);
  scl_context_release(ctx);
  scl_dataset_release(ds);
  return rc;
}

int cmd_train(int argc, char **argv) {
  cli_mpi mpi;
  if (cli_mpi_start(&mpi, &argc, &argv)) return 1;
  int rc = train(argc, argv, &mpi);
  /* A failed rank takes the whole job down rather than leave the others waiting in an allreduce;
     an interrupted job (130) has stopped on every rank together. */
  if (rc != 0 && rc != 130) cli_mpi_fail(&mpi, rc);
  cli_mpi_stop(&mpi);
  return rc;
}
