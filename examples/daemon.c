/*
 * daemon.c — a small daemon that uses crashwatch, for `make demo`.
 *
 * It initializes crashwatch (everything from the environment: the spool is
 * $CRASHWATCH_SPOOL or ~/.local/state/crashwatch/reports), starts a few
 * worker threads that "handle requests", and after a moment one request
 * handler dereferences a NULL pointer three calls deep. The process dies by
 * SIGSEGV as it would without crashwatch; the watchdog leaves a minidump
 * and a Sentry event in the spool and prints the stack to stderr.
 *
 *   crashwatch-example-daemon [--no-crash] [--threads N] [--run-ms MS]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <crashwatch.h>

#define NOINLINE __attribute__((noinline))

typedef struct {
  const char *path;
  int *session; /* NULL: the bug this demo is about */
} request_t;

static volatile int requests_served;

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* The bug: a request without a session. */
NOINLINE int parse_session(const request_t *req) {
  int id = *req->session;
  __asm__ volatile("" ::: "memory");
  return id + 1;
}

NOINLINE int authorize_request(const request_t *req) {
  int r = parse_session(req);
  __asm__ volatile("" ::: "memory");
  return r + 1;
}

NOINLINE int handle_request(const request_t *req) {
  int r = authorize_request(req);
  requests_served++;
  return r;
}

static void *worker(void *arg) {
  int crash = (int)(long)arg;
  if (cw_thread_init() != 0)
    fprintf(stderr, "daemon: cw_thread_init: %s\n", cw_last_error());
  static int session = 42;
  request_t ok = {"/health", &session};
  for (int i = 0; i < 20; i++) {
    handle_request(&ok);
    sleep_ms(5);
  }
  if (crash) {
    request_t bad = {"/login", NULL};
    handle_request(&bad);
  }
  for (;;)
    sleep_ms(1000);
  return NULL;
}

int main(int argc, char **argv) {
  int crash = 1, threads = 4;
  long run_ms = 300;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--no-crash") == 0)
      crash = 0;
    else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
      threads = atoi(argv[++i]);
    else if (strcmp(argv[i], "--run-ms") == 0 && i + 1 < argc)
      run_ms = atol(argv[++i]);
    else {
      fprintf(stderr, "usage: %s [--no-crash] [--threads N] [--run-ms MS]\n",
              argv[0]);
      return 2;
    }
  }
  int rc = cw_init(NULL);
  if (rc != 0) {
    fprintf(stderr, "daemon: crashwatch disabled: %s\n", cw_last_error());
    return 1;
  }
  printf("daemon: pid %d, crashwatch %s, %d workers\n", (int)getpid(),
         cw_version(), threads);
  fflush(stdout);
  for (int i = 0; i < threads; i++) {
    pthread_t t;
    /* The last worker gets the bad request. */
    pthread_create(&t, NULL, worker, (void *)(long)(crash && i == threads - 1));
  }
  sleep_ms(run_ms);
  if (crash)
    for (;;)
      sleep_ms(1000); /* the crash ends the process */
  printf("daemon: served %d requests, exiting\n", requests_served);
  cw_shutdown();
  return 0;
}
