/* run_target.c — a program that knows nothing of crashwatch, for
 * `crashwatch run` tests (tests/integration/run_test.py). Built twice:
 * dynamically linked (run_target) and with gcc -static (run_target_static),
 * never with sanitizers (it stands for somebody else's binary).
 *
 * run_target MODE [ARG]:
 *   segv          write through a null pointer in run_target_crash_here()
 *   handler       the same with its own SIGSEGV handler, which prints
 *                 "own handler" and _exit(3)s
 *   abort         abort()
 *   exit N        exit(N)
 *   term N        prints "ready", waits; SIGTERM makes it print "got SIGTERM"
 *                 and _exit(N)
 *   orphan        double-forks a grandchild that exits at once: it is
 *                 reparented to the nearest subreaper (the supervisor);
 *                 exits 0 once the grandchild has been reaped (its /proc
 *                 entry is gone), 1 if it is still a zombie after 30 s
 *   pid           prints its pid and its parent's, exits 0
 *   fork-segv     a forked child crashes (segv); the parent exits with
 *                 the child's status as a shell would (128+N)
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

__attribute__((noinline)) void run_target_crash_here(volatile int *p) {
  *p = 42;
  __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void run_target_caller(volatile int *p) {
  run_target_crash_here(p);
  __asm__ volatile("" ::: "memory");
}

static int term_code;

static void on_segv(int s) {
  (void)s;
  static const char m[] = "own handler\n";
  ssize_t w = write(2, m, sizeof(m) - 1);
  (void)w;
  _exit(3);
}

static void on_term(int s) {
  (void)s;
  static const char m[] = "got SIGTERM\n";
  ssize_t w = write(1, m, sizeof(m) - 1);
  (void)w;
  _exit(term_code);
}

static volatile int *null_ptr(void) {
  return (volatile int *)(getenv("RUN_TARGET_NEVER_SET") ? (void *)1 : NULL);
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "segv";
  if (strcmp(mode, "segv") == 0) {
    run_target_caller(null_ptr());
  } else if (strcmp(mode, "handler") == 0) {
    signal(SIGSEGV, on_segv);
    run_target_caller(null_ptr());
  } else if (strcmp(mode, "abort") == 0) {
    abort();
  } else if (strcmp(mode, "exit") == 0 && argc > 2) {
    return atoi(argv[2]);
  } else if (strcmp(mode, "term") == 0 && argc > 2) {
    term_code = atoi(argv[2]);
    signal(SIGTERM, on_term);
    printf("ready\n");
    fflush(stdout);
    for (;;)
      pause();
  } else if (strcmp(mode, "orphan") == 0) {
    int fds[2];
    if (pipe(fds) != 0)
      return 2;
    pid_t mid = fork();
    if (mid == 0) {
      pid_t g = fork();
      if (g == 0)
        _exit(0); /* the grandchild */
      ssize_t w = write(fds[1], &g, sizeof(g));
      (void)w;
      _exit(0); /* the grandchild is an orphan now */
    }
    pid_t g = 0;
    if (read(fds[0], &g, sizeof(g)) != (ssize_t)sizeof(g))
      return 2;
    waitpid(mid, NULL, 0);
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)g);
    for (int i = 0; i < 3000; i++) {
      FILE *f = fopen(path, "r");
      if (f == NULL) {
        printf("grandchild %d reaped\n", (int)g);
        return 0;
      }
      fclose(f);
      struct timespec ts = {0, 10 * 1000 * 1000};
      nanosleep(&ts, NULL);
    }
    printf("grandchild %d still a zombie\n", (int)g);
    return 1;
  } else if (strcmp(mode, "pid") == 0) {
    printf("pid %d ppid %d\n", (int)getpid(), (int)getppid());
    return 0;
  } else if (strcmp(mode, "fork-segv") == 0) {
    pid_t c = fork();
    if (c == 0)
      run_target_caller(null_ptr());
    int st;
    waitpid(c, &st, 0);
    return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
  }
  fprintf(stderr, "run_target: unknown mode\n");
  return 2;
}
