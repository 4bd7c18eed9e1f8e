/*
 * event_limits.c — the sample rate and the per-minute cap of non-crash
 * events (see event_limits.h). SIGNAL CONTEXT: the dump signal's handler
 * calls cw__event_cap_take() and cw__event_dropped(); every function here
 * uses atomics only (no lock, no allocation, no system call).
 */
#include "event_limits.h"

#include <time.h>

/* splitmix64's output function (Steele, Lea and Flood): a full-period
 * generator whose state is a plain counter, so one atomic add per draw
 * makes it safe from any thread. */
#define GOLDEN 0x9e3779b97f4a7c15ull

static uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

void cw__event_limits_init(cw__event_limits_t *l, double rate,
                           uint32_t per_minute, uint64_t seed) {
  if (!(rate >= 0.0)) /* NaN too */
    rate = 0.0;
  if (rate > 1.0)
    rate = 1.0;
  if (seed == 0) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    seed = mix((uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec) | 1u;
  }
  l->rng = seed;
  l->rate = rate;
  l->per_minute = per_minute;
  l->reserved = 0;
  l->window = 0;
  l->dropped_pending = 0;
  l->dropped_total = 0;
}

double cw__event_draw(cw__event_limits_t *l) {
  uint64_t s = __atomic_add_fetch(&l->rng, GOLDEN, __ATOMIC_RELAXED);
  /* The top 53 bits: every double in [0, 1) this can give is equally
   * likely. */
  return (double)(mix(s) >> 11) * (1.0 / 9007199254740992.0);
}

int cw__event_sampled(cw__event_limits_t *l) {
  if (l->rate >= 1.0)
    return 1;
  if (l->rate <= 0.0)
    return 0;
  return cw__event_draw(l) < l->rate;
}

int cw__event_cap_take(cw__event_limits_t *l, uint64_t now_ns) {
  if (l->per_minute == 0)
    return 1;
  uint64_t minute = now_ns / 60000000000ull;
  uint64_t w = __atomic_load_n(&l->window, __ATOMIC_RELAXED);
  for (;;) {
    uint64_t count = (w >> 32) == (minute & 0xffffffffu) ? w & 0xffffffffu : 0;
    if (count >= l->per_minute)
      return 0;
    uint64_t nw = ((minute & 0xffffffffu) << 32) | (count + 1);
    if (__atomic_compare_exchange_n(&l->window, &w, nw, 1, __ATOMIC_RELAXED,
                                    __ATOMIC_RELAXED))
      return 1;
  }
}

void cw__event_dropped(cw__event_limits_t *l) {
  __atomic_add_fetch(&l->dropped_pending, 1, __ATOMIC_RELAXED);
  __atomic_add_fetch(&l->dropped_total, 1, __ATOMIC_RELAXED);
}

uint64_t cw__event_dropped_take(cw__event_limits_t *l) {
  return __atomic_exchange_n(&l->dropped_pending, 0, __ATOMIC_RELAXED);
}

void cw__event_dropped_restore(cw__event_limits_t *l, uint64_t n) {
  if (n > 0)
    __atomic_add_fetch(&l->dropped_pending, n, __ATOMIC_RELAXED);
}
