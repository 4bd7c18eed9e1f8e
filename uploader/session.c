/* session.c — the spool's session file and Sentry's session JSON; see
 * session.h. */
#include "session.h"

#include <stdio.h>
#include <string.h>

#include "crashwatch.h"
#include "envelope.h" /* cw__format_rfc3339 */
#include "json.h"
#include "utf8.h"

static int fail(char *err, size_t errlen, unsigned line, const char *what) {
  if (err != NULL && errlen > 0)
    snprintf(err, errlen, "session line %u: %s", line, what);
  return CW_EFORMAT;
}

/* A decimal number of at most 18 digits (no sign). */
static int parse_u(const char *v, size_t n, uint64_t *out) {
  if (n == 0 || n > 18)
    return -1;
  uint64_t x = 0;
  for (size_t i = 0; i < n; i++) {
    if (v[i] < '0' || v[i] > '9')
      return -1;
    x = x * 10 + (uint64_t)(v[i] - '0');
  }
  *out = x;
  return 0;
}

static int is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* 8-4-4-4-12 lowercase hex digits. */
static int valid_sid(const char *v, size_t n) {
  if (n != 36)
    return 0;
  for (size_t i = 0; i < n; i++) {
    int dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? v[i] != '-' : !is_hex(v[i]))
      return 0;
  }
  return 1;
}

/* Text: no control characters, valid UTF-8, shorter than the field. */
static int take_text(char *dst, const char *v, size_t n) {
  if (n >= CW__SESSION_TEXT_MAX)
    return -1;
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
      return -1;
  if (!cw__utf8_valid(v, n))
    return -1;
  memcpy(dst, v, n);
  dst[n] = '\0';
  return 0;
}

static int take_value(cw__session_t *s, const char *k, size_t kn, const char *v,
                      size_t vn, unsigned line, char *err, size_t errlen,
                      unsigned *seen) {
#define KEY(name) (kn == sizeof(name) - 1 && memcmp(k, name, kn) == 0)
  uint64_t u;
  if (KEY("sid")) {
    if (!valid_sid(v, vn))
      return fail(err, errlen, line, "sid is not a lowercase UUID");
    memcpy(s->sid, v, 36);
    s->sid[36] = '\0';
    *seen |= 1;
  } else if (KEY("status")) {
    static const char *const ok[] = {"exited", "crashed", "abnormal", "ok"};
    size_t i;
    for (i = 0; i < 4; i++)
      if (vn == strlen(ok[i]) && memcmp(v, ok[i], vn) == 0)
        break;
    if (i == 4)
      return fail(err, errlen, line, "unknown status");
    snprintf(s->status, sizeof(s->status), "%s", ok[i]);
    *seen |= 2;
  } else if (KEY("started") || KEY("timestamp")) {
    if (parse_u(v, vn, &u) != 0)
      return fail(err, errlen, line, "time is not a number of milliseconds");
    if (KEY("started")) {
      s->started_ms = (int64_t)u;
      *seen |= 4;
    } else {
      s->timestamp_ms = (int64_t)u;
      *seen |= 8;
    }
  } else if (KEY("errors")) {
    if (parse_u(v, vn, &u) != 0 || u > UINT32_MAX)
      return fail(err, errlen, line, "errors is not a count");
    s->errors = u;
  } else if (KEY("init") || KEY("duration")) {
    if (vn != 1 || (v[0] != '0' && v[0] != '1'))
      return fail(err, errlen, line, "flag is not 0 or 1");
    if (KEY("init"))
      s->init = v[0] == '1';
    else
      s->duration = v[0] == '1';
  } else if (KEY("release") || KEY("environment") || KEY("did")) {
    char *dst = KEY("release")       ? s->release
                : KEY("environment") ? s->environment
                                     : s->did;
    if (take_text(dst, v, vn) != 0)
      return fail(err, errlen, line,
                  "text too long, not UTF-8 or with a control character");
    if (KEY("release"))
      *seen |= 16;
  }
  return 0;
#undef KEY
}

int cw__session_parse(const char *text, size_t n, cw__session_t *s, char *err,
                      size_t errlen) {
  memset(s, 0, sizeof(*s));
  s->init = 1;
  s->duration = 1;
  if (err != NULL && errlen > 0)
    err[0] = '\0';
  unsigned seen = 0, line = 0;
  size_t pos = 0;
  while (pos < n) {
    line++;
    const char *nl = memchr(text + pos, '\n', n - pos);
    size_t end = nl != NULL ? (size_t)(nl - text) : n;
    const char *l = text + pos;
    size_t ln = end - pos;
    pos = end + 1;
    if (ln == 0)
      continue;
    const char *eq = memchr(l, '=', ln);
    if (eq == NULL)
      return fail(err, errlen, line, "no '='");
    size_t kn = (size_t)(eq - l);
    int rc =
        take_value(s, l, kn, eq + 1, ln - kn - 1, line, err, errlen, &seen);
    if (rc != 0)
      return rc;
  }
  static const char *const names[] = {"sid", "status", "started", "timestamp",
                                      "release"};
  for (unsigned i = 0; i < 5; i++)
    if (!(seen & (1u << i))) {
      if (err != NULL && errlen > 0)
        snprintf(err, errlen, "session: no %s", names[i]);
      return CW_EFORMAT;
    }
  if (s->release[0] == '\0') {
    if (err != NULL && errlen > 0)
      snprintf(err, errlen, "session: empty release");
    return CW_EFORMAT;
  }
  return 0;
}

int cw__session_json(const cw__session_t *s, cw__buf_t *out) {
  char started[40], ts[40];
  cw__format_rfc3339(s->started_ms, started, sizeof(started));
  cw__format_rfc3339(s->timestamp_ms, ts, sizeof(ts));
  cw__json_t j;
  cw__json_init(&j, out, 0);
  cw__json_begin_object(&j);
  cw__json_key(&j, "sid");
  cw__json_string(&j, s->sid);
  if (s->did[0]) {
    cw__json_key(&j, "did");
    cw__json_string(&j, s->did);
  }
  cw__json_key(&j, "init");
  cw__json_bool(&j, s->init);
  cw__json_key(&j, "started");
  cw__json_string(&j, started);
  cw__json_key(&j, "timestamp");
  cw__json_string(&j, ts);
  cw__json_key(&j, "seq");
  cw__json_uint(&j, 0);
  if (s->duration && s->timestamp_ms >= s->started_ms) {
    cw__json_key(&j, "duration");
    cw__json_double(&j, (double)(s->timestamp_ms - s->started_ms) / 1000.0);
  }
  cw__json_key(&j, "status");
  cw__json_string(&j, s->status);
  cw__json_key(&j, "errors");
  cw__json_uint(&j, s->errors);
  cw__json_key(&j, "attrs");
  cw__json_begin_object(&j);
  cw__json_key(&j, "release");
  cw__json_string(&j, s->release);
  if (s->environment[0]) {
    cw__json_key(&j, "environment");
    cw__json_string(&j, s->environment);
  }
  cw__json_end_object(&j);
  cw__json_end_object(&j);
  return out->oom ? CW_ENOMEM : 0;
}
