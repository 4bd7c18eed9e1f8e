/*
 * bench_chain — what staying in the chain costs (docs/signals.md):
 *
 *   bench_chain threads [N]   pthread_create()+pthread_join() of N threads
 *                             (default 2000): in a process that never calls
 *                             cw_init (the interposed pthread_create passes
 *                             straight through), and after cw_init (each
 *                             thread gets and frees its alternate stack).
 *                             Run also as bench_chain_plain, built without
 *                             crashwatch at all.
 *   bench_chain recover [N]   N SIGSEGVs recovered in the program's own
 *                             handler by siglongjmp (default 10000), with
 *                             and without cw_init; `recover-ctx` repairs
 *                             the context instead.
 *
 * Times are CPU time (user + system) of the measured loop only (cw_init's
 * own cost is not in them). One figure per line, "name value unit";
 * bench/chain.sh runs rounds
 * interleaved and prints medians. No assertions.
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <ucontext.h>

#ifdef CW_BENCH_WITH_CRASHWATCH
#include "crashwatch.h"
#endif

static volatile int sink;

/* CPU time (user + system) of the process, in ms: on a shared, noisy
 * machine it varies far less than wall time. */
static double now_ms(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static void *nothing(void *arg) {
  sink = (int)(intptr_t)arg;
  return NULL;
}

static sigjmp_buf jmp;
static void on_segv_jmp(int sig, siginfo_t *si, void *uc) {
  (void)sig, (void)si, (void)uc;
  siglongjmp(jmp, 1);
}

extern const char bench_fault_insn[], bench_fault_resume[];
__attribute__((noinline)) static int faulting_load(void) {
  int v;
  __asm__ volatile("xorl %0, %0\n\t"
                   ".globl bench_fault_insn\n"
                   "bench_fault_insn:\n\t"
                   "movl (%q0), %0\n\t"
                   ".globl bench_fault_resume\n"
                   "bench_fault_resume:\n\t"
                   : "=&r"(v)
                   :
                   : "memory");
  return v;
}

static void on_segv_ctx(int sig, siginfo_t *si, void *ucv) {
  (void)sig, (void)si;
  ucontext_t *uc = ucv;
  uc->uc_mcontext.gregs[REG_RIP] = (greg_t)(uintptr_t)bench_fault_resume;
}

int main(int argc, char **argv) {
  const char *what = argc > 1 ? argv[1] : "threads";
  volatile long n = argc > 2 ? atol(argv[2]) : 0;
  int init = argc > 3 && strcmp(argv[3], "init") == 0;
#ifdef CW_BENCH_WITH_CRASHWATCH
  const char *variant = init ? "cw_init" : "linked";
  if (init) {
    int rc = cw_init(NULL);
    if (rc != 0) {
      fprintf(stderr, "bench_chain: cw_init: %s\n", cw_last_error());
      return 1;
    }
  }
#else
  const char *variant = "plain";
  (void)init;
#endif
  if (strcmp(what, "threads") == 0) {
    if (n <= 0)
      n = 2000;
    double t0 = now_ms();
    for (long i = 0; i < n; i++) {
      pthread_t t;
      if (pthread_create(&t, NULL, nothing, (void *)(intptr_t)i) != 0)
        return 1;
      pthread_join(t, NULL);
    }
    printf("pthread_create+join/%s %.2f us\n", variant,
           (now_ms() - t0) * 1e3 / (double)n);
    return 0;
  }
  if (n <= 0)
    n = 10000;
  volatile int ctx = strcmp(what, "recover-ctx") == 0;
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_flags = SA_SIGINFO;
  sa.sa_sigaction = ctx ? on_segv_ctx : on_segv_jmp;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGSEGV, &sa, NULL);
  double t0 = now_ms();
  for (volatile long i = 0; i < n; i++) {
    if (ctx)
      sink = faulting_load();
    else if (sigsetjmp(jmp, 1) == 0)
      sink = faulting_load();
  }
  printf("%s-%ld/%s %.2f ms\n", what, (long)n, variant, now_ms() - t0);
  return 0;
}
