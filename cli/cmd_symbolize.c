/* cmd_symbolize.c — placeholder until the symbolize command lands. */
#include <stdio.h>

#include "commands.h"

int cw_cmd_symbolize(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "crashwatch symbolize: not built yet\n");
  return 2;
}
