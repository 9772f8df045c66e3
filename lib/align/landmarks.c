/* Landmark files in the LFW format: one image per line, "relative/path.jpg x1 y1 ... xN yN",
   whitespace-separated (LFW's own file uses tabs), blank lines ignored, the last line with or
   without its newline. Every line must carry the same number of points. */
#include "internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#define LINE_MAX_BYTES 65536

static int is_space(int c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

/* Parses one line (NUL-terminated, no newline) into e. Returns 1, 0 for a blank line, or a
   negative status after setting the message. */
static scl_status parse_line(const char *file, long lineno, char *s, scl_landmarks *e, int *npoints) {
  while (is_space((unsigned char)*s)) s++;
  if (!*s) return 0;
  char *p = s;
  while (*p && !is_space((unsigned char)*p)) p++;
  size_t len = (size_t)(p - s);
  if (len >= sizeof e->path)
    return scl__fail_noctx(SCL_ERR_FORMAT, "%s:%ld: the image path is longer than %zu bytes", file, lineno,
                           sizeof e->path - 1);
  memcpy(e->path, s, len);
  e->path[len] = '\0';
  int nvals = 0;
  for (;;) {
    while (is_space((unsigned char)*p)) p++;
    if (!*p) break;
    if (nvals == 2 * SCL_MAX_LANDMARKS)
      return scl__fail_noctx(SCL_ERR_FORMAT, "%s:%ld: more than %d points", file, lineno, SCL_MAX_LANDMARKS);
    char *end;
    errno = 0;
    double v = strtod(p, &end);
    if (end == p || (*end && !is_space((unsigned char)*end))) {
      char *tok_end = p;
      while (*tok_end && !is_space((unsigned char)*tok_end)) tok_end++;
      return scl__fail_noctx(SCL_ERR_FORMAT, "%s:%ld: \"%.*s\" is not a number (column %d)", file, lineno,
                             (int)(tok_end - p > 40 ? 40 : tok_end - p), p, nvals + 2);
    }
    if (!isfinite(v) || errno == ERANGE || fabs(v) > 1e7)
      return scl__fail_noctx(SCL_ERR_FORMAT, "%s:%ld: coordinate %.*s is out of range (column %d)", file, lineno,
                             (int)(end - p > 40 ? 40 : end - p), p, nvals + 2);
    e->xy[nvals++] = (float)v;
    p = end;
  }
  if (nvals == 0 || nvals % 2)
    return scl__fail_noctx(SCL_ERR_FORMAT, "%s:%ld: %s has %d numbers after it; landmarks are x y pairs", file, lineno,
                           e->path, nvals);
  if (nvals < 4)
    return scl__fail_noctx(SCL_ERR_FORMAT, "%s:%ld: one point; alignment needs at least 2", file, lineno);
  if (*npoints && nvals / 2 != *npoints)
    return scl__fail_noctx(SCL_ERR_FORMAT, "%s:%ld: %d points where the lines before have %d", file, lineno, nvals / 2,
                           *npoints);
  *npoints = e->npoints = nvals / 2;
  return 1;
}

scl_status scl_landmarks_read(const char *path, scl_landmarks **entries, size_t *count) {
  if (!path || !entries || !count)
    return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, "scl_landmarks_read: %s is NULL",
                           !path ? "path" : !entries ? "entries" : "count");
  FILE *f = fopen(path, "rb");
  if (!f) return scl__fail_noctx(SCL_ERR_IO, "cannot read landmark file %s: %s", path, strerror(errno));
  char *line = NULL;
  size_t line_cap = 0;
  scl_landmarks *list = NULL;
  size_t n = 0, cap = 0;
  int npoints = 0;
  long lineno = 0;
  scl_status st = SCL_OK;
  ssize_t got;
  while (st == SCL_OK && (got = getline(&line, &line_cap, f)) >= 0) {
    lineno++;
    size_t len = (size_t)got;
    if (len && line[len - 1] == '\n') line[--len] = '\0';
    if (memchr(line, '\0', len)) {
      st = scl__fail_noctx(SCL_ERR_FORMAT, "%s:%ld: a NUL byte: not a text file", path, lineno);
      break;
    }
    if (len > LINE_MAX_BYTES) {
      st = scl__fail_noctx(SCL_ERR_FORMAT, "%s:%ld: line longer than %d bytes", path, lineno, LINE_MAX_BYTES);
      break;
    }
    if (n == cap) {
      size_t ncap = cap ? cap * 2 : 1024;
      scl_landmarks *grown = realloc(list, ncap * sizeof *grown);
      if (!grown) {
        st = scl__fail_noctx(SCL_ERR_OUT_OF_MEMORY, "out of host memory reading %s", path);
        break;
      }
      list = grown, cap = ncap;
    }
    memset(&list[n], 0, sizeof list[n]);
    scl_status r = parse_line(path, lineno, line, &list[n], &npoints);
    if (r < 0) st = r;
    else n += (size_t)r;
  }
  if (st == SCL_OK && ferror(f)) st = scl__fail_noctx(SCL_ERR_IO, "reading %s failed", path);
  if (st == SCL_OK && n == 0) st = scl__fail_noctx(SCL_ERR_FORMAT, "%s: no landmarks in it", path);
  fclose(f);
  free(line);
  if (st != SCL_OK) {
    free(list);
    return st;
  }
  *entries = list;
  *count = n;
  return SCL_OK;
}
