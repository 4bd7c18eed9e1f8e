/*
 * transport.h — one HTTP POST through libcurl, and gzip (normal context).
 *
 * libcurl is not linked: cw__http_global_init() dlopen()s libcurl.so.4 (the
 * OpenSSL build Debian's libcurl4 ships; libcurl-gnutls.so.4 if that is all
 * there is). So the watchdog embedded in libcrashwatch can upload while
 * linking only libc, and a machine without libcurl still captures crashes
 * (the upload then fails with a message naming the library).
 *
 * TLS peer and host verification are always on; ca_bundle replaces the
 * system CA store. Proxies come from the usual environment variables
 * (http_proxy, https_proxy, no_proxy), which libcurl reads itself.
 */
#ifndef CW_UPLOADER_TRANSPORT_H
#define CW_UPLOADER_TRANSPORT_H

#include <stddef.h>
#include <stdio.h>

#include "buf.h"
#include "redact.h"

typedef struct {
  const char *ca_bundle;   /* NULL: system store */
  long connect_timeout_ms; /* 0: libcurl's default */
  long timeout_ms;         /* whole transfer; 0: none */
  int verbose;             /* libcurl's trace (headers and info lines) */
  FILE *trace;             /* where the trace goes; NULL: stderr */
  const redact_t *redact;  /* applied to every trace line */
  /* Polled during the transfer; returning nonzero aborts it. */
  int (*should_abort)(void);
  /* The libcurl handle kept between requests so consecutive POSTs reuse
   * one keep-alive connection. NULL at first; cw__http_post fills it;
   * cw__http_close frees it. */
  void *handle;
} http_options_t;

typedef struct {
  long status;         /* HTTP status, 0 if no response */
  int transport_error; /* 1: no HTTP response (connect, TLS, timeout) */
  int tls_error;       /* the failure was certificate/TLS related */
  int timed_out;
  char error[256];      /* libcurl's message when transport_error */
  char retry_after[64]; /* Retry-After, "" if absent */
  /* X-Sentry-Rate-Limits, NULL if absent; several header lines are joined
   * with ','; at most RL_MAX_HEADER + 1 bytes are kept (the parser cuts at
   * the last complete entry). Freed by cw__http_result_free. */
  char *rate_limits;
  size_t rate_limits_len;
  char body[512]; /* start of the response body, for logs */
} http_result_t;

void cw__http_result_free(http_result_t *res);

/* Loads libcurl and sets it up; call once before any other function here.
 * Returns 0, or CW_ENOENT when libcurl cannot be loaded (cw__http_load_error()
 * says why), CW_ENOMEM when its global init fails. */
int cw__http_global_init(void);
const char *cw__http_load_error(void);

/* POSTs body to url with the given extra header lines ("Name: value").
 * Returns 0 when a response (any status) arrived or the transfer failed in a
 * way recorded in res; CW_ENOMEM / CW_EINVAL for local problems. */
int cw__http_post(http_options_t *opt, const char *url,
                  const char *const *headers, size_t nheaders, const void *body,
                  size_t len, http_result_t *res);

/* Frees opt->handle (and closes its connection). */
void cw__http_close(http_options_t *opt);

/* gzip-compresses data into out (appends). Returns 0 or CW_ENOMEM. */
int cw__gzip_compress(const void *data, size_t len, cw__buf_t *out);

#endif
