/* spherecl pairs: draws LFW-style same/different pairs from an image folder into a pairs file. */
#include "commands.h"
#include "verify/verify_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_PER_FOLD 300 /* LFW's */

static void usage(FILE *f) {
  fprintf(f,
          "usage: spherecl pairs --root DIR --out FILE [--ids FIRST..LAST] [--folds K] [--per-fold N] [--seed S]\n"
          "Draws per fold N same-person and N different-person pairs, without repeats, from the image folder\n"
          "DIR (one subfolder per identity, images named like LFW's Name_0003.jpg or AT&T's 3.pgm) and\n"
          "writes them as an LFW pairs file (\"K N\", then per fold N \"name i j\" and N \"name1 i name2 j\").\n"
          "  --ids FIRST..LAST  identities FIRST..LAST (1-based, in natural order: s2 before s10); default all\n"
          "  --folds K          folds, 1..32 (default 10); with at least 2K identities each one is in one fold\n"
          "  --per-fold N       pairs of each kind per fold (default %d, or fewer if the folder allows fewer)\n"
          "  --seed S           the draw (default 1); the same seed gives the same file\n",
          DEFAULT_PER_FOLD);
}

/* s as a whole decimal integer in lo..hi. */
static int parse_long(const char *s, long lo, long hi, long *out) {
  char *end = NULL;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || end == s || *end || v < lo || v > hi) return 0;
  *out = v;
  return 1;
}

/* "FIRST..LAST", both positive. */
static int parse_ids(const char *s, int *first, int *last) {
  const char *dots = strstr(s, "..");
  char head[32];
  long a, b;
  if (!dots || (size_t)(dots - s) >= sizeof head) return 0;
  memcpy(head, s, (size_t)(dots - s));
  head[dots - s] = '\0';
  if (!parse_long(head, 1, 1000000000, &a) || !parse_long(dots + 2, 1, 1000000000, &b)) return 0;
  *first = (int)a, *last = (int)b;
  return 1;
}

static int parse_seed(const char *s, unsigned long long *seed) {
  char *end = NULL;
  errno = 0;
  if (*s < '0' || *s > '9') return 0;
  *seed = strtoull(s, &end, 10);
  return !errno && *end == '\0';
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

/* The number of distinct identities the pairs use. */
static size_t count_identities(const scl_pair *pairs, size_t n) {
  const char **names = malloc((2 * n + 1) * sizeof *names);
  if (!names) return 0;
  for (size_t i = 0; i < n; i++) names[2 * i] = pairs[i].name_a, names[2 * i + 1] = pairs[i].name_b;
  qsort(names, 2 * n, sizeof *names, cmp_str);
  size_t distinct = 0;
  for (size_t i = 0; i < 2 * n; i++) distinct += i == 0 || strcmp(names[i], names[i - 1]) != 0;
  free(names);
  return distinct;
}

static int fail(void) {
  fprintf(stderr, "spherecl pairs: %s\n", scl_context_error(NULL));
  return 1;
}

int cmd_pairs(int argc, char **argv) {
  const char *root = NULL, *out = NULL;
  int first = 0, last = 0;
  long folds = 10, per_fold = 0;
  unsigned long long seed = 1;
  for (int i = 1; i < argc; i++) {
    const char *flag = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(flag, "--help") || !strcmp(flag, "-h")) {
      usage(stdout);
      return 0;
    }
    int ok = value != NULL;
    if (ok && !strcmp(flag, "--root")) root = value;
    else if (ok && !strcmp(flag, "--out")) out = value;
    else if (ok && !strcmp(flag, "--ids")) ok = parse_ids(value, &first, &last);
    else if (ok && !strcmp(flag, "--folds")) ok = parse_long(value, 1, 32, &folds);
    else if (ok && !strcmp(flag, "--per-fold")) ok = parse_long(value, 1, 1000000, &per_fold);
    else if (ok && !strcmp(flag, "--seed")) ok = parse_seed(value, &seed);
    else ok = 0;
    if (!ok) {
      fprintf(stderr, "spherecl pairs: bad option \"%s\"%s%s%s\n\n", flag, value ? " \"" : "", value ? value : "",
              value ? "\"" : " (missing value)");
      usage(stderr);
      return 2;
    }
    i++;
  }
  if (!root || !out) {
    fprintf(stderr, "spherecl pairs: --root and --out are required\n\n");
    usage(stderr);
    return 2;
  }
  int capped = 0;
  if (per_fold == 0) { /* LFW's 300, or as many as the folder allows */
    int most = 0;
    if (scl__pairs_max_per_fold(root, first, last, (int)folds, seed, &most) != SCL_OK) return fail();
    capped = most < DEFAULT_PER_FOLD;
    per_fold = most < 1 ? 1 : capped ? most : DEFAULT_PER_FOLD;
  }
  scl_pair *pairs = NULL;
  size_t n = 0;
  if (scl_pairs_make(root, first, last, (int)folds, (int)per_fold, seed, &pairs, &n) != SCL_OK)
    return fail();
  scl_status st = scl_pairs_write(out, pairs, n, (int)folds);
  size_t ids = count_identities(pairs, n);
  free(pairs);
  if (st != SCL_OK) return fail();
  printf("wrote %s: %ld folds x (%ld same + %ld different) pairs%s over %zu identities of %s, seed %llu\n", out,
         folds, per_fold, per_fold, capped ? " (the most this folder allows)" : "", ids, root, seed);
  return 0;
}
