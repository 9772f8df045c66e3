/* spherecl compare: PLACEHOLDER until its issue lands (replace this whole file). */
#include "commands.h"

#include <stdio.h>

int cmd_compare(int argc, char **argv) {
  (void)argc, (void)argv;
  fprintf(stderr, "spherecl compare: not built yet\n");
  return 1;
}
