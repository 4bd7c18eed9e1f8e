/* upload.c — the delivery loop: prune, lock, encode, send, classify; see
 * upload.h for the semantics. */
#include "upload.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crashwatch.h"
#include "dsn.h"
#include "envelope.h"
#include "multipart.h"
#include "plan.h"
#include "ratelimit.h"
#include "redact.h"
#include "report.h"
#include "session.h"
#include "spool.h"
#include "transport.h"
#include "event_summary.h"
#include "md_pid.h"
#include "upload_journal.h"
#include "upload_lock.h"
#include "upload_metrics.h"
#include "upload_spawn.h"

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void ulog(const cw__upload_config_t *cfg, int level, const char *fmt,
                 ...) __attribute__((format(printf, 3, 4)));

/* The secrets of the configuration last seen (the DSN's keys, the URL's
 * credentials), hidden in every log line, failed/ reason and trace line. */
static redact_t g_redact;
static const char *g_redact_dsn, *g_redact_url;
static int g_redact_ready;

static const redact_t *redactor(const cw__upload_config_t *cfg) {
  if (!g_redact_ready || cfg->dsn != g_redact_dsn || cfg->url != g_redact_url) {
    cw__redact_init(&g_redact);
    cw__redact_add_dsn(&g_redact, cfg->dsn);
    cw__redact_add_url(&g_redact, cfg->url);
    g_redact_dsn = cfg->dsn;
    g_redact_url = cfg->url;
    g_redact_ready = 1;
  }
  return &g_redact;
}

static void ulog(const cw__upload_config_t *cfg, int level, const char *fmt,
                 ...) {
  if (level > cfg->verbosity)
    return;
  FILE *f = cfg->log ? cfg->log : stderr;
  char line[1024], clean[1200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof(line), fmt, ap);
  va_end(ap);
  cw__redact_line(redactor(cfg), line, strlen(line), clean, sizeof(clean));
  fprintf(f, "crashwatch upload: %s\n", clean);
  fflush(f);
}

/* With cfg->outcomes (the watchdog's automatic uploads), what became of a
 * report, on its own line on the app's stderr, whatever the verbosity: the
 * crash summary above it named the report's directory, which a delivery
 * removes. */
static void outcome(const cw__upload_config_t *cfg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void outcome(const cw__upload_config_t *cfg, const char *fmt, ...) {
  if (!cfg->outcomes)
    return;
  FILE *f = cfg->log ? cfg->log : stderr;
  char line[1024], clean[1200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof(line), fmt, ap);
  va_end(ap);
  cw__redact_line(redactor(cfg), line, strlen(line), clean, sizeof(clean));
  fprintf(f, "crashwatch: %s\n", clean);
  fflush(f);
}

/* Whether report id has had no outcome line yet in this process, marking
 * it as having one. An exclusive run makes a pass per kick: a report that
 * merely waits is said once, not once per pass (what happens to it later,
 * an attempt, a delivery, is always said). Bounded: past the table, the
 * waiting lines may repeat. */
static int first_outcome(const char *id) {
  static char said[128][33];
  static size_t nsaid;
  for (size_t i = 0; i < nsaid; i++)
    if (strcmp(said[i], id) == 0)
      return 0;
  if (nsaid < sizeof(said) / sizeof(said[0]))
    snprintf(said[nsaid++], sizeof(said[0]), "%.32s", id);
  return 1;
}

/* Marks id as said (an attempt's outcome, always printed); returns 1. */
static int said(const char *id) {
  first_outcome(id);
  return 1;
}

void cw__upload_config_init(cw__upload_config_t *cfg) {
  memset(cfg, 0, sizeof(*cfg));
  cfg->format = CW_UPLOAD_ENVELOPE;
  cfg->connect_timeout_ms = CW_UPLOAD_DEFAULT_CONNECT_TIMEOUT_MS;
  cfg->timeout_ms = CW_UPLOAD_DEFAULT_TIMEOUT_MS;
  cfg->retry_base_ms = CW_UPLOAD_DEFAULT_RETRY_BASE_MS;
  cfg->retry_cap_ms = CW_UPLOAD_DEFAULT_RETRY_CAP_MS;
  cfg->max_age_ms = CW_UPLOAD_DEFAULT_MAX_AGE_MS;
  cfg->max_reports = CW_UPLOAD_DEFAULT_MAX_REPORTS;
  cfg->max_bytes = CW_UPLOAD_DEFAULT_MAX_BYTES;
  cfg->prune_age_ms = CW_UPLOAD_DEFAULT_PRUNE_AGE_MS;
  cfg->failed_max = CW_UPLOAD_DEFAULT_FAILED_MAX;
  cfg->poll_ms = CW_UPLOAD_DEFAULT_POLL_MS;
  /* The spool's limits from CRASHWATCH_SPOOL_MAX_* (the watchdog passes the
   * app's this way to the uploader it starts); invalid values are left to
   * `crashwatch upload`, which reports them. */
  spool_limits_t lim = {cfg->max_reports, cfg->max_bytes, cfg->prune_age_ms,
                        cfg->failed_max};
  if (cw__spool_limits_from_env(&lim, NULL, 0) == 0) {
    cfg->max_reports = lim.max_reports;
    cfg->max_bytes = lim.max_bytes;
    cfg->prune_age_ms = lim.max_age_ms;
    cfg->failed_max = lim.failed_max;
  }
  cfg->verbosity = CW_UPLOAD_NORMAL;
}

int cw__upload_config_add_field(cw__upload_config_t *cfg, const char *spec,
                                char *err, size_t errlen) {
  const char *eq = strchr(spec, '=');
  if (eq == NULL || eq == spec) {
    snprintf(err, errlen, "field \"%s\": expected NAME=VALUE", spec);
    return CW_EINVAL;
  }
  size_t nlen = (size_t)(eq - spec);
  if (cfg->nfields >= CW_UPLOAD_MAX_FIELDS) {
    snprintf(err, errlen, "too many fields (at most %d)", CW_UPLOAD_MAX_FIELDS);
    return CW_EINVAL;
  }
  char(*slot)[256] = cfg->field_store[cfg->nfields];
  if (nlen >= sizeof(slot[0]) || strlen(eq + 1) >= sizeof(slot[1])) {
    snprintf(err, errlen, "field \"%.40s...\": name or value longer than 255",
             spec);
    return CW_EINVAL;
  }
  for (size_t i = 0; i < nlen; i++)
    if ((unsigned char)spec[i] <= 0x20 || spec[i] == '"' || spec[i] == 0x7f) {
      snprintf(err, errlen,
               "field \"%s\": invalid character at offset %zu of the name",
               spec, i);
      return CW_EINVAL;
    }
  memcpy(slot[0], spec, nlen);
  slot[0][nlen] = '\0';
  strcpy(slot[1], eq + 1);
  if (strcmp(slot[0], "sentry") == 0 ||
      strcmp(slot[0], "upload_file_minidump") == 0) {
    snprintf(err, errlen, "field \"%s\" is reserved", slot[0]);
    return CW_EINVAL;
  }
  cfg->fields[cfg->nfields].name = slot[0];
  cfg->fields[cfg->nfields].value = slot[1];
  cfg->nfields++;
  return 0;
}

int cw__upload_config_target(cw__upload_config_t *cfg, const char *dsn,
                             const char *url, const char *format, char *err,
                             size_t errlen) {
  if (dsn != NULL && dsn[0] == '\0')
    dsn = NULL;
  if (url != NULL && url[0] == '\0')
    url = NULL;
  if (format != NULL && format[0] == '\0')
    format = NULL;
  if (format == NULL)
    cfg->format = dsn != NULL ? CW_UPLOAD_ENVELOPE : CW_UPLOAD_MINIDUMP;
  else if (strcmp(format, "envelope") == 0)
    cfg->format = CW_UPLOAD_ENVELOPE;
  else if (strcmp(format, "minidump") == 0)
    cfg->format = CW_UPLOAD_MINIDUMP;
  else {
    snprintf(err, errlen, "\"%s\" is not envelope or minidump", format);
    return CW_EINVAL;
  }
  cfg->dsn = dsn;
  cfg->url = url;
  return 0;
}

int cw__upload_config_check(const cw__upload_config_t *cfg, char *err,
                            size_t errlen) {
  if (cfg->spool_dir == NULL || cfg->spool_dir[0] == '\0') {
    snprintf(err, errlen, "no spool directory (--spool or CRASHWATCH_SPOOL)");
    return CW_EINVAL;
  }
  /* Nothing to send to: say what is missing, whatever the format
   * defaulted to (the format is never the user's mistake here). */
  if ((cfg->dsn == NULL || cfg->dsn[0] == '\0') &&
      (cfg->url == NULL || cfg->url[0] == '\0')) {
    snprintf(err, errlen,
             "no target: a Sentry DSN (--dsn or SENTRY_DSN) or a collector "
             "URL (--url or CRASHWATCH_UPLOAD_URL) is needed");
    return CW_EINVAL;
  }
  if (cfg->format == CW_UPLOAD_ENVELOPE) {
    if (cfg->dsn == NULL || cfg->dsn[0] == '\0') {
      snprintf(err, errlen,
               "no target: give --dsn (or SENTRY_DSN), or --url with "
               "--format minidump (or CRASHWATCH_UPLOAD_URL)");
      return CW_EINVAL;
    }
    cw__dsn_t d;
    int rc = cw__dsn_parse(cfg->dsn, &d, err, errlen);
    if (rc != 0)
      return rc;
  }
  if (cfg->url != NULL || cfg->format == CW_UPLOAD_MINIDUMP) {
    cw__url_t u;
    if (cfg->url == NULL) {
      snprintf(err, errlen,
               "no target: --format minidump needs --url (or "
               "CRASHWATCH_UPLOAD_URL)");
      return CW_EINVAL;
    }
    int rc = cw__url_parse(cfg->url, &u, err, errlen);
    if (rc != 0)
      return rc;
  }
  if (cfg->ca_bundle != NULL && access(cfg->ca_bundle, R_OK) != 0) {
    snprintf(err, errlen, "CA bundle %s: %s", cfg->ca_bundle, strerror(errno));
    return CW_EINVAL;
  }
  if (cw__spool_check_dir(cfg->spool_dir, err, errlen) != 0)
    return CW_ESPOOL;
  return 0;
}

int64_t cw__upload_backoff_ms(int attempts, int64_t base_ms, int64_t cap_ms,
                              double rnd) {
  if (attempts < 1)
    attempts = 1;
  if (base_ms < 0)
    base_ms = 0;
  int64_t d = base_ms;
  for (int i = 1; i < attempts && d < cap_ms; i++)
    d = d > INT64_MAX / 2 ? INT64_MAX : d * 2;
  if (d > cap_ms)
    d = cap_ms;
  if (rnd < 0)
    rnd = 0;
  if (rnd >= 1)
    rnd = 0.999999;
  return d / 2 + (int64_t)((double)(d - d / 2) * rnd);
}

int cw__upload_exit_code(const cw__upload_stats_t *st) {
  if (st->handed_off)
    return CW_UPLOAD_EXIT_PENDING;
  if (st->io_errors > 0 && st->delivered == 0 && st->pending == 0)
    return CW_UPLOAD_EXIT_SPOOL;
  if (st->pending > 0)
    return CW_UPLOAD_EXIT_PENDING;
  if (st->failed > 0)
    return CW_UPLOAD_EXIT_FAILED;
  return CW_UPLOAD_EXIT_OK;
}

static double random_unit(void) {
  uint32_t v;
  if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != (ssize_t)sizeof(v))
    v = (uint32_t)now_ms() * 2654435761u;
  return (double)v / 4294967296.0;
}

static void due(cw__upload_stats_t *st, int64_t when) {
  if (when > 0 && (st->next_due_ms == 0 || when < st->next_due_ms))
    st->next_due_ms = when;
}

/* ---- Pruning -------------------------------------------------------- */

static int64_t mtime_ms(const char *path) {
  struct stat st;
  if (lstat(path, &st) != 0)
    return 0;
  return (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
}

static void prune_log(void *ctx, const char *line) {
  ulog(ctx, CW_UPLOAD_QUIET, "%s", line);
}

/* The spool's limits (cw__spool_prune, shared with the watchdog's commits),
 * with this configuration's values. */
static void prune(const cw__upload_config_t *cfg, int64_t now,
                  cw__upload_stats_t *st) {
  spool_limits_t lim = {cfg->max_reports, cfg->max_bytes, cfg->prune_age_ms,
                        cfg->failed_max};
  spool_prune_stats_t ps;
  cw__spool_prune(cfg->spool_dir, &lim, NULL, now, prune_log, (void *)cfg, &ps);
  st->pruned += ps.pruned;
  st->failed += ps.quarantined;
  st->io_errors += ps.errors;
}

/* ---- One report ----------------------------------------------------- */

typedef struct {
  const cw__upload_config_t *cfg;
  char url[2048];
  char auth[512];
  char dsn_public[1024];
  ratelimits_t rl;
  char rl_path[PATH_MAX];
  int stop_pass;    /* the server is unreachable: leave the rest for later */
  int fails_in_row; /* retryable failures since the last success */
  http_options_t http;
  /* Reports not tried this pass, for the outcome lines (one line per
   * kind, not one per report: a crash loop may have many). */
  struct skip {
    int n;
    char first[33];
    int64_t until;
  } rate_limited, not_due, unreachable;
} pass_t;

static void skipped(pass_t *p, const char *id, struct skip *k, int64_t until) {
  if (!p->cfg->outcomes || !first_outcome(id))
    return; /* said already (an earlier pass of this run) */
  if (k->n++ == 0)
    snprintf(k->first, sizeof(k->first), "%s", id);
  if (until > k->until)
    k->until = until;
}

static void skipped_outcome(const pass_t *p, const struct skip *k,
                            const char *why) {
  const cw__upload_config_t *cfg = p->cfg;
  if (k->n == 0)
    return;
  char when[64] = "";
  if (k->until > 0)
    snprintf(when, sizeof(when), " for %.0f s",
             (double)(k->until - now_ms()) / 1000.0);
  if (k->n == 1)
    outcome(cfg, "report %s kept in %s/%s: %s%s", k->first, cfg->spool_dir,
            k->first, why, when);
  else
    outcome(cfg, "%d reports kept in %s: %s%s", k->n, cfg->spool_dir, why,
            when);
}

static volatile int *g_stop;
static int should_abort(void) { return g_stop != NULL && *g_stop; }

static int save_limits(pass_t *p) {
  int rc = cw__ratelimit_save(&p->rl, p->rl_path);
  if (rc != 0)
    ulog(p->cfg, CW_UPLOAD_QUIET,
         "cannot save rate limits to %s: %s (kept in memory for this run)",
         p->rl_path, cw_strerror(rc));
  return rc;
}

static void quarantine(pass_t *p, const char *id, const char *raw_reason,
                       cw__upload_stats_t *st) {
  char reason[1024];
  cw__redact_line(redactor(p->cfg), raw_reason, strlen(raw_reason), reason,
                  sizeof(reason));
  int rc = cw__spool_quarantine(p->cfg->spool_dir, id, reason);
  if (rc != 0) {
    st->io_errors++;
    st->pending++;
    ulog(p->cfg, CW_UPLOAD_QUIET, "cannot move %s to failed/ (%s): %s", id,
         reason, cw_strerror(rc));
    return;
  }
  cw__spool_retry_remove(p->cfg->spool_dir, id);
  st->failed++;
  ulog(p->cfg, CW_UPLOAD_QUIET, "moved %s to failed/: %s", id, reason);
  if (p->cfg->outcomes && said(id))
    outcome(p->cfg, "report %s kept in %s/" SPOOL_FAILED_DIR "/%s: %s", id,
            p->cfg->spool_dir, id, reason);
}

/*
 * A retryable failure. server_down: the server could not be reached at all
 * (refused, DNS, TLS), which is true for every report, so the pass stops
 * here. Otherwise (5xx, 408, timeout) the failure may belong to this report
 * alone (a payload that crashes the server, a dump too big for the link),
 * so the pass goes on to the next report, and stops only after
 * MAX_FAILS_IN_ROW such failures in a row. This keeps one bad report from
 * blocking the others without hammering a server that is down.
 */
#define MAX_FAILS_IN_ROW 3

static void retry_later(pass_t *p, const char *id, const char *what,
                        int server_down, cw__upload_stats_t *st) {
  const cw__upload_config_t *cfg = p->cfg;
  spool_retry_t rs;
  cw__spool_retry_load(cfg->spool_dir, id, &rs);
  rs.attempts++;
  int64_t now = now_ms();
  char dir[PATH_MAX];
  snprintf(dir, sizeof(dir), "%s/%s", cfg->spool_dir, id);
  int64_t age = now - mtime_ms(dir);
  if (server_down || ++p->fails_in_row >= MAX_FAILS_IN_ROW)
    p->stop_pass = 1;
  if (cfg->max_age_ms > 0 && age > cfg->max_age_ms) {
    char reason[512];
    snprintf(reason, sizeof(reason),
             "gave up after %d attempts over %lld s (max age %lld s); last "
             "error: %s",
             rs.attempts, (long long)(age / 1000),
             (long long)(cfg->max_age_ms / 1000), what);
    quarantine(p, id, reason, st);
    return;
  }
  int64_t delay = cw__upload_backoff_ms(rs.attempts, cfg->retry_base_ms,
                                        cfg->retry_cap_ms, random_unit());
  rs.next_ms = now + delay;
  cw__redact_line(redactor(cfg), what, strlen(what), rs.last_error,
                  sizeof(rs.last_error));
  int rc = cw__spool_retry_save(cfg->spool_dir, id, &rs);
  if (rc != 0)
    ulog(cfg, CW_UPLOAD_QUIET,
         "cannot save retry state of %s: %s (report kept; it may be retried "
         "sooner)",
         id, cw_strerror(rc));
  st->pending++;
  due(st, rs.next_ms);
  ulog(cfg, CW_UPLOAD_NORMAL, "%s: %s; attempt %d failed, next in %.1f s", id,
       what, rs.attempts, (double)delay / 1000.0);
  if (cfg->outcomes && said(id))
    outcome(cfg,
            "report %s kept in %s/%s: %s; attempt %d failed, next in %.0f s",
            id, cfg->spool_dir, id, what, rs.attempts, (double)delay / 1000.0);
}

/* What the journal remembers of a delivered report (upload_journal.h),
 * written before the report leaves the spool: a delivery whose removal
 * fails is still a delivery. */
static void journal(pass_t *p, const char *id, const http_result_t *res,
                    const cw__event_summary_t *ev) {
  const cw__upload_config_t *cfg = p->cfg;
  cw__journal_entry_t e;
  memset(&e, 0, sizeof(e));
  e.time_ms = now_ms();
  snprintf(e.event_id, sizeof(e.event_id), "%s", id);
  cw__journal_server_id(res->body, e.server_event_id,
                        sizeof(e.server_event_id));
  cw__redact_line(redactor(cfg), p->url, strlen(p->url), e.server,
                  sizeof(e.server));
  e.status = res->status;
  snprintf(e.program, sizeof(e.program), "%s", ev->program);
  snprintf(e.what, sizeof(e.what), "%s",
           ev->signal[0] ? ev->signal : ev->level);
  snprintf(e.title, sizeof(e.title), "%s", ev->title);
  snprintf(e.top_frame, sizeof(e.top_frame), "%s", ev->top_frame);
  snprintf(e.timestamp, sizeof(e.timestamp), "%s", ev->timestamp);
  e.pid = ev->pid;
  int rc = cw__journal_append(cfg->spool_dir, &e);
  if (rc != 0)
    ulog(cfg, CW_UPLOAD_VERBOSE, "%s: not recorded in the journal: %s", id,
         rc == CW_ESPOOL ? cw__spool_last_error() : cw_strerror(rc));
  if (cfg->outcomes && said(id))
    outcome(cfg, "report %s uploaded as %s to %s", id,
            e.server_event_id[0] ? e.server_event_id : id, e.server);
}

/* A 2xx: the report leaves the spool. */
static void delivered(pass_t *p, const char *id, long status, size_t sent,
                      cw__upload_stats_t *st) {
  const cw__upload_config_t *cfg = p->cfg;
  int drc = cw__spool_remove_report(cfg->spool_dir, id);
  cw__spool_retry_remove(cfg->spool_dir, id);
  if (drc != 0) {
    st->io_errors++;
    ulog(cfg, CW_UPLOAD_QUIET,
         "%s: delivered but cannot remove it from the spool: %s (it will "
         "be sent again)",
         id, cw_strerror(drc));
  }
  st->delivered++;
  ulog(cfg, CW_UPLOAD_NORMAL, "delivered %s (HTTP %ld, %zu bytes)", id, status,
       sent);
}

/* A report loaded for sending, with what its rate limits let go now. */
typedef struct {
  report_t r;
  cw__upload_plan_t plan;
  cw__buf_t session_json; /* Sentry's JSON of r.session, if usable */
} loaded_t;

static void loaded_free(loaded_t *l) {
  cw__report_free(&l->r);
  cw__buf_free(&l->session_json);
}

/* Whether report id is due now: not held back by its retry schedule or
 * by the rate limits of all its items, and loadable. Returns 1 with the
 * report and its plan in *l (free with loaded_free), or 0 when it was
 * counted (pending, delivered, quarantined, I/O error) and logged. */
static int load_due(pass_t *p, const char *id, int64_t now, loaded_t *l,
                    cw__upload_stats_t *st) {
  const cw__upload_config_t *cfg = p->cfg;
  memset(l, 0, sizeof(*l));
  int64_t until = cw__ratelimit_blocked_until(&p->rl, RL_ALL, now);
  if (until) {
    st->pending++;
    due(st, until);
    ulog(cfg, CW_UPLOAD_VERBOSE, "%s: rate limited for %.1f s more", id,
         (double)(until - now) / 1000.0);
    skipped(p, id, &p->rate_limited, until);
    return 0;
  }
  spool_retry_t rs;
  cw__spool_retry_load(cfg->spool_dir, id, &rs);
  if (rs.next_ms > now) {
    st->pending++;
    due(st, rs.next_ms);
    ulog(cfg, CW_UPLOAD_VERBOSE, "%s: next attempt in %.1f s", id,
         (double)(rs.next_ms - now) / 1000.0);
    skipped(p, id, &p->not_due, rs.next_ms);
    return 0;
  }
  char err[512];
  report_t *r = &l->r;
  int rc = cw__report_load(cfg->spool_dir, id, r, err, sizeof(err));
  if (rc == 0 && r->session != NULL) {
    cw__session_t s;
    rc = cw__session_parse(r->session, r->session_len, &s, err, sizeof(err));
    if (rc == 0)
      rc = cw__session_json(&s, &l->session_json);
    else if (r->event_json != NULL) {
      /* The event is worth sending without its session update. */
      ulog(cfg, CW_UPLOAD_QUIET, "%s: session update left out: %s", id, err);
      cw__buf_free(&l->session_json);
      rc = 0;
    }
  }
  if (rc == CW_EFORMAT) {
    char reason[600];
    snprintf(reason, sizeof(reason), "corrupt report: %s", err);
    loaded_free(l);
    quarantine(p, id, reason, st);
    return 0;
  }
  if (rc != 0) {
    loaded_free(l);
    st->io_errors++;
    st->pending++;
    ulog(cfg, CW_UPLOAD_QUIET, "%s: cannot read the report: %s", id,
         err[0] ? err : cw_strerror(rc));
    return 0;
  }
  cw__upload_plan(&p->rl, r, l->session_json.len > 0,
                  cfg->format == CW_UPLOAD_ENVELOPE, now, &l->plan);
  if (l->plan.drop_session && r->event_json == NULL) {
    /* Only the envelope transport carries sessions (docs/sessions.md). */
    loaded_free(l);
    int drc = cw__spool_remove_report(cfg->spool_dir, id);
    cw__spool_retry_remove(cfg->spool_dir, id);
    if (drc != 0)
      st->io_errors++;
    ulog(cfg, CW_UPLOAD_VERBOSE,
         "%s: a session update, which only a Sentry DSN can receive: removed",
         id);
    return 0;
  }
  /* A message or event has no minidump (docs/events.md), and a
   * Breakpad-style collector takes minidumps only: such a report cannot
   * be delivered there, and waiting would not change that. It moves to
   * failed/ saying so (`crashwatch upload --dsn` can still send it). */
  if (cfg->format == CW_UPLOAD_MINIDUMP &&
      (r->nfiles == 0 || !r->files[0].is_minidump)) {
    loaded_free(l);
    quarantine(p, id,
               "no minidump (a message or event): a Breakpad-style "
               "collector takes minidumps only; send it with a DSN",
               st);
    return 0;
  }
  if (l->plan.send == 0) {
    until = l->plan.held_until;
    loaded_free(l);
    st->pending++;
    due(st, until);
    ulog(cfg, CW_UPLOAD_VERBOSE, "%s: rate limited for %.1f s more", id,
         (double)(until - now) / 1000.0);
    skipped(p, id, &p->rate_limited, until);
    return 0;
  }
  if (l->plan.drop_attachments)
    ulog(cfg, CW_UPLOAD_NORMAL,
         "%s: attachments rate limited: sending the event without its %zu "
         "attachment%s",
         id, r->nfiles, r->nfiles == 1 ? "" : "s");
  return 1;
}

/* One HTTP request for a report: its headers and (possibly gzipped) body.
 * headers point into the struct itself: do not copy it. */
typedef struct {
  cw__buf_t body, gz;
  const cw__buf_t *send; /* body or gz */
  size_t raw_len;        /* before gzip */
  const char *headers[6];
  size_t nh;
  char ctype[160], ua[64];
} request_t;

/* Encodes r in the configured format (envelope or multipart) into q.
 * Returns 0 or a CW_E* code; free q with request_free either way. */
static int request_encode(pass_t *p, const loaded_t *l, int64_t now,
                          request_t *q) {
  const report_t *r = &l->r;
  const cw__upload_config_t *cfg = p->cfg;
  memset(q, 0, sizeof(*q));
  snprintf(q->ua, sizeof(q->ua), "User-Agent: " CW_SDK_NAME "/%s",
           CW_VERSION_STRING);
  q->headers[q->nh++] = q->ua;
  int rc, use_gzip;
  if (cfg->format == CW_UPLOAD_ENVELOPE) {
    rc = cw__envelope_encode_items(
        r, p->dsn_public, now, l->plan.send,
        l->session_json.len ? (const char *)l->session_json.data : NULL,
        l->session_json.len, &q->body);
    q->headers[q->nh++] = "Content-Type: application/x-sentry-envelope";
    q->headers[q->nh++] = p->auth;
    use_gzip = 1;
  } else {
    char boundary[96];
    cw__multipart_boundary(r, boundary, sizeof(boundary));
    /* The event's release and tags go along as plain fields too. */
    report_fields_t fields;
    cw__report_fields(r, cfg->fields, cfg->nfields, &fields);
    rc = cw__multipart_encode(r, fields.v, fields.n, boundary, &q->body);
    cw__report_fields_free(&fields);
    snprintf(q->ctype, sizeof(q->ctype),
             "Content-Type: multipart/form-data; boundary=%s", boundary);
    q->headers[q->nh++] = q->ctype;
    use_gzip = cfg->gzip;
  }
  q->raw_len = q->body.len;
  q->send = &q->body;
  if (rc == 0 && use_gzip) {
    rc = cw__gzip_compress(q->body.data, q->body.len, &q->gz);
    q->headers[q->nh++] = "Content-Encoding: gzip";
    q->send = &q->gz;
  }
  return rc;
}

static void request_free(request_t *q) {
  cw__buf_free(&q->body);
  cw__buf_free(&q->gz);
}

/* After a 2xx for part of a report: the items sent leave it, the held
 * ones stay. The attachments go before event.json, so a report cut short
 * here is an event without some attachments (sent again, deduplicated by
 * event_id), never attachments without an event. */
static int strip_sent(const char *spool_dir, const char *id,
                      const cw__upload_plan_t *plan) {
  char dir[PATH_MAX];
  if ((size_t)snprintf(dir, sizeof(dir), "%s/%s", spool_dir, id) >= sizeof(dir))
    return CW_EINVAL;
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0)
    return errno ? -errno : CW_EIO;
  int rc = 0;
  if (plan->send & CW__ENV_SESSION) {
    if (unlinkat(dfd, SPOOL_SESSION_FILE, 0) != 0 && errno != ENOENT)
      rc = -errno;
  }
  if (rc == 0 && (plan->send & CW__ENV_EVENT)) {
    char **names;
    size_t n;
    rc = cw__spool_list_prefix(dir, "", &names, &n);
    int listed = rc == 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
      if (names[i][0] == '.' || strcmp(names[i], SPOOL_SESSION_FILE) == 0 ||
          strcmp(names[i], SPOOL_EVENT_FILE) == 0)
        continue;
      if (unlinkat(dfd, names[i], 0) != 0 && errno != ENOENT)
        rc = -errno;
    }
    if (listed)
      cw__spool_list_free(names, n);
    if (rc == 0 && unlinkat(dfd, SPOOL_EVENT_FILE, 0) != 0 && errno != ENOENT)
      rc = -errno;
  }
  if (rc == 0 && fsync(dfd) != 0)
    rc = errno ? -errno : CW_EIO;
  close(dfd);
  return rc;
}

static const char *items_name(unsigned items) {
  static const char *const names[] = {
      "nothing",
      "the event",
      "the attachments",
      "the event and its attachments",
      "the session",
      "the event and the session",
      "the attachments and the session",
      "the event, its attachments and the session"};
  return names[items & CW__ENV_ALL];
}

/* A 2xx for a report with items held back: what was sent leaves it. */
static void delivered_part(pass_t *p, const char *id, const loaded_t *l,
                           long status, size_t sent, cw__upload_stats_t *st) {
  const cw__upload_config_t *cfg = p->cfg;
  int rc = strip_sent(cfg->spool_dir, id, &l->plan);
  cw__spool_retry_remove(cfg->spool_dir, id);
  if (rc != 0) {
    st->io_errors++;
    ulog(cfg, CW_UPLOAD_QUIET,
         "%s: delivered in part but cannot update the report: %s (its items "
         "may be sent again)",
         id, cw_strerror(rc));
  }
  st->pending++;
  due(st, l->plan.held_until);
  ulog(cfg, CW_UPLOAD_NORMAL,
       "delivered %s of %s (HTTP %ld, %zu bytes); %s held by a rate limit "
       "for %.1f s",
       items_name(l->plan.send), id, status, sent, items_name(l->plan.held),
       (double)(l->plan.held_until - now_ms()) / 1000.0);
}

/* The earliest time any item of the plan may go again. */
static int64_t plan_due(const pass_t *p, const loaded_t *l, int64_t now) {
  cw__upload_plan_t again;
  cw__upload_plan(&p->rl, &l->r, l->session_json.len > 0,
                  p->cfg->format == CW_UPLOAD_ENVELOPE, now, &again);
  if (again.send != 0)
    return now + 1000;
  return again.held_until;
}

/* Acts on the server's answer for report id: rate limits learnt, then
 * delivered (removed, or stripped of what was sent), retried later, or
 * quarantined (refused). */
static void handle_response(pass_t *p, const char *id, http_result_t *res,
                            const loaded_t *l, size_t sent,
                            const cw__event_summary_t *ev,
                            cw__upload_stats_t *st) {
  const cw__upload_config_t *cfg = p->cfg;
  int64_t now = now_ms();
  if (!res->transport_error &&
      cw__ratelimit_update(&p->rl, res->status, res->rate_limits,
                           res->retry_after, now)) {
    save_limits(p);
    ulog(cfg, CW_UPLOAD_NORMAL,
         "rate limited by the server (HTTP %ld%s%.200s%s%s%s)", res->status,
         res->rate_limits ? ", X-Sentry-Rate-Limits: " : "",
         res->rate_limits ? res->rate_limits : "",
         res->rate_limits && res->rate_limits_len > 200 ? "..." : "",
         res->retry_after[0] ? ", Retry-After: " : "", res->retry_after);
  }
  cw__http_result_free(res);
  char what[600];
  if (res->transport_error) {
    if (should_abort()) {
      st->pending++;
      p->stop_pass = 1;
      ulog(cfg, CW_UPLOAD_VERBOSE, "%s: transfer interrupted", id);
      return;
    }
    snprintf(what, sizeof(what), "%s%s", res->tls_error ? "TLS error: " : "",
             res->error);
    st->uploads_error++;
    retry_later(p, id, what, !res->timed_out, st);
    return;
  }
  long s = res->status;
  if (s < 500 && s != 408)
    p->fails_in_row = 0; /* the server works */
  if (s >= 200 && s < 300) {
    st->uploads_ok++;
    if (l->plan.send & CW__ENV_EVENT)
      journal(p, id, res, ev);
    if (l->plan.held)
      delivered_part(p, id, l, s, sent, st);
    else
      delivered(p, id, s, sent, st);
    return;
  }
  if (s == 429) {
    st->uploads_rate_limited++;
    st->pending++;
    int64_t until = plan_due(p, l, now);
    due(st, until);
    if (cfg->outcomes && said(id))
      outcome(cfg,
              "report %s kept in %s/%s: rate limited by the server for %.0f s",
              id, cfg->spool_dir, id,
              until > now ? (double)(until - now) / 1000.0 : 0.0);
    return;
  }
  snprintf(what, sizeof(what), "HTTP %ld%s%.300s", s, res->body[0] ? ": " : "",
           res->body);
  if (s >= 400 && s < 500 && s != 408) {
    char reason[700];
    snprintf(reason, sizeof(reason), "refused by %s: %s", p->url, what);
    st->uploads_refused++;
    quarantine(p, id, reason, st);
    return;
  }
  st->uploads_error++;
  retry_later(p, id, what, 0, st);
}

static void send_one(pass_t *p, const char *id, cw__upload_stats_t *st) {
  const cw__upload_config_t *cfg = p->cfg;
  int64_t now = now_ms();
  loaded_t l;
  if (!load_due(p, id, now, &l, st))
    return;
  int nfiles = (l.plan.send & CW__ENV_ATTACHMENTS) ? (int)l.r.nfiles : 0;
  cw__event_summary_t ev;
  cw__jv_t *evj = NULL;
  if (l.r.event_json != NULL)
    cw__jv_parse(l.r.event_json, l.r.event_len, &evj, NULL, 0);
  cw__event_summary(evj, &ev);
  cw__jv_free(evj);
  for (size_t k = 0; k < l.r.nfiles; k++) {
    uint32_t pid;
    if (l.r.files[k].is_minidump &&
        cw__md_peek_pid(l.r.files[k].data, l.r.files[k].len, &pid) == 0)
      ev.pid = pid;
  }
  request_t q;
  int rc = request_encode(p, &l, now, &q);
  /* The bytes are in the request now; the report's files need not stay
   * in memory during the transfer. */
  for (size_t i = 0; i < l.r.nfiles; i++) {
    free(l.r.files[i].data);
    l.r.files[i].data = NULL;
  }
  if (rc != 0) {
    request_free(&q);
    loaded_free(&l);
    st->pending++;
    st->io_errors++;
    ulog(cfg, CW_UPLOAD_QUIET, "%s: cannot encode: %s", id, cw_strerror(rc));
    return;
  }
  ulog(cfg, CW_UPLOAD_VERBOSE,
       "%s: sending %s, %zu bytes (%zu before gzip, %d "
       "attachment%s) to %s",
       id, items_name(l.plan.send), q.send->len, q.raw_len, nfiles,
       nfiles == 1 ? "" : "s", p->url);
  http_result_t res;
  rc = cw__http_post(&p->http, p->url, q.headers, q.nh, q.send->data,
                     q.send->len, &res);
  size_t sent = q.send->len;
  request_free(&q);
  if (rc != 0) {
    loaded_free(&l);
    st->pending++;
    st->io_errors++;
    ulog(cfg, CW_UPLOAD_QUIET, "%s: cannot send: %s", id, cw_strerror(rc));
    p->stop_pass = 1;
    return;
  }
  handle_response(p, id, &res, &l, sent, &ev, st);
  loaded_free(&l);
}

static int pass_setup(const cw__upload_config_t *cfg, pass_t *p) {
  static int curl_ready;
  memset(p, 0, sizeof(*p));
  p->cfg = cfg;
  if (!curl_ready) {
    int rc = cw__http_global_init();
    if (rc != 0) {
      ulog(cfg, CW_UPLOAD_QUIET, "%s", cw__http_load_error());
      return rc;
    }
    curl_ready = 1;
  }
  char err[256];
  if (cfg->format == CW_UPLOAD_ENVELOPE) {
    cw__dsn_t d;
    int rc = cw__dsn_parse(cfg->dsn, &d, err, sizeof(err));
    if (rc != 0)
      return rc;
    char client[64];
    snprintf(client, sizeof(client), CW_SDK_NAME "/%s", CW_VERSION_STRING);
    char auth[400];
    if (cw__dsn_auth_header(&d, client, auth, sizeof(auth)) != 0 ||
        cw__dsn_format(&d, p->dsn_public, sizeof(p->dsn_public)) != 0)
      return CW_EDSN;
    snprintf(p->auth, sizeof(p->auth), "X-Sentry-Auth: %s", auth);
    if (cfg->url != NULL)
      snprintf(p->url, sizeof(p->url), "%s", cfg->url);
    else if (cw__dsn_envelope_url(&d, p->url, sizeof(p->url)) != 0)
      return CW_EDSN;
  } else {
    if (cfg->url == NULL || (size_t)snprintf(p->url, sizeof(p->url), "%s",
                                             cfg->url) >= sizeof(p->url))
      return CW_EURL;
  }
  snprintf(p->rl_path, sizeof(p->rl_path),
           "%s/" SPOOL_STATE_DIR "/" SPOOL_RATELIMITS_FILE, cfg->spool_dir);
  p->http.ca_bundle = cfg->ca_bundle;
  p->http.connect_timeout_ms = cfg->connect_timeout_ms;
  p->http.timeout_ms = cfg->timeout_ms;
  p->http.verbose = cfg->curl_verbose;
  p->http.trace = cfg->log;
  p->http.redact = redactor(cfg);
  p->http.should_abort = should_abort;
  return 0;
}

int cw__upload_run_once(const cw__upload_config_t *cfg,
                        cw__upload_stats_t *st) {
  memset(st, 0, sizeof(*st));
  char err[512];
  /* An uploader never creates a spool, and uses only one it can trust. */
  if (cw__spool_check_dir(cfg->spool_dir, err, sizeof(err)) != 0) {
    ulog(cfg, CW_UPLOAD_QUIET, "%s", err);
    st->io_errors++;
    return CW_ESPOOL;
  }
  pass_t p;
  int rc = pass_setup(cfg, &p);
  if (rc != 0) {
    ulog(cfg, CW_UPLOAD_QUIET, "bad configuration: %s", cw_strerror(rc));
    return rc;
  }
  int sfd = cw__spool_open_subdir(cfg->spool_dir, SPOOL_STATE_DIR);
  if (sfd < 0)
    ulog(cfg, CW_UPLOAD_QUIET, "%s (continuing)", cw__spool_last_error());
  else
    close(sfd);
  int64_t now = now_ms();
  cw__spool_empty_trash(cfg->spool_dir);
  prune(cfg, now, st);
  cw__ratelimit_load(&p.rl, p.rl_path, now);
  char **ids;
  size_t n;
  rc = cw__spool_list(cfg->spool_dir, &ids, &n);
  if (rc != 0) {
    ulog(cfg, CW_UPLOAD_QUIET, "cannot list %s: %s", cfg->spool_dir,
         cw_strerror(rc));
    st->io_errors++;
    return CW_ESPOOL;
  }
  ulog(cfg, CW_UPLOAD_VERBOSE, "%zu report%s in %s", n, n == 1 ? "" : "s",
       cfg->spool_dir);
  for (size_t i = 0; i < n; i++) {
    if (p.stop_pass || should_abort()) {
      st->pending++;
      if (p.stop_pass)
        skipped(&p, ids[i], &p.unreachable, 0);
      continue;
    }
    int fd;
    rc = cw__spool_lock(cfg->spool_dir, ids[i], &fd);
    if (rc == CW_ENOENT)
      continue; /* delivered or quarantined by another uploader */
    if (rc == CW_EBUSY) {
      /* Another uploader, or the watchdog still finishing the report: look
       * again soon (its release makes no event in the spool directory). */
      st->pending++;
      due(st, now_ms() + 1000);
      ulog(cfg, CW_UPLOAD_VERBOSE, "%s: locked by another uploader", ids[i]);
      continue;
    }
    if (rc != 0) {
      st->pending++;
      st->io_errors++;
      ulog(cfg, CW_UPLOAD_QUIET, "%s: cannot lock: %s", ids[i],
           cw_strerror(rc));
      continue;
    }
    send_one(&p, ids[i], st);
    cw__spool_unlock(fd);
  }
  if (p.stop_pass && st->next_due_ms == 0)
    due(st, now_ms() + cfg->retry_base_ms);
  skipped_outcome(&p, &p.rate_limited, "rate limited by the server");
  skipped_outcome(&p, &p.not_due, "waiting for its next attempt");
  skipped_outcome(&p, &p.unreachable,
                  "not tried this time: the server could not be reached, or "
                  "failed on the reports before it");
  cw__http_close(&p.http);
  cw__spool_list_free(ids, n);
  return 0;
}

static void add_stats(cw__upload_stats_t *total, const cw__upload_stats_t *st) {
  total->delivered += st->delivered;
  total->failed += st->failed;
  total->pruned += st->pruned;
  total->io_errors += st->io_errors;
  total->pending = st->pending;
  total->next_due_ms = st->next_due_ms;
  total->uploads_ok += st->uploads_ok;
  total->uploads_refused += st->uploads_refused;
  total->uploads_rate_limited += st->uploads_rate_limited;
  total->uploads_error += st->uploads_error;
}

int cw__upload_run_exclusive(const cw__upload_config_t *cfg, int lock_fd,
                             cw__upload_stats_t *total) {
  memset(total, 0, sizeof(*total));
  int fd = lock_fd;
  if (fd >= 0) {
    cw__upload_lock_adopt(fd);
  } else {
    /* Kick first, then try: whoever holds the lock now sees the kick
     * before it lets go (upload_lock.h). */
    int krc = cw__upload_kick(cfg->spool_dir);
    pid_t holder = 0;
    fd = cw__upload_lock_try(cfg->spool_dir, 0, &holder);
    if (fd == CW_EBUSY && krc == 0) {
      total->handed_off = 1;
      total->holder = (int)holder;
      if (holder > 0)
        ulog(cfg, CW_UPLOAD_NORMAL,
             "another uploader (pid %d) is delivering %s; it will take "
             "these reports too",
             (int)holder, cfg->spool_dir);
      else
        ulog(cfg, CW_UPLOAD_NORMAL,
             "another uploader is delivering %s; it will take these reports "
             "too",
             cfg->spool_dir);
      return 0;
    }
    if (fd < 0) {
      /* No lock to be had (read-only .state/, say): deliver anyway; the
       * per-report locks still keep two uploaders apart. */
      ulog(cfg, CW_UPLOAD_VERBOSE, "no uploader lock on %s (%s); continuing",
           cfg->spool_dir, cw_strerror(fd));
    }
  }
  int rc = 0;
  for (;;) {
    cw__upload_kick_take(cfg->spool_dir);
    cw__upload_stats_t st;
    rc = cw__upload_run_once(cfg, &st);
    add_stats(total, &st);
    if (rc != 0 || fd < 0)
      break;
    if (cw__upload_kick_present(cfg->spool_dir)) {
      ulog(cfg, CW_UPLOAD_VERBOSE, "kicked by another starter: one more pass");
      continue;
    }
    cw__upload_lock_release(fd);
    if (!cw__upload_kick_present(cfg->spool_dir) ||
        cw__upload_lock_relock(fd) != 0)
      break;
    ulog(cfg, CW_UPLOAD_VERBOSE, "kicked by another starter: one more pass");
  }
  if (fd >= 0) {
    cw__upload_lock_release(fd);
    close(fd);
  }
  return rc;
}

int cw__upload_watch(const cw__upload_config_t *cfg, volatile int *stop,
                     cw__upload_stats_t *total) {
  memset(total, 0, sizeof(*total));
  g_stop = stop;
  /* One uploader per spool: wait for a running one to finish. */
  pid_t holder = 0;
  int lock_fd = cw__upload_lock_try(cfg->spool_dir, 0, &holder);
  if (lock_fd == CW_EBUSY) {
    ulog(cfg, CW_UPLOAD_NORMAL,
         "waiting for the uploader delivering %s (pid %d) to finish",
         cfg->spool_dir, (int)holder);
    while (!*stop &&
           (lock_fd = cw__upload_lock_try(cfg->spool_dir, 1, NULL)) == CW_EINTR)
      ;
    if (*stop) {
      if (lock_fd >= 0)
        close(lock_fd);
      g_stop = NULL;
      return 0;
    }
  }
  if (lock_fd < 0)
    ulog(cfg, CW_UPLOAD_VERBOSE, "no uploader lock on %s (%s); continuing",
         cfg->spool_dir, cw_strerror(lock_fd));
  int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (in >= 0 && inotify_add_watch(in, cfg->spool_dir,
                                   IN_MOVED_TO | IN_CREATE | IN_ONLYDIR) < 0) {
    close(in);
    in = -1;
  }
  int rc = 0, metrics_failing = 0;
  while (!*stop) {
    cw__upload_stats_t st;
    cw__upload_kick_take(cfg->spool_dir);
    rc = cw__upload_run_once(cfg, &st);
    if (rc != 0 && rc != CW_ESPOOL)
      break;
    add_stats(total, &st);
    if (cfg->metrics_file != NULL) {
      int mrc = cw__upload_metrics_write(cfg->metrics_file, cfg->spool_dir,
                                         total, now_ms());
      /* Said once per failure streak, not once per pass. */
      if (mrc != 0 && !metrics_failing)
        ulog(cfg, CW_UPLOAD_QUIET, "cannot write the metrics file %s: %s",
             cfg->metrics_file,
             mrc == CW_EIO ? strerror(errno) : cw_strerror(mrc));
      metrics_failing = mrc != 0;
    }
    int64_t wait = cfg->poll_ms > 0 ? cfg->poll_ms : 1000;
    if (st.next_due_ms > 0) {
      int64_t d = st.next_due_ms - now_ms();
      if (d < wait)
        wait = d < 50 ? 50 : d;
    }
    ulog(cfg, CW_UPLOAD_VERBOSE, "sleeping up to %.1f s",
         (double)wait / 1000.0);
    int64_t end = now_ms() + wait;
    while (!*stop) {
      int64_t left = end - now_ms();
      if (left <= 0)
        break;
      struct pollfd pfd = {in, POLLIN, 0};
      int pr = poll(in >= 0 ? &pfd : NULL, in >= 0 ? 1 : 0,
                    (int)(left > 200 ? 200 : left));
      if (pr > 0) {
        char buf[4096];
        int woke = 0;
        ssize_t len;
        while ((len = read(in, buf, sizeof(buf))) > 0) {
          for (char *q = buf; q < buf + len;) {
            struct inotify_event *ev = (struct inotify_event *)q;
            if (ev->len > 0 && cw__spool_is_report_name(ev->name))
              woke = 1;
            q += sizeof(*ev) + ev->len;
          }
        }
        if (woke)
          break;
      }
    }
  }
  if (in >= 0)
    close(in);
  if (lock_fd >= 0)
    close(lock_fd);
  g_stop = NULL;
  return rc == CW_ESPOOL ? 0 : rc;
}

int cw__upload_spawn_once(const cw__upload_config_t *cfg) {
  int lock_fd = cw__upload_lock_for_spawn(cfg->spool_dir);
  if (lock_fd == CW_EBUSY)
    return CW_EBUSY;
  int keep[2] = {lock_fd, cfg->log != NULL ? fileno(cfg->log) : -1};
  int rc = cw__upload_detach(keep, 2);
  if (rc != 0) {
    if (lock_fd >= 0)
      close(lock_fd);
    return rc < 0 ? rc : 0;
  }
  cw__upload_stats_t st;
  rc = cw__upload_run_exclusive(cfg, lock_fd, &st);
  _exit(rc != 0 ? 1 : cw__upload_exit_code(&st));
}
