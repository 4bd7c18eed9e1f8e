/* dsn.c — Sentry DSN and upload URL parsing; see dsn.h. libc only. */
#include "dsn.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "crashwatch.h"

static int fail(int code, char *err, size_t errlen, const char *what,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int fail(int code, char *err, size_t errlen, const char *what,
                const char *fmt, ...) {
  if (err != NULL && errlen > 0) {
    int n = snprintf(err, errlen, "%s: ", what);
    if (n >= 0 && (size_t)n < errlen) {
      va_list ap;
      va_start(ap, fmt);
      vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
      va_end(ap);
    }
  }
  return code;
}

static int is_alnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
         (c >= 'A' && c <= 'Z');
}

/* RFC 3986 unreserved characters, which is what keys consist of. */
static int is_key_char(char c) {
  return is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

static int is_host_char(char c) {
  return is_alnum(c) || c == '-' || c == '.' || c == '_';
}

/* Copies [s, s+n) into out (cap bytes); 0 if it fit. */
static int copy_n(char *out, size_t cap, const char *s, size_t n) {
  if (n >= cap)
    return -1;
  memcpy(out, s, n);
  out[n] = '\0';
  return 0;
}

/*
 * Shared front half of DSN and URL parsing: scheme, "://", and the authority
 * split into userinfo (may be absent) and host[:port]. Returns 0 or the code
 * with err filled. On success *rest points at the first byte after the
 * authority ('/', '?', '#' or end).
 */
typedef struct {
  const char *userinfo;
  size_t userinfo_len;
  int has_userinfo;
  const char *rest;
} authority_t;

static int parse_front(const char *s, const char *what, int code, char *scheme,
                       char *host, unsigned *port, int *port_explicit,
                       authority_t *a, char *err, size_t errlen) {
  size_t len = strlen(s);
  if (len == 0)
    return fail(code, err, errlen, what, "empty string");
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c <= 0x20 || c == 0x7f)
      return fail(code, err, errlen, what,
                  "whitespace or control character 0x%02x at offset %zu", c, i);
    if (c >= 0x80)
      return fail(code, err, errlen, what,
                  "non-ASCII byte 0x%02x at offset %zu", c, i);
  }
  const char *sep = strstr(s, "://");
  if (sep == NULL)
    return fail(code, err, errlen, what,
                "missing \"://\" after the scheme (expected https://...)");
  size_t slen = (size_t)(sep - s);
  if (slen == 5 && strncasecmp(s, "https", 5) == 0)
    strcpy(scheme, "https");
  else if (slen == 4 && strncasecmp(s, "http", 4) == 0)
    strcpy(scheme, "http");
  else
    return fail(code, err, errlen, what,
                "scheme \"%.*s\" at offset 0 is not http or https",
                (int)(slen > 16 ? 16 : slen), s);
  const char *auth = sep + 3;
  const char *end = auth + strcspn(auth, "/?#");
  /* The userinfo ends at the last '@' of the authority. */
  const char *at = NULL;
  for (const char *p = auth; p < end; p++)
    if (*p == '@')
      at = p;
  const char *h = auth;
  a->has_userinfo = 0;
  a->userinfo = NULL;
  a->userinfo_len = 0;
  if (at != NULL) {
    a->has_userinfo = 1;
    a->userinfo = auth;
    a->userinfo_len = (size_t)(at - auth);
    h = at + 1;
  }
  size_t hoff = (size_t)(h - s);
  if (h == end)
    return fail(code, err, errlen, what, "missing host at offset %zu", hoff);
  const char *host_end;
  const char *colon = NULL;
  if (*h == '[') {
    const char *rb = memchr(h, ']', (size_t)(end - h));
    if (rb == NULL)
      return fail(code, err, errlen, what,
                  "unterminated IPv6 address '[' at offset %zu", hoff);
    for (const char *p = h + 1; p < rb; p++)
      if (!(is_alnum(*p) || *p == ':' || *p == '.'))
        return fail(code, err, errlen, what,
                    "invalid character '%c' in IPv6 address at offset %zu", *p,
                    (size_t)(p - s));
    if (rb == h + 1)
      return fail(code, err, errlen, what, "empty IPv6 address at offset %zu",
                  hoff);
    host_end = rb + 1;
    if (host_end < end) {
      if (*host_end != ':')
        return fail(code, err, errlen, what,
                    "unexpected '%c' after IPv6 address at offset %zu",
                    *host_end, (size_t)(host_end - s));
      colon = host_end;
    }
  } else {
    colon = memchr(h, ':', (size_t)(end - h));
    host_end = colon ? colon : end;
    if (host_end == h)
      return fail(code, err, errlen, what, "empty host at offset %zu", hoff);
    for (const char *p = h; p < host_end; p++)
      if (!is_host_char(*p))
        return fail(code, err, errlen, what,
                    "invalid character '%c' in host at offset %zu", *p,
                    (size_t)(p - s));
  }
  if (copy_n(host, CW_DSN_HOST_MAX, h, (size_t)(host_end - h)) != 0)
    return fail(code, err, errlen, what, "host longer than %d bytes",
                CW_DSN_HOST_MAX - 1);
  *port_explicit = 0;
  *port = strcmp(scheme, "https") == 0 ? 443 : 80;
  if (colon != NULL) {
    const char *p = colon + 1;
    if (p == end)
      return fail(code, err, errlen, what, "empty port after ':' at offset %zu",
                  (size_t)(colon - s));
    unsigned long v = 0;
    for (; p < end; p++) {
      if (*p < '0' || *p > '9')
        return fail(code, err, errlen, what,
                    "port has non-digit '%c' at offset %zu", *p,
                    (size_t)(p - s));
      v = v * 10 + (unsigned long)(*p - '0');
      if (v > 65535)
        break;
    }
    if (v == 0 || v > 65535)
      return fail(code, err, errlen, what,
                  "port at offset %zu is out of range 1..65535",
                  (size_t)(colon + 1 - s));
    *port = (unsigned)v;
    *port_explicit = 1;
  }
  a->rest = end;
  return 0;
}

int cw__dsn_parse(const char *dsn, cw__dsn_t *out, char *err, size_t errlen) {
  const char *what = "DSN";
  memset(out, 0, sizeof(*out));
  if (err != NULL && errlen > 0)
    err[0] = '\0';
  if (dsn == NULL)
    return fail(CW_EDSN, err, errlen, what, "no DSN given");
  authority_t a;
  int rc = parse_front(dsn, what, CW_EDSN, out->scheme, out->host, &out->port,
                       &out->port_explicit, &a, err, errlen);
  if (rc != 0) {
    memset(out, 0, sizeof(*out));
    return rc;
  }
  const char *ui = a.userinfo;
  size_t uioff = ui ? (size_t)(ui - dsn) : 0;
  if (!a.has_userinfo || a.userinfo_len == 0) {
    memset(out, 0, sizeof(*out));
    return fail(CW_EDSN, err, errlen, what,
                "missing public key (expected https://KEY@host/PROJECT_ID)");
  }
  const char *ucolon = memchr(ui, ':', a.userinfo_len);
  size_t klen = ucolon ? (size_t)(ucolon - ui) : a.userinfo_len;
  if (klen == 0) {
    memset(out, 0, sizeof(*out));
    return fail(CW_EDSN, err, errlen, what, "empty public key at offset %zu",
                uioff);
  }
  for (size_t i = 0; i < a.userinfo_len; i++) {
    if (ui + i == ucolon)
      continue;
    if (!is_key_char(ui[i])) {
      memset(out, 0, sizeof(*out));
      return fail(CW_EDSN, err, errlen, what,
                  "invalid character '%c' in %s key at offset %zu", ui[i],
                  (ucolon && ui + i > ucolon) ? "secret" : "public", uioff + i);
    }
  }
  if (copy_n(out->public_key, sizeof(out->public_key), ui, klen) != 0) {
    memset(out, 0, sizeof(*out));
    return fail(CW_EDSN, err, errlen, what, "public key longer than %d bytes",
                CW_DSN_KEY_MAX - 1);
  }
  if (ucolon != NULL && copy_n(out->secret_key, sizeof(out->secret_key),
                               ucolon + 1, a.userinfo_len - klen - 1) != 0) {
    memset(out, 0, sizeof(*out));
    return fail(CW_EDSN, err, errlen, what, "secret key longer than %d bytes",
                CW_DSN_KEY_MAX - 1);
  }
  const char *path = a.rest;
  size_t poff = (size_t)(path - dsn);
  const char *q = path + strcspn(path, "?#");
  if (*q != '\0') {
    memset(out, 0, sizeof(*out));
    return fail(CW_EDSN, err, errlen, what,
                "unexpected '%c' at offset %zu (a DSN has no query or "
                "fragment)",
                *q, (size_t)(q - dsn));
  }
  if (*path != '/') {
    memset(out, 0, sizeof(*out));
    return fail(CW_EDSN, err, errlen, what,
                "missing project id after the host (offset %zu)", poff);
  }
  size_t plen = strlen(path);
  /* Sentry's SDKs tolerate one trailing slash after the project id. */
  if (plen > 1 && path[plen - 1] == '/')
    plen--;
  const char *last = path + plen;
  while (last > path && last[-1] != '/')
    last--;
  size_t idlen = (size_t)(path + plen - last);
  if (idlen == 0) {
    memset(out, 0, sizeof(*out));
    return fail(CW_EDSN, err, errlen, what,
                "missing project id after the host (offset %zu)", poff);
  }
  for (size_t i = 0; i < idlen; i++) {
    if (last[i] < '0' || last[i] > '9') {
      memset(out, 0, sizeof(*out));
      return fail(CW_EDSN, err, errlen, what,
                  "project id \"%.*s\" at offset %zu is not a number",
                  (int)(idlen > 32 ? 32 : idlen), last, (size_t)(last - dsn));
    }
  }
  if (copy_n(out->project_id, sizeof(out->project_id), last, idlen) != 0) {
    memset(out, 0, sizeof(*out));
    return fail(CW_EDSN, err, errlen, what, "project id longer than %d digits",
                CW_DSN_PROJECT_MAX - 1);
  }
  /* The prefix is everything between the host and the '/' before the id. */
  size_t prefix = (size_t)(last - 1 - path);
  for (size_t i = 0; i < prefix; i++) {
    char c = path[i];
    if (c == '/' && path[i + 1] == '/') {
      memset(out, 0, sizeof(*out));
      return fail(CW_EDSN, err, errlen, what,
                  "empty path segment at offset %zu", poff + i);
    }
    if (!(is_key_char(c) || c == '/' || c == '%' || c == '+' || c == '@' ||
          c == ':' || c == '=' || c == ',' || c == ';' || c == '!' ||
          c == '$' || c == '&' || c == '\'' || c == '(' || c == ')' ||
          c == '*')) {
      memset(out, 0, sizeof(*out));
      return fail(CW_EDSN, err, errlen, what,
                  "invalid character '%c' in path at offset %zu", c, poff + i);
    }
  }
  if (copy_n(out->path, sizeof(out->path), path, prefix) != 0) {
    memset(out, 0, sizeof(*out));
    return fail(CW_EDSN, err, errlen, what, "path longer than %d bytes",
                CW_DSN_PATH_MAX - 1);
  }
  return 0;
}

static int put(char *out, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int put(char *out, size_t cap, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(out, cap, fmt, ap);
  va_end(ap);
  return (n < 0 || (size_t)n >= cap) ? CW_ERANGE : 0;
}

static void port_suffix(const cw__dsn_t *d, char *buf, size_t cap) {
  if (d->port_explicit)
    snprintf(buf, cap, ":%u", d->port);
  else
    buf[0] = '\0';
}

int cw__dsn_envelope_url(const cw__dsn_t *d, char *out, size_t cap) {
  char port[8];
  port_suffix(d, port, sizeof(port));
  return put(out, cap, "%s://%s%s%s/api/%s/envelope/", d->scheme, d->host, port,
             d->path, d->project_id);
}

int cw__dsn_minidump_url(const cw__dsn_t *d, char *out, size_t cap) {
  char port[8];
  port_suffix(d, port, sizeof(port));
  return put(out, cap, "%s://%s%s%s/api/%s/minidump/?sentry_key=%s", d->scheme,
             d->host, port, d->path, d->project_id, d->public_key);
}

int cw__dsn_auth_header(const cw__dsn_t *d, const char *client, char *out,
                        size_t cap) {
  if (d->secret_key[0] != '\0')
    return put(out, cap,
               "Sentry sentry_version=7, sentry_client=%s, sentry_key=%s, "
               "sentry_secret=%s",
               client, d->public_key, d->secret_key);
  return put(out, cap,
             "Sentry sentry_version=7, sentry_client=%s, sentry_key=%s", client,
             d->public_key);
}

int cw__dsn_format(const cw__dsn_t *d, char *out, size_t cap) {
  char port[8];
  port_suffix(d, port, sizeof(port));
  return put(out, cap, "%s://%s@%s%s%s/%s", d->scheme, d->public_key, d->host,
             port, d->path, d->project_id);
}

int cw__url_parse(const char *url, cw__url_t *out, char *err, size_t errlen) {
  const char *what = "upload URL";
  memset(out, 0, sizeof(*out));
  if (err != NULL && errlen > 0)
    err[0] = '\0';
  if (url == NULL)
    return fail(CW_EURL, err, errlen, what, "no URL given");
  authority_t a;
  int rc = parse_front(url, what, CW_EURL, out->scheme, out->host, &out->port,
                       &out->port_explicit, &a, err, errlen);
  if (rc != 0) {
    memset(out, 0, sizeof(*out));
    return rc;
  }
  out->has_userinfo = a.has_userinfo;
  const char *hash = strchr(a.rest, '#');
  if (hash != NULL) {
    memset(out, 0, sizeof(*out));
    return fail(CW_EURL, err, errlen, what,
                "fragment '#' at offset %zu is not allowed in an upload URL",
                (size_t)(hash - url));
  }
  return 0;
}
