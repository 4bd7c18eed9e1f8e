/*
 * wd_session.h — the `crashed` session update of a crash report
 * (docs/sessions.md; normal context, watchdog process). Private to
 * watchdog/ (and its tests).
 *
 * The application's open session is in its scope mapping (sid, start,
 * the process it belongs to, errors counted); at a crash of that process
 * the watchdog writes the update, as the uploader's key=value session file
 * (uploader/session.h), beside event.json in the report, and once the
 * report is committed removes the session's marker from
 * <spool>/.sessions/, so the next start does not take it for abnormal.
 */
#ifndef CW_WD_SESSION_H
#define CW_WD_SESSION_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "scope.h"

/* The session file text for a crash of process pid at crash_ms, into out
 * (cap bytes, NUL-terminated). Returns its length, or 0 when there is no
 * update to write: no scope, no open session, a session of another
 * process (a forked child crashing with its parent's scope), no release,
 * or a sid that is not a lowercase UUID. */
size_t cw__wd_session_text(const cw__scope_snapshot_t *snap, pid_t pid,
                           const char *release, const char *environment,
                           int64_t crash_ms, char *out, size_t cap);

/* Removes <spool>/.sessions/<sid> (a missing marker is fine). */
void cw__wd_session_closed(const char *spool_dir, const char *sid);

#endif
