/*
 * cw_session.h — the handler's release-health session (session.c, normal
 * context; session_count.c, signal context). Private to handler/.
 */
#ifndef CW_HANDLER_SESSION_H
#define CW_HANDLER_SESSION_H

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

#endif
