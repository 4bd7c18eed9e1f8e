/*
 * bench_session — what release health adds to cw_init() and cw_shutdown()
 * (issue 11; no assertions).
 *
 *   bench_session [--rounds R] [--inits N]
 *
 * Each round runs N x (cw_init, cw_shutdown) in three configurations,
 * interleaved so machine noise hits all alike: "none" (no release: no
 * session), "session" (a release: cw_init writes the session's marker and
 * reads <spool>/.sessions, cw_shutdown writes the exited update, fsync'd)
 * and "optout" (a release, automatic tracking off). Prints the median and
 * min per call in microseconds (wall clock, CLOCK_MONOTONIC) over the
 * rounds. The spool is a fresh directory under $TMPDIR (or /tmp).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "crashwatch.h"

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

enum { NONE, SESSION, OPTOUT, NCONF };
static const char *const names[NCONF] = {"none", "session", "optout"};

static void one(int conf, const char *spool, int n, double *init_us,
                double *shut_us) {
  double ti = 0, ts = 0;
  for (int i = 0; i < n; i++) {
    cw_options_t *o = cw_options_new();
    if (o == NULL || cw_options_set_spool_dir(o, spool) != 0 ||
        cw_options_set_print_summary(o, 0) != 0) {
      fprintf(stderr, "options failed\n");
      exit(1);
    }
    if (conf != NONE)
      cw_options_set_release(o, "bench@1.0");
    if (conf == OPTOUT)
      cw_options_set_auto_session_tracking(o, 0);
    double t0 = now_us();
    int rc = cw_init(o);
    double t1 = now_us();
    if (rc != 0) {
      fprintf(stderr, "cw_init: %s\n", cw_last_error());
      exit(1);
    }
    cw_shutdown();
    double t2 = now_us();
    ti += t1 - t0;
    ts += t2 - t1;
  }
  *init_us = ti / n;
  *shut_us = ts / n;
}

int main(int argc, char **argv) {
  int rounds = 15, n = 20;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--rounds") == 0)
      rounds = atoi(argv[i + 1]);
    else if (strcmp(argv[i], "--inits") == 0)
      n = atoi(argv[i + 1]);
  }
  if (rounds < 1 || n < 1) {
    fprintf(stderr, "usage: bench_session [--rounds R] [--inits N]\n");
    return 2;
  }
  const char *tmp = getenv("TMPDIR");
  char spool[PATH_MAX];
  snprintf(spool, sizeof(spool), "%s/bench-session-XXXXXX",
           tmp && *tmp ? tmp : "/tmp");
  if (mkdtemp(spool) == NULL) {
    perror("mkdtemp");
    return 1;
  }
  double *ini[NCONF], *shu[NCONF];
  for (int c = 0; c < NCONF; c++) {
    ini[c] = calloc((size_t)rounds, sizeof(double));
    shu[c] = calloc((size_t)rounds, sizeof(double));
  }
  for (int r = 0; r < rounds; r++)
    for (int c = 0; c < NCONF; c++)
      one(c, spool, n, &ini[c][r], &shu[c][r]);
  printf("bench_session: %d rounds x %d cw_init/cw_shutdown, spool %s\n",
         rounds, n, spool);
  printf("%-8s %14s %14s %16s %16s\n", "config", "init median", "init min",
         "shutdown median", "shutdown min");
  for (int c = 0; c < NCONF; c++) {
    qsort(ini[c], (size_t)rounds, sizeof(double), cmp);
    qsort(shu[c], (size_t)rounds, sizeof(double), cmp);
    printf("%-8s %11.1f us %11.1f us %13.1f us %13.1f us\n", names[c],
           ini[c][rounds / 2], ini[c][0], shu[c][rounds / 2], shu[c][0]);
  }
  char cmd[PATH_MAX + 16];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", spool);
  return system(cmd) == 0 ? 0 : 1;
}
