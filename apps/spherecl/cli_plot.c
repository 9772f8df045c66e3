#include "cli_plot.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* s in gnuplot's single quotes, where a quote is written twice. */
static void put_quoted(FILE *f, const char *s) {
  fputc('\'', f);
  for (; *s; s++) {
    if (*s == '\'') fputc('\'', f);
    fputc(*s, f);
  }
  fputc('\'', f);
}

static int have_gnuplot(void) { return system("command -v gnuplot >/dev/null 2>&1") == 0; }

int cli_plot_open(const char *cmd, cli_plot *p, const char *png, int width, int height) {
  memset(p, 0, sizeof *p);
  if (!have_gnuplot()) {
    fprintf(stderr, "spherecl %s: drawing %s needs gnuplot (apt-get install gnuplot-nox)\n", cmd, png);
    return 1;
  }
  size_t n = strlen(png) + 32;
  p->png = strdup(png);
  p->tmp = malloc(n);
  if (!p->png || !p->tmp) {
    free(p->png), free(p->tmp);
    fprintf(stderr, "spherecl %s: out of host memory\n", cmd);
    return 1;
  }
  snprintf(p->tmp, n, "%s.tmp-%ld", png, (long)getpid());
  fflush(NULL);
  p->gp = popen("gnuplot", "w");
  if (!p->gp) {
    fprintf(stderr, "spherecl %s: cannot start gnuplot: %s\n", cmd, strerror(errno));
    free(p->png), free(p->tmp);
    return 1;
  }
  fprintf(p->gp, "set terminal pngcairo size %d,%d font 'sans,10' noenhanced\nset output ", width, height);
  put_quoted(p->gp, p->tmp);
  fputc('\n', p->gp);
  return 0;
}

void cli_plot_block_begin(cli_plot *p, const char *name) { fprintf(p->gp, "$%s << EOD\n", name); }
void cli_plot_block_end(cli_plot *p) { fputs("EOD\n", p->gp); }

int cli_plot_close(const char *cmd, cli_plot *p) {
  fputs("unset output\n", p->gp);
  int status = pclose(p->gp);
  int ok = status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0 && access(p->tmp, F_OK) == 0;
  if (ok && rename(p->tmp, p->png) != 0) {
    fprintf(stderr, "spherecl %s: cannot write %s: %s\n", cmd, p->png, strerror(errno));
    ok = 0;
  } else if (!ok) {
    fprintf(stderr, "spherecl %s: gnuplot failed to draw %s (its messages are above)\n", cmd, p->png);
  }
  if (!ok) remove(p->tmp);
  else fprintf(stderr, "wrote %s\n", p->png);
  free(p->png), free(p->tmp);
  return ok ? 0 : 1;
}
