/*
 * session_kv.h — the key=value lines of release-health session markers and
 * updates (docs/sessions.md), written by the library (handler/session.c)
 * and by the watchdog for a crashed session (watchdog/wd_session.c).
 * Normal context.
 */
#ifndef CW_SESSION_KV_H
#define CW_SESSION_KV_H

#include <stddef.h>

/* 1 if s is a lowercase UUID (8-4-4-4-12 hex digits). */
int cw__session_sid_ok(const char *s);
/* Appends "k=v\n" to buf (cap bytes, *len used, kept NUL-terminated); a
 * value that is empty, has a control character, or does not fit is left
 * out. */
void cw__session_kv(char *buf, size_t cap, size_t *len, const char *k,
                    const char *v);
void cw__session_kv_num(char *buf, size_t cap, size_t *len, const char *k,
                        long long v);

#endif
