/* Model files: the container behind scl_net_save / scl_net_load.
 *
 * Format version 3 (versions 1 and 2 are still read: version 1, without the input block, has RGB input,
 * (p − 127.5)/128, no crop; versions 1 and 2, without unit_bias, have none). Every number is little-endian whatever the host; floats are their IEEE-754
 * binary32 bit patterns (NaN payloads kept); nothing is written as a raw struct.
 *
 *   offset  size  field
 *   0       8     magic "SPHERECL" (ASCII, no terminator)
 *   8       4     u32 format version (3)
 *   12      4     u32 header length in bytes (188; 184 in version 2, 164 in version 1): the fields below
 *   16      188   header:
 *                   scl_net_config, field by field in declaration order:
 *                     i32 depth, i32 in_channels, i32 in_height, i32 in_width, i32 widths[0..3],
 *                     i32 embed_dim, i32 num_classes,
 *                     margin: i32 type (enum), i32 m, f32 lambda, i32 grad (enum), f32 s, f32 m1,
 *                             f32 m2, f32 m3,
 *                     f32 lambda_base, f32 lambda_gamma, f32 lambda_power, f32 lambda_min,
 *                     f32 lr, f32 momentum, f32 weight_decay, f32 lr_gamma,
 *                     i64 lr_steps[0..3], u64 seed                                   (144 bytes)
 *                   i64 iteration (training iterations done)
 *                   f32 threshold (verification threshold; NaN = none)
 *                   u32 has_optimizer (0 or 1: a checkpoint, whose momentum histories are ordinary
 *                       tensors named "history/...")
 *                   u32 tensor count
 *                   input (version 2 on): i32 channel order (0 RGB, 1 BGR), f32 mean, f32 scale,
 *                       i32 crop_height, i32 crop_width                              (20 bytes)
 *                   i32 unit_bias (version 3 on; 0 or 1)                               (4 bytes)
 *   204     ...   the tensors, one after another (at 200 in version 2, 180 in version 1):
 *                   u16 name length L (1..63), then L bytes of name (no NUL inside, none after)
 *                   u32 ndim (1..4), then ndim × u64 dims (each >= 1, outermost first)
 *                   dims[0]·…·dims[ndim-1] × f32 values, row-major
 *   end-4   4     u32 CRC-32 (zlib's crc32, the gzip/PNG polynomial) of every byte before it
 *
 * Reading checks, in this order, so each kind of damage gets the message that explains it: the magic
 * ("not a spherecl model file"), the version (a newer one is refused, naming both versions), the
 * CRC over the whole file ("corrupt"), then the structure itself with every size checked against the
 * bytes actually left (a file could carry a forged CRC). Nothing is allocated beyond what the file's
 * size can justify. A later version may change anything after the version field; readers refuse
 * versions newer than their own.
 *
 * Writing is atomic: "PATH.tmp-PID" is written, flushed, fsync'd and closed, renamed over PATH, and
 * the folder is fsync'd; any failure removes the temporary file and leaves an existing PATH intact.
 */
#include "net/modelfile.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define MF_MAGIC "SPHERECL"
#define MF_PREFIX 16          /* magic, version, header length */
#define MF_HEADER_V1 164      /* bytes of the version-1 header */
#define MF_HEADER_V2 184      /* bytes of the version-2 header: version 1's and the input block */
#define MF_HEADER_V3 188      /* bytes of the version-3 header: version 2's and unit_bias */
#define MF_MIN_TENSOR 19      /* smallest tensor record: u16 + 1 name byte + u32 + u64 + f32 */
#define MF_CHUNK_FLOATS 16384 /* floats converted per chunk when writing */

/* ---- little-endian bytes ------------------------------------------------------------------------ */

static void put_u32(unsigned char *p, uint32_t v) { scl__put_le(p, v, 4); }
static void put_u64(unsigned char *p, uint64_t v) { scl__put_le(p, v, 8); }
static uint32_t get_u32(const unsigned char *p) { return (uint32_t)scl__le(p, 4); }
static uint64_t get_u64(const unsigned char *p) { return scl__le(p, 8); }

/* ---- the header, described once for both directions ---------------------------------------------- */

/* Walks the header buffer field by field: writing copies each field into the bytes, reading copies
   the bytes into the field. One field list (header_fields) thus defines both, in one order. */
typedef struct {
  unsigned char *buf;
  size_t pos;
  int reading;
  const char *bad; /* reading: the first field whose value does not fit the host type */
} hdr_codec;

static void hc_u32(hdr_codec *c, uint32_t *v) {
  if (c->reading)
    *v = get_u32(c->buf + c->pos);
  else
    put_u32(c->buf + c->pos, *v);
  c->pos += 4;
}
static void hc_u64(hdr_codec *c, uint64_t *v) {
  if (c->reading)
    *v = get_u64(c->buf + c->pos);
  else
    put_u64(c->buf + c->pos, *v);
  c->pos += 8;
}
static void hc_i32(hdr_codec *c, int *v) {
  uint32_t u = c->reading ? 0 : (uint32_t)*v;
  hc_u32(c, &u);
  if (c->reading) *v = (int)(int32_t)u;
}
static void hc_f32(hdr_codec *c, float *v) {
  uint32_t u = 0;
  if (!c->reading) memcpy(&u, v, 4);
  hc_u32(c, &u);
  if (c->reading) memcpy(v, &u, 4);
}
static void hc_i64(hdr_codec *c, long *v, const char *name) {
  uint64_t u = c->reading ? 0 : (uint64_t)(int64_t)*v;
  hc_u64(c, &u);
  if (!c->reading) return;
  int64_t s = (int64_t)u;
  if ((int64_t)(long)s != s && !c->bad) c->bad = name;
  *v = (long)s;
}

typedef struct {
  scl_net_config cfg;
  long iteration;
  float threshold;
  uint32_t has_optimizer, ntensors;
} mf_header;

static void header_fields(hdr_codec *c, mf_header *h, uint32_t version) {
  scl_net_config *k = &h->cfg;
  int type = (int)k->margin.type, grad = (int)k->margin.grad;
  hc_i32(c, &k->depth);
  hc_i32(c, &k->in_channels), hc_i32(c, &k->in_height), hc_i32(c, &k->in_width);
  for (int i = 0; i < 4; i++) hc_i32(c, &k->widths[i]);
  hc_i32(c, &k->embed_dim), hc_i32(c, &k->num_classes);
  hc_i32(c, &type), hc_i32(c, &k->margin.m), hc_f32(c, &k->margin.lambda), hc_i32(c, &grad);
  hc_f32(c, &k->margin.s), hc_f32(c, &k->margin.m1), hc_f32(c, &k->margin.m2), hc_f32(c, &k->margin.m3);
  hc_f32(c, &k->lambda_base), hc_f32(c, &k->lambda_gamma), hc_f32(c, &k->lambda_power), hc_f32(c, &k->lambda_min);
  hc_f32(c, &k->lr), hc_f32(c, &k->momentum), hc_f32(c, &k->weight_decay), hc_f32(c, &k->lr_gamma);
  for (int i = 0; i < 4; i++) hc_i64(c, &k->lr_steps[i], "lr_steps");
  uint64_t seed = k->seed;
  hc_u64(c, &seed);
  k->seed = (unsigned long long)seed;
  k->margin.type = (scl_margin_type)type, k->margin.grad = (scl_grad_mode)grad;
  hc_i64(c, &h->iteration, "iteration");
  hc_f32(c, &h->threshold);
  hc_u32(c, &h->has_optimizer);
  hc_u32(c, &h->ntensors);
  scl_input_format *in = &k->input;
  if (version < 2) {
    if (c->reading) in->order = SCL_CHANNELS_RGB, in->mean = 127.5f, in->scale = 1.0f / 128.0f;
    return;
  }
  int order = (int)in->order;
  hc_i32(c, &order), hc_f32(c, &in->mean), hc_f32(c, &in->scale);
  hc_i32(c, &in->crop_height), hc_i32(c, &in->crop_width);
  in->order = (scl_channel_order)order;
  if (version < 3) {
    if (c->reading) k->unit_bias = 0;
    return;
  }
  hc_i32(c, &k->unit_bias);
}

static uint32_t header_length(uint32_t version) {
  return version < 2 ? MF_HEADER_V1 : version < 3 ? MF_HEADER_V2 : MF_HEADER_V3;
}

/* ---- saving -------------------------------------------------------------------------------------- */

typedef struct {
  FILE *f;
  uLong crc;
  int err; /* errno of the first failed write, 0 while all is well */
} mf_writer;

static void w_bytes(mf_writer *w, const void *p, size_t n) {
  if (w->err) return;
  w->crc = crc32(w->crc, p, (uInt)n);
  if (fwrite(p, 1, n, w->f) != n) w->err = errno ? errno : EIO;
}

static void w_tensor(mf_writer *w, const scl_mf_tensor *t) {
  unsigned char head[2 + 63 + 4 + 4 * 8], *p = head;
  size_t len = strlen(t->name), count = 1;
  p[0] = (unsigned char)len, p[1] = (unsigned char)(len >> 8);
  memcpy(p + 2, t->name, len);
  p += 2 + len;
  put_u32(p, (uint32_t)t->ndim);
  p += 4;
  for (int i = 0; i < t->ndim; i++, p += 8) {
    put_u64(p, (uint64_t)t->dims[i]);
    count *= t->dims[i];
  }
  w_bytes(w, head, (size_t)(p - head));
  unsigned char chunk[MF_CHUNK_FLOATS * 4];
  for (size_t i = 0; i < count; i += MF_CHUNK_FLOATS) {
    size_t n = count - i < MF_CHUNK_FLOATS ? count - i : MF_CHUNK_FLOATS;
    for (size_t j = 0; j < n; j++) {
      uint32_t u;
      memcpy(&u, &t->data[i + j], 4);
      put_u32(chunk + 4 * j, u);
    }
    w_bytes(w, chunk, 4 * n);
  }
}

/* What the file format can hold: checked before anything is written. */
static scl_status check_model(const char *path, const scl_mf_model *m) {
  if (m->ntensors && !m->tensors)
    return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, "saving model file %s: tensors is NULL", path);
  if (m->ntensors > UINT32_MAX)
    return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, "saving model file %s: %zu tensors", path, m->ntensors);
  for (size_t i = 0; i < m->ntensors; i++) {
    const scl_mf_tensor *t = &m->tensors[i];
    size_t len = strnlen(t->name, sizeof t->name);
    const char *why = NULL;
    uint64_t bytes = 4;
    if (len == 0 || len > SCL_MF_NAME_MAX)
      why = "its name is empty or not NUL-terminated within 64 bytes";
    else if (t->ndim < 1 || t->ndim > 4)
      why = "ndim is outside 1..4";
    else if (!t->data)
      why = "data is NULL";
    for (int d = 0; !why && d < t->ndim; d++) {
      if (t->dims[d] == 0)
        why = "a dimension is 0";
      else if ((uint64_t)t->dims[d] > (UINT64_MAX / 4) / bytes)
        why = "its size overflows";
      else
        bytes *= t->dims[d];
    }
    if (why)
      return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, "saving model file %s: tensor %zu (\"%.*s\"): %s", path, i,
                             (int)len, t->name, why);
  }
  return SCL_OK;
}

/* Writes the whole file to f; returns 0 or the errno of the first failure. */
static int write_model(FILE *f, const scl_mf_model *m) {
  mf_writer w = {f, crc32(0L, Z_NULL, 0), 0};
  unsigned char prefix[MF_PREFIX], header[MF_HEADER_V3];
  memcpy(prefix, MF_MAGIC, 8);
  put_u32(prefix + 8, SCL_MF_VERSION);
  put_u32(prefix + 12, MF_HEADER_V3);
  mf_header h = {m->config, m->iteration, m->threshold, m->has_optimizer ? 1u : 0u, (uint32_t)m->ntensors};
  hdr_codec c = {header, 0, 0, NULL};
  header_fields(&c, &h, SCL_MF_VERSION);
  w_bytes(&w, prefix, sizeof prefix);
  w_bytes(&w, header, sizeof header);
  for (size_t i = 0; i < m->ntensors; i++) w_tensor(&w, &m->tensors[i]);
  unsigned char crc[4];
  put_u32(crc, (uint32_t)w.crc);
  if (!w.err && fwrite(crc, 1, 4, f) != 4) w.err = errno ? errno : EIO;
  return w.err; /* flushing, fsync and the rename are scl__atomic_commit's */
}

scl_status scl__modelfile_save(const char *path, const scl_mf_model *m) {
  if (!path || !m)
    return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, "scl__modelfile_save: %s is NULL", !path ? "path" : "model");
  scl_status st = check_model(path, m);
  if (st != SCL_OK) return st;
  scl__atomic_file af;
  if ((st = scl__atomic_open(&af, path, "saving model file")) != SCL_OK) return st;
  errno = 0;
  int err = write_model(af.f, m);
  if (err) {
    scl__atomic_abort(&af);
    return scl__fail_noctx(SCL_ERR_IO, "cannot save model file %s: %s", path, strerror(err));
  }
  return scl__atomic_commit(&af, "saving model file");
}

/* ---- loading ------------------------------------------------------------------------------------- */

typedef struct {
  const char *path;
  FILE *f;
  uint64_t pos, end; /* end: where the CRC starts */
} mf_reader;

static scl_status truncated(const mf_reader *r, const char *what) {
  return scl__fail_noctx(SCL_ERR_FORMAT, "model file %s is truncated or corrupt: %s runs past the end of the data",
                         r->path, what);
}

/* Reads exactly n bytes of the data section (before the CRC). */
static scl_status r_bytes(mf_reader *r, void *p, size_t n, const char *what) {
  if (n > r->end - r->pos) return truncated(r, what);
  if (fread(p, 1, n, r->f) != n)
    return scl__fail_noctx(SCL_ERR_IO, "cannot read model file %s: %s", r->path,
                           ferror(r->f) ? strerror(errno) : "it changed while being read");
  r->pos += n;
  return SCL_OK;
}

/* Computes the CRC of bytes [0, end) and compares it with the stored one. */
static scl_status check_crc(mf_reader *r) {
  unsigned char buf[1 << 16], stored[4];
  uLong crc = crc32(0L, Z_NULL, 0);
  uint64_t left = r->end;
  if (fseek(r->f, 0, SEEK_SET) != 0)
    return scl__fail_noctx(SCL_ERR_IO, "cannot read model file %s: %s", r->path, strerror(errno));
  while (left > 0) {
    size_t n = left < sizeof buf ? (size_t)left : sizeof buf;
    if (fread(buf, 1, n, r->f) != n)
      return scl__fail_noctx(SCL_ERR_IO, "cannot read model file %s: %s", r->path,
                             ferror(r->f) ? strerror(errno) : "it changed while being read");
    crc = crc32(crc, buf, (uInt)n);
    left -= n;
  }
  if (fread(stored, 1, 4, r->f) != 4)
    return scl__fail_noctx(SCL_ERR_IO, "cannot read model file %s: it changed while being read", r->path);
  if (get_u32(stored) != (uint32_t)crc)
    return scl__fail_noctx(
        SCL_ERR_FORMAT,
        "model file %s is corrupt: CRC-32 mismatch (stored %08x, computed %08x); the file is damaged "
        "or truncated",
        r->path, (unsigned)get_u32(stored), (unsigned)crc);
  /* Back to the header, just after the prefix. */
  if (fseek(r->f, MF_PREFIX, SEEK_SET) != 0)
    return scl__fail_noctx(SCL_ERR_IO, "cannot read model file %s: %s", r->path, strerror(errno));
  r->pos = MF_PREFIX;
  return SCL_OK;
}

/* Magic and version: what kind of file this is, before trusting anything else. */
static scl_status check_prefix(mf_reader *r, uint64_t size, uint32_t *version_out, uint32_t *header_len) {
  unsigned char p[MF_PREFIX];
  size_t n = size < MF_PREFIX ? (size_t)size : MF_PREFIX;
  if (fread(p, 1, n, r->f) != n)
    return scl__fail_noctx(SCL_ERR_IO, "cannot read model file %s: %s", r->path, strerror(errno));
  size_t m = n < 8 ? n : 8;
  if (memcmp(p, MF_MAGIC, m) != 0)
    return scl__fail_noctx(SCL_ERR_FORMAT, "%s is not a spherecl model file (no \"SPHERECL\" magic)", r->path);
  if (n < 12)
    return scl__fail_noctx(SCL_ERR_FORMAT, "model file %s is truncated: %llu bytes", r->path, (unsigned long long)size);
  uint32_t version = get_u32(p + 8);
  if (version > SCL_MF_VERSION)
    return scl__fail_noctx(SCL_ERR_FORMAT,
                           "model file %s was written by a newer spherecl (format %u); this build reads "
                           "up to %d",
                           r->path, (unsigned)version, SCL_MF_VERSION);
  if (version == 0) return scl__fail_noctx(SCL_ERR_FORMAT, "model file %s has an invalid format version 0", r->path);
  if (size < MF_PREFIX + MF_HEADER_V1 + 4)
    return scl__fail_noctx(SCL_ERR_FORMAT, "model file %s is truncated: %llu bytes, less than a header", r->path,
                           (unsigned long long)size);
  *header_len = get_u32(p + 12);
  *version_out = version;
  return SCL_OK;
}

static scl_status read_header(mf_reader *r, uint32_t version, uint32_t header_len, mf_header *h) {
  if (header_len != header_length(version))
    return scl__fail_noctx(SCL_ERR_FORMAT, "model file %s: header length %u, format %u has %u", r->path,
                           (unsigned)header_len, (unsigned)version, (unsigned)header_length(version));
  unsigned char buf[MF_HEADER_V3];
  scl_status st = r_bytes(r, buf, header_len, "the header");
  if (st != SCL_OK) return st;
  memset(h, 0, sizeof *h);
  hdr_codec c = {buf, 0, 1, NULL};
  header_fields(&c, h, version);
  if (c.bad)
    return scl__fail_noctx(SCL_ERR_FORMAT, "model file %s: %s does not fit this platform's long", r->path, c.bad);
  if (h->has_optimizer > 1)
    return scl__fail_noctx(SCL_ERR_FORMAT, "model file %s: has_optimizer is %u, not 0 or 1", r->path,
                           (unsigned)h->has_optimizer);
  if (h->ntensors > (r->end - r->pos) / MF_MIN_TENSOR)
    return scl__fail_noctx(SCL_ERR_FORMAT, "model file %s claims %u tensors, more than its size can hold", r->path,
                           (unsigned)h->ntensors);
  return SCL_OK;
}

static scl_status read_tensor(mf_reader *r, size_t index, scl_mf_tensor *t) {
  unsigned char b[8];
  memset(t, 0, sizeof *t);
  scl_status st = r_bytes(r, b, 2, "a tensor name");
  if (st != SCL_OK) return st;
  size_t len = (size_t)b[0] | (size_t)b[1] << 8;
  if (len == 0 || len > SCL_MF_NAME_MAX)
    return scl__fail_noctx(SCL_ERR_FORMAT, "model file %s: tensor %zu has a name of %zu bytes (1..%d allowed)", r->path,
                           index, len, SCL_MF_NAME_MAX);
  if ((st = r_bytes(r, t->name, len, "a tensor name")) != SCL_OK) return st;
  t->name[len] = 0;
  if (strlen(t->name) != len)
    return scl__fail_noctx(SCL_ERR_FORMAT, "model file %s: tensor %zu's name contains a NUL byte", r->path, index);
  if ((st = r_bytes(r, b, 4, "a tensor's ndim")) != SCL_OK) return st;
  uint32_t ndim = get_u32(b);
  if (ndim < 1 || ndim > 4)
    return scl__fail_noctx(SCL_ERR_FORMAT, "model file %s: tensor \"%s\" has ndim %u (1..4 allowed)", r->path, t->name,
                           (unsigned)ndim);
  t->ndim = (int)ndim;
  uint64_t count = 1;
  for (int i = 0; i < t->ndim; i++) {
    if ((st = r_bytes(r, b, 8, "a tensor's dims")) != SCL_OK) return st;
    uint64_t d = get_u64(b);
    if (d == 0)
      return scl__fail_noctx(SCL_ERR_FORMAT, "model file %s: tensor \"%s\" has dimension %d = 0", r->path, t->name, i);
    /* Every value is 4 bytes of what is left: bounding by the remaining size also rules out overflow. */
    if (d > (r->end - r->pos) / 4 / count)
      return scl__fail_noctx(SCL_ERR_FORMAT,
                             "model file %s: tensor \"%s\" has dimension %d = %llu, more data than the file holds",
                             r->path, t->name, i, (unsigned long long)d);
    count *= d;
    t->dims[i] = (size_t)d;
  }
  t->data = malloc((size_t)count * 4);
  if (!t->data)
    return scl__fail_noctx(SCL_ERR_OUT_OF_MEMORY, "loading model file %s: out of host memory for tensor \"%s\"",
                           r->path, t->name);
  if ((st = r_bytes(r, t->data, (size_t)count * 4, "tensor data")) != SCL_OK) return st;
  /* Little-endian bytes to host floats, in place. */
  unsigned char *bytes = (unsigned char *)t->data;
  for (size_t i = 0; i < (size_t)count; i++) {
    uint32_t u = get_u32(bytes + 4 * i);
    memcpy(&t->data[i], &u, 4);
  }
  return SCL_OK;
}

void scl__modelfile_free(scl_mf_model *m) {
  if (!m) return;
  for (size_t i = 0; i < m->ntensors; i++) free(m->tensors ? m->tensors[i].data : NULL);
  free(m->tensors);
  memset(m, 0, sizeof *m);
}

/* Everything after the file is open; the result goes to *m only when all of it succeeded. */
static scl_status load_open(mf_reader *r, scl_mf_model *m) {
  struct stat sb;
  if (fstat(fileno(r->f), &sb) != 0 || !S_ISREG(sb.st_mode))
    return scl__fail_noctx(SCL_ERR_IO, "cannot read model file %s: not a regular file", r->path);
  uint64_t size = (uint64_t)sb.st_size;
  uint32_t header_len = 0, version = 0;
  scl_status st = check_prefix(r, size, &version, &header_len);
  if (st != SCL_OK) return st;
  r->end = size - 4;
  if ((st = check_crc(r)) != SCL_OK) return st;
  mf_header h;
  if ((st = read_header(r, version, header_len, &h)) != SCL_OK) return st;
  scl_mf_model out = {h.cfg, h.iteration, h.threshold, (int)h.has_optimizer, 0, NULL};
  out.tensors = calloc(h.ntensors ? h.ntensors : 1, sizeof *out.tensors);
  if (!out.tensors) return scl__fail_noctx(SCL_ERR_OUT_OF_MEMORY, "loading model file %s: out of host memory", r->path);
  for (size_t i = 0; st == SCL_OK && i < h.ntensors; i++) {
    st = read_tensor(r, i, &out.tensors[i]);
    out.ntensors = i + 1; /* so the free below releases a partly read tensor too */
  }
  if (st == SCL_OK && r->pos != r->end)
    st = scl__fail_noctx(SCL_ERR_FORMAT, "model file %s has %llu unexpected bytes after its last tensor", r->path,
                         (unsigned long long)(r->end - r->pos));
  if (st != SCL_OK) {
    scl__modelfile_free(&out);
    return st;
  }
  *m = out;
  return SCL_OK;
}

scl_status scl__modelfile_load(const char *path, scl_mf_model *m) {
  if (!path || !m)
    return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, "scl__modelfile_load: %s is NULL", !path ? "path" : "model");
  mf_reader r = {path, fopen(path, "rb"), 0, 0};
  if (!r.f) return scl__fail_noctx(SCL_ERR_IO, "cannot open model file %s: %s", path, strerror(errno));
  scl_status st = load_open(&r, m);
  fclose(r.f);
  return st;
}
