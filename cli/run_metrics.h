/* run_metrics.h — `crashwatch run --metrics-file PATH` (run_metrics.c). */
#ifndef CW_CLI_RUN_METRICS_H
#define CW_CLI_RUN_METRICS_H

#include "upload.h"

typedef struct {
  const char *path;  /* --metrics-file; NULL: off */
  const char *spool; /* the spool's families (uploader/upload_metrics.h) */
  long crashes[65];  /* by signal number (0: unknown) */
  long restarts;
  cw__upload_stats_t uploads; /* totals of this supervisor's uploads */
  double last_crash_s;        /* seconds since the epoch, 0: none yet */
  int child_up;
} cw__run_metrics_t;

void cw__run_metrics_init(cw__run_metrics_t *m, const char *path,
                          const char *spool);
/* Adds one upload pass's stats to the totals. */
void cw__run_metrics_add_uploads(cw__run_metrics_t *m,
                                 const cw__upload_stats_t *st);
/* Writes the file atomically when a path is set (the first failure is
 * logged). */
void cw__run_metrics_write(cw__run_metrics_t *m);

#endif
