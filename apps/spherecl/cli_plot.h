/* Pictures through gnuplot (a Debian package the project already uses): the command writes a
   gnuplot script with its data inline, gnuplot draws a PNG under a temporary name, and the file is
   renamed into place only when gnuplot succeeded. */
#ifndef SPHERECL_CLI_PLOT_H
#define SPHERECL_CLI_PLOT_H

#include <stddef.h>
#include <stdio.h>

typedef struct {
  FILE *gp;       /* the script being written (a pipe into gnuplot) */
  char *png, *tmp; /* the target and its temporary name */
} cli_plot;

/* Starts gnuplot drawing a width×height PNG to png (its terminal, output and font set). Returns 0, or 1
   after printing why (gnuplot missing: the package to install). */
int cli_plot_open(const char *cmd, cli_plot *p, const char *png, int width, int height);
/* A datablock "$name" holding rows of ncols numbers, as a script's `plot $name using ...` reads. */
void cli_plot_block_begin(cli_plot *p, const char *name);
void cli_plot_block_end(cli_plot *p);
/* Finishes the script, waits for gnuplot and renames the picture into place. Returns 0, or 1 after
   printing why (nothing is then left at png or its temporary name). */
int cli_plot_close(const char *cmd, cli_plot *p);

#endif
