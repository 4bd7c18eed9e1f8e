/*
 * upload_metrics.h — the spool's state as numbers, and as the Prometheus
 * metrics of `crashwatch upload --watch --metrics-file` (normal context).
 * The supervisor (`crashwatch run --metrics-file`) writes the same spool
 * families with the same names (common/prom.h), so one dashboard serves
 * both.
 */
#ifndef CW_UPLOADER_UPLOAD_METRICS_H
#define CW_UPLOADER_UPLOAD_METRICS_H

#include <stdint.h>

#include "prom.h"
#include "upload.h"

typedef struct {
  long pending;            /* committed reports in the outbox */
  long failed;             /* reports in failed/ */
  long long bytes;         /* regular files of both, in bytes */
  int64_t oldest_mtime_ms; /* the oldest pending report's; 0: none */
  int64_t rate_limited_ms; /* latest active rate limit's end; 0: none */
} cw__upload_spool_status_t;

/* Reads the spool's state without changing anything (no lock taken, no
 * symbolic link followed). Returns 0 or a CW_E* code when the spool cannot
 * be listed. */
int cw__upload_spool_status(const char *spool_dir, int64_t now_ms,
                            cw__upload_spool_status_t *s);

/* Until when (ms since the epoch) the spool's saved rate limits hold back a
 * report (the error category, and attachment when it has attachments);
 * 0 when nothing does. For `crashwatch list`. */
int64_t cw__upload_report_blocked_until(const char *spool_dir,
                                        int has_attachments, int64_t now_ms);

/*
 * Adds the spool's families to p:
 *   crashwatch_reports_pending, crashwatch_reports_failed,
 *   crashwatch_rate_limited_until_seconds (0: none),
 *   crashwatch_oldest_pending_report_age_seconds (0: none pending),
 *   crashwatch_spool_bytes
 * and, when totals is not NULL (the counts of this process since it
 * started), the counters
 *   crashwatch_reports_delivered_total,
 *   crashwatch_uploads_total{result="ok|failed|rate_limited|error"}.
 * Returns 0 or a CW_E* code (the spool cannot be listed; nothing added).
 */
int cw__upload_metrics_add(cw__prom_t *p, const char *spool_dir,
                           const cw__upload_stats_t *totals, int64_t now_ms);

/* The families above for cfg's spool and totals, written to path
 * atomically (cw__prom_write_file). Returns 0 or a CW_E* code. */
int cw__upload_metrics_write(const char *path, const char *spool_dir,
                             const cw__upload_stats_t *totals, int64_t now_ms);

#endif
