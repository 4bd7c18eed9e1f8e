/*
 * event_report.c — cw__wd_handle_event(): a message or an application's
 * event becomes a report (issue 11; normal context, watchdog process).
 * The scope is taken as of the request (the breadcrumbs added before it),
 * the event built (event_message.c) and written into the spool as a
 * report with event.json alone, fsync'd and renamed into place like a
 * crash's. With attach_stacktrace the caller waits while its stack is
 * copied (cw__wd_capture_caller), then goes on; unwinding and
 * symbolization happen after, in cw__wd_event_finish, which the loop
 * (main.c) runs in a child of its own, so that one caller's wait is not
 * another event's symbolization.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"
#include "crashwatch.h"
#include "spool.h"
#include "symbolizer.h"
#include "wd_capture.h"
#include "wd_message.h"
#include "wd_scope.h"

/* The host's facts do not change while the watchdog lives: read once. */
static const wd_sysinfo_t *sysinfo(void) {
  static wd_sysinfo_t sys;
  static int have;
  if (!have) {
    cw__wd_sysinfo_read(&sys);
    have = 1;
  }
  return &sys;
}

static void scrub_from_env(cw__scrub_t *s) {
  const char *d = secure_getenv("CRASHWATCH_SCRUB_DEFAULTS");
  int defaults = !(d != NULL && strcmp(d, "0") == 0);
  cw__scrub_init(s, defaults, secure_getenv("CRASHWATCH_SCRUB_KEYS"));
}

struct wd_event_job {
  cw__event_req_t req;
  char *payload; /* req.payload_len bytes, NUL-terminated */
  cw__scope_snapshot_t snap;
  int have_snap;
  wd_capture_t stack;
  int have_stack;
};

wd_event_job_t *cw__wd_event_begin(const wd_config_t *cfg,
                                   const cw__event_req_t *req,
                                   const cw__crash_record_t *rec,
                                   const char *payload, wd_release_fn release,
                                   void *release_ctx) {
  wd_event_job_t *j = calloc(1, sizeof(*j));
  char *copy = malloc((size_t)req->payload_len + 1);
  if (j == NULL || copy == NULL) {
    free(j);
    free(copy);
    if (req->flags & CW__REQ_STACKTRACE)
      release(release_ctx, CW_ENOMEM);
    return NULL;
  }
  j->req = *req;
  memcpy(copy, payload, req->payload_len);
  copy[req->payload_len] = '\0';
  j->payload = copy;
  /* The scope now, the breadcrumbs as of the call. */
  j->have_snap = cfg->scope_map != NULL &&
                 cw__scope_snapshot_until(cfg->scope_map, cfg->scope_len,
                                          req->crumb_head, &j->snap) == 0;
  if ((req->flags & CW__REQ_STACKTRACE) && rec != NULL) {
    /* The caller's stack, copied while it waits; then it goes on. */
    cw__crash_record_t r = *rec;
    r.pid = req->pid;
    r.tid = req->tid;
    r.time_realtime_ns = req->time_realtime_ns;
    wd_capture_opts_t opts;
    cw__wd_capture_opts_default(&opts);
    int rc = cw__wd_capture_caller(&r, &opts, &j->stack);
    release(release_ctx, rc);
    if (rc == 0)
      j->have_stack = 1;
    else
      cw__wd_capture_free(&j->stack);
  } else if (req->flags & CW__REQ_STACKTRACE) {
    release(release_ctx, CW_EFORMAT);
  }
  return j;
}

/* Unwinds and (with symbolize) symbolizes the caller's stack copy. */
static void finish_stack(wd_capture_t *c, int symbolize) {
  /* Not a crash: the thread is "current", not "crashed", with its stack
   * (event_json.c tells them apart by live_message). */
  c->live_message = "";
  cw__wd_capture_finish(c);
  cw__wd_unwind_all(c);
  long budget = symbolize ? cw__wd_symbolize_budget_ms() : 0;
  if (budget > 0)
    cw__wd_symbolize_all(c, cw__symbolizer_now_ns() +
                                (uint64_t)budget * 1000000ull);
}

int cw__wd_event_finish(const wd_config_t *cfg, wd_event_job_t *j,
                        int symbolize, char *report_path, size_t cap) {
  const cw__event_req_t *req = &j->req;
  cw__scrub_t scrub;
  scrub_from_env(&scrub);
  wd_event_scope_t es = {.scope = j->have_snap ? &j->snap : NULL,
                         .scrub = &scrub};
  if (j->have_stack)
    finish_stack(&j->stack, symbolize);
  char event_id[33];
  if (req->kind != CW__REQ_EVENT ||
      !cw__wd_event_id_from_json(j->payload, req->payload_len, event_id))
    cw__wd_new_event_id(event_id);
  wd_message_t m = {.req = req,
                    .payload = j->payload,
                    .payload_len = req->payload_len,
                    .event_id = event_id,
                    .release = cfg->release,
                    .environment = cfg->environment,
                    .es = &es,
                    .sys = j->have_stack ? &j->stack.sys : sysinfo(),
                    .stack = j->have_stack ? &j->stack : NULL,
                    .program = cfg->program};
  cw__buf_t ev = CW_BUF_INIT;
  int rc = cw__wd_event_json_message(&m, &ev);
  spool_report_t *r = NULL;
  if (rc == 0)
    rc = cw__spool_report_begin(cfg->spool_dir, event_id, &r);
  if (rc == 0)
    rc = cw__spool_report_write_file(r, SPOOL_EVENT_FILE, ev.data, ev.len);
  if (rc == 0) {
    char path[4096];
    rc = cw__spool_report_commit(r, path, sizeof(path));
    if (rc == 0 && report_path != NULL && cap > 0)
      snprintf(report_path, cap, "%s", path);
  } else {
    cw__spool_report_abort(r);
  }
  cw__buf_free(&ev);
  cw__wd_event_job_free(j);
  return rc;
}

void cw__wd_event_job_free(wd_event_job_t *j) {
  if (j == NULL)
    return;
  if (j->have_stack) {
    j->stack.live_message = NULL;
    cw__wd_capture_free(&j->stack);
  }
  if (j->have_snap)
    cw__scope_snapshot_free(&j->snap);
  free(j->payload);
  free(j);
}

int cw__wd_handle_event(const wd_config_t *cfg, const cw__event_req_t *req,
                        const cw__crash_record_t *rec, const char *payload,
                        wd_release_fn release, void *release_ctx,
                        char *report_path, size_t cap) {
  wd_event_job_t *j =
      cw__wd_event_begin(cfg, req, rec, payload, release, release_ctx);
  if (j == NULL)
    return CW_ENOMEM;
  return cw__wd_event_finish(cfg, j, 1, report_path, cap);
}
