#include "train_log.h"

#include "cli_plot.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HEADER "iteration,loss,accuracy,lambda,lr,images_per_s\n"

int train_log_open(train_log *l, const char *csv_path, const char *png, int resuming) {
  memset(l, 0, sizeof *l);
  l->csv_path = csv_path, l->png = png;
  if (!csv_path) return 0;
  int append = resuming && access(csv_path, F_OK) == 0;
  l->csv = fopen(csv_path, append ? "a" : "w");
  if (!l->csv) {
    fprintf(stderr, "spherecl train: cannot write the log %s: %s\n", csv_path, strerror(errno));
    return 1;
  }
  if (!append) fputs(HEADER, l->csv);
  fflush(l->csv);
  return 0;
}

void train_log_add(train_log *l, const scl_train_stats *s, double images_per_s) {
  char row[256];
  int n = snprintf(row, sizeof row, "%ld,%.6g,%.6g,%.6g,%.6g,%.4g\n", s->iteration, (double)s->loss,
                   (double)s->accuracy, (double)s->lambda, (double)s->lr, images_per_s);
  if (n <= 0 || (size_t)n >= sizeof row) return;
  if (l->csv) {
    fputs(row, l->csv);
    fflush(l->csv); /* a log people can follow while training runs */
    return;
  }
  if (!l->png) return;
  if (l->len + (size_t)n + 1 > l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 4096;
    while (cap < l->len + (size_t)n + 1) cap *= 2;
    char *grown = realloc(l->rows, cap);
    if (!grown) return;
    l->rows = grown, l->cap = cap;
  }
  memcpy(l->rows + l->len, row, (size_t)n + 1);
  l->len += (size_t)n;
}

/* The rows of the CSV file (header dropped), or of memory. */
static void emit_rows(train_log *l, FILE *gp) {
  if (!l->csv_path) {
    if (l->rows) fputs(l->rows, gp);
    return;
  }
  FILE *f = fopen(l->csv_path, "r");
  char line[512];
  while (f && fgets(line, sizeof line, f))
    if (line[0] >= '0' && line[0] <= '9') fputs(line, gp);
  if (f) fclose(f);
}

static int draw(train_log *l) {
  cli_plot p;
  if (cli_plot_open("train", &p, l->png, 1300, 420)) return 1;
  cli_plot_block_begin(&p, "log");
  emit_rows(l, p.gp);
  cli_plot_block_end(&p);
  fputs("set datafile separator ','\nset multiplot layout 1,3 title 'spherecl train'\nset grid\n"
        "set xlabel 'iteration'\nunset key\n"
        "set title 'loss (softmax cross-entropy with the margin)'\nplot $log using 1:2 with lines lw 2\n"
        "set title 'batch accuracy'\nset yrange [0:1]\nplot $log using 1:3 with lines lw 2\n"
        "set title 'lambda (A-Softmax) and learning rate'\nset autoscale y\nset logscale y\nset logscale y2\n"
        "set ytics nomirror\nset y2tics\nset ylabel 'lambda'\nset y2label 'lr'\nset key top right\n"
        "plot $log using 1:4 with lines lw 2 title 'lambda', $log using 1:5 axes x1y2 with steps lw 2 dt 2 title 'lr'\n"
        "unset multiplot\n",
        p.gp);
  return cli_plot_close("train", &p);
}

int train_log_close(train_log *l) {
  int rc = 0;
  if (l->csv) {
    int bad = ferror(l->csv);
    if (fclose(l->csv) != 0 || bad) {
      fprintf(stderr, "spherecl train: writing the log %s failed\n", l->csv_path);
      rc = 1;
    }
    l->csv = NULL;
  }
  if (l->png && draw(l)) rc = 1;
  free(l->rows);
  l->rows = NULL;
  return rc;
}
