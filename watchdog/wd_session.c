/* wd_session.c — the crashed session update; see wd_session.h. */
#include "wd_session.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "spool.h"

static int sid_ok(const char *s) {
  if (s == NULL || strlen(s) != 36)
    return 0;
  for (int i = 0; i < 36; i++) {
    int dash = i == 8 || i == 13 || i == 18 || i == 23;
    char c = s[i];
    if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return 0;
  }
  return 1;
}

/* One key=value line; a value that cannot be one line is left out. */
static void put(char *out, size_t cap, size_t *len, const char *k,
                const char *v) {
  if (v == NULL || v[0] == '\0')
    return;
  for (const char *c = v; *c; c++)
    if ((unsigned char)*c < 0x20 || *c == 0x7f)
      return;
  int n = snprintf(out + *len, cap - *len, "%s=%s\n", k, v);
  if (n > 0 && (size_t)n < cap - *len)
    *len += (size_t)n;
}

size_t cw__wd_session_text(const cw__scope_snapshot_t *snap, pid_t pid,
                           const char *release, const char *environment,
                           int64_t crash_ms, char *out, size_t cap) {
  if (cap > 0)
    out[0] = '\0';
  if (snap == NULL || !sid_ok(snap->session_sid) || snap->session_pid != pid ||
      release == NULL || release[0] == '\0' || cap < 512)
    return 0;
  size_t len = 0;
  char num[32];
  put(out, cap, &len, "sid", snap->session_sid);
  put(out, cap, &len, "status", "crashed");
  snprintf(num, sizeof(num), "%lld", (long long)snap->session_started_ms);
  put(out, cap, &len, "started", num);
  snprintf(num, sizeof(num), "%lld", (long long)crash_ms);
  put(out, cap, &len, "timestamp", num);
  snprintf(num, sizeof(num), "%u", snap->session_errors);
  put(out, cap, &len, "errors", num);
  put(out, cap, &len, "init", "1");
  put(out, cap, &len, "release", release);
  put(out, cap, &len, "environment", environment);
  put(out, cap, &len, "did", snap->user_id);
  return len;
}

void cw__wd_session_closed(const char *spool_dir, const char *sid) {
  if (!sid_ok(sid))
    return;
  char path[4096];
  if ((size_t)snprintf(path, sizeof(path), "%s/" SPOOL_SESSIONS_DIR "/%s",
                       spool_dir, sid) < sizeof(path))
    unlink(path);
}
