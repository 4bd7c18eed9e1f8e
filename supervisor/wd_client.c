/*
 * wd_client.c — ptrace mode's capture: the crashed process, stopped and
 * no longer traced by the supervisor, is handed to crashwatch-watchdog
 * with a crash record, exactly as the linked library's crash handler hands
 * it over (normal context).
 *
 * The watchdog gets its end of an AF_UNIX SOCK_SEQPACKET pair and the
 * command line libcrashwatch gives it (--fd, --pid, --spool, --summary-fd,
 * --release, --environment), then the record as one datagram; it seizes
 * every thread itself, writes and commits the report and acks. Closing our
 * end then ends it once it has symbolized the report and printed the
 * summary. So the report is the linked library's, byte for byte in format,
 * and the capture code has one caller protocol.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crashwatch.h"
#include "sup_internal.h"

/* How long a capture may take before the program is let go without it. */
#define ACK_TIMEOUT_MS 60000

extern char **environ;

int cw__sup_wd_capture(const cw__sup_config_t *cfg,
                       const cw__crash_record_t *rec, pid_t *wd_pid,
                       char *report, size_t cap) {
  *wd_pid = -1;
  report[0] = '\0';
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
    return CW_EINVAL;
  char fdbuf[16], pidbuf[16];
  snprintf(fdbuf, sizeof(fdbuf), "%d", sv[1]);
  snprintf(pidbuf, sizeof(pidbuf), "%d", (int)rec->pid);
  const char *argv[20];
  int argc = 0;
  argv[argc++] = "crashwatch-watchdog";
  argv[argc++] = "--fd";
  argv[argc++] = fdbuf;
  argv[argc++] = "--pid";
  argv[argc++] = pidbuf;
  argv[argc++] = "--spool";
  argv[argc++] = cfg->spool_dir;
  argv[argc++] = "--summary-fd";
  argv[argc++] = "2";
  if (!cfg->print_summary)
    argv[argc++] = "--no-summary";
  if (cfg->release != NULL) {
    argv[argc++] = "--release";
    argv[argc++] = cfg->release;
  }
  if (cfg->environment != NULL) {
    argv[argc++] = "--environment";
    argv[argc++] = cfg->environment;
  }
  argv[argc] = NULL;
  cw__sup_spool_ids_t before;
  cw__sup_spool_ids(cfg->spool_dir, &before);
  pid_t pid = fork();
  if (pid < 0) {
    cw__sup_spool_ids_free(&before);
    close(sv[0]);
    close(sv[1]);
    return CW_EINVAL;
  }
  if (pid == 0) {
    /* Its end survives the exec; the upload is the supervisor's (bounded by
     * --upload-timeout), so the watchdog gets no target. */
    fcntl(sv[1], F_SETFD, 0);
    cw__sup_signals_restore_child();
    unsetenv("SENTRY_DSN");
    unsetenv("CRASHWATCH_UPLOAD_URL");
    unsetenv("CRASHWATCH_WATCHDOG_DSN");
    unsetenv("LD_PRELOAD");
    execve(cfg->watchdog, (char **)argv, environ);
    _exit(127);
  }
  close(sv[1]);
  *wd_pid = pid;
  ssize_t n;
  do
    n = send(sv[0], rec, sizeof(*rec), MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  int rc = CW_ECAPTURE;
  if (n == (ssize_t)sizeof(*rec)) {
    struct pollfd p = {.fd = sv[0], .events = POLLIN};
    int pr;
    do
      pr = poll(&p, 1, ACK_TIMEOUT_MS);
    while (pr < 0 && errno == EINTR);
    cw__crash_ack_t ack;
    if (pr == 1 && recv(sv[0], &ack, sizeof(ack), 0) == (ssize_t)sizeof(ack) &&
        ack.magic == CW_CRASH_ACK_MAGIC)
      rc = ack.status;
    else if (pr == 0)
      rc = CW_ETIMEDOUT;
  }
  /* Our end closed: the watchdog finishes (symbolizes, prints the summary)
   * and exits; the main loop reaps it. */
  close(sv[0]);
  if (rc == 0)
    cw__sup_spool_new_report(cfg->spool_dir, &before, report, cap);
  cw__sup_spool_ids_free(&before);
  return rc;
}
