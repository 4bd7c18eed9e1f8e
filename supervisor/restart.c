/*
 * restart.c — the restart policy: whether to start the program again after
 * it ended, and after how long (normal context; pure, no clock of its own:
 * the caller passes the times, so the unit tests need no sleeping).
 *
 *   no          never (the default);
 *   on-failure  when it exited non-zero or died by a signal;
 *   always      whatever its status;
 * and in every case never after the supervisor was told to stop (it
 * forwarded SIGTERM, SIGINT, SIGHUP or SIGQUIT).
 *
 * Delays grow exponentially: delay, 2*delay, 4*delay ... up to delay_max,
 * and fall back to delay after a run that lasted at least 10 s, or
 * delay_max when that is longer (the program was up: this is not the same
 * crash loop). --max-restarts N
 * --restart-window S: at most N restarts within any S seconds; one more
 * and the supervisor gives up, exiting with the program's last status.
 */
#include <string.h>

#include "supervisor.h"

void cw__sup_restart_init(cw__sup_restart_t *r) {
  memset(r, 0, sizeof(*r));
  r->policy = CW__SUP_RESTART_NO;
  r->delay_ms = 1000;
  r->delay_max_ms = 60000;
  r->max_restarts = 0;
  r->window_ms = 60000;
}

int cw__sup_restart_parse_policy(const char *s, int *policy) {
  if (strcmp(s, "no") == 0)
    *policy = CW__SUP_RESTART_NO;
  else if (strcmp(s, "on-failure") == 0)
    *policy = CW__SUP_RESTART_ON_FAILURE;
  else if (strcmp(s, "always") == 0)
    *policy = CW__SUP_RESTART_ALWAYS;
  else
    return -1;
  return 0;
}

long cw__sup_restart_next(cw__sup_restart_t *r, int exit_code, int stopped,
                          int64_t now_ms, int64_t ran_ms, const char **why) {
  *why = NULL;
  if (stopped) {
    *why = "stopped by a signal";
    return -1;
  }
  if (r->policy == CW__SUP_RESTART_NO) {
    *why = "--restart=no";
    return -1;
  }
  if (r->policy == CW__SUP_RESTART_ON_FAILURE && exit_code == 0) {
    *why = "it exited 0 (--restart=on-failure)";
    return -1;
  }
  /* The restarts still inside the window. */
  size_t keep = 0;
  for (size_t i = 0; i < r->nrecent; i++)
    if (now_ms - r->recent[i] < r->window_ms)
      r->recent[keep++] = r->recent[i];
  r->nrecent = keep;
  if (r->max_restarts > 0 && (long)r->nrecent >= r->max_restarts) {
    *why = "--max-restarts reached within --restart-window";
    return -1;
  }
  int64_t reset = r->delay_max_ms > 10000 ? r->delay_max_ms : 10000;
  if (r->next_delay_ms == 0 || ran_ms >= reset)
    r->next_delay_ms = r->delay_ms;
  long d = r->next_delay_ms;
  r->next_delay_ms = d > r->delay_max_ms / 2 ? r->delay_max_ms : d * 2;
  if (r->next_delay_ms < r->delay_ms)
    r->next_delay_ms = r->delay_ms;
  if (d > r->delay_max_ms)
    d = r->delay_max_ms;
  if (r->nrecent == CW__SUP_RESTART_RECENT) {
    memmove(r->recent, r->recent + 1,
            (CW__SUP_RESTART_RECENT - 1) * sizeof(r->recent[0]));
    r->nrecent--;
  }
  r->recent[r->nrecent++] = now_ms + d;
  r->restarts++;
  return d;
}
