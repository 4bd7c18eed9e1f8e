/*
 * scope_crumb.c — cw_add_breadcrumb (issue 10). SIGNAL CONTEXT: the
 * function is documented async-signal-safe, so this file obeys the crash
 * path's rules (no malloc, no stdio, no locks that a signal could find
 * held, errno untouched) and its calls are checked by
 * tests/check-signal-safe.sh with the other signal-context objects.
 *
 * A crumb takes the next ring position with one atomic add on the
 * mapping's head counter, locks that slot with a compare-and-swap on its
 * counter (it is free unless the ring wrapped onto a writer that has not
 * finished: then the next position is taken instead, a few times at most,
 * so a signal handler never waits for the thread it interrupted), fills
 * it and publishes it. The timestamp is CLOCK_REALTIME_COARSE, served by
 * the vDSO from the kernel's timekeeping page on every clock source
 * (docs/scope.md says why not CLOCK_REALTIME).
 */
#include <string.h>
#include <time.h>

#include "crashwatch.h"
#include "json_check.h"
#include "scope_write.h"
#include "utf8.h"

int cw__scope_json_ok(const char *s, size_t n, int objects_only) {
  unsigned flags = CW__JSON_CHECK_UTF8;
  if (objects_only)
    flags |= CW__JSON_CHECK_OBJECT;
  return cw__json_check(s, n, flags, 0, NULL, NULL) == 0;
}

/* s truncated into field (cap bytes); NULL stores "". A byte loop: the
 * fields of a breadcrumb are short, and for them it costs a third of
 * strnlen + memcpy (calls, vector set-up); a string that fills the field
 * is then cut on a character boundary with the marker. */
static void put_field(char *field, size_t cap, const char *s) {
  if (s == NULL) {
    field[0] = '\0';
    return;
  }
  for (size_t i = 0; i < cap; i++) {
    char c = s[i];
    field[i] = c;
    if (c == '\0')
      return;
  }
  cw__utf8_copy_trunc(field, cap, s, strlen(s));
}

/* Tries of a new ring position when the one taken is still being written
 * (only when the ring wrapped onto an unfinished write). */
#define CRUMB_TRIES 4

CW_EXTERN int cw_add_breadcrumb(const char *type, const char *category,
                                const char *message, cw_level_t level,
                                const char *data_json) {
  cw__scope_map_t *m = cw__scope_live();
  if (m == NULL)
    return CW_ENOTINIT;
  if ((int)level < CW_LEVEL_DEBUG || (int)level > CW_LEVEL_FATAL)
    return CW_EINVAL;
  size_t dlen = 0;
  if (data_json != NULL) {
    dlen = strnlen(data_json, CW__SCOPE_CRUMB_DATA_MAX);
    if (dlen >= CW__SCOPE_CRUMB_DATA_MAX)
      return CW_ETOOBIG;
    if (!cw__scope_json_ok(data_json, dlen, 1))
      return CW_EFORMAT;
  }
  uint32_t n = cw__scope.ncrumbs;
  if (n == 0)
    return 0; /* max_breadcrumbs 0: none kept */
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME_COARSE, &ts);
  cw__scope_crumb_slot_t *ring = CW__SCOPE_CRUMBS(m);
  for (int tries = 0; tries < CRUMB_TRIES; tries++) {
    uint64_t idx = __atomic_fetch_add(&m->crumb_head, 1, __ATOMIC_RELAXED);
    cw__scope_crumb_slot_t *c =
        &ring[cw__scope_mod((uint32_t)idx, cw__scope.crumb_mod, n)];
    uint32_t s = cw__slot_trylock(&c->h);
    if (s == 0)
      continue;
    c->level = (int32_t)level;
    c->timestamp_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    c->index = idx;
    put_field(c->type, sizeof(c->type), type);
    put_field(c->category, sizeof(c->category), category);
    put_field(c->message, sizeof(c->message), message);
    if (data_json != NULL)
      memcpy(c->data, data_json, dlen + 1);
    else
      c->data[0] = '\0';
    c->h.used = 1;
    cw__slot_unlock(&c->h, s);
    return 0;
  }
  return CW_EBUSY;
}
