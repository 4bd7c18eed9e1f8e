/* test_ratelimit.c — X-Sentry-Rate-Limits / Retry-After parsing, category
 * blocking and persistence (uploader/ratelimit.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "crashwatch.h"
#include "ratelimit.h"

#define NOW 1700000000000LL

static int parse(ratelimits_t *rl, const char *h) {
  return cw__ratelimit_parse_sentry(rl, h, strlen(h), NOW, NULL, 0);
}

static void test_ratelimit_sentry_doc_example(void **state) {
  (void)state;
  ratelimits_t rl = {{0}};
  assert_int_equal(parse(&rl, "60:transaction:key, "
                              "2700:default;error;security:organization"),
                   4);
  assert_int_equal(rl.until_ms[RL_TRANSACTION], NOW + 60000);
  assert_int_equal(rl.until_ms[RL_DEFAULT], NOW + 2700000);
  assert_int_equal(rl.until_ms[RL_ERROR], NOW + 2700000);
  assert_int_equal(rl.until_ms[RL_SECURITY], NOW + 2700000);
  assert_int_equal(rl.until_ms[RL_ALL], 0);
  assert_int_equal(rl.until_ms[RL_ATTACHMENT], 0);
  assert_int_equal(cw__ratelimit_blocked_until(&rl, RL_ERROR, NOW),
                   NOW + 2700000);
  assert_int_equal(cw__ratelimit_blocked_until(&rl, RL_ATTACHMENT, NOW), 0);
  assert_int_equal(cw__ratelimit_blocked_until(&rl, RL_ERROR, NOW + 2700000),
                   0);
}

static void test_ratelimit_empty_categories_mean_all(void **state) {
  (void)state;
  ratelimits_t rl = {{0}};
  assert_int_equal(parse(&rl, "60::organization, 2700::organization"), 2);
  assert_int_equal(rl.until_ms[RL_ALL], NOW + 2700000);
  assert_int_equal(cw__ratelimit_blocked_until(&rl, RL_ATTACHMENT, NOW),
                   NOW + 2700000);
  /* Just the number, with no categories field, is malformed: a cut or
   * garbled entry must not become a limit on everything. */
  ratelimits_t r2 = {{0}};
  assert_int_equal(parse(&r2, "5"), CW_EFORMAT);
  assert_int_equal(r2.until_ms[RL_ALL], 0);
  assert_int_equal(parse(&r2, "5:"), 1);
  assert_int_equal(r2.until_ms[RL_ALL], NOW + 5000);
}

static void test_ratelimit_unknown_categories_ignored(void **state) {
  (void)state;
  ratelimits_t rl = {{0}};
  assert_int_equal(parse(&rl, "60:foo;bar:key"), 0);
  ratelimits_t zero = {{0}};
  assert_memory_equal(&rl, &zero, sizeof(rl));
  assert_int_equal(parse(&rl, "60:foo;attachment:key:reason:ns:future"), 1);
  assert_int_equal(rl.until_ms[RL_ATTACHMENT], NOW + 60000);
}

static void test_ratelimit_longest_wins_and_spaces(void **state) {
  (void)state;
  ratelimits_t rl = {{0}};
  assert_int_equal(parse(&rl, " 30 : error : key , 10:error:org,\t20:error:"),
                   3);
  assert_int_equal(rl.until_ms[RL_ERROR], NOW + 30000);
  /* A later, shorter limit never shortens an existing one. */
  parse(&rl, "1:error:key");
  assert_int_equal(rl.until_ms[RL_ERROR], NOW + 30000);
}

static void test_ratelimit_fractional_and_huge(void **state) {
  (void)state;
  ratelimits_t rl = {{0}};
  assert_int_equal(parse(&rl, "2.5:error, 0.0001:session"), 2);
  assert_int_equal(rl.until_ms[RL_ERROR], NOW + 2500);
  assert_int_equal(rl.until_ms[RL_SESSION], NOW + 1); /* rounded up */
  assert_int_equal(parse(&rl, "99999999999999999999999:attachment"), 1);
  assert_int_equal(rl.until_ms[RL_ATTACHMENT],
                   NOW + (int64_t)RL_MAX_SECONDS * 1000);
}

static void test_ratelimit_malformed_reports_offset(void **state) {
  (void)state;
  ratelimits_t rl = {{0}};
  char err[128];
  const char *h = "abc:error, 7:attachment, -1::x, 1e5::x, .:error";
  assert_int_equal(
      cw__ratelimit_parse_sentry(&rl, h, strlen(h), NOW, err, sizeof(err)),
      CW_EFORMAT);
  assert_string_equal(
      err, "X-Sentry-Rate-Limits: malformed retry_after at offset 0");
  /* The valid one in the middle still applies. */
  assert_int_equal(rl.until_ms[RL_ATTACHMENT], NOW + 7000);
  assert_int_equal(rl.until_ms[RL_ALL], 0);
  assert_int_equal(rl.until_ms[RL_ERROR], 0);
  /* Empty and separator-only headers are harmless. */
  assert_int_equal(parse(&rl, ""), 0);
  assert_int_equal(parse(&rl, ",,, ,"), 0);
}

static void test_ratelimit_retry_after(void **state) {
  (void)state;
  assert_int_equal(cw__ratelimit_parse_retry_after("120", NOW), 120000);
  assert_int_equal(cw__ratelimit_parse_retry_after(" 3 \r\n", NOW), 3000);
  assert_int_equal(cw__ratelimit_parse_retry_after("soon", NOW),
                   RL_DEFAULT_RETRY_AFTER_MS);
  assert_int_equal(cw__ratelimit_parse_retry_after(NULL, NOW),
                   RL_DEFAULT_RETRY_AFTER_MS);
  /* 2023-11-14T22:13:20Z is NOW; 90 s later as an HTTP-date. */
  assert_int_equal(
      cw__ratelimit_parse_retry_after("Tue, 14 Nov 2023 22:14:50 GMT", NOW),
      90000);
  assert_int_equal(
      cw__ratelimit_parse_retry_after("Tue, 14 Nov 2023 22:00:00 GMT", NOW), 0);
}

static void test_ratelimit_update_rules(void **state) {
  (void)state;
  ratelimits_t rl = {{0}};
  /* 429 without headers: 60 s for everything. */
  assert_int_equal(cw__ratelimit_update(&rl, 429, NULL, NULL, NOW), 1);
  assert_int_equal(rl.until_ms[RL_ALL], NOW + 60000);
  /* 429 with Retry-After. */
  memset(&rl, 0, sizeof(rl));
  cw__ratelimit_update(&rl, 429, "", "5", NOW);
  assert_int_equal(rl.until_ms[RL_ALL], NOW + 5000);
  /* X-Sentry-Rate-Limits wins over Retry-After. */
  memset(&rl, 0, sizeof(rl));
  cw__ratelimit_update(&rl, 429, "10:attachment", "500", NOW);
  assert_int_equal(rl.until_ms[RL_ALL], 0);
  assert_int_equal(rl.until_ms[RL_ATTACHMENT], NOW + 10000);
  /* ...and applies on any status, even 200. */
  memset(&rl, 0, sizeof(rl));
  assert_int_equal(cw__ratelimit_update(&rl, 200, "10:error", NULL, NOW), 1);
  assert_int_equal(rl.until_ms[RL_ERROR], NOW + 10000);
  /* A plain 200 or 500 changes nothing. */
  assert_int_equal(cw__ratelimit_update(&rl, 200, NULL, "5", NOW), 0);
  assert_int_equal(cw__ratelimit_update(&rl, 500, "", "", NOW), 0);
}

static void test_ratelimit_save_load_roundtrip(void **state) {
  (void)state;
  const char *tmp = getenv("CW_TEST_TMP");
  char path[512];
  snprintf(path, sizeof(path), "%s/ratelimits-%d", tmp ? tmp : "/tmp",
           (int)getpid());
  ratelimits_t rl = {{0}}, back;
  rl.until_ms[RL_ALL] = NOW + 1;
  rl.until_ms[RL_ATTACHMENT] = NOW + 2;
  assert_int_equal(cw__ratelimit_save(&rl, path), 0);
  assert_int_equal(cw__ratelimit_load(&back, path, NOW), 0);
  assert_memory_equal(&rl, &back, sizeof(rl));
  /* Garbage lines are skipped, not fatal. */
  FILE *f = fopen(path, "w");
  fputs("error 5\nnonsense\nbogus 7\nattachment -3\n\n", f);
  fclose(f);
  assert_int_equal(cw__ratelimit_load(&back, path, NOW), 0);
  assert_int_equal(back.until_ms[RL_ERROR], 5);
  assert_int_equal(back.until_ms[RL_ATTACHMENT], 0);
  /* A deadline beyond the cap (a tampered or old file) is cut to it. */
  f = fopen(path, "w");
  fputs("all 99999999999999\nerror 1800000000000\n", f);
  fclose(f);
  assert_int_equal(cw__ratelimit_load(&back, path, NOW), 0);
  assert_int_equal(back.until_ms[RL_ALL], NOW + (int64_t)RL_MAX_SECONDS * 1000);
  assert_int_equal(back.until_ms[RL_ERROR],
                   NOW + (int64_t)RL_MAX_SECONDS * 1000);
  unlink(path);
  assert_int_equal(cw__ratelimit_load(&back, path, NOW), 0);
  ratelimits_t zero = {{0}};
  assert_memory_equal(&back, &zero, sizeof(back));
  /* Saving into a missing directory fails without crashing. */
  assert_true(cw__ratelimit_save(&rl, "/nonexistent-dir/x/ratelimits") < 0);
}

/* Issue 9.11: a header longer than the old 1023-byte buffer is read whole
 * (its last entry applies), and one longer than RL_MAX_HEADER is cut at its
 * last complete entry, never mid-entry. */
static void test_ratelimit_long_header(void **state) {
  (void)state;
  size_t cap = 3 * RL_MAX_HEADER;
  char *h = malloc(cap);
  size_t n = 0;
  while (n < 4000)
    n += (size_t)snprintf(h + n, cap - n, "1:session:organization, ");
  n += (size_t)snprintf(h + n, cap - n, "3600:attachment:organization");
  ratelimits_t rl = {{0}};
  assert_true(parse(&rl, h) > 100);
  assert_int_equal(rl.until_ms[RL_ATTACHMENT], NOW + 3600000);
  assert_int_equal(rl.until_ms[RL_SESSION], NOW + 1000);
  assert_int_equal(rl.until_ms[RL_ALL], 0);

  /* Over the bound: entries up to the cut apply, the one straddling it and
   * everything after are ignored. */
  n = 0;
  while (n < RL_MAX_HEADER - 40)
    n += (size_t)snprintf(h + n, cap - n, "2:session:organization,");
  size_t straddle = n;
  n += (size_t)snprintf(h + n, cap - n, "3600:attachment;error:organization,");
  n += (size_t)snprintf(h + n, cap - n, "7200::organization");
  assert_true(straddle < RL_MAX_HEADER && n > RL_MAX_HEADER);
  assert_int_equal(cw__ratelimit_header_cut(h, n), straddle - 1);
  memset(&rl, 0, sizeof(rl));
  assert_true(cw__ratelimit_parse_sentry(&rl, h, n, NOW, NULL, 0) > 0);
  assert_int_equal(rl.until_ms[RL_SESSION], NOW + 2000);
  assert_int_equal(rl.until_ms[RL_ATTACHMENT], 0);
  assert_int_equal(rl.until_ms[RL_ERROR], 0);
  assert_int_equal(rl.until_ms[RL_ALL], 0);
  /* The old code's failure: a cut mid-entry ("3600:") limits nothing now
   * unless it is a whole entry; "3600" alone is malformed. */
  memset(&rl, 0, sizeof(rl));
  assert_int_equal(parse(&rl, "60:error:org, 3600"), CW_EFORMAT);
  assert_int_equal(rl.until_ms[RL_ALL], 0);
  assert_int_equal(rl.until_ms[RL_ERROR], NOW + 60000);
  free(h);
}

/* Garbage is ignored, never turned into a limit on everything. */
static void test_ratelimit_garbage_limits_nothing(void **state) {
  (void)state;
  static const char *const garbage[] = {
      "99999999999999",
      "3600",
      "garbage",
      "\xff\xfe\x01:error",
      "1e9:error:org",
      "60:Error:org",
      "60:error!:org",
      "60:er ror\x01:org",
      "-5::org",
      ":::",
      "60:error;attach\"ment:org",
      "<html><body>502 Bad Gateway</body></html>",
  };
  for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
    ratelimits_t rl = {{0}}, zero = {{0}};
    char err[128];
    int rc = cw__ratelimit_parse_sentry(&rl, garbage[i], strlen(garbage[i]),
                                        NOW, err, sizeof(err));
    if (rc != CW_EFORMAT)
      fail_msg("\"%s\": %d, want CW_EFORMAT", garbage[i], rc);
    assert_memory_equal(&rl, &zero, sizeof(rl));
    /* ...also through cw__ratelimit_update: nothing on a 200; on a 429 the
     * header counts as absent (Retry-After, else 60 s), never days. */
    assert_int_equal(cw__ratelimit_update(&rl, 200, garbage[i], NULL, NOW), 0);
    assert_int_equal(cw__ratelimit_update(&rl, 429, garbage[i], "5", NOW), 1);
    assert_int_equal(rl.until_ms[RL_ALL], NOW + 5000);
    memset(&rl, 0, sizeof(rl));
    assert_int_equal(cw__ratelimit_update(&rl, 429, garbage[i], NULL, NOW), 1);
    assert_int_equal(rl.until_ms[RL_ALL], NOW + RL_DEFAULT_RETRY_AFTER_MS);
    assert_int_equal(rl.until_ms[RL_ERROR], 0);
  }
}

/* Every limit is capped at RL_MAX_SECONDS, one day; Retry-After too. */
static void test_ratelimit_capped_at_one_day(void **state) {
  (void)state;
  assert_int_equal(RL_MAX_SECONDS, 86400);
  ratelimits_t rl = {{0}};
  assert_int_equal(parse(&rl, "604800:error:org, 90000::org"), 2);
  assert_int_equal(rl.until_ms[RL_ERROR], NOW + 86400000LL);
  assert_int_equal(rl.until_ms[RL_ALL], NOW + 86400000LL);
  assert_int_equal(cw__ratelimit_parse_retry_after("604800", NOW), 86400000LL);
  /* An HTTP-date a year ahead. */
  assert_int_equal(
      cw__ratelimit_parse_retry_after("Thu, 14 Nov 2024 22:13:20 GMT", NOW),
      86400000LL);
  memset(&rl, 0, sizeof(rl));
  cw__ratelimit_update(&rl, 429, NULL, "99999999999", NOW);
  assert_int_equal(rl.until_ms[RL_ALL], NOW + 86400000LL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ratelimit_sentry_doc_example),
      cmocka_unit_test(test_ratelimit_empty_categories_mean_all),
      cmocka_unit_test(test_ratelimit_unknown_categories_ignored),
      cmocka_unit_test(test_ratelimit_longest_wins_and_spaces),
      cmocka_unit_test(test_ratelimit_fractional_and_huge),
      cmocka_unit_test(test_ratelimit_malformed_reports_offset),
      cmocka_unit_test(test_ratelimit_retry_after),
      cmocka_unit_test(test_ratelimit_update_rules),
      cmocka_unit_test(test_ratelimit_save_load_roundtrip),
      cmocka_unit_test(test_ratelimit_long_header),
      cmocka_unit_test(test_ratelimit_garbage_limits_nothing),
      cmocka_unit_test(test_ratelimit_capped_at_one_day),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
