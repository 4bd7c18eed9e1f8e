/* test_handler.c — libcrashwatch's options, cw_init() validation (nothing
 * installed on failure), handler installation and removal, the watchdog's
 * lifetime, alternate signal stacks. Crashes themselves are tested by
 * tests/integration/crash_tests.py on real programs. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include "cw_test_support.h"

#include "crashwatch.h"

static const int crash_signals[] = {SIGSEGV, SIGBUS,  SIGILL, SIGFPE,
                                    SIGABRT, SIGTRAP, SIGSYS};

static char tmpdir[PATH_MAX];

static void make_tmpdir(void) {
  const char *root = getenv("CW_TEST_TMP");
  snprintf(tmpdir, sizeof(tmpdir), "%s/handler-XXXXXX",
           root && *root ? root : "/tmp");
  assert_non_null(mkdtemp(tmpdir));
}

static void clear_env(void) {
  const char *vars[] = {"CRASHWATCH_SPOOL",
                        "CRASHWATCH_WATCHDOG",
                        "CRASHWATCH_WATCHDOG_IMAGE",
                        "CRASHWATCH_ACK_TIMEOUT_MS",
                        "CRASHWATCH_INCLUDE_ENVIRON",
                        "CRASHWATCH_PRINT_SUMMARY",
                        "SENTRY_DSN",
                        "SENTRY_RELEASE",
                        "SENTRY_ENVIRONMENT"};
  for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
    unsetenv(vars[i]);
}

static int setup(void **state) {
  (void)state;
  clear_env();
  make_tmpdir();
  char spool[PATH_MAX + 16];
  snprintf(spool, sizeof(spool), "%s/spool", tmpdir);
  setenv("CRASHWATCH_SPOOL", spool, 1);
  /* CW_TEST_WATCHDOG: run an external watchdog instead of the embedded one
   * (for a build configured with -DCW_EMBED_WATCHDOG=OFF). */
  const char *wd = getenv("CW_TEST_WATCHDOG");
  if (wd != NULL && *wd)
    setenv("CRASHWATCH_WATCHDOG", wd, 1);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  cw__test_shutdown();
  clear_env();
  return 0;
}

static int is_ours(int sig) {
  struct sigaction cur;
  assert_int_equal(sigaction(sig, NULL, &cur), 0);
  return (cur.sa_flags & SA_SIGINFO) && (cur.sa_flags & SA_ONSTACK);
}

#define NSIGS (sizeof(crash_signals) / sizeof(int))

/* The dispositions before a cw_init() attempt (cmocka installs its own). */
static void snapshot(struct sigaction *before) {
  for (size_t i = 0; i < NSIGS; i++)
    assert_int_equal(sigaction(crash_signals[i], NULL, &before[i]), 0);
}

static void assert_unchanged(const struct sigaction *before) {
  for (size_t i = 0; i < NSIGS; i++) {
    struct sigaction cur;
    assert_int_equal(sigaction(crash_signals[i], NULL, &cur), 0);
    assert_ptr_equal(cur.sa_handler, before[i].sa_handler);
    assert_int_equal(cur.sa_flags, before[i].sa_flags);
  }
}

/* True if /proc/pid/<file> (NUL-separated strings) holds a string that
 * contains needle. The watchdog may still be exec'ing: retry until its
 * command line is the watchdog's. */
static int proc_file_has(pid_t pid, const char *file, const char *needle) {
  char path[64], buf[65536];
  snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 0;
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0)
    return 0;
  buf[n] = '\0';
  for (char *p = buf; p < buf + n; p += strlen(p) + 1)
    if (strstr(p, needle) != NULL)
      return 1;
  return 0;
}

static void test_options_setters_validate(void **state) {
  (void)state;
  cw_options_t *o = cw_options_new();
  assert_non_null(o);
  assert_int_equal(cw_options_set_ack_timeout_ms(o, 0), CW_EINVAL);
  assert_non_null(strstr(cw_last_error(), "1..600000"));
  assert_int_equal(cw_options_set_ack_timeout_ms(o, 600001), CW_EINVAL);
  assert_int_equal(cw_options_set_ack_timeout_ms(o, 2500), 0);
  assert_int_equal(cw_options_set_spool_dir(o, ""), CW_EINVAL);
  assert_int_equal(cw_options_set_spool_dir(NULL, "/x"), CW_EINVAL);
  assert_int_equal(cw_options_set_dsn(o, "not a dsn"), CW_EDSN);
  assert_non_null(strstr(cw_last_error(), "cw_options_set_dsn"));
  assert_int_equal(cw_options_set_dsn(o, "https://abc@o1.example.com/42"), 0);
  assert_int_equal(cw_options_set_dsn(o, NULL), 0);
  assert_int_equal(cw_options_set_release(o, "app@1.2"), 0);
  assert_int_equal(cw_options_set_environment(o, "prod"), 0);
  assert_int_equal(cw_options_set_include_environ(o, 1), 0);
  assert_int_equal(cw_options_set_print_summary(o, 0), 0);
  assert_int_equal(cw_options_set_watchdog_path(o, ""), 0);
  cw_options_free(o);
  cw_options_free(NULL);
}

static void expect_init_fails(int want, const char *msg_part) {
  struct sigaction before[NSIGS];
  snapshot(before);
  int rc = cw_init(NULL);
  assert_int_equal(rc, want);
  if (strstr(cw_last_error(), msg_part) == NULL)
    fail_msg("cw_last_error() = \"%s\", want it to mention \"%s\"",
             cw_last_error(), msg_part);
  assert_unchanged(before);
  assert_int_equal(cw__test_find_watchdog_now(), 0);
}

static void test_init_bad_env_installs_nothing(void **state) {
  (void)state;
  setenv("CRASHWATCH_ACK_TIMEOUT_MS", "soon", 1);
  expect_init_fails(CW_EINVAL, "CRASHWATCH_ACK_TIMEOUT_MS=soon");
  unsetenv("CRASHWATCH_ACK_TIMEOUT_MS");
  setenv("CRASHWATCH_PRINT_SUMMARY", "maybe", 1);
  expect_init_fails(CW_EINVAL, "CRASHWATCH_PRINT_SUMMARY");
  unsetenv("CRASHWATCH_PRINT_SUMMARY");
  setenv("SENTRY_DSN", "https://o1.example.com/42", 1);
  expect_init_fails(CW_EDSN, "SENTRY_DSN");
  unsetenv("SENTRY_DSN");
  setenv("CRASHWATCH_WATCHDOG", "/nonexistent/crashwatch-watchdog", 1);
  expect_init_fails(CW_EWATCHDOG, "/nonexistent/crashwatch-watchdog");
  /* Executable but not a program: exec fails in the grandchild and
   * cw_init() hears about it through the close-on-exec pipe. */
  char fake[PATH_MAX + 32];
  snprintf(fake, sizeof(fake), "%s/not-a-watchdog", tmpdir);
  int fd = open(fake, O_WRONLY | O_CREAT | O_TRUNC, 0755);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, "\x01\x02garbage", 9), 9);
  close(fd);
  setenv("CRASHWATCH_WATCHDOG", fake, 1);
  expect_init_fails(CW_EWATCHDOG, "cannot execute");
}

static void test_init_bad_spool_installs_nothing(void **state) {
  (void)state;
  char file[PATH_MAX + 32], spool[PATH_MAX + 64];
  snprintf(file, sizeof(file), "%s/plainfile", tmpdir);
  int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  assert_true(fd >= 0);
  close(fd);
  snprintf(spool, sizeof(spool), "%s/reports", file);
  setenv("CRASHWATCH_SPOOL", spool, 1);
  expect_init_fails(CW_ESPOOL, file);

  unsetenv("CRASHWATCH_SPOOL");
  unsetenv("XDG_STATE_HOME");
  char *home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
  unsetenv("HOME");
  expect_init_fails(CW_ESPOOL, "CRASHWATCH_SPOOL");
  if (home) {
    setenv("HOME", home, 1);
    free(home);
  }
}

static void test_init_default_spool_from_xdg(void **state) {
  (void)state;
  unsetenv("CRASHWATCH_SPOOL");
  char xdg[PATH_MAX + 8], want[PATH_MAX + 64];
  snprintf(xdg, sizeof(xdg), "%s/xdg", tmpdir);
  setenv("XDG_STATE_HOME", xdg, 1);
  assert_int_equal(cw_init(NULL), 0);
  snprintf(want, sizeof(want), "%s/crashwatch/reports", xdg);
  struct stat st;
  assert_int_equal(stat(want, &st), 0);
  assert_true(S_ISDIR(st.st_mode));
  assert_int_equal(st.st_mode & 0777, 0700);
  cw_shutdown();
  unsetenv("XDG_STATE_HOME");
}

static void prior_handler(int sig) { (void)sig; }

static void test_init_installs_and_shutdown_restores(void **state) {
  (void)state;
  struct sigaction sa, cur;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = prior_handler;
  sigemptyset(&sa.sa_mask);
  assert_int_equal(sigaction(SIGBUS, &sa, NULL), 0);
  struct sigaction before[NSIGS];
  snapshot(before);

  assert_int_equal(cw_init(NULL), 0);
  assert_string_equal(cw_last_error(), "");
  for (size_t i = 0; i < sizeof(crash_signals) / sizeof(int); i++)
    assert_true(is_ours(crash_signals[i]));
  stack_t ss;
  assert_int_equal(sigaltstack(NULL, &ss), 0);
  assert_false(ss.ss_flags & SS_DISABLE);
  assert_true(ss.ss_size >= 64 * 1024);
  pid_t wd = cw__test_find_watchdog();
  assert_true(wd > 0);

  assert_int_equal(cw_init(NULL), CW_EALREADY);

  cw_shutdown();
  assert_int_equal(sigaction(SIGBUS, NULL, &cur), 0);
  assert_ptr_equal(cur.sa_handler, prior_handler);
  assert_unchanged(before);
  cw__test_wait_gone(wd); /* the watchdog exits once our socket end closes */
  sigaction(SIGBUS, &before[1], NULL);
  cw_shutdown(); /* twice is fine */
}

static void test_init_with_options(void **state) {
  (void)state;
  cw_options_t *o = cw_options_new();
  char spool[PATH_MAX + 16];
  snprintf(spool, sizeof(spool), "%s/opt-spool", tmpdir);
  assert_int_equal(cw_options_set_spool_dir(o, spool), 0);
  assert_int_equal(cw_options_set_release(o, "test@1"), 0);
  assert_int_equal(cw_options_set_ack_timeout_ms(o, 1000), 0);
  const char *dsn = "https://pubkey123@o1.example.com/42";
  assert_int_equal(cw_options_set_dsn(o, dsn), 0);
  assert_int_equal(cw_init(o), 0);
  pid_t wd = cw__test_find_watchdog();
  assert_true(wd > 0);
  /* The DSN travels in the watchdog's environment, not its command line
   * (which any user can read). */
  char want[128];
  snprintf(want, sizeof(want), "CRASHWATCH_WATCHDOG_DSN=%s", dsn);
  assert_true(proc_file_has(wd, "environ", want));
  assert_false(proc_file_has(wd, "cmdline", "pubkey123"));
  assert_true(proc_file_has(wd, "cmdline", "test@1"));
  struct stat st;
  assert_int_equal(stat(spool, &st), 0);
  cw_shutdown();
}

/* Settings from the environment reach the watchdog. */
static void test_init_env_settings_reach_watchdog(void **state) {
  (void)state;
  setenv("CRASHWATCH_PRINT_SUMMARY", "off", 1);
  setenv("CRASHWATCH_INCLUDE_ENVIRON", "yes", 1);
  setenv("CRASHWATCH_ACK_TIMEOUT_MS", "2500", 1);
  setenv("SENTRY_RELEASE", "envtest@2.0", 1);
  setenv("SENTRY_ENVIRONMENT", "staging", 1);
  assert_int_equal(cw_init(NULL), 0);
  pid_t wd = cw__test_find_watchdog();
  assert_true(wd > 0);
  assert_true(proc_file_has(wd, "cmdline", "--no-summary"));
  assert_true(proc_file_has(wd, "cmdline", "--include-environ"));
  assert_true(proc_file_has(wd, "cmdline", "envtest@2.0"));
  assert_true(proc_file_has(wd, "cmdline", "staging"));
  cw_shutdown();
  cw__test_wait_gone(wd);
  /* And the defaults: summary on, environ off. */
  unsetenv("CRASHWATCH_PRINT_SUMMARY");
  unsetenv("CRASHWATCH_INCLUDE_ENVIRON");
  assert_int_equal(cw_init(NULL), 0);
  wd = cw__test_find_watchdog();
  assert_true(wd > 0);
  assert_false(proc_file_has(wd, "cmdline", "--no-summary"));
  assert_false(proc_file_has(wd, "cmdline", "--include-environ"));
}

/* What runs while the app has not crashed: the full watchdog, loaded
 * (the default), or with the lazy watchdog its idle stage, which has its
 * own memfd; both under the same name in ps. */
static void test_init_watchdog_resident_or_lazy(void **state) {
  (void)state;
  for (int lazy = 0; lazy < 2; lazy++) {
    cw_options_t *o = cw_options_new();
    assert_int_equal(cw_options_set_lazy_watchdog(o, lazy), 0);
    assert_int_equal(cw_init(o), 0);
    pid_t wd = cw__test_find_watchdog();
    assert_true(wd > 0);
    char link[64], exe[PATH_MAX] = "";
    snprintf(link, sizeof(link), "/proc/%d/exe", (int)wd);
    assert_true(readlink(link, exe, sizeof(exe) - 1) > 0);
    assert_non_null(
        strstr(exe, lazy ? "crashwatch-wd-idle" : "crashwatch-watchdog"));
    cw_shutdown();
    cw__test_wait_gone(wd);
  }
  /* The environment turns it on too. */
  setenv("CRASHWATCH_LAZY_WATCHDOG", "1", 1);
  assert_int_equal(cw_init(NULL), 0);
  pid_t wd = cw__test_find_watchdog();
  assert_true(wd > 0);
  char link[64], exe[PATH_MAX] = "";
  snprintf(link, sizeof(link), "/proc/%d/exe", (int)wd);
  assert_true(readlink(link, exe, sizeof(exe) - 1) > 0);
  assert_non_null(strstr(exe, "crashwatch-wd-idle"));
  cw_shutdown();
  cw__test_wait_gone(wd);
  unsetenv("CRASHWATCH_LAZY_WATCHDOG");
}

static void *thread_alt(void *arg) {
  stack_t *out = arg;
  if (cw_thread_init() != 0)
    return (void *)1;
  if (cw_thread_init() != 0) /* idempotent */
    return (void *)1;
  sigaltstack(NULL, out);
  return NULL;
}

static void test_thread_init_alt_stack(void **state) {
  (void)state;
  stack_t ss;
  memset(&ss, 0, sizeof(ss));
  pthread_t t;
  void *ret;
  assert_int_equal(pthread_create(&t, NULL, thread_alt, &ss), 0);
  assert_int_equal(pthread_join(t, &ret), 0);
  assert_null(ret);
  assert_false(ss.ss_flags & SS_DISABLE);
  assert_true(ss.ss_size >= 64 * 1024);
}

/* A forked child of an initialized process exits normally, may initialize
 * crashwatch for itself, and the watchdog still serves the parent. */
static void test_fork_child_exits(void **state) {
  (void)state;
  assert_int_equal(cw_init(NULL), 0);
  pid_t wd = cw__test_find_watchdog();
  pid_t c = fork();
  assert_true(c >= 0);
  if (c == 0)
    _exit(7);
  int status;
  assert_int_equal(waitpid(c, &status, 0), c);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 7);
  c = fork();
  assert_true(c >= 0);
  if (c == 0)
    _exit(cw_init(NULL) == 0 && cw__test_find_watchdog() > 0 ? 0 : 1);
  assert_int_equal(waitpid(c, &status, 0), c);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  assert_int_equal(cw__test_find_watchdog(), wd);

  /* A child that outlives the parent's cw_shutdown() does not keep the
   * watchdog alive: it closed its copy of the crash socket at fork. */
  int p[2];
  assert_int_equal(pipe(p), 0);
  c = fork();
  assert_true(c >= 0);
  if (c == 0) {
    char b;
    close(p[1]);
    ssize_t n = read(p[0], &b, 1);
    _exit(n == 0 ? 0 : 1);
  }
  close(p[0]);
  cw_shutdown();
  cw__test_wait_gone(
      wd); /* hangs (CTest timeout) if the child held the socket */
  close(p[1]);
  assert_int_equal(waitpid(c, &status, 0), c);
}

/* RLIMIT_FSIZE below the embedded watchdog's size (~500 KiB): cw_init
 * must never die by SIGXFSZ writing the watchdog's memfd. With a low soft
 * limit it works (and puts the limit back); with a low hard limit it
 * fails with CW_EWATCHDOG and says why. In children: the limits stay
 * there. */
static void test_init_under_small_fsize(void **state) {
  (void)state;
  for (int hard_too = 0; hard_too < 2; hard_too++) {
    pid_t c = fork();
    assert_true(c >= 0);
    if (c == 0) {
      struct rlimit rl = {.rlim_cur = 100 * 1024,
                          .rlim_max = hard_too ? 100 * 1024 : RLIM_INFINITY};
      if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
        _exit(10);
      int rc = cw_init(NULL);
      struct rlimit after;
      if (getrlimit(RLIMIT_FSIZE, &after) != 0 ||
          after.rlim_cur != rl.rlim_cur || after.rlim_max != rl.rlim_max)
        _exit(11); /* the soft limit was not put back */
      if (!hard_too)
        _exit(rc == 0 ? 0 : 12);
      if (rc != CW_EWATCHDOG || strstr(cw_last_error(), "RLIMIT_FSIZE") == NULL)
        _exit(13);
      _exit(0);
    }
    int status;
    assert_int_equal(waitpid(c, &status, 0), c);
    if (WIFSIGNALED(status))
      fail_msg("cw_init under RLIMIT_FSIZE (hard too: %d) died by signal %d",
               hard_too, WTERMSIG(status));
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
  }
}

/* The watchdog's ignored signals (SigIgn in /proc/PID/status), or 0. */
static unsigned long long sig_ignored(pid_t pid) {
  char path[64], line[256];
  snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
  FILE *f = fopen(path, "r");
  if (f == NULL)
    return 0;
  unsigned long long mask = 0;
  while (fgets(line, sizeof(line), f) != NULL)
    if (sscanf(line, "SigIgn: %llx", &mask) == 1)
      break;
  fclose(f);
  return mask;
}

/* Signals the app ignores are not ignored in its watchdog: the exec resets
 * only the caught ones, and the watchdog puts the ignored ones back itself
 * (a SIGTERM it ignored would keep it from ending at a service stop). */
static void test_init_watchdog_drops_ignored_signals(void **state) {
  (void)state;
  static const int sigs[] = {SIGTERM, SIGHUP, SIGCHLD, SIGUSR1};
  unsigned long long want_clear = 0;
  for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
    signal(sigs[i], SIG_IGN);
    want_clear |= 1ull << (sigs[i] - 1);
  }
  int rc = cw_init(NULL);
  for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
    signal(sigs[i], SIG_DFL);
  if (rc != 0)
    fail_msg("cw_init: %s", cw_last_error());
  pid_t wd = cw__test_find_watchdog();
  assert_true(wd > 0);
  /* The watchdog resets them as it starts, after cw_init() returned. */
  unsigned long long ign = 0;
  for (int i = 0; i < 200; i++) {
    ign = sig_ignored(wd);
    if ((ign & want_clear) == 0 && (ign & (1ull << (SIGPIPE - 1))) != 0)
      break; /* SIGPIPE: its own, set later in its start */
    usleep(10000);
  }
  if ((ign & want_clear) != 0)
    fail_msg("the watchdog still ignores signals of mask %llx",
             ign & want_clear);
  cw__test_shutdown();
}

#ifdef CW_WATCHDOG_BLOB_PATH
/* The offset of the first byte of the GNU build-id in the ELF image buf
 * (len bytes), or 0 if it has none. */
static size_t build_id_offset(const unsigned char *buf, size_t len) {
  ElfW(Ehdr) eh;
  assert_true(len >= sizeof(eh));
  memcpy(&eh, buf, sizeof(eh));
  for (unsigned i = 0; i < eh.e_phnum; i++) {
    ElfW(Phdr) ph;
    assert_true(eh.e_phoff + (i + 1) * sizeof(ph) <= len);
    memcpy(&ph, buf + eh.e_phoff + i * sizeof(ph), sizeof(ph));
    if (ph.p_type != PT_NOTE)
      continue;
    size_t off = ph.p_offset, end = ph.p_offset + ph.p_filesz;
    while (off + sizeof(ElfW(Nhdr)) <= end && end <= len) {
      ElfW(Nhdr) nh;
      memcpy(&nh, buf + off, sizeof(nh));
      size_t name = (nh.n_namesz + 3u) & ~3u, desc = (nh.n_descsz + 3u) & ~3u;
      if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
          memcmp(buf + off + sizeof(nh), "GNU", 4) == 0)
        return off + sizeof(nh) + name;
      off += sizeof(nh) + name + desc;
    }
  }
  return 0;
}

/* Copies the embedded image's file to path with mode; flip: the byte at
 * that offset changed (0: none); extra: bytes appended. */
static void copy_image(const char *path, mode_t mode, size_t flip,
                       size_t extra) {
  FILE *in = fopen(CW_WATCHDOG_BLOB_PATH, "rb");
  assert_non_null(in);
  struct stat st;
  assert_int_equal(fstat(fileno(in), &st), 0);
  size_t n = (size_t)st.st_size;
  unsigned char *buf = malloc(n + extra);
  assert_non_null(buf);
  assert_int_equal(fread(buf, 1, n, in), n);
  fclose(in);
  if (flip != 0) {
    assert_true(flip < n);
    buf[flip] ^= 1;
  }
  memset(buf + n, 0, extra);
  unlink(path);
  FILE *out = fopen(path, "wb");
  assert_non_null(out);
  assert_int_equal(fwrite(buf, 1, n + extra, out), n + extra);
  free(buf);
  assert_int_equal(fclose(out), 0);
  assert_int_equal(chmod(path, mode), 0);
}

/* The embedded image's build-id offset (its file is the blob). */
static size_t blob_build_id_offset(void) {
  FILE *in = fopen(CW_WATCHDOG_BLOB_PATH, "rb");
  assert_non_null(in);
  static unsigned char buf[65536];
  size_t n = fread(buf, 1, sizeof(buf), in);
  fclose(in);
  return build_id_offset(buf, n);
}

/* What the watchdog runs from, after cw_init(): its /proc/PID/exe. */
static void watchdog_exe(char *exe, size_t cap) {
  pid_t wd = cw__test_find_watchdog();
  assert_true(wd > 0);
  char link[64];
  snprintf(link, sizeof(link), "/proc/%d/exe", (int)wd);
  ssize_t n = readlink(link, exe, cap - 1);
  assert_true(n > 0);
  exe[n] = '\0';
}

/* The installed image (libexec/crashwatch-watchdog.img beside the library;
 * here CRASHWATCH_WATCHDOG_IMAGE) runs when it is the embedded image (same
 * size, same leading bytes through the build-id) and only its owner can
 * write it; otherwise, or when it cannot be
 * executed, the memfd copy does, and cw_init() succeeds either way. */
static void test_init_installed_image(void **state) {
  (void)state;
  char img[PATH_MAX + 32], exe[PATH_MAX];
  snprintf(img, sizeof(img), "%s/crashwatch-watchdog.img", tmpdir);
  setenv("CRASHWATCH_WATCHDOG_IMAGE", img, 1);
  /* The build is told by its build-id (spawn.c, same_image): the
   * watchdog is linked with one. */
  size_t id = blob_build_id_offset();
  assert_true(id > 0);
  struct {
    mode_t mode;
    size_t flip, extra;
    int installed;
    const char *what;
  } cases[] = {{0755, 0, 0, 1, "the same bytes"},
               {0755, 100, 0, 0, "a program header changed"},
               {0755, id + 5, 0, 0, "another build-id"},
               {0755, 0, 1, 0, "one byte longer"},
               {0775, 0, 0, 0, "group-writable"},
               {0644, 0, 0, 0, "not executable"}};
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    copy_image(img, cases[i].mode, cases[i].flip, cases[i].extra);
    int rc = cw_init(NULL);
    if (rc != 0)
      fail_msg("%s: cw_init: %s", cases[i].what, cw_last_error());
    watchdog_exe(exe, sizeof(exe));
    int ran_file = strcmp(exe, img) == 0;
    if (ran_file != cases[i].installed)
      fail_msg("%s: the watchdog runs from %s", cases[i].what, exe);
    if (!ran_file && strstr(exe, "memfd:crashwatch-watchdog") == NULL)
      fail_msg("%s: the watchdog runs from %s, not the memfd", cases[i].what,
               exe);
    cw__test_shutdown();
  }
}
#endif

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_options_setters_validate, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_init_bad_env_installs_nothing, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_init_bad_spool_installs_nothing,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_init_default_spool_from_xdg, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_init_installs_and_shutdown_restores,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_init_with_options, setup, teardown),
      cmocka_unit_test_setup_teardown(test_init_env_settings_reach_watchdog,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_init_watchdog_resident_or_lazy,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_init_watchdog_drops_ignored_signals,
                                      setup, teardown),
#ifdef CW_WATCHDOG_BLOB_PATH
      cmocka_unit_test_setup_teardown(test_init_installed_image, setup,
                                      teardown),
#endif
      cmocka_unit_test_setup_teardown(test_thread_init_alt_stack, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_fork_child_exits, setup, teardown),
      cmocka_unit_test_setup_teardown(test_init_under_small_fsize, setup,
                                      teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
