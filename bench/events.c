/*
 * bench_events — what events besides crashes cost (issue 11). Prints
 * figures, asserts nothing (bench/events.sh runs every mode).
 *
 *   bench_events message [N]   wall time in the caller of
 *                              cw_capture_message (target <= 5 us), paced
 *                              so the watchdog keeps up; also a call that
 *                              is sampled out and one over the cap
 *   bench_events stack [N]     the same with attach_stacktrace on (the
 *                              caller waits while its stack is copied)
 *   bench_events dump T [R]    R dumps of a process of T threads: the
 *                              watchdog's pause (seize to detach, from
 *                              the report), the caller's wait, and the
 *                              largest gap a probe thread saw (target
 *                              <= 2 ms pause at 6 threads)
 *   bench_events rate [N]      N messages as fast as the socket takes
 *                              them: events per second until the N
 *                              reports are committed in the spool
 * Each mode uses a fresh spool under $TMPDIR (removed afterwards).
 */
#include <crashwatch.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static void stats(const char *what, uint64_t *v, size_t n, double div,
                  const char *unit) {
  qsort(v, n, sizeof(*v), cmp_u64);
  printf("%-44s median %8.2f  p90 %8.2f  p99 %8.2f  min %8.2f  max %8.2f %s"
         "  (n=%zu)\n",
         what, v[n / 2] / div, v[n * 9 / 10] / div, v[n * 99 / 100] / div,
         v[0] / div, v[n - 1] / div, unit, n);
}

static char spool[4096];

static int rm_cb(const char *p, const struct stat *st, int flag,
                 struct FTW *f) {
  (void)st, (void)flag, (void)f;
  return remove(p);
}

static void init(int stack, unsigned cap, double rate) {
  const char *tmp = getenv("TMPDIR");
  snprintf(spool, sizeof(spool), "%s/cw-bench-events-XXXXXX",
           tmp ? tmp : "/tmp");
  if (mkdtemp(spool) == NULL) {
    perror("mkdtemp");
    exit(1);
  }
  cw_options_t *o = cw_options_new();
  cw_options_set_spool_dir(o, spool);
  cw_options_set_print_summary(o, 0);
  cw_options_set_spool_max_reports(o, 0);
  cw_options_set_max_events_per_minute(o, cap);
  cw_options_set_sample_rate(o, rate);
  cw_options_set_attach_stacktrace(o, stack);
  cw_options_set_dsn(o, NULL);
  if (cw_init(o) != 0) {
    fprintf(stderr, "cw_init: %s\n", cw_last_error());
    exit(1);
  }
}

static void done(void) {
  cw_shutdown();
  usleep(300000); /* the watchdog's last pruning pass, before the spool goes */
  nftw(spool, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static size_t count_reports(void) {
  DIR *d = opendir(spool);
  size_t n = 0;
  struct dirent *e;
  while (d != NULL && (e = readdir(d)) != NULL)
    n += strlen(e->d_name) == 32;
  if (d != NULL)
    closedir(d);
  return n;
}

static void wait_reports(size_t n) {
  while (count_reports() < n)
    usleep(2000);
}

/* The caller's wall time per cw_capture_message, in rounds of 20 calls
 * with a pause between rounds, so the socket never fills. */
static void bench_message(int stack, size_t n) {
  init(stack, 0, 1.0);
  /* The first request (with the lazy watchdog, it wakes the idle stage). */
  uint64_t t0 = now_ns();
  cw_capture_message(CW_LEVEL_INFO, "warm-up");
  uint64_t first = now_ns() - t0;
  wait_reports(1);
  uint64_t *v = calloc(n, sizeof(*v));
  for (size_t i = 0; i < n; i++) {
    t0 = now_ns();
    int rc = cw_capture_message(CW_LEVEL_WARNING, "request %zu failed: %s", i,
                                "connection reset by peer");
    v[i] = now_ns() - t0;
    if (rc != 0)
      fprintf(stderr, "cw_capture_message: %s\n", cw_strerror(rc));
    if (i % 20 == 19)
      wait_reports(i + 2);
  }
  printf("first call: %.2f us\n", first / 1e3);
  stats(stack ? "cw_capture_message, attach_stacktrace (us)"
              : "cw_capture_message (us)",
        v, n, 1e3, "us");
  wait_reports(n + 1);
  done();
  free(v);
}

/* A call dropped by sampling, and one over the cap: what a hot error loop
 * costs once the limits hold it. */
static void bench_dropped(size_t n) {
  uint64_t *v = calloc(n, sizeof(*v));
  init(0, 0, 0.0);
  for (size_t i = 0; i < n; i++) {
    uint64_t t0 = now_ns();
    cw_capture_message(CW_LEVEL_ERROR, "sampled out %zu", i);
    v[i] = now_ns() - t0;
  }
  stats("cw_capture_message, sampled out (ns)", v, n, 1.0, "ns");
  done();
  init(0, 1, 1.0);
  cw_capture_message(CW_LEVEL_ERROR, "the one of this minute");
  for (size_t i = 0; i < n; i++) {
    uint64_t t0 = now_ns();
    cw_capture_message(CW_LEVEL_ERROR, "over the cap %zu", i);
    v[i] = now_ns() - t0;
  }
  stats("cw_capture_message, over the cap (ns)", v, n, 1.0, "ns");
  wait_reports(1);
  done();
  free(v);
}

static volatile int stop;
static volatile uint64_t probe_gap_max;
static volatile int probe_on;

/* Sleeps 50 us at a time and notes the longest time between two wakings
 * while probe_on: a thread stopped by the capture sees the pause. */
static void *probe(void *arg) {
  (void)arg;
  uint64_t last = now_ns();
  while (!stop) {
    struct timespec ts = {0, 50000};
    nanosleep(&ts, NULL);
    uint64_t t = now_ns();
    if (probe_on && t - last > probe_gap_max)
      probe_gap_max = t - last;
    last = t;
  }
  return NULL;
}

static void *idle_worker(void *arg) {
  (void)arg;
  while (!stop)
    usleep(20000);
  return NULL;
}

/* The newest report's extra.crashwatch.capture_pause_us, or -1. */
static long report_pause_us(void) {
  DIR *d = opendir(spool);
  struct dirent *e;
  long best = -1;
  time_t newest = 0;
  char path[8192];
  while (d != NULL && (e = readdir(d)) != NULL) {
    if (strlen(e->d_name) != 32)
      continue;
    snprintf(path, sizeof(path), "%s/%s/event.json", spool, e->d_name);
    struct stat st;
    if (stat(path, &st) != 0 || st.st_mtime < newest)
      continue;
    FILE *f = fopen(path, "r");
    if (f == NULL)
      continue;
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strstr(buf, "\"crashwatch.capture_pause_us\":");
    if (p != NULL) {
      best = strtol(p + 30, NULL, 10);
      newest = st.st_mtime;
    }
  }
  if (d != NULL)
    closedir(d);
  return best;
}

static void bench_dump(int threads, size_t rounds) {
  setenv("CRASHWATCH_SYMBOLIZE_BUDGET_MS", "0", 1); /* not the app's cost */
  init(0, 0, 1.0);
  pthread_t *t = calloc((size_t)threads, sizeof(*t));
  pthread_create(&t[0], NULL, probe, NULL);
  for (int i = 1; i < threads - 1; i++)
    pthread_create(&t[i], NULL, idle_worker, NULL);
  uint64_t *pause = calloc(rounds, sizeof(uint64_t));
  uint64_t *call = calloc(rounds, sizeof(uint64_t));
  uint64_t *gap = calloc(rounds, sizeof(uint64_t));
  cw_capture_message(CW_LEVEL_INFO, "warm-up"); /* the exec, first */
  wait_reports(1);
  size_t ok = 0;
  for (size_t r = 0; r < rounds; r++) {
    probe_gap_max = 0;
    usleep(20000);
    probe_on = 1;
    uint64_t t0 = now_ns();
    int rc = cw_capture_dump("bench");
    uint64_t dt = now_ns() - t0;
    usleep(2000); /* the probe's first waking after the release */
    probe_on = 0;
    if (rc != 0) {
      fprintf(stderr, "cw_capture_dump: %s\n", cw_strerror(rc));
      continue;
    }
    wait_reports(r + 2);
    long p = report_pause_us();
    pause[ok] = p >= 0 ? (uint64_t)p : 0;
    call[ok] = dt;
    gap[ok] = probe_gap_max;
    ok++;
  }
  stop = 1;
  for (int i = 0; i < threads - 1; i++)
    pthread_join(t[i], NULL);
  stop = 0;
  char what[96];
  printf("dump of %d threads:\n", threads);
  if (ok > 0) {
    snprintf(what, sizeof(what), "  watchdog's pause (seize..detach, us)");
    stats(what, pause, ok, 1.0, "us");
    snprintf(what, sizeof(what), "  caller's wait in cw_capture_dump (us)");
    stats(what, call, ok, 1e3, "us");
    snprintf(what, sizeof(what), "  probe thread's longest gap (us)");
    stats(what, gap, ok, 1e3, "us");
  }
  done();
  free(t);
  free(pause);
  free(call);
  free(gap);
}

static void bench_rate(size_t n) {
  init(0, 0, 1.0);
  cw_capture_message(CW_LEVEL_INFO, "warm-up");
  wait_reports(1);
  size_t full = 0;
  uint64_t t0 = now_ns();
  for (size_t i = 0; i < n; i++) {
    int rc;
    while ((rc = cw_capture_message(CW_LEVEL_INFO, "event %zu", i)) ==
           CW_EAGAIN) {
      full++;      /* the watchdog is behind: the socket's buffer is full */
      usleep(200); /* leave the CPU to the watchdog (2 cores here) */
    }
    if (rc != 0) {
      fprintf(stderr, "cw_capture_message: %s\n", cw_strerror(rc));
      break;
    }
  }
  uint64_t sent = now_ns() - t0;
  wait_reports(n + 1);
  uint64_t all = now_ns() - t0;
  printf("sustained: %zu events committed in %.3f s: %.0f events/s "
         "(sending took %.3f s; %zu CW_EAGAIN retries while the watchdog "
         "was behind)\n",
         n, all / 1e9, n / (all / 1e9), sent / 1e9, full);
  done();
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "message";
  if (strcmp(mode, "message") == 0) {
    size_t n = argc > 2 ? strtoul(argv[2], NULL, 10) : 400;
    bench_message(0, n);
    bench_dropped(n * 10);
  } else if (strcmp(mode, "stack") == 0) {
    bench_message(1, argc > 2 ? strtoul(argv[2], NULL, 10) : 200);
  } else if (strcmp(mode, "dump") == 0) {
    int t = argc > 2 ? atoi(argv[2]) : 6;
    bench_dump(t < 2 ? 2 : t, argc > 3 ? strtoul(argv[3], NULL, 10) : 20);
  } else if (strcmp(mode, "rate") == 0) {
    bench_rate(argc > 2 ? strtoul(argv[2], NULL, 10) : 2000);
  } else {
    fprintf(stderr, "usage: %s message|stack|dump T|rate [N]\n", argv[0]);
    return 2;
  }
  return 0;
}
