/* Datasets and image files: MNIST IDX (raw and gzip, synthetic and real), image folders (natural
   order, hidden and foreign files, ranges, odd-sized images), PGM/PPM, PNG and JPEG decoding, colour
   conversion, normalisation and mirroring. Every refusal is checked for its status, for a message
   naming the file, and for outputs left untouched. */
#include "data/data_internal.h"
#include "testkit/testkit.h"
#include "testkit/tk_files.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* ---- helpers ------------------------------------------------------------------------------------- */

static float norm(int p) { return ((float)p - 127.5f) / 128.0f; }

/* Binary (P5) or ASCII (P2) PGM, maxval 255. */
static void write_pgm(const char *path, int w, int h, const unsigned char *px, int ascii) {
  FILE *f = fopen(path, "wb");
  TK_CHECK_MSG(f != NULL, "cannot create %s", path);
  if (!f) return;
  fprintf(f, "%s\n# made by test_data\n%d %d\n255\n", ascii ? "P2" : "P5", w, h);
  if (ascii)
    for (int i = 0; i < w * h; i++) fprintf(f, "%d%c", px[i], (i + 1) % w ? ' ' : '\n');
  else
    fwrite(px, 1, (size_t)(w * h), f);
  fclose(f);
}

/* A w×h test pattern unique to seed, covering 0 and 255. */
static void pattern(unsigned char *px, int n, int seed) {
  for (int i = 0; i < n; i++) px[i] = (unsigned char)((i * 37 + seed * 101) % 256);
  px[0] = 0;
  if (n > 1) px[n - 1] = 255;
}

/* Checks out [c,h,w] == normalise(px [c,h,w]) exactly, flipped when mirror. */
static void expect_pixels(const char *what, const float *out, const unsigned char *px, int c, int h, int w,
                          int mirror) {
  int bad = 0;
  for (int ch = 0; ch < c; ch++)
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++) {
        float want = norm(px[(ch * h + y) * w + (mirror ? w - 1 - x : x)]);
        if (out[(ch * h + y) * w + x] != want && !bad++)
          tk_fail(__FILE__, __LINE__, "%s: [%d,%d,%d] is %.9g, expected %.9g", what, ch, y, x,
                  out[(ch * h + y) * w + x], want);
      }
}

static void poison(float *x, size_t n) {
  for (size_t i = 0; i < n; i++) x[i] = NAN;
}

static int all_nan(const float *x, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!isnan(x[i])) return 0;
  return 1;
}

/* ---- IDX files ------------------------------------------------------------------------------------ */

static void be32(unsigned char *p, unsigned v) {
  p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16), p[2] = (unsigned char)(v >> 8),
  p[3] = (unsigned char)v;
}

/* An IDX file: magic, dims, then n data bytes; raw or gzip-compressed. */
static void write_idx(const char *path, int gz, unsigned magic, const unsigned *dims, int ndim,
                      const unsigned char *data, size_t n) {
  unsigned char head[16];
  be32(head, magic);
  for (int i = 0; i < ndim; i++) be32(head + 4 + 4 * i, dims[i]);
  size_t hlen = 4 + 4 * (size_t)ndim;
  if (!gz) {
    FILE *f = fopen(path, "wb");
    TK_CHECK_MSG(f != NULL, "cannot create %s", path);
    if (!f) return;
    fwrite(head, 1, hlen, f);
    fwrite(data, 1, n, f);
    fclose(f);
    return;
  }
  gzFile f = gzopen(path, "wb");
  TK_CHECK_MSG(f != NULL, "cannot create %s", path);
  if (!f) return;
  gzwrite(f, head, (unsigned)hlen);
  if (n) gzwrite(f, data, (unsigned)n);
  gzclose(f);
}

typedef struct {
  unsigned n, rows, cols;
  unsigned char *pixels, *labels;
} mnist_set;

static mnist_set mnist_make(unsigned n, unsigned rows, unsigned cols, int seed) {
  mnist_set s = {n, rows, cols, malloc((size_t)n * rows * cols), malloc(n)};
  for (unsigned i = 0; i < n; i++) {
    pattern(s.pixels + (size_t)i * rows * cols, (int)(rows * cols), seed + (int)i);
    s.labels[i] = (unsigned char)((i * 3 + (unsigned)seed) % 10);
  }
  return s;
}

static void mnist_free(mnist_set *s) { free(s->pixels), free(s->labels); }

/* Writes prefix-images/labels files of s in dir (".gz" appended when gz). */
static void mnist_write(const char *dir, const char *prefix, const mnist_set *s, int gz) {
  char path[4096];
  unsigned idims[3] = {s->n, s->rows, s->cols}, ldims[1] = {s->n};
  snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte%s", dir, prefix, gz ? ".gz" : "");
  write_idx(path, gz, 2051, idims, 3, s->pixels, (size_t)s->n * s->rows * s->cols);
  snprintf(path, sizeof path, "%s/%s-labels-idx1-ubyte%s", dir, prefix, gz ? ".gz" : "");
  write_idx(path, gz, 2049, ldims, 1, s->labels, s->n);
}

/* Opens dir's MNIST pair and compares every sample (and a mirrored one) with s. */
static void mnist_expect(const char *dir, int train, const mnist_set *s) {
  scl_dataset ds = NULL;
  TK_OK(NULL, scl_dataset_open_mnist(dir, train, &ds));
  int c, h, w;
  scl_dataset_shape(ds, &c, &h, &w);
  TK_CHECK(scl_dataset_size(ds) == s->n);
  TK_CHECK(c == 1 && h == (int)s->rows && w == (int)s->cols);
  TK_CHECK(scl_dataset_classes(ds) == 10);
  TK_CHECK(scl_dataset_class_name(ds, 3) && strcmp(scl_dataset_class_name(ds, 3), "3") == 0);
  TK_CHECK(scl_dataset_class_name(ds, 10) == NULL && scl_dataset_class_name(ds, -1) == NULL);
  size_t sample = (size_t)h * w, n = s->n;
  size_t *idx = malloc(n * sizeof *idx);
  unsigned char *mirror = malloc(n);
  float *img = malloc(n * sample * sizeof *img);
  int *lab = malloc(n * sizeof *lab);
  for (size_t i = 0; i < n; i++) idx[i] = n - 1 - i, mirror[i] = (unsigned char)(i % 2);
  TK_STATUS(NULL, scl_dataset_get(ds, idx, n, mirror, img, lab), SCL_OK);
  for (size_t i = 0; i < n; i++) {
    char what[64];
    snprintf(what, sizeof what, "sample %zu (mirror %d)", idx[i], mirror[i]);
    expect_pixels(what, img + i * sample, s->pixels + idx[i] * sample, 1, h, w, mirror[i]);
    TK_CHECK_MSG(lab[i] == s->labels[idx[i]], "label of %zu: %d, expected %d", idx[i], lab[i], s->labels[idx[i]]);
  }
  free(idx), free(mirror), free(img), free(lab);
  scl_dataset_release(ds);
}

static void mnist_synthetic_roundtrip(scl_context ctx) {
  (void)ctx;
  for (int gz = 0; gz < 2; gz++) {
    char *dir = tk_temp_dir("data");
    if (!dir) return;
    mnist_set train = mnist_make(7, 5, 4, 1 + gz), test = mnist_make(3, 5, 4, 9);
    mnist_write(dir, "train", &train, gz);
    mnist_write(dir, "t10k", &test, gz);
    mnist_expect(dir, 1, &train);
    mnist_expect(dir, 0, &test);
    mnist_free(&train), mnist_free(&test);
    tk_temp_dir_remove(dir);
  }
}

static void mnist_prefers_raw(scl_context ctx) {
  (void)ctx;
  char *dir = tk_temp_dir("data");
  if (!dir) return;
  mnist_set raw = mnist_make(4, 3, 3, 1), gz = mnist_make(4, 3, 3, 2);
  mnist_write(dir, "train", &raw, 0);
  mnist_write(dir, "train", &gz, 1);
  mnist_expect(dir, 1, &raw);
  mnist_free(&raw), mnist_free(&gz);
  tk_temp_dir_remove(dir);
}

/* Opening dir must fail with `want`, the message naming `file` (and `also`), ds left alone. */
static void expect_mnist_refused(const char *dir, scl_status want, const char *file, const char *also) {
  scl_dataset ds = (scl_dataset)&ds; /* a sentinel that must survive */
  TK_EXPECT_FAIL(scl_dataset_open_mnist(dir, 1, &ds), want, file);
  if (also) TK_EXPECT_FAIL(scl_dataset_open_mnist(dir, 1, &ds), want, also);
  TK_CHECK(ds == (scl_dataset)&ds);
}

static void mnist_bad_files(scl_context ctx) {
  (void)ctx;
  char *dir = tk_temp_dir("data");
  if (!dir) return;
  char ip[4096], lp[4096], gp[4096];
  tk_join(ip, sizeof ip, dir, "train-images-idx3-ubyte");
  tk_join(lp, sizeof lp, dir, "train-labels-idx1-ubyte");
  tk_join(gp, sizeof gp, dir, "train-images-idx3-ubyte.gz");
  mnist_set s = mnist_make(7, 5, 4, 3);
  unsigned idims[3] = {7, 5, 4}, ldims[1] = {7};
  size_t npx = 7 * 5 * 4;

  expect_mnist_refused(dir, SCL_ERR_IO, "train-images-idx3-ubyte", NULL); /* nothing there */

  mnist_write(dir, "train", &s, 0);
  write_idx(ip, 0, 2051, idims, 3, s.pixels, npx - 1); /* one byte short */
  expect_mnist_refused(dir, SCL_ERR_FORMAT, ip, "truncated");
  tk_write_file(ip, "\0\0\x08", 3); /* not even a header */
  expect_mnist_refused(dir, SCL_ERR_FORMAT, ip, "truncated");

  unsigned char *extra = malloc(npx + 1);
  memcpy(extra, s.pixels, npx);
  extra[npx] = 42;
  write_idx(ip, 0, 2051, idims, 3, extra, npx + 1); /* trailing garbage */
  expect_mnist_refused(dir, SCL_ERR_FORMAT, ip, "trailing");

  write_idx(ip, 0, 2049, idims, 3, s.pixels, npx); /* a labels magic on the images file */
  expect_mnist_refused(dir, SCL_ERR_FORMAT, ip, "magic");

  unsigned zero[3] = {7, 0, 4};
  write_idx(ip, 0, 2051, zero, 3, s.pixels, 0);
  expect_mnist_refused(dir, SCL_ERR_FORMAT, ip, NULL);

  write_idx(ip, 0, 2051, idims, 3, s.pixels, npx);
  unsigned six[1] = {6};
  write_idx(lp, 0, 2049, six, 1, s.labels, 6); /* 7 images, 6 labels: both files named */
  expect_mnist_refused(dir, SCL_ERR_FORMAT, ip, lp);

  unsigned char badlab[7] = {1, 2, 3, 10, 4, 5, 6};
  write_idx(lp, 0, 2049, ldims, 1, badlab, 7);
  expect_mnist_refused(dir, SCL_ERR_FORMAT, lp, "label");

  /* The gzip path: content one byte short, then the compressed stream cut in half. */
  write_idx(lp, 0, 2049, ldims, 1, s.labels, 7);
  remove(ip);
  write_idx(gp, 1, 2051, idims, 3, s.pixels, npx - 1);
  expect_mnist_refused(dir, SCL_ERR_FORMAT, gp, "truncated");
  write_idx(gp, 1, 2051, idims, 3, s.pixels, npx);
  size_t n;
  unsigned char *gz = tk_read_file(gp, &n);
  tk_write_file(gp, gz, n / 2);
  free(gz);
  expect_mnist_refused(dir, SCL_ERR_FORMAT, gp, NULL);
  write_idx(gp, 1, 2051, idims, 3, s.pixels, npx); /* intact again: opens */
  mnist_expect(dir, 1, &s);

  scl_dataset ds = NULL;
  TK_EXPECT_FAIL(scl_dataset_open_mnist(NULL, 1, &ds), SCL_ERR_INVALID_ARGUMENT, NULL);
  TK_EXPECT_FAIL(scl_dataset_open_mnist(dir, 1, NULL), SCL_ERR_INVALID_ARGUMENT, NULL);
  free(extra);
  mnist_free(&s);
  tk_temp_dir_remove(dir);
}

static void normalisation_and_mirroring(scl_context ctx) {
  (void)ctx;
  char *dir = tk_temp_dir("data");
  if (!dir) return;
  /* Two 2×4 images; the values whose normalisation must be exact: 0, 255 and the middle. */
  mnist_set s = {2, 2, 4, malloc(16), malloc(2)};
  const unsigned char px[16] = {0, 255, 127, 128, 1, 2, 3, 4, 10, 20, 30, 40, 50, 60, 70, 80};
  memcpy(s.pixels, px, 16);
  s.labels[0] = 4, s.labels[1] = 9;
  mnist_write(dir, "train", &s, 0);
  scl_dataset ds = NULL;
  TK_OK(NULL, scl_dataset_open_mnist(dir, 1, &ds));
  float img[16];
  int lab[2] = {-1, -1};
  size_t idx[2] = {0, 1};
  TK_OK(NULL, scl_dataset_get(ds, idx, 2, NULL, img, lab));
  TK_CHECK(img[0] == -0.99609375f && img[0] == (0.0f - 127.5f) / 128.0f);
  TK_CHECK(img[1] == 0.99609375f && img[1] == (255.0f - 127.5f) / 128.0f);
  TK_CHECK(img[2] == -0.00390625f && img[3] == 0.00390625f);
  TK_CHECK(lab[0] == 4 && lab[1] == 9);
  const unsigned char flip[2] = {1, 0};
  TK_OK(NULL, scl_dataset_get(ds, idx, 2, flip, img, NULL));
  const float want0[8] = {norm(128), norm(127), norm(255), norm(0), norm(4), norm(3), norm(2), norm(1)};
  TK_CHECK(memcmp(img, want0, sizeof want0) == 0);
  expect_pixels("unmirrored second sample", img + 8, px + 8, 1, 2, 4, 0);
  /* Labels only, images only. */
  lab[0] = -1;
  TK_OK(NULL, scl_dataset_get(ds, idx + 1, 1, NULL, NULL, lab));
  TK_CHECK(lab[0] == 9);
  TK_OK(NULL, scl_dataset_get(ds, idx, 0, NULL, NULL, NULL));

  /* Bad calls: status, and outputs untouched. */
  float out[16];
  int labs[2] = {-7, -7};
  poison(out, 16);
  size_t bad[2] = {1, 2};
  TK_EXPECT_FAIL(scl_dataset_get(ds, bad, 2, NULL, out, labs), SCL_ERR_INVALID_ARGUMENT, "indices[1]");
  TK_CHECK(all_nan(out, 16) && labs[0] == -7 && labs[1] == -7);
  TK_EXPECT_FAIL(scl_dataset_get(ds, NULL, 2, NULL, out, labs), SCL_ERR_INVALID_ARGUMENT, "indices");
  TK_EXPECT_FAIL(scl_dataset_get(NULL, idx, 2, NULL, out, labs), SCL_ERR_INVALID_ARGUMENT, NULL);
  TK_CHECK(all_nan(out, 16) && labs[0] == -7);
  TK_CHECK(scl_dataset_size(NULL) == 0 && scl_dataset_classes(NULL) == 0 && !scl_dataset_class_name(NULL, 0));
  scl_dataset_release(ds);
  scl_dataset_release(NULL);
  mnist_free(&s);
  tk_temp_dir_remove(dir);
}

static void mnist_real(scl_context ctx) {
  (void)ctx;
  const char *shared = tk_shared_data();
  char dir[4096], probe[4096];
  struct stat sb;
  if (shared) tk_join(dir, sizeof dir, shared, "mnist");
  if (!shared || (stat(tk_join(probe, sizeof probe, dir, "train-images-idx3-ubyte.gz"), &sb) != 0 &&
                  stat(tk_join(probe, sizeof probe, dir, "train-images-idx3-ubyte"), &sb) != 0)) {
    printf("    note: no MNIST under the shared data folder; real-MNIST checks skipped\n");
    return;
  }
  const size_t sizes[2] = {10000, 60000};
  const int first_label[2] = {7, 5};
  for (int train = 0; train < 2; train++) {
    scl_dataset ds = NULL;
    TK_OK(NULL, scl_dataset_open_mnist(dir, train, &ds));
    int c, h, w;
    scl_dataset_shape(ds, &c, &h, &w);
    TK_CHECK(scl_dataset_size(ds) == sizes[train] && scl_dataset_classes(ds) == 10);
    TK_CHECK(c == 1 && h == 28 && w == 28);
    enum { N = 100 };
    size_t idx[N];
    int lab[N], counts[10] = {0};
    float *img = malloc(N * 784 * sizeof *img);
    for (int i = 0; i < N; i++) idx[i] = (size_t)i;
    TK_OK(NULL, scl_dataset_get(ds, idx, N, NULL, img, lab));
    TK_CHECK_MSG(lab[0] == first_label[train], "first %s label is %d", train ? "train" : "t10k", lab[0]);
    float lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < N * 784; i++) lo = fminf(lo, img[i]), hi = fmaxf(hi, img[i]);
    TK_CHECK_MSG(lo == norm(0) && hi == norm(255), "pixel range [%g, %g]", lo, hi);
    for (int i = 0; i < N; i++) counts[lab[i] >= 0 && lab[i] < 10 ? lab[i] : 0]++;
    for (int d = 0; d < 10; d++) TK_CHECK_MSG(counts[d] > 0, "digit %d missing from the first 100", d);
    size_t last = sizes[train] - 1, past = sizes[train];
    TK_OK(NULL, scl_dataset_get(ds, &last, 1, NULL, img, lab));
    TK_EXPECT_FAIL(scl_dataset_get(ds, &past, 1, NULL, img, lab), SCL_ERR_INVALID_ARGUMENT, NULL);
    free(img);
    scl_dataset_release(ds);
  }
}

/* ---- folders ------------------------------------------------------------------------------------- */

static void natural_order(scl_context ctx) {
  (void)ctx;
  const char *ordered[] = {"1",         "2",  "10", "a",  "a1",  "a2",  "a10",  "a10b",   "img2.pgm",
                           "img10.pgm", "s1", "s2", "s9", "s10", "s11", "s100", "x100y2", "x100y10"};
  size_t n = sizeof ordered / sizeof *ordered;
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++) {
      int c = scl__natural_compare(ordered[i], ordered[j]), want = i < j ? -1 : i > j;
      TK_CHECK_MSG((c > 0) - (c < 0) == want, "compare(%s, %s) = %d", ordered[i], ordered[j], c);
    }
  /* Equal but for leading zeros: still a strict, antisymmetric order. */
  int a = scl__natural_compare("s01", "s1"), b = scl__natural_compare("s1", "s01");
  TK_CHECK(a != 0 && (a > 0) == (b < 0));
}

/* The synthetic folder:
     s1/1.pgm 2.pgm 10.pgm (binary)      s2/1.pgm (ASCII), notes.txt, .hidden.pgm
     s10/1.PGM, 3.pgm (7 wide: odd)      s5/ (empty)   s6/readme.txt   .git/1.pgm   list.txt
   → identities s1, s2, s10 (s5 and s6 have no images), samples in this order:
     s1/1 s1/2 s1/10 s2/1 s10/1.PGM s10/3 */
#define FW 6
#define FH 5
static void build_folder(const char *root, unsigned char px[6][FW * FH]) {
  char p[4096];
  const char *files[6] = {"s1/1.pgm", "s1/2.pgm", "s1/10.pgm", "s2/1.pgm", "s10/1.PGM", "s10/3.pgm"};
  const char *dirs[] = {"s1", "s2", "s10", "s5", "s6", ".git"};
  for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) tk_make_dir(tk_join(p, sizeof p, root, dirs[i]));
  for (int i = 0; i < 6; i++) pattern(px[i], FW * FH, 10 + i);
  /* Written in scrambled order, so directory order cannot be what sorts them. */
  const int order[6] = {2, 5, 0, 4, 3, 1};
  for (int k = 0; k < 6; k++) {
    int i = order[k];
    unsigned char odd[7 * FH];
    pattern(odd, 7 * FH, 99);
    if (i == 5)
      write_pgm(tk_join(p, sizeof p, root, files[i]), 7, FH, odd, 0);
    else
      write_pgm(tk_join(p, sizeof p, root, files[i]), FW, FH, px[i], i == 3);
  }
  tk_write_file(tk_join(p, sizeof p, root, "s2/notes.txt"), "not an image", 12);
  write_pgm(tk_join(p, sizeof p, root, "s2/.hidden.pgm"), 3, 3, px[0], 0);
  tk_write_file(tk_join(p, sizeof p, root, "s6/readme.txt"), "x", 1);
  write_pgm(tk_join(p, sizeof p, root, ".git/1.pgm"), FW, FH, px[0], 0);
  tk_write_file(tk_join(p, sizeof p, root, "list.txt"), "x", 1);
}

static void folder_synthetic(scl_context ctx) {
  (void)ctx;
  char *root = tk_temp_dir("data");
  if (!root) return;
  unsigned char px[6][FW * FH];
  build_folder(root, px);
  scl_dataset ds = NULL;
  TK_OK(NULL, scl_dataset_open_folder(root, 0, 0, &ds));
  int c, h, w;
  scl_dataset_shape(ds, &c, &h, &w);
  TK_CHECK_MSG(c == 1 && h == FH && w == FW, "shape %dx%dx%d", c, h, w);
  TK_CHECK_MSG(scl_dataset_size(ds) == 6, "size %zu", scl_dataset_size(ds));
  TK_CHECK(scl_dataset_classes(ds) == 3);
  const char *names[3] = {"s1", "s2", "s10"};
  for (int i = 0; i < 3; i++) {
    const char *got = scl_dataset_class_name(ds, i);
    TK_CHECK_MSG(got && strcmp(got, names[i]) == 0, "class %d is %s, expected %s", i, got ? got : "NULL", names[i]);
  }
  TK_CHECK(scl_dataset_class_name(ds, 3) == NULL);

  /* The five good samples, some mirrored. */
  size_t idx[5] = {0, 1, 2, 3, 4};
  unsigned char mirror[5] = {0, 1, 0, 1, 0};
  const int want_labels[5] = {0, 0, 0, 1, 2};
  float img[5 * FW * FH];
  int lab[5];
  TK_OK(NULL, scl_dataset_get(ds, idx, 5, mirror, img, lab));
  for (int i = 0; i < 5; i++) {
    char what[32];
    snprintf(what, sizeof what, "folder sample %d", i);
    expect_pixels(what, img + i * FW * FH, px[i], 1, FH, FW, mirror[i]);
    TK_CHECK_MSG(lab[i] == want_labels[i], "label of sample %d is %d", i, lab[i]);
  }
  /* The odd-sized image: SCL_ERR_SHAPE naming it, when fetched; nothing written. */
  size_t with_odd[2] = {0, 5};
  float out[2 * FW * FH];
  int labs[2] = {-3, -3};
  poison(out, 2 * FW * FH);
  TK_EXPECT_FAIL(scl_dataset_get(ds, with_odd, 2, NULL, out, labs), SCL_ERR_SHAPE, "s10/3.pgm");
  TK_CHECK(all_nan(out, 2 * FW * FH) && labs[0] == -3 && labs[1] == -3);
  scl_dataset_release(ds);

  /* Identity ranges (1-based, inclusive, 0 = open). */
  struct {
    int first, last, classes;
    size_t size;
    const char *first_name;
  } ranges[] = {{2, 3, 2, 3, "s2"}, {3, 0, 1, 2, "s10"}, {0, 1, 1, 3, "s1"}, {2, 2, 1, 1, "s2"}};
  for (size_t r = 0; r < sizeof ranges / sizeof *ranges; r++) {
    ds = NULL;
    TK_OK(NULL, scl_dataset_open_folder(root, ranges[r].first, ranges[r].last, &ds));
    TK_CHECK_MSG(scl_dataset_classes(ds) == ranges[r].classes && scl_dataset_size(ds) == ranges[r].size,
                 "range %d..%d: %d classes, %zu samples", ranges[r].first, ranges[r].last, scl_dataset_classes(ds),
                 scl_dataset_size(ds));
    const char *got = scl_dataset_class_name(ds, 0);
    TK_CHECK(got && strcmp(got, ranges[r].first_name) == 0);
    size_t zero = 0;
    int l = -1;
    TK_OK(NULL, scl_dataset_get(ds, &zero, 1, NULL, NULL, &l));
    TK_CHECK(l == 0);
    scl_dataset_release(ds);
  }
  const int bad_ranges[][2] = {{4, 0}, {0, 4}, {3, 2}, {-1, 0}, {0, -2}};
  for (size_t r = 0; r < sizeof bad_ranges / sizeof *bad_ranges; r++) {
    ds = (scl_dataset)&ds;
    TK_EXPECT_FAIL(scl_dataset_open_folder(root, bad_ranges[r][0], bad_ranges[r][1], &ds), SCL_ERR_INVALID_ARGUMENT, root);
    TK_CHECK(ds == (scl_dataset)&ds);
  }

  /* A missing root, and one without identities (the empty s5 alone). */
  char p[4096];
  TK_EXPECT_FAIL(scl_dataset_open_folder(tk_join(p, sizeof p, root, "nowhere"), 0, 0, &ds), SCL_ERR_IO, "nowhere");
  TK_EXPECT_FAIL(scl_dataset_open_folder(tk_join(p, sizeof p, root, "s5"), 0, 0, &ds), SCL_ERR_FORMAT, "s5");
  TK_EXPECT_FAIL(scl_dataset_open_folder(NULL, 0, 0, &ds), SCL_ERR_INVALID_ARGUMENT, NULL);
  tk_temp_dir_remove(root);
}

static void att_faces(scl_context ctx) {
  (void)ctx;
  const char *shared = tk_shared_data();
  char root[4096], p[4096];
  struct stat sb;
  if (shared) tk_join(root, sizeof root, shared, "att_faces");
  if (!shared || stat(root, &sb) != 0) {
    printf("    note: no att_faces under the shared data folder; AT&T checks skipped\n");
    return;
  }
  scl_dataset ds = NULL;
  TK_OK(NULL, scl_dataset_open_folder(root, 0, 0, &ds));
  int c, h, w;
  scl_dataset_shape(ds, &c, &h, &w);
  TK_CHECK(scl_dataset_classes(ds) == 40 && scl_dataset_size(ds) == 400);
  TK_CHECK_MSG(c == 1 && h == 112 && w == 92, "shape %dx%dx%d", c, h, w);
  TK_CHECK(strcmp(scl_dataset_class_name(ds, 0), "s1") == 0 && strcmp(scl_dataset_class_name(ds, 1), "s2") == 0 &&
           strcmp(scl_dataset_class_name(ds, 9), "s10") == 0 && strcmp(scl_dataset_class_name(ds, 39), "s40") == 0);
  /* Sample 0 is s1/1.pgm and sample 2 is s1/2.pgm (natural order puts 10.pgm last): compare with
     the raw bytes, which a binary maxval-255 PGM keeps at its end. */
  const char *files[2] = {"s1/1.pgm", "s1/2.pgm"};
  size_t idx[2] = {0, 1};
  unsigned char mirror[2] = {0, 1};
  float *img = malloc(2 * 112 * 92 * sizeof *img);
  int lab[2];
  TK_OK(NULL, scl_dataset_get(ds, idx, 2, mirror, img, lab));
  for (int i = 0; i < 2; i++) {
    size_t n;
    unsigned char *buf = tk_read_file(tk_join(p, sizeof p, root, files[i]), &n);
    TK_CHECK(n > 112 * 92);
    if (n > 112 * 92) expect_pixels(files[i], img + i * 112 * 92, buf + n - 112 * 92, 1, 112, 92, mirror[i]);
    free(buf);
    TK_CHECK(lab[i] == 0);
  }
  size_t ten = 10;
  TK_OK(NULL, scl_dataset_get(ds, &ten, 1, NULL, NULL, lab));
  TK_CHECK(lab[0] == 1);
  free(img);
  scl_dataset_release(ds);

  TK_OK(NULL, scl_dataset_open_folder(root, 1, 30, &ds));
  TK_CHECK(scl_dataset_classes(ds) == 30 && scl_dataset_size(ds) == 300);
  TK_CHECK(strcmp(scl_dataset_class_name(ds, 29), "s30") == 0);
  scl_dataset_release(ds);
  TK_OK(NULL, scl_dataset_open_folder(root, 31, 40, &ds));
  TK_CHECK(scl_dataset_classes(ds) == 10 && scl_dataset_size(ds) == 100);
  TK_CHECK(strcmp(scl_dataset_class_name(ds, 0), "s31") == 0);
  scl_dataset_release(ds);
  TK_EXPECT_FAIL(scl_dataset_open_folder(root, 31, 41, &ds), SCL_ERR_INVALID_ARGUMENT, "att_faces");
}

/* ---- image files --------------------------------------------------------------------------------- */

static void pgm_and_ppm(scl_context ctx) {
  (void)ctx;
  char *dir = tk_temp_dir("data");
  if (!dir) return;
  char p[4096];
  float out[3 * 2 * 3];

  /* Comments anywhere in the header, binary samples. */
  const char p5[] = "P5\n# a comment\n3 # width\n2\n# maxval next\n255\n\x00\x10\x20\x80\xf0\xff";
  tk_write_file(tk_join(p, sizeof p, dir, "a.pgm"), p5, sizeof p5 - 1);
  const unsigned char want[6] = {0x00, 0x10, 0x20, 0x80, 0xf0, 0xff};
  TK_OK(NULL, scl_image_load(p, 1, 2, 3, out));
  expect_pixels("P5", out, want, 1, 2, 3, 0);

  /* ASCII, maxval 15: samples rescale to 0..255 (×17 exactly). */
  const char p2[] = "P2 3 2 15\n0 1 2\n  3 14 15\n";
  tk_write_file(tk_join(p, sizeof p, dir, "b.pgm"), p2, sizeof p2 - 1);
  const unsigned char want2[6] = {0, 17, 34, 51, 238, 255};
  TK_OK(NULL, scl_image_load(p, 1, 2, 3, out));
  expect_pixels("P2 maxval 15", out, want2, 1, 2, 3, 0);

  /* Grey into three channels: the plane three times. */
  TK_OK(NULL, scl_image_load(p, 3, 2, 3, out));
  for (int c = 0; c < 3; c++) expect_pixels("grey as colour", out + c * 6, want2, 1, 2, 3, 0);

  /* PPM colour: planar output, and grey as round(0.299 R + 0.587 G + 0.114 B). */
  const unsigned char rgb[18] = {200, 100, 50, 255, 255, 255, 0, 0, 0, 10, 20, 30, 1, 2, 3, 250, 5, 9};
  char p6[64];
  int hl = snprintf(p6, sizeof p6, "P6\n3 2\n255\n");
  memcpy(p6 + hl, rgb, 18);
  tk_write_file(tk_join(p, sizeof p, dir, "c.ppm"), p6, (size_t)hl + 18);
  TK_OK(NULL, scl_image_load(p, 3, 2, 3, out));
  unsigned char planar[18], grey[6];
  for (int c = 0; c < 3; c++)
    for (int i = 0; i < 6; i++) planar[c * 6 + i] = rgb[3 * i + c];
  expect_pixels("P6 planar", out, planar, 3, 2, 3, 0);
  for (int i = 0; i < 6; i++)
    grey[i] = (unsigned char)lround(0.299 * rgb[3 * i] + 0.587 * rgb[3 * i + 1] + 0.114 * rgb[3 * i + 2]);
  TK_CHECK(grey[0] == 124 && grey[1] == 255 && grey[2] == 0 && grey[3] == 18);
  TK_OK(NULL, scl_image_load(p, 1, 2, 3, out));
  expect_pixels("P6 as grey", out, grey, 1, 2, 3, 0);

  /* Refusals: status, the file named, out untouched. */
  struct {
    const char *name, *content;
    scl_status status;
    const char *needle;
  } bad[] = {
      {"trunc.pgm", "P5 3 2 255\n\x01\x02\x03\x04\x05", SCL_ERR_FORMAT, "truncated"},
      {"big.pgm", "P2 3 2 15\n0 1 2 3 16 15\n", SCL_ERR_FORMAT, "maxval"},
      {"sixteen.pgm", "P5 3 2 65535\n", SCL_ERR_UNSUPPORTED, "maxval"},
      {"header.pgm", "P5 3\n", SCL_ERR_FORMAT, "header"},
      {"short.pgm", "P2 3 2 255\n1 2 3 4 5\n", SCL_ERR_FORMAT, NULL},
      {"zero.pgm", "P5 0 2 255\n", SCL_ERR_FORMAT, NULL},
      {"text.pgm", "hello, world", SCL_ERR_FORMAT, "not a"},
      {"empty.pgm", "", SCL_ERR_FORMAT, NULL},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    tk_write_file(tk_join(p, sizeof p, dir, bad[i].name), bad[i].content, strlen(bad[i].content));
    poison(out, 18);
    TK_EXPECT_FAIL(scl_image_load(p, 1, 2, 3, out), bad[i].status, bad[i].name);
    if (bad[i].needle) TK_EXPECT_FAIL(scl_image_load(p, 1, 2, 3, out), bad[i].status, bad[i].needle);
    TK_CHECK(all_nan(out, 18));
  }
  tk_join(p, sizeof p, dir, "a.pgm");
  TK_EXPECT_FAIL(scl_image_load(p, 1, 3, 2, out), SCL_ERR_SHAPE, "a.pgm"); /* 2×3 file, 3×2 asked */
  TK_EXPECT_FAIL(scl_image_load(p, 2, 2, 3, out), SCL_ERR_INVALID_ARGUMENT, "channels");
  TK_EXPECT_FAIL(scl_image_load(p, 1, 0, 3, out), SCL_ERR_INVALID_ARGUMENT, NULL);
  TK_EXPECT_FAIL(scl_image_load(NULL, 1, 2, 3, out), SCL_ERR_INVALID_ARGUMENT, NULL);
  TK_EXPECT_FAIL(scl_image_load(p, 1, 2, 3, NULL), SCL_ERR_INVALID_ARGUMENT, NULL);
  TK_EXPECT_FAIL(scl_image_load(tk_join(p, sizeof p, dir, "missing.pgm"), 1, 2, 3, out), SCL_ERR_IO, "missing.pgm");
  TK_EXPECT_FAIL(scl_image_load(dir, 1, 2, 3, out), SCL_ERR_IO, dir); /* a folder */
  TK_CHECK(all_nan(out, 18));
  tk_temp_dir_remove(dir);
}

/* ---- PNG, written here by hand with zlib (so this test needs no libpng of its own) ------------- */

static void png_chunk(FILE *f, const char *type, const unsigned char *data, size_t n) {
  unsigned char b[4];
  be32(b, (unsigned)n);
  fwrite(b, 1, 4, f);
  fwrite(type, 1, 4, f);
  if (n) fwrite(data, 1, n, f);
  uLong crc = crc32(crc32(0L, Z_NULL, 0), (const Bytef *)type, 4);
  if (n) crc = crc32(crc, data, (uInt)n);
  be32(b, (unsigned)crc);
  fwrite(b, 1, 4, f);
}

/* An 8-bit PNG of colour type `type` (0 grey, 2 RGB, 3 palette, 6 RGBA): rows of w·spp bytes. */
static void write_png(const char *path, int w, int h, int type, const unsigned char *px, const unsigned char *plte,
                      int nplte, const unsigned char *trns, int ntrns) {
  int spp = type == 2 ? 3 : type == 6 ? 4 : 1;
  size_t stride = (size_t)w * (size_t)spp, rawn = (stride + 1) * (size_t)h;
  unsigned char *raw = malloc(rawn), *z = malloc(compressBound(rawn));
  for (int y = 0; y < h; y++) {
    raw[(stride + 1) * y] = 0; /* filter: none */
    memcpy(raw + (stride + 1) * y + 1, px + stride * y, stride);
  }
  uLongf zn = compressBound(rawn);
  TK_CHECK(compress(z, &zn, raw, rawn) == Z_OK);
  FILE *f = fopen(path, "wb");
  TK_CHECK_MSG(f != NULL, "cannot create %s", path);
  if (f) {
    fwrite("\x89PNG\r\n\x1a\n", 1, 8, f);
    unsigned char ihdr[13] = {0};
    be32(ihdr, (unsigned)w), be32(ihdr + 4, (unsigned)h);
    ihdr[8] = 8, ihdr[9] = (unsigned char)type;
    png_chunk(f, "IHDR", ihdr, 13);
    if (plte) png_chunk(f, "PLTE", plte, 3 * (size_t)nplte);
    if (trns) png_chunk(f, "tRNS", trns, (size_t)ntrns);
    png_chunk(f, "IDAT", z, zn);
    png_chunk(f, "IEND", NULL, 0);
    fclose(f);
  }
  free(raw), free(z);
}

static void png_files(scl_context ctx) {
  (void)ctx;
  char *dir = tk_temp_dir("data");
  if (!dir) return;
  enum { W = 5, H = 3, N = W * H };
  char p[4096];
  unsigned char grey[N], rgb[3 * N], rgba[4 * N], index[N], planar[3 * N], luma[N];
  const unsigned char plte[4 * 3] = {0, 0, 0, 255, 0, 0, 10, 200, 30, 255, 255, 255};
  const unsigned char trns[4] = {0, 128, 255, 255}; /* palette transparency: must be ignored */
  pattern(grey, N, 1);
  pattern(rgb, 3 * N, 2);
  for (int i = 0; i < N; i++) {
    index[i] = (unsigned char)(i % 4);
    for (int c = 0; c < 3; c++) rgba[4 * i + c] = rgb[3 * i + c], planar[c * N + i] = rgb[3 * i + c];
    rgba[4 * i + 3] = (unsigned char)(i * 17);
    luma[i] = (unsigned char)lround(0.299 * rgb[3 * i] + 0.587 * rgb[3 * i + 1] + 0.114 * rgb[3 * i + 2]);
  }
  float out[3 * N];
  write_png(tk_join(p, sizeof p, dir, "grey.png"), W, H, 0, grey, NULL, 0, NULL, 0);
  scl_status st = scl_image_load(p, 1, H, W, out);
  if (st == SCL_ERR_UNSUPPORTED) {
    TK_CHECK(strstr(scl_context_error(NULL), "PNG") != NULL);
    printf("    note: this build has no libpng; PNG decoding checks skipped\n");
    tk_temp_dir_remove(dir);
    return;
  }
  TK_STATUS(NULL, st, SCL_OK);
  expect_pixels("grey PNG", out, grey, 1, H, W, 0);

  write_png(tk_join(p, sizeof p, dir, "rgb.png"), W, H, 2, rgb, NULL, 0, NULL, 0);
  TK_OK(NULL, scl_image_load(p, 3, H, W, out));
  expect_pixels("RGB PNG", out, planar, 3, H, W, 0);
  TK_OK(NULL, scl_image_load(p, 1, H, W, out));
  expect_pixels("RGB PNG as grey", out, luma, 1, H, W, 0);

  write_png(tk_join(p, sizeof p, dir, "rgba.png"), W, H, 6, rgba, NULL, 0, NULL, 0);
  TK_OK(NULL, scl_image_load(p, 3, H, W, out));
  expect_pixels("RGBA PNG (alpha dropped)", out, planar, 3, H, W, 0);

  write_png(tk_join(p, sizeof p, dir, "palette.png"), W, H, 3, index, plte, 4, trns, 4);
  TK_OK(NULL, scl_image_load(p, 3, H, W, out));
  unsigned char pal_planar[3 * N];
  for (int i = 0; i < N; i++)
    for (int c = 0; c < 3; c++) pal_planar[c * N + i] = plte[3 * index[i] + c];
  expect_pixels("palette PNG", out, pal_planar, 3, H, W, 0);

  /* Cut inside the image data; then a damaged header CRC. */
  size_t n;
  unsigned char *png = tk_read_file(tk_join(p, sizeof p, dir, "rgb.png"), &n);
  poison(out, 3 * N);
  if (png) {
    tk_write_file(tk_join(p, sizeof p, dir, "cut.png"), png, n - 20);
    TK_EXPECT_FAIL(scl_image_load(p, 3, H, W, out), SCL_ERR_FORMAT, "cut.png");
    png[29] ^= 0xff; /* inside IHDR's CRC (signature 8 + length 4 + type 4 + data 13 = 29) */
    tk_write_file(tk_join(p, sizeof p, dir, "crc.png"), png, n);
    TK_EXPECT_FAIL(scl_image_load(p, 3, H, W, out), SCL_ERR_FORMAT, "crc.png");
  }
  free(png);
  TK_EXPECT_FAIL(scl_image_load(tk_join(p, sizeof p, dir, "grey.png"), 1, W, H, out), SCL_ERR_SHAPE, "grey.png");
  TK_CHECK(all_nan(out, 3 * N));

  /* A folder whose first image is colour: the grey one is replicated into three channels. */
  tk_make_dir(tk_join(p, sizeof p, dir, "faces"));
  tk_make_dir(tk_join(p, sizeof p, dir, "faces/alice"));
  write_png(tk_join(p, sizeof p, dir, "faces/alice/a.png"), W, H, 2, rgb, NULL, 0, NULL, 0);
  write_png(tk_join(p, sizeof p, dir, "faces/alice/b.PNG"), W, H, 0, grey, NULL, 0, NULL, 0);
  scl_dataset ds = NULL;
  TK_OK(NULL, scl_dataset_open_folder(tk_join(p, sizeof p, dir, "faces"), 0, 0, &ds));
  int c, h, w;
  scl_dataset_shape(ds, &c, &h, &w);
  TK_CHECK(c == 3 && h == H && w == W && scl_dataset_size(ds) == 2);
  size_t one = 1;
  TK_OK(NULL, scl_dataset_get(ds, &one, 1, NULL, out, NULL));
  for (int k = 0; k < 3; k++) expect_pixels("grey in a colour folder", out + k * N, grey, 1, H, W, 0);
  scl_dataset_release(ds);
  tk_temp_dir_remove(dir);
}

/* ---- JPEG: two small files made with libjpeg (quality 100) ------------------------------------- */

/* 16×8 grey: left half 40, right half 200. */
static const unsigned char jpeg_grey_16x8[163] = {
    0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00,
    0x00, 0xff, 0xdb, 0x00, 0x43, 0x00, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
    0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
    0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
    0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0xff, 0xc0, 0x00, 0x0b, 0x08, 0x00,
    0x08, 0x00, 0x10, 0x01, 0x01, 0x11, 0x00, 0xff, 0xc4, 0x00, 0x15, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x0b, 0xff, 0xc4, 0x00, 0x14, 0x10, 0x01, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xda, 0x00, 0x08, 0x01,
    0x01, 0x00, 0x00, 0x3f, 0x00, 0x27, 0xea, 0x80, 0x3f, 0xff, 0xd9,
};
/* 8×8 colour, every pixel (200, 100, 50). */
static const unsigned char jpeg_rgb_8x8[287] = {
    0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01,
    0x00, 0x00, 0xff, 0xdb, 0x00, 0x43, 0x00, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
    0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
    0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
    0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0xff,
    0xdb, 0x00, 0x43, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
    0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
    0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
    0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0xff, 0xc0, 0x00, 0x11,
    0x08, 0x00, 0x08, 0x00, 0x08, 0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01, 0xff, 0xc4, 0x00,
    0x15, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x06, 0xff, 0xc4, 0x00, 0x14, 0x10, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xc4, 0x00, 0x14, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09, 0xff, 0xc4, 0x00, 0x14, 0x11, 0x01, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xda, 0x00, 0x0c,
    0x03, 0x01, 0x00, 0x02, 0x11, 0x03, 0x11, 0x00, 0x3f, 0x00, 0x9f, 0x00, 0x57, 0x9b, 0x07, 0xff, 0xd9,
};

/* Lossy: decoded values within `tol` levels of the expected ones. */
static void expect_near(const char *what, const float *out, const unsigned char *want, size_t n, int tol) {
  for (size_t i = 0; i < n; i++) {
    float p = out[i] * 128.0f + 127.5f;
    if (fabsf(p - (float)want[i]) > (float)tol) {
      tk_fail(__FILE__, __LINE__, "%s: [%zu] is %.1f, expected %d ± %d", what, i, p, want[i], tol);
      return;
    }
  }
}

static void jpeg_files(scl_context ctx) {
  (void)ctx;
  char *dir = tk_temp_dir("data");
  if (!dir) return;
  char p[4096];
  float out[3 * 16 * 8];
  tk_write_file(tk_join(p, sizeof p, dir, "grey.jpg"), jpeg_grey_16x8, sizeof jpeg_grey_16x8);
  scl_status st = scl_image_load(p, 1, 8, 16, out);
  if (st == SCL_ERR_UNSUPPORTED) {
    TK_CHECK(strstr(scl_context_error(NULL), "JPEG") != NULL);
    printf("    note: this build has no libjpeg; JPEG decoding checks skipped\n");
    tk_temp_dir_remove(dir);
    return;
  }
  TK_STATUS(NULL, st, SCL_OK);
  unsigned char halves[16 * 8];
  for (int i = 0; i < 16 * 8; i++) halves[i] = i % 16 < 8 ? 40 : 200;
  expect_near("grey JPEG", out, halves, 16 * 8, 2);

  tk_write_file(tk_join(p, sizeof p, dir, "colour.JPEG"), jpeg_rgb_8x8, sizeof jpeg_rgb_8x8);
  TK_OK(NULL, scl_image_load(p, 3, 8, 8, out));
  unsigned char planar[3 * 64], luma[64];
  for (int i = 0; i < 64; i++) planar[i] = 200, planar[64 + i] = 100, planar[128 + i] = 50, luma[i] = 124;
  expect_near("colour JPEG", out, planar, 3 * 64, 3);
  TK_OK(NULL, scl_image_load(p, 1, 8, 8, out));
  expect_near("colour JPEG as grey", out, luma, 64, 3);

  /* Cut two bytes into the compressed data: libjpeg would only warn and pad with grey; we refuse it. */
  size_t cut = 0;
  for (size_t i = 0; i + 3 < sizeof jpeg_grey_16x8 && !cut; i++)
    if (jpeg_grey_16x8[i] == 0xff && jpeg_grey_16x8[i + 1] == 0xda) /* SOS, then its segment length */
      cut = i + 2 + ((size_t)jpeg_grey_16x8[i + 2] << 8 | jpeg_grey_16x8[i + 3]) + 2;
  TK_CHECK(cut > 0 && cut < sizeof jpeg_grey_16x8 - 2);
  tk_write_file(tk_join(p, sizeof p, dir, "cut.jpg"), jpeg_grey_16x8, cut);
  poison(out, 64);
  TK_EXPECT_FAIL(scl_image_load(p, 1, 8, 16, out), SCL_ERR_FORMAT, "cut.jpg");
  unsigned char broken[sizeof jpeg_grey_16x8];
  memcpy(broken, jpeg_grey_16x8, sizeof broken);
  for (size_t i = 0; i + 8 < sizeof broken; i++) /* width 0 in the frame header (SOF0) */
    if (broken[i] == 0xff && broken[i + 1] == 0xc0) broken[i + 7] = broken[i + 8] = 0;
  tk_write_file(tk_join(p, sizeof p, dir, "bad.jpg"), broken, sizeof broken);
  TK_EXPECT_FAIL(scl_image_load(p, 1, 8, 16, out), SCL_ERR_FORMAT, "bad.jpg");
  TK_CHECK(all_nan(out, 64));
  tk_temp_dir_remove(dir);
}

int main(int argc, char **argv) {
  const tk_case cases[] = {{"natural_order", natural_order},
                           {"mnist_synthetic_roundtrip", mnist_synthetic_roundtrip},
                           {"mnist_prefers_raw", mnist_prefers_raw},
                           {"mnist_bad_files", mnist_bad_files},
                           {"normalisation_and_mirroring", normalisation_and_mirroring},
                           {"mnist_real", mnist_real},
                           {"folder_synthetic", folder_synthetic},
                           {"att_faces", att_faces},
                           {"pgm_and_ppm", pgm_and_ppm},
                           {"png_files", png_files},
                           {"jpeg_files", jpeg_files}};
  return tk_main(argc, argv, cases, sizeof cases / sizeof *cases);
}
