/*
 * chain.c — staying in the chain when the program installs its own crash
 * handlers. SIGNAL CONTEXT: everything here may run inside a signal
 * handler (the crash handler, or an app's handler calling sigaction()),
 * except cw__chain_prepare() and cw__chain_stop(), which say so.
 *
 * Rules this file obeys (tests/check-signal-safe.sh checks its undefined
 * symbols): no malloc, no stdio, no locks that a signal handler could wait
 * on forever, no lazy binding (-z now), no dlsym; memory used at crash time
 * is static and touched at cw_init(), except the slots (below), which the
 * first fault a program's own handler takes fills.
 *
 * The design (docs/signals.md has the reasoning):
 *   - crashwatch's handler stays installed in the kernel. What the app
 *     installs with sigaction()/signal() (intercepted in interpose.c) is
 *     recorded as its *view* (cw__crash.old[]) and given back to it as the
 *     old action; the kernel action gets the view's mask and SA_NODEFER /
 *     SA_RESTART so the app's handler runs with the mask it asked for.
 *   - On a signal, the app's view decides, as the kernel would have:
 *     a handler runs first (with the fault's record saved in a slot of
 *     this thread); SIG_IGN ignores a sent signal; SIG_DFL, or a handler
 *     that gives up (re-raises, resets to SIG_DFL and returns to a fault
 *     that re-fires, or lets abort() go on), is fatal: the crash is
 *     reported with the saved record of the ORIGINAL fault, not the
 *     re-raise inside the handler.
 *   - A handler that siglongjmp()s away leaves its slot behind; the next
 *     signal on that thread sees the slot is stale (its frame is not below
 *     the slot's) and reuses it.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "cw_internal.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

/* glibc's own name for sigaction, which nothing interposes. */
extern int __sigaction(int, const struct sigaction *, struct sigaction *);

int (*cw__real_sigaction)(int, const struct sigaction *, struct sigaction *);

/* Interception is on (set at cw_init, cleared at cw_shutdown). */
static int intercepting;

/* Writers of the views take this spinlock with every signal blocked; the
 * crash handler only reads, through the per-signal sequence counter. */
static int view_lock;
static unsigned view_seq[CW__NSIGNALS];

/* abort()'s code: a SIGABRT sent from inside it is abort() at work. */
static uintptr_t abort_lo, abort_hi;

/* Bound of how far below a live slot's frame a nested handler frame may
 * be: the alternate stack's size (init.c), with room to spare. */
#define NESTED_SPAN (4u * 1024u * 1024u)

/* One saved fault per thread that is inside an app's handler. */
#define NSLOTS 16
enum { SLOT_FREE = 0, SLOT_LIVE = 1 };
typedef struct {
  int state; /* SLOT_FREE / SLOT_LIVE, changed with atomics */
  int tid;
  int signo;
  uintptr_t frame; /* the dispatching frame, to tell nested from stale */
  /* The fault as the kernel gave it, copied without a system call (a
   * fault the program recovers from must cost next to nothing); turned
   * into rec only when the process gives up (record_of). */
  int has_si, has_uc, has_fp;
  siginfo_t si;
  ucontext_t uc;
  struct _libc_fpstate fp;
  cw__crash_record_t rec;
} slot_t;
static slot_t slots[NSLOTS];
/* A slot has been claimed since the last cw__chain_prepare(). The slots
 * (38 KiB) are cleared only then: a memset of untouched .bss at every
 * cw_init() allocated ten pages, 0.13-0.22 ms of it on the test VM, and
 * a process that never handles a fault of its own never uses them. */
static int slots_used;

/* The calling thread's id, cached in initial-exec TLS (plain memory: safe
 * in a signal handler) so the handler makes no system call on the path of
 * a fault the program recovers from: a gettid() costs microseconds in a
 * VM. A new thread starts with 0; a forked child forgets the parent's
 * (cw__gettid_forget from the pthread_atfork child handler). */
static __thread pid_t cached_tid __attribute__((tls_model("initial-exec")));

pid_t cw__gettid(void) {
  pid_t t = cached_tid;
  if (t == 0) {
    t = (pid_t)syscall(SYS_gettid);
    cached_tid = t;
  }
  return t;
}

void cw__gettid_forget(void) { cached_tid = 0; }

int cw__sys_sigaction(int signo, const struct sigaction *act,
                      struct sigaction *old) {
  int (*f)(int, const struct sigaction *, struct sigaction *) =
      __atomic_load_n(&cw__real_sigaction, __ATOMIC_ACQUIRE);
  if (f == NULL)
    f = __sigaction;
  return f(signo, act, old);
}

int cw__chain_index(int signo) {
  for (int i = 0; i < CW__NSIGNALS; i++)
    if (cw__signals[i] == signo)
      return i;
  return -1;
}

int cw__chain_intercepting(void) {
  return __atomic_load_n(&intercepting, __ATOMIC_ACQUIRE);
}

/* The kernel reads the handler's value whatever SA_SIGINFO says: 0 is
 * SIG_DFL and 1 is SIG_IGN in sa_sigaction too. */
static int is_dfl(const struct sigaction *a) {
  return a->sa_handler == SIG_DFL;
}

static int is_ign(const struct sigaction *a) {
  return a->sa_handler == SIG_IGN;
}

/* A consistent copy of the app's view of cw__signals[idx]. A writer holds
 * every signal blocked, so it cannot be this thread: spin a bounded while
 * for another thread's write to finish. */
static void view_get(int idx, struct sigaction *out) {
  for (int tries = 0; tries < 100000; tries++) {
    unsigned s1 = __atomic_load_n(&view_seq[idx], __ATOMIC_ACQUIRE);
    if (s1 & 1)
      continue;
    memcpy(out, &cw__crash.old[idx], sizeof(*out));
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (__atomic_load_n(&view_seq[idx], __ATOMIC_RELAXED) == s1)
      return;
  }
  memcpy(out, &cw__crash.old[idx], sizeof(*out));
}

/* The kernel action that runs crashwatch's handler for a view. */
static void kernel_action(const struct sigaction *view, struct sigaction *k) {
  memset(k, 0, sizeof(*k));
  k->sa_sigaction = cw__on_crash_signal;
  k->sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&k->sa_mask);
  if (!is_dfl(view) && !is_ign(view)) {
    k->sa_mask = view->sa_mask;
    k->sa_flags |= view->sa_flags & (SA_NODEFER | SA_RESTART);
  }
}

int cw__chain_install(int idx) {
  struct sigaction view, k;
  view_get(idx, &view);
  kernel_action(&view, &k);
  return cw__sys_sigaction(cw__signals[idx], &k, NULL);
}

/* Replaces the view of cw__signals[idx] (act may be NULL: read only) and
 * reinstalls the kernel action to match, with every signal blocked so no
 * handler on this thread can see the write half done. */
static int view_set(int idx, const struct sigaction *act,
                    struct sigaction *old) {
  sigset_t all, prev;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &prev);
  while (__atomic_exchange_n(&view_lock, 1, __ATOMIC_ACQUIRE))
    syscall(SYS_sched_yield);
  if (old != NULL)
    memcpy(old, &cw__crash.old[idx], sizeof(*old));
  int rc = 0;
  if (act != NULL) {
    __atomic_add_fetch(&view_seq[idx], 1, __ATOMIC_ACQ_REL);
    memcpy(&cw__crash.old[idx], act, sizeof(*act));
    __atomic_add_fetch(&view_seq[idx], 1, __ATOMIC_ACQ_REL);
    struct sigaction k;
    kernel_action(act, &k);
    rc = cw__sys_sigaction(cw__signals[idx], &k, NULL);
  }
  __atomic_store_n(&view_lock, 0, __ATOMIC_RELEASE);
  int e = errno;
  pthread_sigmask(SIG_SETMASK, &prev, NULL);
  errno = e;
  return rc;
}

int cw__chain_sigaction(int idx, const struct sigaction *act,
                        struct sigaction *old) {
  struct sigaction copy;
  if (act != NULL)
    memcpy(&copy, act, sizeof(copy)); /* a bad pointer faults here, as in
                                         libc, before anything is locked */
  struct sigaction prev;
  int rc = view_set(idx, act != NULL ? &copy : NULL, &prev);
  if (old != NULL)
    memcpy(old, &prev, sizeof(prev));
  return rc;
}

/* ---- slots ----------------------------------------------------------- */

static slot_t *own_slot(pid_t tid) {
  for (int i = 0; i < NSLOTS; i++)
    if (__atomic_load_n(&slots[i].state, __ATOMIC_ACQUIRE) == SLOT_LIVE &&
        __atomic_load_n(&slots[i].tid, __ATOMIC_RELAXED) == tid)
      return &slots[i];
  return NULL;
}

static slot_t *claim_slot(pid_t tid, int signo) {
  for (int pass = 0; pass < 2; pass++) {
    for (int i = 0; i < NSLOTS; i++) {
      int expected = SLOT_FREE;
      if (__atomic_compare_exchange_n(&slots[i].state, &expected, SLOT_LIVE, 0,
                                      __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
        __atomic_store_n(&slots_used, 1, __ATOMIC_RELAXED);
        __atomic_store_n(&slots[i].tid, tid, __ATOMIC_RELAXED);
        __atomic_store_n(&slots[i].signo, signo, __ATOMIC_RELEASE);
        return &slots[i];
      }
    }
    /* All taken: free those of threads that have exited (a thread that
     * siglongjmp()ed out of a handler and then ended leaves one behind). */
    pid_t pid = (pid_t)syscall(SYS_getpid);
    for (int i = 0; i < NSLOTS; i++) {
      int t = __atomic_load_n(&slots[i].tid, __ATOMIC_RELAXED);
      if (syscall(SYS_tgkill, pid, t, 0) != 0 && errno == ESRCH) {
        int expected = SLOT_LIVE;
        __atomic_compare_exchange_n(&slots[i].state, &expected, SLOT_FREE, 0,
                                    __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
      }
    }
  }
  return NULL; /* no saved record: a give-up is captured as it comes */
}

static void save_fault(slot_t *s, const siginfo_t *si, const void *uc) {
  s->has_si = si != NULL;
  if (si != NULL)
    memcpy(&s->si, si, sizeof(s->si));
  s->has_uc = uc != NULL;
  s->has_fp = 0;
  if (uc != NULL) {
    memcpy(&s->uc, uc, sizeof(s->uc));
    const ucontext_t *u = uc;
    if (u->uc_mcontext.fpregs != NULL) {
      memcpy(&s->fp, u->uc_mcontext.fpregs, sizeof(s->fp));
      s->has_fp = 1;
    }
    s->uc.uc_mcontext.fpregs = s->has_fp ? &s->fp : NULL;
  }
}

/* The record of the saved fault (its clocks read now, at the give-up). */
static const cw__crash_record_t *record_of(slot_t *s) {
  if (s == NULL)
    return NULL;
  cw__crash_fill_record(&s->rec, s->signo, s->has_si ? &s->si : NULL,
                        s->has_uc ? &s->uc : NULL, s->tid);
  return &s->rec;
}

static void release_slot(slot_t *s) {
  if (s != NULL)
    __atomic_store_n(&s->state, SLOT_FREE, __ATOMIC_RELEASE);
}

/* ---- what the kernel would have done --------------------------------- */

/* A fault of the current instruction that re-fires when the handler
 * returns (as in crash.c). */
static int refaults(int signo, const siginfo_t *si) {
  if (si == NULL || si->si_code <= 0)
    return 0;
  return signo == SIGSEGV || signo == SIGBUS || signo == SIGILL ||
         signo == SIGFPE;
}

static uintptr_t uc_pc(const void *uc) {
#if defined(__x86_64__)
  return uc ? (uintptr_t)((const ucontext_t *)uc)->uc_mcontext.gregs[REG_RIP]
            : 0;
#else
#error "crashwatch: no program counter for this architecture yet"
#endif
}

/* True when a SIGABRT this process sent itself comes from abort(): a
 * return address into abort() lies within the few frames above the
 * interrupted stack pointer (raise() and pthread_kill() are all that sit
 * between). abort() goes on, after a handler returns or while SIGABRT is
 * ignored, to reset SIGABRT to SIG_DFL through glibc's internal sigaction
 * (which no interposition sees) and raise it again: so this is the last
 * moment to report it. */
/* Reads stack words above the live frames on purpose: not an overflow to
 * report under ASan. */
__attribute__((no_sanitize_address)) static int from_abort(const void *uc) {
  if (abort_lo == 0)
    return 1; /* unknown: take it for abort(), by far the common case */
#if defined(__x86_64__)
  const uintptr_t *sp =
      (const uintptr_t *)((const ucontext_t *)uc)->uc_mcontext.gregs[REG_RSP];
  if (sp == NULL)
    return 0;
  for (int i = 0; i < 128; i++)
    if (sp[i] > abort_lo && sp[i] <= abort_hi)
      return 1;
#endif
  return 0;
}

static int self_sent(const siginfo_t *si) {
  return si != NULL && si->si_code <= 0 &&
         si->si_pid == (pid_t)syscall(SYS_getpid);
}

static int pending(int signo) {
  sigset_t p;
  return sigpending(&p) == 0 && sigismember(&p, signo) == 1;
}

/* A fatal signal this process sent itself, taken by a thread that is not
 * in an app's handler, while another thread is (a handler's kill(getpid(),
 * sig) may land on any thread that does not block it): hand it to that
 * thread, so the report has its saved fault. Returns 1 if forwarded. */
static int forward(int signo, const siginfo_t *si, pid_t tid) {
  if (!self_sent(si))
    return 0;
  pid_t pid = (pid_t)syscall(SYS_getpid);
  for (int i = 0; i < NSLOTS; i++) {
    if (__atomic_load_n(&slots[i].state, __ATOMIC_ACQUIRE) != SLOT_LIVE ||
        __atomic_load_n(&slots[i].signo, __ATOMIC_ACQUIRE) != signo)
      continue;
    int t = __atomic_load_n(&slots[i].tid, __ATOMIC_RELAXED);
    if (t != tid && syscall(SYS_tgkill, pid, t, signo) == 0)
      return 1;
  }
  return 0;
}

/* After the app's handler returned: does the process die now? */
static int gave_up(int idx, int signo, const siginfo_t *si, const void *uc,
                   uintptr_t pc_before) {
  struct sigaction now;
  view_get(idx, &now);
  int gone = is_dfl(&now) || is_ign(&now);
  if (refaults(signo, si))
    /* The handler reset the disposition (or SA_RESETHAND did) and returns
     * to the faulting instruction unchanged: it re-fires into the default
     * action. A handler that repaired the context, or left itself
     * installed, is the app's business, as without crashwatch. */
    return gone && uc_pc(uc) == pc_before;
  if (signo == SIGABRT && self_sent(si) && from_abort(uc))
    return 1;
  /* The handler reset the disposition and re-raised the signal while it
   * was blocked: it fires into the default action once we return. */
  return gone && pending(signo);
}

/* True when this SIGSEGV is the app's handler running off the bottom of
 * the alternate stack it runs on (a handler that wants more than its
 * size: redis's memory test keeps 1 MiB there). The kernel then starts the
 * new signal at the top of the alternate stack again, over the handler's
 * own frames, so the slot looks stale; without this the handler would
 * run again, overflow again, and loop forever with no report. Only on
 * the rare stale-slot path is the sigaltstack() system call made. */
static int ran_off_altstack(int signo, const siginfo_t *si, uintptr_t here) {
  if (signo != SIGSEGV || si == NULL || si->si_code <= 0)
    return 0;
  uintptr_t addr = (uintptr_t)si->si_addr;
  if (addr >= here || here - addr > NESTED_SPAN)
    return 0;
  stack_t ss;
  if (syscall(SYS_sigaltstack, NULL, &ss) != 0 || (ss.ss_flags & SS_DISABLE))
    return 0;
  uintptr_t lo = (uintptr_t)ss.ss_sp;
  if (addr >= lo || lo - addr > NESTED_SPAN)
    return 0;
#if defined(__SANITIZE_ADDRESS__)
  /* The handler's frames that ran off the stack never returned, so their
   * poisoned redzones are still in the shadow of the stack this signal
   * now runs on: clear it below this frame, or AddressSanitizer takes
   * our own locals there for overflows. */
  __asan_unpoison_memory_region((void *)lo, here - lo);
#endif
  return 1;
}

int cw__chain_dispatch(int idx, int signo, siginfo_t *si, void *uc, pid_t tid,
                       const cw__crash_record_t **orig) {
  struct sigaction app;
  view_get(idx, &app);
  uintptr_t here = (uintptr_t)__builtin_frame_address(0);
  slot_t *own = own_slot(tid);
  int nested =
      own != NULL && here < own->frame && own->frame - here < NESTED_SPAN;
  if (own != NULL && !nested && ran_off_altstack(signo, si, here)) {
    /* Report the fault the handler was called for; returning re-fires
     * this one into SIG_DFL (die_by), so the process dies by SIGSEGV. */
    static const char *const msg[] = {
        "crashwatch: the program's crash handler overflowed the alternate "
        "signal stack; reporting the fault it was handling",
        NULL};
    cw__crash_say(msg, 0);
    *orig = record_of(own);
    return CW__CHAIN_FATAL;
  }
  if (own != NULL && !nested) {
    release_slot(own); /* stale: the handler siglongjmp()ed away */
    own = NULL;
  }
  *orig = NULL;
  int sent = si == NULL || si->si_code <= 0;
  /* This thread is already reporting (a re-raise forwarded to it, or a
   * second kill(), arrived while it waits for the watchdog): the process
   * dies when the report is done; a sent signal must not cut it short. */
  if (sent && __atomic_load_n(&cw__crash.crash_tid, __ATOMIC_ACQUIRE) == tid)
    return CW__CHAIN_RETURN;

  if (is_ign(&app)) {
    /* The kernel ignores a sent signal but kills on an ignored fault;
     * abort() overrides SIG_IGN. */
    if (sent && !(signo == SIGABRT && self_sent(si) && from_abort(uc)))
      return CW__CHAIN_RETURN;
    if (!nested && forward(signo, si, tid))
      return CW__CHAIN_RETURN;
    *orig = nested ? record_of(own) : NULL;
    return CW__CHAIN_FATAL;
  }
  if (is_dfl(&app)) {
    if (!nested && forward(signo, si, tid))
      return CW__CHAIN_RETURN;
    *orig = nested ? record_of(own) : NULL;
    return CW__CHAIN_FATAL;
  }

  /* The app's handler runs first. Its frames sit below ours (on the
   * alternate stack); the original fault is saved for the report. */
  slot_t *s = NULL;
  if (!nested && (s = claim_slot(tid, signo)) != NULL) {
    save_fault(s, si, uc);
    s->frame = here;
  }
  if (app.sa_flags & SA_RESETHAND) {
    struct sigaction dfl;
    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    view_set(idx, &dfl, NULL);
  }
  uintptr_t pc_before = uc_pc(uc);
  if (app.sa_flags & SA_SIGINFO)
    app.sa_sigaction(signo, si, uc);
  else
    app.sa_handler(signo);

  if (!gave_up(idx, signo, si, uc, pc_before)) {
    release_slot(s);
    return CW__CHAIN_RETURN;
  }
  *orig = record_of(nested ? own : s);
  return CW__CHAIN_FATAL;
}

/* Normal context. */
void cw__chain_prepare(int intercept, uintptr_t abort_start,
                       uintptr_t abort_end) {
  abort_lo = abort_start;
  abort_hi = abort_end;
  if (__atomic_load_n(&slots_used, __ATOMIC_ACQUIRE)) {
    memset(slots, 0, sizeof(slots));
    __atomic_store_n(&slots_used, 0, __ATOMIC_RELEASE);
  }
  __atomic_store_n(&intercepting, intercept != 0, __ATOMIC_RELEASE);
}

/* Normal context. */
void cw__chain_stop(void) {
  __atomic_store_n(&intercepting, 0, __ATOMIC_RELEASE);
}
