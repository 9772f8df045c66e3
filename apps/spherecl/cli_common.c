#include "cli_common.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int cli_parse_long(const char *s, long *out) {
  if (!s || !*s) return 0;
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (*end || errno) return 0;
  *out = v;
  return 1;
}

int cli_parse_float(const char *s, float *out) {
  if (!s || !*s) return 0;
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (*end || errno || !isfinite(v)) return 0;
  *out = (float)v;
  return 1;
}

int cli_parse_floats(const char *s, float *out, int max) {
  char buf[256];
  if (!s || strlen(s) >= sizeof buf) return -1;
  snprintf(buf, sizeof buf, "%s", s);
  int n = 0;
  char *save = NULL;
  for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    if (n == max || !cli_parse_float(tok, &out[n])) return -1;
    n++;
  }
  return n;
}

int cli_parse_size(const char *s, int *width, int *height) {
  char *end;
  errno = 0;
  long a = strtol(s, &end, 10);
  if (end == s || (*end != 'x' && *end != 'X')) return 0;
  const char *t = end + 1;
  long b = strtol(t, &end, 10);
  if (end == t || *end || errno || a < 1 || b < 1 || a > 16384 || b > 16384) return 0;
  *width = (int)a, *height = (int)b;
  return 1;
}

int cli_parse_range(const char *s, int *first, int *last) {
  const char *dots = s ? strstr(s, "..") : NULL;
  if (!dots) return 0;
  char a[32];
  size_t len = (size_t)(dots - s);
  if (len == 0 || len >= sizeof a) return 0;
  memcpy(a, s, len);
  a[len] = '\0';
  long f, l;
  if (!cli_parse_long(a, &f) || !cli_parse_long(dots + 2, &l) || f < 1 || l < f || l > 1000000) return 0;
  *first = (int)f, *last = (int)l;
  return 1;
}

int cli_parse_margin(const char *spec, scl_margin_params *p, char *err, size_t errsize) {
  char buf[256];
  if (!spec || strlen(spec) >= sizeof buf) return snprintf(err, errsize, "margin spec too long"), 0;
  snprintf(buf, sizeof buf, "%s", spec);
  char *colon = strchr(buf, ':');
  char *args = colon ? colon + 1 : NULL;
  if (colon) *colon = '\0';
  scl_margin_params q = *p;
  q.m = 1, q.s = 64.0f, q.m1 = 1.0f, q.m2 = 0.0f, q.m3 = 0.0f;
  float *mfield = NULL; /* what "m=" sets: A-Softmax's m, CosFace's m3, ArcFace's m2 */
  if (!strcmp(buf, "softmax")) q.type = SCL_MARGIN_NONE;
  else if (!strcmp(buf, "asoftmax")) q.type = SCL_MARGIN_ASOFTMAX, q.m = 4;
  else if (!strcmp(buf, "normface")) q.type = SCL_MARGIN_COMBINED, q.s = 16.0f;
  else if (!strcmp(buf, "cosface")) q.type = SCL_MARGIN_COMBINED, q.m3 = 0.35f, mfield = &q.m3;
  else if (!strcmp(buf, "arcface")) q.type = SCL_MARGIN_COMBINED, q.m2 = 0.5f, mfield = &q.m2;
  else if (!strcmp(buf, "combined")) q.type = SCL_MARGIN_COMBINED;
  else return snprintf(err, errsize, "unknown margin \"%s\" (softmax, asoftmax, normface, cosface, arcface, combined)", buf), 0;
  char *save = NULL;
  for (char *kv = args ? strtok_r(args, ",", &save) : NULL; kv; kv = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(kv, '=');
    float v;
    if (!eq || !cli_parse_float(eq + 1, &v)) return snprintf(err, errsize, "\"%s\" is not KEY=NUMBER", kv), 0;
    *eq = '\0';
    if (!strcmp(kv, "m") && q.type == SCL_MARGIN_ASOFTMAX) {
      if (v != 1 && v != 2 && v != 3 && v != 4) return snprintf(err, errsize, "asoftmax m must be 1, 2, 3 or 4"), 0;
      q.m = (int)v;
    } else if (!strcmp(kv, "m") && mfield) *mfield = v;
    else if (!strcmp(kv, "s") && q.type == SCL_MARGIN_COMBINED) q.s = v;
    else if (!strcmp(kv, "m1") && q.type == SCL_MARGIN_COMBINED) q.m1 = v;
    else if (!strcmp(kv, "m2") && q.type == SCL_MARGIN_COMBINED) q.m2 = v;
    else if (!strcmp(kv, "m3") && q.type == SCL_MARGIN_COMBINED) q.m3 = v;
    else return snprintf(err, errsize, "\"%s\" is not a parameter of %s", kv, buf), 0;
  }
  if (q.type == SCL_MARGIN_COMBINED && !(q.s > 0)) return snprintf(err, errsize, "s must be > 0"), 0;
  *p = q;
  return 1;
}

void cli_report(const char *cmd, scl_context ctx, scl_status st) {
  fprintf(stderr, "spherecl %s: %s: %s\n", cmd, scl_status_string(st), scl_context_error(ctx));
}

void cli_stored_size(const scl_net_config *cfg, int *height, int *width) {
  const int cropped = cfg->input.crop_height || cfg->input.crop_width;
  *height = cropped ? cfg->input.crop_height : cfg->in_height;
  *width = cropped ? cfg->input.crop_width : cfg->in_width;
}

scl_context cli_context(const char *cmd, const char *selector) {
  scl_context ctx = NULL;
  scl_status st = scl_context_create(selector, &ctx);
  if (st != SCL_OK) {
    cli_report(cmd, NULL, st);
    return NULL;
  }
  return ctx;
}

static int exists(const char *dir, const char *name) {
  char path[4096];
  struct stat sb;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  if (stat(path, &sb) == 0) return 1;
  snprintf(path, sizeof path, "%s/%s.gz", dir, name);
  return stat(path, &sb) == 0;
}

scl_status cli_open_dataset(const char *path, int split, const scl_folder_filter *filter, scl_dataset *ds,
                            int *is_mnist) {
  *is_mnist = exists(path, "train-images-idx3-ubyte") || exists(path, "t10k-images-idx3-ubyte");
  if (*is_mnist) return scl_dataset_open_mnist(path, split, ds);
  return scl_dataset_open_folder_filtered(path, filter, ds);
}

const char *cli_data_or_default(const char *cmd, const char *data) {
  if (data) return data;
  if (!exists(CLI_DEFAULT_DATA, "train-images-idx3-ubyte") && !exists(CLI_DEFAULT_DATA, "t10k-images-idx3-ubyte")) {
    fprintf(stderr,
            "spherecl %s: no --data given, and the default data set, Fashion-MNIST in %s, is not there\n"
            "(on Debian/Ubuntu: apt-get install dataset-fashion-mnist; or give --data FOLDER)\n",
            cmd, CLI_DEFAULT_DATA);
    return NULL;
  }
  fprintf(stderr, "spherecl %s: no --data given: using Fashion-MNIST from %s (Debian's dataset-fashion-mnist)\n",
          cmd, CLI_DEFAULT_DATA);
  return CLI_DEFAULT_DATA;
}

void cli_progress_start(cli_progress *p, const char *what, size_t total, int quiet) {
  p->what = what, p->total = total, p->quiet = quiet, p->shown = 0;
  p->tty = cli_isatty_stderr();
  p->t0 = p->last = cli_now();
  p->next_line = total / 10 ? total / 10 : 1;
}

static void progress_line(cli_progress *p, size_t done, double now) {
  double el = now - p->t0, rate = el > 0 ? done / el : 0;
  char eta[32];
  cli_format_duration(done ? el / done * (double)(p->total - done) : -1, eta, sizeof eta);
  char pace[32]; /* items per second, or seconds per item when they are slow (tune's compiles) */
  if (rate >= 1 || done == 0) snprintf(pace, sizeof pace, "%.0f/s", rate);
  else snprintf(pace, sizeof pace, "%.0f s each", el / done);
  fprintf(stderr, "%s%s: %zu/%zu  %s  ETA %s%s", p->tty ? "\r" : "", p->what, done, p->total, pace, eta,
          p->tty ? "\033[K" : "\n");
  fflush(stderr);
  p->shown = 1;
}

void cli_progress_update(cli_progress *p, size_t done) {
  if (p->quiet) return;
  double now = cli_now();
  if (p->tty) {
    if (now - p->last < 0.2 && done < p->total) return;
    p->last = now;
    progress_line(p, done, now);
  } else if (done >= p->next_line) {
    while (p->next_line <= done) p->next_line += p->total / 10 ? p->total / 10 : 1;
    progress_line(p, done, now);
  }
}

void cli_progress_end(cli_progress *p, int keep) {
  if (p->quiet || !p->tty || !p->shown) return;
  fputs(keep ? "\n" : "\r\033[K", stderr);
  fflush(stderr);
}

int cli_isatty_stderr(void) { return isatty(fileno(stderr)); }

double cli_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

void cli_format_duration(double s, char *buf, size_t size) {
  if (!(s >= 0) || s > 1e8) {
    snprintf(buf, size, "?");
    return;
  }
  long t = (long)(s + 0.5);
  if (t >= 3600) snprintf(buf, size, "%ldh%02ldm", t / 3600, t / 60 % 60);
  else if (t >= 60) snprintf(buf, size, "%ldm%02lds", t / 60, t % 60);
  else snprintf(buf, size, "%lds", t);
}
