/*
 * watchdog_target.c — a crashing child for the watchdog capture tests. It
 * plays the in-process handler's part itself so the capture library can be
 * tested alone: the SIGSEGV handler fills a cw__crash_record_t from its
 * ucontext, writes it to fd RECORD_FD, and waits for one byte on fd ACK_FD.
 *
 *   watchdog_target RECORD_FD ACK_FD NTHREADS [churn|callnull|vdso|inline]
 *
 * With "churn", one more thread creates short-lived threads without pause,
 * so threads appear and vanish while the watchdog seizes them. With
 * "callnull", wd_crash_middle calls wd_callnull_leaf instead, which calls
 * through a null function pointer (the PC at the fault is 0, outside every
 * module). With "vdso", one more thread ("wd-spinner") calls
 * clock_gettime() without pause from wd_spin_outer -> wd_spin_leaf, so it
 * is often caught inside the vDSO. With "inline", wd_crash_middle calls
 * wd_inline_host, which faults inside the inlined wd_inlined_store.
 *
 * Worker threads ("wd-worker-N") block in wd_worker_outer -> wd_worker_middle
 * -> wd_worker_leaf; the main thread crashes in wd_crash_outer ->
 * wd_crash_middle -> wd_crash_leaf (a write through a null pointer).
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "crash_record.h"

static int record_fd, ack_fd;
static cw__crash_record_t rec;
static pthread_barrier_t ready;
static volatile int *volatile null_ptr;
static volatile int sink;
static int call_null;
static int inline_crash;
static void (*volatile null_fn)(void);

#define NOINLINE __attribute__((noinline))
/* Keeps the calls below from becoming tail calls, so each frame stays. */
#define KEEP() __asm__ volatile("" ::: "memory")

NOINLINE void wd_worker_leaf(void) {
  pthread_barrier_wait(&ready);
  for (;;)
    pause();
}
NOINLINE void wd_worker_middle(void) {
  wd_worker_leaf();
  KEEP();
}
NOINLINE void wd_worker_outer(void) {
  wd_worker_middle();
  KEEP();
}
static void *worker(void *arg) {
  char name[16];
  snprintf(name, sizeof(name), "wd-worker-%d", (int)(intptr_t)arg);
  pthread_setname_np(pthread_self(), name);
  wd_worker_outer();
  return NULL;
}

static void *short_lived(void *arg) { return arg; }

static void *churner(void *arg) {
  (void)arg;
  pthread_barrier_wait(&ready);
  for (;;) {
    pthread_t t;
    if (pthread_create(&t, NULL, short_lived, NULL) == 0)
      pthread_detach(t);
  }
  return NULL;
}

NOINLINE void wd_spin_leaf(void) {
  pthread_barrier_wait(&ready);
  for (;;) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    sink += (int)ts.tv_nsec;
  }
}
NOINLINE void wd_spin_outer(void) {
  wd_spin_leaf();
  KEEP();
}
static void *spinner(void *arg) {
  (void)arg;
  pthread_setname_np(pthread_self(), "wd-spinner");
  wd_spin_outer();
  return NULL;
}

/* The tests find these lines by their marker comments. */
NOINLINE void wd_crash_leaf(void) {
  *null_ptr = 42; /* WD-CRASH-SITE */
  KEEP();
}
/* With "inline": the fault happens in a function inlined into
 * wd_inline_host, which the debug info must show as its own frame. */
static inline __attribute__((always_inline)) void wd_inlined_store(int v) {
  *null_ptr = v; /* WD-INLINE-SITE */
}
NOINLINE void wd_inline_host(void) {
  wd_inlined_store(sink + 7); /* WD-INLINE-CALL */
  KEEP();
}
/* Kept apart from wd_crash_leaf so that one stays a frameless leaf. */
NOINLINE void wd_callnull_leaf(void) {
  null_fn();
  KEEP();
}
NOINLINE void wd_crash_middle(void) {
  if (call_null)
    wd_callnull_leaf();
  else if (inline_crash)
    wd_inline_host();
  else
    wd_crash_leaf();
  sink++;
}
NOINLINE void wd_crash_outer(void) {
  wd_crash_middle();
  sink++;
}

static void on_segv(int sig, siginfo_t *si, void *uc_) {
  ucontext_t *uc = uc_;
  struct timespec rt, mono;
  clock_gettime(CLOCK_REALTIME, &rt);
  clock_gettime(CLOCK_MONOTONIC, &mono);
  rec.magic = CW_CRASH_RECORD_MAGIC;
  rec.version = CW_CRASH_RECORD_VERSION;
  rec.size = sizeof(rec);
  rec.signo = sig;
  rec.si_code = si->si_code;
  rec.si_errno = si->si_errno;
  rec.pid = getpid();
  rec.tid = (int32_t)syscall(SYS_gettid);
  rec.fault_addr = (uint64_t)(uintptr_t)si->si_addr;
  rec.time_realtime_ns = (uint64_t)rt.tv_sec * 1000000000ull + rt.tv_nsec;
  rec.time_monotonic_ns = (uint64_t)mono.tv_sec * 1000000000ull + mono.tv_nsec;
  rec.ucontext_addr = (uint64_t)(uintptr_t)uc;
  memcpy(rec.context.gregs, uc->uc_mcontext.gregs, sizeof(rec.context.gregs));
  if (uc->uc_mcontext.fpregs != NULL) {
    memcpy(rec.context.fpregs, uc->uc_mcontext.fpregs,
           sizeof(rec.context.fpregs));
    rec.context.has_fpregs = 1;
  }
  if (write(record_fd, &rec, sizeof(rec)) != (ssize_t)sizeof(rec))
    _exit(3);
  char ack;
  if (read(ack_fd, &ack, 1) != 1)
    _exit(4);
  signal(SIGSEGV, SIG_DFL); /* returning re-faults and dies by SIGSEGV */
}

int main(int argc, char **argv) {
  if (argc < 4)
    return 2;
  record_fd = atoi(argv[1]);
  ack_fd = atoi(argv[2]);
  int n = atoi(argv[3]);
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGSEGV, &sa, NULL);
  int churn = argc > 4 && strcmp(argv[4], "churn") == 0;
  call_null = argc > 4 && strcmp(argv[4], "callnull") == 0;
  inline_crash = argc > 4 && strcmp(argv[4], "inline") == 0;
  int spin = argc > 4 && strcmp(argv[4], "vdso") == 0;
  pthread_barrier_init(&ready, NULL, (unsigned)(n + 1 + churn + spin));
  if (churn) {
    pthread_t t;
    pthread_create(&t, NULL, churner, NULL);
  }
  if (spin) {
    pthread_t t;
    pthread_create(&t, NULL, spinner, NULL);
  }
  for (int i = 0; i < n; i++) {
    pthread_t t;
    pthread_create(&t, NULL, worker, (void *)(intptr_t)i);
  }
  pthread_barrier_wait(&ready);
  wd_crash_outer();
  return 0;
}
