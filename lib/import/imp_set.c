/* The named-tensor set that readers fill and import.c consumes. */
#include "import/import_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

scl__imp_tensor *scl__imp_set_find(scl__imp_set *s, const char *name) {
  for (size_t i = 0; i < s->n; i++)
    if (!strcmp(s->t[i].name, name)) return &s->t[i];
  return NULL;
}

void scl__imp_dims_string(const size_t *dims, int ndim, char *buf, size_t size) {
  size_t used = (size_t)snprintf(buf, size, "[");
  for (int i = 0; i < ndim && used < size; i++)
    used += (size_t)snprintf(buf + used, size - used, "%s%zu", i ? ", " : "", dims[i]);
  if (used < size) snprintf(buf + used, size - used, "]");
}

scl_status scl__imp_set_add(scl__imp_set *s, const char *path, const char *name, int ndim, const size_t *dims,
                            float **data) {
  if (strlen(name) > SCL_IMP_NAME_MAX)
    return scl__fail_noctx(SCL_ERR_FORMAT, "%s: a tensor name of %zu bytes (at most %d): \"%.40s...\"", path,
                           strlen(name), SCL_IMP_NAME_MAX, name);
  if (ndim < 0 || ndim > SCL_IMP_MAX_DIMS)
    return scl__fail_noctx(SCL_ERR_FORMAT, "%s: tensor \"%s\" has %d dimensions (at most %d)", path, name, ndim,
                           SCL_IMP_MAX_DIMS);
  if (scl__imp_set_find(s, name)) return scl__fail_noctx(SCL_ERR_FORMAT, "%s: tensor \"%s\" appears twice", path, name);
  size_t count = 1;
  for (int i = 0; i < ndim; i++) {
    if (dims[i] && count > (SCL_IMP_MAX_FILE / sizeof(float)) / dims[i])
      return scl__fail_noctx(SCL_ERR_FORMAT, "%s: tensor \"%s\" is too large", path, name);
    count *= dims[i];
  }
  if (s->n == s->cap) {
    size_t cap = s->cap ? 2 * s->cap : 64;
    scl__imp_tensor *t = realloc(s->t, cap * sizeof *t);
    if (!t) return scl__fail_noctx(SCL_ERR_OUT_OF_MEMORY, "%s: out of host memory", path);
    s->t = t, s->cap = cap;
  }
  scl__imp_tensor *t = &s->t[s->n];
  memset(t, 0, sizeof *t);
  snprintf(t->name, sizeof t->name, "%s", name);
  t->ndim = ndim;
  for (int i = 0; i < ndim; i++) t->dims[i] = dims[i];
  t->count = count;
  t->data = malloc(count ? count * sizeof(float) : 1);
  if (!t->data) return scl__fail_noctx(SCL_ERR_OUT_OF_MEMORY, "%s: out of host memory for tensor \"%s\"", path, name);
  s->n++;
  *data = t->data;
  return SCL_OK;
}

void scl__imp_set_free(scl__imp_set *s) {
  if (!s) return;
  for (size_t i = 0; i < s->n; i++) free(s->t[i].data);
  free(s->t);
  memset(s, 0, sizeof *s);
}
