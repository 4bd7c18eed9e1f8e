/*
 * eventprog — a program that reports events besides crashes (issue 11),
 * for tests/integration/events_test.py.
 *
 *   eventprog message    scope set, 3 crumbs, a message (level warning),
 *                        a 4th crumb after it; exits 0
 *   eventprog event      scope set, cw_capture_event with members that
 *                        collide with the scope's; exits 0
 *   eventprog dump N     N threads (main included) parked in named
 *                        functions, cw_capture_dump, then checks the
 *                        threads still run; exits 0
 *   eventprog sigdump N  as dump, but the dump comes from SIGQUIT
 *                        (cw_options_set_dump_signal), raised by itself
 *   eventprog burst N    N messages in a row (the per-minute cap); prints
 *                        "sent S dropped D"
 *   eventprog stack      attach_stacktrace on, a message from a nested
 *                        function
 *   eventprog bad        cw_capture_event refusals; prints the codes
 * The spool and everything else come from the environment. Prints "rc N"
 * for each capture call.
 */

#include <crashwatch.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile int stop;
static volatile unsigned long spins[128];

static void init(cw_options_t *o) {
  if (cw_init(o) != 0) {
    fprintf(stderr, "cw_init: %s\n", cw_last_error());
    exit(3);
  }
}

static void scope(void) {
  cw_set_tag("tenant", "acme");
  cw_set_tag("region", "eu-1");
  cw_set_user("42", NULL, "ann", NULL);
  cw_set_extra("batch", "{\"size\":7}");
  cw_set_context("kafka", "{\"topic\":\"orders\",\"partition\":3}");
  cw_set_trace("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7");
  cw_add_breadcrumb("http", "request", "crumb-1", CW_LEVEL_INFO, NULL);
  cw_add_breadcrumb("http", "request", "crumb-2", CW_LEVEL_INFO, NULL);
  cw_add_breadcrumb(NULL, "db", "crumb-3", CW_LEVEL_WARNING, "{\"rows\":3}");
}

__attribute__((noinline)) static void *worker_parked_here(void *arg) {
  long i = (long)arg;
  char name[16];
  snprintf(name, sizeof(name), "worker-%ld", i);
  pthread_setname_np(pthread_self(), name);
  while (!stop) {
    spins[i]++;
    usleep(1000);
  }
  return NULL;
}

static pthread_t threads[128];

static void start_threads(int n) {
  for (long i = 1; i < n && i < 128; i++)
    pthread_create(&threads[i], NULL, worker_parked_here, (void *)i);
  /* Every worker has run. */
  for (int i = 1; i < n && i < 128; i++)
    while (spins[i] == 0)
      usleep(100);
}

/* Every worker moves on after the dump (none was left stopped): each
 * gets up to 10 s on a loaded machine; a thread left in a ptrace stop
 * never moves. */
static int threads_alive(int n) {
  unsigned long before[128];
  for (int i = 1; i < n; i++)
    before[i] = spins[i];
  for (int i = 1; i < n; i++)
    for (int t = 0; spins[i] == before[i]; t++) {
      if (t > 10000)
        return 0;
      usleep(1000);
    }
  return 1;
}

static void stop_threads(int n) {
  stop = 1;
  for (int i = 1; i < n && i < 128; i++)
    pthread_join(threads[i], NULL);
}

__attribute__((noinline)) static int nested_message_here(int depth) {
  if (depth > 0)
    return nested_message_here(depth - 1) + 0;
  return cw_capture_message(CW_LEVEL_INFO, "with a stack");
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "message";
  int n = argc > 2 ? atoi(argv[2]) : 6;
  cw_options_t *o = cw_options_new();
  if (strcmp(mode, "sigdump") == 0)
    cw_options_set_dump_signal(o, SIGQUIT);
  if (strcmp(mode, "stack") == 0)
    cw_options_set_attach_stacktrace(o, 1);
  if (getenv("EVENTPROG_SEED") != NULL)
    cw_options_set_sample_seed(o, strtoull(getenv("EVENTPROG_SEED"), NULL, 10));
  init(o);
  int rc = 0;
  if (strcmp(mode, "message") == 0) {
    scope();
    rc = cw_capture_message(CW_LEVEL_WARNING, "disk %s is %d%% full", "/var",
                            97);
    cw_add_breadcrumb(NULL, "later", "crumb-after", CW_LEVEL_INFO, NULL);
    printf("rc %d\n", rc);
  } else if (strcmp(mode, "event") == 0) {
    scope();
    rc = cw_capture_event(
        "{\"event_id\":\"0123456789ABCDEF0123456789abcdef\","
        "\"message\":{\"formatted\":\"from the app\"},\"level\":\"warning\","
        "\"tags\":{\"tenant\":\"app-wins\",\"own\":\"yes\"},"
        "\"extra\":{\"password\":\"hunter2\",\"n\":[1,2]},"
        "\"contexts\":{\"kafka\":{\"topic\":\"app-topic\"}},"
        "\"logger\":\"my.logger\",\"transaction\":\"GET /x\"}");
    printf("rc %d\n", rc);
  } else if (strcmp(mode, "dump") == 0 || strcmp(mode, "sigdump") == 0) {
    scope();
    start_threads(n);
    if (strcmp(mode, "dump") == 0)
      rc = cw_capture_dump("wedged queue");
    else
      rc = raise(SIGQUIT);
    printf("rc %d\n", rc);
    int alive = threads_alive(n);
    printf("alive %d\n", alive);
    stop_threads(n);
    if (!alive)
      return 4;
  } else if (strcmp(mode, "burst") == 0) {
    /* One letter per call: S sent, D sampled out, L over the cap, F the
     * socket full; then the total of drops. Paced, so that the watchdog
     * mostly keeps up. */
    for (int i = 0; i < n; i++) {
      unsigned long long before = cw_events_dropped();
      int r = cw_capture_message(CW_LEVEL_ERROR, "burst %d", i);
      if (r == 0 && cw_events_dropped() == before)
        putchar('S');
      else if (r == 0)
        putchar('D');
      else if (r == CW_ERATELIMIT)
        putchar('L');
      else if (r == CW_EAGAIN)
        putchar('F'); /* the socket was full: the watchdog is behind */
      else
        printf("[unexpected %d]", r);
      if (i % 8 == 7)
        usleep(5000);
    }
    printf("\ndropped %llu\n", cw_events_dropped());
  } else if (strcmp(mode, "stack") == 0) {
    rc = nested_message_here(3);
    printf("rc %d\n", rc);
  } else if (strcmp(mode, "bad") == 0) {
    printf("notobject %d\n", cw_capture_event("[1]"));
    printf("broken %d\n", cw_capture_event("{\"a\":"));
    printf("null %d\n", cw_capture_event(NULL));
    printf("level %d\n", cw_capture_message((cw_level_t)9, "x"));
    char *big = malloc(70000);
    memset(big, ' ', 70000);
    memcpy(big, "{\"a\":1}", 7);
    big[69999] = '\0';
    printf("toobig %d\n", cw_capture_event(big));
    free(big);
  }
  fflush(stdout);
  cw_shutdown();
  return rc == 0 ? 0 : 5;
}
