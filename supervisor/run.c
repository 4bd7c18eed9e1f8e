/*
 * run.c — one run of the program, start to end: the supervisor's main
 * loop (normal context).
 *
 * Everything arrives through the signalfd: a forwarded signal is sent to
 * the program (or its process group), SIGCHLD means something to reap or,
 * in ptrace mode, a tracee stopped. Every waitpid(-1) status is handled
 * here, so zombies the supervisor inherits (it is a subreaper, or PID 1)
 * are reaped as they come. The run ends when the program's own process
 * ends; its status is returned as a shell reports it.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sup_internal.h"

/* The longest wait for watchdogs still finishing a report. */
#define HELPER_WAIT_MS 10000

static int is_stop_signal(int s) {
  return s == SIGTERM || s == SIGINT || s == SIGQUIT || s == SIGHUP;
}

static int shell_status(int st) {
  if (WIFEXITED(st))
    return WEXITSTATUS(st);
  if (WIFSIGNALED(st))
    return 128 + WTERMSIG(st);
  return 1;
}

/* Reads every pending signal from sigfd; forwards the forwarded ones to
 * target (a pid, or -pgid). Returns the last stop signal seen, or 0. */
static int read_signals(int sigfd, pid_t target, int verbose) {
  int stop = 0;
  struct signalfd_siginfo si;
  while (read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
    int s = (int)si.ssi_signo;
    if (s == SIGCHLD || target == 0)
      continue;
    if (verbose)
      cw__sup_log("forwarding %s to %s %d", cw__sup_signame(s),
                  target < 0 ? "process group" : "pid",
                  (int)(target < 0 ? -target : target));
    if (kill(target, s) != 0 && errno == ESRCH && target < 0)
      kill(-target, s); /* the group's leader may have left it */
    if (is_stop_signal(s))
      stop = s;
  }
  return stop;
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Offers a reaped child that is not the program to the events. */
static void reaped_other(const cw__sup_config_t *cfg, pid_t w, int st) {
  if (cfg->events.reaped != NULL)
    cfg->events.reaped(cfg->events.ctx, w, st);
}

/* The poll timeout the events want (-1: none). */
static int events_timeout(const cw__sup_config_t *cfg) {
  if (cfg->events.tick == NULL)
    return -1;
  long t = cfg->events.tick(cfg->events.ctx);
  if (t < 0)
    return -1;
  return t > 60000 ? 60000 : (int)t;
}

int cw__sup_idle(const cw__sup_config_t *cfg, int sigfd, long ms) {
  int64_t end = now_ms() + ms;
  for (;;) {
    int st;
    pid_t w;
    while ((w = waitpid(-1, &st, WNOHANG | __WALL)) > 0)
      if (!WIFSTOPPED(st))
        reaped_other(cfg, w, st);
    int64_t left = end - now_ms();
    if (left <= 0)
      return 0;
    int t = events_timeout(cfg);
    if (t < 0 || t > left)
      t = (int)left;
    struct pollfd p = {.fd = sigfd, .events = POLLIN};
    poll(&p, 1, t);
    int stop = read_signals(sigfd, 0, 0);
    if (stop)
      return stop;
  }
}

/* Whether one of this process's children is a crashwatch watchdog (its
 * name, set by watchdog/main.c). */
static int watchdog_child(void) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)getpid(),
           (int)getpid());
  FILE *f = fopen(path, "re");
  if (f == NULL)
    return 0;
  int found = 0, pid;
  while (!found && fscanf(f, "%d", &pid) == 1) {
    char cp[64], comm[32] = "";
    snprintf(cp, sizeof(cp), "/proc/%d/comm", pid);
    FILE *c = fopen(cp, "re");
    if (c == NULL)
      continue;
    if (fgets(comm, sizeof(comm), c) != NULL)
      found = strncmp(comm, "crashwatch-wd", 13) == 0;
    fclose(c);
  }
  fclose(f);
  return found;
}

void cw__sup_wait_watchdogs(const cw__sup_config_t *cfg, int sigfd, long ms) {
  int64_t end = now_ms() + ms;
  while (watchdog_child() && now_ms() < end)
    if (cw__sup_idle(cfg, sigfd, 50) != 0)
      break;
}

int cw__sup_run_once(const cw__sup_config_t *cfg, int sigfd,
                     cw__sup_result_t *res) {
  memset(res, 0, sizeof(*res));
  cw__sup_spool_ids_t before;
  cw__sup_spool_ids(cfg->spool_dir, &before);
  res->started_ms = now_ms();
  pid_t pid;
  int rc = cw__sup_spawn(cfg, &pid);
  if (rc != 0) {
    cw__sup_spool_ids_free(&before);
    return rc;
  }
  res->pid = pid;
  cw__sup_tracer_t *tr = NULL;
  if (cfg->mode == CW__SUP_PTRACE) {
    tr = cw__sup_tracer_new(cfg, pid);
    if (tr == NULL) {
      kill(pid, SIGKILL);
      cw__sup_log("out of memory");
      cw__sup_spool_ids_free(&before);
      return 125;
    }
  }
  pid_t target = cfg->pgroup ? -pid : pid;
  int done = 0;
  while (!done) {
    struct pollfd p = {.fd = sigfd, .events = POLLIN};
    if (poll(&p, 1, events_timeout(cfg)) < 0 && errno != EINTR)
      break;
    int stop = read_signals(sigfd, target, cfg->verbose);
    if (stop)
      res->stop_signal = stop;
    for (;;) {
      int st;
      pid_t w = waitpid(-1, &st, WNOHANG | __WALL);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        break;
      if (WIFSTOPPED(st)) {
        if (tr != NULL)
          cw__sup_tracer_stop(tr, w, st, res);
        continue;
      }
      int helper = tr != NULL && cw__sup_tracer_is_helper(tr, w);
      if (tr != NULL)
        cw__sup_tracer_gone(tr, w);
      if (w == pid) {
        res->status = st;
        res->exit_code = shell_status(st);
        res->ended_ms = now_ms();
        done = 1;
      } else if (!helper) {
        reaped_other(cfg, w, st);
      }
    }
  }
  /* The watchdogs started for crashes are symbolizing the committed
   * reports and printing their summaries: give them a bounded moment. */
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  while (tr != NULL && cw__sup_tracer_helpers(tr) > 0) {
    int st;
    pid_t w;
    while ((w = waitpid(-1, &st, WNOHANG | __WALL)) > 0) {
      if (WIFSTOPPED(st))
        continue;
      if (cw__sup_tracer_is_helper(tr, w))
        cw__sup_tracer_gone(tr, w);
      else
        reaped_other(cfg, w, st);
    }
    clock_gettime(CLOCK_MONOTONIC, &now);
    if ((now.tv_sec - start.tv_sec) * 1000 +
            (now.tv_nsec - start.tv_nsec) / 1000000 >=
        HELPER_WAIT_MS)
      break;
    struct pollfd p = {.fd = sigfd, .events = POLLIN};
    poll(&p, 1, 50);
    read_signals(sigfd, 0, 0);
  }
  cw__sup_tracer_free(tr);
  /* The reports this run wrote (preload mode: the program's watchdog
   * wrote them; ptrace mode: res->report is set already). */
  char newest[sizeof(res->report)];
  res->new_reports =
      cw__sup_spool_new_report(cfg->spool_dir, &before, newest, sizeof(newest));
  if (res->report[0] == '\0')
    memcpy(res->report, newest, sizeof(newest));
  cw__sup_spool_ids_free(&before);
  return 0;
}
