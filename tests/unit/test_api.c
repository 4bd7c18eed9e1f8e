/*
 * test_api.c — the parts of the public header that hold whatever the
 * build: cw_last_error() is per thread, cw_version() is the version the
 * header's macros say, and cw_init() leaves in the process what the
 * header's contract lists (a close-on-exec AF_UNIX SOCK_SEQPACKET socket
 * and the scope's memfd, no child, the named alternate stack, no other
 * signal or environment change). Built twice (tests/handler.cmake): against
 * libcrashwatch.a (test_api_static) and libcrashwatch.so (test_api_shared),
 * whose thread-local storage takes different TLS models.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* The open fds of this process, as a bitmap of the first 1024. */
typedef struct {
  unsigned char open[1024];
} fdset_t;

static void list_fds(fdset_t *s) {
  memset(s, 0, sizeof(*s));
  DIR *d = opendir("/proc/self/fd");
  assert_non_null(d);
  int self = dirfd(d);
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    int fd = atoi(e->d_name);
    if (e->d_name[0] != '.' && fd != self && fd >= 0 && fd < 1024)
      s->open[fd] = 1;
  }
  closedir(d);
}

static int maps_contain(const char *needle) {
  FILE *f = fopen("/proc/self/maps", "r");
  assert_non_null(f);
  char line[4096];
  int found = 0;
  while (!found && fgets(line, sizeof(line), f) != NULL)
    found = strstr(line, needle) != NULL;
  fclose(f);
  return found;
}

static int is_crash_signal(int s) {
  return s == SIGSEGV || s == SIGBUS || s == SIGILL || s == SIGFPE ||
         s == SIGABRT || s == SIGTRAP || s == SIGSYS;
}

extern char **environ;

/* The kernel's action for a signal (libcrashwatch.so interposes
 * sigaction(), which shows the program's view instead). */
typedef struct {
  void *handler;
  unsigned long flags;
  void *restorer;
  unsigned long mask;
} kaction_t;

static kaction_t kernel_action(int sig) {
  kaction_t k;
  memset(&k, 0, sizeof(k));
  syscall(SYS_rt_sigaction, sig, NULL, &k, sizeof(k.mask)); /* 32, 33 fail */
  return k;
}

static void test_init_leaves_what_the_header_says(void **state) {
  (void)state;
  const char *root = getenv("CW_TEST_TMP");
  char dir[PATH_MAX], spool[PATH_MAX + 16];
  snprintf(dir, sizeof(dir), "%s/api-XXXXXX", root && *root ? root : "/tmp");
  assert_non_null(mkdtemp(dir));
  snprintf(spool, sizeof(spool), "%s/spool", dir);

  cw_options_t *o = cw_options_new();
  assert_non_null(o);
  assert_int_equal(cw_options_set_spool_dir(o, spool), 0);
  assert_int_equal(cw_options_set_print_summary(o, 0), 0);

  fdset_t before, after;
  kaction_t sa_before[65];
  sigset_t mask_before, mask_after;
  char **env_before = environ;
  size_t nenv = 0;
  while (environ[nenv] != NULL)
    nenv++;
  for (int s = 1; s < 65; s++)
    sa_before[s] = kernel_action(s);
  pthread_sigmask(SIG_SETMASK, NULL, &mask_before);
  list_fds(&before);

  int rc = cw_init(o);
  if (rc != 0)
    fail_msg("cw_init: %s (%s)", cw_strerror(rc), cw_last_error());
  list_fds(&after);

  /* Two new fds, close-on-exec, above stdio: the socket and the scope's
   * memfd. */
  int added = -1, scope_fd = -1, nadded = 0;
  for (int fd = 0; fd < 1024; fd++) {
    assert_false(before.open[fd] && !after.open[fd]); /* none closed */
    if (!after.open[fd] || before.open[fd])
      continue;
    nadded++;
    assert_true(fd > 2);
    assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    char link[64], target[256];
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, target, sizeof(target) - 1);
    assert_true(n > 0);
    target[n] = '\0';
    if (strncmp(target, "socket:", 7) == 0)
      added = fd;
    else if (strncmp(target, "/memfd:crashwatch-scope", 23) == 0)
      scope_fd = fd;
    else
      fail_msg("cw_init left fd %d open: %s", fd, target);
  }
  assert_int_equal(nadded, 2);
  assert_true(added >= 0 && scope_fd >= 0);
  int type = 0;
  socklen_t len = sizeof(type);
  assert_int_equal(getsockopt(added, SOL_SOCKET, SO_TYPE, &type, &len), 0);
  assert_int_equal(type, SOCK_SEQPACKET);
  struct sockaddr_storage ss;
  len = sizeof(ss);
  assert_int_equal(getsockname(added, (struct sockaddr *)&ss, &len), 0);
  assert_int_equal(ss.ss_family, AF_UNIX);

  /* The watchdog is not our child; the intermediate child was reaped. */
  errno = 0;
  assert_int_equal(waitpid(-1, NULL, WNOHANG | __WALL), -1);
  assert_int_equal(errno, ECHILD);

  /* The alternate stack, by its name. */
  assert_true(maps_contain("/memfd:crashwatch-sigaltstack"));
  assert_true(maps_contain("/memfd:crashwatch-scope"));
  stack_t alt;
  assert_int_equal(sigaltstack(NULL, &alt), 0);
  assert_false(alt.ss_flags & SS_DISABLE);
  assert_true(alt.ss_size >= 2u * 1024u * 1024u);

  /* Only the crash signals changed; the mask and the environment not. */
  for (int s = 1; s < 65; s++) {
    kaction_t cur = kernel_action(s);
    if (is_crash_signal(s)) {
      assert_true(cur.flags & SA_SIGINFO);
      assert_true(cur.flags & SA_ONSTACK);
    } else if (cur.handler != sa_before[s].handler ||
               cur.flags != sa_before[s].flags) {
      fail_msg("signal %d changed by cw_init", s);
    }
  }
  pthread_sigmask(SIG_SETMASK, NULL, &mask_after);
  for (int s = 1; s < 65; s++)
    assert_int_equal(sigismember(&mask_before, s) == 1,
                     sigismember(&mask_after, s) == 1);
  assert_ptr_equal(environ, env_before);
  size_t n = 0;
  while (environ[n] != NULL)
    n++;
  assert_int_equal(n, nenv);

  /* cw_shutdown() closes the socket; the scope's memfd stays, for a later
   * cw_init() to reuse. */
  cw_shutdown();
  list_fds(&after);
  before.open[scope_fd] = 1;
  assert_memory_equal(before.open, after.open, sizeof(before.open));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_last_error_per_thread),
      cmocka_unit_test(test_last_error_empty_in_new_thread),
      cmocka_unit_test(test_version_matches_macros),
      cmocka_unit_test(test_init_leaves_what_the_header_says),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
