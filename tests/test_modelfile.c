/* The model-file container: round trips (every config field, the iteration, the threshold NaN or
   not, tensors bit for bit), the little-endian layout, refusal of every truncation and every flipped
   byte, newer versions, structurally absurd files that carry a valid CRC, and atomic saving (a
   failed save leaves the previous file intact and no temporary file behind). */
#include "net/modelfile.h"
#include "testkit/testkit.h"
#include "testkit/tk_files.h"

#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* ---- helpers ------------------------------------------------------------------------------------- */

static uint32_t le32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static void put_le32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* Rewrites the trailing CRC so that a deliberately patched file passes the checksum. */
static void fix_crc(unsigned char *buf, size_t n) {
  put_le32(buf + n - 4, (uint32_t)crc32(crc32(0L, Z_NULL, 0), buf, (uInt)(n - 4)));
}

/* Number of entries in dir whose name contains ".tmp-" (leftover temporary files). */
static int temp_files_in(const char *dir) {
  DIR *d = opendir(dir);
  int n = 0;
  struct dirent *e;
  while (d && (e = readdir(d)) != NULL) n += strstr(e->d_name, ".tmp-") != NULL;
  if (d) closedir(d);
  return n;
}

/* ---- models -------------------------------------------------------------------------------------- */

/* A config whose every field holds a distinct, non-default value. */
static scl_net_config odd_config(void) {
  scl_net_config c;
  memset(&c, 0, sizeof c);
  c.depth = 20, c.in_channels = 3, c.in_height = 112, c.in_width = 96;
  c.widths[0] = 11, c.widths[1] = 22, c.widths[2] = 33, c.widths[3] = 44;
  c.embed_dim = 513, c.num_classes = 10572;
  c.margin.type = SCL_MARGIN_COMBINED, c.margin.m = 4, c.margin.lambda = 892.857f, c.margin.grad = SCL_GRAD_EXACT;
  c.margin.s = 64.0f, c.margin.m1 = 1.0f, c.margin.m2 = 0.5f, c.margin.m3 = -0.35f;
  c.lambda_base = 1000, c.lambda_gamma = 0.12f, c.lambda_power = 1, c.lambda_min = 5;
  c.lr = 0.1f, c.momentum = 0.9f, c.weight_decay = 5e-4f, c.lr_gamma = 0.1f;
  c.lr_steps[0] = 16000, c.lr_steps[1] = 24000, c.lr_steps[2] = -7, c.lr_steps[3] = 2147483647L;
  c.seed = 0xFEDCBA9876543210ull;
  c.input.order = SCL_CHANNELS_BGR, c.input.mean = 127.25f, c.input.scale = 0.0078125f;
  c.input.crop_height = 116, c.input.crop_width = 100;
  c.unit_bias = 1;
  return c;
}

static int same_float(float a, float b) { return memcmp(&a, &b, sizeof a) == 0; }

static void expect_config(const scl_net_config *a, const scl_net_config *b) {
  TK_CHECK(a->depth == b->depth && a->in_channels == b->in_channels && a->in_height == b->in_height &&
           a->in_width == b->in_width);
  for (int i = 0; i < 4; i++) TK_CHECK(a->widths[i] == b->widths[i] && a->lr_steps[i] == b->lr_steps[i]);
  TK_CHECK(a->embed_dim == b->embed_dim && a->num_classes == b->num_classes);
  TK_CHECK(a->margin.type == b->margin.type && a->margin.m == b->margin.m && a->margin.grad == b->margin.grad);
  TK_CHECK(same_float(a->margin.lambda, b->margin.lambda) && same_float(a->margin.s, b->margin.s) &&
           same_float(a->margin.m1, b->margin.m1) && same_float(a->margin.m2, b->margin.m2) &&
           same_float(a->margin.m3, b->margin.m3));
  TK_CHECK(same_float(a->lambda_base, b->lambda_base) && same_float(a->lambda_gamma, b->lambda_gamma) &&
           same_float(a->lambda_power, b->lambda_power) && same_float(a->lambda_min, b->lambda_min));
  TK_CHECK(same_float(a->lr, b->lr) && same_float(a->momentum, b->momentum) &&
           same_float(a->weight_decay, b->weight_decay) && same_float(a->lr_gamma, b->lr_gamma));
  TK_CHECK(a->seed == b->seed);
  TK_CHECK(a->input.order == b->input.order && same_float(a->input.mean, b->input.mean) &&
           same_float(a->input.scale, b->input.scale) && a->input.crop_height == b->input.crop_height &&
           a->input.crop_width == b->input.crop_width);
  TK_CHECK(a->unit_bias == b->unit_bias);
}

static void set_tensor(scl_mf_tensor *t, const char *name, int ndim, size_t d0, size_t d1, size_t d2, size_t d3,
                       tk_rng *r) {
  memset(t, 0, sizeof *t);
  snprintf(t->name, sizeof t->name, "%s", name);
  t->ndim = ndim;
  size_t dims[4] = {d0, d1, d2, d3}, n = 1;
  for (int i = 0; i < ndim; i++) t->dims[i] = dims[i], n *= dims[i];
  t->data = malloc(n * sizeof *t->data);
  tk_fill_uniform(r, t->data, n, -2, 2);
}

/* A small checkpoint-like model; `big` adds a tensor of 20000 floats. */
static scl_mf_model make_model(uint64_t seed, int big) {
  tk_rng r = tk_rng_make(seed);
  scl_mf_model m;
  memset(&m, 0, sizeof m);
  m.config = odd_config();
  m.iteration = 123456789L;
  m.threshold = 0.4321f;
  m.has_optimizer = 1;
  m.ntensors = big ? 5 : 4;
  m.tensors = calloc(m.ntensors, sizeof *m.tensors);
  set_tensor(&m.tensors[0], "stage1/conv/w", 4, 3, 2, 3, 3, &r);
  set_tensor(&m.tensors[1], "fc5/b", 1, 7, 0, 0, 0, &r);
  set_tensor(&m.tensors[2], "history/stage1/conv/w", 4, 3, 2, 3, 3, &r);
  /* Values a careless writer would mangle: NaN with a payload, -0, ±inf, a subnormal. */
  set_tensor(&m.tensors[3], "specials-with-a-name-of-exactly-63-bytes-xxxxxxxxxxxxxxxxxxxxxx", 2, 2, 3, 0, 0, &r);
  TK_CHECK(strlen(m.tensors[3].name) == 63);
  uint32_t nan_bits = 0x7fc12345u;
  memcpy(&m.tensors[3].data[0], &nan_bits, 4);
  m.tensors[3].data[1] = -0.0f, m.tensors[3].data[2] = INFINITY, m.tensors[3].data[3] = -INFINITY;
  m.tensors[3].data[4] = 1e-45f;
  if (big) set_tensor(&m.tensors[4], "classes/w", 2, 100, 200, 0, 0, &r);
  return m;
}

static void expect_model(const scl_mf_model *a, const scl_mf_model *b) {
  expect_config(&a->config, &b->config);
  TK_CHECK(a->iteration == b->iteration && same_float(a->threshold, b->threshold));
  TK_CHECK(a->has_optimizer == b->has_optimizer && a->ntensors == b->ntensors);
  for (size_t i = 0; i < a->ntensors && i < b->ntensors; i++) {
    const scl_mf_tensor *x = &a->tensors[i], *y = &b->tensors[i];
    TK_CHECK_MSG(strcmp(x->name, y->name) == 0 && x->ndim == y->ndim, "tensor %zu: %s vs %s", i, x->name, y->name);
    size_t n = 1;
    for (int d = 0; d < 4; d++) {
      TK_CHECK(x->dims[d] == y->dims[d]);
      if (d < x->ndim) n *= x->dims[d];
    }
    TK_CHECK_MSG(memcmp(x->data, y->data, n * 4) == 0, "tensor %s differs", x->name);
  }
}

/* ---- cases --------------------------------------------------------------------------------------- */

static void roundtrip(scl_context ctx) {
  (void)ctx;
  char *dir = tk_temp_dir("mf");
  if (!dir) return;
  char path[4096];
  tk_join(path, sizeof path, dir, "model.scl");
  scl_mf_model m = make_model(1, 0), back;
  TK_OK(NULL, scl__modelfile_save(path, &m));
  TK_OK(NULL, scl__modelfile_load(path, &back));
  expect_model(&m, &back);
  scl__modelfile_free(&back);
  TK_CHECK(back.tensors == NULL && back.ntensors == 0);

  /* The layout is little-endian, byte by byte, whatever this host is. */
  size_t n;
  unsigned char *b = tk_read_file(path, &n);
  if (b && n > 200) {
    TK_CHECK(memcmp(b, "SPHERECL", 8) == 0);
    TK_CHECK(le32(b + 8) == 3 && le32(b + 12) == 188);
    TK_CHECK(le32(b + 16) == 20 && le32(b + 16 + 9 * 4) == 10572); /* depth, num_classes */
    TK_CHECK(b[16 + 136] == 0x10 && b[16 + 143] == 0xFE);          /* seed, least significant byte first */
    TK_CHECK(le32(b + 16 + 160) == 4);                             /* tensor count */
    TK_CHECK(le32(b + 16 + 164) == 1 && le32(b + 16 + 172) == 0x3C000000u); /* BGR; scale 1/128 */
    TK_CHECK(le32(b + 16 + 176) == 116 && le32(b + 16 + 180) == 100);      /* the crop, H then W */
    TK_CHECK(le32(b + 16 + 184) == 1);                                     /* unit_bias */
    TK_CHECK(b[204] == 13 && b[205] == 0 && memcmp(b + 206, "stage1/conv/w", 13) == 0);
    TK_CHECK(le32(b + n - 4) == (uint32_t)crc32(crc32(0L, Z_NULL, 0), b, (uInt)(n - 4)));
  }
  free(b);

  /* No threshold (NaN), no optimizer, no tensors; and a negative iteration count survives too. */
  scl_mf_model bare;
  memset(&bare, 0, sizeof bare);
  bare.config = odd_config();
  bare.threshold = NAN;
  bare.iteration = -5;
  TK_OK(NULL, scl__modelfile_save(path, &bare));
  TK_OK(NULL, scl__modelfile_load(path, &back));
  TK_CHECK(isnan(back.threshold) && back.ntensors == 0 && back.has_optimizer == 0 && back.iteration == -5);
  expect_config(&bare.config, &back.config);
  scl__modelfile_free(&back);
  scl__modelfile_free(NULL);
  TK_CHECK(temp_files_in(dir) == 0);
  scl__modelfile_free(&m);
  tk_temp_dir_remove(dir);
}

/* Loading must fail with FORMAT, name the file, contain needle (if any) and leave m as it was. */
static void expect_refused(const char *path, const char *needle) {
  scl_mf_model m, before;
  memset(&m, 0xAB, sizeof m);
  before = m;
  TK_EXPECT_FAIL(scl__modelfile_load(path, &m), SCL_ERR_FORMAT, path);
  if (needle)
    TK_CHECK_MSG(strstr(scl_context_error(NULL), needle), "\"%s\" lacks \"%s\"", scl_context_error(NULL), needle);
  TK_CHECK(memcmp(&m, &before, sizeof m) == 0);
}

/* A scratch folder holding model.scl, saved from make_model(seed, 0), with the file's bytes read
   back, and (other_name not NULL) the path of a second file there for damaged copies. */
typedef struct {
  char *dir;
  char path[4096], other[4096];
  scl_mf_model m;
  unsigned char *bytes;
  size_t n;
} saved_model;

/* Returns 0 (the failure recorded) when the folder, the save or the read-back failed; release s
   with saved_model_free either way. */
static int save_model(saved_model *s, uint64_t seed, const char *other_name) {
  memset(s, 0, sizeof *s);
  s->m = make_model(seed, 0);
  s->dir = tk_temp_dir("mf");
  if (!s->dir) return 0;
  tk_join(s->path, sizeof s->path, s->dir, "model.scl");
  if (other_name) tk_join(s->other, sizeof s->other, s->dir, other_name);
  if (!TK_STATUS(NULL, scl__modelfile_save(s->path, &s->m), SCL_OK)) return 0;
  s->bytes = tk_read_file(s->path, &s->n);
  return s->bytes != NULL;
}

static void saved_model_free(saved_model *s) {
  free(s->bytes);
  scl__modelfile_free(&s->m);
  tk_temp_dir_remove(s->dir);
}

static void truncation_everywhere(scl_context ctx) {
  (void)ctx;
  saved_model s;
  if (save_model(&s, 2, "cut.scl")) {
    for (size_t len = 0; len < s.n; len++) {
      tk_write_file(s.other, s.bytes, len);
      expect_refused(s.other, NULL);
    }
    /* One extra byte at the end is refused too. */
    unsigned char *longer = malloc(s.n + 1);
    memcpy(longer, s.bytes, s.n);
    longer[s.n] = 0;
    tk_write_file(s.other, longer, s.n + 1);
    expect_refused(s.other, NULL);
    free(longer);
  }
  saved_model_free(&s);
}

static void flipped_bytes(scl_context ctx) {
  (void)ctx;
  saved_model s;
  if (save_model(&s, 3, "bad.scl")) {
    unsigned char *b = s.bytes;
    for (size_t i = 0; i < s.n; i++) {
      b[i] ^= 0x10;
      tk_write_file(s.other, b, s.n);
      /* Past the magic and the version, any damage is reported as corruption. */
      expect_refused(s.other, i >= 12 ? "corrupt" : NULL);
      b[i] ^= 0x10;
    }
    /* In the magic: a foreign file; a text file, too. */
    b[0] = 'X';
    tk_write_file(s.other, b, s.n);
    expect_refused(s.other, "not a spherecl model file");
    tk_write_file(s.other, "hello, I am a text file\n", 24);
    expect_refused(s.other, "not a spherecl model file");
    tk_write_file(s.other, "", 0);
    expect_refused(s.other, NULL);
  }
  saved_model_free(&s);
}

static void newer_version(scl_context ctx) {
  (void)ctx;
  saved_model s;
  if (save_model(&s, 4, NULL)) {
    put_le32(s.bytes + 8, 4);
    fix_crc(s.bytes, s.n);
    tk_write_file(s.path, s.bytes, s.n);
    expect_refused(s.path, "newer spherecl (format 4); this build reads up to 3");
    put_le32(s.bytes + 8, 0);
    fix_crc(s.bytes, s.n);
    tk_write_file(s.path, s.bytes, s.n);
    expect_refused(s.path, "version 0");
  }
  saved_model_free(&s);
}

/* An older format made from a saved version-3 file by the documented layout: the header cut to its
   first `keep` bytes (164 for version 1, 184 for version 2), the version and the length set. */
static unsigned char *older_format(const saved_model *s, uint32_t version, size_t keep, size_t *n) {
  size_t cut = 188 - keep;
  unsigned char *b = malloc(s->n - cut);
  memcpy(b, s->bytes, 16 + keep);
  memcpy(b + 16 + keep, s->bytes + 16 + 188, s->n - (16 + 188));
  put_le32(b + 8, version);
  put_le32(b + 12, (uint32_t)keep);
  fix_crc(b, s->n - cut);
  *n = s->n - cut;
  return b;
}

/* A file of an older format still loads, with what every model of that format had (format 1, before
   the input block: RGB, (p − 127.5)/128, no crop; formats 1 and 2, before unit_bias: no unit
   biases), and one claiming the next format's header length is refused. */
static void expect_older_format(uint32_t version, size_t keep, size_t next_keep) {
  saved_model s;
  if (save_model(&s, 4 + version, NULL)) {
    size_t n;
    unsigned char *b = older_format(&s, version, keep, &n);
    tk_write_file(s.path, b, n);
    scl_mf_model back;
    TK_OK(NULL, scl__modelfile_load(s.path, &back));
    const scl_input_format *in = &back.config.input;
    if (version == 1)
      TK_CHECK(in->order == SCL_CHANNELS_RGB && in->mean == 127.5f && in->scale == 1.0f / 128.0f &&
               in->crop_height == 0 && in->crop_width == 0);
    else
      TK_CHECK(in->order == SCL_CHANNELS_BGR && in->crop_height == 116 && in->crop_width == 100);
    TK_CHECK(back.config.unit_bias == 0 && back.config.depth == 20 && back.ntensors == 4 &&
             back.config.seed == 0xFEDCBA9876543210ull);
    scl__modelfile_free(&back);
    put_le32(b + 12, (uint32_t)next_keep);
    fix_crc(b, n);
    tk_write_file(s.path, b, n);
    char needle[64];
    snprintf(needle, sizeof needle, "format %u has %zu", (unsigned)version, keep);
    expect_refused(s.path, needle);
    free(b);
  }
  saved_model_free(&s);
}

static void version1_files(scl_context ctx) {
  (void)ctx;
  expect_older_format(1, 164, 184);
}

static void version2_files(scl_context ctx) {
  (void)ctx;
  expect_older_format(2, 184, 188);
}

/* Files that pass the CRC but lie about their structure (forged or buggy writers). */
static void absurd_sizes(scl_context ctx) {
  (void)ctx;
  saved_model s;
  if (!save_model(&s, 5, "bad.scl")) {
    saved_model_free(&s);
    return;
  }
  const size_t t0 = 204; /* first tensor: u16 name length, name, u32 ndim, dims */
  const size_t dims0 = t0 + 2 + 13 + 4;
  struct {
    size_t offset;
    uint32_t value;
    int bytes; /* 1, 2 or 4 */
    const char *needle;
  } patches[] = {
      {12, 200, 4, "header length"},        /* header length */
      {12, 184, 4, "format 3 has 188"},     /* version 2's header length in a version-3 file */
      {16 + 156, 2, 4, "has_optimizer"},    /* has_optimizer */
      {16 + 160, 1000000, 4, "tensors"},    /* tensor count */
      {16 + 160, 5, 4, NULL},               /* one tensor more than there is */
      {16 + 160, 3, 4, "unexpected bytes"}, /* one tensor fewer: bytes left over */
      {t0, 64, 2, "name"},                  /* name longer than 63 */
      {t0, 0, 2, "name"},                   /* empty name */
      {t0 + 2 + 5, 0, 1, "NUL"},            /* a NUL inside the name */
      {t0 + 2 + 13, 5, 4, "ndim"},          /* ndim 5 */
      {t0 + 2 + 13, 0, 4, "ndim"},          /* ndim 0 */
      {dims0, 0, 4, "dimension"},           /* a zero dimension */
      {dims0, 0x7fffffff, 4, "dimension"},  /* 2^31 rows: beyond the file */
      {dims0 + 4, 1, 4, "dimension"},       /* 2^32 + 3 rows (high word) */
  };
  const size_t n = s.n;
  unsigned char *b = malloc(n + 8);
  for (size_t i = 0; i < sizeof patches / sizeof *patches; i++) {
    memcpy(b, s.bytes, n);
    size_t o = patches[i].offset;
    if (patches[i].bytes == 4)
      put_le32(b + o, patches[i].value);
    else if (patches[i].bytes == 2)
      b[o] = (unsigned char)patches[i].value, b[o + 1] = (unsigned char)(patches[i].value >> 8);
    else
      b[o] = (unsigned char)patches[i].value;
    fix_crc(b, n);
    tk_write_file(s.other, b, n);
    expect_refused(s.other, patches[i].needle);
  }
  /* Four stray bytes before the CRC. */
  memcpy(b, s.bytes, n - 4);
  memset(b + n - 4, 0, 4);
  fix_crc(b, n + 4);
  tk_write_file(s.other, b, n + 4);
  expect_refused(s.other, "unexpected bytes");
  free(b);
  saved_model_free(&s);
}

static void unreadable_files(scl_context ctx) {
  (void)ctx;
  char *dir = tk_temp_dir("mf");
  if (!dir) return;
  char path[4096];
  scl_mf_model m;
  memset(&m, 0, sizeof m);
  TK_EXPECT_FAIL(scl__modelfile_load(tk_join(path, sizeof path, dir, "missing.scl"), &m), SCL_ERR_IO, "missing.scl");
  TK_EXPECT_FAIL(scl__modelfile_load(dir, &m), SCL_ERR_IO, dir);
  TK_EXPECT_FAIL(scl__modelfile_load(NULL, &m), SCL_ERR_INVALID_ARGUMENT, NULL);
  TK_EXPECT_FAIL(scl__modelfile_load(path, NULL), SCL_ERR_INVALID_ARGUMENT, NULL);
  TK_CHECK(m.tensors == NULL);
  tk_temp_dir_remove(dir);
}

/* path must still hold exactly `want`. */
static void expect_file_holds(const char *path, const scl_mf_model *want) {
  scl_mf_model back;
  TK_OK(NULL, scl__modelfile_load(path, &back));
  expect_model(want, &back);
  scl__modelfile_free(&back);
}

static void atomic_save(scl_context ctx) {
  (void)ctx;
  char *dir = tk_temp_dir("mf");
  if (!dir) return;
  char path[4096], p[4096];
  tk_join(path, sizeof path, dir, "model.scl");
  scl_mf_model a = make_model(6, 0), b = make_model(7, 1);
  TK_OK(NULL, scl__modelfile_save(path, &a));

  /* A folder that does not exist. */
  TK_EXPECT_FAIL(scl__modelfile_save(tk_join(p, sizeof p, dir, "no/such/folder/model.scl"), &a), SCL_ERR_IO,
              "no/such/folder/model.scl");

  /* The temporary name is taken by a folder: the save fails, the old file stays, the folder too. */
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid());
  TK_CHECK(mkdir(tmp, 0755) == 0);
  TK_EXPECT_FAIL(scl__modelfile_save(path, &b), SCL_ERR_IO, path);
  struct stat sb;
  TK_CHECK(stat(tmp, &sb) == 0 && S_ISDIR(sb.st_mode));
  rmdir(tmp);
  expect_file_holds(path, &a);

  /* A failure in the middle of writing: the file-size limit stops the write (EFBIG). */
  struct rlimit old_limit, small;
  void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
  if (getrlimit(RLIMIT_FSIZE, &old_limit) == 0) {
    small = old_limit;
    small.rlim_cur = 4096;
    if (setrlimit(RLIMIT_FSIZE, &small) == 0) {
      TK_EXPECT_FAIL(scl__modelfile_save(path, &b), SCL_ERR_IO, path);
      setrlimit(RLIMIT_FSIZE, &old_limit);
      expect_file_holds(path, &a);
      TK_CHECK(temp_files_in(dir) == 0);
    } else {
      printf("    note: cannot lower RLIMIT_FSIZE; mid-write failure not checked\n");
    }
  }
  signal(SIGXFSZ, old_handler);

  /* A read-only folder (meaningless for root, who may write anyway). */
  if (geteuid() != 0) {
    tk_join(p, sizeof p, dir, "ro");
    TK_CHECK(mkdir(p, 0555) == 0);
    char inside[4200];
    snprintf(inside, sizeof inside, "%s/model.scl", p);
    TK_EXPECT_FAIL(scl__modelfile_save(inside, &a), SCL_ERR_IO, "ro/model.scl");
    TK_CHECK(temp_files_in(p) == 0);
    chmod(p, 0755);
  } else {
    printf("    note: running as root; the read-only-folder save is not checked\n");
  }

  /* Invalid models are refused before anything is written. */
  scl_mf_model bad = make_model(8, 0);
  memset(bad.tensors[1].name, 'x', sizeof bad.tensors[1].name); /* not NUL-terminated */
  TK_EXPECT_FAIL(scl__modelfile_save(path, &bad), SCL_ERR_INVALID_ARGUMENT, "tensor 1");
  bad.tensors[1].name[0] = 0;
  TK_EXPECT_FAIL(scl__modelfile_save(path, &bad), SCL_ERR_INVALID_ARGUMENT, "name");
  snprintf(bad.tensors[1].name, sizeof bad.tensors[1].name, "fc5/b");
  bad.tensors[1].ndim = 5;
  TK_EXPECT_FAIL(scl__modelfile_save(path, &bad), SCL_ERR_INVALID_ARGUMENT, "ndim");
  bad.tensors[1].ndim = 1;
  bad.tensors[1].dims[0] = 0;
  TK_EXPECT_FAIL(scl__modelfile_save(path, &bad), SCL_ERR_INVALID_ARGUMENT, "dimension");
  bad.tensors[1].dims[0] = 7;
  float *keep = bad.tensors[1].data;
  bad.tensors[1].data = NULL;
  TK_EXPECT_FAIL(scl__modelfile_save(path, &bad), SCL_ERR_INVALID_ARGUMENT, "NULL");
  bad.tensors[1].data = keep;
  TK_EXPECT_FAIL(scl__modelfile_save(NULL, &bad), SCL_ERR_INVALID_ARGUMENT, NULL);
  TK_EXPECT_FAIL(scl__modelfile_save(path, NULL), SCL_ERR_INVALID_ARGUMENT, NULL);
  expect_file_holds(path, &a);

  /* And a good save replaces the file. */
  TK_OK(NULL, scl__modelfile_save(path, &b));
  expect_file_holds(path, &b);
  TK_CHECK(temp_files_in(dir) == 0);
  scl__modelfile_free(&a), scl__modelfile_free(&b), scl__modelfile_free(&bad);
  tk_temp_dir_remove(dir);
}

int main(int argc, char **argv) {
  const tk_case cases[] = {{"roundtrip", roundtrip},         {"truncation_everywhere", truncation_everywhere},
                           {"flipped_bytes", flipped_bytes}, {"newer_version", newer_version}, {"version1_files", version1_files},
                           {"version2_files", version2_files},
                           {"absurd_sizes", absurd_sizes},   {"unreadable_files", unreadable_files},
                           {"atomic_save", atomic_save}};
  return tk_main(argc, argv, cases, sizeof cases / sizeof *cases);
}
