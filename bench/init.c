/*
 * bench_init — what cw_init() costs the app, measured the way
 * ../shared/peers/run.sh's harness measures it: each run is a fresh
 * process (exec'd, nothing of crashwatch touched yet) that times one
 * cw_init() call with a spool directory that does not exist yet (no
 * assertions; issue 8's init row).
 *
 *   bench_init [--runs N] [--image FILE]
 *
 * Two configurations, interleaved run by run so machine noise hits both
 * alike: "memfd" (the embedded watchdog copied into a memfd, what a build
 * tree or a library shipped without libexec/ does) and, with --image, the
 * installed image (CRASHWATCH_WATCHDOG_IMAGE=FILE, what `make install`
 * sets up). Prints the median and min per configuration. Each child waits
 * for its watchdog to be gone before the next run starts, so one run's
 * watchdog does not eat the next one's CPU.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crashwatch.h"

static uint64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The child: one timed cw_init() into a new spool dir, the time written to
 * fd 3, then a clean shutdown. */
static int child(const char *spool) {
  cw_options_t *o = cw_options_new();
  if (o == NULL)
    return 1;
  cw_options_set_spool_dir(o, spool);
  uint64_t t0 = mono_ns();
  int rc = cw_init(o);
  uint64_t t1 = mono_ns();
  if (rc != 0) {
    fprintf(stderr, "bench_init child: cw_init: %s\n", cw_last_error());
    return 1;
  }
  unsigned long long ns = (unsigned long long)(t1 - t0);
  if (write(3, &ns, sizeof(ns)) != (ssize_t)sizeof(ns))
    return 1;
  cw_shutdown();
  return 0;
}

/* One run in a fresh process; returns the init time in ns, or 0. */
static uint64_t one_run(const char *self, const char *dir, int n,
                        const char *image) {
  char spool[4096];
  snprintf(spool, sizeof(spool), "%s/spool-%d", dir, n);
  int p[2];
  if (pipe(p) != 0)
    return 0;
  pid_t c = fork();
  if (c < 0)
    return 0;
  if (c == 0) {
    close(p[0]);
    if (dup2(p[1], 3) < 0)
      _exit(1);
    if (image != NULL)
      setenv("CRASHWATCH_WATCHDOG_IMAGE", image, 1);
    else
      setenv("CRASHWATCH_WATCHDOG_IMAGE", "none", 1);
    execl(self, self, "--child", spool, (char *)NULL);
    _exit(127);
  }
  close(p[1]);
  unsigned long long ns = 0;
  ssize_t got;
  do
    got = read(p[0], &ns, sizeof(ns));
  while (got < 0 && errno == EINTR);
  close(p[0]);
  int st;
  waitpid(c, &st, 0);
  if (got != (ssize_t)sizeof(ns) || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
    return 0;
  /* Let the watchdog go (cw_shutdown closed its socket) before the next
   * run: it is not a child of ours, so give it a moment. */
  usleep(50000);
  return ns;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "--child") == 0)
    return child(argv[2]);
  int runs = 20;
  const char *image = NULL;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--runs") == 0)
      runs = atoi(argv[i + 1]);
    else if (strcmp(argv[i], "--image") == 0)
      image = argv[i + 1];
  }
  if (runs < 1 || runs > 10000) {
    fprintf(stderr, "usage: %s [--runs N] [--image FILE]\n", argv[0]);
    return 2;
  }
  char self[4096];
  ssize_t sl = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (sl <= 0)
    return 1;
  self[sl] = '\0';
  char dir[] = "/tmp/bench-init-XXXXXX";
  if (mkdtemp(dir) == NULL) {
    perror("mkdtemp");
    return 1;
  }
  int nconf = image != NULL ? 2 : 1;
  static const char *const names[2] = {"memfd", "installed image"};
  uint64_t *t[2];
  for (int m = 0; m < nconf; m++)
    t[m] = calloc((size_t)runs, sizeof(uint64_t));
  int n = 0;
  for (int r = 0; r < runs; r++)
    for (int m = 0; m < nconf; m++) {
      uint64_t ns = one_run(self, dir, n++, m == 1 ? image : NULL);
      if (ns == 0) {
        fprintf(stderr, "bench_init: run %d (%s) failed\n", r, names[m]);
        return 1;
      }
      t[m][r] = ns;
    }
  for (int m = 0; m < nconf; m++) {
    qsort(t[m], (size_t)runs, sizeof(uint64_t), cmp_u64);
    printf("cw_init, fresh process, new spool, %-15s median %.3f ms  "
           "min %.3f ms  (%d runs)\n",
           names[m], t[m][runs / 2] / 1e6, t[m][0] / 1e6, runs);
    free(t[m]);
  }
  char cmd[4200];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
  if (system(cmd) != 0)
    fprintf(stderr, "bench_init: could not remove %s\n", dir);
  return 0;
}
