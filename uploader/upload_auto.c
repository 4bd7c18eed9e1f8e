/* upload_auto.c — the watchdog executable's upload mode; see upload_auto.h. */
#include "upload_auto.h"

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "crashwatch.h"
#include "upload.h"
#include "upload_spawn.h"

int cw__upload_auto_main(int argc, char **argv) {
  const char *spool = NULL;
  long lock_fd = -1;
  for (int i = 2; i < argc; i++) {
    if (strcmp(argv[i], "--spool") == 0 && i + 1 < argc) {
      spool = argv[++i];
    } else if (strcmp(argv[i], "--lock-fd") == 0 && i + 1 < argc) {
      char *end;
      lock_fd = strtol(argv[++i], &end, 10);
      if (*end != '\0' || lock_fd < 0 || lock_fd > INT_MAX)
        lock_fd = -1;
    } else {
      fprintf(stderr, "crashwatch-upload: bad argument '%s'\n", argv[i]);
      return CW_UPLOAD_EXIT_USAGE;
    }
  }
  /* What ps and top show: not "memfd:crashwatch-watchdog". */
  prctl(PR_SET_NAME, "crashwatch-up", 0, 0, 0);
  signal(SIGPIPE, SIG_IGN);
  /* Started by the idle stage, whose stop signals are blocked: be
   * stoppable (SIGTERM ends an upload; the report stays in the spool). */
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  cw__upload_config_t cfg;
  cw__upload_config_init(&cfg);
  cfg.spool_dir = spool;
  cfg.verbosity = CW_UPLOAD_QUIET;
  cfg.outcomes = 1;
  char err[512];
  /* The DSN is the watchdog's own channel (it set it); the URL and format
   * are settings a user could put in a setuid program's environment. */
  if (cw__upload_config_target(&cfg, getenv(CW_UPLOAD_DSN_ENV),
                               secure_getenv("CRASHWATCH_UPLOAD_URL"),
                               secure_getenv("CRASHWATCH_UPLOAD_FORMAT"), err,
                               sizeof(err)) != 0 ||
      cw__upload_config_check(&cfg, err, sizeof(err)) != 0) {
    fprintf(stderr, "crashwatch: upload: %s\n", err);
    return CW_UPLOAD_EXIT_USAGE;
  }
  cw__upload_stats_t st;
  int rc = cw__upload_run_exclusive(&cfg, (int)lock_fd, &st);
  if (rc == CW_ESPOOL)
    return CW_UPLOAD_EXIT_SPOOL;
  return rc != 0 ? CW_UPLOAD_EXIT_USAGE : cw__upload_exit_code(&st);
}
