/*
 * events_internal.h — what events.c (normal context) and dump_signal.c
 * (signal context) share: the events' process-wide state and the request
 * helpers. Private to handler/.
 */
#ifndef CW_HANDLER_EVENTS_INTERNAL_H
#define CW_HANDLER_EVENTS_INTERNAL_H

#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "event_limits.h"
#include "event_request.h"

/* A request with the caller's registers (a dump, attach_stacktrace) and
 * its message: contiguous, as the datagram is. */
typedef struct {
  cw__event_req_t req;
  cw__crash_record_t record;
  char payload[CW__REQ_MESSAGE_MAX + 1];
} cw__event_dump_req_t;

typedef struct {
  cw__event_limits_t limits;
  int attach_stacktrace;
  int dump_signal;           /* installed, or 0 */
  struct sigaction dump_old; /* its disposition before cw_init */
  int dump_busy;             /* a request waits for its ack */
  uint64_t seq;              /* the last request number given out */
  /* The dump signal's request, preallocated (the handler must not use
   * a large part of the alternate stack). */
  cw__event_dump_req_t signal_req;
} cw__events_state_t;

extern cw__events_state_t cw__events;

/* Fills the header of a request of this kind and level for the calling
 * thread: pid, tid, the time, the breadcrumb ring's position. Any
 * context. */
void cw__event_req_init(cw__event_req_t *r, uint32_t kind, int level);

/* Formats fmt into out (cap bytes, NUL-terminated): a text longer than
 * cap - 1 bytes is cut on a UTF-8 boundary and ends with U+2026 within
 * cap - 1 bytes. Returns the bytes written, NUL excluded. Normal
 * context. */
size_t cw__event_format(char *out, size_t cap, const char *fmt, va_list ap);

/* Sends r (header, record_len and payload_len bytes after it, with flags
 * added) and waits for its ack, at most ack_timeout_ms: for a dump, and for a
 * message with attach_stacktrace. Takes the one-waiter flag (spinning,
 * or failing with CW_EBUSY when from_signal); r->record must hold the
 * caller's context already (record_len set). Returns the ack's status,
 * CW_ETIMEDOUT, CW_EWATCHDOG or CW_EBUSY. Signal context. */
int cw__event_send_wait(int fd, cw__event_req_t *r, uint32_t flags);

/* The dump signal's handler (dump_signal.c). Signal context. */
void cw__on_dump_signal(int signo, siginfo_t *si, void *uc);

#endif
