/* The training log of `spherecl train`: --log FILE.csv (iteration, loss, accuracy, λ, lr, images/s
   at each progress interval, written as training goes and appended to when resuming) and --plot
   FILE.png (the curves, drawn by gnuplot when training stops). */
#ifndef SPHERECL_TRAIN_LOG_H
#define SPHERECL_TRAIN_LOG_H

#include "spherecl.h"

#include <stddef.h>
#include <stdio.h>

typedef struct {
  const char *csv_path, *png; /* either may be NULL */
  FILE *csv;
  char *rows; /* without --log, the rows kept for the picture */
  size_t len, cap;
} train_log;

/* Opens FILE.csv (appending when resuming and it exists, else anew with its header). Returns 0, or 1
   after printing why. */
int train_log_open(train_log *l, const char *csv_path, const char *png, int resuming);
/* One row; a failed write is reported once when the log is closed. */
void train_log_add(train_log *l, const scl_train_stats *s, double images_per_s);
/* Closes the CSV and draws the picture (of the whole CSV when there is one, resumed runs included).
   Returns 0, or 1 after printing why. */
int train_log_close(train_log *l);

#endif
