/* Image folders: root/<identity>/<image>, identities and images both in natural order ("s2" before
   "s10"). Hidden entries (".*") are skipped, files other than .pgm/.ppm/.png/.jpg/.jpeg are ignored, and
   identity folders without images get no label. Only names are listed here; images are decoded by
   the dataset when fetched. */
#include "data/data_internal.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

int scl__natural_compare(const char *a, const char *b) {
  const unsigned char *p = (const unsigned char *)a, *q = (const unsigned char *)b;
  while (*p && *q) {
    if (isdigit(*p) && isdigit(*q)) {
      /* Compare the digit runs by value: without leading zeros, the longer run is larger, and
         runs of equal length compare digit by digit. */
      while (*p == '0') p++;
      while (*q == '0') q++;
      const unsigned char *pe = p, *qe = q;
      while (isdigit(*pe)) pe++;
      while (isdigit(*qe)) qe++;
      if (pe - p != qe - q) return pe - p < qe - q ? -1 : 1;
      int c = memcmp(p, q, (size_t)(pe - p));
      if (c) return c < 0 ? -1 : 1;
      p = pe, q = qe;
    } else {
      if (*p != *q) return *p < *q ? -1 : 1;
      p++, q++;
    }
  }
  if (*p || *q) return *p ? 1 : -1;
  int c = strcmp(a, b); /* equal but for leading zeros */
  return c < 0 ? -1 : c > 0;
}

/* ---- growing lists of strings -------------------------------------------------------------------- */

typedef struct {
  char **items;
  size_t n, cap;
} name_list;

static int list_push(name_list *l, char *s) {
  if (!s) return 0;
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 16;
    char **items = realloc(l->items, cap * sizeof *items);
    if (!items) {
      free(s);
      return 0;
    }
    l->items = items, l->cap = cap;
  }
  l->items[l->n++] = s;
  return 1;
}

static void list_free(name_list *l) {
  for (size_t i = 0; i < l->n; i++) free(l->items[i]);
  free(l->items);
  l->items = NULL, l->n = l->cap = 0;
}

static int natural_qsort(const void *a, const void *b) {
  return scl__natural_compare(*(char *const *)a, *(char *const *)b);
}

/* "dir/name" (without doubling a trailing slash of dir), malloc'd. */
static char *join(const char *dir, const char *name) {
  size_t dl = strlen(dir), nl = strlen(name);
  while (dl > 1 && dir[dl - 1] == '/') dl--;
  char *s = malloc(dl + nl + 2);
  if (!s) return NULL;
  memcpy(s, dir, dl);
  s[dl] = '/';
  memcpy(s + dl + 1, name, nl + 1);
  return s;
}

static int has_image_extension(const char *name) {
  static const char *const exts[] = {".pgm", ".ppm", ".png", ".jpg", ".jpeg"};
  size_t n = strlen(name);
  for (size_t i = 0; i < sizeof exts / sizeof *exts; i++) {
    size_t e = strlen(exts[i]);
    if (n > e && strcasecmp(name + n - e, exts[i]) == 0) return 1;
  }
  return 0;
}

/* Lists dir's visible subfolders (want_dirs) or image files (else) as full paths, naturally sorted
   by their names (all share the prefix "dir/", so sorting the paths sorts the names). stat follows
   symbolic links, so a linked folder or image counts as one. */
static scl_status list_dir(const char *dir, int want_dirs, name_list *out) {
  DIR *d = opendir(dir);
  if (!d) return scl__fail_noctx(SCL_ERR_IO, "cannot read image folder %s: %s", dir, strerror(errno));
  scl_status st = SCL_OK;
  struct dirent *e;
  while (st == SCL_OK && (e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    if (!want_dirs && !has_image_extension(e->d_name)) continue;
    char *path = join(dir, e->d_name);
    struct stat sb;
    if (path && (stat(path, &sb) != 0 || (want_dirs ? !S_ISDIR(sb.st_mode) : !S_ISREG(sb.st_mode)))) {
      free(path);
      continue;
    }
    if (!list_push(out, path)) st = scl__fail_noctx(SCL_ERR_OUT_OF_MEMORY, "out of host memory listing %s", dir);
  }
  closedir(d);
  if (st != SCL_OK) return st;
  if (out->n) qsort(out->items, out->n, sizeof *out->items, natural_qsort);
  return SCL_OK;
}

/* ---- the scan ------------------------------------------------------------------------------------ */

void scl__folder_free(scl_folder *f) {
  if (!f) return;
  for (size_t i = 0; i < f->nclasses; i++) {
    for (size_t j = 0; j < f->classes[i].nfiles; j++) free(f->classes[i].files[j]);
    free(f->classes[i].files);
    free(f->classes[i].name);
  }
  free(f->classes);
  f->classes = NULL, f->nclasses = f->nfiles = 0;
}

/* Moves the identities with at least one image from the listed folders into f (in order). */
static scl_status collect_classes(const name_list *dirs, scl_folder *f) {
  f->classes = calloc(dirs->n ? dirs->n : 1, sizeof *f->classes);
  if (!f->classes) return scl__fail_noctx(SCL_ERR_OUT_OF_MEMORY, "out of host memory listing image folders");
  for (size_t i = 0; i < dirs->n; i++) {
    name_list files = {0};
    scl_status st = list_dir(dirs->items[i], 0, &files);
    if (st != SCL_OK) return st;
    if (files.n == 0) {
      list_free(&files);
      continue;
    }
    const char *slash = strrchr(dirs->items[i], '/');
    scl_folder_class *c = &f->classes[f->nclasses++];
    c->name = strdup(slash ? slash + 1 : dirs->items[i]);
    c->files = files.items;
    c->nfiles = files.n;
    f->nfiles += files.n;
    if (!c->name) return scl__fail_noctx(SCL_ERR_OUT_OF_MEMORY, "out of host memory listing image folders");
  }
  return SCL_OK;
}

/* Keeps identities first..last (1-based) of f, releasing the others. */
static scl_status select_range(const char *root, int first, int last, scl_folder *f) {
  size_t n = f->nclasses;
  size_t lo = first ? (size_t)first : 1, hi = last ? (size_t)last : n;
  if (lo > n || hi > n || lo > hi)
    return scl__fail_noctx(
        SCL_ERR_INVALID_ARGUMENT,
        "identities %d..%d of image folder %s: it has %zu (first and last are 1-based, 0 = no limit)", first, last,
        root, n);
  scl_folder keep = {NULL, 0, 0}, drop = *f;
  keep.classes = malloc((hi - lo + 1) * sizeof *keep.classes);
  if (!keep.classes) return scl__fail_noctx(SCL_ERR_OUT_OF_MEMORY, "out of host memory listing %s", root);
  /* The kept entries move to keep; drop is left with the others (and empty slots) to free. */
  for (size_t i = lo - 1; i < hi; i++) {
    keep.classes[keep.nclasses++] = f->classes[i];
    keep.nfiles += f->classes[i].nfiles;
    memset(&drop.classes[i], 0, sizeof drop.classes[i]);
  }
  scl__folder_free(&drop);
  *f = keep;
  return SCL_OK;
}

scl_status scl__folder_scan(const char *root, int first, int last, scl_folder *out) {
  if (first < 0 || last < 0)
    return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT,
                           "identities %d..%d of image folder %s: first and last must be >= 0", first, last, root);
  name_list dirs = {0};
  scl_folder f = {NULL, 0, 0};
  scl_status st = list_dir(root, 1, &dirs);
  if (st == SCL_OK) st = collect_classes(&dirs, &f);
  list_free(&dirs);
  if (st == SCL_OK && f.nclasses == 0)
    st = scl__fail_noctx(SCL_ERR_FORMAT,
                         "image folder %s has no identity folders with images (.pgm, .ppm, .png, .jpg, .jpeg) in them", root);
  if (st == SCL_OK) st = select_range(root, first, last, &f);
  if (st != SCL_OK) {
    scl__folder_free(&f);
    return st;
  }
  *out = f;
  return SCL_OK;
}

/* ---- filters ----------------------------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

scl_status scl__folder_filter(const char *root, int min_images, const char *const *exclude, size_t nexclude,
                              scl_folder *f) {
  if (nexclude && !exclude)
    return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, "image folder %s: %zu names to exclude but the list is NULL",
                           root, nexclude);
  const char **sorted = NULL;
  if (nexclude) {
    sorted = malloc(nexclude * sizeof *sorted);
    if (!sorted) return scl__fail_noctx(SCL_ERR_OUT_OF_MEMORY, "out of host memory filtering %s", root);
    for (size_t i = 0; i < nexclude; i++) {
      if (!exclude[i]) {
        free(sorted);
        return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, "image folder %s: excluded name %zu is NULL", root, i);
      }
      sorted[i] = exclude[i];
    }
    qsort(sorted, nexclude, sizeof *sorted, cmp_str);
  }
  size_t kept = 0, too_few = 0, excluded = 0, before = f->nclasses;
  scl_folder drop = {NULL, 0, 0};
  drop.classes = calloc(f->nclasses ? f->nclasses : 1, sizeof *drop.classes);
  if (!drop.classes) {
    free(sorted);
    return scl__fail_noctx(SCL_ERR_OUT_OF_MEMORY, "out of host memory filtering %s", root);
  }
  f->nfiles = 0;
  for (size_t i = 0; i < f->nclasses; i++) {
    scl_folder_class c = f->classes[i];
    int out = 0;
    if (sorted && bsearch(&c.name, sorted, nexclude, sizeof *sorted, cmp_str)) out = 1, excluded++;
    else if (min_images > 1 && c.nfiles < (size_t)min_images) out = 1, too_few++;
    if (out) {
      drop.classes[drop.nclasses++] = c;
    } else {
      f->classes[kept++] = c;
      f->nfiles += c.nfiles;
    }
  }
  f->nclasses = kept;
  scl__folder_free(&drop);
  free(sorted);
  if (kept == 0)
    return scl__fail_noctx(SCL_ERR_FORMAT,
                           "image folder %s: none of its %zu identities is left (%zu excluded by name, %zu with fewer "
                           "than %d images)",
                           root, before, excluded, too_few, min_images);
  return SCL_OK;
}
