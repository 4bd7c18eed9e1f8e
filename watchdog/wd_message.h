/*
 * wd_message.h — the event of a message or of an application's own event
 * (issue 11; normal context, watchdog process). Private to watchdog/ (and
 * its tests).
 */
#ifndef CW_WD_MESSAGE_H
#define CW_WD_MESSAGE_H

#include <stddef.h>

#include "buf.h"
#include "event_request.h"
#include "wd_capture.h"
#include "wd_scope.h"

/* Deepest nesting taken in an application's event. */
#define WD_EVENT_MAX_DEPTH CW__REQ_EVENT_MAX_DEPTH

typedef struct {
  const cw__event_req_t *req; /* kind, level, time, dropped */
  const char *payload;        /* the message text, or the event's JSON */
  size_t payload_len;
  const char *event_id; /* 32 lowercase hex digits */
  const char *release, *environment;
  const wd_event_scope_t *es; /* the scope as of the request */
  const wd_sysinfo_t *sys;    /* the host, for contexts os and device */
  const wd_capture_t *stack;  /* the caller's stack, or NULL */
  const char *program;        /* the sender's executable's name, or NULL */
} wd_message_t;

/*
 * The event JSON into out (a newline after it). A message: its level,
 * {"message": {"formatted": text}}, the scope, crashwatch's defaults. An
 * application's event: its members first, each re-emitted through the
 * scrubber; then tags, extra and contexts merged key by key with the
 * scope's (the event's keys win); then every other member crashwatch
 * fills in (timestamp, platform, level "error", sdk, server_name, release,
 * environment, dist, transaction, user, fingerprint, breadcrumbs) only
 * when the event has none. The event_id is always m->event_id; a member
 * whose key holds a JSON escape is left out. CW_EFORMAT when the event is
 * not a JSON object in UTF-8 nested at most WD_EVENT_MAX_DEPTH deep.
 */
int cw__wd_event_json_message(const wd_message_t *m, cw__buf_t *out);

/* The application event's "event_id" when it is 32 hex digits (a UUID's
 * dashes allowed; not all zero), lowercased into out: 1; else 0. */
int cw__wd_event_id_from_json(const char *json, size_t n, char out[33]);

/* A new random event id (a version-4 UUID's 32 hex digits). */
void cw__wd_new_event_id(char out[33]);

#endif
