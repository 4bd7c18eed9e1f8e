/*
 * capture.c — cw__wd_handle_crash(): the order of a crash's handling in the
 * watchdog (normal context, watchdog process). Copy out, detach, unwind,
 * serialise and fsync; release the app once the report is committed
 * (durable before dead; with release_early, as soon as everything is
 * copied out, so the app dies while the report is written); the slowest
 * and least essential step, symbolization from debug info, comes after
 * the commit and rewrites event.json under the report's spool lock.
 */
#include "capture.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "crashwatch.h"
#include "debug_id.h"
#include "spool.h"
#include "symbolizer.h"
#include "wd_capture.h"
#include "wd_message.h"
#include "wd_scope.h"
#include "wd_session.h"

/* Stack kept above the outermost frame's SP: its caller's argument area
 * and saved registers, for stackwalkers that look a little further. */
#define WD_STACK_SLACK 512

void cw__wd_new_event_id(char out[33]) {
  uint8_t r[16];
  if (getrandom(r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r)) {
    /* No entropy yet (early boot): time and pid are unique enough for a
     * local report name. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t a = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    uint64_t b = ((uint64_t)getpid() << 32) ^ (uint64_t)clock();
    memcpy(r, &a, 8);
    memcpy(r + 8, &b, 8);
  }
  /* A version-4 UUID's bits, as Sentry's SDKs make event ids. */
  r[6] = (uint8_t)((r[6] & 0x0f) | 0x40);
  r[8] = (uint8_t)((r[8] & 0x3f) | 0x80);
  cw__hex_encode(r, sizeof(r), out);
}

static int env_flag(const char *name) {
  const char *v = secure_getenv(name);
  return v != NULL && v[0] != '\0' && strcmp(v, "0") != 0;
}

/* A capture from the record alone, when the process could not be read. */
static void capture_from_record(const cw__crash_record_t *rec,
                                wd_capture_t *c) {
  cw__wd_capture_free(c);
  c->pid = rec->pid;
  c->signo = rec->signo;
  c->si_code = rec->si_code;
  c->si_errno = rec->si_errno;
  c->sender_pid = rec->sender_pid;
  c->fault_addr = rec->fault_addr;
  c->crashed_tid = rec->tid;
  c->time_realtime_ns = rec->time_realtime_ns;
  c->threads = calloc(1, sizeof(*c->threads));
  if (c->threads == NULL)
    return;
  c->threads[0].tid = rec->tid;
  c->threads[0].stack_region = -1;
  c->threads[0].regs_ok = 1;
  cw__wd_regs_from_crash_context(&rec->context, NULL, &c->threads[0].regs);
  c->nthreads = 1;
  snprintf(c->notes, sizeof(c->notes), "process could not be captured");
}

static void trace(const wd_config_t *cfg, const char *step) {
  if (cfg->trace != NULL)
    cfg->trace(cfg->trace_ctx, step);
}

/* The app's scope at the crash, and what the report makes of it. */
typedef struct {
  cw__scope_snapshot_t snap;
  int have; /* snap holds the app's scope */
  cw__scrub_t scrub;
  wd_attachments_t attachments;
  wd_event_scope_t es;
  /* The minidump's Crashpad annotations: release, environment, dist and
   * the tags (scrubbed). */
  const char *ann_keys[3 + 64];
  const char *ann_values[3 + 64];
  size_t nann;
  /* The crashed session update (key=value), session_len 0 if none. */
  char session[2048];
  size_t session_len;
} scope_state_t;

/* The scrub list: Sentry's defaults unless CRASHWATCH_SCRUB_DEFAULTS=0, and
 * the patterns of CRASHWATCH_SCRUB_KEYS. secure_getenv: a setuid app's
 * watchdog gets an environment of the library's making, so there the
 * defaults apply and nothing is added or turned off. */
static void scrub_from_env(cw__scrub_t *s) {
  const char *d = secure_getenv("CRASHWATCH_SCRUB_DEFAULTS");
  int defaults = !(d != NULL && strcmp(d, "0") == 0);
  cw__scrub_init(s, defaults, secure_getenv("CRASHWATCH_SCRUB_KEYS"));
}

/* Copies the scope out of the shared mapping: at the crash, before the
 * capture, so what the app's other threads write while the watchdog works
 * is not mixed in. A mapping that is not a scope gives none. */
static void scope_take(const wd_config_t *cfg, scope_state_t *st,
                       uint64_t crumb_end) {
  memset(st, 0, sizeof(*st));
  st->snap.level = -1;
  if (cfg->scope_map != NULL &&
      cw__scope_snapshot_until(cfg->scope_map, cfg->scope_len, crumb_end,
                               &st->snap) == 0)
    st->have = 1;
  scrub_from_env(&st->scrub);
  st->es.scope = st->have ? &st->snap : NULL;
  st->es.scrub = &st->scrub;
  st->es.attachments = &st->attachments;
}

static void annotate(scope_state_t *st, const char *k, const char *v) {
  if (v == NULL || st->nann >= sizeof(st->ann_keys) / sizeof(*st->ann_keys))
    return;
  st->ann_keys[st->nann] = k;
  st->ann_values[st->nann] = v;
  st->nann++;
}

/* The Crashpad simple annotations of the minidump (Breakpad-style
 * collectors read them, and Crashpad's own tools). */
static void scope_annotations(const wd_config_t *cfg, scope_state_t *st,
                              wd_capture_t *c, const char *event_id) {
  annotate(st, "release", cfg->release);
  annotate(st, "environment", cfg->environment);
  if (st->have) {
    annotate(st, "dist", st->snap.dist);
    for (size_t i = 0; i < st->snap.ntags; i++) {
      const char *k = st->snap.tags[i].key;
      if (k == NULL || strcmp(k, "release") == 0 ||
          strcmp(k, "environment") == 0 || strcmp(k, "dist") == 0)
        continue;
      annotate(st, k,
               cw__scrub_key_matches(&st->scrub, k, strlen(k))
                   ? CW_SCRUB_FILTERED
                   : st->snap.tags[i].value);
    }
  }
  c->annotation_keys = st->ann_keys;
  c->annotation_values = st->ann_values;
  c->nannotations = st->nann;
  c->report_id_hex = event_id;
}

static void scope_free(scope_state_t *st) {
  cw__wd_attachments_free(&st->attachments);
  if (st->have)
    cw__scope_snapshot_free(&st->snap);
}

/* Writes the minidump, the attachments and event.json and commits the
 * report; *lock_fd is the report directory, locked (or -1 if it could not
 * be locked). */
static int write_report(const wd_config_t *cfg, const wd_capture_t *c,
                        scope_state_t *st, const char *event_id,
                        char *report_path, size_t cap, int *lock_fd) {
  *lock_fd = -1;
  spool_report_t *r;
  int rc = cw__spool_report_begin(cfg->spool_dir, event_id, &r);
  if (rc != 0)
    return rc;
  int fd;
  rc = cw__spool_report_open_file(r, SPOOL_MINIDUMP_FILE, &fd);
  if (rc == 0) {
    rc = cw__wd_minidump_write(c, fd);
    if (rc == 0)
      rc = cw__spool_report_close_file(r, fd); /* synced by the commit */
    else
      close(fd);
  }
  /* The registered files' tails: a file that cannot be read is noted in
   * the event, only a failure to write the report fails it. */
  if (rc == 0 && st->have && c->live_message == NULL)
    rc = cw__wd_attachments_copy(r, st->snap.attachments, st->snap.nattachments,
                                 st->snap.attachment_max_bytes,
                                 &st->attachments);
  if (rc == 0 && st->session_len > 0)
    rc = cw__spool_report_write_file(r, SPOOL_SESSION_FILE, st->session,
                                     st->session_len);
  if (rc == 0) {
    cw__buf_t ev = CW_BUF_INIT;
    rc = cw__wd_event_json_scope(c, event_id, cfg->release, cfg->environment,
                                 &st->es, &ev);
    if (rc == 0)
      rc = cw__spool_report_write_file(r, SPOOL_EVENT_FILE, ev.data, ev.len);
    cw__buf_free(&ev);
  }
  if (rc != 0) {
    cw__spool_report_abort(r);
    return rc;
  }
  /* Locked the way the uploader locks (flock on the directory), on its
   * temporary name: the lock follows the inode through the commit's rename,
   * so from the moment the report becomes visible until event.json has
   * been replaced no uploader can take it. */
  *lock_fd = cw__spool_report_lock(r);
  if (*lock_fd < 0)
    *lock_fd = -1;
  rc = cw__spool_report_commit(r, report_path, cap);
  if (rc != 0 && *lock_fd >= 0) {
    close(*lock_fd);
    *lock_fd = -1;
  }
  return rc;
}

/* Replaces event.json in the locked report directory dir_fd through an
 * exclusive dot-file with a random name (which readers skip, so one left by
 * a crash here is never sent), fsync'd and renamed over event.json; then
 * the directory is fsync'd. A reader sees the old file or the new one,
 * never a mix. */
static int replace_event(int dir_fd, const cw__buf_t *ev) {
  int rc =
      cw__spool_write_atomic_at(dir_fd, SPOOL_EVENT_FILE, ev->data, ev->len);
  if (rc == 0 && fsync(dir_fd) != 0)
    rc = errno ? -errno : CW_EIO;
  return rc;
}

/* After the commit: symbolizes within the budget and, if that named any
 * frame or says why not, replaces event.json. Failures here cost only the
 * source lines: the committed report stays as it is. */
static void symbolize_report(const wd_config_t *cfg, wd_capture_t *c,
                             const scope_state_t *st, const char *event_id,
                             int dir_fd) {
  if (c->symbolize_state == WD_SYMBOLIZE_DISABLED)
    return; /* the committed report says so already */
  trace(cfg, "symbolize-start");
  uint64_t deadline =
      cw__symbolizer_now_ns() + c->symbolize_budget_ms * 1000000ull;
  cw__wd_symbolize_all(c, deadline);
  trace(cfg, "symbolize-done");
  if (dir_fd < 0)
    return;
  cw__buf_t ev = CW_BUF_INIT;
  if (cw__wd_event_json_scope(c, event_id, cfg->release, cfg->environment,
                              &st->es, &ev) == 0 &&
      replace_event(dir_fd, &ev) == 0)
    trace(cfg, "event-replaced");
  cw__buf_free(&ev);
}

/* What a crash and a live dump do alike once the process is copied out:
 * build-ids and host facts, unwinding, the stacks trimmed, a new event id
 * and the symbolization budget. */
static void prepare_report(wd_capture_t *c, char event_id[33]) {
  cw__wd_capture_finish(c);
  cw__wd_unwind_all(c);
  cw__wd_trim_stacks(c, WD_STACK_SLACK);
  cw__wd_new_event_id(event_id);
  c->symbolize_budget_ms = (uint64_t)cw__wd_symbolize_budget_ms();
  if (c->symbolize_budget_ms == 0)
    c->symbolize_state = WD_SYMBOLIZE_DISABLED;
}

int cw__wd_handle_crash(const wd_config_t *cfg, const cw__crash_record_t *rec,
                        wd_release_fn release, void *release_ctx,
                        char *report_path, size_t cap) {
  wd_capture_opts_t opts;
  cw__wd_capture_opts_default(&opts);
  opts.include_environ = cfg->include_environ;
  opts.force_procmem = env_flag("CRASHWATCH_FORCE_PROCMEM");
  opts.detach = cfg->release_early ? WD_DETACH_AFTER_COPY : WD_DETACH_HELD;

  cw__wd_host_prefetch(); /* the host facts, read while the capture runs */
  scope_state_t st;
  scope_take(cfg, &st, UINT64_MAX);
  wd_capture_t c;
  int capture_rc = cw__wd_capture_process(rec, &opts, &c);
  /* When the app is the init of its PID namespace (its getpid() is 1, and
   * the watchdog shares that namespace), its death SIGKILLs the watchdog:
   * it is held until the report is complete, symbolization included. */
  enum {
    AT_CAPTURE,
    AT_COMMIT,
    AT_END
  } release_at = cfg->release_early ? AT_CAPTURE
                 : rec->pid == 1    ? AT_END
                                    : AT_COMMIT;
  int released = 0;
  if (release_at == AT_CAPTURE) {
    release(release_ctx, capture_rc == 0 ? 0 : CW_ECAPTURE);
    trace(cfg, "released");
    released = 1;
  }
  if (capture_rc != 0 && c.nthreads == 0)
    capture_from_record(rec, &c);

  char event_id[33];
  prepare_report(&c, event_id);
  char path[4096];
  int lock_fd;
  /* Durability first: the report is committed with the symbol tables'
   * names before any debug information is read. */
  scope_annotations(cfg, &st, &c, event_id);
  /* This is a crash: the process's session ends `crashed`, in the same
   * report (and envelope) as the event. */
  st.session_len = cw__wd_session_text(
      st.have ? &st.snap : NULL, rec->pid, cfg->release, cfg->environment,
      (int64_t)(rec->time_realtime_ns / 1000000), st.session,
      sizeof(st.session));
  int rc = write_report(cfg, &c, &st, event_id, path, sizeof(path), &lock_fd);
  if (rc == 0) {
    trace(cfg, "committed");
    if (st.session_len > 0)
      cw__wd_session_closed(cfg->spool_dir, st.snap.session_sid);
    if (report_path != NULL && cap > 0)
      snprintf(report_path, cap, "%s", path);
  }
  /* Durable before dead: the app dies once its report is committed. Its
   * other threads were held stopped until now (WD_DETACH_HELD). */
  cw__wd_capture_detach(&c);
  int status = rc != 0 ? rc : capture_rc == 0 ? 0 : CW_ECAPTURE;
  if (!released && (release_at == AT_COMMIT || rc != 0)) {
    release(release_ctx, status);
    trace(cfg, "released");
    released = 1;
  }
  if (rc == 0)
    symbolize_report(cfg, &c, &st, event_id, lock_fd);
  if (!released) {
    release(release_ctx, status);
    trace(cfg, "released");
  }
  if (lock_fd >= 0)
    close(lock_fd); /* unlocks: the uploader may take the report */
  if (cfg->print_summary && cfg->summary_fd >= 0)
    cw__wd_summary_write(&c, cfg->summary_fd, rc == 0 ? path : NULL,
                         cfg->uploading);
  c.nannotations = 0; /* borrowed from st */
  cw__wd_capture_free(&c);
  scope_free(&st);
  if (rc != 0)
    return rc;
  return capture_rc == 0 ? 0 : CW_ECAPTURE;
}

int cw__wd_handle_dump(const wd_config_t *cfg, const cw__event_req_t *req,
                       const cw__crash_record_t *caller, const char *message,
                       wd_release_fn release, void *release_ctx,
                       char *report_path, size_t cap) {
  wd_capture_opts_t opts;
  cw__wd_capture_opts_default(&opts);
  opts.include_environ = cfg->include_environ;
  opts.force_procmem = env_flag("CRASHWATCH_FORCE_PROCMEM");
  opts.detach = WD_DETACH_EARLY; /* the process goes on: hold it no longer */

  scope_state_t st;
  scope_take(cfg, &st, req->crumb_head);
  /* The calling thread's registers at the call stand for the "crashed"
   * thread's (it waits in the library meanwhile); Breakpad's
   * DUMP_REQUESTED is the minidump's exception code. */
  cw__crash_record_t rec = *caller;
  rec.magic = CW_CRASH_RECORD_MAGIC;
  rec.version = CW_CRASH_RECORD_VERSION;
  rec.size = sizeof(rec);
  rec.pid = req->pid;
  rec.tid = req->tid;
  rec.signo = WD_DUMP_REQUESTED;
  rec.si_code = 0;
  rec.fault_addr = 0;
  rec.time_realtime_ns = req->time_realtime_ns;
  wd_capture_t c;
  cw__wd_host_prefetch(); /* the host facts, read while the capture runs */
  int capture_rc = cw__wd_capture_process(&rec, &opts, &c);
  /* The process goes on: released as soon as it has been copied out. */
  release(release_ctx, capture_rc == 0 ? 0 : capture_rc);
  trace(cfg, "released");
  if (capture_rc != 0 && c.nthreads == 0) {
    cw__wd_capture_free(&c);
    scope_free(&st);
    return capture_rc;
  }
  c.live_message = message;
  c.dropped_events = req->dropped;
  char event_id[33];
  prepare_report(&c, event_id);
  char path[4096];
  int lock_fd;
  scope_annotations(cfg, &st, &c, event_id);
  int rc = write_report(cfg, &c, &st, event_id, path, sizeof(path), &lock_fd);
  if (rc == 0) {
    trace(cfg, "committed");
    if (report_path != NULL && cap > 0)
      snprintf(report_path, cap, "%s", path);
    symbolize_report(cfg, &c, &st, event_id, lock_fd);
  }
  if (lock_fd >= 0)
    close(lock_fd);
  c.nannotations = 0; /* borrowed from st */
  c.live_message = NULL;
  cw__wd_capture_free(&c);
  scope_free(&st);
  return rc;
}
