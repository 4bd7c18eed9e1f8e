/* test_dsn.c — Sentry DSN and upload URL parsing (common/dsn.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "crashwatch.h"
#include "dsn.h"

static void test_dsn_parses_plain_sentry_dsn(void **state) {
  (void)state;
  cw__dsn_t d;
  char err[256];
  assert_int_equal(cw__dsn_parse("https://abc123@o1.ingest.sentry.io/4505", &d,
                                 err, sizeof(err)),
                   0);
  assert_string_equal(d.scheme, "https");
  assert_string_equal(d.public_key, "abc123");
  assert_string_equal(d.secret_key, "");
  assert_string_equal(d.host, "o1.ingest.sentry.io");
  assert_int_equal(d.port, 443);
  assert_int_equal(d.port_explicit, 0);
  assert_string_equal(d.path, "");
  assert_string_equal(d.project_id, "4505");
  char url[512];
  assert_int_equal(cw__dsn_envelope_url(&d, url, sizeof(url)), 0);
  assert_string_equal(url, "https://o1.ingest.sentry.io/api/4505/envelope/");
  assert_int_equal(
      cw__dsn_auth_header(&d, "crashwatch/0.1.0", url, sizeof(url)), 0);
  assert_string_equal(url, "Sentry sentry_version=7, "
                           "sentry_client=crashwatch/0.1.0, sentry_key=abc123");
}

static void test_dsn_parses_port_path_and_secret(void **state) {
  (void)state;
  cw__dsn_t d;
  char err[256];
  assert_int_equal(cw__dsn_parse("HTTP://pub:sec@127.0.0.1:9000/a/sentry/42/",
                                 &d, err, sizeof(err)),
                   0);
  assert_string_equal(d.scheme, "http");
  assert_string_equal(d.public_key, "pub");
  assert_string_equal(d.secret_key, "sec");
  assert_string_equal(d.host, "127.0.0.1");
  assert_int_equal(d.port, 9000);
  assert_int_equal(d.port_explicit, 1);
  assert_string_equal(d.path, "/a/sentry");
  assert_string_equal(d.project_id, "42");
  char url[512];
  assert_int_equal(cw__dsn_envelope_url(&d, url, sizeof(url)), 0);
  assert_string_equal(url, "http://127.0.0.1:9000/a/sentry/api/42/envelope/");
  assert_int_equal(cw__dsn_format(&d, url, sizeof(url)), 0);
  assert_string_equal(url, "http://pub@127.0.0.1:9000/a/sentry/42");
  assert_int_equal(cw__dsn_minidump_url(&d, url, sizeof(url)), 0);
  assert_string_equal(
      url, "http://127.0.0.1:9000/a/sentry/api/42/minidump/?sentry_key=pub");
  assert_int_equal(cw__dsn_envelope_url(&d, url, 10), CW_ERANGE);
}

static void test_dsn_parses_ipv6_host(void **state) {
  (void)state;
  cw__dsn_t d;
  assert_int_equal(cw__dsn_parse("http://k@[::1]:8080/7", &d, NULL, 0), 0);
  assert_string_equal(d.host, "[::1]");
  assert_int_equal(d.port, 8080);
}

/* Each bad DSN must fail with CW_EDSN and a message containing the hint. */
static void test_dsn_rejects_malformed_with_reason(void **state) {
  (void)state;
  static const struct {
    const char *dsn;
    const char *hint;
  } cases[] = {
      {"", "empty string"},
      {"abc@host/1", "missing \"://\""},
      {"ftp://k@host/1", "not http or https"},
      {"https://host/1", "missing public key"},
      {"https://@host/1", "missing public key"},
      {"https://:s@host/1", "empty public key at offset 8"},
      {"https://k@/1", "missing host at offset 10"},
      {"https://k@host", "missing project id"},
      {"https://k@host/", "missing project id"},
      {"https://k@host/abc", "project id \"abc\" at offset 15 is not a number"},
      {"https://k@host:/1", "empty port"},
      {"https://k@host:99999/1", "out of range"},
      {"https://k@host:8x/1", "non-digit 'x'"},
      {"https://k@ho st/1",
       "whitespace or control character 0x20 at offset 12"},
      {"https://k@host/1?x=1", "no query or fragment"},
      {"https://k@host/1#f", "no query or fragment"},
      {"https://k@[::1/1", "unterminated IPv6"},
      {"https://k@h$st/1", "invalid character '$' in host at offset 11"},
      {"https://k\"y@host/1", "invalid character '\"' in public key"},
      {"https://k@host//1", "empty path segment"},
      {"https://k@host/1\n", "control character 0x0a"},
      {"https://k@host/\xc3\xa9"
       "1",
       "non-ASCII byte 0xc3 at offset 15"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    cw__dsn_t d;
    char err[256];
    int rc = cw__dsn_parse(cases[i].dsn, &d, err, sizeof(err));
    if (rc != CW_EDSN || strstr(err, cases[i].hint) == NULL ||
        strncmp(err, "DSN: ", 5) != 0)
      fail_msg("DSN \"%s\": rc=%d err=\"%s\", want hint \"%s\"", cases[i].dsn,
               rc, err, cases[i].hint);
    assert_string_equal(d.host, "");
  }
  cw__dsn_t d;
  char err[64];
  assert_int_equal(cw__dsn_parse(NULL, &d, err, sizeof(err)), CW_EDSN);
  /* A tiny error buffer truncates the message without overflowing. */
  char tiny[8];
  assert_int_equal(cw__dsn_parse("nope", &d, tiny, sizeof(tiny)), CW_EDSN);
  assert_true(strlen(tiny) < sizeof(tiny));
}

static void test_dsn_rejects_overlong_parts(void **state) {
  (void)state;
  char dsn[1200];
  char key[300];
  memset(key, 'a', sizeof(key) - 1);
  key[sizeof(key) - 1] = '\0';
  snprintf(dsn, sizeof(dsn), "https://%s@host/1", key);
  cw__dsn_t d;
  char err[256];
  assert_int_equal(cw__dsn_parse(dsn, &d, err, sizeof(err)), CW_EDSN);
  assert_non_null(strstr(err, "public key longer than"));
}

static void test_url_accepts_and_rejects(void **state) {
  (void)state;
  cw__url_t u;
  char err[256];
  assert_int_equal(
      cw__url_parse("https://submit.backtrace.io/acme/tok/minidump", &u, err,
                    sizeof(err)),
      0);
  assert_string_equal(u.host, "submit.backtrace.io");
  assert_int_equal(u.port, 443);
  assert_int_equal(cw__url_parse("http://u:p@127.0.0.1:8080/submit?x=1", &u,
                                 err, sizeof(err)),
                   0);
  assert_int_equal(u.has_userinfo, 1);
  assert_int_equal(u.port, 8080);
  assert_int_equal(cw__url_parse("127.0.0.1:8080/submit", &u, err, sizeof(err)),
                   CW_EURL);
  assert_non_null(strstr(err, "upload URL: missing \"://\""));
  assert_int_equal(cw__url_parse("gopher://x/", &u, err, sizeof(err)), CW_EURL);
  assert_non_null(strstr(err, "not http or https"));
  assert_int_equal(cw__url_parse("http:///x", &u, err, sizeof(err)), CW_EURL);
  assert_non_null(strstr(err, "missing host"));
  assert_int_equal(cw__url_parse("http://h/#x", &u, err, sizeof(err)), CW_EURL);
  assert_non_null(strstr(err, "fragment"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_dsn_parses_plain_sentry_dsn),
      cmocka_unit_test(test_dsn_parses_port_path_and_secret),
      cmocka_unit_test(test_dsn_parses_ipv6_host),
      cmocka_unit_test(test_dsn_rejects_malformed_with_reason),
      cmocka_unit_test(test_dsn_rejects_overlong_parts),
      cmocka_unit_test(test_url_accepts_and_rejects),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
