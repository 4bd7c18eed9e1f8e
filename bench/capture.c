/*
 * capture.c — benchmark of crash capture (run by bench/capture.sh; prints
 * figures, asserts nothing).
 *
 *   bench_capture [--runs R] [--threads N]
 *
 * For 1, 6, 16 and 128 threads (or N alone), R times each: a fresh child
 * process calls cw_init(), starts the threads, tells us the CLOCK_MONOTONIC
 * time just before it dereferences NULL, and we record when the report
 * directory is renamed into the spool (inotify IN_MOVED_TO) and when the
 * child's pidfd says it died (one poll loop stamps both as they happen), in
 * both release modes (durable before dead, the default, and
 * CRASHWATCH_RELEASE_EARLY=1), and durable-first again with a full scope (tags,
 * extras, contexts, user, trace and 100 breadcrumbs), interleaved. Also:
 * cw_init() time, the watchdog's idle RSS, and the minidump size of a 6-thread
 * process. Medians are printed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
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

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static double median_ms(uint64_t *v, int n) {
  if (n == 0)
    return -1;
  qsort(v, (size_t)n, sizeof(*v), cmp_u64);
  return (n % 2 ? (double)v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0) / 1e6;
}

/* ---- the crashing child ---- */

static pthread_barrier_t barrier;

static void *idle_thread(void *arg) {
  (void)arg;
  cw_thread_init();
  pthread_barrier_wait(&barrier);
  for (;;)
    pause();
  return NULL;
}

__attribute__((noinline)) static void crash_now(int fd) {
  uint64_t t = mono_ns();
  if (write(fd, &t, sizeof(t)) != (ssize_t)sizeof(t))
    _exit(3);
  *(volatile int *)(uintptr_t)(t & 0) = 1;
}

/* A scope at its limits (docs/scope.md): 64 tags, 32 extras, 16 contexts,
 * the user, the trace, a fingerprint and a full ring of 100 breadcrumbs
 * with data, so the watchdog merges (and scrubs) the most it can. */
static int fill_scope(void) {
  char key[64], val[256], json[512];
  int bad = 0;
  memset(val, 'v', 200);
  val[200] = '\0';
  for (int i = 0; i < 64; i++) {
    snprintf(key, sizeof(key), "tag%02d", i);
    bad |= cw_set_tag(key, val) != 0;
  }
  for (int i = 0; i < 32; i++) {
    snprintf(key, sizeof(key), "extra%02d", i);
    snprintf(json, sizeof(json),
             "{\"n\":%d,\"token\":\"secret\",\"list\":[1,2,3,\"%s\"]}", i,
             "some text of the extra value");
    bad |= cw_set_extra(key, json) != 0;
  }
  for (int i = 0; i < 16; i++) {
    snprintf(key, sizeof(key), "ctx%02d", i);
    snprintf(json, sizeof(json),
             "{\"topic\":\"orders\",\"partition\":%d,\"offset\":%d}", i,
             i * 1000);
    bad |= cw_set_context(key, json) != 0;
  }
  bad |= cw_set_user("42", "user@example.org", "user", "192.0.2.1") != 0;
  bad |= cw_set_traceparent(
             "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01") != 0;
  const char *fp[] = {"{{ default }}", "bench"};
  bad |= cw_set_fingerprint(fp, 2) != 0;
  bad |= cw_set_transaction("GET /bench") != 0;
  for (int i = 0; i < 100; i++) {
    snprintf(json, sizeof(json), "{\"i\":%d,\"url\":\"/api/item/%d\"}", i, i);
    bad |= cw_add_breadcrumb("http", "request", "a request of the benchmark",
                             CW_LEVEL_INFO, json) != 0;
  }
  return bad ? -1 : 0;
}

static int child_main(int nthreads, int fd) {
  if (cw_init(NULL) != 0) {
    fprintf(stderr, "bench child: cw_init: %s\n", cw_last_error());
    return 3;
  }
  if (getenv("CW_BENCH_FULL_SCOPE") != NULL && fill_scope() != 0) {
    fprintf(stderr, "bench child: a scope call failed\n");
    return 4; /* the run counts as failed */
  }
  pthread_barrier_init(&barrier, NULL, (unsigned)nthreads);
  for (int i = 1; i < nthreads; i++) {
    pthread_t t;
    pthread_create(&t, NULL, idle_thread, NULL);
  }
  pthread_barrier_wait(&barrier);
  /* Let the watchdog finish starting and warm up (watchdog/main.c, after
   * 100 ms idle): an idle daemon's watchdog is long settled when it
   * crashes. */
  struct timespec ts = {0, 200 * 1000000L};
  nanosleep(&ts, NULL);
  crash_now(fd);
  return 1;
}

/* ---- the parent ---- */

static char spool[PATH_MAX];

static void rm_rf(const char *path) {
  char cmd[PATH_MAX + 16];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
  if (system(cmd) != 0)
    fprintf(stderr, "bench: could not remove %s\n", path);
}

/* One crash of a child with nthreads threads. Returns 0 and fills the
 * fault->report and fault->exit times and the minidump size. */
static int one_crash(const char *self, int nthreads, uint64_t *to_report,
                     uint64_t *to_exit, long *dump_size) {
  rm_rf(spool);
  mkdir(spool, 0700);
  int in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (in < 0 || inotify_add_watch(in, spool, IN_MOVED_TO) < 0)
    return -1;
  int p[2], e[2];
  if (pipe2(p, O_CLOEXEC) != 0 || pipe2(e, O_CLOEXEC) != 0)
    return -1;
  pid_t pid = fork();
  if (pid == 0) {
    /* The child's stderr is a pipe the watchdog inherits (its summary
     * fd): EOF on it means the watchdog of this crash has exited. */
    dup2(e[1], 2);
    _exit(child_main(nthreads, p[1]));
  }
  (void)self;
  close(p[1]);
  close(e[1]);
  uint64_t t_fault = 0;
  ssize_t n = read(p[0], &t_fault, sizeof(t_fault));
  close(p[0]);
  /* The rename and the exit, each stamped when it happens: one poll over
   * the inotify fd and a pidfd of the child (in durable-first mode the
   * rename comes first, and must not be read only after the exit). */
  int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  uint64_t t_exit = 0, t_report = 0;
  char report[NAME_MAX + 1] = "";
  while (t_report == 0 || t_exit == 0) {
    struct pollfd pf[2] = {{.fd = t_report == 0 ? in : -1, .events = POLLIN},
                           {.fd = t_exit == 0 ? pidfd : -1, .events = POLLIN}};
    if (pidfd < 0 && t_exit == 0) {
      pf[1].fd = -1;
      if (t_report != 0)
        break; /* no pidfd: the exit is taken from waitpid below */
    }
    if (poll(pf, 2, 10000) <= 0)
      break;
    uint64_t now = mono_ns();
    if (pf[1].revents != 0)
      t_exit = now;
    if (pf[0].revents == 0)
      continue;
    char buf[4096] __attribute__((aligned(8)));
    ssize_t len = read(in, buf, sizeof(buf));
    for (char *q = buf; len > 0 && q < buf + len;) {
      struct inotify_event *ev = (struct inotify_event *)q;
      if (ev->len > 0 && strncmp(ev->name, ".tmp-", 5) != 0) {
        t_report = now;
        snprintf(report, sizeof(report), "%s", ev->name);
      }
      q += sizeof(*ev) + ev->len;
    }
  }
  int status;
  waitpid(pid, &status, 0);
  if (t_exit == 0)
    t_exit = mono_ns();
  if (pidfd >= 0)
    close(pidfd);
  close(in);
  /* Let this crash's watchdog finish (symbolization runs after the report
   * is durable) before the next run: otherwise a back-to-back loop measures
   * one crash competing with the previous one's leftover work for the two
   * cores, which is not what a daemon's crash meets. */
  for (;;) {
    struct pollfd pf = {.fd = e[0], .events = POLLIN};
    char sink[4096];
    if (poll(&pf, 1, 10000) <= 0 || read(e[0], sink, sizeof(sink)) <= 0)
      break;
  }
  close(e[0]);
  if (n != (ssize_t)sizeof(t_fault) || !WIFSIGNALED(status) || t_report == 0)
    return -1;
  /* Both from the same clock as the fault. */
  *to_exit = t_exit - t_fault;
  *to_report = t_report - t_fault;
  char path[PATH_MAX + NAME_MAX + 32];
  snprintf(path, sizeof(path), "%s/%s/minidump.dmp", spool, report);
  struct stat st;
  *dump_size = stat(path, &st) == 0 ? (long)st.st_size : -1;
  return 0;
}

/* One "Key: N kB" figure from a /proc file of pid, or -1. */
static long proc_kib(pid_t pid, const char *file, const char *key) {
  char path[64], line[256], fmt[64];
  snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
  snprintf(fmt, sizeof(fmt), "%s: %%ld kB", key);
  FILE *f = fopen(path, "r");
  if (f == NULL)
    return -1;
  long kib = -1;
  while (fgets(line, sizeof(line), f))
    if (sscanf(line, fmt, &kib) == 1)
      break;
  fclose(f);
  return kib;
}

static pid_t find_watchdog(void) {
  char want[32];
  snprintf(want, sizeof(want), "%d", (int)getpid());
  DIR *d = opendir("/proc");
  struct dirent *e;
  pid_t found = 0;
  while (d && (e = readdir(d)) != NULL && !found) {
    int pid = atoi(e->d_name);
    if (pid <= 0)
      continue;
    char path[64], buf[4096];
    snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      continue;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0 || strcmp(buf, "crashwatch-watchdog") != 0)
      continue;
    buf[n] = '\0';
    for (char *p = buf; p < buf + n; p += strlen(p) + 1)
      if (strcmp(p, "--pid") == 0 && strcmp(p + strlen(p) + 1, want) == 0)
        found = pid;
  }
  if (d)
    closedir(d);
  return found;
}

int main(int argc, char **argv) {
  int runs = 9, only_threads = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
      runs = atoi(argv[++i]);
    else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
      only_threads = atoi(argv[++i]); /* this thread count alone */
  }
  if (runs < 1 || runs > 1000)
    runs = 9;
  if (only_threads < 0 || only_threads > 1000)
    only_threads = 0;
  char tmpl[] = "/tmp/cw-bench-XXXXXX";
  const char *base = mkdtemp(tmpl);
  if (base == NULL)
    return 1;
  snprintf(spool, sizeof(spool), "%s/spool", base);
  setenv("CRASHWATCH_SPOOL", spool, 1);
  mkdir(spool, 0700);

  /* cw_init() time and the watchdog's idle RSS. */
  uint64_t *init = calloc((size_t)runs, sizeof(uint64_t));
  long rss = -1, anon = -1, pss = -1;
  for (int i = 0; i < runs; i++) {
    uint64_t t0 = mono_ns();
    int rc = cw_init(NULL);
    init[i] = mono_ns() - t0;
    if (rc != 0) {
      fprintf(stderr, "bench: cw_init: %s\n", cw_last_error());
      return 1;
    }
    if (i == 0) {
      struct timespec ts = {0, 500 * 1000000L};
      nanosleep(&ts, NULL); /* started, warmed up (after 100 ms), idle */
      pid_t wd = find_watchdog();
      if (wd > 0) {
        rss = proc_kib(wd, "status", "VmRSS");
        anon = proc_kib(wd, "status", "RssAnon");
        pss = proc_kib(wd, "smaps_rollup", "Pss");
      }
    }
    cw_shutdown();
  }
  double med = median_ms(init, runs); /* sorts init */
  printf("cw_init                      median %.3f ms (min %.3f) over %d "
         "runs\n",
         med, init[0] / 1e6, runs);
  printf("watchdog idle RSS            %ld KiB (anonymous %ld KiB, PSS %ld "
         "KiB)\n",
         rss, anon, pss);

  /* --threads N: that count alone (the peers' harness uses 6 and 64). */
  static const int all_counts[] = {1, 6, 16, 128};
  const int *counts = all_counts;
  size_t ncounts = sizeof(all_counts) / sizeof(all_counts[0]);
  if (only_threads > 0) {
    counts = &only_threads;
    ncounts = 1;
  }
  for (size_t c = 0; c < ncounts; c++) {
    /* Three modes, interleaved run by run: durable before dead (the
     * default), CRASHWATCH_RELEASE_EARLY=1, and the default with a scope
     * at its limits (fill_scope), which shows what merging it costs. */
    static const char *const mode_name[3] = {"durable-first", "release-early",
                                             "durable-first, full scope"};
    uint64_t *rep[3], *ex[3];
    long size = -1;
    int ok[3] = {0, 0, 0};
    for (int m = 0; m < 3; m++) {
      rep[m] = calloc((size_t)runs, sizeof(uint64_t));
      ex[m] = calloc((size_t)runs, sizeof(uint64_t));
    }
    for (int i = 0; i < runs; i++) {
      for (int m = 0; m < 3; m++) {
        setenv("CRASHWATCH_RELEASE_EARLY", m == 1 ? "1" : "0", 1);
        if (m == 2)
          setenv("CW_BENCH_FULL_SCOPE", "1", 1);
        else
          unsetenv("CW_BENCH_FULL_SCOPE");
        long sz;
        if (one_crash(argv[0], counts[c], &rep[m][ok[m]], &ex[m][ok[m]], &sz) ==
            0) {
          ok[m]++;
          size = sz;
        }
      }
    }
    for (int m = 0; m < 3; m++) {
      printf("%3d threads, %s: fault->report durable median %.2f ms, "
             "fault->exit median %.2f ms, minidump %ld bytes (%d/%d runs)\n",
             counts[c], mode_name[m], median_ms(rep[m], ok[m]),
             median_ms(ex[m], ok[m]), size, ok[m], runs);
      free(rep[m]);
      free(ex[m]);
    }
    unsetenv("CRASHWATCH_RELEASE_EARLY");
  }
  rm_rf(base);
  return 0;
}
