/* cmd_dump.c — placeholder until the dump command lands. */
#include <stdio.h>

#include "commands.h"

int cw_cmd_dump(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "crashwatch dump: not built yet\n");
  return 2;
}
