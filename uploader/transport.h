/*
 * transport.h — one HTTP POST through libcurl, and gzip (normal context).
 *
 * TLS peer and host verification are always on; ca_bundle replaces the
 * system CA store. Proxies come from the usual environment variables
 * (http_proxy, https_proxy, no_proxy), which libcurl reads itself.
 */
#ifndef CW_UPLOADER_TRANSPORT_H
#define CW_UPLOADER_TRANSPORT_H

#include <stddef.h>

#include "buf.h"

typedef struct {
  const char *ca_bundle;   /* NULL: system store */
  long connect_timeout_ms; /* 0: libcurl's default */
  long timeout_ms;         /* whole transfer; 0: none */
  int verbose;             /* libcurl's own trace on stderr */
  /* Polled during the transfer; returning nonzero aborts it. */
  int (*should_abort)(void);
  /* The libcurl handle kept between requests so consecutive POSTs reuse
   * one keep-alive connection. NULL at first; http_post fills it;
   * http_close frees it. */
  void *handle;
} http_options_t;

typedef struct {
  long status;         /* HTTP status, 0 if no response */
  int transport_error; /* 1: no HTTP response (connect, TLS, timeout) */
  int tls_error;       /* the failure was certificate/TLS related */
  int timed_out;
  char error[256];        /* libcurl's message when transport_error */
  char retry_after[64];   /* Retry-After, "" if absent */
  char rate_limits[1024]; /* X-Sentry-Rate-Limits, "" if absent */
  char body[512];         /* start of the response body, for logs */
} http_result_t;

/* Global libcurl setup; call once before any other function here. */
int http_global_init(void);

/* POSTs body to url with the given extra header lines ("Name: value").
 * Returns 0 when a response (any status) arrived or the transfer failed in a
 * way recorded in res; CW_ENOMEM / CW_EINVAL for local problems. */
int http_post(http_options_t *opt, const char *url, const char *const *headers,
              size_t nheaders, const void *body, size_t len,
              http_result_t *res);

/* Frees opt->handle (and closes its connection). */
void http_close(http_options_t *opt);

/* gzip-compresses data into out (appends). Returns 0 or CW_ENOMEM. */
int gzip_compress(const void *data, size_t len, cw_buf_t *out);

#endif
