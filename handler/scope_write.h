/*
 * scope_write.h — what the scope writer's files share (handler/scope.c,
 * scope_crumb.c, scope_map.c; private to handler/): the process's view of
 * the scope mapping and the slot write protocol (docs/scope.md).
 *
 * Slot protocol (a seqlock whose counter doubles as the writers' lock):
 * a writer turns the slot's even counter odd with a compare-and-swap (the
 * lock), writes, and stores counter + 2 with release order. A reader that
 * sees the counter odd, or changed across its copy, drops the slot. The
 * key/value tables serialize their writers with a table lock in process
 * memory as well (lookup, insertion and removal change the private index);
 * the slot counter then only tells readers.
 */
#ifndef CW_HANDLER_SCOPE_WRITE_H
#define CW_HANDLER_SCOPE_WRITE_H

#include <sched.h>
#include <stddef.h>
#include <stdint.h>

#include "scope_layout.h"

/* Buckets of a table's private index: open addressing, linear probing,
 * at most half full. */
#define CW__SCOPE_BUCKETS 128

/* A key/value table's private index (process memory, not the mapping):
 * key hash -> slot, so cw_set_tag on an existing key reads one bucket and
 * one key instead of scanning the slots. */
typedef struct {
  uint32_t lock;                    /* 0 free, 1 held */
  uint16_t nslots;                  /* the table's capacity */
  uint16_t count;                   /* slots in use */
  uint32_t hash[CW__SCOPE_BUCKETS]; /* the key's hash */
  int16_t slot[CW__SCOPE_BUCKETS];  /* -1: empty bucket */
  uint8_t inuse[CW__SCOPE_NTAGS];   /* per slot */
} cw__scope_index_t;

typedef struct {
  /* The live mapping: NULL before cw_init() and after cw_shutdown(); the
   * API loads it once per call (acquire). */
  cw__scope_map_t *map;
  /* The mapping itself, kept for the next cw_init() and never unmapped:
   * a call racing cw_shutdown() may still be writing into it. */
  cw__scope_map_t *mem;
  size_t len; /* bytes of mem */
  int fd;     /* its memfd, or -1 (a forked child's private copy) */
  uint64_t fd_dev, fd_ino; /* the memfd, for the crash handler's check */
  uint32_t ncrumbs;        /* ring capacity */
  uint64_t crumb_mod;      /* fastmod constant for ncrumbs */
  uint32_t single_lock;    /* attachments (a short list, rarely written) */
  cw__scope_index_t tags, extra, contexts;
} cw__scope_state_t;

extern cw__scope_state_t cw__scope;

static inline cw__scope_map_t *cw__scope_live(void) {
  return __atomic_load_n(&cw__scope.map, __ATOMIC_ACQUIRE);
}

static inline void cw__scope_relax(unsigned spins) {
  if (spins < 64) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  } else
    sched_yield();
}

/* Locks a slot (turns its counter odd); returns the odd value. */
static inline uint32_t cw__slot_lock(cw__scope_slot_hdr_t *h) {
  for (unsigned spins = 0;; spins++) {
    uint32_t s = __atomic_load_n(&h->seq, __ATOMIC_RELAXED);
    if (!(s & 1) &&
        __atomic_compare_exchange_n(&h->seq, &s, s + 1, 0, __ATOMIC_ACQUIRE,
                                    __ATOMIC_RELAXED)) {
      __atomic_thread_fence(__ATOMIC_RELEASE);
      return s + 1;
    }
    cw__scope_relax(spins);
  }
}

/* Tries once; returns the odd value, or 0 if another writer holds it. */
static inline uint32_t cw__slot_trylock(cw__scope_slot_hdr_t *h) {
  uint32_t s = __atomic_load_n(&h->seq, __ATOMIC_RELAXED);
  if ((s & 1) || !__atomic_compare_exchange_n(
                     &h->seq, &s, s + 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
    return 0;
  __atomic_thread_fence(__ATOMIC_RELEASE);
  return s + 1;
}

static inline void cw__slot_unlock(cw__scope_slot_hdr_t *h, uint32_t odd) {
  __atomic_store_n(&h->seq, odd + 1, __ATOMIC_RELEASE);
}

/* A slot written under its table's lock: readers only. */
static inline uint32_t cw__slot_begin(cw__scope_slot_hdr_t *h) {
  uint32_t s = __atomic_load_n(&h->seq, __ATOMIC_RELAXED) | 1u;
  __atomic_store_n(&h->seq, s, __ATOMIC_RELAXED);
  __atomic_thread_fence(__ATOMIC_RELEASE);
  return s;
}

static inline void cw__spin_lock(uint32_t *l) {
  for (unsigned spins = 0;; spins++) {
    if (__atomic_load_n(l, __ATOMIC_RELAXED) == 0 &&
        !__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE))
      return;
    cw__scope_relax(spins);
  }
}

static inline void cw__spin_unlock(uint32_t *l) {
  __atomic_store_n(l, 0, __ATOMIC_RELEASE);
}

/* a % d for d = cw__scope.ncrumbs (Lemire's fastmod; M = 2^64 / d + 1). */
static inline uint32_t cw__scope_mod(uint32_t a, uint64_t m, uint32_t d) {
  uint64_t low = m * a;
  return (uint32_t)(((__uint128_t)low * d) >> 64);
}

/* 1 if s[0, n) is one JSON value (objects_only: one JSON object) in valid
 * UTF-8. Async-signal-safe. */
int cw__scope_json_ok(const char *s, size_t n, int objects_only);

/* ---- scope_map.c (normal context) ---- */
struct cw_options;
/* Creates (or reuses and clears) the mapping and writes what the options
 * set: config, attachments, TRACEPARENT. The scope is not live yet. */
int cw__scope_open(const struct cw_options *o);
/* Makes it live (end of a successful cw_init). */
void cw__scope_go_live(void);
/* cw_shutdown: the API returns CW_ENOTINIT from now on. */
void cw__scope_stop(void);
/* The pthread_atfork child handler: a private copy of the scope. */
void cw__scope_atfork_child(void);
/* The memfd for a watchdog started at cw_init (-1 if none). */
int cw__scope_fd(void);

#endif
