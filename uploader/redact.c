/* redact.c — credentials out of log lines; see redact.h. */
#include "redact.h"

#include <string.h>
#include <strings.h>

#include "dsn.h"

void cw__redact_init(redact_t *r) { memset(r, 0, sizeof(*r)); }

void cw__redact_add(redact_t *r, const char *s, size_t n) {
  if (n < REDACT_MIN_SECRET || n >= REDACT_SECRET_MAX ||
      r->n >= REDACT_MAX_SECRETS)
    return;
  for (int i = 0; i < r->n; i++)
    if (strlen(r->secret[i]) == n && memcmp(r->secret[i], s, n) == 0)
      return;
  memcpy(r->secret[r->n], s, n);
  r->secret[r->n][n] = '\0';
  r->n++;
}

void cw__redact_add_dsn(redact_t *r, const char *dsn) {
  cw__dsn_t d;
  if (dsn == NULL || cw__dsn_parse(dsn, &d, NULL, 0) != 0)
    return;
  cw__redact_add(r, d.public_key, strlen(d.public_key));
  cw__redact_add(r, d.secret_key, strlen(d.secret_key));
}

static void base64(const unsigned char *in, size_t n, char *out) {
  static const char tab[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t o = 0;
  for (size_t i = 0; i < n; i += 3) {
    unsigned v = (unsigned)in[i] << 16;
    if (i + 1 < n)
      v |= (unsigned)in[i + 1] << 8;
    if (i + 2 < n)
      v |= in[i + 2];
    out[o++] = tab[(v >> 18) & 63];
    out[o++] = tab[(v >> 12) & 63];
    out[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
    out[o++] = i + 2 < n ? tab[v & 63] : '=';
  }
  out[o] = '\0';
}

void cw__redact_add_url(redact_t *r, const char *url) {
  if (url == NULL)
    return;
  const char *p = strstr(url, "://");
  if (p == NULL)
    return;
  p += 3;
  size_t auth_len = strcspn(p, "/?#");
  const char *at = NULL;
  for (size_t i = 0; i < auth_len; i++)
    if (p[i] == '@')
      at = p + i; /* the last '@' ends the userinfo */
  if (at != NULL) {
    size_t ui = (size_t)(at - p);
    cw__redact_add(r, p, ui);
    const char *colon = memchr(p, ':', ui);
    if (colon != NULL) {
      cw__redact_add(r, p, (size_t)(colon - p));
      cw__redact_add(r, colon + 1, ui - (size_t)(colon - p) - 1);
    }
    if (ui < 300) {
      /* libcurl sends "Authorization: Basic base64(user:password)". */
      char b64[420];
      base64((const unsigned char *)p, ui, b64);
      cw__redact_add(r, b64, strlen(b64));
    }
  }
  const char *q = strchr(p, '?');
  while (q != NULL && *q != '\0' && *q != '#') {
    q++;
    size_t len = strcspn(q, "&#");
    const char *eq = memchr(q, '=', len);
    if (eq != NULL)
      cw__redact_add(r, eq + 1, len - (size_t)(eq + 1 - q));
    q += len;
    if (*q != '&')
      break;
  }
}

/* Names whose "name=value" value is always a secret. */
static const char *const value_names[] = {
    "sentry_key=", "sentry_secret=", "key=",       "token=",   "secret=",
    "password=",   "auth=",          "signature=", "api_key=", NULL,
};
/* Header lines whose whole value is a secret. */
static const char *const header_names[] = {
    "authorization:", "proxy-authorization:", "cookie:", NULL};

static int is_word(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static int value_end(char c) {
  return c == '&' || c == ' ' || c == ',' || c == ';' || c == '"' ||
         c == '\'' || c == '\r' || c == '\n' || c == '<' || c == '>' ||
         c == '#' || c == '\t';
}

typedef struct {
  char *out;
  size_t cap, len;
} sink_t;

static void put(sink_t *s, const char *p, size_t n) {
  if (s->cap == 0)
    return;
  size_t room = s->cap - 1 - s->len;
  if (n > room)
    n = room;
  memcpy(s->out + s->len, p, n);
  s->len += n;
  s->out[s->len] = '\0';
}

size_t cw__redact_line(const redact_t *r, const char *in, size_t n, char *out,
                       size_t cap) {
  sink_t s = {out, cap, 0};
  if (cap > 0)
    out[0] = '\0';
  size_t i = 0;
  while (i < n) {
    /* A known secret, the longest that starts here. */
    size_t best = 0;
    for (int k = 0; r != NULL && k < r->n; k++) {
      size_t l = strlen(r->secret[k]);
      if (l > best && l <= n - i && memcmp(in + i, r->secret[k], l) == 0)
        best = l;
    }
    if (best > 0) {
      put(&s, REDACT_MARK, sizeof(REDACT_MARK) - 1);
      i += best;
      continue;
    }
    int line_start = i == 0 || in[i - 1] == '\n';
    if (line_start) {
      int hit = 0;
      for (int k = 0; header_names[k] != NULL; k++) {
        size_t l = strlen(header_names[k]);
        if (l <= n - i && strncasecmp(in + i, header_names[k], l) == 0) {
          put(&s, in + i, l);
          put(&s, " " REDACT_MARK, sizeof(REDACT_MARK));
          i += l;
          while (i < n && in[i] != '\r' && in[i] != '\n')
            i++;
          hit = 1;
          break;
        }
      }
      if (hit)
        continue;
    }
    if (i == 0 || !is_word(in[i - 1])) {
      int hit = 0;
      for (int k = 0; value_names[k] != NULL; k++) {
        size_t l = strlen(value_names[k]);
        if (l <= n - i && strncasecmp(in + i, value_names[k], l) == 0) {
          put(&s, in + i, l);
          i += l;
          size_t v = i;
          while (i < n && !value_end(in[i]))
            i++;
          if (i > v)
            put(&s, REDACT_MARK, sizeof(REDACT_MARK) - 1);
          hit = 1;
          break;
        }
      }
      if (hit)
        continue;
    }
    if (n - i >= 3 && memcmp(in + i, "://", 3) == 0) {
      /* scheme://userinfo@host: the userinfo goes. */
      size_t j = i + 3, at = 0;
      while (j < n && in[j] != '/' && in[j] != '?' && in[j] != '#' &&
             !value_end(in[j])) {
        if (in[j] == '@')
          at = j;
        j++;
      }
      if (at > 0) {
        put(&s, "://" REDACT_MARK "@", sizeof("://" REDACT_MARK "@") - 1);
        i = at + 1;
        continue;
      }
    }
    put(&s, in + i, 1);
    i++;
  }
  return s.len;
}
