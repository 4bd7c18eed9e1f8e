/* test_redact.c — credentials out of log lines (uploader/redact.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "redact.h"

static const char *red(const redact_t *r, const char *in) {
  static char out[2048];
  cw__redact_line(r, in, strlen(in), out, sizeof(out));
  return out;
}

static void test_redact_dsn_keys(void **state) {
  (void)state;
  redact_t r;
  cw__redact_init(&r);
  cw__redact_add_dsn(&r,
                     "https://0123456789abcdef:s3cr3tvalue@o1.example.com/42");
  assert_string_equal(red(&r, "sending to https://0123456789abcdef@o1/x"),
                      "sending to https://[redacted]@o1/x");
  /* Wherever it appears, e.g. echoed in a response body. */
  assert_string_equal(red(&r, "{\"detail\":\"bad key 0123456789abcdef\"}"),
                      "{\"detail\":\"bad key [redacted]\"}");
  assert_string_equal(red(&r, "secret s3cr3tvalue!"), "secret [redacted]!");
  /* The X-Sentry-Auth header keeps its version and client. */
  assert_string_equal(red(NULL,
                          "X-Sentry-Auth: Sentry sentry_version=7, "
                          "sentry_client=crashwatch/0.1.0, sentry_key=abc, "
                          "sentry_secret=def"),
                      "X-Sentry-Auth: Sentry sentry_version=7, "
                      "sentry_client=crashwatch/0.1.0, sentry_key=[redacted], "
                      "sentry_secret=[redacted]");
}

static void test_redact_url_credentials(void **state) {
  (void)state;
  redact_t r;
  cw__redact_init(&r);
  cw__redact_add_url(&r, "https://relayuser:hunter2pass@relay.example/api/1/"
                         "minidump/?sentry_key=feedfacecafe&x=1");
  /* libcurl's Basic header: base64("relayuser:hunter2pass"). */
  assert_string_equal(
      red(&r, "Authorization: Basic cmVsYXl1c2VyOmh1bnRlcjJwYXNz"),
      "Authorization: [redacted]");
  assert_string_equal(red(&r, "cmVsYXl1c2VyOmh1bnRlcjJwYXNz"), "[redacted]");
  assert_string_equal(red(&r, "Server auth using Basic with user 'relayuser'"),
                      "Server auth using Basic with user '[redacted]'");
  assert_string_equal(red(&r,
                          "POST /api/1/minidump/?sentry_key=feedfacecafe&x=1 "
                          "HTTP/1.1"),
                      "POST /api/1/minidump/?sentry_key=[redacted]&x=1 "
                      "HTTP/1.1");
  assert_string_equal(red(&r, "hunter2pass"), "[redacted]");
}

static void test_redact_patterns_without_secrets(void **state) {
  (void)state;
  /* Nothing registered: the patterns alone still hide credentials. */
  assert_string_equal(
      red(NULL, "to http://u:p@h:1/x?key=abc&token=t#f"),
      "to http://[redacted]@h:1/x?key=[redacted]&token=[redacted]#f");
  assert_string_equal(red(NULL, "Proxy-Authorization: Basic eHg6eXk="),
                      "Proxy-Authorization: [redacted]");
  assert_string_equal(red(NULL, "authorization: Bearer x\r\nHost: h"),
                      "authorization: [redacted]\r\nHost: h");
  /* Ordinary text is left alone, "monkey=" is not "key=". */
  assert_string_equal(red(NULL, "delivered 0123 (HTTP 200, 77 bytes) monkey=1"),
                      "delivered 0123 (HTTP 200, 77 bytes) monkey=1");
  /* Short secrets are not replaced literally (they would blank out text),
   * but their structured places still are. */
  redact_t r;
  cw__redact_init(&r);
  cw__redact_add_dsn(&r, "http://k@127.0.0.1:9/1");
  assert_string_equal(
      red(&r, "http://k@127.0.0.1:9 sentry_key=k keep"),
      "http://[redacted]@127.0.0.1:9 sentry_key=[redacted] keep");
  /* The output is always terminated, even when cut. */
  char small[8];
  cw__redact_line(NULL, "abcdefghijkl", 12, small, sizeof(small));
  assert_string_equal(small, "abcdefg");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_redact_dsn_keys),
      cmocka_unit_test(test_redact_url_credentials),
      cmocka_unit_test(test_redact_patterns_without_secrets),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
