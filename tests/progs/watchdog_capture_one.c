/*
 * watchdog_capture_one.c — runs one crash through the capture library, for
 * script tests and by hand: spawns a watchdog_target, waits for its crash
 * record, calls cw__wd_handle_crash() (summary to stderr), prints the report
 * directory on stdout. Exits 0 if the report was written and the child
 * died by SIGSEGV.
 *
 *   watchdog_capture_one TARGET SPOOL_DIR [NTHREADS] [--environ]
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "capture.h"
#include "crash_record.h"
#include "spool.h"

static int ack_fd;

static void release(void *ctx, int status) {
  (void)ctx;
  (void)status;
  if (write(ack_fd, "k", 1) != 1)
    perror("ack");
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s TARGET SPOOL [NTHREADS] [--environ]\n", argv[0]);
    return 2;
  }
  const char *nthreads = argc > 3 ? argv[3] : "5";
  int recp[2], ackp[2];
  if (pipe2(recp, O_CLOEXEC) != 0 || pipe2(ackp, O_CLOEXEC) != 0)
    return 1;
  pid_t pid = fork();
  if (pid == 0) {
    fcntl(recp[1], F_SETFD, 0);
    fcntl(ackp[0], F_SETFD, 0);
    char a[16], b[16];
    snprintf(a, sizeof(a), "%d", recp[1]);
    snprintf(b, sizeof(b), "%d", ackp[0]);
    execl(argv[1], argv[1], a, b, nthreads, (char *)NULL);
    _exit(127);
  }
  close(recp[1]);
  close(ackp[0]);
  ack_fd = ackp[1];
  cw__crash_record_t rec;
  size_t got = 0;
  while (got < sizeof(rec)) {
    ssize_t r = read(recp[0], (char *)&rec + got, sizeof(rec) - got);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0) {
      fprintf(stderr, "no crash record from %s\n", argv[1]);
      return 1;
    }
    got += (size_t)r;
  }
  if (cw__spool_ensure_dir(argv[2], NULL, 0) != 0)
    return 1;
  wd_config_t cfg = {.spool_dir = argv[2],
                     .include_environ =
                         argc > 4 && strcmp(argv[4], "--environ") == 0,
                     .print_summary = 1,
                     .summary_fd = 2};
  char report[4096];
  int rc =
      cw__wd_handle_crash(&cfg, &rec, release, NULL, report, sizeof(report));
  int st;
  waitpid(pid, &st, 0);
  if (rc != 0) {
    fprintf(stderr, "cw__wd_handle_crash: %d\n", rc);
    return 1;
  }
  printf("%s\n", report);
  return WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV ? 0 : 1;
}
