/* upload_spawn.c — detached uploaders (the CLI, or this executable in upload
 * mode); see upload_spawn.h. libc only. */
#include "upload_spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crashwatch.h"
#include "upload_lock.h"

extern char **environ;

static int kept(const int *keep, int nkeep, int fd) {
  for (int i = 0; i < nkeep; i++)
    if (keep[i] == fd)
      return 1;
  return 0;
}

int cw__upload_detach(const int *keep, int nkeep) {
  pid_t pid = fork();
  if (pid < 0)
    return errno ? -errno : CW_EAGAIN;
  if (pid == 0) {
    /* Intermediate child: a new session, then hand the work to a grandchild
     * (re-parented to init) and exit, so the caller reaps only us, now. */
    setsid();
    pid_t g = fork();
    if (g != 0)
      _exit(g < 0 ? 1 : 0);
    /* The watchdog blocks its stop signals while it writes a report; the
     * uploader must stay stoppable. */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    /* Keep nothing of the caller's but stderr and the kept descriptors: a
     * long upload must not hold the watchdog's pipes (or sockets) open. */
    unsigned from = 3;
    for (;;) {
      int next = -1; /* the smallest kept fd >= from */
      for (int i = 0; i < nkeep; i++)
        if (keep[i] >= (int)from && (next < 0 || keep[i] < next))
          next = keep[i];
      if (next < 0) {
        close_range(from, ~0U, 0);
        break;
      }
      if ((unsigned)next > from)
        close_range(from, (unsigned)next - 1, 0);
      from = (unsigned)next + 1;
    }
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull >= 0) {
      dup2(devnull, 0);
      dup2(devnull, 1);
      if (devnull > 2 && !kept(keep, nkeep, devnull))
        close(devnull);
    }
    return 0;
  }
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  return 1;
}

int cw__upload_lock_for_spawn(const char *spool_dir) {
  int krc = cw__upload_kick(spool_dir);
  int fd = cw__upload_lock_try(spool_dir, 0, NULL);
  if (fd == CW_EBUSY)
    return krc == 0 ? CW_EBUSY : -1;
  return fd >= 0 ? fd : -1;
}

/* Finds name as execvp would (a name with a slash is taken as it is). */
static int resolve_exe(const char *name, char *out, size_t cap) {
  if (strchr(name, '/') != NULL) {
    if (access(name, X_OK) != 0 ||
        (size_t)snprintf(out, cap, "%s", name) >= cap)
      return -1;
    return 0;
  }
  /* secure_getenv: in a setuid program's uploader neither PATH nor
   * CRASHWATCH_CLI may pick what runs (docs/security.md). */
  const char *path = secure_getenv("PATH");
  if (path == NULL)
    path = "/usr/local/bin:/usr/bin:/bin";
  while (*path != '\0') {
    size_t len = strcspn(path, ":");
    if ((size_t)snprintf(out, cap, "%.*s/%s", (int)len, len ? path : ".",
                         name) < cap &&
        access(out, X_OK) == 0)
      return 0;
    path += len;
    if (*path == ':')
      path++;
  }
  return -1;
}

static void set_or_unset(const char *name, const char *value) {
  if (value != NULL && value[0] != '\0')
    setenv(name, value, 1);
  else
    unsetenv(name);
}

/* In the detached grandchild, after a failed exec: one line on stderr. */
static void __attribute__((noreturn)) exec_failed(const char *what) {
  char line[PATH_MAX + 128];
  int n = snprintf(line, sizeof(line),
                   "crashwatch: cannot start the uploader %s: %s; the "
                   "reports stay in the spool\n",
                   what, strerror(errno));
  if (n > 0) {
    ssize_t w = write(STDERR_FILENO, line,
                      (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
    (void)w;
  }
  _exit(127);
}

/* In the detached grandchild: the spool lock's fd survives the exec and
 * the uploader is told which it is ("--lock-fd N", N written into fd_str),
 * appended to argv[0..n), then argv's terminating NULL. */
static void lock_fd_args(int lock_fd, char fd_str[16], const char **argv,
                         int n) {
  if (lock_fd >= 0) {
    fcntl(lock_fd, F_SETFD, 0);
    snprintf(fd_str, 16, "%d", lock_fd);
    argv[n++] = "--lock-fd";
    argv[n++] = fd_str;
  }
  argv[n] = NULL;
}

int cw__upload_spawn_exec(const char *exe, const char *spool_dir,
                          const char *dsn, const char *url) {
  if (spool_dir == NULL || (dsn == NULL && url == NULL))
    return CW_EINVAL;
  char found[PATH_MAX];
  if (exe == NULL) {
    exe = secure_getenv("CRASHWATCH_CLI");
    if (exe == NULL || exe[0] == '\0')
      return CW_ENOENT;
  }
  /* Resolve the executable here, in the caller, so "no uploader installed"
   * is an error the caller can log (the report stays in the spool) rather
   * than a silent exit 127 in a detached grandchild. */
  if (resolve_exe(exe, found, sizeof(found)) != 0)
    return CW_ENOENT;
  exe = found;
  int lock_fd = cw__upload_lock_for_spawn(spool_dir);
  if (lock_fd == CW_EBUSY)
    return CW_EBUSY;
  int rc = cw__upload_detach(&lock_fd, 1);
  if (rc != 0) {
    if (lock_fd >= 0)
      close(lock_fd);
    return rc < 0 ? rc : 0;
  }
  /* The detached grandchild. The target goes in the environment only. */
  set_or_unset("SENTRY_DSN", dsn);
  set_or_unset("CRASHWATCH_UPLOAD_URL", url);
  char fd_str[16];
  const char *argv[10];
  int n = 0;
  argv[n++] = exe;
  argv[n++] = "upload";
  argv[n++] = "--once";
  argv[n++] = "--quiet";
  argv[n++] = "--spool";
  argv[n++] = spool_dir;
  lock_fd_args(lock_fd, fd_str, argv, n);
  execv(exe, (char *const *)argv);
  exec_failed(exe);
}

int cw__upload_spawn_self(int image_fd, const char *spool_dir, const char *dsn,
                          const char *url) {
  if (spool_dir == NULL || (dsn == NULL && url == NULL))
    return CW_EINVAL;
  int lock_fd = cw__upload_lock_for_spawn(spool_dir);
  if (lock_fd == CW_EBUSY)
    return CW_EBUSY;
  int keep[2] = {lock_fd, image_fd};
  int rc = cw__upload_detach(keep, 2);
  if (rc != 0) {
    if (lock_fd >= 0)
      close(lock_fd);
    return rc < 0 ? rc : 0;
  }
  set_or_unset(CW_UPLOAD_DSN_ENV, dsn);
  set_or_unset("CRASHWATCH_UPLOAD_URL", url);
  char fd_str[16];
  const char *argv[8];
  int n = 0;
  argv[n++] = "crashwatch-upload";
  argv[n++] = "--upload";
  argv[n++] = "--spool";
  argv[n++] = spool_dir;
  lock_fd_args(lock_fd, fd_str, argv, n);
  if (image_fd >= 0) {
    /* The memfd may be close-on-exec: fine for an ELF image. */
    syscall(SYS_execveat, image_fd, "", (char *const *)argv, environ,
            AT_EMPTY_PATH);
    exec_failed("(the watchdog's image)");
  }
  execv("/proc/self/exe", (char *const *)argv);
  exec_failed("/proc/self/exe");
}
