/*
 * redact.h — keeping upload credentials out of log lines (normal context,
 * libc only).
 *
 * Every line the uploader logs (its own messages, libcurl's -vv trace, the
 * reasons written to failed/) goes through cw__redact_line() first. Two
 * layers, so a secret is hidden whether or not it was recognised:
 *  - the secrets themselves, collected from the configured DSN (public and
 *    secret key) and upload URL (user, password, the value of every query
 *    parameter, and the Basic credentials libcurl builds from user:password),
 *    are replaced wherever they appear, when at least REDACT_MIN_SECRET
 *    bytes long (a shorter one would blank out ordinary text);
 *  - patterns: the value after "sentry_key=", "sentry_secret=", "key=",
 *    "token=", "secret=", "password=", "auth=", "signature=", the userinfo
 *    of any "scheme://user:pass@", and everything after the header names
 *    "Authorization:", "Proxy-Authorization:", "Cookie:" (X-Sentry-Auth
 *    keeps its version and client, its key goes by the first rule).
 * Secrets are replaced by "[redacted]".
 */
#ifndef CW_UPLOADER_REDACT_H
#define CW_UPLOADER_REDACT_H

#include <stddef.h>

#define REDACT_MAX_SECRETS 16
#define REDACT_SECRET_MAX 512
#define REDACT_MIN_SECRET 4
#define REDACT_MARK "[redacted]"

typedef struct {
  char secret[REDACT_MAX_SECRETS][REDACT_SECRET_MAX];
  int n;
} redact_t;

void cw__redact_init(redact_t *r);
/* Adds s[0..n) as a secret (ignored when shorter than REDACT_MIN_SECRET,
 * longer than REDACT_SECRET_MAX - 1, or when the table is full). */
void cw__redact_add(redact_t *r, const char *s, size_t n);
/* Adds the public and secret key of a DSN (unparsable: nothing). */
void cw__redact_add_dsn(redact_t *r, const char *dsn);
/* Adds an URL's userinfo, its password, the base64 of "user:password" (what
 * an Authorization: Basic header carries), and every query value. */
void cw__redact_add_url(redact_t *r, const char *url);

/* Writes in[0..n) into out (cap bytes, always terminated) with every secret
 * and pattern replaced. Returns the length written. r may be NULL (patterns
 * only). */
size_t cw__redact_line(const redact_t *r, const char *in, size_t n, char *out,
                       size_t cap);

#endif
