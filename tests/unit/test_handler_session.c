/* test_handler_session.c — the app side of release health
 * (handler/session.c, session_count.c): when a session starts and ends,
 * what it leaves in the spool (markers, session-only reports), the errors
 * counter, forks, and abnormal sessions of earlier runs. Real cw_init()
 * with a real watchdog and spool. Built from the handler's objects (not
 * libcrashwatch.a, whose internals are local) to reach
 * cw__session_note_error. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "crashwatch.h"
#include "cw_session.h"
#include "cw_test_support.h"

static char tmpdir[PATH_MAX];
static char spool[PATH_MAX + 16];

static int setup(void **state) {
  (void)state;
  static const char *const vars[] = {"SENTRY_RELEASE", "SENTRY_ENVIRONMENT",
                                     "SENTRY_DSN", "CRASHWATCH_UPLOAD_URL",
                                     "CRASHWATCH_AUTO_SESSION_TRACKING"};
  for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
    unsetenv(vars[i]);
  const char *root = getenv("CW_TEST_TMP");
  snprintf(tmpdir, sizeof(tmpdir), "%s/session-XXXXXX",
           root && *root ? root : "/tmp");
  assert_non_null(mkdtemp(tmpdir));
  snprintf(spool, sizeof(spool), "%s/spool", tmpdir);
  setenv("CRASHWATCH_SPOOL", spool, 1);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  cw__test_shutdown();
  char cmd[PATH_MAX + 32];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
  if (system(cmd) != 0)
    return -1;
  return 0;
}

static void init_with(const char *release, int auto_tracking) {
  cw_options_t *o = cw_options_new();
  assert_non_null(o);
  if (release != NULL)
    assert_int_equal(cw_options_set_release(o, release), 0);
  assert_int_equal(cw_options_set_environment(o, "test"), 0);
  if (auto_tracking >= 0)
    assert_int_equal(cw_options_set_auto_session_tracking(o, auto_tracking), 0);
  int rc = cw_init(o);
  if (rc != 0)
    fail_msg("cw_init: %s: %s", cw_err_name(rc), cw_last_error());
}

/* Names in dir (not . and ..), up to cap; returns how many. */
static int list(const char *dir, char names[][64], int cap) {
  DIR *d = opendir(dir);
  if (d == NULL)
    return 0;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.' || n >= cap)
      continue;
    snprintf(names[n++], 64, "%.63s", e->d_name);
  }
  closedir(d);
  return n;
}

static int markers(char names[][64], int cap) {
  char dir[PATH_MAX + 32];
  snprintf(dir, sizeof(dir), "%s/.sessions", spool);
  return list(dir, names, cap);
}

/* The session files of the spool's reports, concatenated, with their
 * count. */
static int updates(char *out, size_t cap) {
  char names[32][64];
  int n = list(spool, names, 32), k = 0;
  out[0] = '\0';
  for (int i = 0; i < n; i++) {
    char path[sizeof(spool) + 80];
    snprintf(path, sizeof(path), "%s/%.63s/session", spool, names[i]);
    FILE *f = fopen(path, "r");
    if (f == NULL)
      continue;
    size_t len = strlen(out);
    size_t r = fread(out + len, 1, cap - len - 1, f);
    out[len + r] = '\0';
    fclose(f);
    k++;
  }
  return k;
}

static void test_session_starts_at_init_with_a_release(void **state) {
  (void)state;
  init_with("app@1.0", -1);
  char m[8][64];
  assert_int_equal(markers(m, 8), 1);
  assert_int_equal(strlen(m[0]), 36); /* named by its sid */
  char text[8192];
  assert_int_equal(updates(text, sizeof(text)), 0); /* nothing sent yet */
  assert_int_equal(cw__session_tracking(), 1);
}

static void test_session_end_is_one_exited_update(void **state) {
  (void)state;
  init_with("app@1.0", -1);
  char m[8][64];
  assert_int_equal(markers(m, 8), 1);
  cw__session_note_error();
  cw__session_note_error();
  assert_int_equal(cw_end_session(), 0);
  assert_int_equal(cw__session_tracking(), 0);
  char text[8192];
  assert_int_equal(updates(text, sizeof(text)), 1);
  char want[80];
  snprintf(want, sizeof(want), "sid=%s\n", m[0]);
  assert_non_null(strstr(text, want));
  assert_non_null(strstr(text, "status=exited\n"));
  assert_non_null(strstr(text, "errors=2\n"));
  assert_non_null(strstr(text, "init=1\n"));
  assert_non_null(strstr(text, "release=app@1.0\n"));
  assert_non_null(strstr(text, "environment=test\n"));
  assert_int_equal(markers(m, 8), 0);
  /* Ending again, or counting errors with no session, changes nothing. */
  cw__session_note_error();
  assert_int_equal(cw_end_session(), 0);
  cw_shutdown();
  assert_int_equal(updates(text, sizeof(text)), 1);
}

static void test_session_start_ends_the_previous_one(void **state) {
  (void)state;
  init_with("app@1.0", -1);
  char m1[8][64], m2[8][64];
  assert_int_equal(markers(m1, 8), 1);
  cw__session_note_error();
  assert_int_equal(cw_start_session(), 0);
  assert_int_equal(markers(m2, 8), 1);
  assert_string_not_equal(m1[0], m2[0]);
  char text[8192];
  assert_int_equal(updates(text, sizeof(text)), 1);
  assert_non_null(strstr(text, m1[0]));
  assert_non_null(strstr(text, "errors=1\n"));
  /* The new session's count starts at zero; cw_shutdown ends it. */
  cw_shutdown();
  assert_int_equal(updates(text, sizeof(text)), 2);
  assert_non_null(strstr(text, m2[0]));
  assert_non_null(strstr(text, "errors=0\n"));
  assert_int_equal(markers(m2, 8), 0);
}

static void test_session_needs_a_release(void **state) {
  (void)state;
  assert_int_equal(cw_start_session(), CW_ENOTINIT); /* before cw_init */
  init_with(NULL, -1);
  char m[8][64];
  assert_int_equal(markers(m, 8), 0);
  assert_int_equal(cw_start_session(), CW_EINVAL);
  assert_non_null(strstr(cw_last_error(), "release"));
  cw_shutdown();
  char text[8192];
  assert_int_equal(updates(text, sizeof(text)), 0);
}

static void test_session_opt_out(void **state) {
  (void)state;
  init_with("app@1.0", 0);
  char m[8][64];
  assert_int_equal(markers(m, 8), 0);
  assert_int_equal(cw__session_tracking(), 0);
  /* By hand it still works. */
  assert_int_equal(cw_start_session(), 0);
  assert_int_equal(markers(m, 8), 1);
  cw_shutdown();
  /* And the variable turns automatic tracking off as well. */
  setenv("CRASHWATCH_AUTO_SESSION_TRACKING", "0", 1);
  init_with("app@1.0", -1);
  assert_int_equal(markers(m, 8), 0);
}

/* A forked child's exit is not its parent's session's end. */
static void test_session_fork_child_exit(void **state) {
  (void)state;
  init_with("app@1.0", -1);
  pid_t c = fork();
  assert_true(c >= 0);
  if (c == 0)
    exit(0); /* runs the destructors, as a normal exit does */
  int st;
  assert_int_equal(waitpid(c, &st, 0), c);
  char m[8][64];
  assert_int_equal(markers(m, 8), 1);
  char text[8192];
  assert_int_equal(updates(text, sizeof(text)), 0);
}

static void plant_marker(const char *sid, long pid, unsigned long long start) {
  char dir[PATH_MAX + 32], path[PATH_MAX + 80];
  snprintf(dir, sizeof(dir), "%s/.sessions", spool);
  mkdir(spool, 0700);
  mkdir(dir, 0700);
  snprintf(path, sizeof(path), "%s/%s", dir, sid);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fprintf(f,
          "sid=%s\nstarted=1700000000000\npid=%ld\npid_start=%llu\n"
          "release=old@0.9\nenvironment=test\n",
          sid, pid, start);
  fclose(f);
}

static unsigned long long start_of(pid_t pid) {
  char path[64], buf[1024];
  snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  size_t n = fread(buf, 1, sizeof(buf) - 1, f);
  fclose(f);
  buf[n] = '\0';
  char *p = strrchr(buf, ')');
  assert_non_null(p);
  int field = 2;
  for (p++; *p && field < 22; p++)
    if (*p == ' ')
      field++;
  return strtoull(p, NULL, 10);
}

/* A session whose process is gone is abnormal at the next start; one whose
 * process still runs (another instance on the same spool) is left alone,
 * and so is a reused pid's marker only if its start time matches. */
static void test_session_abnormal_at_next_start(void **state) {
  (void)state;
  pid_t dead = fork();
  assert_true(dead >= 0);
  if (dead == 0)
    _exit(0);
  int st;
  assert_int_equal(waitpid(dead, &st, 0), dead);
  const char *gone = "11111111-2222-4333-8444-555555555555";
  const char *alive = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
  const char *reused = "99999999-8888-4777-8666-555555555555";
  plant_marker(gone, dead, 12345);
  plant_marker(alive, getppid(), start_of(getppid()));
  plant_marker(reused, getppid(), start_of(getppid()) + 1);
  init_with("app@1.0", -1);
  char text[8192];
  assert_int_equal(updates(text, sizeof(text)), 2);
  assert_non_null(strstr(text, gone));
  assert_non_null(strstr(text, reused));
  assert_null(strstr(text, alive));
  assert_non_null(strstr(text, "status=abnormal\n"));
  assert_non_null(strstr(text, "release=old@0.9\n"));
  assert_non_null(strstr(text, "duration=0\n"));
  assert_non_null(strstr(text, "started=1700000000000\n"));
  char m[8][64];
  int n = markers(m, 8);
  assert_int_equal(n, 2); /* the live one and this run's */
  int found_alive = 0;
  for (int i = 0; i < n; i++)
    found_alive |= strcmp(m[i], alive) == 0;
  assert_true(found_alive);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(
          test_session_starts_at_init_with_a_release, setup, teardown),
      cmocka_unit_test_setup_teardown(test_session_end_is_one_exited_update,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_session_start_ends_the_previous_one,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_session_needs_a_release, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_session_opt_out, setup, teardown),
      cmocka_unit_test_setup_teardown(test_session_fork_child_exit, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_session_abnormal_at_next_start,
                                      setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
