/*
 * event_limits.h — which non-crash events an application sends (issue 11;
 * private to handler/): the sample rate and the per-process cap on events
 * per minute, and the count of what they (or a full socket) dropped.
 *
 * Lock-free (atomics only), allocation-free and async-signal-safe: the
 * dump signal's handler asks the cap too. Crashes never come here: they
 * are always reported.
 */
#ifndef CW_HANDLER_EVENT_LIMITS_H
#define CW_HANDLER_EVENT_LIMITS_H

#include <stdint.h>

/* Events per minute when the application does not say. */
#define CW__EVENTS_PER_MINUTE_DEFAULT 60u

typedef struct {
  uint64_t rng;        /* splitmix64 state, advanced atomically */
  double rate;         /* 0.0 (send none) ... 1.0 (send all) */
  uint32_t per_minute; /* 0: no cap */
  uint32_t reserved;
  /* The cap's window: (minute of CLOCK_MONOTONIC << 32) | events sent in
   * it, updated with compare-and-swap. */
  uint64_t window;
  uint64_t dropped_pending; /* dropped since the last request sent */
  uint64_t dropped_total;   /* dropped since cw_init */
} cw__event_limits_t;

/* rate outside 0..1 is clamped; seed 0 takes one from the clock. Normal
 * context (before the limits are shared). */
void cw__event_limits_init(cw__event_limits_t *l, double rate,
                           uint32_t per_minute, uint64_t seed);

/* One uniform draw in [0, 1) from the limits' generator (deterministic
 * for a given seed and order of calls). Any context. */
double cw__event_draw(cw__event_limits_t *l);

/* 1 if an event is kept by the sample rate: a draw below rate (so rate 0
 * never keeps one and rate 1 always does), else 0. Any context. */
int cw__event_sampled(cw__event_limits_t *l);

/* 1 if one more event fits in the minute of now_ns (CLOCK_MONOTONIC) and
 * it is counted; 0 when the cap is reached. Any context. */
int cw__event_cap_take(cw__event_limits_t *l, uint64_t now_ns);

/* Counts a dropped event. Any context. */
void cw__event_dropped(cw__event_limits_t *l);
/* The drops since the last call (to put in the next request), zeroing
 * the count; cw__event_dropped_restore() gives them back when the
 * request could not be sent. Any context. */
uint64_t cw__event_dropped_take(cw__event_limits_t *l);
void cw__event_dropped_restore(cw__event_limits_t *l, uint64_t n);

#endif
