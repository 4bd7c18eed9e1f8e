/* wd_session.c — the crashed session update; see wd_session.h. */
#include "wd_session.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "session_kv.h"
#include "spool.h"

size_t cw__wd_session_text(const cw__scope_snapshot_t *snap, pid_t pid,
                           const char *release, const char *environment,
                           int64_t crash_ms, char *out, size_t cap) {
  if (cap > 0)
    out[0] = '\0';
  if (snap == NULL || !cw__session_sid_ok(snap->session_sid) ||
      snap->session_pid != pid || release == NULL || release[0] == '\0' ||
      cap < 512)
    return 0;
  size_t len = 0;
  cw__session_kv(out, cap, &len, "sid", snap->session_sid);
  cw__session_kv(out, cap, &len, "status", "crashed");
  cw__session_kv_num(out, cap, &len, "started", snap->session_started_ms);
  cw__session_kv_num(out, cap, &len, "timestamp", crash_ms);
  cw__session_kv_num(out, cap, &len, "errors", snap->session_errors);
  cw__session_kv(out, cap, &len, "init", "1");
  cw__session_kv(out, cap, &len, "release", release);
  cw__session_kv(out, cap, &len, "environment", environment);
  cw__session_kv(out, cap, &len, "did", snap->user_id);
  return len;
}

void cw__wd_session_closed(const char *spool_dir, const char *sid) {
  if (!cw__session_sid_ok(sid))
    return;
  char path[4096];
  if ((size_t)snprintf(path, sizeof(path), "%s/" SPOOL_SESSIONS_DIR "/%s",
                       spool_dir, sid) < sizeof(path))
    unlink(path);
}
