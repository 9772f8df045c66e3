/* Files written atomically: under a temporary sibling name, flushed and fsync'd, then renamed over
   the target, so a crash or a failed write never destroys the previous file (models, pairs, ROC
   curves, features). */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Best effort: a rename is durable once its folder is synced; some file systems refuse this, and the
   file is already complete and in place, so a failure here is not reported. */
static void sync_parent_dir(const char *path) {
  const char *slash = strrchr(path, '/');
  char dir[4096];
  if (!slash)
    snprintf(dir, sizeof dir, ".");
  else if (slash == path)
    snprintf(dir, sizeof dir, "/");
  else
    snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
  int fd = open(dir, O_RDONLY);
  if (fd < 0) return;
  (void)fsync(fd);
  close(fd);
}


scl_status scl__atomic_open(scl__atomic_file *af, const char *path, const char *op) {
  size_t size = strlen(path) + 32;
  af->f = NULL;
  af->path = path;
  af->tmp = malloc(size);
  if (!af->tmp) return scl__fail_noctx(SCL_ERR_OUT_OF_MEMORY, "%s: out of host memory", op);
  snprintf(af->tmp, size, "%s.tmp-%ld", path, (long)getpid());
  af->f = fopen(af->tmp, "wb");
  if (!af->f) {
    scl_status st = scl__fail_noctx(SCL_ERR_IO, "%s: cannot write %s: %s", op, af->tmp, strerror(errno));
    free(af->tmp);
    af->tmp = NULL;
    return st;
  }
  return SCL_OK;
}

scl_status scl__atomic_commit(scl__atomic_file *af, const char *op) {
  int err = 0;
  if (ferror(af->f)) err = EIO;
  else if (fflush(af->f) != 0 || fsync(fileno(af->f)) != 0) err = errno;
  if (fclose(af->f) != 0 && !err) err = errno;
  af->f = NULL;
  if (!err && rename(af->tmp, af->path) != 0) err = errno;
  if (!err) sync_parent_dir(af->path);
  scl_status st = SCL_OK;
  if (err) {
    remove(af->tmp);
    st = scl__fail_noctx(SCL_ERR_IO, "%s: writing %s failed: %s", op, af->path, strerror(err));
  }
  free(af->tmp);
  af->tmp = NULL;
  return st;
}

void scl__atomic_abort(scl__atomic_file *af) {
  if (af->f) fclose(af->f);
  if (af->tmp) remove(af->tmp);
  free(af->tmp);
  af->f = NULL;
  af->tmp = NULL;
}


int scl__make_parent_dirs(const char *path) {
  char buf[4096];
  if ((size_t)snprintf(buf, sizeof buf, "%s", path) >= sizeof buf) return errno = ENAMETOOLONG, 0;
  for (char *p = buf + 1; *p; p++) {
    if (*p != '/') continue;
    *p = '\0';
    if (mkdir(buf, 0777) != 0 && errno != EEXIST) return 0;
    *p = '/';
  }
  return 1;
}
