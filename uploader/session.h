/*
 * session.h — a release-health session update as the spool keeps it and
 * as Sentry receives it (normal context). docs/sessions.md has the whole
 * picture.
 *
 * The spool keeps a session update as the file SPOOL_SESSION_FILE
 * ("session") of a report: key=value lines, written by the app library
 * (exited, abnormal) or the watchdog (crashed), never JSON, so that neither
 * needs a JSON writer and the one place that builds Sentry's JSON is here:
 *
 *   sid=<uuid, 36 characters, lowercase hex and dashes>
 *   status=exited|crashed|abnormal|ok
 *   started=<ms since the epoch>
 *   timestamp=<ms since the epoch>
 *   errors=<count>                         (optional, 0)
 *   init=0|1                               (optional, 1)
 *   duration=0|1                           (optional, 1: send duration)
 *   release=<text>                         (required)
 *   environment=<text>                     (optional)
 *   did=<text>                             (optional)
 *
 * Unknown keys are ignored (a newer writer), a repeated key's last value
 * wins. The file is outside input (anything that can write the spool wrote
 * it): cw__session_json() never trusts it (fuzz_session).
 */
#ifndef CW_UPLOADER_SESSION_H
#define CW_UPLOADER_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Longest text value (release, environment, did) taken; Sentry's limit
 * for a release is 200 bytes. */
#define CW__SESSION_TEXT_MAX 256

typedef struct {
  char sid[37];
  char status[16];
  int64_t started_ms, timestamp_ms;
  uint64_t errors;
  int init, duration;
  char release[CW__SESSION_TEXT_MAX];
  char environment[CW__SESSION_TEXT_MAX];
  char did[CW__SESSION_TEXT_MAX];
} cw__session_t;

/* Parses n bytes of a session file into s. Returns 0, or CW_EFORMAT with
 * the reason (key and line) in err: a missing or malformed sid, status,
 * started, timestamp or release, a number out of range, a value with a
 * control character or not UTF-8, a line without '='. */
int cw__session_parse(const char *text, size_t n, cw__session_t *s, char *err,
                      size_t errlen);

/* Appends Sentry's session JSON for s to out:
 *   {"sid":..,"did":..,"init":true,"started":"<RFC 3339>",
 *    "timestamp":"<RFC 3339>","seq":0,"duration":<s>,"status":..,
 *    "errors":N,"attrs":{"release":..,"environment":..}}
 * did is left out when empty, duration when s->duration is 0 (an abnormal
 * session's end is not known) or timestamp < started. 0 or CW_ENOMEM. */
int cw__session_json(const cw__session_t *s, cw__buf_t *out);

#endif
