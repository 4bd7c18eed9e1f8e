/*
 * event_report.c — cw__wd_handle_event(): a message or an application's
 * event becomes a report (issue 11; normal context, watchdog process).
 * The scope is taken as of the request (the breadcrumbs added before it),
 * the event built (event_message.c) and written into the spool as a
 * report with event.json alone, fsync'd and renamed into place like a
 * crash's. With attach_stacktrace the caller waits while its stack is
 * copied (cw__wd_capture_caller), then goes on; unwinding and
 * symbolization happen after.
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

/* The caller's stack (attach_stacktrace): copied while it waits, then it
 * is released; unwound and symbolized after. 1 if *c holds a stack. */
static int caller_stack(const cw__event_req_t *req,
                        const cw__crash_record_t *caller, wd_release_fn release,
                        void *release_ctx, wd_capture_t *c) {
  cw__crash_record_t rec = *caller;
  rec.pid = req->pid;
  rec.tid = req->tid;
  rec.time_realtime_ns = req->time_realtime_ns;
  wd_capture_opts_t opts;
  cw__wd_capture_opts_default(&opts);
  int rc = cw__wd_capture_caller(&rec, &opts, c);
  release(release_ctx, rc);
  if (rc != 0) {
    cw__wd_capture_free(c);
    return 0;
  }
  /* Not a crash: the thread is "current", not "crashed", with its stack
   * (event_json.c tells them apart by live_message). */
  c->live_message = "";
  cw__wd_capture_finish(c);
  cw__wd_unwind_all(c);
  long budget = cw__wd_symbolize_budget_ms();
  if (budget > 0)
    cw__wd_symbolize_all(c, cw__symbolizer_now_ns() +
                                (uint64_t)budget * 1000000ull);
  return 1;
}

int cw__wd_handle_event(const wd_config_t *cfg, const cw__event_req_t *req,
                        const cw__crash_record_t *rec, const char *payload,
                        wd_release_fn release, void *release_ctx,
                        char *report_path, size_t cap) {
  cw__scope_snapshot_t snap;
  int have = cfg->scope_map != NULL &&
             cw__scope_snapshot_until(cfg->scope_map, cfg->scope_len,
                                      req->crumb_head, &snap) == 0;
  cw__scrub_t scrub;
  scrub_from_env(&scrub);
  wd_event_scope_t es = {.scope = have ? &snap : NULL, .scrub = &scrub};
  wd_capture_t stack;
  int have_stack = 0;
  if ((req->flags & CW__REQ_STACKTRACE) && rec != NULL)
    have_stack = caller_stack(req, rec, release, release_ctx, &stack);
  char event_id[33];
  if (req->kind != CW__REQ_EVENT ||
      !cw__wd_event_id_from_json(payload, req->payload_len, event_id))
    cw__wd_new_event_id(event_id);
  wd_message_t m = {.req = req,
                    .payload = payload,
                    .payload_len = req->payload_len,
                    .event_id = event_id,
                    .release = cfg->release,
                    .environment = cfg->environment,
                    .es = &es,
                    .sys = have_stack ? &stack.sys : sysinfo(),
                    .stack = have_stack ? &stack : NULL};
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
  if (have_stack) {
    stack.live_message = NULL;
    cw__wd_capture_free(&stack);
  }
  if (have)
    cw__scope_snapshot_free(&snap);
  return rc;
}
