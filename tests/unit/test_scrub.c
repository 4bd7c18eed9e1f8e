/* test_scrub.c — scrubbing by key (common/scrub.c): the pattern list, and
 * the JSON re-emitter on nested, escaped, deep and malformed texts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "crashwatch.h"
#include "json.h"
#include "scrub.h"

static int matches(const cw__scrub_t *s, const char *k) {
  return cw__scrub_key_matches(s, k, strlen(k));
}

/* Scrubs text as the value of "v" in an object; returns the object. */
static char *scrub(const cw__scrub_t *s, const char *text, int flags, int *rc) {
  cw__buf_t b = CW_BUF_INIT;
  cw__json_t j;
  cw__json_init(&j, &b, 0);
  cw__json_begin_object(&j);
  cw__json_key(&j, "v");
  *rc = cw__scrub_json(s, &j, text, strlen(text), flags, NULL, NULL);
  cw__json_key(&j, "after");
  cw__json_int(&j, 1);
  cw__json_end_object(&j);
  char *out = strdup(cw__buf_cstr(&b));
  cw__buf_free(&b);
  return out;
}

static void expect(const cw__scrub_t *s, const char *in, const char *want) {
  int rc;
  char *out = scrub(s, in, 0, &rc);
  assert_int_equal(rc, 0);
  char full[4096];
  snprintf(full, sizeof(full), "{\"v\":%s,\"after\":1}", want);
  assert_string_equal(out, full);
  free(out);
}

static void
test_scrub_default_keys_match_case_insensitive_substrings(void **state) {
  (void)state;
  cw__scrub_t s;
  cw__scrub_init(&s, 1, NULL);
  static const char *const yes[] = {
      "password",      "PASSWORD",     "db_Password", "passwd",
      "client_secret", "X-Auth-Token", "api_key",     "APIKEY",
      "Authorization", "credentials",  "private_key", "SESSIONID",
      "cookie",        "Set-Cookie",   "MYSQL_PWD",   "oauth"};
  for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
    assert_true(matches(&s, yes[i]));
  static const char *const no[] = {"user", "topic", "partition", "offset",
                                   "pass", "key",   "",          "sess"};
  for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
    assert_false(matches(&s, no[i]));
}

static void test_scrub_list_extendable_and_defaults_off(void **state) {
  (void)state;
  cw__scrub_t s;
  cw__scrub_init(&s, 1, " Tenant_PIN ,, ssn\t,");
  assert_true(matches(&s, "tenant_pin"));
  assert_true(matches(&s, "US_SSN"));
  assert_true(matches(&s, "password"));
  assert_int_equal(s.nkeys, 16);
  cw__scrub_init(&s, 0, "ssn");
  assert_true(matches(&s, "ssn"));
  assert_false(matches(&s, "password"));
  cw__scrub_init(&s, 0, NULL);
  assert_int_equal(s.nkeys, 0);
  assert_false(matches(&s, "password"));
  /* Too many patterns: the excess is ignored, nothing overflows. */
  char many[4096] = "";
  for (int i = 0; i < 100; i++)
    snprintf(many + strlen(many), sizeof(many) - strlen(many), "k%d,", i);
  cw__scrub_init(&s, 1, many);
  assert_int_equal(s.nkeys, CW_SCRUB_MAX_KEYS);
}

static void test_scrub_json_nested_keys_filtered(void **state) {
  (void)state;
  cw__scrub_t s;
  cw__scrub_init(&s, 1, NULL);
  expect(&s,
         " {\"user\" : \"a\", \"db\":{\"password\":\"x\",\"host\":\"h\"},"
         "\"list\":[{\"Token\":1},{\"ok\":[1,2.5e-3,true,false,null]}],"
         "\"session\":{\"id\":\"s\",\"deep\":[1]}} ",
         "{\"user\":\"a\",\"db\":{\"password\":\"[Filtered]\",\"host\":\"h\"},"
         "\"list\":[{\"Token\":\"[Filtered]\"},{\"ok\":[1,2.5e-3,true,false,"
         "null]}],\"session\":\"[Filtered]\"}");
  expect(&s, "\"secret\"", "\"secret\""); /* a value is not a key */
  expect(&s, "[]", "[]");
  expect(&s, "{}", "{}");
  expect(&s, "-0", "-0");
}

static void test_scrub_json_all_members(void **state) {
  (void)state;
  cw__scrub_t s;
  cw__scrub_init(&s, 1, NULL);
  int rc;
  char *out =
      scrub(&s, "{\"a\":{\"b\":1},\"c\":\"d\"}", CW_SCRUB_ALL_MEMBERS, &rc);
  assert_int_equal(rc, 0);
  assert_string_equal(
      out, "{\"v\":{\"a\":\"[Filtered]\",\"c\":\"[Filtered]\"},\"after\":1}");
  free(out);
}

static void test_scrub_json_escapes_normalised(void **state) {
  (void)state;
  cw__scrub_t s;
  cw__scrub_init(&s, 1, NULL);
  expect(&s, "\"caf\\u00e9 \\/ \\ud83d\\ude00 \\b\"",
         "\"caf\xc3\xa9 / \xf0\x9f\x98\x80 \\u0008\"");
  /* Lone surrogates cannot be written as UTF-8. */
  expect(&s, "\"\\ud800x\\udc00\"", "\"\xef\xbf\xbdx\xef\xbf\xbd\"");
  /* An escaped key still matches, and a NUL in a key survives. */
  expect(&s, "{\"pass\\u0077ord\":1,\"a\\u0000b\":2}",
         "{\"password\":\"[Filtered]\",\"a\\u0000b\":2}");
  /* Invalid UTF-8 inside a string becomes U+FFFD. */
  expect(&s, "\"\xff\"", "\"\xef\xbf\xbd\"");
}

static void test_scrub_json_invalid_refused(void **state) {
  (void)state;
  cw__scrub_t s;
  cw__scrub_init(&s, 1, NULL);
  static const char *const bad[] = {"",
                                    "{",
                                    "{\"a\"}",
                                    "{\"a\":1,}",
                                    "[1,]",
                                    "01",
                                    "1.",
                                    "-",
                                    "tru",
                                    "\"abc",
                                    "\"\\x\"",
                                    "\"\\u12g4\"",
                                    "{a:1}",
                                    "[1] 2",
                                    "\"\x01\"",
                                    "nul",
                                    "1e",
                                    "[1 2]",
                                    "{\"a\":1 \"b\":2}"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    int rc;
    char *out = scrub(&s, bad[i], 0, &rc);
    assert_int_equal(rc, CW_EFORMAT);
    assert_string_equal(out, "{\"v\":\"[invalid JSON]\",\"after\":1}");
    free(out);
  }
  cw__buf_t b = CW_BUF_INIT;
  cw__json_t j;
  cw__json_init(&j, &b, 0);
  size_t off = 0;
  const char *what = NULL;
  assert_int_equal(
      cw__scrub_json(&s, &j, "{\"password\":[1,}", 16, 0, &off, &what),
      CW_EFORMAT);
  assert_int_equal(off, 15);
  assert_non_null(what);
  /* Nothing of the text, not even the filtered part, is written. */
  assert_null(strstr(cw__buf_cstr(&b), "password"));
  cw__buf_free(&b);
}

static void test_scrub_json_depth_limits(void **state) {
  (void)state;
  cw__scrub_t s;
  cw__scrub_init(&s, 1, NULL);
  char deep[1024];
  size_t n = 0;
  for (int i = 0; i < 40; i++)
    deep[n++] = '[';
  for (int i = 0; i < 40; i++)
    deep[n++] = ']';
  deep[n] = '\0';
  char want[1024];
  size_t m = 0;
  for (int i = 0; i < CW_SCRUB_MAX_NEST; i++)
    want[m++] = '[';
  m +=
      (size_t)snprintf(want + m, sizeof(want) - m, "\"%s\"", CW_SCRUB_TOO_DEEP);
  for (int i = 0; i < CW_SCRUB_MAX_NEST; i++)
    want[m++] = ']';
  want[m] = '\0';
  expect(&s, deep, want);
  /* Past the parser's own limit the text is refused. */
  char *huge = malloc(2 * 1000 + 1);
  memset(huge, '[', 1000);
  memset(huge + 1000, ']', 1000);
  huge[2000] = '\0';
  int rc;
  char *out = scrub(&s, huge, 0, &rc);
  assert_int_equal(rc, CW_EFORMAT);
  free(out);
  free(huge);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(
          test_scrub_default_keys_match_case_insensitive_substrings),
      cmocka_unit_test(test_scrub_list_extendable_and_defaults_off),
      cmocka_unit_test(test_scrub_json_nested_keys_filtered),
      cmocka_unit_test(test_scrub_json_all_members),
      cmocka_unit_test(test_scrub_json_escapes_normalised),
      cmocka_unit_test(test_scrub_json_invalid_refused),
      cmocka_unit_test(test_scrub_json_depth_limits),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
