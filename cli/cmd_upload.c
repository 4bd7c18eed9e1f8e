/* cmd_upload.c — placeholder until the upload command lands. */
#include <stdio.h>

#include "commands.h"

int cw_cmd_upload(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "crashwatch upload: not built yet\n");
  return 2;
}
