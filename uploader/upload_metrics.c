/* upload_metrics.c — the spool's state and the uploader's counters as
 * Prometheus metrics; see upload_metrics.h. Normal context. */
#include "upload_metrics.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "crashwatch.h"
#include "ratelimit.h"
#include "spool.h"

static int64_t mtime_ms(const char *dir, const char *name) {
  char path[PATH_MAX];
  struct stat st;
  if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path) ||
      lstat(path, &st) != 0)
    return 0;
  return (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
}

static int ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

int cw__upload_spool_status(const char *spool_dir, int64_t now_ms,
                            cw__upload_spool_status_t *s) {
  memset(s, 0, sizeof(*s));
  char **ids;
  size_t n;
  int rc = cw__spool_list(spool_dir, &ids, &n);
  if (rc != 0)
    return rc;
  s->pending = (long)n;
  for (size_t i = 0; i < n; i++) {
    s->bytes += cw__spool_report_bytes(spool_dir, ids[i]);
    int64_t m = mtime_ms(spool_dir, ids[i]);
    if (m > 0 && (s->oldest_mtime_ms == 0 || m < s->oldest_mtime_ms))
      s->oldest_mtime_ms = m;
  }
  cw__spool_list_free(ids, n);
  char failed[PATH_MAX];
  snprintf(failed, sizeof(failed), "%s/" SPOOL_FAILED_DIR, spool_dir);
  /* failed/<name>/ and its failed/<name>.reason; dot files are state being
   * replaced. */
  if (cw__spool_list_prefix(failed, "", &ids, &n) == 0) {
    for (size_t i = 0; i < n; i++) {
      if (ids[i][0] == '.' || ends_with(ids[i], ".reason"))
        continue;
      s->failed++;
      s->bytes += cw__spool_report_bytes(failed, ids[i]);
    }
    cw__spool_list_free(ids, n);
  }
  char rl_path[PATH_MAX];
  snprintf(rl_path, sizeof(rl_path),
           "%s/" SPOOL_STATE_DIR "/" SPOOL_RATELIMITS_FILE, spool_dir);
  ratelimits_t rl;
  memset(&rl, 0, sizeof(rl));
  cw__ratelimit_load(&rl, rl_path, now_ms);
  for (int c = 0; c < RL_COUNT; c++)
    if (rl.until_ms[c] > now_ms && rl.until_ms[c] > s->rate_limited_ms)
      s->rate_limited_ms = rl.until_ms[c];
  return 0;
}

int64_t cw__upload_report_blocked_until(const char *spool_dir,
                                        int has_attachments, int64_t now_ms) {
  char rl_path[PATH_MAX];
  snprintf(rl_path, sizeof(rl_path),
           "%s/" SPOOL_STATE_DIR "/" SPOOL_RATELIMITS_FILE, spool_dir);
  ratelimits_t rl;
  memset(&rl, 0, sizeof(rl));
  cw__ratelimit_load(&rl, rl_path, now_ms);
  int64_t a = cw__ratelimit_blocked_until(&rl, RL_ERROR, now_ms);
  if (has_attachments) {
    int64_t b = cw__ratelimit_blocked_until(&rl, RL_ATTACHMENT, now_ms);
    if (b > a)
      a = b;
  }
  return a;
}

int cw__upload_metrics_add(cw__prom_t *p, const char *spool_dir,
                           const cw__upload_stats_t *totals, int64_t now_ms) {
  cw__upload_spool_status_t s;
  int rc = cw__upload_spool_status(spool_dir, now_ms, &s);
  if (rc != 0)
    return rc;
  cw__prom_metric(p, CW_PROM_REPORTS_PENDING, CW_PROM_GAUGE,
                  "Reports in the spool waiting for delivery.",
                  (double)s.pending);
  cw__prom_metric(p, CW_PROM_REPORTS_FAILED, CW_PROM_GAUGE,
                  "Reports the uploader gave up on (the spool's failed/).",
                  (double)s.failed);
  cw__prom_metric(p, CW_PROM_RATE_LIMITED_UNTIL, CW_PROM_GAUGE,
                  "Unix time when the server's latest rate limit ends, 0 "
                  "when none is active.",
                  (double)(s.rate_limited_ms / 1000));
  int64_t age = s.oldest_mtime_ms > 0 && now_ms > s.oldest_mtime_ms
                    ? (now_ms - s.oldest_mtime_ms) / 1000
                    : 0;
  cw__prom_metric(p, CW_PROM_OLDEST_PENDING_AGE, CW_PROM_GAUGE,
                  "Age in seconds of the oldest report waiting for delivery, "
                  "0 when none is.",
                  (double)age);
  cw__prom_metric(p, CW_PROM_SPOOL_BYTES, CW_PROM_GAUGE,
                  "Bytes of the reports in the spool and its failed/.",
                  (double)s.bytes);
  if (totals != NULL) {
    cw__prom_metric(p, CW_PROM_REPORTS_DELIVERED, CW_PROM_COUNTER,
                    "Reports accepted by the server since the uploader "
                    "started.",
                    (double)totals->delivered);
    cw__prom_family(p, CW_PROM_UPLOADS, CW_PROM_COUNTER,
                    "Upload attempts since the uploader started, by result: "
                    "ok (2xx), failed (refused, moved to failed/), "
                    "rate_limited (429), error (retried later).");
    const struct {
      const char *result;
      int n;
    } r[] = {{CW_PROM_RESULT_OK, totals->uploads_ok},
             {CW_PROM_RESULT_FAILED, totals->uploads_refused},
             {CW_PROM_RESULT_RATE_LIMITED, totals->uploads_rate_limited},
             {CW_PROM_RESULT_ERROR, totals->uploads_error}};
    for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
      cw__prom_label_t l = {"result", r[i].result};
      cw__prom_sample(p, CW_PROM_UPLOADS, &l, 1, (double)r[i].n);
    }
  }
  return cw__prom_text(p) != NULL ? 0 : CW_EINVAL;
}

int cw__upload_metrics_write(const char *path, const char *spool_dir,
                             const cw__upload_stats_t *totals, int64_t now_ms) {
  cw__prom_t p;
  cw__prom_init(&p);
  int rc = cw__upload_metrics_add(&p, spool_dir, totals, now_ms);
  if (rc == 0)
    rc = cw__prom_write_file(&p, path);
  cw__prom_free(&p);
  return rc;
}
