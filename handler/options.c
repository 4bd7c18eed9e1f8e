/*
 * options.c — cw_options_t: defaults, the environment, setters, and the
 * message behind cw_last_error(). Normal context.
 *
 * In a secure-execution process (setuid, setgid, file capabilities: the
 * kernel's AT_SECURE), the environment belongs to the user who started
 * the program, not to the program: no setting is read from it
 * (secure_getenv), only the program's cw_options_* calls count.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/auxv.h>

#include "crashwatch.h"
#include "cw_internal.h"
#include "dsn.h"
#include "scope_layout.h"

#define CW_ACK_TIMEOUT_DEFAULT_MS 10000u
#define CW_ACK_TIMEOUT_MAX_MS 600000u
#define CW_ATTACHMENT_MAX_BYTES_DEFAULT (256ul * 1024)
#define CW_ATTACHMENT_MAX_BYTES_LIMIT (1ul << 30)

int cw__scope_abs_path(const char *path, char *buf, size_t cap, size_t *len);

/* Per thread, so one thread's failure never overwrites (or tears) the
 * message another thread is reading. The default TLS model: in
 * libcrashwatch.so that is general-dynamic (__tls_get_addr, which may
 * allocate a dlopen()ed library's block on a thread's first use), fine
 * here because cw__fail() and cw_last_error() are normal context only; no
 * signal-context file touches this variable (tests/check-signal-safe.sh
 * would refuse __tls_get_addr there). */
static __thread char last_error[512];

int cw__secure_exec(void) { return getauxval(AT_SECURE) != 0; }

const char *cw__getenv(const char *name) { return secure_getenv(name); }

int cw__dsn_check(const char *dsn, char *err, size_t errlen) {
  cw__dsn_t parsed;
  return cw__dsn_parse(dsn, &parsed, err, errlen);
}

int cw__fail(int err, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(last_error, sizeof(last_error), fmt, ap);
  va_end(ap);
  return err;
}

void cw__clear_error(void) { last_error[0] = '\0'; }

CW_EXTERN const char *cw_last_error(void) { return last_error; }

/* A copy of s, or NULL for NULL. *ok becomes 0 on out-of-memory. */
static char *dup_or_null(const char *s, int *ok) {
  if (s == NULL)
    return NULL;
  char *d = strdup(s);
  if (d == NULL)
    *ok = 0;
  return d;
}

static int replace_string(char **slot, const char *value) {
  int ok = 1;
  char *d = dup_or_null(value, &ok);
  if (!ok)
    return cw__fail(CW_ENOMEM, "out of memory");
  free(*slot);
  *slot = d;
  return 0;
}

/* "1/true/yes/on" and "0/false/no/off"; -1 for anything else. */
static int parse_bool(const char *s) {
  static const char *const yes[] = {"1", "true", "yes", "on"};
  static const char *const no[] = {"0", "false", "no", "off"};
  for (size_t i = 0; i < 4; i++) {
    if (strcasecmp(s, yes[i]) == 0)
      return 1;
    if (strcasecmp(s, no[i]) == 0)
      return 0;
  }
  return -1;
}

static void env_fail(cw_options_t *o, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void env_fail(cw_options_t *o, int err, const char *fmt, ...) {
  if (o->env_err != 0)
    return; /* keep the first */
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(o->env_msg, sizeof(o->env_msg), fmt, ap);
  va_end(ap);
  o->env_err = err;
}

/* ${XDG_STATE_HOME:-$HOME/.local/state}/crashwatch/reports, or NULL when
 * neither variable is set (cw_init() then fails with a message). */
static char *default_spool(void) {
  const char *xdg = cw__getenv("XDG_STATE_HOME");
  const char *home = cw__getenv("HOME");
  char path[PATH_MAX];
  int n;
  if (xdg != NULL && xdg[0] == '/')
    n = snprintf(path, sizeof(path), "%s/crashwatch/reports", xdg);
  else if (home != NULL && home[0] != '\0')
    n = snprintf(path, sizeof(path), "%s/.local/state/crashwatch/reports",
                 home);
  else
    return NULL;
  if (n < 0 || (size_t)n >= sizeof(path))
    return NULL;
  return strdup(path);
}

static const char *env_nonempty(const char *name) {
  const char *v = cw__getenv(name);
  return v != NULL && v[0] != '\0' ? v : NULL;
}

static void read_env(cw_options_t *o) {
  const char *v;
  int ok = 1;
  if ((v = env_nonempty("CRASHWATCH_SPOOL")) != NULL)
    o->spool_dir = dup_or_null(v, &ok);
  else
    o->spool_dir = default_spool();
  o->watchdog_path = dup_or_null(env_nonempty("CRASHWATCH_WATCHDOG"), &ok);
  if ((v = env_nonempty("CRASHWATCH_ACK_TIMEOUT_MS")) != NULL) {
    char *end;
    errno = 0;
    unsigned long ms = strtoul(v, &end, 10);
    if (errno != 0 || *end != '\0' || v[0] == '-' || ms < 1 ||
        ms > CW_ACK_TIMEOUT_MAX_MS)
      env_fail(o, CW_EINVAL,
               "CRASHWATCH_ACK_TIMEOUT_MS=%s: expected milliseconds in "
               "1..600000",
               v);
    else
      o->ack_timeout_ms = (unsigned)ms;
  }
  if ((v = env_nonempty("CRASHWATCH_INCLUDE_ENVIRON")) != NULL) {
    int b = parse_bool(v);
    if (b < 0)
      env_fail(o, CW_EINVAL, "CRASHWATCH_INCLUDE_ENVIRON=%s: expected 0 or 1",
               v);
    else
      o->include_environ = b;
  }
  if ((v = env_nonempty("CRASHWATCH_PRINT_SUMMARY")) != NULL) {
    int b = parse_bool(v);
    if (b < 0)
      env_fail(o, CW_EINVAL, "CRASHWATCH_PRINT_SUMMARY=%s: expected 0 or 1", v);
    else
      o->print_summary = b;
  }
  if ((v = env_nonempty("CRASHWATCH_RELEASE_EARLY")) != NULL) {
    int b = parse_bool(v);
    if (b < 0)
      env_fail(o, CW_EINVAL, "CRASHWATCH_RELEASE_EARLY=%s: expected 0 or 1", v);
    else
      o->release_early = b;
  }
  if ((v = env_nonempty("CRASHWATCH_LAZY_WATCHDOG")) != NULL) {
    int b = parse_bool(v);
    if (b < 0)
      env_fail(o, CW_EINVAL, "CRASHWATCH_LAZY_WATCHDOG=%s: expected 0 or 1", v);
    else
      o->lazy_watchdog = b;
  }
  if ((v = env_nonempty("CRASHWATCH_INTERCEPT_SIGNALS")) != NULL) {
    int b = parse_bool(v);
    if (b < 0)
      env_fail(o, CW_EINVAL, "CRASHWATCH_INTERCEPT_SIGNALS=%s: expected 0 or 1",
               v);
    else
      o->intercept_signals = b;
  }
  if ((v = env_nonempty("CRASHWATCH_COVER_FORKS")) != NULL) {
    int b = parse_bool(v);
    if (b < 0)
      env_fail(o, CW_EINVAL, "CRASHWATCH_COVER_FORKS=%s: expected 0 or 1", v);
    else
      o->cover_forks = b;
  }
  if ((v = env_nonempty("SENTRY_DSN")) != NULL) {
    char msg[200];
    if (cw__dsn_check(v, msg, sizeof(msg)) != 0)
      env_fail(o, CW_EDSN, "SENTRY_DSN: %s", msg);
    else
      o->dsn = dup_or_null(v, &ok);
  }
  char lmsg[200];
  if (cw__spool_limits_from_env(&o->spool_limits, lmsg, sizeof(lmsg)) != 0)
    env_fail(o, CW_EINVAL, "%s", lmsg);
  if ((v = env_nonempty("CRASHWATCH_MAX_BREADCRUMBS")) != NULL) {
    char *end;
    errno = 0;
    unsigned long n = strtoul(v, &end, 10);
    if (errno != 0 || *end != '\0' || v[0] == '-' || n > CW__SCOPE_MAX_CRUMBS)
      env_fail(o, CW_EINVAL, "CRASHWATCH_MAX_BREADCRUMBS=%s: expected 0..%d", v,
               CW__SCOPE_MAX_CRUMBS);
    else
      o->max_breadcrumbs = (unsigned)n;
  }
  if ((v = env_nonempty("CRASHWATCH_ATTACHMENT_MAX_BYTES")) != NULL) {
    char *end;
    errno = 0;
    unsigned long n = strtoul(v, &end, 10);
    if (errno != 0 || *end != '\0' || v[0] == '-' || n < 1 ||
        n > CW_ATTACHMENT_MAX_BYTES_LIMIT)
      env_fail(o, CW_EINVAL,
               "CRASHWATCH_ATTACHMENT_MAX_BYTES=%s: expected 1..%lu", v,
               CW_ATTACHMENT_MAX_BYTES_LIMIT);
    else
      o->attachment_max_bytes = n;
  }
  if ((v = env_nonempty("CRASHWATCH_AUTO_SESSION_TRACKING")) != NULL) {
    int b = parse_bool(v);
    if (b < 0)
      env_fail(o, CW_EINVAL,
               "CRASHWATCH_AUTO_SESSION_TRACKING=%s: expected 0 or 1", v);
    else
      o->auto_session_tracking = b;
  }
  if ((v = env_nonempty("CRASHWATCH_SEND_DEFAULT_PII")) != NULL) {
    int b = parse_bool(v);
    if (b < 0)
      env_fail(o, CW_EINVAL, "CRASHWATCH_SEND_DEFAULT_PII=%s: expected 0 or 1",
               v);
    else
      o->send_default_pii = b;
  }
  o->dist = dup_or_null(env_nonempty("SENTRY_DIST"), &ok);
  o->release = dup_or_null(env_nonempty("SENTRY_RELEASE"), &ok);
  o->environment = dup_or_null(env_nonempty("SENTRY_ENVIRONMENT"), &ok);
  if (!ok)
    env_fail(o, CW_ENOMEM, "out of memory reading the environment");
}

CW_EXTERN cw_options_t *cw_options_new(void) {
  cw_options_t *o = calloc(1, sizeof(*o));
  if (o == NULL)
    return NULL;
  o->ack_timeout_ms = CW_ACK_TIMEOUT_DEFAULT_MS;
  o->print_summary = 1;
  o->intercept_signals = 1;
  cw__spool_limits_default(&o->spool_limits);
  o->cover_forks = 1;
  o->max_breadcrumbs = CW__SCOPE_DEFAULT_CRUMBS;
  o->attachment_max_bytes = CW_ATTACHMENT_MAX_BYTES_DEFAULT;
  o->auto_session_tracking = 1;
  read_env(o);
  cw__events_options_init(o);
  return o;
}

CW_EXTERN void cw_options_free(cw_options_t *o) {
  if (o == NULL)
    return;
  free(o->spool_dir);
  free(o->watchdog_path);
  free(o->dsn);
  free(o->release);
  free(o->environment);
  free(o->dist);
  free(o->server_name);
  for (int i = 0; i < o->nattachments; i++)
    free(o->attachments[i]);
  free(o);
}

#define CHECK_OPTS(o, fn)                                                      \
  do {                                                                         \
    if ((o) == NULL)                                                           \
      return cw__fail(CW_EINVAL, "%s: options is NULL", fn);                   \
  } while (0)

CW_EXTERN int cw_options_set_spool_dir(cw_options_t *o, const char *path) {
  CHECK_OPTS(o, "cw_options_set_spool_dir");
  if (path == NULL || path[0] == '\0')
    return cw__fail(CW_EINVAL, "cw_options_set_spool_dir: empty path");
  if (strlen(path) >= PATH_MAX)
    return cw__fail(CW_EINVAL, "cw_options_set_spool_dir: path too long");
  return replace_string(&o->spool_dir, path);
}

CW_EXTERN int cw_options_set_watchdog_path(cw_options_t *o, const char *path) {
  CHECK_OPTS(o, "cw_options_set_watchdog_path");
  if (path != NULL && path[0] == '\0')
    path = NULL; /* back to the embedded watchdog */
  return replace_string(&o->watchdog_path, path);
}

CW_EXTERN int cw_options_set_ack_timeout_ms(cw_options_t *o,
                                            unsigned timeout_ms) {
  CHECK_OPTS(o, "cw_options_set_ack_timeout_ms");
  if (timeout_ms < 1 || timeout_ms > CW_ACK_TIMEOUT_MAX_MS)
    return cw__fail(CW_EINVAL,
                    "cw_options_set_ack_timeout_ms: %u ms is outside "
                    "1..600000",
                    timeout_ms);
  o->ack_timeout_ms = timeout_ms;
  return 0;
}

CW_EXTERN int cw_options_set_include_environ(cw_options_t *o, int on) {
  CHECK_OPTS(o, "cw_options_set_include_environ");
  o->include_environ = on != 0;
  return 0;
}

CW_EXTERN int cw_options_set_print_summary(cw_options_t *o, int on) {
  CHECK_OPTS(o, "cw_options_set_print_summary");
  o->print_summary = on != 0;
  return 0;
}

CW_EXTERN int cw_options_set_intercept_signals(cw_options_t *o, int on) {
  CHECK_OPTS(o, "cw_options_set_intercept_signals");
  o->intercept_signals = on != 0;
  return 0;
}

CW_EXTERN int cw_options_set_dsn(cw_options_t *o, const char *dsn) {
  CHECK_OPTS(o, "cw_options_set_dsn");
  if (dsn == NULL || dsn[0] == '\0')
    return replace_string(&o->dsn, NULL); /* no upload */
  char msg[200];
  if (cw__dsn_check(dsn, msg, sizeof(msg)) != 0)
    return cw__fail(CW_EDSN, "cw_options_set_dsn: %s", msg);
  return replace_string(&o->dsn, dsn);
}

CW_EXTERN int cw_options_set_spool_max_reports(cw_options_t *o,
                                               unsigned long max_reports) {
  CHECK_OPTS(o, "cw_options_set_spool_max_reports");
  if (max_reports > 1000000000ul)
    return cw__fail(CW_EINVAL,
                    "cw_options_set_spool_max_reports: %lu is above 10^9",
                    max_reports);
  o->spool_limits.max_reports = (long)max_reports;
  return 0;
}

CW_EXTERN int cw_options_set_spool_max_bytes(cw_options_t *o,
                                             unsigned long long max_bytes) {
  CHECK_OPTS(o, "cw_options_set_spool_max_bytes");
  if (max_bytes > (1ull << 60))
    return cw__fail(CW_EINVAL,
                    "cw_options_set_spool_max_bytes: %llu is above 2^60",
                    max_bytes);
  o->spool_limits.max_bytes = (long long)max_bytes;
  return 0;
}

CW_EXTERN int cw_options_set_spool_max_age(cw_options_t *o,
                                           unsigned long max_age_s) {
  CHECK_OPTS(o, "cw_options_set_spool_max_age");
  if (max_age_s > 100ul * 365 * 24 * 3600)
    return cw__fail(CW_EINVAL,
                    "cw_options_set_spool_max_age: %lu s is above 100 years",
                    max_age_s);
  o->spool_limits.max_age_ms = (int64_t)max_age_s * 1000;
  return 0;
}

CW_EXTERN int cw_options_set_release(cw_options_t *o, const char *release) {
  CHECK_OPTS(o, "cw_options_set_release");
  return replace_string(&o->release, release);
}

CW_EXTERN int cw_options_set_environment(cw_options_t *o,
                                         const char *environment) {
  CHECK_OPTS(o, "cw_options_set_environment");
  return replace_string(&o->environment, environment);
}

CW_EXTERN int cw_options_set_auto_session_tracking(cw_options_t *o, int on) {
  CHECK_OPTS(o, "cw_options_set_auto_session_tracking");
  o->auto_session_tracking = on != 0;
  return 0;
}

CW_EXTERN int cw_options_set_release_early(cw_options_t *o, int on) {
  CHECK_OPTS(o, "cw_options_set_release_early");
  o->release_early = on != 0;
  return 0;
}

CW_EXTERN int cw_options_set_lazy_watchdog(cw_options_t *o, int on) {
  CHECK_OPTS(o, "cw_options_set_lazy_watchdog");
  o->lazy_watchdog = on != 0;
  return 0;
}

CW_EXTERN int cw_options_set_cover_forks(cw_options_t *o, int on) {
  CHECK_OPTS(o, "cw_options_set_cover_forks");
  o->cover_forks = on != 0;
  return 0;
}

/* ---- the scope's options (issue 10) ---------------------------------- */

CW_EXTERN int cw_options_set_dist(cw_options_t *o, const char *dist) {
  CHECK_OPTS(o, "cw_options_set_dist");
  return replace_string(&o->dist, dist);
}

CW_EXTERN int cw_options_set_server_name(cw_options_t *o,
                                         const char *server_name) {
  CHECK_OPTS(o, "cw_options_set_server_name");
  return replace_string(&o->server_name, server_name);
}

CW_EXTERN int cw_options_set_max_breadcrumbs(cw_options_t *o, unsigned n) {
  CHECK_OPTS(o, "cw_options_set_max_breadcrumbs");
  if (n > CW__SCOPE_MAX_CRUMBS)
    return cw__fail(CW_EINVAL, "cw_options_set_max_breadcrumbs: %u is above %d",
                    n, CW__SCOPE_MAX_CRUMBS);
  o->max_breadcrumbs = n;
  return 0;
}

CW_EXTERN int cw_options_set_send_default_pii(cw_options_t *o, int on) {
  CHECK_OPTS(o, "cw_options_set_send_default_pii");
  o->send_default_pii = on != 0;
  return 0;
}

CW_EXTERN int cw_options_set_attachment_max_bytes(cw_options_t *o,
                                                  size_t max_bytes) {
  CHECK_OPTS(o, "cw_options_set_attachment_max_bytes");
  if (max_bytes < 1 || max_bytes > CW_ATTACHMENT_MAX_BYTES_LIMIT)
    return cw__fail(CW_EINVAL,
                    "cw_options_set_attachment_max_bytes: %zu is outside "
                    "1..%lu",
                    max_bytes, CW_ATTACHMENT_MAX_BYTES_LIMIT);
  o->attachment_max_bytes = max_bytes;
  return 0;
}

CW_EXTERN int cw_options_add_attachment(cw_options_t *o, const char *path) {
  CHECK_OPTS(o, "cw_options_add_attachment");
  char abs[CW__SCOPE_PATH_MAX];
  size_t len;
  int rc = cw__scope_abs_path(path, abs, sizeof(abs), &len);
  if (rc != 0)
    return cw__fail(rc, "cw_options_add_attachment: %s: %s",
                    path ? path : "(null)", cw_strerror(rc));
  for (int i = 0; i < o->nattachments; i++)
    if (strcmp(o->attachments[i], abs) == 0)
      return 0;
  if (o->nattachments >= CW__SCOPE_NATTACH)
    return cw__fail(CW_ENOSPC,
                    "cw_options_add_attachment: more than %d attachments",
                    CW__SCOPE_NATTACH);
  char *d = strdup(abs);
  if (d == NULL)
    return cw__fail(CW_ENOMEM, "out of memory");
  o->attachments[o->nattachments++] = d;
  return 0;
}
