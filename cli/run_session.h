/* run_session.h — `crashwatch run`'s supervision loop (run_session.c):
 * runs, restarts by policy, crash loops, hooks, metrics and uploads. */
#ifndef CW_CLI_RUN_SESSION_H
#define CW_CLI_RUN_SESSION_H

#include "run_upload.h"
#include "supervisor.h"

typedef struct {
  cw__sup_config_t *cfg; /* its events are set by cw__run_session */
  cw__sup_restart_t restart;
  long dedupe_window_ms;
  const char *on_crash;
  long on_crash_timeout_ms;
  const char *metrics_file;
  cw__run_upload_t *upload;
} cw__run_session_t;

/* Runs cfg's program until the restart policy says stop; returns the exit
 * status of `crashwatch run` (the program's last, or 125/126/127). sigfd:
 * cw__sup_signals_setup()'s. */
int cw__run_session(cw__run_session_t *s, int sigfd);

#endif
