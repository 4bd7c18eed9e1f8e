/* test_events.c — the app's side of events besides crashes (issue 11):
 * a message's formatting and truncation (handler/event_format.c), the
 * sample rate and the per-minute cap (handler/event_limits.c), and the
 * top-level member walk of an application's event (common/json_members.c).
 * Sampling is checked with a fixed seed: the same draws every run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crashwatch.h"
#include "event_limits.h"
#include "event_request.h"
#include "events_internal.h"
#include "json_members.h"
#include "utf8.h"

static size_t fmt(char *out, size_t cap, const char *f, ...) {
  va_list ap;
  va_start(ap, f);
  size_t n = cw__event_format(out, cap, f, ap);
  va_end(ap);
  return n;
}

static void test_format_plain(void **state) {
  (void)state;
  char buf[CW__REQ_MESSAGE_MAX + 1];
  size_t n = fmt(buf, sizeof(buf), "disk %s is %d%% full", "/var", 97);
  assert_string_equal(buf, "disk /var is 97% full");
  assert_int_equal(n, strlen(buf));
  /* Exactly at the limit: kept whole, no marker. */
  char *exact = malloc(CW__REQ_MESSAGE_MAX + 1);
  memset(exact, 'a', CW__REQ_MESSAGE_MAX);
  exact[CW__REQ_MESSAGE_MAX] = '\0';
  n = fmt(buf, sizeof(buf), "%s", exact);
  assert_int_equal(n, CW__REQ_MESSAGE_MAX);
  assert_memory_equal(buf, exact, CW__REQ_MESSAGE_MAX);
  free(exact);
}

static void test_format_truncates_on_boundary(void **state) {
  (void)state;
  /* 3000 x U+00E9 (2 bytes each) = 6000 bytes, then 3000 x U+20AC (3
   * bytes): 15000 bytes, cut within 8192 on a character boundary. */
  size_t len = 3000 * 2 + 3000 * 3;
  char *big = malloc(len + 1), *p = big;
  for (int i = 0; i < 3000; i++)
    memcpy(p, "\xc3\xa9", 2), p += 2;
  for (int i = 0; i < 3000; i++)
    memcpy(p, "\xe2\x82\xac", 3), p += 3;
  *p = '\0';
  char buf[CW__REQ_MESSAGE_MAX + 1];
  size_t n = fmt(buf, sizeof(buf), "%s", big);
  assert_true(n <= CW__REQ_MESSAGE_MAX);
  assert_true(n >= CW__REQ_MESSAGE_MAX - 2 - CW__UTF8_TRUNC_MARK_LEN);
  assert_int_equal(strlen(buf), n);
  assert_memory_equal(buf + n - CW__UTF8_TRUNC_MARK_LEN, CW__UTF8_TRUNC_MARK,
                      CW__UTF8_TRUNC_MARK_LEN);
  assert_true(cw__utf8_valid(buf, n));
  /* The kept part is the start of the text. */
  assert_memory_equal(buf, big, n - CW__UTF8_TRUNC_MARK_LEN);
  free(big);
  /* A tiny buffer still ends with the marker. */
  char small[8];
  n = fmt(small, sizeof(small), "%s", "abcdefghijkl");
  assert_string_equal(small, "abcd" CW__UTF8_TRUNC_MARK);
  assert_int_equal(n, 7);
}

static void test_sample_rate_zero_never(void **state) {
  (void)state;
  cw__event_limits_t l;
  cw__event_limits_init(&l, 0.0, 0, 42);
  for (int i = 0; i < 10000; i++)
    assert_false(cw__event_sampled(&l));
}

static void test_sample_rate_one_always(void **state) {
  (void)state;
  cw__event_limits_t l;
  cw__event_limits_init(&l, 1.0, 0, 42);
  for (int i = 0; i < 10000; i++)
    assert_true(cw__event_sampled(&l));
}

static void test_sample_rate_quarter(void **state) {
  (void)state;
  cw__event_limits_t l;
  cw__event_limits_init(&l, 0.25, 0, 12345);
  int kept = 0;
  for (int i = 0; i < 10000; i++)
    kept += cw__event_sampled(&l);
  /* Binomial(10000, 0.25): mean 2500, sd 43.3; +-4 sd. */
  assert_in_range(kept, 2327, 2673);
  /* A fixed seed gives the same choices. */
  cw__event_limits_t a, b;
  cw__event_limits_init(&a, 0.25, 0, 777);
  cw__event_limits_init(&b, 0.25, 0, 777);
  for (int i = 0; i < 1000; i++)
    assert_int_equal(cw__event_sampled(&a), cw__event_sampled(&b));
  /* The draws are uniform enough: each tenth of [0, 1) gets its share. */
  int bins[10] = {0};
  for (int i = 0; i < 10000; i++) {
    double d = cw__event_draw(&l);
    assert_true(d >= 0.0 && d < 1.0);
    bins[(int)(d * 10)]++;
  }
  for (int i = 0; i < 10; i++)
    assert_in_range(bins[i], 880, 1120); /* mean 1000, sd 30 */
}

static void test_sample_rate_clamped(void **state) {
  (void)state;
  cw__event_limits_t l;
  cw__event_limits_init(&l, 7.0, 0, 1);
  assert_true(l.rate == 1.0);
  cw__event_limits_init(&l, -1.0, 0, 1);
  assert_true(l.rate == 0.0);
  cw__event_limits_init(&l, 0.0 / 0.0, 0, 1);
  assert_true(l.rate == 0.0);
}

#define MINUTE 60000000000ull

static void test_cap_per_minute(void **state) {
  (void)state;
  cw__event_limits_t l;
  cw__event_limits_init(&l, 1.0, CW__EVENTS_PER_MINUTE_DEFAULT, 1);
  uint64_t t = 5 * MINUTE + 1000;
  for (unsigned i = 0; i < CW__EVENTS_PER_MINUTE_DEFAULT; i++)
    assert_true(cw__event_cap_take(&l, t + i * 1000000000ull / 2));
  /* The 61st in the same minute is refused, again and again. */
  assert_false(cw__event_cap_take(&l, t + 40 * 1000000000ull));
  assert_false(cw__event_cap_take(&l, 6 * MINUTE - 1));
  /* A new minute: a new allowance. */
  assert_true(cw__event_cap_take(&l, 6 * MINUTE));
  for (unsigned i = 1; i < CW__EVENTS_PER_MINUTE_DEFAULT; i++)
    assert_true(cw__event_cap_take(&l, 6 * MINUTE + i));
  assert_false(cw__event_cap_take(&l, 6 * MINUTE + 100));
  /* A minute skipped entirely does not carry anything over. */
  assert_true(cw__event_cap_take(&l, 9 * MINUTE));
  /* 0: no cap. */
  cw__event_limits_init(&l, 1.0, 0, 1);
  for (int i = 0; i < 100000; i++)
    assert_true(cw__event_cap_take(&l, t));
  /* A cap of 1. */
  cw__event_limits_init(&l, 1.0, 1, 1);
  assert_true(cw__event_cap_take(&l, t));
  assert_false(cw__event_cap_take(&l, t));
}

static void test_dropped_counts(void **state) {
  (void)state;
  cw__event_limits_t l;
  cw__event_limits_init(&l, 1.0, 0, 1);
  cw__event_dropped(&l);
  cw__event_dropped(&l);
  cw__event_dropped(&l);
  assert_int_equal(cw__event_dropped_take(&l), 3);
  assert_int_equal(cw__event_dropped_take(&l), 0);
  cw__event_dropped(&l);
  uint64_t n = cw__event_dropped_take(&l);
  cw__event_dropped_restore(&l, n); /* the send failed */
  cw__event_dropped(&l);            /* ...and counts itself */
  assert_int_equal(cw__event_dropped_take(&l), 2);
  assert_int_equal(l.dropped_total, 5);
}

static void test_json_members(void **state) {
  (void)state;
  const char *s = " { \"a\" : 1 , \"tags\":{\"x\":\"}\"},\"l\":[1,[2]],"
                  "\"s\":\"q\\\"\",\"t\":true}  ";
  cw__json_iter_t it;
  cw__json_iter_init(&it, s, strlen(s));
  const char *k, *v;
  size_t kn, vn;
  const char *keys[] = {"a", "tags", "l", "s", "t"};
  const char *vals[] = {"1", "{\"x\":\"}\"}", "[1,[2]]", "\"q\\\"\"", "true"};
  for (int i = 0; i < 5; i++) {
    assert_int_equal(cw__json_iter_next(&it, &k, &kn, &v, &vn), 1);
    assert_true(cw__json_key_is(k, kn, keys[i]));
    assert_int_equal(vn, strlen(vals[i]));
    assert_memory_equal(v, vals[i], vn);
  }
  assert_int_equal(cw__json_iter_next(&it, &k, &kn, &v, &vn), 0);
  assert_int_equal(cw__json_member(s, strlen(s), "l", &v, &vn), 0);
  assert_int_equal(cw__json_member(s, strlen(s), "nope", &v, &vn), CW_ENOENT);
  assert_int_equal(cw__json_member("{}", 2, "a", &v, &vn), CW_ENOENT);
  const char *bad[] = {"",           "[1]",        "{\"a\"}",
                       "{\"a\":",    "{\"a\":1,}", "{\"a\":{\"b\":1}",
                       "{\"a\":\"x", "{a:1}",      "{\"a\":]"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
    assert_int_equal(cw__json_member(bad[i], strlen(bad[i]), "zz", &v, &vn),
                     CW_EFORMAT);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_format_plain),
      cmocka_unit_test(test_format_truncates_on_boundary),
      cmocka_unit_test(test_sample_rate_zero_never),
      cmocka_unit_test(test_sample_rate_one_always),
      cmocka_unit_test(test_sample_rate_quarter),
      cmocka_unit_test(test_sample_rate_clamped),
      cmocka_unit_test(test_cap_per_minute),
      cmocka_unit_test(test_dropped_counts),
      cmocka_unit_test(test_json_members),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
