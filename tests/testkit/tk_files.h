/* Scratch files and folders for the tests that read or write files (datasets, model files). */
#ifndef SCL_TK_FILES_H
#define SCL_TK_FILES_H

#include <stddef.h>

/* A new empty folder $TMPDIR/scl_test_<tag>_XXXXXX ($TMPDIR unset or empty: /tmp), as a malloc'd
   path; NULL, with a failure recorded, when it cannot be made. Remove it with tk_temp_dir_remove. */
char *tk_temp_dir(const char *tag);
/* Removes dir and everything in it, then frees the path (NULL: nothing to do). */
void tk_temp_dir_remove(char *dir);
/* Removes path and, for a folder, everything in it (no links are followed). */
void tk_rm_path(const char *path);

/* buf = "dir/name"; a path that does not fit in size is a failure. Returns buf. */
const char *tk_join(char *buf, size_t size, const char *dir, const char *name);
/* Creates (or truncates) path holding the n bytes of data; failures are recorded. */
void tk_write_file(const char *path, const void *data, size_t n);
/* The whole file as a malloc'd buffer, its size in *n; NULL (*n = 0, a failure recorded) when it
   cannot be opened. */
unsigned char *tk_read_file(const char *path, size_t *n);
/* Makes the folder path (mode 0755); a failure is recorded. */
void tk_make_dir(const char *path);

#endif
