/*
 * events.c — events besides crashes, the app's side (issue 11): the
 * options, cw_capture_message(), cw_capture_event(), cw_capture_dump()
 * and the dump signal's installation. Normal context (the dump signal's
 * handler and the wait for a dump's ack are in dump_signal.c, signal
 * context).
 *
 * Everything is sent to the watchdog as one request datagram
 * (common/event_request.h) on the crash socket; the caller builds it on
 * its own stack. A message or event is sent with MSG_DONTWAIT and never
 * waited for: a watchdog that falls behind fills the socket's buffer,
 * and further events are dropped (counted) instead of blocking the app.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "crashwatch.h"
#include "cw_internal.h"
#include "event_limits.h"
#include "event_request.h"
#include "events_internal.h"
#include "json_check.h"
#include "json_members.h"
#include "utf8.h"

cw__events_state_t cw__events;

static pthread_mutex_t dump_lock = PTHREAD_MUTEX_INITIALIZER;

/* Until the release health sessions land (the sessions helper's
 * handler/session*.c defines the real one, which the linker prefers). */
__attribute__((weak)) void cw__session_note_error(void) {}

/* ---- options ---- */

static void env_bad(struct cw_options *o, const char *fmt, const char *v) {
  if (o->env_err != 0)
    return;
  o->env_err = CW_EINVAL;
  snprintf(o->env_msg, sizeof(o->env_msg), fmt, v);
}

void cw__events_options_init(struct cw_options *o) {
  o->sample_rate = 1.0;
  o->sample_seed = 0;
  o->events_per_minute = CW__EVENTS_PER_MINUTE_DEFAULT;
  o->attach_stacktrace = 0;
  o->dump_signal = 0;
  const char *v = cw__getenv("SENTRY_SAMPLE_RATE");
  if (v != NULL && *v) {
    char *end;
    errno = 0;
    double r = strtod(v, &end);
    if (errno != 0 || end == v || *end != '\0' || !(r >= 0.0 && r <= 1.0))
      env_bad(o, "SENTRY_SAMPLE_RATE=%s: expected a number in 0..1", v);
    else
      o->sample_rate = r;
  }
  v = cw__getenv("CRASHWATCH_MAX_EVENTS_PER_MINUTE");
  if (v != NULL && *v) {
    char *end;
    errno = 0;
    unsigned long n = strtoul(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0' || v[0] == '-' || n > 1000000ul)
      env_bad(o, "CRASHWATCH_MAX_EVENTS_PER_MINUTE=%s: expected 0..1000000", v);
    else
      o->events_per_minute = (unsigned)n;
  }
  v = cw__getenv("CRASHWATCH_ATTACH_STACKTRACE");
  if (v != NULL && *v) {
    if (strcmp(v, "0") == 0 || strcmp(v, "1") == 0)
      o->attach_stacktrace = v[0] == '1';
    else
      env_bad(o, "CRASHWATCH_ATTACH_STACKTRACE=%s: expected 0 or 1", v);
  }
}

#define CHECK_OPTS(o, fn)                                                      \
  do {                                                                         \
    if ((o) == NULL)                                                           \
      return cw__fail(CW_EINVAL, "%s: options is NULL", fn);                   \
  } while (0)

CW_EXTERN int cw_options_set_sample_rate(cw_options_t *o, double rate) {
  CHECK_OPTS(o, "cw_options_set_sample_rate");
  if (!(rate >= 0.0 && rate <= 1.0))
    return cw__fail(CW_EINVAL, "cw_options_set_sample_rate: %g is outside 0..1",
                    rate);
  o->sample_rate = rate;
  return 0;
}

CW_EXTERN int cw_options_set_sample_seed(cw_options_t *o,
                                         unsigned long long seed) {
  CHECK_OPTS(o, "cw_options_set_sample_seed");
  o->sample_seed = seed;
  return 0;
}

CW_EXTERN int cw_options_set_max_events_per_minute(cw_options_t *o,
                                                   unsigned per_minute) {
  CHECK_OPTS(o, "cw_options_set_max_events_per_minute");
  if (per_minute > 1000000u)
    return cw__fail(CW_EINVAL,
                    "cw_options_set_max_events_per_minute: %u is above "
                    "1000000",
                    per_minute);
  o->events_per_minute = per_minute;
  return 0;
}

CW_EXTERN int cw_options_set_attach_stacktrace(cw_options_t *o, int on) {
  CHECK_OPTS(o, "cw_options_set_attach_stacktrace");
  o->attach_stacktrace = on != 0;
  return 0;
}

CW_EXTERN int cw_options_set_dump_signal(cw_options_t *o, int signo) {
  CHECK_OPTS(o, "cw_options_set_dump_signal");
  if (signo != 0 && (signo < 1 || signo > SIGRTMAX || signo == SIGKILL ||
                     signo == SIGSTOP || cw__chain_index(signo) >= 0))
    return cw__fail(CW_EINVAL,
                    "cw_options_set_dump_signal: %d is not a signal a dump "
                    "can be asked with (a crash signal, SIGKILL, SIGSTOP or "
                    "out of range)",
                    signo);
  o->dump_signal = signo;
  return 0;
}

/* ---- lifecycle ---- */

int cw__events_start(const struct cw_options *o) {
  cw__event_limits_init(&cw__events.limits, o->sample_rate,
                        o->events_per_minute, o->sample_seed);
  cw__events.attach_stacktrace = o->attach_stacktrace;
  __atomic_store_n(&cw__events.dump_busy, 0, __ATOMIC_SEQ_CST);
  cw__events.dump_signal = 0;
  if (o->dump_signal > 0) {
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = cw__on_dump_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    if (cw__sys_sigaction(o->dump_signal, &sa, &cw__events.dump_old) != 0)
      return cw__fail(-errno, "sigaction(%d) for the dump signal: %s",
                      o->dump_signal, strerror(errno));
    cw__events.dump_signal = o->dump_signal;
  }
  return 0;
}

void cw__events_stop(void) {
  int signo = cw__events.dump_signal;
  if (signo <= 0)
    return;
  struct sigaction cur;
  /* Leave a handler the program installed since alone. */
  if (cw__sys_sigaction(signo, NULL, &cur) == 0 &&
      (cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == cw__on_dump_signal)
    cw__sys_sigaction(signo, &cw__events.dump_old, NULL);
  cw__events.dump_signal = 0;
}

CW_EXTERN unsigned long long cw_events_dropped(void) {
  return __atomic_load_n(&cw__events.limits.dropped_total, __ATOMIC_RELAXED);
}

/* ---- requests ---- */

/* The crash socket if crashwatch is initialized in this very process, else
 * -1. */
static int channel(void) {
  if (!__atomic_load_n(&cw__crash.installed, __ATOMIC_ACQUIRE))
    return -1;
  int fd = __atomic_load_n(&cw__crash.sock_fd, __ATOMIC_ACQUIRE);
  if (fd < 0 || cw__crash.pid != getpid())
    return -1;
  return fd;
}

/* The same without getpid() (a system call: half a message's cost on a
 * VM): a child of fork() has no socket (its atfork handler closed it).
 * A child made by a raw clone() or vfork() that kept the socket and
 * sends a message would have it reported as its parent's, a message
 * only; a dump, which stops the process it names, checks the pid. */
static int channel_fast(void) {
  if (!__atomic_load_n(&cw__crash.installed, __ATOMIC_ACQUIRE))
    return -1;
  return __atomic_load_n(&cw__crash.sock_fd, __ATOMIC_ACQUIRE);
}

static uint64_t now_ns(clockid_t clk) {
  struct timespec ts;
  clock_gettime(clk, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Sends a message or event request (header and payload, contiguous)
 * without waiting. */
static int send_request(int fd, cw__event_req_t *r) {
  r->dropped = cw__event_dropped_take(&cw__events.limits);
  size_t len = sizeof(*r) + r->record_len + r->payload_len;
  ssize_t n;
  do
    n = send(fd, r, len, MSG_DONTWAIT | MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n == (ssize_t)len)
    return 0;
  int e = n < 0 ? errno : EIO;
  cw__event_dropped_restore(&cw__events.limits, r->dropped);
  cw__event_dropped(&cw__events.limits);
  if (e == EAGAIN || e == EWOULDBLOCK || e == ENOBUFS)
    return CW_EAGAIN;
  return CW_EWATCHDOG;
}

/* Sampling and the cap, for a message or event. 1: send it; otherwise
 * *rc is what the call returns (0 sampled out, CW_ERATELIMIT). */
static int admit(int *rc) {
  if (!cw__event_sampled(&cw__events.limits)) {
    cw__event_dropped(&cw__events.limits);
    *rc = 0;
    return 0;
  }
  if (!cw__event_cap_take(&cw__events.limits, now_ns(CLOCK_MONOTONIC))) {
    cw__event_dropped(&cw__events.limits);
    *rc = CW_ERATELIMIT;
    return 0;
  }
  return 1;
}

CW_EXTERN int cw_capture_message(cw_level_t level, const char *fmt, ...) {
  if ((int)level < CW_LEVEL_DEBUG || (int)level > CW_LEVEL_FATAL || fmt == NULL)
    return CW_EINVAL;
  if (!__atomic_load_n(&cw__crash.installed, __ATOMIC_ACQUIRE))
    return CW_ENOTINIT;
  /* A dropped call costs no system call. */
  int rc;
  if (!admit(&rc))
    return rc;
  int fd = channel_fast();
  if (fd < 0)
    return CW_ENOTINIT;
  /* Without the registers the text follows the header at once (a burst
   * of small datagrams queues deeper in the socket). */
  union {
    cw__event_dump_req_t d; /* with the registers */
    struct {
      cw__event_req_t req;
      char text[CW__REQ_MESSAGE_MAX + 1];
    } m;
  } b;
  cw__event_req_init(&b.m.req, CW__REQ_MESSAGE, (int)level);
  int stack = cw__events.attach_stacktrace;
  va_list ap;
  va_start(ap, fmt);
  if (stack)
    b.d.req.payload_len =
        (uint32_t)cw__event_format(b.d.payload, sizeof(b.d.payload), fmt, ap);
  else
    b.m.req.payload_len =
        (uint32_t)cw__event_format(b.m.text, sizeof(b.m.text), fmt, ap);
  va_end(ap);
  if (stack) {
    ucontext_t uc;
    getcontext(&uc);
    cw__crash_fill_record(&b.d.record, 0, NULL, &uc, b.d.req.tid);
    b.d.req.record_len = sizeof(b.d.record);
    rc = cw__event_send_wait(fd, &b.d.req, CW__REQ_STACKTRACE);
  } else {
    rc = send_request(fd, &b.m.req);
  }
  if (rc == 0 && level >= CW_LEVEL_ERROR)
    cw__session_note_error();
  return rc;
}

/* The event's "level" member, as a CW_LEVEL_* value; error when it has
 * none (as Sentry takes it) or one it does not know. */
static int event_level(const char *json, size_t n) {
  const char *v;
  size_t vn;
  if (cw__json_member(json, n, "level", &v, &vn) != 0 || vn < 2 || v[0] != '"')
    return CW_LEVEL_ERROR;
  static const char *const names[] = {"debug", "info", "warning", "error",
                                      "fatal"};
  for (int i = 0; i < 5; i++)
    if (vn - 2 == strlen(names[i]) && memcmp(v + 1, names[i], vn - 2) == 0)
      return i;
  if (vn - 2 == 4 && memcmp(v + 1, "warn", 4) == 0)
    return CW_LEVEL_WARNING;
  return CW_LEVEL_ERROR;
}

CW_EXTERN int cw_capture_event(const char *event_json) {
  if (event_json == NULL)
    return CW_EINVAL;
  size_t n = strlen(event_json);
  if (n > CW__REQ_EVENT_MAX)
    return CW_ETOOBIG;
  if (cw__json_check(event_json, n, CW__JSON_CHECK_OBJECT | CW__JSON_CHECK_UTF8,
                     CW__REQ_EVENT_MAX_DEPTH, NULL, NULL) != 0)
    return CW_EFORMAT;
  if (!__atomic_load_n(&cw__crash.installed, __ATOMIC_ACQUIRE))
    return CW_ENOTINIT;
  int rc;
  if (!admit(&rc))
    return rc;
  int fd = channel_fast();
  if (fd < 0)
    return CW_ENOTINIT;
  /* 64 KiB is too much for a caller's stack (a thread's may be small):
   * the request is built in one allocation. */
  cw__event_req_t *r = malloc(sizeof(*r) + n);
  if (r == NULL)
    return CW_ENOMEM;
  int level = event_level(event_json, n);
  cw__event_req_init(r, CW__REQ_EVENT, level);
  memcpy(r + 1, event_json, n);
  r->payload_len = (uint32_t)n;
  rc = send_request(fd, r);
  free(r);
  if (rc == 0 && level >= CW_LEVEL_ERROR)
    cw__session_note_error();
  return rc;
}

CW_EXTERN int cw_capture_dump(const char *message) {
  int fd = channel();
  if (fd < 0)
    return CW_ENOTINIT;
  if (!cw__event_cap_take(&cw__events.limits, now_ns(CLOCK_MONOTONIC))) {
    cw__event_dropped(&cw__events.limits);
    return CW_ERATELIMIT;
  }
  cw__event_dump_req_t b;
  cw__event_req_init(&b.req, CW__REQ_DUMP, CW_LEVEL_ERROR);
  if (message != NULL)
    b.req.payload_len = (uint32_t)cw__utf8_copy_trunc(
        b.payload, sizeof(b.payload), message, strlen(message));
  ucontext_t uc;
  getcontext(&uc);
  cw__crash_fill_record(&b.record, 0, NULL, &uc, b.req.tid);
  b.req.record_len = sizeof(b.record);
  pthread_mutex_lock(&dump_lock);
  int rc = cw__event_send_wait(fd, &b.req, 0);
  pthread_mutex_unlock(&dump_lock);
  if (rc == 0)
    cw__session_note_error();
  return rc;
}
