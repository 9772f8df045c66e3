/* spherecl pairs: PLACEHOLDER until its issue lands (replace this whole file). */
#include "commands.h"

#include <stdio.h>

int cmd_pairs(int argc, char **argv) {
  (void)argc, (void)argv;
  fprintf(stderr, "spherecl pairs: not built yet\n");
  return 1;
}
