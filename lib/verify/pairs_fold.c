/* The people of one fold of a pairs file: what a training run must leave out so that the fold tests
   on people never seen (LFW View 2's folds share no person). */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

static int cmp_name(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

scl_status scl_pairs_fold_people(const scl_pair *pairs, size_t npairs, int fold, char ***names, size_t *count) {
  if ((!pairs && npairs) || !names || !count)
    return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, "scl_pairs_fold_people: %s is NULL",
                           !names ? "names" : !count ? "count" : "pairs");
  int folds = 0;
  for (size_t i = 0; i < npairs; i++)
    if (pairs[i].fold + 1 > folds) folds = pairs[i].fold + 1;
  if (fold < 0 || fold >= folds)
    return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, "fold %d is out of range: the pairs have folds 1..%d", fold + 1,
                           folds);
  /* Up to two names per pair of the fold; sorted, then duplicates dropped. */
  const char **all = malloc((2 * npairs + 1) * sizeof *all);
  if (!all) return scl__fail_noctx(SCL_ERR_OUT_OF_MEMORY, "scl_pairs_fold_people: out of host memory");
  size_t n = 0;
  for (size_t i = 0; i < npairs; i++)
    if (pairs[i].fold == fold) {
      all[n++] = pairs[i].name_a;
      all[n++] = pairs[i].name_b;
    }
  qsort(all, n, sizeof *all, cmp_name);
  size_t distinct = 0, bytes = 0;
  for (size_t i = 0; i < n; i++)
    if (i == 0 || strcmp(all[i], all[i - 1])) {
      all[distinct++] = all[i];
      bytes += strlen(all[i]) + 1;
    }
  /* One block: the pointer array, then the strings it points to. */
  char **out = malloc((distinct + 1) * sizeof *out + bytes);
  if (!out) {
    free(all);
    return scl__fail_noctx(SCL_ERR_OUT_OF_MEMORY, "scl_pairs_fold_people: out of host memory");
  }
  char *text = (char *)(out + distinct + 1);
  for (size_t i = 0; i < distinct; i++) {
    size_t len = strlen(all[i]) + 1;
    memcpy(text, all[i], len);
    out[i] = text;
    text += len;
  }
  out[distinct] = NULL;
  free(all);
  *names = out;
  *count = distinct;
  return SCL_OK;
}
