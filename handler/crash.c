/*
 * crash.c — the crash signal handler. SIGNAL CONTEXT: every function in this
 * file runs inside a signal handler of a process that has just crashed.
 *
 * Rules this file obeys (tests/check-signal-safe.sh enforces the call list
 * by inspecting this object's undefined symbols):
 *   - no malloc/free, no stdio, no locks, nothing that may take a lock
 *     (no pthread_mutex_*, no dlsym, no lazy binding: the library is linked
 *     with -z now);
 *   - only async-signal-safe libc calls (raw syscalls, send/recv/poll,
 *     sigaction, clock_gettime, memcpy/memset);
 *   - errno is saved on entry and restored before any return;
 *   - memory used here (cw__crash, the record) is static, written at
 *     cw_init() so its pages are present before any crash.
 *
 * Sequence: let the app's view of the signal decide first (chain.c: the
 * app's own handler runs before anything is reported; a signal it ignores
 * or recovers from ends there), claim the one-shot crash slot (other
 * crashing threads park until the process dies), find the channel
 * (crash_spawn.c: the crash socket if it is still ours, else a watchdog
 * started now for a forked child or a process that lost its socket), fill
 * the preallocated record (or copy the original fault's, saved before the
 * app's handler re-raised), send it in one SOCK_SEQPACKET datagram
 * (MSG_NOSIGNAL: a dead watchdog gives EPIPE, not SIGPIPE), wait for the
 * watchdog's ack for at most ack_timeout_ms (a lost watchdog is said on
 * stderr in one line), restore
 * the previous disposition (running a previously installed handler), and
 * end the process by the original signal: a fault the kernel raised is left
 * to re-fault when the handler returns, a sent signal is re-sent with
 * tgkill, so the exit status and the kernel core dump stay the original.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "cw_internal.h"

/* Every sigaction() here must reach the kernel, not the interposed one in
 * interpose.c, which would only change the app's view. */
#define sigaction(signo, act, old) cw__sys_sigaction(signo, act, old)

/* Signal context: the index of signo in cw__signals, or -1. */
static int sig_index(int signo) {
  for (int i = 0; i < CW__NSIGNALS; i++)
    if (cw__signals[i] == signo)
      return i;
  return -1;
}

/* Signal context. */
static uint64_t now_ns(clockid_t clk) {
  struct timespec ts;
  if (clock_gettime(clk, &ts) != 0)
    return 0;
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Signal context: park this thread until the process dies. Used by every
 * crashing thread but the one that owns the crash slot. */
static void park_forever(void) {
  for (;;) {
    struct timespec ts = {1, 0};
    syscall(SYS_nanosleep, &ts, NULL);
  }
}

/* Signal context: true when the kernel raised signo for a fault of the
 * current instruction, which will fault again if the handler returns. */
static int refaults_on_return(int signo, const siginfo_t *si) {
  if (si == NULL || si->si_code <= 0)
    return 0; /* SI_USER, SI_QUEUE, SI_TKILL...: sent, not a fault */
  /* SIGTRAP (int3 leaves RIP after the trap) and SIGSYS (seccomp resumes
   * after the syscall) would continue, not re-fault. */
  return signo == SIGSEGV || signo == SIGBUS || signo == SIGILL ||
         signo == SIGFPE;
}

/* Signal context: fill the preallocated record. */
static void fill_record(cw__crash_record_t *r, int signo, const siginfo_t *si,
                        const ucontext_t *uc, pid_t tid) {
  memset(r, 0, sizeof(*r));
  r->magic = CW_CRASH_RECORD_MAGIC;
  r->version = CW_CRASH_RECORD_VERSION;
  r->size = sizeof(*r);
  r->signo = signo;
  r->pid = (pid_t)syscall(SYS_getpid); /* a forked child's own */
  r->tid = tid;
  if (si != NULL) {
    r->si_code = si->si_code;
    r->si_errno = si->si_errno;
    if (si->si_code <= 0)
      r->sender_pid = si->si_pid;
    else
      r->fault_addr = (uint64_t)(uintptr_t)si->si_addr;
  }
  r->time_realtime_ns = now_ns(CLOCK_REALTIME);
  r->time_monotonic_ns = now_ns(CLOCK_MONOTONIC);
  r->ucontext_addr = (uint64_t)(uintptr_t)uc;
  r->handler_sp = (uint64_t)(uintptr_t)__builtin_frame_address(0);
  if (uc != NULL) {
#if defined(__x86_64__)
    memcpy(r->context.gregs, uc->uc_mcontext.gregs, sizeof(r->context.gregs));
    if (uc->uc_mcontext.fpregs != NULL) {
      memcpy(r->context.fpregs, uc->uc_mcontext.fpregs,
             sizeof(r->context.fpregs));
      r->context.has_fpregs = 1;
    }
#endif
  }
}

/* Signal context: the one line on stderr when the watchdog is gone or
 * silent (killed by an inherited seccomp filter, the OOM killer, a kill):
 * the crash then leaves no report, and says so. */
static void say_watchdog_lost(const char *what, long num) {
  const char *const msg[] = {"crashwatch: no crash report: the watchdog ", what,
                             num >= 0 ? "%d" : "", num >= 0 ? ")" : "", NULL};
  cw__crash_say(msg, num);
}

/* Signal context: send the record and wait for the ack, at most
 * ack_timeout_ms in total. Any failure (no watchdog, dead watchdog, timeout)
 * just ends the wait, with one line on stderr: the process must die either
 * way. */
static void report(int signo, const siginfo_t *si, const ucontext_t *uc,
                   pid_t tid, const cw__crash_record_t *orig) {
  int fd = cw__crash_channel((int)syscall(SYS_getpid));
  if (fd < 0)
    return;
  if (orig != NULL)
    memcpy(&cw__crash.record, orig, sizeof(cw__crash.record));
  else
    fill_record(&cw__crash.record, signo, si, uc, tid);
  ssize_t n;
  do
    n = send(fd, &cw__crash.record, sizeof(cw__crash.record), MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n != (ssize_t)sizeof(cw__crash.record)) {
    say_watchdog_lost("is gone (send: errno ", n < 0 ? errno : 0);
    return;
  }

  uint64_t deadline =
      now_ns(CLOCK_MONOTONIC) + (uint64_t)cw__crash.ack_timeout_ms * 1000000u;
  for (;;) {
    uint64_t now = now_ns(CLOCK_MONOTONIC);
    if (now >= deadline) {
      say_watchdog_lost("did not answer (ack timeout, ms: ",
                        (long)cw__crash.ack_timeout_ms);
      return;
    }
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int rc = poll(&p, 1, (int)((deadline - now + 999999u) / 1000000u));
    if (rc < 0 && errno == EINTR)
      continue;
    if (rc == 0)
      continue; /* the deadline check above says it */
    if (rc < 0)
      return; /* poll failed */
    cw__crash_ack_t ack;
    n = recv(fd, &ack, sizeof(ack), MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
      continue;
    /* A dump's ack (events_internal.h), meant for a thread that asked
     * for one before this crash: not this crash's answer. */
    if (n >= (ssize_t)sizeof(uint32_t) && ack.magic != CW_CRASH_ACK_MAGIC)
      continue;
    if (n == 0) /* EOF: it died before answering */
      say_watchdog_lost("died before answering (killed, e.g. by a seccomp "
                        "filter it inherited from this program?)",
                        -1);
    else if (n < 0)
      say_watchdog_lost("died before answering (recv: errno ", errno);
    return; /* the ack (whatever its status), EOF or an error */
  }
}

/* Signal context: the disposition to die by — SIG_DFL, since the previous
 * handler (if any) has already been called. */
static void set_default(int signo) {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = SIG_DFL;
  sigemptyset(&sa.sa_mask);
  sigaction(signo, &sa, NULL);
}

/* Signal context: make the process end by signo. Returns only for a fault
 * that will re-fault when the handler returns. */
static void die_by(int signo, const siginfo_t *si, pid_t tid) {
  set_default(signo);
  if (refaults_on_return(signo, si))
    return;
  syscall(SYS_tgkill, (pid_t)syscall(SYS_getpid), tid, signo);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, signo);
  sigprocmask(SIG_UNBLOCK, &set, NULL);
  /* The signal was delivered while unblocked above; if something still
   * blocks or catches it, returning lets the default action happen. */
}

/* Signal context: run the handler that was installed before cw_init(). */
static void chain(int idx, int signo, siginfo_t *si, void *uc) {
  if (idx < 0)
    return;
  const struct sigaction *old = &cw__crash.old[idx];
  if (old->sa_flags & SA_SIGINFO) {
    if (old->sa_sigaction != NULL)
      old->sa_sigaction(signo, si, uc);
  } else if (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN &&
             old->sa_handler != NULL) {
    old->sa_handler(signo);
  }
}

void cw__crash_fill_record(cw__crash_record_t *r, int signo,
                           const siginfo_t *si, const void *uc, pid_t tid) {
  fill_record(r, signo, si, (const ucontext_t *)uc, tid);
}

void cw__on_crash_signal(int signo, siginfo_t *si, void *ucontext) {
  int saved_errno = errno;
  pid_t tid = cw__gettid(); /* no system call: a recovered fault pays none */
  int idx = sig_index(signo);

  /* A forked child of the initialized process with fork coverage off
   * (cw_options_set_cover_forks): not ours to report (the watchdog
   * watches the parent), and it must not wait for an ack. With coverage
   * on, report() starts a watchdog of its own (crash_spawn.c). */
  if (!cw__respawn.cover_forks && (pid_t)syscall(SYS_getpid) != cw__crash.pid) {
    if (idx >= 0)
      sigaction(signo, &cw__crash.old[idx], NULL);
    chain(idx, signo, si, ucontext);
    die_by(signo, si, tid);
    errno = saved_errno;
    return;
  }

  /* The app's view first: its handler, SIG_IGN, or SIG_DFL. */
  const cw__crash_record_t *orig = NULL;
  if (idx >= 0 && cw__chain_dispatch(idx, signo, si, ucontext, tid, &orig) ==
                      CW__CHAIN_RETURN) {
    errno = saved_errno;
    return;
  }

  int expected = 0;
  if (!__atomic_compare_exchange_n(&cw__crash.crash_tid, &expected, tid, 0,
                                   __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
    if (expected != tid)
      park_forever(); /* another thread is reporting; the process will die */
    /* A second signal in the reporting thread (the handler itself failed):
     * die by it without reporting again. */
    die_by(signo, si, tid);
    errno = saved_errno;
    return;
  }

  report(signo, si, (const ucontext_t *)ucontext, tid, orig);

  /* The app's handler has already run (cw__chain_dispatch): die by the
   * signal now being delivered. */
  die_by(signo, si, tid);
  errno = saved_errno;
}
