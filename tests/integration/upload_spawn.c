/* upload_spawn.c — calls cw__upload_spawn_once() (or, with a third
 * argument, cw__upload_spawn_exec() of that crashwatch executable) the way the
 * watchdog does and returns at once; the upload_spawn tests check that the
 * upload happens in the background and that this caller never waits for the
 * network.
 * usage: upload_spawn SPOOL DSN [CRASHWATCH_EXE] */
#include <stdio.h>

#include "upload.h"
#include "upload_spawn.h"

int main(int argc, char **argv) {
  if (argc != 3 && argc != 4) {
    fprintf(stderr, "usage: upload_spawn SPOOL DSN [CRASHWATCH_EXE]\n");
    return 2;
  }
  if (argc == 4) {
    int rc = cw__upload_spawn_exec(argv[3], argv[1], argv[2], NULL);
    printf("spawned: %d\n", rc);
    return rc == 0 ? 0 : 1;
  }
  cw__upload_config_t cfg;
  cw__upload_config_init(&cfg);
  cfg.spool_dir = argv[1];
  cfg.dsn = argv[2];
  cfg.timeout_ms = 1000;
  cfg.retry_base_ms = 0;
  char err[256];
  if (cw__upload_config_check(&cfg, err, sizeof(err)) != 0) {
    fprintf(stderr, "upload_spawn: %s\n", err);
    return 2;
  }
  int rc = cw__upload_spawn_once(&cfg);
  printf("spawned: %d\n", rc);
  return rc == 0 ? 0 : 1;
}
