/* run_session.c — `crashwatch run`'s supervision loop: run the program
 * (supervisor/run.c), and after each run: count and report a crash (the
 * metrics, the crash-loop dedupe, the --on-crash hook, the scope flags
 * in a ptrace-mode report), start a background upload, and restart by
 * policy after the backoff delay. Before exiting: close the open crash
 * loop, give running hooks their time, deliver the spool within
 * --upload-timeout. See docs/supervisor.md. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "run_metrics.h"
#include "run_session.h"
#include "spool.h"

typedef struct {
  cw__run_session_t *s;
  cw__sup_hooks_t hooks;
  cw__sup_dedupe_t dedupe;
  cw__run_metrics_t metrics;
  pid_t upload_pid;
  int upload_fd;
} state_t;

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void upload_bg(state_t *st) {
  if (st->upload_pid > 0 || !st->s->upload->enabled)
    return;
  pid_t pid = cw__run_upload_start(st->s->upload, st->s->cfg->spool_dir,
                                   &st->upload_fd);
  if (pid > 0)
    st->upload_pid = pid;
}

static void count_uploads(state_t *st, const cw__upload_stats_t *u) {
  cw__run_metrics_add_uploads(&st->metrics, u);
}

static long tick(void *ctx) {
  state_t *st = ctx;
  long next = cw__sup_hooks_tick(&st->hooks);
  int64_t now = now_ms();
  if (cw__sup_dedupe_expire(&st->dedupe, now, 0)) {
    /* The crash loop is over: its first report, with the final count,
     * may go now. */
    upload_bg(st);
    cw__run_metrics_write(&st->metrics);
  }
  long left = cw__sup_dedupe_left(&st->dedupe, now);
  if (left >= 0 && (next < 0 || left < next))
    next = left + 1;
  return next;
}

static int reaped(void *ctx, pid_t pid, int status) {
  state_t *st = ctx;
  if (cw__sup_hooks_reaped(&st->hooks, pid, status))
    return 1;
  if (pid == st->upload_pid) {
    cw__upload_stats_t u;
    cw__run_upload_collect(st->upload_fd, &u);
    count_uploads(st, &u);
    st->upload_pid = 0;
    st->upload_fd = -1;
    cw__run_metrics_write(&st->metrics);
    return 1;
  }
  return 0;
}

static int is_crash_signal(int s) {
  return s == SIGSEGV || s == SIGBUS || s == SIGILL || s == SIGFPE ||
         s == SIGABRT || s == SIGTRAP || s == SIGSYS;
}

/* JSON string literal of s (no control bytes expected; escaped anyway). */
static void json_str(cw__buf_t *b, const char *s) {
  cw__buf_append_str(b, "\"");
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\')
      cw__buf_printf(b, "\\%c", c);
    else if (c < 0x20)
      cw__buf_printf(b, "\\u%04x", c);
    else
      cw__buf_append(b, s, 1);
  }
  cw__buf_append_str(b, "\"");
}

/* Ptrace mode's reports come from a watchdog that knows no scope: the
 * supervisor's --tag flags and the TRACEPARENT it was given go into the
 * event once the watchdog is done with it. */
static void scope_into_event(const cw__sup_config_t *cfg, const char *report) {
  const char *tp = getenv("TRACEPARENT");
  char trace_id[33] = "", span_id[17] = "";
  if (tp != NULL && strlen(tp) >= 55 && tp[2] == '-' && tp[35] == '-' &&
      tp[52] == '-' && strspn(tp + 3, "0123456789abcdef") >= 32 &&
      strspn(tp + 36, "0123456789abcdef") >= 16) {
    memcpy(trace_id, tp + 3, 32);
    memcpy(span_id, tp + 36, 16);
  }
  if (cfg->ntags == 0 && trace_id[0] == '\0')
    return;
  char *json;
  size_t len;
  if (cw__sup_event_read(report, &json, &len) != 0)
    return;
  cw__buf_t cur = CW_BUF_INIT;
  cw__buf_append(&cur, json, len);
  free(json);
  for (size_t i = 0; i < cfg->ntags && !cur.oom; i++) {
    const char *eq = strchr(cfg->tags[i], '=');
    char key[256];
    snprintf(key, sizeof(key), "%.*s", (int)(eq - cfg->tags[i]), cfg->tags[i]);
    if (strchr(key, '"') != NULL || strchr(key, '\\') != NULL)
      continue;
    cw__buf_t v = CW_BUF_INIT, next = CW_BUF_INIT;
    json_str(&v, eq + 1);
    if (cw__sup_event_set((const char *)cur.data, cur.len, "tags", key,
                          cw__buf_cstr(&v), &next) == 0) {
      cw__buf_free(&cur);
      cur = next;
    }
    cw__buf_free(&v);
  }
  if (trace_id[0] != '\0') {
    cw__buf_t ctx = CW_BUF_INIT, next = CW_BUF_INIT;
    cw__buf_printf(&ctx,
                   "{\"type\":\"trace\",\"trace_id\":\"%s\","
                   "\"span_id\":\"%s\"}",
                   trace_id, span_id);
    if (cw__sup_event_set((const char *)cur.data, cur.len, "contexts", "trace",
                          cw__buf_cstr(&ctx), &next) == 0) {
      cw__buf_free(&cur);
      cur = next;
    }
    cw__buf_free(&ctx);
  }
  if (!cur.oom) {
    char path[4096 + 16];
    snprintf(path, sizeof(path), "%s/event.json", report);
    cw__spool_write_atomic(path, cur.data, cur.len);
  }
  cw__buf_free(&cur);
}

/* After a run that crashed: metrics, scope, dedupe, hook. */
static void after_crash(state_t *st, const cw__sup_result_t *res) {
  cw__sup_config_t *cfg = st->s->cfg;
  cw__sup_event_sig_t sig;
  memset(&sig, 0, sizeof(sig));
  if (res->report[0] != '\0') {
    if (cfg->mode == CW__SUP_PTRACE)
      scope_into_event(cfg, res->report);
    cw__sup_event_sig_file(res->report, &sig);
  }
  int signo = sig.signo ? sig.signo
              : res->crash_signal
                  ? res->crash_signal
                  : (WIFSIGNALED(res->status) ? WTERMSIG(res->status) : 0);
  st->metrics.crashes[signo > 0 && signo < 65 ? signo : 0]++;
  st->metrics.last_crash_s = (double)time(NULL);
  cw__sup_crash_t c;
  memset(&c, 0, sizeof(c));
  c.pid = res->pid;
  c.signo = signo;
  c.exit_code = res->exit_code;
  c.count = 1;
  snprintf(c.report, sizeof(c.report), "%s", res->report);
  if (res->report[0] != '\0' && st->s->restart.policy != CW__SUP_RESTART_NO) {
    char key[1024];
    cw__sup_event_sig_key(&sig, key, sizeof(key));
    c.count = cw__sup_dedupe_crash(&st->dedupe, cfg->spool_dir, res->report,
                                   key, now_ms());
    if (c.count > 1) {
      snprintf(c.report, sizeof(c.report), "%s", st->dedupe.first);
      cw__sup_log("crash loop: the same crash again (%ld times since %s); "
                  "counted there, no new report",
                  c.count, st->dedupe.first);
    }
  }
  snprintf(c.summary, sizeof(c.summary), "%s in %s (pid %d, exit status %d)",
           signo ? cw__sup_signame(signo) : "a crash",
           sig.top[0] ? sig.top : "an unknown function", (int)c.pid,
           c.exit_code);
  cw__sup_hook_start(&st->hooks, &c);
}

int cw__run_session(cw__run_session_t *s, int sigfd) {
  state_t st;
  memset(&st, 0, sizeof(st));
  st.s = s;
  st.upload_fd = -1;
  cw__sup_hooks_init(&st.hooks, s->on_crash, s->on_crash_timeout_ms);
  cw__sup_dedupe_init(&st.dedupe, s->dedupe_window_ms);
  cw__run_metrics_init(&st.metrics, s->metrics_file, s->cfg->spool_dir);
  s->cfg->events.tick = tick;
  s->cfg->events.reaped = reaped;
  s->cfg->events.ctx = &st;
  int last = 0;
  for (;;) {
    st.metrics.child_up = 1;
    cw__run_metrics_write(&st.metrics);
    cw__sup_result_t res;
    int rc = cw__sup_run_once(s->cfg, sigfd, &res);
    st.metrics.child_up = 0;
    if (rc != 0) {
      cw__run_metrics_write(&st.metrics);
      last = rc;
      break;
    }
    last = res.exit_code;
    int crashed =
        res.crashes > 0 || res.new_reports > 0 ||
        (WIFSIGNALED(res.status) && is_crash_signal(WTERMSIG(res.status)));
    if (crashed)
      after_crash(&st, &res);
    cw__run_metrics_write(&st.metrics);
    const char *why;
    long delay =
        cw__sup_restart_next(&s->restart, res.exit_code, res.stop_signal != 0,
                             now_ms(), res.ended_ms - res.started_ms, &why);
    if (delay < 0) {
      if (s->restart.policy != CW__SUP_RESTART_NO &&
          (s->cfg->verbose || strstr(why, "max-restarts") != NULL))
        cw__sup_log("not restarting: %s; exiting with status %d", why, last);
      break;
    }
    if (crashed)
      upload_bg(&st); /* reports go out while the program restarts */
    cw__sup_log("exit status %d; restarting in %.3f s (restart %ld)", last,
                (double)delay / 1000.0, s->restart.restarts);
    int stop = cw__sup_idle(s->cfg, sigfd, delay);
    if (stop) {
      cw__sup_log("%s during the restart delay: not restarting",
                  cw__sup_signame(stop));
      break;
    }
    st.metrics.restarts = s->restart.restarts;
  }
  /* Exiting: a watchdog finishing a report gets a moment (up to 10 s);
   * the open crash loop's report may go now; the hooks get their time
   * (bounded by their timeout); then the spool is delivered. */
  cw__sup_wait_watchdogs(s->cfg, sigfd, 10000);
  cw__sup_dedupe_expire(&st.dedupe, now_ms(), 1);
  while (st.hooks.n > 0 || st.upload_pid > 0) {
    long t = cw__sup_hooks_tick(&st.hooks);
    cw__sup_idle(s->cfg, sigfd, t < 0 || t > 100 ? 100 : t);
  }
  cw__upload_stats_t u;
  cw__run_upload(s->upload, s->cfg->spool_dir, sigfd, &u);
  count_uploads(&st, &u);
  cw__run_metrics_write(&st.metrics);
  return last;
}
