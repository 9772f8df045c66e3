/* spherecl embed: PLACEHOLDER until its issue lands (replace this whole file). */
#include "commands.h"

#include <stdio.h>

int cmd_embed(int argc, char **argv) {
  (void)argc, (void)argv;
  fprintf(stderr, "spherecl embed: not built yet\n");
  return 1;
}
