/* transport.c — libcurl POST (libcurl loaded at run time) and zlib gzip;
 * see transport.h. */
#include "transport.h"

#include <ctype.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The header gives types and constants only; every call goes through the
 * pointers below. Its type-checking macros would wrap curl_easy_setopt. */
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>
#include <zlib.h>

#include "crashwatch.h"
#include "ratelimit.h"

/* The functions used, with libcurl's ABI (stable across soname 4). */
static struct {
  CURLcode (*global_init)(long);
  CURL *(*easy_init)(void);
  CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
  CURLcode (*easy_perform)(CURL *);
  CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
  void (*easy_cleanup)(CURL *);
  void (*easy_reset)(CURL *);
  const char *(*easy_strerror)(CURLcode);
  struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
  void (*slist_free_all)(struct curl_slist *);
  int rc;
  char error[256];
} cl;
static pthread_once_t cl_once = PTHREAD_ONCE_INIT;

static void cl_load(void) {
  static const char *const sonames[] = {"libcurl.so.4", "libcurl-gnutls.so.4"};
  void *h = NULL;
  char first[200] = "";
  for (size_t i = 0; i < sizeof(sonames) / sizeof(sonames[0]) && !h; i++) {
    /* Never closed: libcurl does not support being unloaded. */
    h = dlopen(sonames[i], RTLD_NOW | RTLD_LOCAL);
    if (h == NULL && first[0] == '\0') {
      const char *e = dlerror();
      snprintf(first, sizeof(first), "%s", e ? e : sonames[i]);
    }
  }
  if (h == NULL) {
    snprintf(cl.error, sizeof(cl.error),
             "cannot load libcurl (%s); install libcurl4", first);
    cl.rc = CW_ENOENT;
    return;
  }
  struct {
    void **slot;
    const char *name;
  } syms[] = {
      {(void **)&cl.global_init, "curl_global_init"},
      {(void **)&cl.easy_init, "curl_easy_init"},
      {(void **)&cl.easy_setopt, "curl_easy_setopt"},
      {(void **)&cl.easy_perform, "curl_easy_perform"},
      {(void **)&cl.easy_getinfo, "curl_easy_getinfo"},
      {(void **)&cl.easy_cleanup, "curl_easy_cleanup"},
      {(void **)&cl.easy_reset, "curl_easy_reset"},
      {(void **)&cl.easy_strerror, "curl_easy_strerror"},
      {(void **)&cl.slist_append, "curl_slist_append"},
      {(void **)&cl.slist_free_all, "curl_slist_free_all"},
  };
  for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
    /* POSIX allows converting dlsym's void * to a function pointer. */
    *syms[i].slot = dlsym(h, syms[i].name);
    if (*syms[i].slot == NULL) {
      snprintf(cl.error, sizeof(cl.error), "libcurl lacks %s", syms[i].name);
      cl.rc = CW_ENOENT;
      return;
    }
  }
  if (cl.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    snprintf(cl.error, sizeof(cl.error), "curl_global_init failed");
    cl.rc = CW_ENOMEM;
  }
}

int cw__http_global_init(void) {
  pthread_once(&cl_once, cl_load);
  return cl.rc;
}

const char *cw__http_load_error(void) { return cl.error; }

void cw__http_result_free(http_result_t *res) {
  free(res->rate_limits);
  res->rate_limits = NULL;
  res->rate_limits_len = 0;
}

/* Appends one X-Sentry-Rate-Limits value (joined to earlier ones by ','),
 * keeping at most RL_MAX_HEADER + 1 bytes. */
static void add_rate_limits(http_result_t *res, const char *v, size_t n) {
  while (n > 0 && (*v == ' ' || *v == '\t'))
    v++, n--;
  while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' ' ||
                   v[n - 1] == '\t'))
    n--;
  const size_t keep = RL_MAX_HEADER + 1;
  size_t have = res->rate_limits_len;
  if (n == 0 || have >= keep)
    return;
  size_t sep = have > 0 ? 1 : 0;
  if (have + sep + n > keep)
    n = keep - have - sep;
  char *p = realloc(res->rate_limits, have + sep + n + 1);
  if (p == NULL)
    return;
  if (sep)
    p[have] = ',';
  memcpy(p + have + sep, v, n);
  res->rate_limits_len = have + sep + n;
  p[res->rate_limits_len] = '\0';
  res->rate_limits = p;
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
    cw__http_result_free(res);
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
    add_rate_limits(res, v, vlen);
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

/*
 * -vv: libcurl's trace as curl -v prints it ("* " info, "> " sent headers,
 * "< " received headers; no bodies), each line redacted first, so neither
 * X-Sentry-Auth's key, an Authorization header nor a URL's credentials reach
 * the log.
 */
static int on_trace(CURL *c, curl_infotype type, char *data, size_t size,
                    void *ud) {
  (void)c;
  const http_options_t *opt = ud;
  const char *mark;
  switch (type) {
  case CURLINFO_TEXT:
    mark = "* ";
    break;
  case CURLINFO_HEADER_OUT:
    mark = "> ";
    break;
  case CURLINFO_HEADER_IN:
    mark = "< ";
    break;
  default:
    return 0; /* bodies and TLS records are not logged */
  }
  FILE *f = opt->trace != NULL ? opt->trace : stderr;
  size_t i = 0;
  while (i < size) {
    size_t e = i;
    while (e < size && data[e] != '\n')
      e++;
    size_t len = e - i;
    if (len > 0 && data[i + len - 1] == '\r')
      len--;
    if (len > 0) {
      char line[2048];
      cw__redact_line(opt->redact, data + i, len > 1500 ? 1500 : len, line,
                      sizeof(line));
      for (char *q = line; *q; q++)
        if ((unsigned char)*q < 0x20 && *q != '\t')
          *q = '?';
      fprintf(f, "%s%s\n", mark, line);
    }
    i = e + 1;
  }
  fflush(f);
  return 0;
}

void cw__http_close(http_options_t *opt) {
  if (opt->handle != NULL)
    cl.easy_cleanup(opt->handle);
  opt->handle = NULL;
}

int cw__http_post(http_options_t *opt, const char *url,
                  const char *const *headers, size_t nheaders, const void *body,
                  size_t len, http_result_t *res) {
  memset(res, 0, sizeof(*res));
  if (cw__http_global_init() != 0) {
    res->transport_error = 1;
    snprintf(res->error, sizeof(res->error), "%s", cl.error);
    return 0;
  }
  CURL *c = opt->handle;
  if (c == NULL) {
    c = cl.easy_init();
    if (c == NULL)
      return CW_ENOMEM;
    opt->handle = c;
  } else {
    /* Forget the last request's options; the connection cache stays. */
    cl.easy_reset(c);
  }
  struct curl_slist *hl = NULL;
  for (size_t i = 0; i < nheaders; i++) {
    struct curl_slist *t = cl.slist_append(hl, headers[i]);
    if (t == NULL) {
      cl.slist_free_all(hl);
      return CW_ENOMEM;
    }
    hl = t;
  }
  /* No "Expect: 100-continue" round trip: collectors answer at once. */
  struct curl_slist *t = cl.slist_append(hl, "Expect:");
  if (t != NULL)
    hl = t;
  char errbuf[CURL_ERROR_SIZE] = "";
  cl.easy_setopt(c, CURLOPT_URL, url);
  cl.easy_setopt(c, CURLOPT_POST, 1L);
  cl.easy_setopt(c, CURLOPT_POSTFIELDS, body);
  cl.easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
  cl.easy_setopt(c, CURLOPT_HTTPHEADER, hl);
  cl.easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  cl.easy_setopt(c, CURLOPT_HEADERDATA, res);
  cl.easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  cl.easy_setopt(c, CURLOPT_WRITEDATA, res);
  cl.easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  cl.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  cl.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  cl.easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  cl.easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  if (opt->ca_bundle != NULL)
    cl.easy_setopt(c, CURLOPT_CAINFO, opt->ca_bundle);
  if (opt->connect_timeout_ms > 0)
    cl.easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, opt->connect_timeout_ms);
  if (opt->timeout_ms > 0)
    cl.easy_setopt(c, CURLOPT_TIMEOUT_MS, opt->timeout_ms);
  if (opt->verbose) {
    cl.easy_setopt(c, CURLOPT_DEBUGFUNCTION, on_trace);
    cl.easy_setopt(c, CURLOPT_DEBUGDATA, (void *)opt);
    cl.easy_setopt(c, CURLOPT_VERBOSE, 1L);
  }
  cl.easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  cl.easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
  cl.easy_setopt(c, CURLOPT_XFERINFODATA, (void *)opt);
  CURLcode cc = cl.easy_perform(c);
  if (cc == CURLE_OK) {
    cl.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &res->status);
  } else {
    res->transport_error = 1;
    res->timed_out = cc == CURLE_OPERATION_TIMEDOUT;
    res->tls_error =
        cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CONNECT_ERROR ||
        cc == CURLE_SSL_CACERT_BADFILE || cc == CURLE_SSL_CERTPROBLEM;
    snprintf(res->error, sizeof(res->error), "%s%s%s", cl.easy_strerror(cc),
             errbuf[0] ? ": " : "", errbuf);
  }
  cl.easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
  cl.easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
  cl.slist_free_all(hl);
  return 0;
}

int cw__gzip_compress(const void *data, size_t len, cw__buf_t *out) {
  z_stream z;
  memset(&z, 0, sizeof(z));
  /* windowBits 15 + 16 asks zlib for a gzip wrapper. */
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
                   Z_DEFAULT_STRATEGY) != Z_OK)
    return CW_ENOMEM;
  size_t bound = deflateBound(&z, (uLong)len) + 32;
  if (cw__buf_reserve(out, bound) != 0) {
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
