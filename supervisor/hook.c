/*
 * hook.c — `--on-crash CMD`: a command run after a crash, for remediation,
 * paging or cleanup (normal context).
 *
 * CMD runs with /bin/sh -c in a process group of its own, with the crash
 * in its environment:
 *   CRASHWATCH_REPORT       the report directory ("" when none was found)
 *   CRASHWATCH_SIGNAL       its signal's name (SIGSEGV), "" if none
 *   CRASHWATCH_SIGNAL_NUMBER
 *   CRASHWATCH_PID          the crashed process
 *   CRASHWATCH_EXIT_STATUS  the program's exit status as a shell gives it
 *   CRASHWATCH_SUMMARY      one line: "SIGSEGV in crash_here (pid 123,
 *                           exit status 139)"
 *   CRASHWATCH_CRASH_COUNT  crashes of the same signature in the dedupe
 *                           window, this one included
 * The supervisor does not wait for it: restarts go on while it runs. It is
 * reaped by the supervisor's main loop (cw__sup_hooks_reaped), which logs
 * a failure (non-zero exit, death by a signal); one still running after
 * its timeout is killed (its whole group) and that is logged too. At most
 * CW__SUP_MAX_HOOKS run at once; beyond that a crash's hook is skipped,
 * with a log line.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sup_internal.h"

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void cw__sup_hooks_init(cw__sup_hooks_t *hs, const char *cmd, long timeout_ms) {
  memset(hs, 0, sizeof(*hs));
  hs->cmd = cmd;
  hs->timeout_ms = timeout_ms;
}

int cw__sup_hook_start(cw__sup_hooks_t *hs, const cw__sup_crash_t *c) {
  if (hs->cmd == NULL)
    return 0;
  if (hs->n == CW__SUP_MAX_HOOKS) {
    cw__sup_log("--on-crash: %d hooks still running; not running it for "
                "pid %d",
                CW__SUP_MAX_HOOKS, (int)c->pid);
    return -1;
  }
  char num[4][24];
  snprintf(num[0], sizeof(num[0]), "%d", c->signo);
  snprintf(num[1], sizeof(num[1]), "%d", (int)c->pid);
  snprintf(num[2], sizeof(num[2]), "%d", c->exit_code);
  snprintf(num[3], sizeof(num[3]), "%ld", c->count);
  pid_t pid = fork();
  if (pid < 0) {
    cw__sup_log("--on-crash: fork: %s", strerror(errno));
    return -1;
  }
  if (pid == 0) {
    setpgid(0, 0);
    cw__sup_signals_restore_child();
    setenv("CRASHWATCH_REPORT", c->report, 1);
    setenv("CRASHWATCH_SIGNAL", c->signo ? cw__sup_signame(c->signo) : "", 1);
    setenv("CRASHWATCH_SIGNAL_NUMBER", num[0], 1);
    setenv("CRASHWATCH_PID", num[1], 1);
    setenv("CRASHWATCH_EXIT_STATUS", num[2], 1);
    setenv("CRASHWATCH_SUMMARY", c->summary, 1);
    setenv("CRASHWATCH_CRASH_COUNT", num[3], 1);
    execl("/bin/sh", "sh", "-c", hs->cmd, (char *)NULL);
    _exit(127);
  }
  setpgid(pid, pid);
  hs->h[hs->n].pid = pid;
  hs->h[hs->n].deadline_ms = now_ms() + hs->timeout_ms;
  hs->h[hs->n].killed = 0;
  hs->n++;
  return 0;
}

int cw__sup_hooks_reaped(cw__sup_hooks_t *hs, pid_t pid, int st) {
  for (size_t i = 0; i < hs->n; i++) {
    if (hs->h[i].pid != pid)
      continue;
    if (hs->h[i].killed)
      cw__sup_log("--on-crash hook (pid %d) killed after its timeout "
                  "(%ld ms)",
                  (int)pid, hs->timeout_ms);
    else if (WIFEXITED(st) && WEXITSTATUS(st) != 0)
      cw__sup_log("--on-crash hook (pid %d) failed: exit status %d", (int)pid,
                  WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
      cw__sup_log("--on-crash hook (pid %d) failed: killed by %s", (int)pid,
                  cw__sup_signame(WTERMSIG(st)));
    hs->h[i] = hs->h[--hs->n];
    return 1;
  }
  return 0;
}

long cw__sup_hooks_tick(cw__sup_hooks_t *hs) {
  int64_t now = now_ms();
  long next = -1;
  for (size_t i = 0; i < hs->n; i++) {
    if (!hs->h[i].killed && now >= hs->h[i].deadline_ms) {
      kill(-hs->h[i].pid, SIGKILL);
      hs->h[i].killed = 1;
    }
    if (!hs->h[i].killed) {
      long left = (long)(hs->h[i].deadline_ms - now);
      if (next < 0 || left < next)
        next = left;
    }
  }
  return next;
}
