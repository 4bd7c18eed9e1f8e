/*
 * intercept.c — sigaction(), signal(), bsd_signal(), sysv_signal(),
 * __sysv_signal() and sigset() as libcrashwatch.so exports them, ahead of
 * libc's (interposition: the dynamic linker binds a program's and its
 * libraries' calls to the first definition in load order). SIGNAL
 * CONTEXT: sigaction() is async-signal-safe, and apps call it from their
 * handlers (redis resets SIGSEGV to SIG_DFL inside its crash handler), so
 * everything here obeys crash.c's rules (checked by
 * tests/check-signal-safe.sh): no malloc, no stdio, no dlsym (the real
 * sigaction was resolved before main, in threads.c).
 *
 * For the signals crashwatch reports, while it is initialized with
 * interception on, a call only changes the app's view (chain.c) and the
 * kernel keeps crashwatch's handler; every other call goes to libc as is.
 * The signal() family is built on the intercepted sigaction(), with
 * glibc's flags for each, so it needs no real function of its own.
 *
 * Only in the shared library: a program that links libcrashwatch.a, or
 * loads libcrashwatch.so with dlopen(), is not interposed (docs/signals.md).
 */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "crashwatch.h"
#include "cw_internal.h"

#define CW_INTERPOSE __attribute__((visibility("default")))

CW_INTERPOSE int sigaction(int signo, const struct sigaction *act,
                           struct sigaction *old) {
  int idx = cw__chain_index(signo);
  if (idx < 0 || !cw__chain_intercepting())
    return cw__sys_sigaction(signo, act, old);
  return cw__chain_sigaction(idx, act, old);
}

/* The handler part of signal()-style calls, through sigaction() above. */
static sighandler_t install(int signo, sighandler_t h, int flags,
                            int block_self) {
  if (h == SIG_ERR || signo <= 0 || signo >= NSIG) {
    errno = EINVAL;
    return SIG_ERR;
  }
  struct sigaction act, old;
  memset(&act, 0, sizeof(act));
  act.sa_handler = h;
  act.sa_flags = flags;
  sigemptyset(&act.sa_mask);
  if (block_self)
    sigaddset(&act.sa_mask, signo);
  if (sigaction(signo, &act, &old) != 0)
    return SIG_ERR;
  return old.sa_handler;
}

/* BSD semantics, as glibc's signal(): restart, the signal blocked in its
 * handler, the handler stays. */
CW_INTERPOSE sighandler_t signal(int signo, sighandler_t h) {
  return install(signo, h, SA_RESTART, 1);
}

CW_INTERPOSE sighandler_t bsd_signal(int signo, sighandler_t h) {
  return install(signo, h, SA_RESTART, 1);
}

/* System V semantics, as glibc's sysv_signal() (what signal() is with
 * -std=c99 and no _DEFAULT_SOURCE): one shot, not blocked, no restart. */
CW_INTERPOSE sighandler_t sysv_signal(int signo, sighandler_t h) {
  return install(signo, h, SA_RESETHAND | SA_NODEFER, 0);
}

CW_INTERPOSE sighandler_t __sysv_signal(int signo, sighandler_t h) {
  return install(signo, h, SA_RESETHAND | SA_NODEFER, 0);
}

/* System V sigset(): SIG_HOLD blocks; anything else installs and
 * unblocks. Returns SIG_HOLD when the signal was blocked before. */
CW_INTERPOSE sighandler_t sigset(int signo, sighandler_t disp) {
  if (disp == SIG_ERR || signo <= 0 || signo >= NSIG) {
    errno = EINVAL;
    return SIG_ERR;
  }
  sigset_t set, was;
  sigemptyset(&set);
  sigaddset(&set, signo);
  struct sigaction old;
  if (disp == SIG_HOLD) {
    if (sigaction(signo, NULL, &old) != 0 ||
        sigprocmask(SIG_BLOCK, &set, &was) != 0)
      return SIG_ERR;
  } else {
    struct sigaction act;
    memset(&act, 0, sizeof(act));
    act.sa_handler = disp;
    sigemptyset(&act.sa_mask);
    if (sigaction(signo, &act, &old) != 0 ||
        sigprocmask(SIG_UNBLOCK, &set, &was) != 0)
      return SIG_ERR;
  }
  return sigismember(&was, signo) ? SIG_HOLD : old.sa_handler;
}
