/*
 * event_summary.h — the few facts a person scanning reports wants from a
 * Sentry event (a spooled event.json, read with json_read.h): when, what
 * (signal or message level), which program and thread, where (the top
 * in-app frame). Shared by `crashwatch list`/`show` and the delivery
 * journal. Normal context.
 *
 * Every field is a bounded, NUL-terminated copy ("" when the event does
 * not say); the event is outside input and may lack anything.
 */
#ifndef CW_EVENT_SUMMARY_H
#define CW_EVENT_SUMMARY_H

#include "json_read.h"

typedef struct {
  char event_id[33];
  char timestamp[40]; /* as the event gives it (RFC 3339) */
  char level[16];     /* fatal, error, warning, info, debug */
  int is_crash;       /* an exception with a signal handler's mechanism */
  char signal[32];    /* "SIGSEGV" (crash), else "" */
  char code_name[32]; /* "SEGV_MAPERR" */
  char fault_addr[24];
  char title[256];   /* exception value, or the message */
  char program[256]; /* basename of the main executable, or thread name */
  long long tid;     /* the crashed (or current) thread; 0: unknown */
  char thread_name[64];
  char top_frame[320]; /* "function (file:line)" of the top in-app frame */
  char release[128];
  char environment[64];
  long long pid; /* a message event's extra crashwatch.pid; a crash's is
                    not in the event: the caller fills it from the
                    minidump (md_pid.h); 0 unknown */
} cw__event_summary_t;

/* Fills s from the event ev (a JSON object; anything else gives an empty
 * summary). */
void cw__event_summary(const cw__jv_t *ev, cw__event_summary_t *s);

/* The frames of thread/exception stacktrace `st` ("frames" array,
 * outermost first, as Sentry orders them) and index of the top in-app
 * frame (the innermost with in_app true that is not crashwatch's own, in
 * libcrashwatch; else the innermost); -1 if none. */
long cw__event_top_frame(const cw__jv_t *stacktrace);

/* "function (file:line)" of a frame, into out. */
void cw__event_frame_text(const cw__jv_t *frame, char *out, size_t cap);

#endif
