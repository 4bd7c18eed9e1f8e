/* run_metrics.c — `crashwatch run --metrics-file PATH`: the supervisor's
 * state in Prometheus text for node_exporter's textfile collector,
 * rewritten atomically (common/prom.h) whenever it changes: the program
 * starts or ends, a crash, a restart, an upload. The supervisor's own
 * families:
 *   crashwatch_crashes_total{signal="SIGSEGV"}   counter, per signal
 *   crashwatch_restarts_total                    counter
 *   crashwatch_last_crash_timestamp_seconds      gauge (0: none yet)
 *   crashwatch_child_up                          gauge: 1 while it runs
 * and the spool's and uploads' families exactly as `crashwatch upload
 * --metrics-file` writes them (cw__upload_metrics_add:
 * crashwatch_reports_pending, _reports_failed, _spool_bytes,
 * _oldest_pending_report_age_seconds, _rate_limited_until_seconds,
 * _reports_delivered_total, _uploads_total{result}), counting the
 * uploads this supervisor ran. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "prom.h"
#include "run_metrics.h"
#include "supervisor.h"
#include "upload_metrics.h"

void cw__run_metrics_init(cw__run_metrics_t *m, const char *path,
                          const char *spool) {
  memset(m, 0, sizeof(*m));
  m->path = path;
  m->spool = spool;
}

void cw__run_metrics_add_uploads(cw__run_metrics_t *m,
                                 const cw__upload_stats_t *st) {
  m->uploads.delivered += st->delivered;
  m->uploads.failed += st->failed;
  m->uploads.pending = st->pending;
  m->uploads.uploads_ok += st->uploads_ok;
  m->uploads.uploads_refused += st->uploads_refused;
  m->uploads.uploads_rate_limited += st->uploads_rate_limited;
  m->uploads.uploads_error += st->uploads_error;
}

void cw__run_metrics_write(cw__run_metrics_t *m) {
  if (m->path == NULL)
    return;
  cw__prom_t p;
  cw__prom_init(&p);
  cw__prom_family(&p, CW_PROM_CRASHES, CW_PROM_COUNTER,
                  "Crashes of the supervised program, by signal.");
  int any = 0;
  for (int s = 0; s < 65; s++)
    if (m->crashes[s] > 0) {
      cw__prom_label_t l = {"signal", s ? cw__sup_signame(s) : "unknown"};
      cw__prom_sample(&p, CW_PROM_CRASHES, &l, 1, (double)m->crashes[s]);
      any = 1;
    }
  if (!any) { /* a series from the start, so rate() sees the first crash */
    cw__prom_label_t l = {"signal", "SIGSEGV"};
    cw__prom_sample(&p, CW_PROM_CRASHES, &l, 1, 0);
  }
  cw__prom_metric(&p, CW_PROM_RESTARTS, CW_PROM_COUNTER,
                  "Restarts of the supervised program.", (double)m->restarts);
  cw__prom_metric(&p, CW_PROM_LAST_CRASH, CW_PROM_GAUGE,
                  "Unix time of the last crash, 0 when none yet.",
                  m->last_crash_s);
  cw__prom_metric(&p, CW_PROM_CHILD_UP, CW_PROM_GAUGE,
                  "1 while the supervised program runs, else 0.",
                  m->child_up ? 1 : 0);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
  int rc = cw__upload_metrics_add(&p, m->spool, &m->uploads, now);
  if (rc == 0)
    rc = cw__prom_write_file(&p, m->path);
  cw__prom_free(&p);
  static int logged;
  if (rc != 0 && !logged) {
    logged = 1;
    cw__sup_log("--metrics-file %s: cannot write it (error %d)", m->path, rc);
  }
}
