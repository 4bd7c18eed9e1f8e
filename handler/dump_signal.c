/*
 * dump_signal.c — a dump of the live process asked for by a signal, and
 * the wait for a dump's ack (issue 11). SIGNAL CONTEXT: every function in
 * this file may run inside the dump signal's handler.
 *
 * Rules this file obeys (tests/check-signal-safe.sh checks the calls):
 *   - no malloc/free, no stdio, no locks (the one-waiter flag is an atomic
 *     that the handler only tries, never waits for);
 *   - only async-signal-safe calls (send, recv, poll, clock_gettime,
 *     syscall);
 *   - errno is saved on entry and restored before returning;
 *   - the request is preallocated (cw__events.signal_req).
 *
 * A dump's ack comes on the crash socket, which a crashing thread may be
 * reading too: each side peeks at the datagram first and takes only its
 * own (a crash ack is left for the crash handler; an ack of another seq,
 * from a dump that timed out, is thrown away).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "crashwatch.h"
#include "cw_internal.h"
#include "events_internal.h"
#include "scope_write.h"

/* Signal context. */
static uint64_t mono_ns(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
    return 0;
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Signal context. */
static void nap_us(long us) {
  struct timespec ts = {0, us * 1000};
  syscall(SYS_nanosleep, &ts, NULL);
}

/* Signal context: waits for the ack of seq. */
static int wait_ack(int fd, uint64_t seq) {
  uint64_t deadline =
      mono_ns() + (uint64_t)cw__crash.ack_timeout_ms * 1000000ull;
  for (;;) {
    uint64_t now = mono_ns();
    if (now >= deadline)
      return CW_ETIMEDOUT;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int rc = poll(&p, 1, (int)((deadline - now + 999999u) / 1000000u));
    if (rc < 0 && errno != EINTR)
      return CW_EWATCHDOG;
    if (rc <= 0)
      continue;
    cw__event_ack_t ack;
    ssize_t n = recv(fd, &ack, sizeof(ack), MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
      continue;
    if (n <= 0)
      return CW_EWATCHDOG; /* EOF: the watchdog is gone */
    if (n < (ssize_t)sizeof(uint32_t) || ack.magic != CW_EVENT_ACK_MAGIC) {
      /* A crash's ack: the crashing thread takes it (the process is about
       * to die); let it. */
      nap_us(1000);
      continue;
    }
    n = recv(fd, &ack, sizeof(ack), MSG_DONTWAIT);
    if (n == (ssize_t)sizeof(ack) && ack.seq == seq)
      return ack.status;
    /* an ack of an earlier request that timed out: dropped */
  }
}

/* Signal context: sends r and waits for its ack; the caller holds the
 * one-waiter flag, released here. */
static int send_wait_held(int fd, cw__event_req_t *r, uint32_t flags) {
  r->flags |= flags;
  r->seq = __atomic_add_fetch(&cw__events.seq, 1, __ATOMIC_RELAXED);
  r->dropped = cw__event_dropped_take(&cw__events.limits);
  size_t len = sizeof(*r) + r->record_len + r->payload_len;
  ssize_t n;
  do
    n = send(fd, r, len, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  int rc;
  if (n != (ssize_t)len) {
    cw__event_dropped_restore(&cw__events.limits, r->dropped);
    rc = CW_EWATCHDOG;
  } else {
    rc = wait_ack(fd, r->seq);
  }
  __atomic_store_n(&cw__events.dump_busy, 0, __ATOMIC_RELEASE);
  return rc;
}

static int try_take(void) {
  int expected = 0;
  return __atomic_compare_exchange_n(&cw__events.dump_busy, &expected, 1, 0,
                                     __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

int cw__event_send_wait(int fd, cw__event_req_t *r, uint32_t flags) {
  for (unsigned spins = 0; !try_take(); spins++) {
    if (flags & CW__REQ_FROM_SIGNAL)
      return CW_EBUSY;
    nap_us(spins < 100 ? 50 : 1000);
  }
  return send_wait_held(fd, r, flags);
}

void cw__event_req_init(cw__event_req_t *r, uint32_t kind, int level) {
  memset(r, 0, sizeof(*r));
  r->magic = CW_EVENT_REQ_MAGIC;
  r->version = CW_EVENT_REQ_VERSION;
  r->size = sizeof(*r);
  r->kind = kind;
  r->level = level;
  r->pid = cw__crash.pid;
  r->tid = cw__gettid();
  struct timespec ts;
  if (clock_gettime(CLOCK_REALTIME, &ts) == 0)
    r->time_realtime_ns =
        (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
  cw__scope_map_t *m = cw__scope_live();
  r->crumb_head =
      m != NULL ? __atomic_load_n(&m->crumb_head, __ATOMIC_ACQUIRE) : 0;
}

void cw__on_dump_signal(int signo, siginfo_t *si, void *uc) {
  int saved_errno = errno;
  int fd = __atomic_load_n(&cw__crash.sock_fd, __ATOMIC_ACQUIRE);
  if (fd < 0 || cw__crash.pid != (pid_t)syscall(SYS_getpid)) {
    errno = saved_errno;
    return;
  }
  if (!cw__event_cap_take(&cw__events.limits, mono_ns())) {
    cw__event_dropped(&cw__events.limits);
    errno = saved_errno;
    return;
  }
  /* The request is shared by every thread the signal may land on: the
   * one-waiter flag is taken before it is filled. */
  if (!try_take()) {
    cw__event_dropped(&cw__events.limits);
    errno = saved_errno;
    return;
  }
  cw__event_dump_req_t *d = &cw__events.signal_req;
  cw__event_req_init(&d->req, CW__REQ_DUMP, 3 /* CW_LEVEL_ERROR */);
  cw__crash_fill_record(&d->record, signo, si, uc, d->req.tid);
  d->req.record_len = sizeof(d->record);
  send_wait_held(fd, &d->req, CW__REQ_FROM_SIGNAL);
  errno = saved_errno;
}
