/* run_upload.h — `crashwatch run`'s delivery of the spool before it exits
 * (run_upload.c). */
#ifndef CW_CLI_RUN_UPLOAD_H
#define CW_CLI_RUN_UPLOAD_H

#include <sys/types.h>

#include "upload.h"

typedef struct {
  int enabled; /* a DSN or URL was given (flags or environment) */
  cw__upload_config_t cfg;
  long timeout_ms; /* --upload-timeout */
} cw__run_upload_t;

/* Sets the target from the flags (NULL when not given), else from
 * SENTRY_DSN / CRASHWATCH_UPLOAD_URL / CRASHWATCH_UPLOAD_FORMAT, as
 * `crashwatch upload` does. The strings are borrowed. Returns 0, or
 * nonzero with err for a bad target (a usage error). */
int cw__run_upload_init(cw__run_upload_t *up, const char *dsn, const char *url,
                        const char *format, long timeout_ms, char *err,
                        size_t errlen);

/* Starts one delivery pass in the background (a child that kills itself
 * with SIGALRM after timeout_ms): returns its pid (reap it, then call
 * cw__run_upload_collect with *fd), 0 when there is nothing to do or no
 * target, -1 on failure. */
pid_t cw__run_upload_start(cw__run_upload_t *up, const char *spool, int *fd);
/* After the child was reaped: its stats from fd (closed here); 0, or -1
 * when it died before writing them. */
int cw__run_upload_collect(int fd, cw__upload_stats_t *st);

/* When enabled and the spool holds reports: one delivery pass in a child
 * process, killed if it has not finished within timeout_ms (the reports
 * it could not send stay in the spool). sigfd: the supervisor's signalfd,
 * drained meanwhile. */
void cw__run_upload(cw__run_upload_t *up, const char *spool, int sigfd,
                    cw__upload_stats_t *st);

#endif
