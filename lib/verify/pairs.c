/* Pairs files (LFW's pairs.txt): reading, writing, drawing balanced pairs from an image folder, and
   finding the image file of a (name, number).

   The file: a header "folds pairs_per_class" (LFW: "10 300"; a single number means one fold, as in
   LFW's pairsDevTrain.txt), then per fold pairs_per_class lines "name i j" (same person) followed
   by pairs_per_class lines "name1 i name2 j" (different people). Fields are separated by spaces or
   tabs, a CR before the newline is ignored, and blank lines are skipped. Names are 1..127 bytes
   with no whitespace or control characters; image numbers are positive decimal integers.

   Drawing (scl_pairs_make), all from one splitmix64 stream seeded by `seed`:
   - identities are those of scl_dataset_open_folder (natural order, first..last), and an image
     counts when its file name is one scl_pairs_image_path finds by itself ("Name_0003.jpg" or
     "3.pgm"; the number is read from the name), so every drawn pair resolves again;
   - with at least 2·folds such identities, each identity belongs to one fold (as in LFW, where no
     person is in two folds): the identities are shuffled and dealt round-robin, those with two or
     more images first, so folds differ by at most one identity (and one same-capable identity);
     each fold draws from its own. With fewer, a fold could not hold two identities for different
     pairs, so all folds draw from one pool and the draws are dealt out fold by fold;
   - pairs are drawn in rounds over the identities in a fresh random order, one pair anchored at
     each (same: two of its images; different: one of its with one of another identity's, chosen
     uniformly), so identities take part about equally; a drawn pair (unordered) is never drawn
     again; an identity with no new pair left drops out of the rounds;
   - asking more than the folds can hold is SCL_ERR_INVALID_ARGUMENT, saying the most possible. */
#include "verify/verify_internal.h"
#include "data/data_internal.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FOLDS 32
#define MAX_PER_CLASS 1000000
#define NAME_SIZE sizeof(((scl_pair *)0)->name_a)
#define PATH_SIZE 4096

/* ---- names and numbers ------------------------------------------------------------------------ */

/* Why the len bytes at name cannot be a name in a pairs file, or NULL when they can. */
static const char *name_problem(const char *name, size_t len) {
  if (len == 0) return "is empty";
  if (len >= NAME_SIZE) return "is longer than 127 bytes";
  for (size_t i = 0; i < len; i++)
    if ((unsigned char)name[i] <= ' ' || name[i] == 0x7f) return "contains whitespace or a control character";
  return NULL;
}

/* The positive decimal integer spelled by the nd digits at s (no sign, at most 9 digits); 0 if none. */
static int parse_number(const char *s, size_t nd) {
  if (nd == 0 || nd > 9) return 0;
  int v = 0;
  for (size_t i = 0; i < nd; i++) {
    if (s[i] < '0' || s[i] > '9') return 0;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

/* ---- reading ---------------------------------------------------------------------------------- */

typedef struct {
  FILE *f;
  const char *path;
  long line; /* number of the line in buf (1-based) */
  char buf[1024];
} line_reader;

/* Reads the next non-blank line into r->buf without its line end. *eof = 1 at the end of the file. */
static scl_status next_line(line_reader *r, int *eof) {
  for (;;) {
    if (!fgets(r->buf, sizeof r->buf, r->f)) {
      if (ferror(r->f)) return scl__fail_noctx(SCL_ERR_IO, "%s:%ld: read error", r->path, r->line + 1);
      *eof = 1;
      return SCL_OK;
    }
    r->line++;
    size_t len = strlen(r->buf);
    if (len && r->buf[len - 1] == '\n') r->buf[--len] = '\0';
    else if (!feof(r->f))
      return scl__fail_noctx(SCL_ERR_FORMAT, "%s:%ld: line longer than %zu bytes", r->path, r->line,
                             sizeof r->buf - 2);
    if (len && r->buf[len - 1] == '\r') r->buf[--len] = '\0';
    if (r->buf[strspn(r->buf, " \t")] != '\0') {
      *eof = 0;
      return SCL_OK;
    }
  }
}

#define MAX_FIELDS 4

/* Splits s in place at runs of spaces and tabs; stores up to MAX_FIELDS fields and returns how many
   there are in all. */
static int split_fields(char *s, char **fields) {
  int n = 0;
  for (;;) {
    while (*s == ' ' || *s == '\t') *s++ = '\0';
    if (!*s) return n;
    if (n < MAX_FIELDS) fields[n] = s;
    n++;
    while (*s && *s != ' ' && *s != '\t') s++;
  }
}

static scl_status read_name(const line_reader *r, const char *field, char *out) {
  const char *why = name_problem(field, strlen(field));
  if (why) return scl__fail_noctx(SCL_ERR_FORMAT, "%s:%ld: the name \"%.40s\" %s", r->path, r->line, field, why);
  strcpy(out, field);
  return SCL_OK;
}

static scl_status read_number(const line_reader *r, const char *field, int *out) {
  *out = parse_number(field, strlen(field));
  if (*out <= 0)
    return scl__fail_noctx(SCL_ERR_FORMAT, "%s:%ld: image number \"%.40s\" is not a positive integer", r->path,
                           r->line, field);
  return SCL_OK;
}

/* Parses the header: "folds pairs_per_class", or "pairs_per_class" alone for one fold. */
static scl_status read_header(line_reader *r, int *folds, int *per_class) {
  int eof = 0;
  scl_status st = next_line(r, &eof);
  if (st != SCL_OK) return st;
  if (eof) return scl__fail_noctx(SCL_ERR_FORMAT, "%s:%ld: empty file (no header)", r->path, r->line + 1);
  char *f[MAX_FIELDS];
  int n = split_fields(r->buf, f);
  *folds = n == 2 ? parse_number(f[0], strlen(f[0])) : 1;
  *per_class = n == 1 || n == 2 ? parse_number(f[n - 1], strlen(f[n - 1])) : 0;
  if ((n != 1 && n != 2) || *folds < 1 || *folds > MAX_FOLDS || *per_class < 1 || *per_class > MAX_PER_CLASS)
    return scl__fail_noctx(SCL_ERR_FORMAT,
                           "%s:%ld: bad header: expected \"folds pairs_per_class\" with folds in 1..%d and "
                           "pairs_per_class in 1..%d",
                           r->path, r->line, MAX_FOLDS, MAX_PER_CLASS);
  return SCL_OK;
}

/* Parses r->buf as pair p (its kind and fold already set). */
static scl_status read_pair(line_reader *r, scl_pair *p) {
  char *f[MAX_FIELDS];
  int n = split_fields(r->buf, f), want = p->same ? 3 : 4;
  if (n != want)
    return scl__fail_noctx(SCL_ERR_FORMAT, "%s:%ld: a %s pair has %d fields (%s), this line has %d", r->path, r->line,
                           p->same ? "same-person" : "different-person", want,
                           p->same ? "name i j" : "name1 i name2 j", n);
  scl_status st = read_name(r, f[0], p->name_a);
  if (st == SCL_OK) st = read_number(r, f[1], &p->index_a);
  if (st == SCL_OK) st = read_name(r, p->same ? f[0] : f[2], p->name_b);
  if (st == SCL_OK) st = read_number(r, f[p->same ? 2 : 3], &p->index_b);
  if (st == SCL_OK && !p->same && strcmp(p->name_a, p->name_b) == 0)
    st = scl__fail_noctx(SCL_ERR_FORMAT, "%s:%ld: a different-person pair names \"%s\" twice", r->path, r->line,
                         p->name_a);
  return st;
}

static scl_status read_all(line_reader *r, scl_pair **pairs, size_t *npairs, int *folds) {
  int per_class = 0;
  scl_status st = read_header(r, folds, &per_class);
  if (st != SCL_OK) return st;
  size_t block = 2 * (size_t)per_class, total = (size_t)*folds * block;
  /* A pair line is at least 6 bytes ("a\t1\t2\n"): a header promising more pairs than the file can
     hold is refused before anything is allocated for them (found by fuzz_text). */
  struct stat sb;
  if (fstat(fileno(r->f), &sb) == 0 && S_ISREG(sb.st_mode) && total > (size_t)sb.st_size / 6 + 1)
    return scl__fail_noctx(SCL_ERR_FORMAT, "%s: the header's %d × 2 × %d pairs are more than its %lld bytes can hold",
                           r->path, *folds, per_class, (long long)sb.st_size);
  scl_pair *v = calloc(total, sizeof *v);
  if (!v) return scl__fail_noctx(SCL_ERR_OUT_OF_MEMORY, "%s: out of host memory for %zu pairs", r->path, total);
  int eof = 0;
  for (size_t i = 0; i < total && st == SCL_OK; i++) {
    st = next_line(r, &eof);
    if (st == SCL_OK && eof)
      st = scl__fail_noctx(SCL_ERR_FORMAT, "%s:%ld: the file ends after %zu of the header's %d × 2 × %d pairs",
                           r->path, r->line + 1, i, *folds, per_class);
    if (st != SCL_OK) break;
    v[i].fold = (int)(i / block);
    v[i].same = i % block < (size_t)per_class;
    st = read_pair(r, &v[i]);
  }
  if (st == SCL_OK) st = next_line(r, &eof);
  if (st == SCL_OK && !eof)
    st = scl__fail_noctx(SCL_ERR_FORMAT, "%s:%ld: more lines than the header's %d × 2 × %d pairs", r->path, r->line,
                         *folds, per_class);
  if (st != SCL_OK) {
    free(v);
    return st;
  }
  *pairs = v;
  *npairs = total;
  return SCL_OK;
}

scl_status scl_pairs_read(const char *path, scl_pair **pairs, size_t *npairs, int *folds) {
  if (!path || !pairs || !npairs || !folds)
    return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, "scl_pairs_read: %s is NULL",
                           !path ? "path" : !pairs ? "pairs" : !npairs ? "npairs" : "folds");
  line_reader r = {fopen(path, "rb"), path, 0, {0}};
  if (!r.f) return scl__fail_noctx(SCL_ERR_IO, "cannot open pairs file %s: %s", path, strerror(errno));
  scl_pair *v = NULL;
  size_t n = 0;
  int k = 0;
  scl_status st = read_all(&r, &v, &n, &k);
  fclose(r.f);
  if (st != SCL_OK) return st;
  *pairs = v;
  *npairs = n;
  *folds = k;
  return SCL_OK;
}

/* ---- writing ---------------------------------------------------------------------------------- */

#define OP_WRITE "scl_pairs_write"

static scl_status check_pair_name(size_t i, const char *which, const char *name) {
  const char *end = memchr(name, '\0', NAME_SIZE);
  const char *why = end ? name_problem(name, (size_t)(end - name)) : "is not NUL-terminated";
  if (why) return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, OP_WRITE ": pairs[%zu].%s %s", i, which, why);
  return SCL_OK;
}

/* Every pair valid, and every fold holding the same number of same and different pairs. */
static scl_status check_pairs(const scl_pair *pairs, size_t npairs, int folds, int *per_class) {
  size_t count[MAX_FOLDS][2] = {{0}};
  for (size_t i = 0; i < npairs; i++) {
    const scl_pair *p = &pairs[i];
    scl_status st = check_pair_name(i, "name_a", p->name_a);
    if (st == SCL_OK) st = check_pair_name(i, "name_b", p->name_b);
    if (st != SCL_OK) return st;
    if (p->fold < 0 || p->fold >= folds || (p->same != 0 && p->same != 1) || p->index_a < 1 || p->index_b < 1)
      return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT,
                             OP_WRITE ": pairs[%zu] has fold %d (of %d), same %d, image numbers %d and %d", i,
                             p->fold, folds, p->same, p->index_a, p->index_b);
    if ((strcmp(p->name_a, p->name_b) == 0) != p->same)
      return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, OP_WRITE ": pairs[%zu] is marked %s but names \"%s\" and \"%s\"",
                             i, p->same ? "same" : "different", p->name_a, p->name_b);
    count[p->fold][p->same]++;
  }
  size_t want = npairs / 2 / (size_t)folds;
  for (int k = 0; k < folds; k++)
    if (count[k][0] != want || count[k][1] != want || want == 0 || want > MAX_PER_CLASS)
      return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT,
                             OP_WRITE ": fold %d has %zu same and %zu different pairs; every fold needs the same "
                             "number (1..%d) of each",
                             k, count[k][1], count[k][0], MAX_PER_CLASS);
  *per_class = (int)want;
  return SCL_OK;
}

scl_status scl_pairs_write(const char *path, const scl_pair *pairs, size_t npairs, int folds) {
  if (!path || !pairs)
    return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, OP_WRITE ": %s is NULL", !path ? "path" : "pairs");
  if (folds < 1 || folds > MAX_FOLDS)
    return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, OP_WRITE ": folds %d is outside 1..%d", folds, MAX_FOLDS);
  int per_class = 0;
  scl_status st = check_pairs(pairs, npairs, folds, &per_class);
  if (st != SCL_OK) return st;
  scl__atomic_file af;
  st = scl__atomic_open(&af, path, OP_WRITE);
  if (st != SCL_OK) return st;
  fprintf(af.f, "%d\t%d\n", folds, per_class);
  /* Grouped by fold, same before different, each group in the caller's order. */
  for (int k = 0; k < folds; k++)
    for (int same = 1; same >= 0; same--)
      for (size_t i = 0; i < npairs; i++) {
        const scl_pair *p = &pairs[i];
        if (p->fold != k || p->same != same) continue;
        if (same) fprintf(af.f, "%s\t%d\t%d\n", p->name_a, p->index_a, p->index_b);
        else fprintf(af.f, "%s\t%d\t%s\t%d\n", p->name_a, p->index_a, p->name_b, p->index_b);
      }
  return scl__atomic_commit(&af, OP_WRITE);
}

/* ---- the identities of an image folder -------------------------------------------------------- */

/* One identity: the numbers of its images that scl_pairs_image_path finds again by itself. */
typedef struct {
  const char *name; /* borrowed from the scanned folder */
  size_t base;      /* global id of its first image; its images are base .. base + n - 1 */
  size_t n;
} ident;

typedef struct {
  scl_folder folder;
  ident *ids;
  size_t nids;
  int *number;    /* [global image id] its image number, ascending within each identity */
  size_t *owner;  /* [global image id] its identity */
  size_t nimages;
} identities;

/* The image number of file name base in identity folder `name`, if the name is one that
   scl_pairs_image_path's automatic layouts spell: "<name>_%04d.{jpg,png,pgm}" or "%d.{pgm,png,jpg}".
   Returns 0 for any other file. */
static int image_number(const char *base, const char *name) {
  const char *dot = strrchr(base, '.');
  if (!dot || (strcmp(dot, ".jpg") && strcmp(dot, ".png") && strcmp(dot, ".pgm"))) return 0;
  size_t stem = (size_t)(dot - base), nl = strlen(name);
  int lfw = stem > nl + 1 && strncmp(base, name, nl) == 0 && base[nl] == '_';
  const char *digits = lfw ? base + nl + 1 : base;
  size_t nd = lfw ? stem - nl - 1 : stem;
  int v = parse_number(digits, nd);
  char spelled[16];
  snprintf(spelled, sizeof spelled, lfw ? "%04d" : "%d", v);
  return v > 0 && strlen(spelled) == nd && memcmp(spelled, digits, nd) == 0 ? v : 0;
}

static int cmp_int(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  return (x > y) - (x < y);
}

static void identities_free(identities *s) {
  scl__folder_free(&s->folder);
  free(s->ids), free(s->number), free(s->owner);
  memset(s, 0, sizeof *s);
}

/* Scans root (identities first..last as scl_dataset_open_folder numbers them) and keeps the
   identities with numbered images. */
static scl_status identities_scan(const char *root, int first, int last, identities *s) {
  memset(s, 0, sizeof *s);
  scl_status st = scl__folder_scan(root, first, last, &s->folder);
  if (st != SCL_OK) return st;
  const scl_folder *f = &s->folder;
  s->ids = calloc(f->nclasses, sizeof *s->ids);
  s->number = malloc((f->nfiles ? f->nfiles : 1) * sizeof *s->number);
  s->owner = malloc((f->nfiles ? f->nfiles : 1) * sizeof *s->owner);
  if (!s->ids || !s->number || !s->owner)
    return scl__fail_noctx(SCL_ERR_OUT_OF_MEMORY, "out of host memory listing %s", root);
  for (size_t c = 0; c < f->nclasses; c++) {
    const scl_folder_class *fc = &f->classes[c];
    const char *why = name_problem(fc->name, strlen(fc->name));
    if (why)
      return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, "identity folder \"%s\" of %s cannot stand in a pairs file: "
                             "its name %s", fc->name, root, why);
    ident *id = &s->ids[s->nids];
    id->name = fc->name;
    id->base = s->nimages;
    for (size_t j = 0; j < fc->nfiles; j++) {
      const char *slash = strrchr(fc->files[j], '/');
      int v = image_number(slash ? slash + 1 : fc->files[j], fc->name);
      if (v > 0) s->number[id->base + id->n++] = v;
    }
    if (id->n == 0) continue;
    /* Sort and drop duplicates ("Name_0003.jpg" and "3.pgm" are one image number). */
    int *num = s->number + id->base;
    qsort(num, id->n, sizeof *num, cmp_int);
    size_t m = 1;
    for (size_t j = 1; j < id->n; j++)
      if (num[j] != num[m - 1]) num[m++] = num[j];
    id->n = m;
    for (size_t j = 0; j < m; j++) s->owner[id->base + j] = s->nids;
    s->nimages += m;
    s->nids++;
  }
  if ((uint64_t)s->nimages > UINT32_MAX)
    return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, "%s has more than 2^32 images", root);
  return SCL_OK;
}

/* ---- the plan: which identities each fold draws from ------------------------------------------ */

/* With at least two identities per fold, each identity belongs to one fold (as LFW's folds) and
   each fold draws from its own; otherwise one group holds everyone and its draws are dealt out
   to the folds in order. */
typedef struct {
  int folds, ngroups;
  size_t *members;                 /* identity indices, group by group, in folder order */
  size_t start[MAX_FOLDS + 1];     /* group g is members[start[g] .. start[g+1]) */
  unsigned long long max_per_fold; /* the most pairs of each kind per fold the groups allow */
} plan;

static void group_capacity(const identities *s, const size_t *m, size_t nm, unsigned long long *same,
                           unsigned long long *diff) {
  unsigned long long total = 0, squares = 0, pairs = 0;
  for (size_t i = 0; i < nm; i++) {
    unsigned long long n = s->ids[m[i]].n;
    total += n, squares += n * n, pairs += n * (n - 1) / 2;
  }
  *same = pairs;
  *diff = (total * total - squares) / 2;
}

/* Assigns identities to groups. The shuffle (the first use of rng) decides the folds. */
static scl_status plan_make(const identities *s, int folds, scl_rng *rng, plan *p) {
  memset(p, 0, sizeof *p);
  p->folds = folds;
  p->ngroups = s->nids >= 2 * (size_t)folds ? folds : 1;
  size_t n = s->nids ? s->nids : 1;
  size_t *order = malloc(n * sizeof *order), *group = malloc(n * sizeof *group);
  p->members = malloc(n * sizeof *p->members);
  if (!order || !group || !p->members) {
    free(order), free(group), free(p->members);
    p->members = NULL;
    return scl__fail_noctx(SCL_ERR_OUT_OF_MEMORY, "scl_pairs_make: out of host memory");
  }
  /* Deal the shuffled identities round-robin, those with two or more images first, so every fold
     gets as many identities, and as many that can make same-person pairs, as any other (±1). */
  for (size_t i = 0; i < s->nids; i++) order[i] = i;
  scl__rng_shuffle(rng, order, s->nids);
  size_t dealt = 0;
  for (int pass = 0; pass < 2; pass++)
    for (size_t i = 0; i < s->nids; i++)
      if ((s->ids[order[i]].n >= 2) == (pass == 0)) group[order[i]] = dealt++ % (size_t)p->ngroups;
  dealt = 0;
  for (int g = 0; g < p->ngroups; g++) {
    p->start[g] = dealt;
    for (size_t i = 0; i < s->nids; i++)
      if ((int)group[i] == g) p->members[dealt++] = i;
  }
  p->start[p->ngroups] = dealt;
  free(order), free(group);

  unsigned long long best = ULLONG_MAX;
  for (int g = 0; g < p->ngroups; g++) {
    unsigned long long same, diff;
    group_capacity(s, p->members + p->start[g], p->start[g + 1] - p->start[g], &same, &diff);
    unsigned long long cap = same < diff ? same : diff;
    if (p->ngroups == 1) cap /= (unsigned long long)folds;
    if (cap < best) best = cap;
  }
  p->max_per_fold = best;
  return SCL_OK;
}

/* ---- drawing ---------------------------------------------------------------------------------- */

typedef struct {
  size_t a, b; /* global image ids, a < b (so a's identity comes first in folder order) */
} gpair;

static gpair gpair_of(size_t x, size_t y) { return x < y ? (gpair){x, y} : (gpair){y, x}; }

static int cmp_gpair(const void *x, const void *y) {
  const gpair *p = x, *q = y;
  if (p->a != q->a) return p->a < q->a ? -1 : 1;
  return (p->b > q->b) - (p->b < q->b);
}

/* The pairs drawn so far, as an open-addressing hash set sized up front for every pair to come. */
typedef struct {
  uint64_t *slots; /* key + 1; 0 = empty */
  size_t mask;
} pair_set;

static uint64_t key_of(gpair p) { return ((uint64_t)p.a << 32 | (uint64_t)p.b) + 1; }

static size_t slot_of(const pair_set *s, uint64_t key) {
  uint64_t h = key * 0x9E3779B97F4A7C15ULL;
  size_t i = (size_t)(h ^ (h >> 29)) & s->mask;
  while (s->slots[i] && s->slots[i] != key) i = (i + 1) & s->mask;
  return i;
}

static int set_contains(const pair_set *s, gpair p) { return s->slots[slot_of(s, key_of(p))] != 0; }

/* Adds p; returns 0 when it was already there. */
static int set_insert(pair_set *s, gpair p) {
  uint64_t key = key_of(p);
  size_t i = slot_of(s, key);
  if (s->slots[i]) return 0;
  s->slots[i] = key;
  return 1;
}

typedef struct {
  const identities *s;
  scl_rng *rng;
  pair_set used;
  const size_t *members; /* the group being drawn from */
  size_t nm;
} drawer;

/* Counts the free pairs anchored at identity `anchor` (same person: two of its images; different:
   one of its images with one of another member's), stopping at the pick-th (0-based) to store it
   in *out. Used when random tries keep hitting drawn pairs, so the draw still succeeds whenever a
   free pair exists. */
static size_t free_pairs(const drawer *d, size_t anchor, int same, size_t pick, gpair *out) {
  const ident *a = &d->s->ids[anchor];
  size_t count = 0;
  for (size_t m = 0; m < (same ? 1 : d->nm); m++) {
    if (!same && d->members[m] == anchor) continue;
    const ident *b = same ? a : &d->s->ids[d->members[m]];
    for (size_t i = 0; i < a->n; i++)
      for (size_t j = same ? i + 1 : 0; j < b->n; j++) {
        gpair p = gpair_of(a->base + i, b->base + j);
        if (set_contains(&d->used, p)) continue;
        if (count++ == pick) {
          *out = p;
          return count;
        }
      }
  }
  return count;
}

/* A uniformly random pair anchored at `anchor` (the partner uniform among the other members). */
static gpair random_pair(const drawer *d, size_t anchor, int same) {
  const ident *a = &d->s->ids[anchor];
  size_t i = scl__rng_below(d->rng, a->n);
  if (same) {
    size_t j = scl__rng_below(d->rng, a->n - 1);
    return gpair_of(a->base + i, a->base + j + (j >= i));
  }
  size_t m = scl__rng_below(d->rng, d->nm - 1);
  if (d->members[m] == anchor) m = d->nm - 1; /* the anchor's slot stands for the last member */
  const ident *b = &d->s->ids[d->members[m]];
  return gpair_of(a->base + i, b->base + scl__rng_below(d->rng, b->n));
}

/* Draws one new pair anchored at `anchor` into *out; 0 when it has none left. */
static int draw_one(drawer *d, size_t anchor, int same, gpair *out) {
  for (int tries = 0; tries < 16; tries++) {
    *out = random_pair(d, anchor, same);
    if (set_insert(&d->used, *out)) return 1;
  }
  size_t n = free_pairs(d, anchor, same, SIZE_MAX, out);
  if (n == 0) return 0;
  free_pairs(d, anchor, same, scl__rng_below(d->rng, n), out);
  set_insert(&d->used, *out);
  return 1;
}

/* Draws `want` pairs of one kind from the group into out: rounds over the group's identities in a
   fresh random order, one pair anchored at each, so every identity takes part about equally; an
   identity with no free pair left drops out. *got < want only when the group has too few pairs. */
static scl_status draw_group(drawer *d, int same, size_t want, gpair *out, size_t *got) {
  size_t *alive = malloc((d->nm ? d->nm : 1) * sizeof *alive), nalive = 0;
  if (!alive) return scl__fail_noctx(SCL_ERR_OUT_OF_MEMORY, "scl_pairs_make: out of host memory");
  for (size_t m = 0; m < d->nm; m++)
    if (same ? d->s->ids[d->members[m]].n >= 2 : d->nm >= 2) alive[nalive++] = d->members[m];
  *got = 0;
  while (*got < want && nalive) {
    scl__rng_shuffle(d->rng, alive, nalive);
    size_t keep = 0, k = 0;
    for (; k < nalive && *got < want; k++)
      if (draw_one(d, alive[k], same, &out[*got])) {
        ++*got;
        alive[keep++] = alive[k];
      }
    while (k < nalive) alive[keep++] = alive[k++];
    nalive = keep;
  }
  free(alive);
  return SCL_OK;
}

static void store_pair(const identities *s, gpair g, int same, int fold, scl_pair *out) {
  memset(out, 0, sizeof *out);
  strcpy(out->name_a, s->ids[s->owner[g.a]].name);
  strcpy(out->name_b, s->ids[s->owner[g.b]].name);
  out->index_a = s->number[g.a];
  out->index_b = s->number[g.b];
  out->same = same;
  out->fold = fold;
}

/* Draws every pair of the plan into out (fold by fold, same before different, each block sorted by
   folder order and image number, as LFW's lists are). */
static scl_status draw_all(const identities *s, const plan *p, int per_fold, scl_rng *rng, scl_pair *out) {
  size_t folds = (size_t)p->folds, pf = (size_t)per_fold, per_group = p->ngroups == 1 ? folds * pf : pf;
  drawer d = {s, rng, {NULL, 0}, NULL, 0};
  size_t cap = 1;
  while (cap < 4 * folds * pf) cap *= 2; /* load <= 1/2 after every pair is in */
  d.used.slots = calloc(cap, sizeof *d.used.slots);
  d.used.mask = cap - 1;
  gpair *buf = malloc(per_group * sizeof *buf);
  scl_status st = SCL_OK;
  if (!d.used.slots || !buf) st = scl__fail_noctx(SCL_ERR_OUT_OF_MEMORY, "scl_pairs_make: out of host memory");
  for (int g = 0; g < p->ngroups && st == SCL_OK; g++) {
    d.members = p->members + p->start[g];
    d.nm = p->start[g + 1] - p->start[g];
    for (int same = 1; same >= 0 && st == SCL_OK; same--) {
      size_t got = 0;
      st = draw_group(&d, same, per_group, buf, &got);
      if (st == SCL_OK && got < per_group) /* the capacity check rules this out */
        st = scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, "scl_pairs_make: drew only %zu of %zu pairs", got, per_group);
      /* chunk c of this group's draws goes to fold g (per-fold groups) or fold c (one group) */
      for (size_t c = 0; st == SCL_OK && c * pf < per_group; c++) {
        size_t fold = p->ngroups == 1 ? c : (size_t)g;
        qsort(buf + c * pf, pf, sizeof *buf, cmp_gpair);
        for (size_t i = 0; i < pf; i++)
          store_pair(s, buf[c * pf + i], same, (int)fold, &out[fold * 2 * pf + (same ? 0 : pf) + i]);
      }
    }
  }
  free(d.used.slots), free(buf);
  return st;
}

#define OP_MAKE "scl_pairs_make"

static scl_status check_make_args(const char *root, int folds) {
  if (!root) return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, OP_MAKE ": root is NULL");
  if (folds < 1 || folds > MAX_FOLDS)
    return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, OP_MAKE ": folds %d is outside 1..%d", folds, MAX_FOLDS);
  return SCL_OK;
}

scl_status scl__pairs_max_per_fold(const char *root, int first, int last, int folds, unsigned long long seed,
                                   int *max_per_fold) {
  scl_status st = check_make_args(root, folds);
  if (st == SCL_OK && !max_per_fold) st = scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, OP_MAKE ": max_per_fold is NULL");
  if (st != SCL_OK) return st;
  identities s;
  plan p = {0};
  scl_rng rng = scl__rng_make(seed);
  st = identities_scan(root, first, last, &s);
  if (st == SCL_OK) st = plan_make(&s, folds, &rng, &p);
  if (st == SCL_OK) *max_per_fold = p.max_per_fold > MAX_PER_CLASS ? MAX_PER_CLASS : (int)p.max_per_fold;
  free(p.members);
  identities_free(&s);
  return st;
}

scl_status scl_pairs_make(const char *root, int first, int last, int folds, int per_fold, unsigned long long seed,
                          scl_pair **pairs, size_t *npairs) {
  scl_status st = check_make_args(root, folds);
  if (st != SCL_OK) return st;
  if (!pairs || !npairs)
    return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, OP_MAKE ": %s is NULL", !pairs ? "pairs" : "npairs");
  if (per_fold < 1 || per_fold > MAX_PER_CLASS)
    return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, OP_MAKE ": per_fold %d is outside 1..%d", per_fold, MAX_PER_CLASS);
  identities s;
  plan p = {0};
  scl_rng rng = scl__rng_make(seed);
  st = identities_scan(root, first, last, &s);
  if (st == SCL_OK) st = plan_make(&s, folds, &rng, &p);
  if (st == SCL_OK && (unsigned long long)per_fold > p.max_per_fold)
    st = scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT,
                         OP_MAKE ": %s (identities %d..%zu: %zu with numbered images, %zu images) allows at most %llu "
                         "pairs of each kind per fold with %d folds %s; asked for %d",
                         root, first ? first : 1, (first ? (size_t)first : 1) + s.folder.nclasses - 1, s.nids,
                         s.nimages, p.max_per_fold, folds,
                         p.ngroups > 1 ? "(each identity in one fold)"
                                       : "(folds share identities: fewer than two per fold)",
                         per_fold);
  size_t total = 2 * (size_t)folds * (size_t)per_fold;
  scl_pair *v = NULL;
  if (st == SCL_OK) {
    v = malloc(total * sizeof *v);
    st = v ? draw_all(&s, &p, per_fold, &rng, v)
           : scl__fail_noctx(SCL_ERR_OUT_OF_MEMORY, OP_MAKE ": out of host memory");
  }
  free(p.members);
  identities_free(&s);
  if (st != SCL_OK) {
    free(v);
    return st;
  }
  *pairs = v;
  *npairs = total;
  return SCL_OK;
}

/* ---- image paths ------------------------------------------------------------------------------ */

#define OP_PATH "scl_pairs_image_path"

/* root/rel into out[PATH_SIZE] (rel alone when root is ""). 0 when it does not fit. */
static int join_path(const char *root, const char *rel, char *out) {
  size_t rl = strlen(root);
  while (rl > 1 && root[rl - 1] == '/') rl--;
  int n = rl ? snprintf(out, PATH_SIZE, "%.*s/%s", (int)rl, root, rel) : snprintf(out, PATH_SIZE, "%s", rel);
  return n >= 0 && n < PATH_SIZE;
}

/* Expands %n, %i, %Wi (W a digit 1..9: zero-padded to W) and %% of pattern into out[PATH_SIZE]. */
static scl_status expand_pattern(const char *pattern, const char *name, int index, char *out) {
  size_t len = 0;
  for (const char *c = pattern; *c; c++) {
    char piece[160];
    if (*c != '%') snprintf(piece, sizeof piece, "%c", *c);
    else if (c[1] == '%') snprintf(piece, sizeof piece, "%%"), c++;
    else if (c[1] == 'n') snprintf(piece, sizeof piece, "%s", name), c++;
    else if (c[1] == 'i') snprintf(piece, sizeof piece, "%d", index), c++;
    else if (c[1] >= '1' && c[1] <= '9' && c[2] == 'i')
      snprintf(piece, sizeof piece, "%0*d", c[1] - '0', index), c += 2;
    else
      return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT,
                             OP_PATH ": pattern \"%s\" has an unknown %% sequence at offset %td "
                                     "(use %%n, %%i, %%4i, %%%%)",
                             pattern, c - pattern);
    size_t pl = strlen(piece);
    if (len + pl >= PATH_SIZE) return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, OP_PATH ": the path is too long");
    memcpy(out + len, piece, pl + 1);
    len += pl;
  }
  return SCL_OK;
}

static int is_file(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* The automatic layouts, in the order they are tried. */
static const char *const auto_layouts[] = {"%n/%n_%4i.jpg", "%n/%n_%4i.png", "%n/%n_%4i.pgm",
                                           "%n/%i.pgm",     "%n/%i.png",     "%n/%i.jpg"};

scl_status scl_pairs_image_path(const char *root, const char *pattern, const char *name, int index, char *out,
                                size_t size) {
  if (!root || !name || !out)
    return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, OP_PATH ": %s is NULL", !root ? "root" : !name ? "name" : "out");
  const char *why = name_problem(name, strlen(name));
  if (!why && (strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))) why = "is not a plain folder name";
  if (why) return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, OP_PATH ": the name \"%.40s\" %s", name, why);
  if (index < 1) return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, OP_PATH ": image number %d is not positive", index);
  const char *const *layouts = pattern ? &pattern : auto_layouts;
  size_t nlayouts = pattern ? 1 : sizeof auto_layouts / sizeof *auto_layouts;
  char rel[PATH_SIZE], path[PATH_SIZE] = "";
  for (size_t i = 0; i < nlayouts; i++) {
    scl_status st = expand_pattern(layouts[i], name, index, rel);
    if (st != SCL_OK) return st;
    if (!join_path(root, rel, path)) return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, OP_PATH ": the path is too long");
    if (!is_file(path)) continue;
    size_t len = strlen(path);
    if (len >= size)
      return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, OP_PATH ": out holds %zu bytes, %s needs %zu", size, path,
                             len + 1);
    memcpy(out, path, len + 1);
    return SCL_OK;
  }
  if (pattern) return scl__fail_noctx(SCL_ERR_IO, "no image %s (name %s, number %d)", path, name, index);
  return scl__fail_noctx(SCL_ERR_IO,
                         "no image for %s number %d under %s: tried %s/%s_%04d.{jpg,png,pgm} and %s/%d.{pgm,png,jpg}",
                         name, index, root, name, name, index, name, index);
}
