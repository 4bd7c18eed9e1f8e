/* transport.c — libcurl POST and zlib gzip; see transport.h. */
#include "transport.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <zlib.h>

#include "crashwatch.h"

int http_global_init(void) {
  return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : CW_ENOMEM;
}

static void copy_trimmed(char *dst, size_t cap, const char *v, size_t n) {
  while (n > 0 && (*v == ' ' || *v == '\t')) {
    v++;
    n--;
  }
  while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' ' ||
                   v[n - 1] == '\t'))
    n--;
  if (n >= cap)
    n = cap - 1;
  memcpy(dst, v, n);
  dst[n] = '\0';
}

static size_t on_header(char *data, size_t size, size_t nitems, void *ud) {
  http_result_t *res = ud;
  size_t n = size * nitems;
  /* A new status line (after 100 Continue or a redirect) starts over. */
  if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
    res->retry_after[0] = '\0';
    res->rate_limits[0] = '\0';
    return n;
  }
  const char *colon = memchr(data, ':', n);
  if (colon == NULL)
    return n;
  size_t klen = (size_t)(colon - data);
  const char *v = colon + 1;
  size_t vlen = n - klen - 1;
  if (klen == 11 && strncasecmp(data, "Retry-After", 11) == 0)
    copy_trimmed(res->retry_after, sizeof(res->retry_after), v, vlen);
  else if (klen == 20 && strncasecmp(data, "X-Sentry-Rate-Limits", 20) == 0)
    copy_trimmed(res->rate_limits, sizeof(res->rate_limits), v, vlen);
  return n;
}

static size_t on_body(char *data, size_t size, size_t nitems, void *ud) {
  http_result_t *res = ud;
  size_t n = size * nitems;
  size_t have = strlen(res->body);
  size_t room = sizeof(res->body) - 1 - have;
  size_t take = n < room ? n : room;
  for (size_t i = 0; i < take; i++)
    res->body[have + i] = isprint((unsigned char)data[i]) ? data[i] : ' ';
  res->body[have + take] = '\0';
  return n;
}

static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut,
                       curl_off_t un) {
  const http_options_t *opt = ud;
  return opt->should_abort != NULL && opt->should_abort();
}

void http_close(http_options_t *opt) {
  if (opt->handle != NULL)
    curl_easy_cleanup(opt->handle);
  opt->handle = NULL;
}

int http_post(http_options_t *opt, const char *url, const char *const *headers,
              size_t nheaders, const void *body, size_t len,
              http_result_t *res) {
  memset(res, 0, sizeof(*res));
  CURL *c = opt->handle;
  if (c == NULL) {
    c = curl_easy_init();
    if (c == NULL)
      return CW_ENOMEM;
    opt->handle = c;
  } else {
    /* Forget the last request's options; the connection cache stays. */
    curl_easy_reset(c);
  }
  struct curl_slist *hl = NULL;
  for (size_t i = 0; i < nheaders; i++) {
    struct curl_slist *t = curl_slist_append(hl, headers[i]);
    if (t == NULL) {
      curl_slist_free_all(hl);
      return CW_ENOMEM;
    }
    hl = t;
  }
  /* No "Expect: 100-continue" round trip: collectors answer at once. */
  struct curl_slist *t = curl_slist_append(hl, "Expect:");
  if (t != NULL)
    hl = t;
  char errbuf[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, res);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, res);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  if (opt->ca_bundle != NULL)
    curl_easy_setopt(c, CURLOPT_CAINFO, opt->ca_bundle);
  if (opt->connect_timeout_ms > 0)
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, opt->connect_timeout_ms);
  if (opt->timeout_ms > 0)
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, opt->timeout_ms);
  if (opt->verbose)
    curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)opt);
  CURLcode cc = curl_easy_perform(c);
  if (cc == CURLE_OK) {
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &res->status);
  } else {
    res->transport_error = 1;
    res->timed_out = cc == CURLE_OPERATION_TIMEDOUT;
    res->tls_error =
        cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CONNECT_ERROR ||
        cc == CURLE_SSL_CACERT_BADFILE || cc == CURLE_SSL_CERTPROBLEM;
    snprintf(res->error, sizeof(res->error), "%s%s%s", curl_easy_strerror(cc),
             errbuf[0] ? ": " : "", errbuf);
  }
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
  curl_slist_free_all(hl);
  return 0;
}

int gzip_compress(const void *data, size_t len, cw_buf_t *out) {
  z_stream z;
  memset(&z, 0, sizeof(z));
  /* windowBits 15 + 16 asks zlib for a gzip wrapper. */
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
                   Z_DEFAULT_STRATEGY) != Z_OK)
    return CW_ENOMEM;
  size_t bound = deflateBound(&z, (uLong)len) + 32;
  if (cw_buf_reserve(out, bound) != 0) {
    deflateEnd(&z);
    return CW_ENOMEM;
  }
  z.next_in = (Bytef *)(uintptr_t)data;
  z.avail_in = (uInt)len;
  z.next_out = out->data + out->len;
  z.avail_out = (uInt)bound;
  int zr = deflate(&z, Z_FINISH);
  size_t produced = bound - z.avail_out;
  deflateEnd(&z);
  if (zr != Z_STREAM_END)
    return CW_ENOMEM;
  out->len += produced;
  return 0;
}
