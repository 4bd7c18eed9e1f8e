/*
 * bench_fork — what a fork() costs with crashwatch's fork coverage on and
 * off, and without crashwatch (issue 8.3; no assertions).
 *
 *   bench_fork [--rounds R] [--forks N]
 *
 * Each round measures N x fork() (its return in the parent) in three
 * configurations, interleaved so machine noise hits all three alike:
 * "none" (crashwatch not initialized in this process), "on" (cw_init with
 * cw_options_set_cover_forks(1), the default) and "off" (cover_forks 0).
 * Prints the median and min per fork in microseconds over the rounds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crashwatch.h"

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* The time fork() takes to return in the parent (what the app waits for:
 * page tables copied, atfork handlers run), averaged over n forks; the
 * child's _exit and the parent's waitpid are outside the timing (on a
 * loaded machine they measure the scheduler). */
static double fork_us(int n) {
  double sum = 0;
  for (int i = 0; i < n; i++) {
    double t0 = now_us();
    pid_t c = fork();
    if (c == 0)
      _exit(0);
    sum += now_us() - t0;
    if (c < 0) {
      perror("fork");
      exit(1);
    }
    int st;
    waitpid(c, &st, 0);
  }
  return sum / n;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  int rounds = 15, forks = 1000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--rounds") == 0)
      rounds = atoi(argv[i + 1]);
    else if (strcmp(argv[i], "--forks") == 0)
      forks = atoi(argv[i + 1]);
  }
  if (rounds < 1 || forks < 1 || rounds > 1000)
    return 2;
  static const char *const names[3] = {"none", "on", "off"};
  double t[3][1000];
  for (int r = 0; r < rounds; r++) {
    for (int m = 0; m < 3; m++) {
      if (m > 0) {
        cw_options_t *o = cw_options_new();
        cw_options_set_cover_forks(o, m == 1);
        if (cw_init(o) != 0) {
          fprintf(stderr, "cw_init: %s\n", cw_last_error());
          return 1;
        }
      }
      t[m][r] = fork_us(forks);
      if (m > 0)
        cw_shutdown();
    }
  }
  printf("fork() in the parent, %d rounds x %d forks, per fork:\n", rounds,
         forks);
  for (int m = 0; m < 3; m++) {
    qsort(t[m], (size_t)rounds, sizeof(double), cmp);
    printf("  cover_forks %-4s  median %7.1f us  min %7.1f us\n", names[m],
           t[m][rounds / 2], t[m][0]);
  }
  return 0;
}
