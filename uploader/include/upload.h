/*
 * upload.h — draining the spool to a server (normal context). The interface
 * the CLI (`crashwatch upload`) and the watchdog use.
 *
 * Delivery is at-least-once: a report leaves the spool only after a 2xx.
 *  - 2xx: the report is deleted.
 *  - 413 and other 4xx except 408 and 429: moved to failed/ with the status
 *    and the start of the response body as the reason. Never retried.
 *  - 429: the rate limit is recorded (and saved in the spool); nothing
 *    blocked is sent until it expires.
 *  - 408, 3xx, 5xx, connection/TLS errors, timeouts: retried with
 *    exponential backoff (retry_base_ms * 2^(attempts-1), capped at
 *    retry_cap_ms, with jitter: a random delay in [d/2, d]). A pass stops
 *    at the first connection failure (refused, DNS, TLS), so a down server
 *    costs one attempt per pass; after a 5xx, 408 or timeout it goes on
 *    with the next report (one bad report must not block the rest) and
 *    stops after 3 such failures in a row. A report that fails this way
 *    when older than max_age_ms goes to failed/.
 *  - Unreadable or malformed reports (no event.json, invalid JSON, a file
 *    that is not a regular file) are quarantined to failed/ with the reason.
 * Pruning (before each pass): reports beyond max_reports, beyond max_bytes
 * in total, or older than prune_age_ms are deleted, oldest first, and so are
 * failed/ entries beyond failed_max or older than prune_age_ms. Each deletion
 * is logged. Stale .tmp- directories go to failed/ (see spool.h).
 */
#ifndef CW_UPLOADER_UPLOAD_H
#define CW_UPLOADER_UPLOAD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* An annotation field of a multipart upload ("prod" = "myapp"). */
typedef struct {
  const char *name;
  const char *value;
} upload_field_t;

typedef enum {
  CW_UPLOAD_ENVELOPE = 0, /* Sentry envelope to the DSN's endpoint */
  CW_UPLOAD_MINIDUMP = 1, /* Breakpad-style multipart to a URL */
} cw__upload_format_t;

/* Log levels for cw__upload_config_t.verbosity. */
#define CW_UPLOAD_QUIET 0   /* errors only */
#define CW_UPLOAD_NORMAL 1  /* + delivered / failed / pruned, one line each */
#define CW_UPLOAD_VERBOSE 2 /* + every decision and attempt */

/* Defaults, documented in docs/upload.md. */
#define CW_UPLOAD_DEFAULT_CONNECT_TIMEOUT_MS 10000
#define CW_UPLOAD_DEFAULT_TIMEOUT_MS 120000
#define CW_UPLOAD_DEFAULT_RETRY_BASE_MS 5000
#define CW_UPLOAD_DEFAULT_RETRY_CAP_MS (3600 * 1000LL)
#define CW_UPLOAD_DEFAULT_MAX_AGE_MS (7 * 24 * 3600 * 1000LL)
#define CW_UPLOAD_DEFAULT_MAX_REPORTS 100
#define CW_UPLOAD_DEFAULT_MAX_BYTES (256LL * 1024 * 1024)
#define CW_UPLOAD_DEFAULT_PRUNE_AGE_MS (30 * 24 * 3600 * 1000LL)
#define CW_UPLOAD_DEFAULT_FAILED_MAX 50
#define CW_UPLOAD_DEFAULT_POLL_MS 60000

#define CW_UPLOAD_MAX_FIELDS 64

/* Everything borrowed: strings must outlive the calls that use them. */
typedef struct {
  const char *spool_dir;
  cw__upload_format_t format;
  const char *dsn; /* envelope: required */
  const char *url; /* minidump: required; envelope: overrides the DSN's URL */
  upload_field_t fields[CW_UPLOAD_MAX_FIELDS]; /* minidump annotations */
  size_t nfields;
  char field_store[CW_UPLOAD_MAX_FIELDS][2][256]; /* add_field's copies */
  int gzip; /* envelope: always; minidump: optional (default off) */
  const char *ca_bundle;
  long connect_timeout_ms;
  long timeout_ms;
  int64_t retry_base_ms, retry_cap_ms, max_age_ms;
  long max_reports;
  long long max_bytes;
  int64_t prune_age_ms;
  long failed_max;
  int64_t poll_ms; /* --watch: longest sleep between passes */
  int verbosity;
  int curl_verbose;
  FILE *log; /* NULL: stderr */
  /* --watch: after each pass, the spool's metrics and this process's
   * counters go to this file in Prometheus text format, atomically
   * (upload_metrics.h). NULL: none. */
  const char *metrics_file;
  /* What became of each report, one line each on log ("crashwatch: report
   * ID uploaded as SERVER_ID to URL", "... kept in DIR: why"), whatever
   * the verbosity: the watchdog's automatic uploads, whose crash summary
   * names the report's directory. */
  int outcomes;
} cw__upload_config_t;

/* Fills defaults (no spool, no target), with the spool limits from
 * CRASHWATCH_SPOOL_MAX_REPORTS/_MAX_BYTES/_MAX_AGE/_FAILED_MAX on top. */
void cw__upload_config_init(cw__upload_config_t *cfg);

/* Adds an annotation field from "name=value" (copied into the config).
 * CW_EINVAL with err if malformed, too long or too many. */
int cw__upload_config_add_field(cw__upload_config_t *cfg, const char *spec,
                                char *err, size_t errlen);

/*
 * Sets the target from a DSN, an URL and a format name (each NULL or "" when
 * not given), with the one precedence rule of docs/upload.md:
 *   DSN alone              Sentry envelopes to the DSN's endpoint
 *   URL alone              Breakpad-style multipart to the URL
 *   DSN and URL            Sentry envelopes, authenticated with the DSN's
 *                          key, to the URL (a relay or proxy)
 *   format "minidump"      multipart to the URL, whatever the DSN
 *   format "envelope"      envelopes (needs a DSN)
 * The strings are borrowed. CW_EINVAL with err for an unknown format.
 */
int cw__upload_config_target(cw__upload_config_t *cfg, const char *dsn,
                             const char *url, const char *format, char *err,
                             size_t errlen);

/* Checks the configuration (DSN/URL syntax, spool usable) with a message
 * naming what is wrong. Returns 0, CW_EDSN, CW_EURL, CW_EINVAL or CW_ESPOOL. */
int cw__upload_config_check(const cw__upload_config_t *cfg, char *err,
                            size_t errlen);

typedef struct {
  int delivered;  /* accepted by the server this pass */
  int failed;     /* moved to failed/ this pass */
  int pending;    /* still in the spool (retry later, rate limited, busy) */
  int pruned;     /* deleted by the pruning limits */
  int io_errors;  /* spool problems */
  int handed_off; /* another uploader holds the spool; it was kicked */
  int holder;     /* that uploader's pid, when known */
  int64_t next_due_ms; /* earliest time something may be retried, 0: none */
  /* Server answers, by result (crashwatch_uploads_total): 2xx; refused
   * (4xx but 408 and 429); 429; retryable (5xx, 408, timeout, connection
   * or TLS failure). */
  int uploads_ok, uploads_refused, uploads_rate_limited, uploads_error;
} cw__upload_stats_t;

/* One pass over the spool: prune, then try every report that is due.
 * Returns 0 or a CW_E* code when the spool itself is unusable. */
int cw__upload_run_once(const cw__upload_config_t *cfg, cw__upload_stats_t *st);

/*
 * One uploader per spool (upload_lock.h): takes the spool's uploader lock,
 * or adopts lock_fd (>= 0: a locked descriptor inherited from the starter),
 * then makes passes until no kick marker is left, and releases it. If
 * another process holds the lock, leaves it a kick and returns at once with
 * st->handed_off set (and st->holder its pid). Totals of all passes go to
 * st. Returns 0 or a CW_E* code as cw__upload_run_once.
 */
int cw__upload_run_exclusive(const cw__upload_config_t *cfg, int lock_fd,
                             cw__upload_stats_t *st);

/* Passes until *stop becomes nonzero (set it from a signal handler), waking
 * when a report appears (inotify), when a retry falls due, or every
 * poll_ms. Holds the spool's uploader lock throughout, waiting for it first
 * if another uploader has it. Totals go to st. */
int cw__upload_watch(const cw__upload_config_t *cfg, volatile int *stop,
                     cw__upload_stats_t *st);

/*
 * For the watchdog: starts one upload pass in a detached process (double
 * fork + setsid; stdin/stdout on /dev/null, every other descriptor but
 * stderr and cfg->log closed, log to cfg->log or stderr) and
 * returns at once, so the crashed app's exit is not delayed. The grandchild
 * is reparented to init (or the nearest subreaper) and reaped there; the
 * intermediate child is reaped here. Returns 0 or a CW_E* code from fork.
 * The spool's uploader lock is taken here, before anything is started: if
 * another uploader holds it, it is kicked, nothing is started, and the
 * return is CW_EBUSY. The grandchild runs cw__upload_run_exclusive().
 */
int cw__upload_spawn_once(const cw__upload_config_t *cfg);

/* Backoff delay in ms before attempt attempts+1 (attempts >= 1), with jitter
 * drawn from rnd in [0, 1): d = min(cap, base * 2^(attempts-1)); result in
 * [d/2, d]. */
int64_t cw__upload_backoff_ms(int attempts, int64_t base_ms, int64_t cap_ms,
                              double rnd);

/* Exit codes of `crashwatch upload` (documented in --help and
 * docs/upload.md). */
#define CW_UPLOAD_EXIT_OK 0      /* everything due was delivered */
#define CW_UPLOAD_EXIT_SPOOL 1   /* spool unusable (permissions, I/O) */
#define CW_UPLOAD_EXIT_USAGE 2   /* bad options, DSN or URL */
#define CW_UPLOAD_EXIT_FAILED 3  /* some report moved to failed/ */
#define CW_UPLOAD_EXIT_PENDING 4 /* some report still waiting (retry) */

/* The exit code for a pass's stats (PENDING beats FAILED beats OK; handed
 * off to another uploader is PENDING). */
int cw__upload_exit_code(const cw__upload_stats_t *st);

#endif
