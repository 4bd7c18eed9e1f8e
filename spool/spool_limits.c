/* spool_limits.c — the spool's size limits: defaults and the
 * CRASHWATCH_SPOOL_* environment variables, shared by cw_options (the app),
 * the watchdog and `crashwatch upload`. Normal context. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crashwatch.h"
#include "spool.h"

void cw__spool_limits_default(spool_limits_t *l) {
  l->max_reports = SPOOL_DEFAULT_MAX_REPORTS;
  l->max_bytes = SPOOL_DEFAULT_MAX_BYTES;
  l->max_age_ms = SPOOL_DEFAULT_MAX_AGE_S * 1000;
  l->failed_max = SPOOL_DEFAULT_FAILED_MAX;
}

/* A whole non-negative decimal number up to max. */
static int parse_count(const char *v, long long max, long long *out) {
  char *end;
  errno = 0;
  long long n = strtoll(v, &end, 10);
  if (errno != 0 || end == v || *end != '\0' || v[0] == '-' || n < 0 || n > max)
    return -1;
  *out = n;
  return 0;
}

int cw__spool_limits_from_env(spool_limits_t *l, char *err, size_t errlen) {
  static const struct {
    const char *name;
    long long max;
  } vars[] = {
      {"CRASHWATCH_SPOOL_MAX_REPORTS", 1000000000LL},
      {"CRASHWATCH_SPOOL_MAX_BYTES", (long long)1 << 60},
      {"CRASHWATCH_SPOOL_MAX_AGE", 100LL * 365 * 24 * 3600},
      {"CRASHWATCH_SPOOL_FAILED_MAX", 1000000000LL},
  };
  int rc = 0;
  for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
    const char *v = secure_getenv(vars[i].name);
    if (v == NULL || v[0] == '\0')
      continue;
    long long n;
    if (parse_count(v, vars[i].max, &n) != 0) {
      if (rc == 0 && err != NULL)
        snprintf(err, errlen, "%s=%s: expected a whole number in 0..%lld%s",
                 vars[i].name, v, vars[i].max, i == 2 ? " (seconds)" : "");
      rc = CW_EINVAL;
      continue;
    }
    switch (i) {
    case 0:
      l->max_reports = (long)n;
      break;
    case 1:
      l->max_bytes = n;
      break;
    case 2:
      l->max_age_ms = (int64_t)n * 1000;
      break;
    default:
      l->failed_max = (long)n;
      break;
    }
  }
  return rc;
}

void cw__spool_limits_to_env(const spool_limits_t *l) {
  char v[32];
  snprintf(v, sizeof(v), "%ld", l->max_reports);
  setenv("CRASHWATCH_SPOOL_MAX_REPORTS", v, 1);
  snprintf(v, sizeof(v), "%lld", l->max_bytes);
  setenv("CRASHWATCH_SPOOL_MAX_BYTES", v, 1);
  snprintf(v, sizeof(v), "%lld", (long long)(l->max_age_ms / 1000));
  setenv("CRASHWATCH_SPOOL_MAX_AGE", v, 1);
  if (l->failed_max >= 0) {
    snprintf(v, sizeof(v), "%ld", l->failed_max);
    setenv("CRASHWATCH_SPOOL_FAILED_MAX", v, 1);
  }
}
