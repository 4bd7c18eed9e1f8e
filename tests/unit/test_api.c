/*
 * test_api.c — the parts of the public header that hold whatever the
 * build: cw_last_error() is per thread, and cw_version() is the version
 * the header's macros say. Built twice (tests/handler.cmake): against
 * libcrashwatch.a (test_api_static) and libcrashwatch.so (test_api_shared),
 * whose thread-local storage takes different TLS models.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "crashwatch.h"

static pthread_barrier_t both_failed, both_read;

typedef struct {
  int which; /* 0: a bad ack timeout, 1: a bad DSN */
  int rc;
  char seen[512]; /* cw_last_error() once both threads have failed */
} worker_t;

static void *worker(void *p) {
  worker_t *w = p;
  cw_options_t *o = cw_options_new();
  if (o == NULL)
    return NULL;
  if (w->which == 0)
    w->rc = cw_options_set_ack_timeout_ms(o, 0);
  else
    w->rc = cw_options_set_dsn(o, "not a dsn");
  /* Both have failed before either reads: with one process-wide buffer,
   * the second failure would overwrite the first thread's message. */
  pthread_barrier_wait(&both_failed);
  snprintf(w->seen, sizeof(w->seen), "%s", cw_last_error());
  /* Neither thread ends (and frees its storage) before both have read. */
  pthread_barrier_wait(&both_read);
  cw_options_free(o);
  return NULL;
}

static void test_last_error_per_thread(void **state) {
  (void)state;
  /* The main thread's own failure, before and after the workers'. */
  cw_options_t *o = cw_options_new();
  assert_non_null(o);
  assert_int_equal(cw_options_set_spool_dir(o, ""), CW_EINVAL);
  char mine[512];
  snprintf(mine, sizeof(mine), "%s", cw_last_error());
  assert_true(mine[0] != '\0');

  assert_int_equal(pthread_barrier_init(&both_failed, NULL, 2), 0);
  assert_int_equal(pthread_barrier_init(&both_read, NULL, 2), 0);
  worker_t w[2] = {{.which = 0}, {.which = 1}};
  pthread_t t[2];
  for (int i = 0; i < 2; i++)
    assert_int_equal(pthread_create(&t[i], NULL, worker, &w[i]), 0);
  for (int i = 0; i < 2; i++)
    assert_int_equal(pthread_join(t[i], NULL), 0);
  pthread_barrier_destroy(&both_failed);
  pthread_barrier_destroy(&both_read);

  assert_int_equal(w[0].rc, CW_EINVAL);
  assert_non_null(strstr(w[0].seen, "1..600000"));
  assert_null(strstr(w[0].seen, "cw_options_set_dsn"));
  assert_int_equal(w[1].rc, CW_EDSN);
  assert_non_null(strstr(w[1].seen, "cw_options_set_dsn"));
  assert_null(strstr(w[1].seen, "1..600000"));
  /* The workers' failures left the main thread's message as it was. */
  assert_string_equal(cw_last_error(), mine);
  cw_options_free(o);
}

static void *fresh_thread(void *p) {
  snprintf(p, 512, "%s", cw_last_error());
  return NULL;
}

static void test_last_error_empty_in_new_thread(void **state) {
  (void)state;
  cw_options_t *o = cw_options_new();
  assert_non_null(o);
  assert_int_equal(cw_options_set_ack_timeout_ms(o, 0), CW_EINVAL);
  cw_options_free(o);
  char seen[512] = "unset";
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, fresh_thread, seen), 0);
  assert_int_equal(pthread_join(t, NULL), 0);
  assert_string_equal(seen, "");
  assert_true(cw_last_error()[0] != '\0');
}

static void test_version_matches_macros(void **state) {
  (void)state;
  char want[32];
  snprintf(want, sizeof(want), "%d.%d.%d", CW_VERSION_MAJOR, CW_VERSION_MINOR,
           CW_VERSION_PATCH);
  assert_string_equal(cw_version(), want);
  assert_string_equal(CW_VERSION_STRING, want);
  assert_int_equal(CW_VERSION_HEX, (CW_VERSION_MAJOR << 16) |
                                       (CW_VERSION_MINOR << 8) |
                                       CW_VERSION_PATCH);
  /* One byte each, as curl's LIBCURL_VERSION_NUM. */
  assert_true(CW_VERSION_MINOR < 256 && CW_VERSION_PATCH < 256);
  unsigned hex = (unsigned)CW_VERSION_HEX;
  assert_int_equal(hex >> 16, CW_VERSION_MAJOR);
  assert_int_equal((hex >> 8) & 0xff, CW_VERSION_MINOR);
  assert_int_equal(hex & 0xff, CW_VERSION_PATCH);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_last_error_per_thread),
      cmocka_unit_test(test_last_error_empty_in_new_thread),
      cmocka_unit_test(test_version_matches_macros),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
