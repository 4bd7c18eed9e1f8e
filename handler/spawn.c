/*
 * spawn.c — starts the watchdog process at cw_init(). Normal context, but
 * the code between fork() and exec runs in a child of a possibly
 * multi-threaded process, so it calls only async-signal-safe functions and
 * uses only memory prepared before the fork.
 *
 * The watchdog runs from a memfd holding the executable embedded in the
 * library (or from CRASHWATCH_WATCHDOG / the option). A double fork makes it
 * a grandchild that the intermediate child orphans, so the app never sees
 * it in waitpid(-1) or SIGCHLD; setsid() keeps terminal signals aimed at the
 * app's process group (Ctrl-C) from killing it mid-capture.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crashwatch.h"
#include "cw_internal.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

extern char **environ;

#define MAX_ARGS 24

typedef struct {
  char *argv[MAX_ARGS];
  int argc;
  char fd_str[16], pid_str[16];
} wd_args_t;

static void add_arg(wd_args_t *a, const char *s) {
  if (a->argc < MAX_ARGS - 1)
    a->argv[a->argc++] = (char *)s;
  a->argv[a->argc] = NULL;
}

/* Writes the embedded watchdog into a sealed-off memfd. Returns the fd or a
 * negative CW_E* code (message set). */
static int make_memfd(void) {
  size_t len = (size_t)(cw__watchdog_blob_end - cw__watchdog_blob_start);
  if (len == 0)
    return cw__fail(CW_EWATCHDOG,
                    "this libcrashwatch was built without an embedded "
                    "watchdog; set CRASHWATCH_WATCHDOG to its path");
  int fd = memfd_create("crashwatch-watchdog", MFD_CLOEXEC);
  if (fd < 0)
    return cw__fail(CW_EWATCHDOG, "watchdog: memfd_create: %s",
                    strerror(errno));
  const unsigned char *p = cw__watchdog_blob_start;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      int e = errno;
      close(fd);
      return cw__fail(CW_EWATCHDOG, "watchdog: writing the memfd: %s",
                      strerror(e));
    }
    p += n;
    len -= (size_t)n;
  }
  return fd;
}

/* Moves fd to a number >= 3 (close-on-exec), so a daemon that closed its
 * stdio does not get the crash socket dup2'd over in the watchdog. */
static int above_stdio(int fd) {
  if (fd < 0 || fd > 2)
    return fd;
  int moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  close(fd);
  return moved;
}

/* fork() without glibc's fork machinery: no pthread_atfork handlers (the
 * app's could take locks or be slow), no malloc lock juggling. The child
 * only makes raw, async-signal-safe calls until it execs or exits. */
static pid_t raw_fork(void) {
  return (pid_t)syscall(SYS_clone, (unsigned long)SIGCHLD, NULL, NULL, NULL,
                        NULL);
}

/* Reads exactly len bytes unless EOF comes first; returns bytes read. */
static size_t read_full(int fd, void *buf, size_t len) {
  size_t got = 0;
  while (got < len) {
    ssize_t n = read(fd, (char *)buf + got, len - got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    got += (size_t)n;
  }
  return got;
}

#define DSN_ENV "CRASHWATCH_WATCHDOG_DSN"

/* The watchdog's environment: the app's, with the DSN added as
 * CRASHWATCH_WATCHDOG_DSN (an environment is private to the user, a
 * command line is not). Returns a malloc'd array whose last extra string is
 * malloc'd too (free with free_env), or NULL on out-of-memory. */
static char **make_env(const char *dsn) {
  size_t n = 0;
  for (char **e = environ; e && *e; e++)
    n++;
  char **env = calloc(n + 2, sizeof(char *));
  if (env == NULL)
    return NULL;
  size_t k = 0;
  for (char **e = environ; e && *e; e++)
    if (strncmp(*e, DSN_ENV "=", sizeof(DSN_ENV)) != 0)
      env[k++] = *e;
  if (dsn != NULL) {
    size_t len = sizeof(DSN_ENV "=") + strlen(dsn);
    char *v = malloc(len);
    if (v == NULL) {
      free(env);
      return NULL;
    }
    snprintf(v, len, "%s=%s", DSN_ENV, dsn);
    env[k++] = v;
  }
  env[k] = NULL;
  return env;
}

static void free_env(char **env, const char *dsn) {
  if (env == NULL)
    return;
  if (dsn != NULL) {
    size_t k = 0;
    while (env[k] != NULL)
      k++;
    free(env[k - 1]);
  }
  free(env);
}

/* The grandchild: becomes the watchdog. Async-signal-safe calls only. */
static void __attribute__((noreturn))
exec_watchdog(const char *path, int exe_fd, int wd_sock, int devnull,
              int err_pipe, char **argv, char **envp) {
  sigset_t all;
  sigemptyset(&all);
  sigprocmask(SIG_SETMASK, &all, NULL);
  struct sigaction dfl;
  memset(&dfl, 0, sizeof(dfl));
  dfl.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; s++)
    sigaction(s, &dfl, NULL); /* invalid numbers just fail */
  if (devnull >= 0) {
    dup2(devnull, STDIN_FILENO);
    dup2(devnull, STDOUT_FILENO);
  }
  /* Nothing of the app's but stderr and the crash socket goes along. */
  syscall(SYS_close_range, 3u, ~0u, CLOSE_RANGE_CLOEXEC);
  fcntl(wd_sock, F_SETFD, 0);
  if (chdir("/") != 0) {
    /* stays in the app's directory; harmless */
  }
  if (path != NULL)
    execve(path, argv, envp);
  else
    syscall(SYS_execveat, exe_fd, "", argv, envp, AT_EMPTY_PATH);
  int e = errno;
  ssize_t w = write(err_pipe, &e, sizeof(e));
  (void)w;
  _exit(127);
}

int cw__spawn_watchdog(const struct cw_options *o, const char *spool_abs,
                       int *sock_out, pid_t *pid_out) {
  int exe_fd = -1, sv[2] = {-1, -1}, pfd[2] = {-1, -1}, devnull = -1;
  char **envp = NULL;
  int rc = 0;
  if (o->watchdog_path == NULL) {
    exe_fd = make_memfd();
    if (exe_fd < 0)
      return exe_fd;
  }
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    rc = cw__fail(CW_EWATCHDOG, "watchdog: socketpair: %s", strerror(errno));
    goto out;
  }
  sv[0] = above_stdio(sv[0]);
  sv[1] = above_stdio(sv[1]);
  if (sv[0] < 0 || sv[1] < 0) {
    rc = cw__fail(CW_EWATCHDOG, "watchdog: fcntl: %s", strerror(errno));
    goto out;
  }
  if (pipe2(pfd, O_CLOEXEC) != 0) {
    rc = cw__fail(CW_EWATCHDOG, "watchdog: pipe: %s", strerror(errno));
    goto out;
  }
  devnull = above_stdio(open("/dev/null", O_RDWR | O_CLOEXEC));

  wd_args_t a = {.argc = 0};
  snprintf(a.fd_str, sizeof(a.fd_str), "%d", sv[1]);
  snprintf(a.pid_str, sizeof(a.pid_str), "%d", (int)getpid());
  add_arg(&a, "crashwatch-watchdog");
  add_arg(&a, "--fd");
  add_arg(&a, a.fd_str);
  add_arg(&a, "--pid");
  add_arg(&a, a.pid_str);
  add_arg(&a, "--spool");
  add_arg(&a, spool_abs);
  /* The summary goes to the app's stderr, if it has one. */
  add_arg(&a, "--summary-fd");
  add_arg(&a, fcntl(STDERR_FILENO, F_GETFD) >= 0 ? "2" : "-1");
  if (o->include_environ)
    add_arg(&a, "--include-environ");
  if (!o->print_summary)
    add_arg(&a, "--no-summary");
  if (o->release != NULL) {
    add_arg(&a, "--release");
    add_arg(&a, o->release);
  }
  if (o->environment != NULL) {
    add_arg(&a, "--environment");
    add_arg(&a, o->environment);
  }
  envp = make_env(o->dsn);
  if (envp == NULL) {
    rc = cw__fail(CW_ENOMEM, "watchdog: out of memory");
    goto out;
  }

  pid_t mid = raw_fork();
  if (mid < 0) {
    rc = cw__fail(CW_EWATCHDOG, "watchdog: fork: %s", strerror(errno));
    goto out;
  }
  if (mid == 0) {
    /* The intermediate child: start the watchdog, report its pid, leave. */
    close(pfd[0]);
    setsid();
    pid_t wd = raw_fork();
    if (wd == 0)
      exec_watchdog(o->watchdog_path, exe_fd, sv[1], devnull, pfd[1], a.argv,
                    envp);
    int msg = wd > 0 ? (int)wd : -errno;
    ssize_t w = write(pfd[1], &msg, sizeof(msg));
    (void)w;
    _exit(0);
  }
  close(pfd[1]);
  pfd[1] = -1;
  int wd_pid = 0, exec_errno = 0;
  size_t got = read_full(pfd[0], &wd_pid, sizeof(wd_pid));
  /* EOF comes once the intermediate child has exited and the watchdog has
   * exec'd (the pipe is close-on-exec); an int before it is exec's errno. */
  size_t got_err =
      got == sizeof(wd_pid) ? read_full(pfd[0], &exec_errno, sizeof(int)) : 0;
  while (waitpid(mid, NULL, 0) < 0 && errno == EINTR) {
    /* The app's own SIGCHLD handler may reap it first (ECHILD): fine. */
  }
  if (got != sizeof(wd_pid) || wd_pid <= 0) {
    rc = cw__fail(CW_EWATCHDOG, "watchdog: fork: %s",
                  got == sizeof(wd_pid) ? strerror(-wd_pid)
                                        : "intermediate child failed");
    goto out;
  }
  if (got_err == sizeof(int)) {
    if (o->watchdog_path != NULL)
      rc = cw__fail(CW_EWATCHDOG, "watchdog: cannot execute %s: %s",
                    o->watchdog_path, strerror(exec_errno));
    else /* e.g. vm.memfd_noexec=2, or an LSM refusing memfd execution */
      rc = cw__fail(CW_EWATCHDOG,
                    "watchdog: cannot execute the embedded watchdog from a "
                    "memfd: %s; set CRASHWATCH_WATCHDOG to an installed "
                    "crashwatch-watchdog",
                    strerror(exec_errno));
    goto out;
  }
  /* Yama (ptrace_scope 1) lets only ancestors ptrace us unless we name the
   * watchdog; without Yama the call fails with EINVAL, which is fine. */
  if (prctl(PR_SET_PTRACER, (unsigned long)wd_pid, 0, 0, 0) != 0 &&
      errno != EINVAL) {
    rc =
        cw__fail(CW_EWATCHDOG, "watchdog: PR_SET_PTRACER: %s", strerror(errno));
    kill(wd_pid, SIGKILL);
    goto out;
  }
  *sock_out = sv[0];
  sv[0] = -1;
  *pid_out = wd_pid;
out:
  free_env(envp, o->dsn);
  if (exe_fd >= 0)
    close(exe_fd);
  if (devnull >= 0)
    close(devnull);
  for (int i = 0; i < 2; i++) {
    if (sv[i] >= 0)
      close(sv[i]);
    if (pfd[i] >= 0)
      close(pfd[i]);
  }
  return rc;
}
