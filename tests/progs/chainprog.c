/*
 * chainprog.c — a program that installs its own crash handlers AFTER
 * cw_init(), the way real daemons do (redis: SIGSEGV/SIGBUS/SIGFPE/SIGILL/
 * SIGABRT with SA_NODEFER|SA_SIGINFO; its handler logs a crash report,
 * resets the signal to SIG_DFL and kill()s itself; before abort() it
 * resets SIGABRT to SIG_DFL), or that recovers from faults in its own
 * handler (JVM-style). See tests/integration/chain_tests.py.
 *
 *   chainprog MODE [ARG]
 *     reraise          redis-like SIGSEGV handler; null dereference
 *     reraise-thread   the same, the fault on a worker thread (the kill()
 *                      may be delivered to the main thread)
 *     resethand        a SA_RESETHAND handler that logs and returns
 *     abort-dfl        redis-like handlers, SIGABRT reset to SIG_DFL,
 *                      abort()
 *     abort-ign        SIGABRT set to SIG_IGN, abort()
 *     abort-returns    a SIGABRT handler that logs and returns; abort()
 *     raise-abrt       a SIGABRT handler that returns, raise(SIGABRT)
 *                      three times, and SIGABRT ignored, raise once more:
 *                      not abort(), so no report; exit 0
 *     segv-dfl         a SIGSEGV handler, then signal(SIGSEGV, SIG_DFL);
 *                      null dereference
 *     recover N        N faults, each recovered by siglongjmp(); exit 0
 *     recover-ctx N    N faults, each recovered by moving the context's
 *                      instruction pointer past the faulting load; exit 0
 *     raw-syscall      a SA_RESETHAND handler installed with a raw
 *                      rt_sigaction system call, no cw_reinstall():
 *                      crashwatch is gone
 *     raw-reinstall    the same, then cw_reinstall(): reported
 *     stack-pthread    unbounded recursion on a pthread_create() thread
 *                      that never calls cw_thread_init()
 *     secure SPOOL     cw_options_set_spool_dir(SPOOL); null dereference
 *                      (run setuid root by the tests)
 *     none N           recover N without crashwatch (bench baseline)
 *
 * The handlers print "chainprog: crash log: signal S pc 0xPC addr 0xA",
 * with the pc of the context they were given: the tests compare it with
 * frame 0 of the report.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "crashwatch.h"

#if defined(__GNUC__) && !defined(__clang__)
#define NOINLINE __attribute__((noinline, noipa))
#else
#define NOINLINE __attribute__((noinline))
#endif

static volatile int sink;
static volatile int keep_going = 1;
static const char *mode;

/* async-signal-safe formatting for the handlers' log line */
static void put(char **p, const char *s) {
  while (*s)
    *(*p)++ = *s++;
}

static void put_hex(char **p, uintptr_t v) {
  char tmp[2 * sizeof(v)];
  int n = 0;
  do {
    tmp[n++] = "0123456789abcdef"[v & 15];
    v >>= 4;
  } while (v != 0);
  put(p, "0x");
  while (n > 0)
    *(*p)++ = tmp[--n];
}

static void put_dec(char **p, int v) {
  char tmp[12];
  int n = 0;
  do {
    tmp[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (n > 0)
    *(*p)++ = tmp[--n];
}

static void crash_log(int sig, const siginfo_t *si, const void *ucv) {
  char buf[160], *p = buf;
  const ucontext_t *uc = ucv;
  put(&p, "chainprog: crash log: signal ");
  put_dec(&p, sig);
  put(&p, " pc ");
  put_hex(&p, uc ? (uintptr_t)uc->uc_mcontext.gregs[REG_RIP] : 0);
  put(&p, " addr ");
  put_hex(&p, si ? (uintptr_t)si->si_addr : 0);
  put(&p, "\n");
  ssize_t w = write(1, buf, (size_t)(p - buf));
  (void)w;
}

/* redis's sigsegvHandler, in short: log, then "make sure we exit with the
 * right signal at the end": SIG_DFL and kill(getpid(), sig). */
static void redis_like_handler(int sig, siginfo_t *si, void *uc) {
  crash_log(sig, si, uc);
  struct sigaction act;
  sigemptyset(&act.sa_mask);
  act.sa_flags = 0;
  act.sa_handler = SIG_DFL;
  sigaction(sig, &act, NULL);
  kill(getpid(), sig);
}

/* Burns about n * 64 KiB of stack, touching every page. */
static void __attribute__((noinline)) burn_stack(int n) {
  volatile char big[64 * 1024];
  for (size_t i = 0; i < sizeof(big); i += 512)
    big[i] = (char)n;
  if (n > 1)
    burn_stack(n - 1);
  __asm__ volatile("" : : "r"(big) : "memory"); /* no tail call */
}

/* A handler that needs more stack than the alternate stack it runs on
 * (4 MiB: redis's memory test keeps 1 MiB there), then does as redis. */
static void greedy_handler(int sig, siginfo_t *si, void *uc) {
  crash_log(sig, si, uc);
  burn_stack(64);
  redis_like_handler(sig, si, uc);
}

static void setup_redis_handlers(void) {
  struct sigaction act;
  memset(&act, 0, sizeof(act));
  sigemptyset(&act.sa_mask);
  act.sa_flags = SA_NODEFER | SA_SIGINFO;
  act.sa_sigaction = redis_like_handler;
  sigaction(SIGSEGV, &act, NULL);
  sigaction(SIGBUS, &act, NULL);
  sigaction(SIGFPE, &act, NULL);
  sigaction(SIGILL, &act, NULL);
  sigaction(SIGABRT, &act, NULL);
}

static void log_and_return(int sig, siginfo_t *si, void *uc) {
  crash_log(sig, si, uc);
}

NOINLINE int crash_here(int how) {
  if (strncmp(mode, "abort", 5) == 0) {
    abort();
  } else {
    volatile int *p = (volatile int *)(long)(how - how);
    *p = how; /* null dereference */
  }
  return how + 1;
}

NOINLINE int level2(int x) {
  int r = crash_here(x + 1);
  sink = r;
  return r + 1;
}

NOINLINE int level1(int x) {
  int r = level2(x + 1);
  sink = r;
  return r + 1;
}

NOINLINE int overflow_recurse(int depth) {
  volatile char pad[512];
  pad[0] = (char)depth;
  pad[511] = (char)depth;
  int r = keep_going ? overflow_recurse(depth + 1) : 0;
  return r + pad[0] + pad[511];
}

static void *overflow_thread(void *arg) {
  (void)arg; /* no cw_thread_init(): pthread_create gave the stack */
  overflow_recurse(0);
  return NULL;
}

static void *crashing_worker(void *arg) {
  sink = level1((int)(long)arg);
  return NULL;
}

/* ---- JVM-style recovery ------------------------------------------- */

static sigjmp_buf recover_jmp;
static volatile long recovered;

static void recover_longjmp(int sig, siginfo_t *si, void *uc) {
  (void)sig, (void)si, (void)uc;
  recovered++;
  siglongjmp(recover_jmp, 1);
}

/* A load from address 0 at a known instruction, and where to resume. */
extern const char cw_test_fault_insn[], cw_test_fault_resume[];
NOINLINE int faulting_load(void) {
  int v;
  __asm__ volatile("xorl %0, %0\n\t"
                   ".globl cw_test_fault_insn\n"
                   "cw_test_fault_insn:\n\t"
                   "movl (%q0), %0\n\t"
                   ".globl cw_test_fault_resume\n"
                   "cw_test_fault_resume:\n\t"
                   : "=&r"(v)
                   :
                   : "memory");
  return v;
}

static void recover_context(int sig, siginfo_t *si, void *ucv) {
  (void)sig, (void)si;
  ucontext_t *uc = ucv;
  if ((uintptr_t)uc->uc_mcontext.gregs[REG_RIP] !=
      (uintptr_t)cw_test_fault_insn)
    abort();
  uc->uc_mcontext.gregs[REG_RIP] = (greg_t)(uintptr_t)cw_test_fault_resume;
  recovered++;
}

static int run_recover(long n, int by_context) {
  struct sigaction act;
  memset(&act, 0, sizeof(act));
  sigemptyset(&act.sa_mask);
  act.sa_flags = SA_SIGINFO;
  act.sa_sigaction = by_context ? recover_context : recover_longjmp;
  sigaction(SIGSEGV, &act, NULL);
  for (volatile long i = 0; i < n; i++) {
    if (by_context) {
      sink = faulting_load();
    } else if (sigsetjmp(recover_jmp, 1) == 0) {
      sink = faulting_load();
      return 3; /* not reached: the load faults */
    }
  }
  printf("recovered %ld\n", (long)recovered);
  return recovered == n ? 0 : 4;
}

/* ---- a raw rt_sigaction ------------------------------------------- */

struct kernel_sigaction {
  void (*handler)(int, siginfo_t *, void *);
  unsigned long flags;
  void (*restorer)(void);
  uint64_t mask;
};
extern void cw_test_restore_rt(void);
__asm__(".text\n"
        ".globl cw_test_restore_rt\n"
        "cw_test_restore_rt:\n\t"
        "movq $15, %rax\n\t" /* rt_sigreturn */
        "syscall\n");
#define CW_SA_RESTORER 0x04000000

static void raw_install(void) {
  /* Logs and lets the default action follow (SA_RESETHAND), with no
   * sigaction() call crashwatch could see. */
  struct kernel_sigaction k = {.handler = log_and_return,
                               .flags =
                                   SA_SIGINFO | SA_RESETHAND | CW_SA_RESTORER,
                               .restorer = cw_test_restore_rt,
                               .mask = 0};
  if (syscall(SYS_rt_sigaction, SIGSEGV, &k, NULL, 8) != 0) {
    perror("rt_sigaction");
    exit(3);
  }
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: chainprog MODE [ARG]\n");
    return 2;
  }
  mode = argv[1];
  setvbuf(stdout, NULL, _IONBF, 0);
  long n = argc > 2 ? atol(argv[2]) : 10000;

  if (strcmp(mode, "none") == 0)
    return run_recover(n, 0);

  cw_options_t *o = cw_options_new();
  if (strcmp(mode, "secure") == 0 && argc > 2)
    cw_options_set_spool_dir(o, argv[2]);
  int rc = cw_init(o);
  if (rc != 0) {
    fprintf(stderr, "chainprog: cw_init: %s (%s)\n", cw_last_error(),
            cw_err_name(rc));
    return 3;
  }
  printf("pid %d tid %ld\n", (int)getpid(), (long)syscall(SYS_gettid));

  if (strcmp(mode, "recover") == 0)
    return run_recover(n, 0);
  if (strcmp(mode, "recover-ctx") == 0)
    return run_recover(n, 1);
  if (strcmp(mode, "stack-pthread") == 0) {
    pthread_t t;
    pthread_create(&t, NULL, overflow_thread, NULL);
    pthread_join(t, NULL);
    return 1;
  }
  if (strcmp(mode, "handler-overflow") == 0) {
    struct sigaction act;
    memset(&act, 0, sizeof(act));
    sigemptyset(&act.sa_mask);
    act.sa_flags = SA_NODEFER | SA_SIGINFO;
    act.sa_sigaction = greedy_handler;
    sigaction(SIGSEGV, &act, NULL);
    sink = level1(argc);
    return 1;
  }
  if (strcmp(mode, "reraise") == 0 || strcmp(mode, "abort-dfl") == 0 ||
      strcmp(mode, "reraise-thread") == 0)
    setup_redis_handlers();
  if (strcmp(mode, "abort-dfl") == 0) {
    /* redis's _serverAssert: "remove the signal handler so on abort() we
     * will output the crash report" */
    struct sigaction act;
    memset(&act, 0, sizeof(act));
    sigemptyset(&act.sa_mask);
    act.sa_flags = SA_NODEFER | SA_RESETHAND;
    act.sa_handler = SIG_DFL;
    sigaction(SIGABRT, &act, NULL);
  }
  if (strcmp(mode, "abort-ign") == 0)
    signal(SIGABRT, SIG_IGN);
  if (strcmp(mode, "abort-returns") == 0 || strcmp(mode, "resethand") == 0) {
    struct sigaction act;
    memset(&act, 0, sizeof(act));
    sigemptyset(&act.sa_mask);
    act.sa_flags = SA_SIGINFO;
    if (strcmp(mode, "resethand") == 0)
      act.sa_flags |= SA_RESETHAND;
    act.sa_sigaction = log_and_return;
    sigaction(strcmp(mode, "resethand") == 0 ? SIGSEGV : SIGABRT, &act, NULL);
  }
  if (strcmp(mode, "raise-abrt") == 0) {
    struct sigaction act;
    memset(&act, 0, sizeof(act));
    sigemptyset(&act.sa_mask);
    act.sa_flags = SA_SIGINFO;
    act.sa_sigaction = log_and_return;
    sigaction(SIGABRT, &act, NULL);
    for (int i = 0; i < 3; i++)
      raise(SIGABRT);
    signal(SIGABRT, SIG_IGN);
    raise(SIGABRT);
    printf("still alive after raise(SIGABRT)\n");
    return 0;
  }
  if (strcmp(mode, "segv-dfl") == 0) {
    setup_redis_handlers();
    struct sigaction old;
    sigaction(SIGSEGV, NULL, &old);
    if (!(old.sa_flags & SA_SIGINFO) ||
        old.sa_sigaction != redis_like_handler) {
      fprintf(stderr, "chainprog: sigaction does not report our handler\n");
      return 5;
    }
    signal(SIGSEGV, SIG_DFL);
  }
  if (strcmp(mode, "raw-syscall") == 0 || strcmp(mode, "raw-reinstall") == 0) {
    raw_install();
    if (strcmp(mode, "raw-reinstall") == 0 && (rc = cw_reinstall()) != 0) {
      fprintf(stderr, "chainprog: cw_reinstall: %s\n", cw_last_error());
      return 3;
    }
  }
  if (strcmp(mode, "reraise-thread") == 0) {
    pthread_t t;
    pthread_create(&t, NULL, crashing_worker, (void *)(long)argc);
    for (;;)
      pause();
  }
  sink = level1(argc);
  return 1;
}
