/* test_spool.c — the spool's writer side: a report is invisible to readers
 * until it is committed whole, an interrupted write leaves nothing a reader
 * lists, permissions are 0700/0600 whatever the umask, and listing is oldest
 * first. Trust: an unsafe spool is refused, nothing in it is followed
 * through a symbolic link, temporary files are exclusive. Limits: pruning
 * is oldest first, never the kept or a locked report. (Real-user scenarios
 * are in tests/integration/spool_security_test.py.) */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "crashwatch.h"
#include "spool.h"
#include "workers.h"

static char dir[PATH_MAX];

static int setup(void **state) {
  (void)state;
  const char *root = getenv("CW_TEST_TMP");
  char base[PATH_MAX - 64];
  snprintf(base, sizeof(base), "%s/spool-XXXXXX",
           root && *root ? root : "/tmp");
  if (mkdtemp(base) == NULL)
    return -1;
  /* A spool path with missing parents: cw__spool_ensure_dir creates them. */
  snprintf(dir, sizeof(dir), "%s/a/b/reports", base);
  return 0;
}

static size_t count_listed(void) {
  char **ids;
  size_t n;
  assert_int_equal(cw__spool_list(dir, &ids, &n), 0);
  cw__spool_list_free(ids, n);
  return n;
}

static void test_spool_ensure_dir_creates_private_dirs(void **state) {
  (void)state;
  char err[256];
  assert_int_equal(cw__spool_ensure_dir(dir, err, sizeof(err)), 0);
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
  assert_int_equal(cw__spool_ensure_dir(file, err, sizeof(err)) < 0, 1);
  assert_non_null(strstr(err, file));
  unlink(file);
}

static int count_open_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  assert_non_null(d);
  int n = 0;
  while (readdir(d) != NULL)
    n++;
  closedir(d);
  return n;
}

/* The commit syncs the files written into a report together and closes
 * them; 20 files is more than it takes at once (16), so the last four are
 * synced as they are handed over. Every file is there, whole; no fd is
 * left open, by a commit or by an abort. */
static void test_spool_commit_syncs_and_closes_every_file(void **state) {
  (void)state;
  int fds_before = count_open_fds();
  size_t listed_before = count_listed();
  for (int pass = 0; pass < 2; pass++) {
    const char *id = pass ? "1123456789abcdef0123456789abcdef"
                          : "2123456789abcdef0123456789abcdef";
    spool_report_t *r;
    assert_int_equal(cw__spool_report_begin(dir, id, &r), 0);
    for (int i = 0; i < 20; i++) {
      char name[32], body[64];
      snprintf(name, sizeof(name), "f%02d.txt", i);
      int len = snprintf(body, sizeof(body), "file %d of the report", i);
      if (i % 2 == 0) {
        assert_int_equal(
            cw__spool_report_write_file(r, name, body, (size_t)len), 0);
      } else {
        int fd;
        assert_int_equal(cw__spool_report_open_file(r, name, &fd), 0);
        assert_int_equal(write(fd, body, (size_t)len), len);
        assert_int_equal(cw__spool_report_close_file(r, fd), 0);
      }
    }
    if (pass == 1) {
      cw__spool_report_abort(r);
      assert_int_equal(count_open_fds(), fds_before);
      continue;
    }
    char final_path[PATH_MAX];
    assert_int_equal(cw__spool_report_commit(r, final_path, sizeof(final_path)),
                     0);
    assert_int_equal(count_open_fds(), fds_before);
    for (int i = 0; i < 20; i++) {
      char file[PATH_MAX + 16], want[64], got[64] = "";
      snprintf(file, sizeof(file), "%s/f%02d.txt", final_path, i);
      snprintf(want, sizeof(want), "file %d of the report", i);
      FILE *f = fopen(file, "r");
      assert_non_null(f);
      assert_non_null(fgets(got, sizeof(got), f));
      fclose(f);
      assert_string_equal(got, want);
    }
  }
  assert_int_equal(count_listed(), listed_before + 1);
}

/* Commits one report of nfiles small files named by id; checks each file
 * reads back from the committed directory. */
static void commit_checked(const char *id, int nfiles) {
  spool_report_t *r;
  assert_int_equal(cw__spool_report_begin(dir, id, &r), 0);
  for (int i = 0; i < nfiles; i++) {
    char name[32], body[64];
    snprintf(name, sizeof(name), "f%02d.txt", i);
    int len = snprintf(body, sizeof(body), "%s file %d", id, i);
    assert_int_equal(cw__spool_report_write_file(r, name, body, (size_t)len),
                     0);
  }
  char final_path[PATH_MAX];
  assert_int_equal(cw__spool_report_commit(r, final_path, sizeof(final_path)),
                   0);
  for (int i = 0; i < nfiles; i++) {
    char file[PATH_MAX + 16], want[64], got[64] = "";
    snprintf(file, sizeof(file), "%s/f%02d.txt", final_path, i);
    snprintf(want, sizeof(want), "%s file %d", id, i);
    FILE *f = fopen(file, "r");
    assert_non_null(f);
    assert_non_null(fgets(got, sizeof(got), f));
    fclose(f);
    assert_string_equal(got, want);
  }
}

static int count_tasks(void) {
  DIR *d = opendir("/proc/self/task");
  assert_non_null(d);
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    n += e->d_name[0] != '.';
  closedir(d);
  return n;
}

/* The sync workers (what the watchdog starts when it warms up): commits
 * with more files than workers, and more than a commit syncs at once, come
 * out whole; starting again adds none; a forked child, which has no
 * workers, still commits (the commit takes the jobs itself) and does not
 * hang on the parent's. */
static void test_spool_sync_workers(void **state) {
  (void)state;
  int tasks = count_tasks();
  int fds_before = count_open_fds();
  size_t listed_before = count_listed();
  assert_int_equal(cw__workers_start(3), 3);
  assert_int_equal(count_tasks(), tasks + 3);
  assert_int_equal(cw__workers_start(3), 3);
  assert_int_equal(count_tasks(), tasks + 3);
  commit_checked("3123456789abcdef0123456789abcdef", 2);
  commit_checked("4123456789abcdef0123456789abcdef", 20);
  commit_checked("5123456789abcdef0123456789abcdef", 0);
  assert_int_equal(count_open_fds(), fds_before);
  pid_t c = fork();
  assert_true(c >= 0);
  if (c == 0) {
    alarm(20); /* a hang is a failure, not a stuck suite */
    if (count_tasks() != 1)
      _exit(2);
    /* No cmocka asserts here: the parent checks what the child wrote. */
    spool_report_t *r;
    if (cw__spool_report_begin(dir, "6123456789abcdef0123456789abcdef", &r))
      _exit(3);
    for (int i = 0; i < 5; i++) {
      char name[32];
      snprintf(name, sizeof(name), "f%02d.txt", i);
      if (cw__spool_report_write_file(r, name, "child", 5) != 0)
        _exit(4);
    }
    _exit(cw__spool_report_commit(r, NULL, 0) == 0 ? 0 : 5);
  }
  int st;
  assert_int_equal(waitpid(c, &st, 0), c);
  assert_true(WIFEXITED(st));
  assert_int_equal(WEXITSTATUS(st), 0);
  for (int i = 0; i < 5; i++) {
    char file[PATH_MAX + 64];
    snprintf(file, sizeof(file),
             "%s/6123456789abcdef0123456789abcdef/f%02d.txt", dir, i);
    struct stat fst;
    assert_int_equal(stat(file, &fst), 0);
    assert_int_equal(fst.st_size, 5);
  }
  commit_checked("7123456789abcdef0123456789abcdef", 4);
  assert_int_equal(count_listed(), listed_before + 5);
}

typedef struct {
  int id;
  int failed;
} committer_t;

static void *committer_main(void *arg) {
  committer_t *c = arg;
  for (int k = 0; k < 8 && !c->failed; k++) {
    char id[33];
    snprintf(id, sizeof(id), "%x%x23456789abcdef0123456789abcdef", 8 + c->id,
             k);
    spool_report_t *r;
    if (cw__spool_report_begin(dir, id, &r) != 0) {
      c->failed = 1;
      break;
    }
    for (int i = 0; i < 4; i++) {
      char name[32];
      snprintf(name, sizeof(name), "f%02d.txt", i);
      if (cw__spool_report_write_file(r, name, id, 32) != 0)
        c->failed = 2;
    }
    if (cw__spool_report_commit(r, NULL, 0) != 0)
      c->failed = 3;
  }
  return NULL;
}

/* Two threads committing at once with the workers started: the workers
 * serve one commit, the other starts threads of its own; every report
 * comes out whole. */
static void test_spool_sync_workers_two_committers(void **state) {
  (void)state;
  assert_true(cw__workers_start(3) >= 1);
  size_t listed_before = count_listed();
  committer_t c[2] = {{0, 0}, {1, 0}};
  pthread_t t[2];
  for (int i = 0; i < 2; i++)
    assert_int_equal(pthread_create(&t[i], NULL, committer_main, &c[i]), 0);
  for (int i = 0; i < 2; i++) {
    pthread_join(t[i], NULL);
    assert_int_equal(c[i].failed, 0);
  }
  assert_int_equal(count_listed(), listed_before + 16);
  for (int i = 0; i < 2; i++)
    for (int k = 0; k < 8; k++) {
      char file[PATH_MAX + 64];
      snprintf(file, sizeof(file),
               "%s/%x%x23456789abcdef0123456789abcdef/f03.txt", dir, 8 + i, k);
      struct stat fst;
      assert_int_equal(stat(file, &fst), 0);
      assert_int_equal(fst.st_size, 32);
    }
}

static void test_spool_half_written_report_is_never_listed(void **state) {
  (void)state;
  const char *id = "0123456789abcdef0123456789abcdef";
  spool_report_t *r;
  assert_int_equal(cw__spool_report_begin(dir, id, &r), 0);
  assert_int_equal(cw__spool_report_write_file(r, "event.json", "{}", 2), 0);
  /* Written but not committed: readers see nothing. */
  assert_int_equal(count_listed(), 0);
  assert_int_equal(cw__spool_report_write_file(r, "minidump.dmp", "MDMP", 4),
                   0);
  assert_int_equal(count_listed(), 0);
  char final_path[PATH_MAX];
  assert_int_equal(cw__spool_report_commit(r, final_path, sizeof(final_path)),
                   0);
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
  assert_int_equal(cw__spool_report_begin(dir, id, &again), 0);
  assert_true(cw__spool_report_commit(again, NULL, 0) < 0);
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
    if (cw__spool_report_begin(dir, "fedcba9876543210fedcba9876543210", &r) !=
        0)
      _exit(1);
    cw__spool_report_write_file(r, "event.json", "{\"half\":", 8);
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
  assert_int_equal(cw__spool_report_begin(dir, id, &r), 0);
  char tmp[PATH_MAX];
  snprintf(tmp, sizeof(tmp), "%s", cw__spool_report_tmp_path(r));
  assert_int_equal(cw__spool_report_write_file(r, "event.json", "{}", 2), 0);
  cw__spool_report_abort(r);
  struct stat st;
  assert_int_equal(stat(tmp, &st), -1);
}

static void test_spool_rejects_bad_names(void **state) {
  (void)state;
  spool_report_t *r;
  assert_int_equal(cw__spool_report_begin(dir, "../escape", &r), CW_EINVAL);
  assert_int_equal(cw__spool_report_begin(dir, "ABCDEF", &r), CW_EINVAL);
  assert_int_equal(
      cw__spool_report_begin(dir, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", &r), 0);
  assert_int_equal(cw__spool_report_write_file(r, "../x", "", 0), CW_EINVAL);
  assert_int_equal(cw__spool_report_write_file(r, ".hidden", "", 0), CW_EINVAL);
  cw__spool_report_abort(r);
  assert_true(cw__spool_is_report_name("0123456789abcdef0123456789abcdef"));
  assert_false(cw__spool_is_report_name("0123456789abcdef0123456789abcde"));
  assert_false(
      cw__spool_is_report_name(".tmp-0123456789abcdef0123456789abcdef"));
}

static void test_spool_lists_oldest_first(void **state) {
  (void)state;
  const char *ids[] = {"cccccccccccccccccccccccccccccccc",
                       "dddddddddddddddddddddddddddddddd"};
  for (int i = 0; i < 2; i++) {
    spool_report_t *r;
    assert_int_equal(cw__spool_report_begin(dir, ids[i], &r), 0);
    assert_int_equal(cw__spool_report_write_file(r, "event.json", "{}", 2), 0);
    char path[PATH_MAX];
    assert_int_equal(cw__spool_report_commit(r, path, sizeof(path)), 0);
    /* d... is made older than c... by its mtime, not by its name. */
    struct timespec t[2] = {{1000000000 - i * 1000, 0},
                            {1000000000 - i * 1000, 0}};
    assert_int_equal(utimensat(AT_FDCWD, path, t, 0), 0);
  }
  char **list;
  size_t n;
  assert_int_equal(cw__spool_list(dir, &list, &n), 0);
  assert_true(n >= 2);
  assert_string_equal(list[0], ids[1]);
  assert_string_equal(list[1], ids[0]);
  cw__spool_list_free(list, n);
}

/* A fresh spool under the test directory (mkdtemp, 0700). */
static void fresh_spool(char *out, size_t cap) {
  const char *root = getenv("CW_TEST_TMP");
  snprintf(out, cap, "%s/spool-XXXXXX", root && *root ? root : "/tmp");
  assert_non_null(mkdtemp(out));
}

static void write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

static void assert_file_text(const char *path, const char *text) {
  char buf[256] = "";
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  size_t n = fread(buf, 1, sizeof(buf) - 1, f);
  buf[n] = '\0';
  fclose(f);
  assert_string_equal(buf, text);
}

static void commit_report(const char *spool, const char *id, size_t bytes,
                          time_t mtime) {
  spool_report_t *r;
  assert_int_equal(cw__spool_report_begin(spool, id, &r), 0);
  assert_int_equal(cw__spool_report_write_file(r, "event.json", "{}", 2), 0);
  char *big = calloc(1, bytes + 1);
  assert_non_null(big);
  assert_int_equal(cw__spool_report_write_file(r, "minidump.dmp", big, bytes),
                   0);
  free(big);
  char path[PATH_MAX];
  assert_int_equal(cw__spool_report_commit(r, path, sizeof(path)), 0);
  struct timespec t[2] = {{mtime, 0}, {mtime, 0}};
  assert_int_equal(utimensat(AT_FDCWD, path, t, 0), 0);
}

/* Issue 9.1: cw__spool_write_atomic wrote through <path>.tmp-<pid>, following
 * a symbolic link planted there. */
static void test_spool_write_atomic_never_follows_planted_links(void **state) {
  (void)state;
  char sp[PATH_MAX], victim[PATH_MAX + 16], path[PATH_MAX + 32],
      link[PATH_MAX + 64];
  fresh_spool(sp, sizeof(sp));
  snprintf(victim, sizeof(victim), "%s/victim", sp);
  write_text(victim, "precious\n");
  snprintf(path, sizeof(path), "%s/state.retry", sp);
  /* Every name the old code could pick, and the new one's prefix. */
  snprintf(link, sizeof(link), "%s.tmp-%d", path, (int)getpid());
  assert_int_equal(symlink(victim, link), 0);
  snprintf(link, sizeof(link), "%s/.state.retry.tmp-", sp);
  assert_int_equal(symlink(victim, link), 0);
  assert_int_equal(cw__spool_write_atomic(path, "new\n", 4), 0);
  assert_file_text(victim, "precious\n");
  assert_file_text(path, "new\n");
  struct stat st;
  assert_int_equal(lstat(path, &st), 0);
  assert_true(S_ISREG(st.st_mode));
  assert_int_equal(st.st_mode & 0777, 0600);
  /* A symbolic link at the destination is replaced, not written through. */
  unlink(path);
  assert_int_equal(symlink(victim, path), 0);
  assert_int_equal(cw__spool_write_atomic(path, "again\n", 6), 0);
  assert_file_text(victim, "precious\n");
  assert_int_equal(lstat(path, &st), 0);
  assert_true(S_ISREG(st.st_mode));
  /* Its directory must be a real, private directory. */
  char dlink[PATH_MAX + 16], dpath[PATH_MAX + 32];
  snprintf(dlink, sizeof(dlink), "%s/.state", sp);
  assert_int_equal(symlink(sp, dlink), 0);
  snprintf(dpath, sizeof(dpath), "%s/x.retry", dlink);
  assert_int_equal(cw__spool_write_atomic(dpath, "x", 1), CW_ESPOOL);
}

/* Issue 9.2: a report "directory" that is a symbolic link to someone's
 * directory: listing, locking, sizing, removing, quarantining and pruning
 * never touch the target. */
static void log_line(void *ctx, const char *line) {
  char *buf = ctx;
  size_t n = strlen(buf);
  snprintf(buf + n, 4096 - n, "%s\n", line);
}

static void test_spool_symlinked_report_is_never_followed(void **state) {
  (void)state;
  char sp[PATH_MAX], victim[PATH_MAX + 16], vfile[PATH_MAX + 32],
      link[PATH_MAX + 64];
  fresh_spool(sp, sizeof(sp));
  snprintf(victim, sizeof(victim), "%s/precious", sp);
  assert_int_equal(mkdir(victim, 0700), 0);
  snprintf(vfile, sizeof(vfile), "%s/event.json", victim);
  write_text(vfile, "{\"mine\":1}");
  const char *id = "0123456789abcdef0123456789abcdef";
  snprintf(link, sizeof(link), "%s/%s", sp, id);
  assert_int_equal(symlink(victim, link), 0);
  char **ids;
  size_t n;
  assert_int_equal(cw__spool_list(sp, &ids, &n), 0);
  assert_int_equal(n, 0);
  cw__spool_list_free(ids, n);
  int fd;
  assert_int_equal(cw__spool_lock(sp, id, &fd), CW_ENOENT);
  assert_int_equal(cw__spool_report_bytes(sp, id), 0);
  assert_int_equal(cw__spool_remove_report(sp, id), 0);
  struct stat st;
  assert_int_equal(lstat(link, &st), -1);
  assert_file_text(vfile, "{\"mine\":1}");
  /* Quarantine moves the link itself. */
  assert_int_equal(symlink(victim, link), 0);
  assert_int_equal(cw__spool_quarantine(sp, id, "test"), 0);
  char moved[PATH_MAX + 64];
  snprintf(moved, sizeof(moved), "%s/failed/%s", sp, id);
  assert_int_equal(lstat(moved, &st), 0);
  assert_true(S_ISLNK(st.st_mode));
  assert_file_text(vfile, "{\"mine\":1}");
  /* Pruning moves a planted link aside with a log line, then prunes failed/
   * by count (0 allowed): the link goes, the target stays. */
  assert_int_equal(symlink(victim, link), 0);
  spool_limits_t lim;
  cw__spool_limits_default(&lim);
  lim.failed_max = 0;
  char log[4096] = "";
  spool_prune_stats_t ps;
  cw__spool_prune(sp, &lim, NULL, (int64_t)time(NULL) * 1000, log_line, log,
                  &ps);
  assert_non_null(strstr(log, "moved "
                              "0123456789abcdef0123456789abcdef"
                              " to failed/: not a report: a symbolic link"));
  assert_non_null(strstr(log, "pruned failed/"));
  assert_int_equal(lstat(link, &st), -1);
  assert_int_equal(lstat(moved, &st), -1);
  assert_file_text(vfile, "{\"mine\":1}");
  assert_int_equal(stat(victim, &st), 0);
}

/* Issue 8.9: limits applied oldest first; the kept report and a locked one
 * survive; a report larger than the byte limit alone goes to failed/. */
static void test_spool_prune_oldest_first_keeps_locked(void **state) {
  (void)state;
  char sp[PATH_MAX];
  fresh_spool(sp, sizeof(sp));
  char ids[6][33];
  for (int i = 0; i < 6; i++) {
    snprintf(ids[i], sizeof(ids[i]), "%032x", i + 1);
    commit_report(sp, ids[i], 1000, 1000000000 + i * 10);
  }
  /* The oldest is locked by "an uploader" (another open file description);
   * the newest is the one just written. */
  int lfd;
  assert_int_equal(cw__spool_lock(sp, ids[0], &lfd), 0);
  spool_limits_t lim = {3, 0, 0, -1};
  char log[4096] = "";
  spool_prune_stats_t ps;
  cw__spool_prune(sp, &lim, ids[5], (int64_t)time(NULL) * 1000, log_line, log,
                  &ps);
  cw__spool_unlock(lfd);
  assert_int_equal(ps.pruned, 3);
  char **left;
  size_t n;
  assert_int_equal(cw__spool_list(sp, &left, &n), 0);
  assert_int_equal(n, 3);
  assert_string_equal(left[0], ids[0]); /* locked: skipped */
  assert_string_equal(left[1], ids[4]);
  assert_string_equal(left[2], ids[5]);
  cw__spool_list_free(left, n);
  assert_non_null(strstr(log, "more than 3 reports"));
  /* Size: one report over the limit on its own goes to failed/ with the
   * reason; the others are pruned to fit, oldest first. */
  commit_report(sp, "ffffffffffffffffffffffffffffffff", 50000, 1000000100);
  spool_limits_t bytes = {0, 20000, 0, -1};
  log[0] = '\0';
  cw__spool_prune(sp, &bytes, NULL, (int64_t)time(NULL) * 1000, log_line, log,
                  &ps);
  assert_int_equal(ps.quarantined, 1);
  char reason[PATH_MAX + 64];
  snprintf(reason, sizeof(reason),
           "%s/failed/ffffffffffffffffffffffffffffffff.reason", sp);
  char text[256] = "";
  assert_true(cw__spool_read_small(reason, text, sizeof(text)) > 0);
  assert_non_null(strstr(text, "report too large: 50"));
  assert_non_null(strstr(text, "size limit of 20000 bytes"));
  /* Age: everything is decades old. */
  spool_limits_t age = {0, 0, 1000, -1};
  cw__spool_prune(sp, &age, ids[5], (int64_t)time(NULL) * 1000, NULL, NULL,
                  &ps);
  assert_int_equal(cw__spool_list(sp, &left, &n), 0);
  assert_int_equal(n, 1);
  assert_string_equal(left[0], ids[5]);
  cw__spool_list_free(left, n);
}

/* Issue 9.3: a spool made under umask 0177 is still 0700 (mkdir, then
 * fchmod); its reports 0700/0600. */
static void test_spool_private_whatever_the_umask(void **state) {
  (void)state;
  char sp[PATH_MAX], deep[PATH_MAX + 32];
  fresh_spool(sp, sizeof(sp));
  snprintf(deep, sizeof(deep), "%s/x/y/reports", sp);
  mode_t old = umask(0177);
  char err[512];
  int rc = cw__spool_ensure_dir(deep, err, sizeof(err));
  spool_report_t *r = NULL;
  int rb =
      rc == 0
          ? cw__spool_report_begin(deep, "abababababababababababababababab", &r)
          : -1;
  char final_path[PATH_MAX] = "";
  if (rb == 0) {
    cw__spool_report_write_file(r, "event.json", "{}", 2);
    rb = cw__spool_report_commit(r, final_path, sizeof(final_path));
  }
  umask(old);
  assert_int_equal(rc, 0);
  assert_int_equal(rb, 0);
  struct stat st;
  char parent[PATH_MAX + 16];
  snprintf(parent, sizeof(parent), "%s/x", sp);
  assert_int_equal(stat(parent, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0700);
  assert_int_equal(stat(deep, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0700);
  assert_int_equal(stat(final_path, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0700);
  char f[PATH_MAX + 16];
  snprintf(f, sizeof(f), "%s/event.json", final_path);
  assert_int_equal(stat(f, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  /* A .state/ someone made with a plain mkdir under umask 0177 (0600, not
   * enterable) is given back to its owner. */
  char sdir[PATH_MAX + 64];
  snprintf(sdir, sizeof(sdir), "%s/.state", deep);
  assert_int_equal(mkdir(sdir, 0700), 0);
  assert_int_equal(chmod(sdir, 0600), 0);
  int fd = cw__spool_open_subdir(deep, ".state");
  assert_true(fd >= 0);
  close(fd);
  assert_int_equal(stat(sdir, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0700);
}

/* Issue 9.3: who may write the spool. */
static void test_spool_unsafe_spool_is_refused(void **state) {
  (void)state;
  char sp[PATH_MAX], err[1024];
  fresh_spool(sp, sizeof(sp));
  assert_int_equal(cw__spool_check_dir(sp, err, sizeof(err)), 0);
  assert_int_equal(chmod(sp, 0777), 0);
  assert_int_equal(cw__spool_check_dir(sp, err, sizeof(err)), CW_ESPOOL);
  assert_non_null(strstr(err, "UNPROTECTED"));
  assert_non_null(strstr(err, "mode 0777"));
  assert_non_null(strstr(err, sp));
  spool_report_t *r;
  assert_int_equal(
      cw__spool_report_begin(sp, "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd", &r),
      CW_ESPOOL);
  assert_non_null(strstr(cw__spool_last_error(), "UNPROTECTED"));
  assert_int_equal(chmod(sp, 0755), 0); /* readable by others is fine */
  assert_int_equal(cw__spool_ensure_dir(sp, err, sizeof(err)), 0);
  /* Owned by someone else (root can hand it over). */
  if (geteuid() == 0) {
    assert_int_equal(chown(sp, 65534, 65534), 0);
    assert_int_equal(cw__spool_ensure_dir(sp, err, sizeof(err)), CW_ESPOOL);
    assert_non_null(strstr(err, "owned by uid 65534"));
    assert_int_equal(chown(sp, 0, 0), 0);
  }
  /* .state as a symbolic link, failed/ writable by others. */
  char sub[PATH_MAX + 16];
  snprintf(sub, sizeof(sub), "%s/.state", sp);
  assert_int_equal(symlink("/tmp", sub), 0);
  assert_int_equal(cw__spool_check_dir(sp, err, sizeof(err)), CW_ESPOOL);
  assert_non_null(strstr(err, ".state is a symbolic link"));
  unlink(sub);
  snprintf(sub, sizeof(sub), "%s/failed", sp);
  assert_int_equal(mkdir(sub, 0700), 0);
  assert_int_equal(chmod(sub, 0770), 0);
  assert_int_equal(cw__spool_check_dir(sp, err, sizeof(err)), CW_ESPOOL);
  assert_non_null(strstr(err, "failed is owned by uid"));
  assert_int_equal(chmod(sub, 0700), 0);
  /* A parent writable by others: refused unless sticky (like /tmp). */
  char child[PATH_MAX + 16];
  snprintf(child, sizeof(child), "%s/inner", sp);
  assert_int_equal(cw__spool_ensure_dir(child, err, sizeof(err)), 0);
  assert_int_equal(chmod(sp, 0777), 0);
  assert_int_equal(cw__spool_check_dir(child, err, sizeof(err)), CW_ESPOOL);
  assert_non_null(strstr(err, "its parent"));
  assert_int_equal(chmod(sp, 01777), 0);
  assert_int_equal(cw__spool_check_dir(child, err, sizeof(err)), 0);
  assert_int_equal(chmod(sp, 0700), 0);
}

/* Issue 9.17's library half: checking never creates. */
static void test_spool_check_never_creates(void **state) {
  (void)state;
  char sp[PATH_MAX], missing[PATH_MAX + 16], err[512];
  fresh_spool(sp, sizeof(sp));
  snprintf(missing, sizeof(missing), "%s/nope/reports", sp);
  assert_int_equal(cw__spool_check_dir(missing, err, sizeof(err)), CW_ENOENT);
  assert_non_null(strstr(err, "does not exist"));
  struct stat st;
  char parent[PATH_MAX + 16];
  snprintf(parent, sizeof(parent), "%s/nope", sp);
  assert_int_equal(stat(parent, &st), -1);
}

/* Issue 9.9: out of file descriptors mid-report: CW_ESPOOL with the errno
 * text, and no .tmp- directory left behind. */
static void test_spool_out_of_fds_cleans_up(void **state) {
  (void)state;
  char sp[PATH_MAX];
  fresh_spool(sp, sizeof(sp));
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    /* Every fd above the ones begin needs is taken. */
    for (int i = 0; i < 5; i++) {
      spool_report_t *r;
      struct rlimit rl;
      getrlimit(RLIMIT_NOFILE, &rl);
      rl.rlim_cur = 8 + (rlim_t)i;
      int fds[16], nf = 0;
      int fd;
      while ((fd = open("/dev/null", O_RDONLY)) >= 0 && nf < 16)
        fds[nf++] = fd;
      for (int k = 0; k < nf; k++)
        close(fds[k]);
      if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        _exit(10);
      int rc =
          cw__spool_report_begin(sp, "efefefefefefefefefefefefefefefef", &r);
      if (rc == 0) {
        rc = cw__spool_report_write_file(r, "event.json", "{}", 2);
        int fds2[64], m = 0;
        while ((fd = open("/dev/null", O_RDONLY)) >= 0 && m < 64)
          fds2[m++] = fd;
        int w = cw__spool_report_write_file(r, "minidump.dmp", "MDMP", 4);
        if (w == 0 ||
            strstr(cw__spool_last_error(), "Too many open files") == 0)
          _exit(11);
        if (w != CW_ESPOOL)
          _exit(12);
        cw__spool_report_abort(r);
        for (int k = 0; k < m; k++)
          close(fds2[k]);
      } else if (rc != CW_ESPOOL) {
        _exit(13);
      }
    }
    _exit(0);
  }
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  DIR *d = opendir(sp);
  assert_non_null(d);
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    assert_true(
        strncmp(e->d_name, SPOOL_TMP_PREFIX, strlen(SPOOL_TMP_PREFIX)) != 0);
  closedir(d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_spool_ensure_dir_creates_private_dirs),
      cmocka_unit_test(test_spool_half_written_report_is_never_listed),
      cmocka_unit_test(test_spool_commit_syncs_and_closes_every_file),
      cmocka_unit_test(test_spool_sync_workers),
      cmocka_unit_test(test_spool_sync_workers_two_committers),
      cmocka_unit_test(
          test_spool_writer_killed_mid_report_leaves_nothing_listed),
      cmocka_unit_test(test_spool_abort_removes_everything),
      cmocka_unit_test(test_spool_rejects_bad_names),
      cmocka_unit_test(test_spool_lists_oldest_first),
      cmocka_unit_test(test_spool_write_atomic_never_follows_planted_links),
      cmocka_unit_test(test_spool_symlinked_report_is_never_followed),
      cmocka_unit_test(test_spool_prune_oldest_first_keeps_locked),
      cmocka_unit_test(test_spool_private_whatever_the_umask),
      cmocka_unit_test(test_spool_unsafe_spool_is_refused),
      cmocka_unit_test(test_spool_check_never_creates),
      cmocka_unit_test(test_spool_out_of_fds_cleans_up),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
