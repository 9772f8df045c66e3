/* What the fuzz harnesses share: the parsers under test read files, so each input is written to a
   per-process scratch file (in /dev/shm when it exists: no disk I/O per execution) first. */
#ifndef SPHERECL_FUZZ_FILE_H
#define SPHERECL_FUZZ_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* The scratch folder's path + "/" + name, holding the n bytes of data; NULL if it cannot be written. */
static inline const char *fuzz_file(const char *name, const uint8_t *data, size_t n) {
  static char dir[256], path[512];
  if (!dir[0]) {
    struct stat st;
    snprintf(dir, sizeof dir, "%s/spherecl-fuzz-%d", stat("/dev/shm", &st) == 0 ? "/dev/shm" : "/tmp", (int)getpid());
    mkdir(dir, 0700);
  }
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  if (!f) return NULL;
  size_t w = fwrite(data, 1, n, f);
  if (fclose(f) != 0 || w != n) return NULL;
  return path;
}

#endif
