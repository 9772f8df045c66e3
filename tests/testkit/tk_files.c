#include "testkit/tk_files.h"

#include "testkit/testkit.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

char *tk_temp_dir(const char *tag) {
  const char *base = getenv("TMPDIR");
  char tmpl[4096];
  snprintf(tmpl, sizeof tmpl, "%s/scl_test_%s_XXXXXX", base && *base ? base : "/tmp", tag);
  char *d = mkdtemp(tmpl);
  if (!d) {
    tk_fail(__FILE__, __LINE__, "mkdtemp failed");
    return NULL;
  }
  return strdup(d);
}

void tk_rm_path(const char *path) {
  struct stat sb;
  if (lstat(path, &sb) != 0) return;
  if (S_ISDIR(sb.st_mode)) {
    DIR *d = opendir(path);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
      if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
      char child[4096];
      snprintf(child, sizeof child, "%s/%s", path, e->d_name);
      tk_rm_path(child);
    }
    if (d) closedir(d);
  }
  remove(path);
}

void tk_temp_dir_remove(char *dir) {
  if (dir) tk_rm_path(dir);
  free(dir);
}

const char *tk_join(char *buf, size_t size, const char *dir, const char *name) {
  int n = snprintf(buf, size, "%s/%s", dir, name);
  TK_CHECK_MSG(n >= 0 && (size_t)n < size, "path too long: %s/%s", dir, name);
  return buf;
}

void tk_write_file(const char *path, const void *data, size_t n) {
  FILE *f = fopen(path, "wb");
  TK_CHECK_MSG(f != NULL, "cannot create %s", path);
  if (!f) return;
  TK_CHECK(fwrite(data, 1, n, f) == n);
  fclose(f);
}

unsigned char *tk_read_file(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  *n = 0;
  if (!f) {
    tk_fail(__FILE__, __LINE__, "cannot open %s", path);
    return NULL;
  }
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *buf = malloc(size > 0 ? (size_t)size : 1);
  *n = fread(buf, 1, size > 0 ? (size_t)size : 0, f);
  fclose(f);
  return buf;
}

void tk_make_dir(const char *path) { TK_CHECK_MSG(mkdir(path, 0755) == 0, "cannot create %s", path); }
