/*
 * bench_scope — what the scope API costs the calling thread (issue 10; no
 * assertions): ns per call of cw_add_breadcrumb, cw_set_tag on an existing
 * key and on a new key, and cw_set_extra, from 1 and from 2 threads at
 * once.
 *
 *   bench_scope [--rounds R] [--calls N] [--wall]
 *
 * Each round times N calls per thread of each operation (threads start
 * together on a barrier; a thread's time is its own loop's CPU time
 * (CLOCK_THREAD_CPUTIME_ID, so time spent descheduled on a busy machine is
 * not counted), and the figure is the mean of the threads'); the medians
 * and minimums over
 * the rounds are printed. "new key" sets 48 keys that are not in the scope,
 * then removes them outside the timing, over and over. The spool is a
 * fresh temporary directory; no crash happens.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "crashwatch.h"

enum { OP_CRUMB, OP_CRUMB_DATA, OP_TAG_EXISTING, OP_TAG_NEW, OP_EXTRA, NOPS };
static const char *const op_names[NOPS] = {
    "cw_add_breadcrumb", "cw_add_breadcrumb (with data)",
    "cw_set_tag, existing key", "cw_set_tag, new key",
    "cw_set_extra, existing key"};

static long calls = 1000000;
static pthread_barrier_t barrier;

/* The calling thread's CPU time: on a shared machine, time spent
 * descheduled is not the call's. --wall: the monotonic clock instead, as
 * ../shared/peers/run.sh times sentry-native's calls. */
static clockid_t bench_clock = CLOCK_THREAD_CPUTIME_ID;

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(bench_clock, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

typedef struct {
  int op, id;
  double ns; /* per call */
} job_t;

static void *run(void *arg) {
  job_t *j = arg;
  char keys[48][16];
  for (int k = 0; k < 48; k++)
    snprintf(keys[k], sizeof(keys[k]), "n%d-%d", j->id, k);
  char own[16];
  snprintf(own, sizeof(own), "bench-%d", j->id);
  cw_set_tag(own, "value");
  cw_set_extra(own, "42");
  pthread_barrier_wait(&barrier);
  double t = 0;
  if (j->op == OP_TAG_NEW) {
    for (long done = 0; done < calls;) {
      double t0 = now_ns();
      for (int k = 0; k < 48; k++)
        cw_set_tag(keys[k], "value");
      t += now_ns() - t0;
      for (int k = 0; k < 48; k++)
        cw_remove_tag(keys[k]);
      done += 48;
    }
    j->ns = t / (double)(calls / 48 * 48);
    return NULL;
  }
  double t0 = now_ns();
  switch (j->op) {
  case OP_CRUMB:
    for (long i = 0; i < calls; i++)
      cw_add_breadcrumb("default", "bench", "a breadcrumb message",
                        CW_LEVEL_INFO, NULL);
    break;
  case OP_CRUMB_DATA:
    for (long i = 0; i < calls; i++)
      cw_add_breadcrumb("http", "bench", "GET /orders", CW_LEVEL_INFO,
                        "{\"status\":200,\"url\":\"/orders\"}");
    break;
  case OP_TAG_EXISTING:
    for (long i = 0; i < calls; i++)
      cw_set_tag(own, "value");
    break;
  case OP_EXTRA:
    for (long i = 0; i < calls; i++)
      cw_set_extra(own, "42");
    break;
  }
  j->ns = (now_ns() - t0) / (double)calls;
  return NULL;
}

/* ns per call, the mean over the threads. */
static double measure(int op, int threads) {
  pthread_t t[2];
  job_t j[2];
  pthread_barrier_init(&barrier, NULL, (unsigned)threads);
  for (int i = 0; i < threads; i++) {
    j[i] = (job_t){.op = op, .id = i};
    if (i > 0)
      pthread_create(&t[i], NULL, run, &j[i]);
  }
  run(&j[0]);
  double sum = j[0].ns;
  for (int i = 1; i < threads; i++) {
    pthread_join(t[i], NULL);
    sum += j[i].ns;
  }
  pthread_barrier_destroy(&barrier);
  return sum / threads;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  int rounds = 7;
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], "--wall") == 0)
      bench_clock = CLOCK_MONOTONIC;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--wall") == 0) {
      i--;
      continue;
    }
    if (strcmp(argv[i], "--rounds") == 0)
      rounds = atoi(argv[i + 1]);
    else if (strcmp(argv[i], "--calls") == 0)
      calls = atol(argv[i + 1]);
  }
  if (rounds < 1 || rounds > 1000 || calls < 48) {
    fprintf(stderr,
            "usage: bench_scope [--rounds R] [--calls N>=48] [--wall]\n");
    return 2;
  }
  char dir[] = "/tmp/bench-scope-XXXXXX";
  if (mkdtemp(dir) == NULL) {
    perror("mkdtemp");
    return 1;
  }
  char spool[sizeof(dir) + 8];
  snprintf(spool, sizeof(spool), "%s/spool", dir);
  cw_options_t *o = cw_options_new();
  cw_options_set_spool_dir(o, spool);
  cw_options_set_print_summary(o, 0);
  int rc = cw_init(o);
  if (rc != 0) {
    fprintf(stderr, "cw_init: %s\n", cw_last_error());
    return 1;
  }
  double *v = calloc((size_t)rounds, sizeof(double));
  printf("scope API, ns per call (%s time; median [min] over %d rounds of "
         "%ld calls per thread)\n",
         bench_clock == CLOCK_MONOTONIC ? "wall" : "CPU", rounds, calls);
  printf("%-32s %18s %18s\n", "", "1 thread", "2 threads");
  for (int op = 0; op < NOPS; op++) {
    printf("%-32s", op_names[op]);
    for (int threads = 1; threads <= 2; threads++) {
      for (int r = 0; r < rounds; r++)
        v[r] = measure(op, threads);
      qsort(v, (size_t)rounds, sizeof(double), cmp);
      printf(" %10.1f [%5.1f]", v[rounds / 2], v[0]);
    }
    printf("\n");
  }
  free(v);
  cw_shutdown();
  char cmd[sizeof(dir) + 16];
  snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
  if (system(cmd) != 0)
    fprintf(stderr, "could not remove %s\n", dir);
  return 0;
}
