/*
 * launch.c — starts a watchdog process: the two vfork-style hops that
 * cw_init() (spawn.c) and the crash handler (crash_spawn.c) share.
 * SIGNAL CONTEXT: cw__launch() runs inside the crash handler of a forked
 * child or of a process whose crash socket is gone, so it makes only
 * async-signal-safe calls (tests/check-signal-safe.sh), and both children
 * share the caller's memory, so they make raw system calls only and use
 * only memory prepared before the first clone.
 *
 * Two hops (CLONE_VM|CLONE_VFORK, each on its own stack from the
 * preallocated pair) make the watchdog a grandchild that the intermediate
 * child orphans, so the app never sees it in waitpid(-1) or SIGCHLD, without
 * copying the app's page tables twice as fork() would; the intermediate
 * child exits with no signal to the app (exit signal 0, reaped with
 * __WALL), and setsid() keeps terminal signals aimed at the app's process
 * group (Ctrl-C) from killing the watchdog mid-capture. The caller is
 * suspended until the watchdog has exec()d or failed to; the watchdog's pid
 * and an exec failure's errno come back on a close-on-exec pipe (not
 * through the shared memory: valgrind runs such a clone as a fork).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cw_internal.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* The children's reports: {tag, value}, one atomic pipe write each. Where
 * clone is emulated by a fork (valgrind) they can arrive in either order. */
#define REPORT_PID 1        /* the watchdog's pid, or -errno of clone */
#define REPORT_EXEC_ERRNO 2 /* the watchdog's exec failed with errno */

/* Both children run in the caller's memory: no libc wrappers that could be
 * intercepted (sanitizers) or touch errno-dependent state, no ASan stack
 * instrumentation. syscall() is a plain trampoline. */
#define CHILD_FN __attribute__((no_sanitize_address, noinline))

/* The grandchild: becomes the watchdog. Signals are blocked on entry, and
 * stay blocked until the exec, which puts every caught signal back to its
 * default action, so no handler of the app's can run here; the watchdog
 * puts the ones the app ignored back itself (watchdog/main.c), off the
 * app's clock. */
static CHILD_FN int grandchild_main(void *arg) {
  cw__launch_t *c = arg;
  if (c->devnull >= 0) {
    syscall(SYS_dup2, c->devnull, STDIN_FILENO);
    syscall(SYS_dup2, c->devnull, STDOUT_FILENO);
  }
  /* Nothing of the app's but stderr, the crash socket, the watchdog's
   * image and the scope mapping goes along. */
  syscall(SYS_close_range, 3u, ~0u, CLOSE_RANGE_CLOEXEC);
  syscall(SYS_fcntl, c->wd_sock, F_SETFD, 0);
  if (c->image_fd >= 0)
    syscall(SYS_fcntl, c->image_fd, F_SETFD, 0);
  if (c->scope_fd >= 0)
    syscall(SYS_fcntl, c->scope_fd, F_SETFD, 0);
  long r = syscall(SYS_chdir, "/");
  (void)r; /* else it stays in the app's directory; harmless */
  /* Only the stop signals blocked, as the watchdog keeps them (a stop
   * signals the whole cgroup; the watchdog ends when the app's end of the
   * socket closes, after any report it is writing). Blocked from the
   * exec on: the full watchdog's start (the dynamic loader, libc, a
   * sanitizer's runtime) takes milliseconds, and a SIGTERM in them would
   * otherwise kill it by default before main() blocks them. */
  unsigned long stop =
      (1ul << (SIGHUP - 1)) | (1ul << (SIGINT - 1)) | (1ul << (SIGTERM - 1));
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &stop, NULL, sizeof(stop));
  /* syscall() leaves the reason in errno: the caller's thread's (no
   * CLONE_SETTLS), which it does not read while suspended, and the crash
   * handler restores errno before it returns anyway. */
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
  cw__launch_t *c = arg;
  syscall(SYS_setsid);
  int pid = clone(grandchild_main, c->stacks + 2 * CW__LAUNCH_STACK,
                  CLONE_VM | CLONE_VFORK | SIGCHLD, c);
  int msg[2] = {REPORT_PID, pid > 0 ? pid : -(errno > 0 ? errno : EAGAIN)};
  syscall(SYS_write, c->report, msg, sizeof(msg));
  syscall(SYS_exit, 0);
  return 0;
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

int cw__launch(cw__launch_t *c, int *exec_errno) {
  *exec_errno = 0;
  int pfd[2];
  if (syscall(SYS_pipe2, pfd, O_CLOEXEC) != 0)
    return -errno;
  /* The grandchild's dup2 onto 0 and 1 must not hit the pipe. */
  if (pfd[1] <= 2) {
    int moved = fcntl(pfd[1], F_DUPFD_CLOEXEC, 3);
    close(pfd[1]);
    if (moved < 0) {
      int e = errno;
      close(pfd[0]);
      return -e;
    }
    pfd[1] = moved;
  }
  c->report = pfd[1];
  /* No handler of the app's may run in a child sharing its memory. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int mid = clone(intermediate_main, c->stacks + CW__LAUNCH_STACK,
                  CLONE_VM | CLONE_VFORK, c);
  int e = errno;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  close(pfd[1]);
  if (mid > 0) {
    while (syscall(SYS_wait4, mid, NULL, __WALL, NULL) < 0 && errno == EINTR) {
    }
  }
  /* Read the reports until EOF, which comes once both children are gone
   * or exec'd (the pipe is close-on-exec). Under CLONE_VFORK all that has
   * happened already; where clone is emulated by a fork this waits. */
  int wd_pid = 0, have_pid = 0, msg[2];
  while (mid > 0 && read_full(pfd[0], msg, sizeof(msg)) == sizeof(msg)) {
    if (msg[0] == REPORT_PID)
      wd_pid = msg[1], have_pid = 1;
    else if (msg[0] == REPORT_EXEC_ERRNO)
      *exec_errno = msg[1];
  }
  close(pfd[0]);
  if (mid <= 0)
    return -(e > 0 ? e : EAGAIN);
  if (!have_pid)
    return -ECHILD; /* the intermediate child died before reporting */
  if (wd_pid <= 0)
    return wd_pid < 0 ? wd_pid : -EAGAIN;
  if (*exec_errno != 0)
    return -*exec_errno;
  return wd_pid;
}
