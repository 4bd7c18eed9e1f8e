/*
 * spawn.c — starts the watchdog process at cw_init(). Normal context, but
 * the code between clone() and exec runs in children that share the app's
 * memory, so it makes raw system calls only and uses only memory prepared
 * before the clone.
 *
 * With the embedded watchdog, what starts is its idle stage (wd_idle.c, a
 * few KiB, no libc) from one memfd, handed the full watchdog in a second
 * memfd (--image-fd); it exec()s that when the first crash record is
 * pending. CRASHWATCH_WATCHDOG / the option path is exec()d directly.
 *
 * Two vfork-style hops (CLONE_VM|CLONE_VFORK, each on its own small stack)
 * make the watchdog a grandchild that the intermediate child orphans, so
 * the app never sees it in waitpid(-1) or SIGCHLD, without copying the
 * app's page tables twice as fork() would; setsid() keeps terminal signals
 * aimed at the app's process group (Ctrl-C) from killing it mid-capture.
 * The app is suspended until the watchdog has exec()d or failed to; the
 * watchdog's pid and an exec failure's errno come back on a close-on-exec
 * pipe (not through the shared memory: valgrind runs such a clone as a
 * fork).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
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

#define MAX_ARGS 32

typedef struct {
  char *argv[MAX_ARGS];
  int argc;
  char fd_str[16], pid_str[16], limits_str[96];
} wd_args_t;

static void add_arg(wd_args_t *a, const char *s) {
  if (a->argc < MAX_ARGS - 1)
    a->argv[a->argc++] = (char *)s;
  a->argv[a->argc] = NULL;
}

/* Writes bytes [start, end) of the library into a memfd. Returns the fd or
 * a negative CW_E* code (message set).
 *
 * RLIMIT_FSIZE applies to a memfd like to any file, and a write past it
 * raises SIGXFSZ, which kills the app. So the limit is checked first: a
 * hard limit below the image fails cw_init with CW_EWATCHDOG; a soft one
 * is raised to the hard limit for the write and put back (process-wide
 * for those few hundred microseconds: a write elsewhere in the app past
 * its soft limit in that window succeeds instead of failing). */
static int make_memfd(const char *name, const unsigned char *start,
                      const unsigned char *end) {
  size_t len = (size_t)(end - start);
  if (len == 0)
    return cw__fail(CW_EWATCHDOG,
                    "this libcrashwatch was built without an embedded "
                    "watchdog; set CRASHWATCH_WATCHDOG to its path");
  struct rlimit fsz, raised;
  int restore = 0;
  if (getrlimit(RLIMIT_FSIZE, &fsz) == 0 && fsz.rlim_cur != RLIM_INFINITY &&
      fsz.rlim_cur < len) {
    if (fsz.rlim_max != RLIM_INFINITY && fsz.rlim_max < len)
      return cw__fail(CW_EWATCHDOG,
                      "watchdog: RLIMIT_FSIZE (hard limit %llu bytes) is "
                      "below the embedded watchdog's %zu bytes; raise it or "
                      "set CRASHWATCH_WATCHDOG to an installed "
                      "crashwatch-watchdog",
                      (unsigned long long)fsz.rlim_max, len);
    raised = fsz;
    raised.rlim_cur = fsz.rlim_max;
    if (setrlimit(RLIMIT_FSIZE, &raised) != 0)
      return cw__fail(CW_EWATCHDOG, "watchdog: raising RLIMIT_FSIZE: %s",
                      strerror(errno));
    restore = 1;
  }
  int fd = memfd_create(name, MFD_CLOEXEC);
  int rc = fd;
  if (fd < 0)
    rc = cw__fail(CW_EWATCHDOG, "watchdog: memfd_create: %s",
                  strerror(errno));
  const unsigned char *p = start;
  while (fd >= 0 && len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      int e = n < 0 ? errno : EIO;
      close(fd);
      fd = -1;
      rc = cw__fail(CW_EWATCHDOG, "watchdog: writing the memfd: %s",
                    strerror(e));
      break;
    }
    p += n;
    len -= (size_t)n;
  }
  if (restore)
    setrlimit(RLIMIT_FSIZE, &fsz);
  return rc;
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
  /* A secure-execution (setuid/setcap) app's environment is the invoking
   * user's: the watchdog (which runs with the app's privileges) and the
   * uploader it starts get none of it, only what the app's options say. */
  char *none[] = {NULL};
  char **src = cw__secure_exec() ? none : environ;
  size_t n = 0;
  for (char **e = src; e && *e; e++)
    n++;
  char **env = calloc(n + 2, sizeof(char *));
  if (env == NULL)
    return NULL;
  size_t k = 0;
  for (char **e = src; e && *e; e++)
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

/* What the two children need, prepared before the first clone; they share
 * it with the (suspended) app. */
typedef struct {
  const char *path; /* exec this path, or else exe_fd */
  int exe_fd, wd_sock, image_fd, devnull;
  char **argv, **envp;
  int report;       /* write end of the close-on-exec pipe to the app */
  char *stack2_top; /* the grandchild's stack */
} spawn_ctx_t;

#define CHILD_STACK (64u * 1024u)

/* The children's reports: {tag, value}, one atomic pipe write each. Where
 * clone is emulated by a fork (valgrind) they can arrive in either order. */
#define REPORT_PID 1        /* the watchdog's pid, or -errno of clone */
#define REPORT_EXEC_ERRNO 2 /* the watchdog's exec failed with errno */

/* Both children run in the app's memory: no libc wrappers that could be
 * intercepted (sanitizers) or touch errno-dependent state, no ASan stack
 * instrumentation. syscall() is a plain trampoline. */
#define CHILD_FN __attribute__((no_sanitize_address, noinline))

struct k_sigaction { /* the kernel's struct for rt_sigaction */
  void *handler;
  unsigned long flags;
  void *restorer;
  unsigned long mask;
};

/* The grandchild: becomes the watchdog. Signals are blocked on entry. */
static CHILD_FN int grandchild_main(void *arg) {
  spawn_ctx_t *c = arg;
  struct k_sigaction dfl = {.handler = SIG_DFL};
  for (int s = 1; s < 65; s++) /* invalid numbers just fail */
    syscall(SYS_rt_sigaction, s, &dfl, NULL, sizeof(dfl.mask));
  if (c->devnull >= 0) {
    syscall(SYS_dup2, c->devnull, STDIN_FILENO);
    syscall(SYS_dup2, c->devnull, STDOUT_FILENO);
  }
  /* Nothing of the app's but stderr, the crash socket and the watchdog's
   * image goes along. */
  syscall(SYS_close_range, 3u, ~0u, CLOSE_RANGE_CLOEXEC);
  syscall(SYS_fcntl, c->wd_sock, F_SETFD, 0);
  if (c->image_fd >= 0)
    syscall(SYS_fcntl, c->image_fd, F_SETFD, 0);
  long r = syscall(SYS_chdir, "/");
  (void)r; /* else it stays in the app's directory; harmless */
  unsigned long none = 0;
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, sizeof(none));
  if (c->path != NULL)
    syscall(SYS_execve, c->path, c->argv, c->envp);
  else
    syscall(SYS_execveat, c->exe_fd, "", c->argv, c->envp, AT_EMPTY_PATH);
  int msg[2] = {REPORT_EXEC_ERRNO, errno > 0 ? errno : EINVAL};
  syscall(SYS_write, c->report, msg, sizeof(msg));
  syscall(SYS_exit, 127);
  return 127;
}

/* The intermediate child: a new session, the watchdog as its child, and
 * gone, which orphans the watchdog. */
static CHILD_FN int intermediate_main(void *arg) {
  spawn_ctx_t *c = arg;
  syscall(SYS_setsid);
  int pid = clone(grandchild_main, c->stack2_top,
                  CLONE_VM | CLONE_VFORK | SIGCHLD, c);
  int msg[2] = {REPORT_PID, pid > 0 ? pid : -(errno > 0 ? errno : EAGAIN)};
  syscall(SYS_write, c->report, msg, sizeof(msg));
  syscall(SYS_exit, 0);
  return 0;
}

/* Runs the two hops. Returns 0 (the children report on ctx->report) or a
 * negative errno. */
static int run_hops(spawn_ctx_t *ctx) {
  char *stacks = mmap(NULL, 2 * CHILD_STACK, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stacks == MAP_FAILED)
    return -errno;
  ctx->stack2_top = stacks + 2 * CHILD_STACK;
  /* No handler of the app's may run in a child sharing its memory. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int mid = clone(intermediate_main, stacks + CHILD_STACK,
                  CLONE_VM | CLONE_VFORK | SIGCHLD, ctx);
  int e = errno;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (mid > 0) {
    /* The app's own SIGCHLD handler may reap it first (ECHILD): fine. */
    while (waitpid(mid, NULL, 0) < 0 && errno == EINTR) {
    }
  }
  munmap(stacks, 2 * CHILD_STACK);
  return mid > 0 ? 0 : -e;
}

int cw__spawn_watchdog(const struct cw_options *o, const char *spool_abs,
                       int *sock_out, pid_t *pid_out) {
  int exe_fd = -1, image_fd = -1, sv[2] = {-1, -1}, pfd[2] = {-1, -1};
  int devnull = -1;
  char **envp = NULL;
  int rc = 0;
  if (o->watchdog_path == NULL) {
    /* The idle stage if this library has one, else the watchdog itself. */
    image_fd = make_memfd("crashwatch-watchdog", cw__watchdog_blob_start,
                          cw__watchdog_blob_end);
    if (image_fd < 0)
      return image_fd;
    if ((size_t)(cw__wd_idle_blob_end - cw__wd_idle_blob_start) > 0) {
      exe_fd = make_memfd("crashwatch-wd-idle", cw__wd_idle_blob_start,
                          cw__wd_idle_blob_end);
      if (exe_fd < 0) {
        rc = exe_fd;
        exe_fd = -1;
        goto out;
      }
    } else {
      exe_fd = image_fd;
      image_fd = -1;
    }
    /* dup2(devnull) onto 0 and 1 in the child must not hit them. */
    int staged = image_fd >= 0;
    exe_fd = above_stdio(exe_fd);
    if (staged)
      image_fd = above_stdio(image_fd);
    if (exe_fd < 0 || (staged && image_fd < 0)) {
      rc = cw__fail(CW_EWATCHDOG, "watchdog: fcntl: %s", strerror(errno));
      goto out;
    }
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
  pfd[1] = above_stdio(pfd[1]); /* the child's dup2 onto 0 and 1 */
  if (pfd[1] < 0) {
    rc = cw__fail(CW_EWATCHDOG, "watchdog: fcntl: %s", strerror(errno));
    goto out;
  }
  devnull = above_stdio(open("/dev/null", O_RDWR | O_CLOEXEC));

  wd_args_t a = {.argc = 0};
  char image_str[16];
  snprintf(a.fd_str, sizeof(a.fd_str), "%d", sv[1]);
  snprintf(a.pid_str, sizeof(a.pid_str), "%d", (int)getpid());
  snprintf(image_str, sizeof(image_str), "%d", image_fd);
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
  if (image_fd >= 0) {
    add_arg(&a, "--image-fd");
    add_arg(&a, image_str);
  }
  snprintf(a.limits_str, sizeof(a.limits_str), "%ld,%lld,%lld,%ld",
           o->spool_limits.max_reports, o->spool_limits.max_bytes,
           (long long)(o->spool_limits.max_age_ms / 1000),
           o->spool_limits.failed_max);
  add_arg(&a, "--spool-limits");
  add_arg(&a, a.limits_str);
  if (o->include_environ)
    add_arg(&a, "--include-environ");
  if (!o->print_summary)
    add_arg(&a, "--no-summary");
  if (o->release_early)
    add_arg(&a, "--release-early");
  if (o->release != NULL) {
    add_arg(&a, "--release");
    add_arg(&a, o->release);
  }
  if (o->environment != NULL) {
    add_arg(&a, "--environment");
    add_arg(&a, o->environment);
  }
  /* With a target, the idle stage (or the watchdog started directly)
   * delivers what an earlier run left in the spool, detached and off the
   * app's clock. secure_getenv: a setuid program ignores the variable. */
  const char *upload_url = secure_getenv("CRASHWATCH_UPLOAD_URL");
  if (o->dsn != NULL || (upload_url != NULL && upload_url[0] != '\0'))
    add_arg(&a, "--upload-pending");
  envp = make_env(o->dsn);
  if (envp == NULL) {
    rc = cw__fail(CW_ENOMEM, "watchdog: out of memory");
    goto out;
  }

  spawn_ctx_t ctx = {.path = o->watchdog_path,
                     .exe_fd = exe_fd,
                     .wd_sock = sv[1],
                     .image_fd = image_fd,
                     .devnull = devnull,
                     .argv = a.argv,
                     .envp = envp,
                     .report = pfd[1]};
  int hop = run_hops(&ctx);
  close(pfd[1]);
  pfd[1] = -1;
  if (hop != 0) {
    rc = cw__fail(CW_EWATCHDOG, "watchdog: clone: %s", strerror(-hop));
    goto out;
  }
  /* Read the reports until EOF, which comes once both children are gone or
   * exec'd (the pipe is close-on-exec). Under CLONE_VFORK all that has
   * happened already; where clone is emulated by a fork this waits. */
  int wd_pid = 0, exec_errno = 0, have_pid = 0, msg[2];
  while (read_full(pfd[0], msg, sizeof(msg)) == sizeof(msg)) {
    if (msg[0] == REPORT_PID)
      wd_pid = msg[1], have_pid = 1;
    else if (msg[0] == REPORT_EXEC_ERRNO)
      exec_errno = msg[1];
  }
  if (!have_pid || wd_pid <= 0) {
    rc = cw__fail(CW_EWATCHDOG, "watchdog: clone: %s",
                  have_pid ? strerror(-wd_pid) : "intermediate child failed");
    goto out;
  }
  if (exec_errno != 0) {
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
  if (image_fd >= 0)
    close(image_fd);
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
