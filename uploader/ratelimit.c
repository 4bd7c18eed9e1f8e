/* ratelimit.c — Sentry rate-limit parsing and persistence; see ratelimit.h. */
#include "ratelimit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "crashwatch.h"
#include "spool.h"

static const char *const names[RL_COUNT] = {
    "all",         "default",    "error",   "security",
    "transaction", "attachment", "session",
};

const char *cw__ratelimit_category_name(rl_category_t c) {
  return (c >= 0 && c < RL_COUNT) ? names[c] : "?";
}

int cw__ratelimit_category(const char *name, size_t n) {
  /* RL_ALL is not a name the server sends; it is the empty list. */
  for (int i = 1; i < RL_COUNT; i++)
    if (strlen(names[i]) == n && strncmp(names[i], name, n) == 0)
      return i;
  return -1;
}

static void extend(ratelimits_t *rl, int c, int64_t until) {
  if (until > rl->until_ms[c])
    rl->until_ms[c] = until;
}

/*
 * Parses retry_after: digits with an optional fraction. Returns the delay in
 * ms (rounded up), or -1 if malformed.
 */
static int64_t parse_seconds(const char *s, size_t n) {
  size_t i = 0;
  int64_t whole = 0;
  int digits = 0;
  for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, digits++)
    if (whole <= RL_MAX_SECONDS)
      whole = whole * 10 + (s[i] - '0');
  int64_t frac_ms = 0;
  if (i < n && s[i] == '.') {
    i++;
    int64_t scale = 100;
    int any_nonzero_tail = 0;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, digits++) {
      if (scale > 0)
        frac_ms += (s[i] - '0') * scale;
      else if (s[i] != '0')
        any_nonzero_tail = 1;
      scale /= 10;
    }
    frac_ms += any_nonzero_tail;
  }
  if (i != n || digits == 0)
    return -1;
  if (whole > RL_MAX_SECONDS)
    return (int64_t)RL_MAX_SECONDS * 1000;
  int64_t ms = whole * 1000 + frac_ms;
  return ms > (int64_t)RL_MAX_SECONDS * 1000 ? (int64_t)RL_MAX_SECONDS * 1000
                                             : ms;
}

static int set_err(char *err, size_t errlen, int have, const char *msg,
                   size_t off) {
  if (!have && err != NULL && errlen > 0)
    snprintf(err, errlen, "X-Sentry-Rate-Limits: %s at offset %zu", msg, off);
  return 1;
}

size_t cw__ratelimit_header_cut(const char *hdr, size_t n) {
  if (n <= RL_MAX_HEADER)
    return n;
  size_t cut = RL_MAX_HEADER;
  /* The byte at RL_MAX_HEADER may itself be the separator. */
  if (hdr[cut] == ',')
    return cut;
  while (cut > 0 && hdr[cut - 1] != ',')
    cut--;
  return cut > 0 ? cut - 1 : 0;
}

/* A category name as Sentry spells them: lowercase letters, digits, '_'. */
static int category_chars_ok(const char *s, size_t n) {
  if (n == 0)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
          s[i] == '_'))
      return 0;
  return 1;
}

/*
 * One quota limit, s[0..n) (spaces removed): checks it whole before applying
 * anything, so a malformed one never becomes a limit. Returns the number of
 * categories applied, or -1 with *what set when malformed.
 */
static int apply_quota(ratelimits_t *rl, const char *s, size_t n,
                       int64_t now_ms, const char **what, size_t *at) {
  size_t f0e = 0;
  while (f0e < n && s[f0e] != ':')
    f0e++;
  int64_t delay = parse_seconds(s, f0e);
  if (delay < 0) {
    *what = "malformed retry_after";
    *at = 0;
    return -1;
  }
  if (f0e == n) {
    /* No categories field: not "every category" but not a limit at all (a
     * cut or garbled entry must not silence everything). */
    *what = "no categories field";
    *at = f0e;
    return -1;
  }
  size_t c0 = f0e + 1, c1 = c0;
  while (c1 < n && s[c1] != ':')
    c1++;
  for (size_t p = c0; p < c1;) {
    size_t q = p;
    while (q < c1 && s[q] != ';')
      q++;
    if (q > p && !category_chars_ok(s + p, q - p)) {
      *what = "malformed category";
      *at = p;
      return -1;
    }
    p = q + 1;
  }
  int64_t until = now_ms + delay;
  if (c1 == c0) {
    extend(rl, RL_ALL, until);
    return 1;
  }
  int applied = 0;
  for (size_t p = c0; p < c1;) {
    size_t q = p;
    while (q < c1 && s[q] != ';')
      q++;
    int cat = cw__ratelimit_category(s + p, q - p);
    if (cat > 0) {
      extend(rl, cat, until);
      applied++;
    }
    p = q + 1;
  }
  return applied;
}

/* The parser; *wellformed counts the quota limits that were not malformed
 * (whether or not they named a known category). */
static int parse_sentry(ratelimits_t *rl, const char *hdr, size_t n,
                        int64_t now_ms, char *err, size_t errlen,
                        int *wellformed) {
  *wellformed = 0;
  if (err != NULL && errlen > 0)
    err[0] = '\0';
  n = cw__ratelimit_header_cut(hdr, n);
  /* Spaces are insignificant anywhere: work on a copy without them, keeping
   * each byte's original offset for messages. */
  char *s = malloc(n + 1);
  size_t *off = malloc((n + 1) * sizeof(size_t));
  if (s == NULL || off == NULL) {
    free(s);
    free(off);
    return CW_ENOMEM;
  }
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    char c = hdr[i];
    if (c == ' ' || c == '\t')
      continue;
    s[m] = c;
    off[m] = i;
    m++;
  }
  off[m] = n;
  int applied = 0, bad = 0;
  size_t start = 0;
  while (start <= m) {
    size_t end = start;
    while (end < m && s[end] != ',')
      end++;
    if (end > start) {
      const char *what = NULL;
      size_t at = 0;
      int k = apply_quota(rl, s + start, end - start, now_ms, &what, &at);
      if (k < 0) {
        bad = set_err(err, errlen, bad, what, off[start + at]);
      } else {
        applied += k;
        (*wellformed)++;
      }
    }
    start = end + 1;
  }
  free(s);
  free(off);
  return bad ? CW_EFORMAT : applied;
}

int cw__ratelimit_parse_sentry(ratelimits_t *rl, const char *hdr, size_t n,
                               int64_t now_ms, char *err, size_t errlen) {
  int wellformed;
  return parse_sentry(rl, hdr, n, now_ms, err, errlen, &wellformed);
}

int64_t cw__ratelimit_parse_retry_after(const char *v, int64_t now_ms) {
  if (v == NULL)
    return RL_DEFAULT_RETRY_AFTER_MS;
  while (*v == ' ' || *v == '\t')
    v++;
  size_t n = strlen(v);
  while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\r' ||
                   v[n - 1] == '\n'))
    n--;
  int64_t ms = parse_seconds(v, n);
  if (ms >= 0)
    return ms;
  /* HTTP-date, IMF-fixdate form: "Wed, 21 Oct 2015 07:28:00 GMT". */
  char tmp[64];
  if (n == 0 || n >= sizeof(tmp))
    return RL_DEFAULT_RETRY_AFTER_MS;
  memcpy(tmp, v, n);
  tmp[n] = '\0';
  struct tm tm;
  memset(&tm, 0, sizeof(tm));
  const char *e = strptime(tmp, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (e == NULL || *e != '\0')
    return RL_DEFAULT_RETRY_AFTER_MS;
  int64_t when = (int64_t)timegm(&tm) * 1000;
  int64_t d = when - now_ms;
  if (d < 0)
    return 0;
  if (d > (int64_t)RL_MAX_SECONDS * 1000)
    d = (int64_t)RL_MAX_SECONDS * 1000;
  return d;
}

int cw__ratelimit_update(ratelimits_t *rl, long status, const char *sentry_hdr,
                         const char *retry_after, int64_t now_ms) {
  ratelimits_t before = *rl;
  int wellformed = 0;
  if (sentry_hdr != NULL && sentry_hdr[0] != '\0')
    parse_sentry(rl, sentry_hdr, strlen(sentry_hdr), now_ms, NULL, 0,
                 &wellformed);
  /* A 429 whose X-Sentry-Rate-Limits has no well-formed entry is a 429
   * without one: Retry-After, else 60 s. */
  if (wellformed == 0 && status == 429) {
    int64_t d = (retry_after != NULL && retry_after[0] != '\0')
                    ? cw__ratelimit_parse_retry_after(retry_after, now_ms)
                    : RL_DEFAULT_RETRY_AFTER_MS;
    extend(rl, RL_ALL, now_ms + d);
  }
  return memcmp(&before, rl, sizeof(before)) != 0;
}

int64_t cw__ratelimit_blocked_until(const ratelimits_t *rl, rl_category_t c,
                                    int64_t now_ms) {
  int64_t u = rl->until_ms[RL_ALL];
  if (c > RL_ALL && c < RL_COUNT && rl->until_ms[c] > u)
    u = rl->until_ms[c];
  return u > now_ms ? u : 0;
}

int cw__ratelimit_save(const ratelimits_t *rl, const char *path) {
  char text[RL_COUNT * 48];
  size_t len = 0;
  for (int i = 0; i < RL_COUNT; i++)
    if (rl->until_ms[i] > 0)
      len += (size_t)snprintf(text + len, sizeof(text) - len, "%s %lld\n",
                              names[i], (long long)rl->until_ms[i]);
  return cw__spool_write_atomic(path, text, len);
}

int cw__ratelimit_load(ratelimits_t *rl, const char *path, int64_t now_ms) {
  memset(rl, 0, sizeof(*rl));
  /* Only a regular file, never through a symbolic link (a FIFO planted
   * here would block fopen forever). */
  char text[RL_COUNT * 64];
  long n = cw__spool_read_small(path, text, sizeof(text));
  if (n == CW_ENOENT)
    return 0;
  if (n < 0)
    return (int)n;
  for (char *line = text; line != NULL && *line;) {
    char *nl = strchr(line, '\n');
    if (nl != NULL)
      *nl = '\0';
    char name[32];
    long long until;
    char *next = nl != NULL ? nl + 1 : NULL;
    if (sscanf(line, "%31s %lld", name, &until) == 2 && until >= 0) {
      int c = strcmp(name, "all") == 0
                  ? RL_ALL
                  : cw__ratelimit_category(name, strlen(name));
      if (c >= 0) {
        if (until > now_ms + (int64_t)RL_MAX_SECONDS * 1000)
          until = now_ms + (int64_t)RL_MAX_SECONDS * 1000;
        extend(rl, c, until);
      }
    }
    line = next;
  }
  return 0;
}
