/* event_summary.c — the facts of a Sentry event a person scans for; see
 * event_summary.h. Normal context. */
#include "event_summary.h"

#include <stdio.h>
#include <string.h>

static void copy(char *dst, size_t cap, const char *src) {
  snprintf(dst, cap, "%s", src != NULL ? src : "");
  /* One line each: a field is printed in a column. */
  for (char *p = dst; *p; p++)
    if (*p == '\n' || *p == '\r' || *p == '\t')
      *p = ' ';
}

static const char *base(const char *path) {
  if (path == NULL)
    return NULL;
  const char *s = strrchr(path, '/');
  return s ? s + 1 : path;
}

/* A frame of crashwatch itself (cw_capture_dump, the handler): never the
 * frame a person looks for, as an SDK's own frames are not in-app. */
static int reporter_frame(const cw__jv_t *frame) {
  const char *b = base(cw__jv_str(cw__jv_get(frame, "package")));
  return b != NULL && strncmp(b, "libcrashwatch", 13) == 0;
}

long cw__event_top_frame(const cw__jv_t *stacktrace) {
  const cw__jv_t *frames = cw__jv_get(stacktrace, "frames");
  size_t n = cw__jv_count(frames);
  if (n == 0)
    return -1;
  for (size_t k = n; k-- > 0;) {
    const cw__jv_t *f = cw__jv_at(frames, k);
    if (cw__jv_bool(cw__jv_get(f, "in_app")) == 1 && !reporter_frame(f))
      return (long)k;
  }
  return (long)n - 1;
}

void cw__event_frame_text(const cw__jv_t *frame, char *out, size_t cap) {
  const char *fn = cw__jv_str(cw__jv_get(frame, "function"));
  const char *file = cw__jv_str(cw__jv_get(frame, "filename"));
  const char *addr = cw__jv_str(cw__jv_get(frame, "instruction_addr"));
  double line = 0;
  cw__jv_num(cw__jv_get(frame, "lineno"), &line);
  if (file != NULL && line > 0)
    snprintf(out, cap, "%s (%s:%.0f)", fn ? fn : "??", file, line);
  else if (fn != NULL)
    snprintf(out, cap, "%s", fn);
  else
    snprintf(out, cap, "%s", addr ? addr : "??");
}

void cw__event_summary(const cw__jv_t *ev, cw__event_summary_t *s) {
  memset(s, 0, sizeof(*s));
  if (ev == NULL || ev->kind != CW__JV_OBJECT)
    return;
  copy(s->event_id, sizeof(s->event_id),
       cw__jv_str(cw__jv_get(ev, "event_id")));
  copy(s->timestamp, sizeof(s->timestamp),
       cw__jv_str(cw__jv_get(ev, "timestamp")));
  copy(s->level, sizeof(s->level), cw__jv_str(cw__jv_get(ev, "level")));
  copy(s->release, sizeof(s->release), cw__jv_str(cw__jv_get(ev, "release")));
  copy(s->environment, sizeof(s->environment),
       cw__jv_str(cw__jv_get(ev, "environment")));
  const cw__jv_t *exc = cw__jv_at(cw__jv_path(ev, "exception.values"), 0);
  const cw__jv_t *sig = cw__jv_path(exc, "mechanism.meta.signal");
  if (sig != NULL) {
    s->is_crash = 1;
    copy(s->signal, sizeof(s->signal), cw__jv_str(cw__jv_get(sig, "name")));
    copy(s->code_name, sizeof(s->code_name),
         cw__jv_str(cw__jv_get(sig, "code_name")));
    copy(s->fault_addr, sizeof(s->fault_addr),
         cw__jv_str(cw__jv_path(exc, "mechanism.data.fault_address")));
  }
  if (exc != NULL)
    copy(s->title, sizeof(s->title), cw__jv_str(cw__jv_get(exc, "value")));
  if (s->title[0] == '\0') {
    /* A message event: "message": {"formatted": ...} or a string. */
    const cw__jv_t *m = cw__jv_get(ev, "message");
    const char *t = cw__jv_str(m);
    if (t == NULL)
      t = cw__jv_str(cw__jv_get(m, "formatted"));
    if (t == NULL)
      t = cw__jv_str(cw__jv_get(m, "message"));
    if (t == NULL)
      t = cw__jv_str(cw__jv_get(ev, "logentry"));
    if (t == NULL)
      t = cw__jv_str(cw__jv_path(ev, "logentry.formatted"));
    if (t == NULL)
      t = cw__jv_str(cw__jv_path(ev, "logentry.message"));
    copy(s->title, sizeof(s->title), t);
  }
  /* The thread: the exception's, else the crashed or current one. */
  double tid = 0;
  int have_tid = cw__jv_num(cw__jv_get(exc, "thread_id"), &tid) == 0;
  const cw__jv_t *threads = cw__jv_path(ev, "threads.values");
  const cw__jv_t *thread = NULL;
  for (size_t i = 0; i < cw__jv_count(threads); i++) {
    const cw__jv_t *t = cw__jv_at(threads, i);
    double id;
    if (have_tid ? cw__jv_num(cw__jv_get(t, "id"), &id) == 0 && id == tid
                 : cw__jv_bool(cw__jv_get(t, "crashed")) == 1 ||
                       cw__jv_bool(cw__jv_get(t, "current")) == 1) {
      thread = t;
      break;
    }
  }
  if (!have_tid && thread != NULL)
    have_tid = cw__jv_num(cw__jv_get(thread, "id"), &tid) == 0;
  s->tid = have_tid ? (long long)tid : 0;
  copy(s->thread_name, sizeof(s->thread_name),
       cw__jv_str(cw__jv_get(thread, "name")));
  /* The program: the main executable is the first debug image. */
  const cw__jv_t *img = cw__jv_at(cw__jv_path(ev, "debug_meta.images"), 0);
  const char *prog = base(cw__jv_str(cw__jv_get(img, "code_file")));
  /* A message event has no images: the watchdog names the sender in
   * extra (crashwatch.program, crashwatch.pid). */
  const cw__jv_t *extra = cw__jv_get(ev, "extra");
  if (prog == NULL || prog[0] == '\0')
    prog = cw__jv_str(cw__jv_get(extra, "crashwatch.program"));
  copy(s->program, sizeof(s->program),
       prog != NULL && prog[0] ? prog : s->thread_name);
  double pid;
  if (cw__jv_num(cw__jv_get(extra, "crashwatch.pid"), &pid) == 0 && pid > 0 &&
      pid < 4194305.0)
    s->pid = (long long)pid;
  /* The top in-app frame of the exception's stack, else the thread's. */
  const cw__jv_t *st = cw__jv_get(exc, "stacktrace");
  if (st == NULL)
    st = cw__jv_get(thread, "stacktrace");
  long k = cw__event_top_frame(st);
  if (k >= 0)
    cw__event_frame_text(cw__jv_at(cw__jv_get(st, "frames"), (size_t)k),
                         s->top_frame, sizeof(s->top_frame));
}
