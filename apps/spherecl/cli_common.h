/* Helpers shared by the subcommands: flag parsing, device contexts, datasets, progress lines. */
#ifndef SPHERECL_CLI_COMMON_H
#define SPHERECL_CLI_COMMON_H

#include "spherecl.h"

#include <stddef.h>

/* Parses a whole decimal / floating value; returns 0 on any junk. */
int cli_parse_long(const char *s, long *out);
int cli_parse_float(const char *s, float *out);
/* "a,b,c" into up to max floats; returns the count or -1 on junk. */
int cli_parse_floats(const char *s, float *out, int max);
/* "WxH" with both in 1..16384. */
int cli_parse_size(const char *s, int *width, int *height);
/* "FIRST..LAST" (1-based, inclusive). */
int cli_parse_range(const char *s, int *first, int *last);

/* Margin specs: softmax, asoftmax:m=4, normface:s=16, cosface:s=64,m=0.35, arcface:s=64,m=0.5,
   combined:s=64,m1=1,m2=0.3,m3=0.2. Fills type/m/s/m1/m2/m3 of p (grad is left alone). Returns 0 and
   writes why into err on a bad spec. */
int cli_parse_margin(const char *spec, scl_margin_params *p, char *err, size_t errsize);

/* The size of the images a model takes: its crop (the stored aligned images it cuts its input from),
   or its input size when it has none. */
void cli_stored_size(const scl_net_config *cfg, int *height, int *width);

/* Creates a context on the selector (NULL: default), printing the library's message on failure. */
scl_context cli_context(const char *cmd, const char *selector);
/* Prints "spherecl CMD: <status>: <message>" for a failed call on ctx (NULL: the thread message). */
void cli_report(const char *cmd, scl_context ctx, scl_status st);

/* Opens PATH as MNIST (if it holds train-images-idx3-ubyte[.gz]) or as an image folder with the
   filter (NULL: every identity; MNIST ignores it).
   split: 1 = training part, 0 = test part (MNIST t10k; folders: the same folder). */
scl_status cli_open_dataset(const char *path, int split, const scl_folder_filter *filter, scl_dataset *ds,
                            int *is_mnist);

/* Where Debian's dataset-fashion-mnist puts Fashion-MNIST (MNIST's IDX format): the data `train`
   and `eval` use when --data is not given, so that they run on any machine with that package. */
#define CLI_DEFAULT_DATA "/usr/share/datasets/fashion-mnist"
/* data itself, or (NULL) the default after saying so on stderr; NULL after printing what to install
   when the default is not there either. */
const char *cli_data_or_default(const char *cmd, const char *data);

/* Progress of a long run over `total` items on stderr: on a terminal one line redrawn in place (at
   most 5 times a second) with the rate and the time left; elsewhere (logs) a plain line at every
   tenth of the way. Nothing at all when quiet. */
typedef struct {
  const char *what;
  size_t total, next_line;
  double t0, last;
  int tty, quiet, shown;
} cli_progress;
void cli_progress_start(cli_progress *p, const char *what, size_t total, int quiet);
void cli_progress_update(cli_progress *p, size_t done);
/* Ends the line on a terminal (keep: leave the final figures there; else erase it). */
void cli_progress_end(cli_progress *p, int keep);

/* Whether stdout/stderr is a terminal (progress lines then redraw in place). */
int cli_isatty_stderr(void);
double cli_now(void);
/* "1h02m", "3m05s", "12s" */
void cli_format_duration(double seconds, char *buf, size_t size);

#endif
