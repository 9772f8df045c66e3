/* What the face commands (embed, verify, compare) share: their option parsing, opening a model, and
   the features of a list of image files. */
#ifndef SPHERECL_CLI_FACES_H
#define SPHERECL_CLI_FACES_H

#include "spherecl.h"

#include <stddef.h>
#include <stdio.h>

/* One option of a command: with a value ("--model FILE": *value = FILE) or a flag ("--no-mirror":
   *flag = 1). A list of options ends with {NULL}. A value given twice keeps the last. */
typedef struct {
  const char *name;
  const char **value;
  int *flag;
} cli_option;

#define CLI_PARSED (-1)
/* Parses argv[1..argc) against opts. Arguments that are not options, and all after "--", are
   positional: they are moved, in order, to argv[0..*npos). Returns CLI_PARSED, or the exit code
   to return: 0 after printing the usage to stdout (--help, -h), 2 after printing what is wrong and
   the usage to stderr (an unknown option, a missing value). */
int cli_parse_options(const char *cmd, int argc, char **argv, const cli_option *opts, void (*usage)(FILE *),
                      int *npos);
/* Prints "spherecl CMD: <message>" and the usage to stderr; returns 2 (bad usage). */
int cli_usage_error(const char *cmd, void (*usage)(FILE *), const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* A context on the selector and the model file in it. Returns 0, or 1 after printing the error
   (nothing is then left to release). */
int cli_open_model(const char *cmd, const char *device, const char *model, scl_context *ctx, scl_net *net);
void cli_close_model(scl_context ctx, scl_net net);

/* Floats per feature: 2·embed_dim with the mirror, embed_dim without. */
size_t cli_feature_dim(scl_net net, int with_mirror);
/* scl_verify_features of the n image files into out [n, cli_feature_dim], `batch` files at a time
   (the last batch may be smaller), each image loaded as the model's input says. Shows progress
   unless quiet. On failure prints the error (an image's names the file) and returns its status. */
scl_status cli_features(const char *cmd, scl_net net, const char *const *paths, size_t n, size_t batch,
                        int with_mirror, int quiet, float *out);

/* The raw-pixel baseline: each image's normalised pixels (followed by its mirror's when with_mirror),
   L2-normalised, for the n files into a malloc'd *out [n, *dim]; every image must have the first's
   size. On failure prints the error and returns its status. */
scl_status cli_pixel_features(const char *cmd, const char *const *paths, size_t n, int with_mirror, int quiet,
                              size_t *dim, float **out);
#endif
