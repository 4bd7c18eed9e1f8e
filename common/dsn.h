/*
 * dsn.h — Sentry DSN and upload URL parsing (normal context, libc only).
 *
 * The app-side library validates SENTRY_DSN at cw_init() with this parser,
 * and the uploader builds its endpoint from the result, so both agree on
 * what a valid DSN is. Nothing here allocates; results live in fixed
 * buffers inside the output struct.
 *
 * DSN grammar (what Sentry's SDKs accept):
 *   {scheme}://{public_key}[:{secret_key}]@{host}[:{port}]{path}/{project_id}
 * scheme is http or https (case-insensitive), public_key non-empty,
 * host a name, an IPv4 address or a bracketed IPv6 address, port 1..65535,
 * path an optional prefix ("/sentry"), project_id decimal digits. No query,
 * fragment, whitespace or control characters.
 */
#ifndef CW_DSN_H
#define CW_DSN_H

#include <stddef.h>

#define CW_DSN_KEY_MAX 128
#define CW_DSN_HOST_MAX 256
#define CW_DSN_PATH_MAX 512
#define CW_DSN_PROJECT_MAX 32

typedef struct {
  char scheme[8];                      /* "http" or "https", lowercase */
  char public_key[CW_DSN_KEY_MAX];     /* sentry_key */
  char secret_key[CW_DSN_KEY_MAX];     /* legacy, usually "" */
  char host[CW_DSN_HOST_MAX];          /* as written; IPv6 keeps brackets */
  unsigned port;                       /* explicit, else 80 / 443 */
  int port_explicit;                   /* 1 if the DSN named a port */
  char path[CW_DSN_PATH_MAX];          /* prefix, "" or "/a/b" (no '/' end) */
  char project_id[CW_DSN_PROJECT_MAX]; /* decimal digits */
} cw__dsn_t;

/*
 * Parses dsn into *out. Returns 0, or CW_EDSN with a message in err (if not
 * NULL) that names what is wrong and at which byte offset, e.g.
 * "DSN: missing public key before '@' (offset 8)". *out is zeroed first.
 */
int cw__dsn_parse(const char *dsn, cw__dsn_t *out, char *err, size_t errlen);

/* Writes "{scheme}://{host}[:{port}]{path}/api/{project_id}/envelope/" into
 * out. Returns 0, or CW_ERANGE if cap is too small. */
int cw__dsn_envelope_url(const cw__dsn_t *dsn, char *out, size_t cap);

/* Writes "{scheme}://{host}[:{port}]{path}/api/{project_id}/minidump/
 * ?sentry_key={key}" (Sentry's minidump endpoint) into out. */
int cw__dsn_minidump_url(const cw__dsn_t *dsn, char *out, size_t cap);

/* Writes the X-Sentry-Auth header value:
 * "Sentry sentry_version=7, sentry_client={client}, sentry_key={key}"
 * (plus ", sentry_secret=..." for a legacy DSN). */
int cw__dsn_auth_header(const cw__dsn_t *dsn, const char *client, char *out,
                        size_t cap);

/* Writes the DSN back without the secret key (what an envelope header
 * carries as "dsn"). */
int cw__dsn_format(const cw__dsn_t *dsn, char *out, size_t cap);

/*
 * A plain http(s) upload URL (Breakpad-style collectors). Checked at
 * configuration time so a typo fails early with a reason.
 */
typedef struct {
  char scheme[8];
  char host[CW_DSN_HOST_MAX];
  unsigned port;
  int port_explicit;
  int has_userinfo; /* "user:pass@" present (passed through to curl) */
} cw__url_t;

/* Accepts http:// and https:// URLs with a host, optional userinfo, port,
 * path, query. Returns 0, or CW_EURL with a message in err. */
int cw__url_parse(const char *url, cw__url_t *out, char *err, size_t errlen);

#endif
