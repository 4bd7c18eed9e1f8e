/*
 * capture.h — the watchdog's crash handling, as its main loop calls it
 * (normal context, in the watchdog process).
 */
#ifndef CW_WATCHDOG_CAPTURE_H
#define CW_WATCHDOG_CAPTURE_H

#include <stddef.h>

#include "crash_record.h"
#include "event_request.h"

typedef struct {
  const char *spool_dir;   /* where the report goes (exists, writable) */
  int include_environ;     /* write MD_LINUX_ENVIRON */
  int print_summary;       /* print the crashing thread's stack */
  int summary_fd;          /* ...to this fd (the app's stderr), or -1 */
  const char *release;     /* Sentry release, or NULL */
  const char *environment; /* Sentry environment, or NULL */
  const char *dsn;         /* upload target, or NULL (report stays local) */
  const char *program;     /* the app's executable's base name, read at start
                              (events name their sender by it), or NULL */
  /* An uploader starts after the report is committed (a DSN or an upload
   * URL): the summary then names the report by id, not by a directory
   * the delivery will remove; the uploader says what became of it. */
  int uploading;
  /* 0 (default): release the app once its report is committed (durable
   * before dead; when the app is PID 1 of its namespace, after
   * symbolization too, since its death kills the watchdog). 1: as soon as
   * everything has been copied out of it (faster exit; the report is lost
   * if the watchdog dies with the app). */
  int release_early;
  /* Progress of cw__wd_handle_crash(), one step name per call ("released",
   * "committed", "symbolize-start", "symbolize-done", "event-replaced"),
   * for debug logs and tests; NULL for none. */
  void (*trace)(void *ctx, const char *step);
  void *trace_ctx;
  /* The app's scope mapping (issue 10; --scope-fd), read-only, or NULL
   * and 0 when the app has none. Outside input: give it to
   * cw__scope_snapshot() (common/scope.h), which trusts none of it. It
   * stays mapped for the watchdog's life, after the app has died too. */
  const void *scope_map;
  size_t scope_len;
} wd_config_t;

/* Called exactly once per crash, as soon as everything needed from the
 * crashed process has been copied out (or capture failed): the app may then
 * die. status is 0 or a negative CW_E* code. */
typedef void (*wd_release_fn)(void *ctx, int status);

/*
 * Handles one crash: seizes and stops every thread of rec->pid, copies out
 * registers, stacks, modules and /proc files, detaches (calling release
 * here with cfg->release_early), then unwinds every thread, writes
 * minidump.dmp and event.json and commits the report into cfg->spool_dir,
 * and calls release (by default; for an app that is PID 1 of its namespace
 * after symbolizing). Only then, with the report durable, it
 * symbolizes every frame from the modules' debug info within a time budget
 * (cw__wd_symbolize_all) and replaces event.json atomically with the
 * symbolized frames, holding the report's spool lock (cw__spool_lock's flock,
 * taken before the commit) so no uploader reads or sends the report in
 * between; the summary is printed last. The lock is released before this
 * returns: start a one-shot uploader (cw__upload_spawn_once) after it, not
 * from inside (it would find the report locked and leave it). A running
 * `crashwatch upload --watch` finds it locked and takes it on its next
 * pass (after 1 s). If the watchdog dies while symbolizing, the
 * committed report stays as it was, with symbol-table names.
 *
 * rec has been validated by the caller (magic, version, size). On success the
 * committed report directory is written to report_path (cap bytes). Returns 0
 * or a negative CW_E* code; release has been called in every case.
 *
 * Release status: 0 once everything was copied out (and, unless
 * release_early, committed), a negative CW_E* code when the report could
 * not be committed, CW_ECAPTURE when the process could not be captured
 * (gone, or ptrace refused); a report made from the record alone (the
 * crashing thread's registers, no memory) is still written then, and
 * CW_ECAPTURE returned.
 *
 * CRASHWATCH_SYMBOLIZE_BUDGET_MS in the watchdog's environment sets the
 * symbolization budget (default 2000 ms; 0 disables symbolization: the
 * report keeps the symbol-table names it was committed with).
 *
 * CRASHWATCH_FORCE_PROCMEM=1 in the watchdog's environment makes it read
 * memory through /proc/PID/mem only (the fallback used when
 * process_vm_readv is denied), for testing that path.
 */
int cw__wd_handle_crash(const wd_config_t *cfg, const cw__crash_record_t *rec,
                        wd_release_fn release, void *release_ctx,
                        char *report_path, size_t cap);

/*
 * A dump of the live process (cw_capture_dump, the dump signal): like a
 * crash's capture of every thread, with the requesting thread's registers
 * from rec standing for the crashed one's, but release is called
 * right after the copy (the process goes on, nothing is killed); then the
 * report (minidump with Breakpad's DUMP_REQUESTED exception code, an event
 * of level error carrying message and the scope as of the request, no
 * attachments) is written and symbolized. Returns 0 or a negative CW_E*
 * code; release has been called in every case.
 */
int cw__wd_handle_dump(const wd_config_t *cfg, const cw__event_req_t *req,
                       const cw__crash_record_t *rec, const char *message,
                       wd_release_fn release, void *release_ctx,
                       char *report_path, size_t cap);

/*
 * A message or event (cw_capture_message, cw_capture_event): the event
 * JSON from the request, the scope as of the request and the host's
 * facts, written as a report with no minidump. With CW__REQ_STACKTRACE,
 * the calling thread's stack is copied out first (process_vm_readv: the
 * thread waits in the library) and release called, then unwound and
 * symbolized into the event's threads. payload is req's payload_len
 * bytes. Returns 0 or a negative CW_E* code (a malformed event:
 * CW_EFORMAT, nothing written).
 */
/* The same in two steps. cw__wd_event_begin copies what must be taken at
 * once (the payload, the scope with the breadcrumbs as of the request,
 * the caller's stack) and, with CW__REQ_STACKTRACE, calls release; NULL
 * on out-of-memory (release called). cw__wd_event_finish unwinds and
 * (with symbolize, within the budget) symbolizes the stack from debug
 * information, writes the report and frees the job;
 * cw__wd_event_job_free drops one unwritten. */
typedef struct wd_event_job wd_event_job_t;
wd_event_job_t *cw__wd_event_begin(const wd_config_t *cfg,
                                   const cw__event_req_t *req,
                                   const cw__crash_record_t *rec,
                                   const char *payload, wd_release_fn release,
                                   void *release_ctx);
int cw__wd_event_finish(const wd_config_t *cfg, wd_event_job_t *job,
                        int symbolize, char *report_path, size_t cap);
void cw__wd_event_job_free(wd_event_job_t *job);

int cw__wd_handle_event(const wd_config_t *cfg, const cw__event_req_t *req,
                        const cw__crash_record_t *rec, const char *payload,
                        wd_release_fn release, void *release_ctx,
                        char *report_path, size_t cap);

#endif
