/* test_spool.c — the spool's writer side: a report is invisible to readers
 * until it is committed whole, an interrupted write leaves nothing a reader
 * lists, permissions are 0700/0600, and listing is oldest first. */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "crashwatch.h"
#include "spool.h"

static char dir[PATH_MAX];

static int setup(void **state) {
  (void)state;
  const char *root = getenv("CW_TEST_TMP");
  char base[PATH_MAX - 64];
  snprintf(base, sizeof(base), "%s/spool-XXXXXX",
           root && *root ? root : "/tmp");
  if (mkdtemp(base) == NULL)
    return -1;
  /* A spool path with missing parents: spool_ensure_dir creates them. */
  snprintf(dir, sizeof(dir), "%s/a/b/reports", base);
  return 0;
}

static size_t count_listed(void) {
  char **ids;
  size_t n;
  assert_int_equal(spool_list(dir, &ids, &n), 0);
  spool_list_free(ids, n);
  return n;
}

static void test_spool_ensure_dir_creates_private_dirs(void **state) {
  (void)state;
  char err[256];
  assert_int_equal(spool_ensure_dir(dir, err, sizeof(err)), 0);
  struct stat st;
  assert_int_equal(stat(dir, &st), 0);
  assert_true(S_ISDIR(st.st_mode));
  assert_int_equal(st.st_mode & 0777, 0700);
  /* A regular file where the spool should be: refused, with the path. */
  char file[PATH_MAX + 8];
  snprintf(file, sizeof(file), "%s/file", dir);
  FILE *f = fopen(file, "w");
  assert_non_null(f);
  fclose(f);
  assert_int_equal(spool_ensure_dir(file, err, sizeof(err)) < 0, 1);
  assert_non_null(strstr(err, file));
  unlink(file);
}

static void test_spool_half_written_report_is_never_listed(void **state) {
  (void)state;
  const char *id = "0123456789abcdef0123456789abcdef";
  spool_report_t *r;
  assert_int_equal(spool_report_begin(dir, id, &r), 0);
  assert_int_equal(spool_report_write_file(r, "event.json", "{}", 2), 0);
  /* Written but not committed: readers see nothing. */
  assert_int_equal(count_listed(), 0);
  assert_int_equal(spool_report_write_file(r, "minidump.dmp", "MDMP", 4), 0);
  assert_int_equal(count_listed(), 0);
  char final_path[PATH_MAX];
  assert_int_equal(spool_report_commit(r, final_path, sizeof(final_path)), 0);
  assert_int_equal(count_listed(), 1);
  struct stat st;
  assert_int_equal(stat(final_path, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0700);
  char file[PATH_MAX + 16];
  snprintf(file, sizeof(file), "%s/minidump.dmp", final_path);
  assert_int_equal(stat(file, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  assert_int_equal(st.st_size, 4);
  /* The same id cannot be written twice over a committed report. */
  spool_report_t *again;
  assert_int_equal(spool_report_begin(dir, id, &again), 0);
  assert_true(spool_report_commit(again, NULL, 0) < 0);
  assert_int_equal(count_listed(), 1);
}

static void
test_spool_writer_killed_mid_report_leaves_nothing_listed(void **state) {
  (void)state;
  size_t before = count_listed();
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    spool_report_t *r;
    if (spool_report_begin(dir, "fedcba9876543210fedcba9876543210", &r) != 0)
      _exit(1);
    spool_report_write_file(r, "event.json", "{\"half\":", 8);
    _exit(0); /* dies without commit or abort, like a killed watchdog */
  }
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  assert_int_equal(count_listed(), before);
  /* What is left is only the .tmp- directory, which readers skip. */
  char tmp[PATH_MAX + 64];
  snprintf(tmp, sizeof(tmp),
           "%s/" SPOOL_TMP_PREFIX "fedcba9876543210fedcba9876543210", dir);
  struct stat st;
  assert_int_equal(stat(tmp, &st), 0);
}

static void test_spool_abort_removes_everything(void **state) {
  (void)state;
  const char *id = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
  spool_report_t *r;
  assert_int_equal(spool_report_begin(dir, id, &r), 0);
  char tmp[PATH_MAX];
  snprintf(tmp, sizeof(tmp), "%s", spool_report_tmp_path(r));
  assert_int_equal(spool_report_write_file(r, "event.json", "{}", 2), 0);
  spool_report_abort(r);
  struct stat st;
  assert_int_equal(stat(tmp, &st), -1);
}

static void test_spool_rejects_bad_names(void **state) {
  (void)state;
  spool_report_t *r;
  assert_int_equal(spool_report_begin(dir, "../escape", &r), CW_EINVAL);
  assert_int_equal(spool_report_begin(dir, "ABCDEF", &r), CW_EINVAL);
  assert_int_equal(
      spool_report_begin(dir, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", &r), 0);
  assert_int_equal(spool_report_write_file(r, "../x", "", 0), CW_EINVAL);
  assert_int_equal(spool_report_write_file(r, ".hidden", "", 0), CW_EINVAL);
  spool_report_abort(r);
  assert_true(spool_is_report_name("0123456789abcdef0123456789abcdef"));
  assert_false(spool_is_report_name("0123456789abcdef0123456789abcde"));
  assert_false(spool_is_report_name(".tmp-0123456789abcdef0123456789abcdef"));
}

static void test_spool_lists_oldest_first(void **state) {
  (void)state;
  const char *ids[] = {"cccccccccccccccccccccccccccccccc",
                       "dddddddddddddddddddddddddddddddd"};
  for (int i = 0; i < 2; i++) {
    spool_report_t *r;
    assert_int_equal(spool_report_begin(dir, ids[i], &r), 0);
    assert_int_equal(spool_report_write_file(r, "event.json", "{}", 2), 0);
    char path[PATH_MAX];
    assert_int_equal(spool_report_commit(r, path, sizeof(path)), 0);
    /* d... is made older than c... by its mtime, not by its name. */
    struct timespec t[2] = {{1000000000 - i * 1000, 0},
                            {1000000000 - i * 1000, 0}};
    assert_int_equal(utimensat(AT_FDCWD, path, t, 0), 0);
  }
  char **list;
  size_t n;
  assert_int_equal(spool_list(dir, &list, &n), 0);
  assert_true(n >= 2);
  assert_string_equal(list[0], ids[1]);
  assert_string_equal(list[1], ids[0]);
  spool_list_free(list, n);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_spool_ensure_dir_creates_private_dirs),
      cmocka_unit_test(test_spool_half_written_report_is_never_listed),
      cmocka_unit_test(
          test_spool_writer_killed_mid_report_leaves_nothing_listed),
      cmocka_unit_test(test_spool_abort_removes_everything),
      cmocka_unit_test(test_spool_rejects_bad_names),
      cmocka_unit_test(test_spool_lists_oldest_first),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
