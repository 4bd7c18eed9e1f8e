/* test_supervisor.c — the pure parts of `crashwatch run` (supervisor/):
 * the restart policy and its backoff, the event reader behind crash-loop
 * signatures and hook summaries, the event editor, the mode choice, the
 * program lookup (the metrics file's writer, common/prom.c, has its own
 * test_prom). */
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
#include "supervisor.h"

static void test_restart_no_never_restarts(void **state) {
  (void)state;
  cw__sup_restart_t r;
  cw__sup_restart_init(&r);
  const char *why;
  assert_int_equal(cw__sup_restart_next(&r, 139, 0, 0, 10, &why), -1);
  assert_non_null(why);
}

static void test_restart_on_failure_only_after_failure(void **state) {
  (void)state;
  cw__sup_restart_t r;
  cw__sup_restart_init(&r);
  r.policy = CW__SUP_RESTART_ON_FAILURE;
  const char *why;
  assert_int_equal(cw__sup_restart_next(&r, 0, 0, 0, 10, &why), -1);
  assert_true(cw__sup_restart_next(&r, 1, 0, 0, 10, &why) >= 0);
  assert_true(cw__sup_restart_next(&r, 139, 0, 0, 10, &why) >= 0);
  /* Never after the supervisor was told to stop. */
  assert_int_equal(cw__sup_restart_next(&r, 143, 1, 0, 10, &why), -1);
}

static void test_restart_backoff_doubles_to_cap_and_resets(void **state) {
  (void)state;
  cw__sup_restart_t r;
  cw__sup_restart_init(&r);
  r.policy = CW__SUP_RESTART_ALWAYS;
  r.delay_ms = 100;
  r.delay_max_ms = 1000;
  const char *why;
  long want[] = {100, 200, 400, 800, 1000, 1000};
  int64_t t = 0;
  for (size_t i = 0; i < 6; i++) {
    long d = cw__sup_restart_next(&r, 0, 0, t, 50, &why);
    assert_int_equal(d, want[i]);
    t += d + 50;
  }
  /* A run of 10 s or more (the cap is shorter) starts over. */
  assert_int_equal(cw__sup_restart_next(&r, 0, 0, t, 10000, &why), 100);
  assert_int_equal(r.restarts, 7);
}

static void test_restart_max_restarts_within_window(void **state) {
  (void)state;
  cw__sup_restart_t r;
  cw__sup_restart_init(&r);
  r.policy = CW__SUP_RESTART_ON_FAILURE;
  r.delay_ms = 10;
  r.delay_max_ms = 10;
  r.max_restarts = 3;
  r.window_ms = 1000;
  const char *why;
  assert_int_equal(cw__sup_restart_next(&r, 1, 0, 0, 1, &why), 10);
  assert_int_equal(cw__sup_restart_next(&r, 1, 0, 20, 1, &why), 10);
  assert_int_equal(cw__sup_restart_next(&r, 1, 0, 40, 1, &why), 10);
  assert_int_equal(cw__sup_restart_next(&r, 1, 0, 60, 1, &why), -1);
  assert_non_null(strstr(why, "max-restarts"));
  /* Once the first restarts have left the window, it may go on. */
  assert_int_equal(cw__sup_restart_next(&r, 1, 0, 1015, 1, &why), 10);
}

static void test_restart_parse_policy(void **state) {
  (void)state;
  int p = -1;
  assert_int_equal(cw__sup_restart_parse_policy("always", &p), 0);
  assert_int_equal(p, CW__SUP_RESTART_ALWAYS);
  assert_int_equal(cw__sup_restart_parse_policy("on-failure", &p), 0);
  assert_int_equal(p, CW__SUP_RESTART_ON_FAILURE);
  assert_int_equal(cw__sup_restart_parse_policy("no", &p), 0);
  assert_int_equal(p, CW__SUP_RESTART_NO);
  assert_int_equal(cw__sup_restart_parse_policy("unless-stopped", &p), -1);
}

static const char EVENT[] =
    "{\"event_id\":\"x\",\"exception\":{\"values\":[{\"type\":\"SIGSEGV\","
    "\"mechanism\":{\"meta\":{\"signal\":{\"number\":11,\"name\":"
    "\"SIGSEGV\"}}},\"stacktrace\":{\"frames\":["
    "{\"function\":\"_start\",\"in_app\":true},"
    "{\"function\":\"main\",\"in_app\":true},"
    "{\"function\":\"handle\",\"in_app\":true},"
    "{\"function\":\"parse\",\"in_app\":true},"
    "{\"function\":\"memcpy\",\"in_app\":false}]}}]},"
    "\"extra\":{\"a\":1},\"tags\":{}}";

static void test_event_sig_reads_signal_and_in_app_frames(void **state) {
  (void)state;
  cw__sup_event_sig_t s;
  assert_int_equal(cw__sup_event_sig(EVENT, strlen(EVENT), &s), 0);
  assert_int_equal(s.signo, 11);
  assert_int_equal(s.nframes, 3);
  assert_string_equal(s.frames[0], "parse"); /* innermost in-app first */
  assert_string_equal(s.frames[1], "handle");
  assert_string_equal(s.frames[2], "main");
  assert_string_equal(s.top, "memcpy");
  char key[256];
  cw__sup_event_sig_key(&s, key, sizeof(key));
  assert_string_equal(key, "11|parse|handle|main");
}

static void test_event_sig_rejects_malformed(void **state) {
  (void)state;
  const char *bad[] = {"",
                       "{",
                       "[]",
                       "{\"a\":}",
                       "{\"a\":1} x",
                       "{\"exception\":1}",
                       "{\"a\":\"\\q\"}"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    cw__sup_event_sig_t s;
    assert_int_equal(cw__sup_event_sig(bad[i], strlen(bad[i]), &s), CW_EFORMAT);
    assert_int_equal(s.nframes, 0);
  }
  /* Nesting deeper than the reader's limit is refused, not recursed. */
  char deep[400];
  memset(deep, '[', sizeof(deep));
  cw__sup_event_sig_t s;
  assert_int_equal(cw__sup_event_sig(deep, sizeof(deep), &s), CW_EFORMAT);
}

static void test_event_set_adds_and_replaces(void **state) {
  (void)state;
  cw__buf_t a = CW_BUF_INIT, b = CW_BUF_INIT, c = CW_BUF_INIT;
  assert_int_equal(
      cw__sup_event_set(EVENT, strlen(EVENT), "extra", "n", "2", &a), 0);
  assert_int_equal(
      cw__sup_event_set((const char *)a.data, a.len, "extra", "n", "3", &b), 0);
  assert_int_equal(cw__sup_event_set((const char *)b.data, b.len, "contexts",
                                     "trace", "{\"trace_id\":\"t\"}", &c),
                   0);
  const char *s = cw__buf_cstr(&c);
  assert_non_null(strstr(s, "\"extra\":{\"n\":3,\"a\":1}"));
  assert_null(strstr(s, "\"n\":2"));
  assert_non_null(strstr(s, "{\"contexts\":{\"trace\":{\"trace_id\":\"t\"}},"));
  /* Still an event the reader takes. */
  cw__sup_event_sig_t sig;
  assert_int_equal(cw__sup_event_sig(s, strlen(s), &sig), 0);
  assert_int_equal(sig.nframes, 3);
  cw__buf_t d = CW_BUF_INIT;
  assert_int_equal(
      cw__sup_event_set("{\"extra\":[]}", 12, "extra", "n", "1", &d),
      CW_EFORMAT);
  assert_int_equal(cw__sup_event_set("{}", 2, "tags", "k", "\"v\"", &d), 0);
  assert_string_equal(cw__buf_cstr(&d), "{\"tags\":{\"k\":\"v\"}}");
  cw__buf_free(&a);
  cw__buf_free(&b);
  cw__buf_free(&c);
  cw__buf_free(&d);
}

static void test_resolve_gives_shell_statuses(void **state) {
  (void)state;
  char out[256], err[256];
  assert_int_equal(cw__sup_resolve("sh", out, sizeof(out), err, sizeof(err)),
                   0);
  assert_non_null(strstr(out, "/sh"));
  assert_int_equal(cw__sup_resolve("crashwatch-no-such-prog", out, sizeof(out),
                                   err, sizeof(err)),
                   127);
  assert_non_null(strstr(err, "not found"));
  assert_int_equal(
      cw__sup_resolve("/etc/passwd", out, sizeof(out), err, sizeof(err)), 126);
  assert_int_equal(cw__sup_resolve("/", out, sizeof(out), err, sizeof(err)),
                   126);
  assert_int_equal(cw__sup_resolve("", out, sizeof(out), err, sizeof(err)),
                   127);
}

static void test_mode_auto_picks_preload_for_dynamic(void **state) {
  (void)state;
  char why[512];
  /* /bin/sh is dynamically linked on every distribution we build on. */
  assert_int_equal(cw__sup_pick_mode("/bin/sh", why, sizeof(why)),
                   CW__SUP_PRELOAD);
  assert_non_null(strstr(why, "dynamically linked"));
  /* Not ELF (a text file): preload, said so. */
  assert_int_equal(cw__sup_pick_mode("/etc/hostname", why, sizeof(why)),
                   CW__SUP_PRELOAD);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_restart_no_never_restarts),
      cmocka_unit_test(test_restart_on_failure_only_after_failure),
      cmocka_unit_test(test_restart_backoff_doubles_to_cap_and_resets),
      cmocka_unit_test(test_restart_max_restarts_within_window),
      cmocka_unit_test(test_restart_parse_policy),
      cmocka_unit_test(test_event_sig_reads_signal_and_in_app_frames),
      cmocka_unit_test(test_event_sig_rejects_malformed),
      cmocka_unit_test(test_event_set_adds_and_replaces),
      cmocka_unit_test(test_resolve_gives_shell_statuses),
      cmocka_unit_test(test_mode_auto_picks_preload_for_dynamic),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
