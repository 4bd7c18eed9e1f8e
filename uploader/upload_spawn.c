/* upload_spawn.c — detached `crashwatch upload --once`; see upload_spawn.h.
 * libc only. */
#include "upload_spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crashwatch.h"

int cw_upload_spawn_exec(const char *exe, const char *spool_dir,
                         const char *dsn, const char *url) {
  if (spool_dir == NULL || (dsn == NULL && url == NULL))
    return CW_EINVAL;
  if (exe == NULL) {
    const char *e = getenv("CRASHWATCH_CLI");
    exe = (e != NULL && e[0] != '\0') ? e : "crashwatch";
  }
  pid_t pid = fork();
  if (pid < 0)
    return errno ? -errno : CW_EAGAIN;
  if (pid == 0) {
    setsid();
    pid_t g = fork();
    if (g != 0)
      _exit(g < 0 ? 1 : 0);
    close_range(3, ~0U, 0);
    int devnull = open("/dev/null", O_RDWR);
    if (devnull >= 0) {
      dup2(devnull, 0);
      dup2(devnull, 1);
      if (devnull > 2)
        close(devnull);
    }
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
    execvp(exe, (char *const *)argv);
    _exit(127);
  }
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  return 0;
}
