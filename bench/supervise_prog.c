/* supervise_prog.c — the program bench/supervise.py runs under
 * `crashwatch run` and directly (it knows nothing of crashwatch).
 *   exit          returns 0 at once (start-up cost)
 *   signals N     raises SIGUSR1 N times with a handler installed, then
 *                 prints the nanoseconds that took (ptrace mode stops the
 *                 program at each delivery)
 *   crash FILE    appends CLOCK_MONOTONIC nanoseconds to FILE, then writes
 *                 through a null pointer (crash -> report -> restart cycle)
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile sig_atomic_t got;

static void on_usr1(int s) {
  (void)s;
  got++;
}

__attribute__((noinline)) static void crash_here(volatile int *p) {
  *p = 1;
  __asm__ volatile("" ::: "memory");
}

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "exit";
  if (strcmp(mode, "signals") == 0 && argc > 2) {
    long n = atol(argv[2]);
    signal(SIGUSR1, on_usr1);
    long long t0 = now_ns();
    for (long i = 0; i < n; i++)
      raise(SIGUSR1);
    long long t1 = now_ns();
    printf("%lld\n", t1 - t0);
    return got == n ? 0 : 1;
  }
  if (strcmp(mode, "crash") == 0 && argc > 2) {
    FILE *f = fopen(argv[2], "a");
    if (f != NULL) {
      fprintf(f, "%lld\n", now_ns());
      fclose(f);
    }
    crash_here((volatile int *)(getenv("NEVER_SET_X") ? (void *)8 : NULL));
  }
  return 0;
}
