/*
 * cw_session.h — the handler's release-health session (session.c, normal
 * context; session_count.c, signal context). Private to handler/.
 */
#ifndef CW_HANDLER_SESSION_H
#define CW_HANDLER_SESSION_H

#include <stddef.h>

#include "session_kv.h"

struct cw_options;

/* At cw_init(), before the watchdog starts (so that its idle stage's
 * look at the spool sees them): with a release, turns the markers of
 * sessions whose process is gone into abnormal updates. */
void cw__session_collect(const struct cw_options *o, const char *spool_abs);
/* At the end of a successful cw_init() (under its lock, the scope mapping
 * written): with a release and automatic tracking, starts this run's
 * session. 0 or a CW_E* code (cw_init ignores it: crash reporting works
 * without a session). */
int cw__session_init(const struct cw_options *o, const char *spool_abs);
/* At cw_shutdown(): ends the session `exited`. */
void cw__session_shutdown(void);
/* 1 while this process has an open session. */
int cw__session_tracking(void);

/* Counts an error-level event in the open session (an atomic add in the
 * scope mapping; nothing without a session). Async-signal-safe: the
 * events code calls it when it captures an event of level error or fatal
 * that is not a crash. */
void cw__session_note_error(void);

/* ---- session_marker.c: the key=value text (normal context) ---- */

/* Bytes of a marker or update read or written. */
#define CW__SESSION_KV_CAP 2048

/* cw__session_sid_ok, cw__session_kv, cw__session_kv_num: session_kv.h
 * (common/, shared with the watchdog). */

/* What a marker says about its process. */
typedef struct {
  long long pid;
  unsigned long long pid_start; /* its start time, 0 if unknown */
  long long started_ms;
} cw__session_marker_t;

/* Reads the marker text[0, n) of session sid (the marker's name; last
 * changed at mtime_ms) into m, and writes its abnormal update into out
 * (sid, release, environment, did from the marker, started, timestamp =
 * max(mtime, started), status, duration=0, init=1). Any bytes are taken
 * (numbers that are not plain decimals read as 0). 0, or -1 if sid is not
 * a lowercase UUID. */
int cw__session_marker_abnormal(const char *text, size_t n, const char *sid,
                                long long mtime_ms, cw__session_marker_t *m,
                                char *out, size_t cap, size_t *len);

#endif
