/*
 * signals.c — the supervisor's signal set-up (normal context).
 *
 * The forwarded signals and SIGCHLD are blocked and read from a signalfd,
 * so the main loop handles them one at a time with no handler racing it.
 * A blocked signal is not discarded even when the supervisor is PID 1 of
 * its namespace (the kernel drops only signals whose disposition is the
 * default there, and a blocked signal is kept pending), so `docker stop`
 * reaches the program. The program starts with the mask the supervisor
 * was started with.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "crashwatch.h"
#include "supervisor.h"

const int cw__sup_forwarded[7] = {SIGTERM, SIGINT,  SIGHUP,  SIGQUIT,
                                  SIGUSR1, SIGUSR2, SIGWINCH};

static sigset_t child_mask;

int cw__sup_signals_setup(void) {
  sigset_t set;
  sigemptyset(&set);
  for (size_t i = 0; i < 7; i++)
    sigaddset(&set, cw__sup_forwarded[i]);
  sigaddset(&set, SIGCHLD);
  if (sigprocmask(SIG_BLOCK, &set, &child_mask) != 0)
    return CW_EINVAL;
  /* A program started under a terminal in its own group must be able to
   * take the terminal without the supervisor being stopped for it. */
  signal(SIGTTOU, SIG_IGN);
  signal(SIGTTIN, SIG_IGN);
  signal(SIGPIPE, SIG_IGN);
  int fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (fd < 0)
    return CW_EINVAL;
  /* Orphans of the program (a daemon's double fork) become ours to reap.
   * As PID 1 they are ours anyway. */
  if (getpid() != 1)
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  return fd;
}

void cw__sup_signals_restore_child(void) {
  signal(SIGTTOU, SIG_DFL);
  signal(SIGTTIN, SIG_DFL);
  signal(SIGPIPE, SIG_DFL);
  sigprocmask(SIG_SETMASK, &child_mask, NULL);
}
