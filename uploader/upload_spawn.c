/* upload_spawn.c — detached `crashwatch upload --once`; see upload_spawn.h.
 * libc only. */
#include "upload_spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crashwatch.h"

int cw_upload_detach(int keep_fd) {
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
    /* Keep nothing of the caller's but stderr and keep_fd: a long upload
     * must not hold the watchdog's pipes (or sockets) open. */
    if (keep_fd > 2) {
      close_range(3, (unsigned)keep_fd - 1, 0);
      close_range((unsigned)keep_fd + 1, ~0U, 0);
    } else {
      close_range(3, ~0U, 0);
    }
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull >= 0) {
      dup2(devnull, 0);
      dup2(devnull, 1);
      if (devnull > 2)
        close(devnull);
    }
    return 0;
  }
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  return 1;
}

/* Finds name as execvp would (a name with a slash is taken as it is), then
 * falls back to the crashwatch installed beside this build
 * (CW_INSTALLED_CLI). */
static int resolve_exe(const char *name, char *out, size_t cap) {
  if (strchr(name, '/') != NULL) {
    if (access(name, X_OK) != 0 ||
        (size_t)snprintf(out, cap, "%s", name) >= cap)
      return -1;
    return 0;
  }
  const char *path = getenv("PATH");
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
#ifdef CW_INSTALLED_CLI
  if (strcmp(name, "crashwatch") == 0 && access(CW_INSTALLED_CLI, X_OK) == 0 &&
      (size_t)snprintf(out, cap, "%s", CW_INSTALLED_CLI) < cap)
    return 0;
#endif
  return -1;
}

int cw_upload_spawn_exec(const char *exe, const char *spool_dir,
                         const char *dsn, const char *url) {
  if (spool_dir == NULL || (dsn == NULL && url == NULL))
    return CW_EINVAL;
  char found[PATH_MAX];
  if (exe == NULL) {
    const char *e = getenv("CRASHWATCH_CLI");
    exe = (e != NULL && e[0] != '\0') ? e : "crashwatch";
  }
  /* Resolve the executable here, in the caller, so "no uploader installed"
   * is an error the caller can log (the report stays in the spool) rather
   * than a silent exit 127 in a detached grandchild. */
  if (resolve_exe(exe, found, sizeof(found)) != 0)
    return CW_ENOENT;
  exe = found;
  int rc = cw_upload_detach(-1);
  if (rc != 0)
    return rc < 0 ? rc : 0;
  /* The detached grandchild. */
  unsetenv("SENTRY_DSN");
  unsetenv("CRASHWATCH_UPLOAD_URL");
  if (dsn != NULL)
    setenv("SENTRY_DSN", dsn, 1);
  else
    setenv("CRASHWATCH_UPLOAD_URL", url, 1);
  const char *argv[12];
  int n = 0;
  argv[n++] = exe;
  argv[n++] = "upload";
  argv[n++] = "--once";
  argv[n++] = "--quiet";
  argv[n++] = "--spool";
  argv[n++] = spool_dir;
  if (dsn != NULL && url != NULL) {
    argv[n++] = "--url";
    argv[n++] = url;
    argv[n++] = "--format";
    argv[n++] = "envelope";
  }
  argv[n] = NULL;
  execv(exe, (char *const *)argv);
  _exit(127);
}
