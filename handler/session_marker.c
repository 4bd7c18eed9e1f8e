/*
 * session_marker.c — the text of session markers and updates the library
 * writes and reads (key=value lines; the uploader's session.h reads the
 * updates). Normal context. A marker is read back at the next start from
 * the spool, so its parser takes any bytes (fuzz_session_marker).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cw_session.h"

/* A decimal number of at most 18 digits, else 0. */
static long long num(const char *v) {
  size_t n = strlen(v);
  if (n == 0 || n > 18 || strspn(v, "0123456789") != n)
    return 0;
  return strtoll(v, NULL, 10);
}

int cw__session_marker_abnormal(const char *text, size_t n, const char *sid,
                                long long mtime_ms, cw__session_marker_t *m,
                                char *out, size_t cap, size_t *len) {
  memset(m, 0, sizeof(*m));
  *len = 0;
  if (cap > 0)
    out[0] = '\0';
  if (!cw__session_sid_ok(sid) || cap == 0)
    return -1;
  char copy[CW__SESSION_KV_CAP];
  if (n >= sizeof(copy))
    n = sizeof(copy) - 1;
  memcpy(copy, text, n);
  copy[n] = '\0';
  /* The sid is the marker's name (checked above), never the text's. */
  cw__session_kv(out, cap, len, "sid", sid);
  for (char *line = copy, *next; line != NULL && *line; line = next) {
    next = strchr(line, '\n');
    if (next != NULL)
      *next++ = '\0';
    char *eq = strchr(line, '=');
    if (eq == NULL)
      continue;
    *eq = '\0';
    const char *v = eq + 1;
    if (strcmp(line, "pid") == 0)
      m->pid = num(v);
    else if (strcmp(line, "pid_start") == 0)
      m->pid_start = (unsigned long long)num(v);
    else if (strcmp(line, "started") == 0)
      m->started_ms = num(v);
    else if (strcmp(line, "release") == 0 || strcmp(line, "environment") == 0 ||
             strcmp(line, "did") == 0)
      cw__session_kv(out, cap, len, line, v);
  }
  cw__session_kv_num(out, cap, len, "started", m->started_ms);
  /* Its end is not known: the marker's last change is the best bound
   * (a file time is coarser than the clock `started` came from). */
  cw__session_kv_num(out, cap, len, "timestamp",
                     mtime_ms > m->started_ms ? mtime_ms : m->started_ms);
  cw__session_kv(out, cap, len, "status", "abnormal");
  cw__session_kv(out, cap, len, "duration", "0");
  cw__session_kv(out, cap, len, "init", "1");
  return 0;
}
