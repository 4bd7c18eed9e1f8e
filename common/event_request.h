/*
 * event_request.h — what the application asks of the watchdog besides a
 * crash (issue 11): a message or event to report (cw_capture_message,
 * cw_capture_event), or a dump of the live process (cw_capture_dump, the
 * dump signal).
 *
 * A request travels as one datagram on the crash socket (AF_UNIX
 * SOCK_SEQPACKET), like a crash record; the first four bytes (the magic)
 * tell the watchdog which of the two it holds. Layout of a request:
 *   cw__event_req_t  the fixed header below
 *   record           record_len bytes: 0, or a cw__crash_record_t whose
 *                    context is the calling thread's registers at the call
 *                    (a dump's "current" thread, attach_stacktrace's
 *                    stack; its other fields unused); left out of
 *                    messages and events, so that a burst of them queues
 *                    deep in the socket's buffer
 *   payload          payload_len bytes: the message text (UTF-8, no NUL)
 *                    for CW__REQ_MESSAGE and CW__REQ_DUMP, an event's JSON
 *                    object for CW__REQ_EVENT
 * A message or event gets no answer (the caller has returned long
 * before); a dump gets one cw__event_ack_t carrying the request's seq once
 * every thread has been copied out (or the capture failed), so the app
 * runs on. The crash handler skips such acks (their magic differs), and a
 * dump's waiter skips acks of other seqs (one that timed out earlier).
 *
 * Header-only, plain data: usable from signal context (the dump signal's
 * handler fills a request).
 */
#ifndef CW_EVENT_REQUEST_H
#define CW_EVENT_REQUEST_H

#include <stdint.h>

#include "crash_record.h"

#define CW_EVENT_REQ_MAGIC 0x31515645u /* "EVQ1" little-endian */
#define CW_EVENT_REQ_VERSION 1u

/* kind */
#define CW__REQ_MESSAGE 1 /* cw_capture_message */
#define CW__REQ_EVENT 2   /* cw_capture_event */
#define CW__REQ_DUMP 3    /* cw_capture_dump, the dump signal */

/* flags */
#define CW__REQ_FROM_SIGNAL 0x1 /* a dump asked for by the dump signal */
#define CW__REQ_STACKTRACE 0x2  /* attach_stacktrace: the caller's stack */

/* Longest payload: a formatted message, or an event's JSON. */
#define CW__REQ_MESSAGE_MAX 8192
#define CW__REQ_EVENT_MAX (64u * 1024u)
/* Deepest nesting of an event's JSON (the watchdog's JSON writer has 32
 * levels, the event itself uses some). */
#define CW__REQ_EVENT_MAX_DEPTH 24

typedef struct {
  uint32_t magic;   /* CW_EVENT_REQ_MAGIC */
  uint32_t version; /* CW_EVENT_REQ_VERSION */
  uint32_t size;    /* sizeof(cw__event_req_t) */
  uint32_t kind;    /* CW__REQ_* */
  int32_t level;    /* a CW_LEVEL_* value; -1 for an event (its own) */
  int32_t pid;      /* the calling process */
  int32_t tid;      /* the calling thread */
  uint32_t flags;   /* CW__REQ_* flags */
  uint64_t seq;     /* a dump's number, echoed by its ack */
  uint64_t time_realtime_ns;
  /* The breadcrumb ring's position at the call: the event carries the
   * crumbs added before it only. */
  uint64_t crumb_head;
  /* Events this process dropped (sampling, per-minute cap, a full socket)
   * since the last request it sent: the event carries the count. */
  uint64_t dropped;
  uint32_t payload_len;
  uint32_t record_len; /* 0 or sizeof(cw__crash_record_t) */
} cw__event_req_t;

/* A dump's answer. status: 0 when the process was captured, else a
 * negative CW_E* code. */
#define CW_EVENT_ACK_MAGIC 0x314b5645u /* "EVK1" */
typedef struct {
  uint32_t magic;
  int32_t status;
  uint64_t seq;
} cw__event_ack_t;

#define CW__REQ_MAX_DATAGRAM                                                   \
  (sizeof(cw__event_req_t) + sizeof(cw__crash_record_t) + CW__REQ_EVENT_MAX)

#endif /* CW_EVENT_REQUEST_H */
