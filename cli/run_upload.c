/* run_upload.c — `crashwatch run` delivers the spool once the program has
 * ended, before exiting: a container's entrypoint that exits takes every
 * process of the container with it, so a detached uploader would be killed
 * mid-send. The pass runs in a child (libcurl is loaded there, by the
 * uploader's dlopen, and never in the supervisor) and is bounded by
 * --upload-timeout rather than by a fixed short cap. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "run_upload.h"
#include "spool.h"

int cw__run_upload_init(cw__run_upload_t *up, const char *dsn, const char *url,
                        const char *format, long timeout_ms, char *err,
                        size_t errlen) {
  memset(up, 0, sizeof(*up));
  up->timeout_ms = timeout_ms;
  cw__upload_config_init(&up->cfg);
  if (dsn == NULL && url == NULL) {
    dsn = getenv("SENTRY_DSN");
    url = getenv("CRASHWATCH_UPLOAD_URL");
  }
  if (format == NULL)
    format = getenv("CRASHWATCH_UPLOAD_FORMAT");
  if (dsn != NULL && dsn[0] == '\0')
    dsn = NULL;
  if (url != NULL && url[0] == '\0')
    url = NULL;
  if (dsn == NULL && url == NULL)
    return 0;
  if (cw__upload_config_target(&up->cfg, dsn, url, format, err, errlen) != 0)
    return -1;
  /* The target's syntax now; the spool is checked when it is used. */
  up->cfg.spool_dir = "/";
  if (cw__upload_config_check(&up->cfg, err, errlen) != 0 &&
      (up->cfg.format == CW_UPLOAD_ENVELOPE ? dsn != NULL : url != NULL)) {
    /* A message about the spool ("/") is not the target's fault. */
    if (strstr(err, "spool") == NULL)
      return -1;
  }
  up->enabled = 1;
  return 0;
}

pid_t cw__run_upload_start(cw__run_upload_t *up, const char *spool, int *fd) {
  *fd = -1;
  if (!up->enabled)
    return 0;
  char **ids = NULL;
  size_t n = 0;
  if (cw__spool_list(spool, &ids, &n) != 0 || n == 0) {
    if (ids != NULL)
      cw__spool_list_free(ids, n);
    return 0;
  }
  cw__spool_list_free(ids, n);
  up->cfg.spool_dir = spool;
  if (up->timeout_ms < up->cfg.timeout_ms)
    up->cfg.timeout_ms = up->timeout_ms > 0 ? up->timeout_ms : 1;
  if (up->timeout_ms < up->cfg.connect_timeout_ms)
    up->cfg.connect_timeout_ms = up->timeout_ms > 0 ? up->timeout_ms : 1;
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0)
    return -1;
  pid_t pid = fork();
  if (pid < 0) {
    close(p[0]);
    close(p[1]);
    return -1;
  }
  if (pid == 0) {
    close(p[0]);
    sigset_t all;
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    signal(SIGALRM, SIG_DFL);
    alarm((unsigned)((up->timeout_ms + 999) / 1000));
    cw__upload_stats_t st;
    memset(&st, 0, sizeof(st));
    int rc = cw__upload_run_exclusive(&up->cfg, -1, &st);
    ssize_t w = write(p[1], &st, sizeof(st));
    (void)w;
    _exit(rc != 0 ? 1 : st.pending > 0 ? 4 : 0);
  }
  close(p[1]);
  *fd = p[0];
  return pid;
}

int cw__run_upload_collect(int fd, cw__upload_stats_t *st) {
  memset(st, 0, sizeof(*st));
  if (fd < 0)
    return -1;
  ssize_t r;
  do
    r = read(fd, st, sizeof(*st));
  while (r < 0 && errno == EINTR);
  close(fd);
  if (r != (ssize_t)sizeof(*st)) {
    memset(st, 0, sizeof(*st));
    return -1;
  }
  return 0;
}

void cw__run_upload(cw__run_upload_t *up, const char *spool, int sigfd,
                    cw__upload_stats_t *stats) {
  memset(stats, 0, sizeof(*stats));
  int fd;
  pid_t pid = cw__run_upload_start(up, spool, &fd);
  if (pid <= 0)
    return;
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    int st;
    pid_t w = waitpid(pid, &st, WNOHANG);
    if (w == pid || (w < 0 && errno != EINTR)) {
      if (w == pid && WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM)
        fprintf(stderr,
                "crashwatch run: the upload did not finish within "
                "--upload-timeout (%ld ms); what was not sent stays in %s\n",
                up->timeout_ms, spool);
      cw__run_upload_collect(fd, stats);
      return;
    }
    clock_gettime(CLOCK_MONOTONIC, &now);
    long el = (long)((now.tv_sec - start.tv_sec) * 1000 +
                     (now.tv_nsec - start.tv_nsec) / 1000000);
    if (el >= up->timeout_ms + 1000) {
      kill(pid, SIGKILL);
      waitpid(pid, &st, 0);
      close(fd);
      fprintf(stderr,
              "crashwatch run: the upload did not finish within "
              "--upload-timeout (%ld ms); what was not sent stays in %s\n",
              up->timeout_ms, spool);
      return;
    }
    struct pollfd p = {.fd = sigfd, .events = POLLIN};
    poll(&p, 1, 50);
    struct signalfd_siginfo si;
    while (read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
      ;
  }
}
